//! The pages: runs, a run (its plan by service with live progress, and its
//! dependency graph), the dashboard's plan, the apply awaiting confirmation
//! or running, the mapping, the verify report and a run's rollback state.
//! Nothing here renders a resource's spec or the configuration's
//! credentials: only keys, names, actions, reasons, IDs and statuses.

use crate::app::{count_line, App};
use crate::html::{badge, esc, page};
use crate::status::{self, ServiceGroup, Status};
use crate::svg;
use ferry_core::plan::Plan;
use ferry_state::{RunRecord, RunState};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// "12m 5s" between two RFC 3339 times (or until now).
pub fn duration(start: &str, end: Option<&str>) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let Some(a) = parse(start) else {
        return String::new();
    };
    let b = match end {
        Some(e) => match parse(e) {
            Some(b) => b.with_timezone(&chrono::Utc),
            None => return String::new(),
        },
        None => chrono::Utc::now(),
    };
    let s = (b - a.with_timezone(&chrono::Utc)).num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

fn context_line(plan: Option<&Plan>) -> String {
    plan.map(|p| {
        format!(
            "{}/{} → {}/{}",
            p.source.account, p.source.region, p.destination.account, p.destination.region
        )
    })
    .unwrap_or_default()
}

/// The summary counts of a run ("4 created, 1 adopted...").
pub fn summary_line(summary: &Value) -> String {
    if summary.is_null() {
        return String::new();
    }
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    let mut parts = vec![
        format!("{} created", n("created")),
        format!("{} adopted", n("adopted")),
        format!("{} reconciled", n("converged")),
    ];
    if n("failed") > 0 {
        parts.push(format!("{} failed", n("failed")));
    }
    if n("stranded") > 0 {
        parts.push(format!("{} not run", n("stranded")));
    }
    parts.join(", ")
}

fn run_plan(r: &RunRecord) -> Option<Plan> {
    serde_json::from_value(r.plan.clone()).ok()
}

/// A run's node statuses: from the live apply when this server runs it,
/// else from the journal.
pub fn run_nodes(app: &App, r: &RunRecord, plan: &Plan) -> BTreeMap<String, Status> {
    if let Some(live) = app.live().filter(|l| l.run == Some(r.id)) {
        return live.nodes;
    }
    let journal = app
        .state()
        .ok()
        .flatten()
        .and_then(|s| s.journal(r.id).ok())
        .unwrap_or_default();
    status::from_journal(&status::queued_nodes(plan), &journal, r.state)
}

/// Marks runs whose process died as interrupted (as `ferry runs` does),
/// when nobody holds the state lock. The lock is only tried when a run is
/// marked running: an apply takes the lock before it records its run, so
/// this never makes an apply that is starting find the lock taken.
fn settle(app: &App) {
    let Ok(Some(s)) = app.state() else { return };
    let running = s
        .runs()
        .map(|runs| runs.iter().any(|r| r.state.is_active()))
        .unwrap_or(false);
    if running {
        if let Ok(_lock) = s.lock("ferry serve: runs") {
            let _ = s.mark_interrupted();
        }
    }
}

pub fn runs_json(app: &App) -> Result<Value, String> {
    settle(app);
    let Some(state) = app.state().map_err(|e| e.to_string())? else {
        return Ok(json!([]));
    };
    let runs = state.runs().map_err(|e| e.to_string())?;
    Ok(Value::Array(
        runs.iter()
            .rev()
            .map(|r| {
                let work = run_plan(r)
                    .map(|p| p.items.iter().filter(|i| i.action.executes()).count())
                    .unwrap_or(0);
                json!({
                    "id": r.id, "state": r.state, "started_at": r.started_at,
                    "ended_at": r.ended_at, "duration": duration(&r.started_at, r.ended_at.as_deref()),
                    "work": work, "summary": r.summary, "counts": summary_line(&r.summary),
                })
            })
            .collect(),
    ))
}

pub fn runs_page(app: &App) -> String {
    let mut body = String::from("<h1>Runs</h1>\n");
    match runs_json(app) {
        Err(e) => {
            let _ = write!(body, "<p class=\"error\">{}</p>", esc(&e));
        }
        Ok(Value::Array(runs)) if runs.is_empty() => {
            body.push_str("<p class=\"empty\">No runs yet. Press <b>Plan</b> to see what an apply would do, then <b>Apply</b>.</p>");
        }
        Ok(runs) => {
            body.push_str("<table class=\"runs\" id=\"runs\"><thead><tr><th>Run</th><th>State</th><th>Started</th><th>Ended</th><th>Duration</th><th>Resources</th><th>Result</th></tr></thead><tbody>");
            for r in runs.as_array().into_iter().flatten() {
                let id = r["id"].as_i64().unwrap_or(0);
                let state = r["state"].as_str().unwrap_or("");
                let _ = write!(
                    body,
                    "<tr data-run=\"{id}\"><td><a href=\"/runs/{id}\">run {id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    badge(state),
                    esc(r["started_at"].as_str().unwrap_or("")),
                    esc(r["ended_at"].as_str().unwrap_or("")),
                    esc(r["duration"].as_str().unwrap_or("")),
                    r["work"],
                    esc(r["counts"].as_str().unwrap_or("")),
                );
            }
            body.push_str("</tbody></table>");
        }
    }
    page("Runs", "runs", "", &[], &body)
}

/// The sections of a plan by service, with their progress, and the data
/// the page's script needs to move them along.
pub fn sections(plan: &Plan, nodes: &BTreeMap<String, Status>) -> String {
    let groups = status::group(plan, nodes);
    let mut out = String::from("<div class=\"services\" id=\"services\">\n");
    for g in &groups {
        section(&mut out, g);
    }
    out.push_str("</div>\n");
    // Which nodes make each item, for the script.
    let mut items: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for n in nodes.keys() {
        items
            .entry(status::node_key(n).to_string())
            .or_default()
            .push(n);
    }
    let data = json!({"nodes": nodes, "items": items});
    // `</` cannot appear in JSON strings we make, but be safe in a script.
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"progress-data\">{}</script>",
        data.to_string().replace("</", "<\\/")
    );
    out
}

fn counts_text(g: &ServiceGroup) -> String {
    let n = |s: Status| g.counts.get(&s).copied().unwrap_or(0);
    if g.work == 0 {
        return format!("nothing to do ({} skipped)", g.items.len());
    }
    let mut t = format!(
        "{}/{} done · {} running · {} queued",
        n(Status::Done),
        g.work,
        n(Status::Running),
        n(Status::Queued)
    );
    let failed = n(Status::Failed) + n(Status::Stranded);
    if failed > 0 {
        let _ = write!(t, " · {failed} failed");
    }
    t
}

fn section(out: &mut String, g: &ServiceGroup) {
    let pct = |s: Status| {
        if g.work == 0 {
            0.0
        } else {
            100.0 * g.counts.get(&s).copied().unwrap_or(0) as f64 / g.work as f64
        }
    };
    let _ = write!(
        out,
        "<section class=\"service st-{st}\" data-service=\"{svc}\" data-status=\"{st}\"><h3><span class=\"svc\">{svc}</span> <span class=\"badge st-{st}\">{st}</span> <span class=\"counts\">{counts}</span></h3>\
<div class=\"bar\"><span class=\"seg st-done\" style=\"width:{d:.1}%\"></span><span class=\"seg st-running\" style=\"width:{r:.1}%\"></span><span class=\"seg st-failed\" style=\"width:{f:.1}%\"></span></div>\
<details{open}><summary>{n} resource(s)</summary><table class=\"items\"><thead><tr><th>Status</th><th>Action</th><th>Kind</th><th>Source ID</th><th>Name</th><th>Reason</th></tr></thead><tbody>",
        st = g.status.as_str(),
        svc = esc(&g.service),
        counts = esc(&counts_text(g)),
        d = pct(Status::Done),
        r = pct(Status::Running),
        f = pct(Status::Failed) + pct(Status::Stranded),
        open = if g.work > 0 && g.work <= 40 { " open" } else { "" },
        n = g.items.len(),
    );
    for i in &g.items {
        let _ = write!(
            out,
            "<tr class=\"item st-{st}\" data-key=\"{key}\" data-work=\"{work}\"><td class=\"status\">{st}</td><td>{action}</td><td>{kind}</td><td class=\"id\">{id}</td><td>{name}</td><td class=\"reason\">{reason}</td></tr>",
            st = i.status.as_str(),
            key = esc(&i.key),
            work = i.status != Status::Skipped,
            action = esc(&i.action),
            kind = esc(&i.kind),
            id = esc(&i.id),
            name = esc(i.name.as_deref().unwrap_or("")),
            reason = esc(&i.reason),
        );
    }
    out.push_str("</tbody></table></details></section>\n");
}

fn graph_block(plan: &Plan, nodes: &BTreeMap<String, Status>, href: &str) -> String {
    let statuses: HashMap<String, Status> = status::item_statuses(plan, nodes);
    format!(
        "<h2>Dependencies</h2><p class=\"hint\">Each box waits for the boxes with arrows into it; hover for details, click to highlight. <a href=\"{}\">SVG file</a></p><div class=\"graph\" id=\"graph\">{}</div>",
        esc(href),
        svg::render(plan, &statuses)
    )
}

pub fn run_page(app: &App, id: i64) -> Option<String> {
    settle(app);
    let state = app.state().ok()??;
    let r = state.run(id).ok()??;
    let Some(plan) = run_plan(&r) else {
        let body = format!(
            "<h1>Run {id}</h1><p class=\"error\">This run's plan cannot be read by this ferry.</p>"
        );
        return Some(page(&format!("Run {id}"), "run", "", &[], &body));
    };
    let nodes = run_nodes(app, &r, &plan);
    let live = app.live_run() == Some(id);
    let mut body = format!(
        "<h1>Run {id} {}</h1><dl class=\"facts\"><dt>Started</dt><dd>{}</dd><dt>Ended</dt><dd id=\"ended\">{}</dd><dt>Duration</dt><dd>{}</dd><dt>Plan</dt><dd>{}</dd><dt>Result</dt><dd id=\"summary\">{}</dd></dl>\
<p class=\"links\"><a href=\"/runs/{id}/rollback\">Rollback state</a> · <a href=\"/api/runs/{id}\">JSON</a></p>",
        badge_with_id(r.state.as_str()),
        esc(&r.started_at),
        esc(r.ended_at.as_deref().unwrap_or("")),
        esc(&duration(&r.started_at, r.ended_at.as_deref())),
        esc(&count_line(&plan)),
        esc(&summary_line(&r.summary)),
    );
    body.push_str(&sections(&plan, &nodes));
    body.push_str(&graph_block(
        &plan,
        &nodes,
        &format!("/runs/{id}/graph.svg"),
    ));
    Some(page(
        &format!("Run {id}"),
        "run",
        &context_line(Some(&plan)),
        &[
            ("run", id.to_string()),
            ("live", live.to_string()),
            ("run-state", r.state.to_string()),
        ],
        &body,
    ))
}

fn badge_with_id(state: &str) -> String {
    format!(
        "<span class=\"badge st-{0}\" id=\"run-state\">{0}</span>",
        esc(state)
    )
}

pub fn run_json(app: &App, id: i64) -> Option<Value> {
    let state = app.state().ok()??;
    let r = state.run(id).ok()??;
    let plan = run_plan(&r)?;
    let nodes = run_nodes(app, &r, &plan);
    Some(json!({
        "id": r.id, "state": r.state, "started_at": r.started_at, "ended_at": r.ended_at,
        "duration": duration(&r.started_at, r.ended_at.as_deref()),
        "summary": r.summary, "live": app.live_run() == Some(id),
        "nodes": nodes, "services": status::group(&plan, &nodes),
    }))
}

pub fn run_svg(app: &App, id: i64) -> Option<String> {
    let state = app.state().ok()??;
    let r = state.run(id).ok()??;
    let plan = run_plan(&r)?;
    let nodes = run_nodes(app, &r, &plan);
    Some(svg::render(&plan, &status::item_statuses(&plan, &nodes)))
}

pub fn plan_page(app: &App) -> String {
    let last = app.last_plan.lock().expect("plan").clone();
    let Some((plan, at)) = last else {
        let body = "<h1>Plan</h1><p class=\"empty\">No plan yet. Press <b>Plan</b> to discover both sides and see what an apply would do (nothing is changed).</p>";
        return page("Plan", "plan", "", &[], body);
    };
    let nodes = status::queued_nodes(&plan);
    let mut body = format!(
        "<h1>Plan</h1><dl class=\"facts\"><dt>Made</dt><dd>{}</dd><dt>Actions</dt><dd>{}</dd></dl><p class=\"links\"><a href=\"/api/plan\">JSON</a></p>",
        esc(&at),
        esc(&count_line(&plan))
    );
    if plan.conflicts().next().is_some() {
        body.push_str("<p class=\"error\">The plan has conflicts (see their reasons below): apply refuses until they are resolved, unless told to leave them, and what depends on them, out. \
<button data-action=\"apply\" data-skip-conflicts=\"true\" class=\"secondary\">Apply without the conflicts…</button></p>");
    }
    body.push_str(&sections(&plan, &nodes));
    body.push_str(&graph_block(&plan, &nodes, "/plan/graph.svg"));
    page("Plan", "plan", &context_line(Some(&plan)), &[], &body)
}

pub fn apply_page(app: &App) -> String {
    let Some(live) = app.live() else {
        let job = app.job();
        let mut body = String::from("<h1>Apply</h1>");
        if job.kind == "apply" && !job.state.is_empty() {
            let _ = write!(
                body,
                "<p class=\"job-{}\">{}: {}</p>",
                esc(&job.state),
                esc(&job.state.replace('_', " ")),
                esc(&job.message)
            );
        }
        body.push_str("<p class=\"empty\">Press <b>Apply</b>: ferry takes the state lock, plans afresh (or resumes an interrupted run) and shows the plan here for confirmation before changing anything.</p>");
        return page("Apply", "apply", "", &[], &body);
    };
    let plan = &live.plan;
    let mut body = String::from("<h1>Apply</h1>");
    if let Some(id) = &live.confirm_id {
        let work = plan.items.iter().filter(|i| i.action.executes()).count();
        let _ = write!(
            body,
            "<div class=\"confirm\" id=\"confirm\"><p><b>Apply {work} change(s) to {}/{}?</b> Read the plan below first: it is exactly what runs. The state lock is held until you decide.</p>\
<button id=\"confirm-apply\" data-confirm=\"{}\">Apply this plan</button> <button id=\"cancel-apply\" class=\"secondary\" data-confirm=\"{}\">Cancel</button></div>",
            esc(&plan.destination.account),
            esc(&plan.destination.region),
            esc(id),
            esc(id)
        );
    }
    let run = live
        .run
        .map(|r| format!("<a href=\"/runs/{r}\">run {r}</a>"))
        .unwrap_or_else(|| "a new run".into());
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Run</dt><dd id=\"live-run\">{run}</dd><dt>State</dt><dd>{}</dd><dt>Plan</dt><dd>{}</dd><dt>Result</dt><dd id=\"summary\">{}</dd></dl>",
        badge_with_id(&live.state),
        esc(&count_line(plan)),
        esc(&summary_line(&live.summary)),
    );
    if !live.errors.is_empty() {
        body.push_str("<ul class=\"errors\">");
        for e in &live.errors {
            let _ = write!(body, "<li>{}</li>", esc(e));
        }
        body.push_str("</ul>");
    }
    body.push_str(&sections(plan, &live.nodes));
    body.push_str(&graph_block(plan, &live.nodes, "/apply/graph.svg"));
    let mut attrs = vec![
        ("live", "true".to_string()),
        ("run-state", live.state.clone()),
    ];
    if let Some(r) = live.run {
        attrs.push(("run", r.to_string()));
    }
    page("Apply", "apply", &context_line(Some(plan)), &attrs, &body)
}

pub fn mapping_page(app: &App, q: &str) -> String {
    let mut body = format!(
        "<h1>Mapping</h1><p class=\"hint\">Every source resource ferry has mapped, and its ID in the destination.</p>\
<form class=\"search\" method=\"get\" action=\"/mapping\"><input type=\"search\" id=\"mapping-search\" name=\"q\" value=\"{}\" placeholder=\"search kind, source ID or destination ID\" autofocus></form>",
        esc(q)
    );
    let entries = match app.state() {
        Ok(Some(s)) => s.map_all().map_err(|e| e.to_string()),
        Ok(None) => Ok(vec![]),
        Err(e) => Err(e.to_string()),
    };
    match entries {
        Err(e) => {
            let _ = write!(body, "<p class=\"error\">{}</p>", esc(&e));
        }
        Ok(v) if v.is_empty() => body.push_str("<p class=\"empty\">Nothing is mapped yet.</p>"),
        Ok(v) => {
            let q = q.to_lowercase();
            let mut by_kind: BTreeMap<&str, Vec<&ferry_state::MappingEntry>> = BTreeMap::new();
            for m in &v {
                let hay = format!("{} {} {}", m.kind, m.source_key, m.dest_id).to_lowercase();
                if q.is_empty() || hay.contains(&q) {
                    by_kind.entry(m.kind.as_str()).or_default().push(m);
                }
            }
            let _ = write!(
                body,
                "<p class=\"count\" id=\"mapping-count\">{} of {} entries</p>",
                by_kind.values().map(Vec::len).sum::<usize>(),
                v.len()
            );
            body.push_str("<table class=\"mapping\" id=\"mapping\"><thead><tr><th>Kind</th><th>Source ID</th><th>Destination ID</th><th>Origin</th><th>Run</th></tr></thead>");
            for (kind, list) in by_kind {
                let _ = write!(body, "<tbody data-kind=\"{}\"><tr class=\"kind\"><th colspan=\"5\">{} ({})</th></tr>", esc(kind), esc(kind), list.len());
                for m in list {
                    let source = m
                        .source_key
                        .split_once('/')
                        .map(|(_, id)| id)
                        .unwrap_or(&m.source_key);
                    let _ = write!(
                        body,
                        "<tr class=\"entry\" data-kind=\"{k}\"><td>{k}</td><td class=\"source\">{}</td><td class=\"dest\">{}</td><td>{}</td><td><a href=\"/runs/{r}\">{r}</a></td></tr>",
                        esc(source),
                        esc(&m.dest_id),
                        esc(&m.origin),
                        k = esc(&m.kind),
                        r = m.run_id,
                    );
                }
                body.push_str("</tbody>");
            }
            body.push_str("</table>");
        }
    }
    page("Mapping", "mapping", "", &[], &body)
}

pub fn verify_page(app: &App) -> String {
    let last = app.last_verify.lock().expect("verify").clone();
    let Some(v) = last else {
        let body = "<h1>Verify</h1><p class=\"empty\">Not verified yet in this session. Press <b>Verify</b> to re-read both sides and compare them through the mapping (nothing is changed). <code>ferry verify</code> gives the same report.</p>";
        return page("Verify", "verify", "", &[], body);
    };
    let r = &v.report;
    let counts = r.counts();
    let mut body = format!(
        "<h1>Verify {}</h1><dl class=\"facts\"><dt>At</dt><dd>{}</dd><dt>Counts</dt><dd>{}</dd></dl><p class=\"links\"><a href=\"/api/verify\">JSON</a></p>",
        if r.is_equivalent() {
            badge("equivalent")
        } else {
            badge("different")
        },
        esc(&v.at),
        esc(&counts.iter().map(|(k, n)| format!("{n} {}", k.replace('_', " "))).collect::<Vec<_>>().join(", ")),
    );
    body.push_str("<table class=\"verify\"><thead><tr><th>Status</th><th>Source</th><th>Name</th><th>Destination</th><th>Differences</th></tr></thead><tbody>");
    let mut entries: Vec<_> = r.entries.iter().collect();
    entries.sort_by_key(|e| {
        (
            e.status == ferry_core::verify::Status::Equivalent,
            e.key.clone(),
        )
    });
    for e in entries {
        let status = serde_json::to_value(e.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let mut diffs = String::new();
        for d in &e.differences {
            let _ = write!(
                diffs,
                "<div><code>{}</code>: source {} / destination {}</div>",
                esc(&d.path),
                esc(&d.expected.to_string()),
                esc(&d.actual.to_string())
            );
        }
        if let Some(n) = &e.note {
            let _ = write!(diffs, "<div class=\"note\">{}</div>", esc(n));
        }
        let _ = write!(
            body,
            "<tr class=\"v-{st}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            badge(&status),
            esc(&e.key.to_string()),
            esc(e.name.as_deref().unwrap_or("")),
            esc(e.dest_id.as_deref().unwrap_or("-")),
            diffs,
            st = esc(&status),
        );
    }
    body.push_str("</tbody></table>");
    let _ = write!(
        body,
        "<h2>Report</h2><pre class=\"report\">{}</pre>",
        esc(&ferry_core::render::verify(r))
    );
    page(
        "Verify",
        "verify",
        &format!(
            "{}/{} → {}/{}",
            r.source.account, r.source.region, r.destination.account, r.destination.region
        ),
        &[],
        &body,
    )
}

/// What rolling `run` back would do, and the temporaries it still has.
pub async fn rollback_page(app: &App, id: i64) -> Option<String> {
    let state = app.state().ok()??;
    let r = state.run(id).ok()??;
    let temporaries = state.temporaries_open(Some(id)).unwrap_or_default();
    let mut body = format!(
        "<h1>Rollback state of <a href=\"/runs/{id}\">run {id}</a> {}</h1>",
        badge(r.state.as_str())
    );
    let preview = async {
        let config =
            ferry_core::config::Config::load(&app.opts.config).map_err(|e| e.to_string())?;
        let cx = ferry_engine::Context::connect(config, &app.opts.state_dir, true, None)
            .await
            .map_err(|e| e.to_string())?;
        ferry_engine::rollback::preview(&cx, id)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match preview {
        Err(e) => {
            let _ = write!(body, "<p class=\"error\">Cannot work out the rollback: {}</p>", esc(&e));
        }
        Ok(steps) if steps.is_empty() => body.push_str("<p class=\"empty\">Rolling this run back has nothing to do: it created and changed nothing that is still there.</p>"),
        Ok(steps) => {
            let _ = write!(body, "<p><code>ferry rollback {id}</code> would take these {} step(s), newest first (the dashboard does not roll back):</p><ol class=\"steps\">", steps.len());
            for s in steps {
                let _ = write!(body, "<li><code>{}</code></li>", esc(&s));
            }
            body.push_str("</ol>");
        }
    }
    if r.state == RunState::RolledBack {
        body.push_str("<p>This run has been rolled back.</p>");
    }
    body.push_str("<h2>Temporaries still recorded</h2>");
    if temporaries.is_empty() {
        body.push_str("<p class=\"empty\">None: every temporary grant and scratch copy of this run was withdrawn.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>Side</th><th>What</th><th>Opened</th></tr></thead><tbody>",
        );
        for t in temporaries {
            let _ = write!(
                body,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&t.side),
                esc(&t.what.to_string()),
                esc(&t.opened_at)
            );
        }
        body.push_str("</tbody></table>");
    }
    Some(page(
        &format!("Rollback of run {id}"),
        "rollback",
        "",
        &[],
        &body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(
            duration("2024-01-01T00:00:00Z", Some("2024-01-01T00:00:42Z")),
            "42s"
        );
        assert_eq!(
            duration("2024-01-01T00:00:00Z", Some("2024-01-01T00:12:05Z")),
            "12m 5s"
        );
        assert_eq!(
            duration("2024-01-01T00:00:00Z", Some("2024-01-01T03:04:00Z")),
            "3h 4m"
        );
        assert_eq!(duration("garbage", None), "");
    }

    #[test]
    fn sections_carry_statuses_and_escape_names() {
        let mut p = crate::status::tests::plan();
        p.items[0].name = Some("<script>".into());
        let mut nodes = status::queued_nodes(&p);
        nodes.insert("vpc/vpc-1".into(), Status::Done);
        let html = sections(&p, &nodes);
        assert!(html.contains("<section class=\"service st-running\" data-service=\"ec2\""));
        assert!(html.contains("<section class=\"service st-queued\" data-service=\"s3\""));
        assert!(html.contains("class=\"item st-done\" data-key=\"vpc/vpc-1\""));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>\""));
        assert!(html.contains("1/3 done · 0 running · 2 queued"));
    }
}
