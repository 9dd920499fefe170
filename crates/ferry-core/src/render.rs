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
        "DESTINATION".into(),
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
            i.dest_id.clone().unwrap_or_else(|| {
                if i.action == Action::Create {
                    "(new)".into()
                } else {
                    "-".into()
                }
            }),
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
            let _ = match (d.expected.is_null(), d.actual.is_null()) {
                (false, true) => writeln!(
                    out,
                    "    {}: missing in the destination: {}",
                    d.path, d.expected
                ),
                (true, false) => {
                    writeln!(out, "    {}: only in the destination: {}", d.path, d.actual)
                }
                _ => writeln!(
                    out,
                    "    {}: source {} / destination {}",
                    d.path, d.expected, d.actual
                ),
            };
        }
    }
    for o in &r.objects {
        objects_lines(&mut out, o);
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

/// A bucket's objects in the verify report: one line when they match, the
/// totals and the first keys that differ otherwise.
fn objects_lines(out: &mut String, o: &crate::verify::ObjectsEntry) {
    use crate::spec::s3::{human_bytes, thousands};
    let head = format!("\ns3_bucket/{} -> {}: objects", o.bucket, o.dest_bucket);
    let Some(r) = &o.report else {
        let _ = writeln!(
            out,
            "{head} could not be compared: {}",
            o.error.as_deref().unwrap_or("unknown error")
        );
        return;
    };
    let how = format!(
        "compared by ETag {}, checksum {}, size and time {}",
        thousands(r.compared_by_etag),
        thousands(r.compared_by_checksum),
        thousands(r.compared_by_size_time)
    );
    if r.is_equivalent() {
        let _ = writeln!(
            out,
            "{head}: {} objects ({}) equivalent; {how}",
            thousands(r.source_objects),
            human_bytes(r.source_bytes)
        );
        return;
    }
    let _ = writeln!(
        out,
        "{head} differ: source {} objects ({}), destination {} ({}); {} missing, {} differing, {} only in the destination; {how}",
        thousands(r.source_objects),
        human_bytes(r.source_bytes),
        thousands(r.destination_objects),
        human_bytes(r.destination_bytes),
        thousands(r.missing),
        thousands(r.differing),
        thousands(r.extra)
    );
    for s in &r.samples {
        let _ = writeln!(out, "    {:?}: {}", s.key, s.reason);
    }
    let listed = r.missing + r.differing + r.extra;
    if listed > r.samples.len() as u64 {
        let _ = writeln!(
            out,
            "    ... and {} more",
            thousands(listed - r.samples.len() as u64)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{build, PlanInput};
    use crate::resource::{Key, Resource, SideInfo, Snapshot};
    use crate::verify::{compare, VerifyInput};
    use crate::{Kind, Mapping};
    use serde_json::json;

    fn side(account: &str, region: &str) -> SideInfo {
        SideInfo {
            account: account.into(),
            region: region.into(),
            partition: "aws".into(),
        }
    }

    fn res(kind: Kind, id: &str, name: &str, spec: serde_json::Value) -> Resource {
        Resource::with_tags(Key::new(kind, id), spec, [("Name", name)])
    }

    fn source() -> Snapshot {
        Snapshot {
            side: side("111111111111", "us-east-1"),
            taken_at: String::new(),
            kinds: crate::kind::SUPPORTED.to_vec(),
            zones: vec![],
            resources: vec![
                res(
                    Kind::Vpc,
                    "vpc-1",
                    "app",
                    json!({"cidr_block": "10.0.0.0/16", "secondary_cidr_blocks": []}),
                ),
                res(
                    Kind::Vpc,
                    "vpc-2",
                    "legacy",
                    json!({"cidr_block": "172.16.0.0/16", "secondary_cidr_blocks": []}),
                ),
                res(
                    Kind::ElasticIp,
                    "eipalloc-1",
                    "nat",
                    json!({"domain": "vpc"}),
                ),
                res(
                    Kind::Subnet,
                    "subnet-1",
                    "a",
                    json!({"vpc": {"$ref": "vpc/vpc-2"}, "cidr_block": "172.16.1.0/24", "availability_zone": "us-east-1a"}),
                ),
            ],
        }
    }

    fn dest() -> Snapshot {
        Snapshot {
            side: side("222222222222", "eu-west-1"),
            taken_at: String::new(),
            kinds: crate::kind::SUPPORTED.to_vec(),
            zones: vec!["eu-west-1a".into()],
            resources: vec![res(
                Kind::Vpc,
                "vpc-9",
                "theirs",
                json!({"cidr_block": "172.16.0.0/12"}),
            )],
        }
    }

    #[test]
    fn plan_text_is_stable() {
        let input = PlanInput {
            kinds: crate::kind::SUPPORTED.iter().copied().collect(),
            ..Default::default()
        };
        insta::assert_snapshot!(plan(&build(&source(), &dest(), &input)));
    }

    #[test]
    fn verify_text_is_stable() {
        let mut d = dest();
        let mut v = res(
            Kind::Vpc,
            "vpc-8",
            "app",
            json!({"cidr_block": "10.0.0.0/16", "secondary_cidr_blocks": ["10.1.0.0/16"]}),
        );
        v.ferry_source = Some(source().side.arn(&Key::new(Kind::Vpc, "vpc-1")));
        d.resources.push(v);
        let mut m = Mapping::new();
        m.insert(Key::new(Kind::Vpc, "vpc-1"), "vpc-8");
        m.insert(Key::new(Kind::ElasticIp, "eipalloc-1"), "eipalloc-gone");
        let kinds = crate::kind::SUPPORTED.iter().copied().collect();
        let r = compare(
            &source(),
            &d,
            &VerifyInput {
                kinds: &kinds,
                exclude_tags: &Default::default(),
                exclude_ids: &[],
                zones: &Default::default(),
                mapping: &m,
            },
        );
        insta::assert_snapshot!(verify(&r));
    }
}
