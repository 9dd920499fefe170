//! Human-readable renderings of the plan and the verify report. Plain text,
//! stable order, no colour: the same text goes to a terminal, a log file or a
//! code review.

use crate::plan::{Action, Plan};
use crate::verify::{Report, Status};
use std::fmt::Write;

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn plan(p: &Plan) -> String {
    let mut out = format!(
        "Plan: {}/{} -> {}/{}\n\n",
        p.source.account, p.source.region, p.destination.account, p.destination.region
    );
    let mut rows = vec![vec![
        "ACTION".into(),
        "KIND".into(),
        "SOURCE".into(),
        "NAME".into(),
        "DETAIL".into(),
    ]];
    for i in &p.items {
        let mut detail = i.reason.clone();
        for n in &i.notes {
            let _ = write!(detail, " (note: {n})");
        }
        rows.push(vec![
            i.action.to_string(),
            i.key.kind.to_string(),
            i.key.id.clone(),
            i.name.clone().unwrap_or_default(),
            detail,
        ]);
    }
    out.push_str(&table(&rows));
    let counts = p.counts();
    let n = |a: Action| counts.get(&a).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "\n{} to create, {} to adopt, {} to update, {} to skip, {} in conflict.",
        n(Action::Create),
        n(Action::Adopt),
        n(Action::Update),
        n(Action::Skip),
        n(Action::Conflict)
    );
    if n(Action::Conflict) > 0 {
        out.push_str("apply refuses while there are conflicts; resolve them, or run apply --skip-conflicts to leave them (and what depends on them) out.\n");
    }
    out
}

pub fn verify(r: &Report) -> String {
    let mut out = format!(
        "Verify: {}/{} -> {}/{}\n",
        r.source.account, r.source.region, r.destination.account, r.destination.region
    );
    for e in r.entries.iter().filter(|e| e.status == Status::Skipped) {
        let _ = writeln!(
            out,
            "\n{}: skipped ({})",
            e.key,
            e.note.as_deref().unwrap_or("")
        );
    }
    for e in r
        .entries
        .iter()
        .filter(|e| !matches!(e.status, Status::Equivalent | Status::Skipped))
    {
        let dest = e.dest_id.as_deref().unwrap_or("-");
        let name = e
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let what = match e.status {
            Status::Different => "differs",
            Status::Missing => "missing in the destination",
            Status::NotMigrated => "not migrated",
            Status::Unexpected => {
                "unexpected in the destination (tagged by ferry, not in the mapping)"
            }
            Status::Equivalent | Status::Skipped => unreachable!("filtered above"),
        };
        let _ = writeln!(out, "\n{}{} -> {}: {}", e.key, name, dest, what);
        for d in &e.differences {
            let _ = writeln!(
                out,
                "    {}: source {} / destination {}",
                d.path, d.expected, d.actual
            );
        }
    }
    let c = r.counts();
    let total: usize = c.values().sum();
    let eq = c.get("equivalent").copied().unwrap_or(0);
    let skipped = c.get("skipped").copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "\n{eq} of {} resources equivalent{}.",
        total - skipped,
        if skipped > 0 {
            format!(", {skipped} AWS defaults skipped")
        } else {
            String::new()
        }
    );
    if r.is_equivalent() {
        out.push_str("The destination is equivalent to the source.\n");
    }
    out
}
