//! A whole `apply` run around the executor: resume or plan, refuse conflicts,
//! record the run, execute, record its outcome. Shared by the CLI and the
//! dashboard so both start, resume and finish runs the same way, and both
//! emit [`Event::RunStarted`] / [`Event::RunEnded`] (which notifications and
//! the dashboard follow).

use crate::apply::{self, Summary};
use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::event::Event;
use crate::planning;
use ferry_core::Plan;
use ferry_state::{RunId, RunState};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// What to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    /// A plan written by `ferry plan --out`; otherwise resume or plan afresh.
    pub plan_file: Option<std::path::PathBuf>,
    pub skip_conflicts: bool,
}

/// A plan ready to run (the caller shows it and asks for confirmation).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    /// The run being resumed and why it did not finish.
    pub resume: Option<(RunId, &'static str)>,
    /// Plan items that execute (create, adopt, converge...).
    pub work: usize,
}

impl Prepared {
    /// Nothing to do and nothing to resume.
    pub fn is_noop(&self) -> bool {
        self.work == 0 && self.resume.is_none()
    }
}

/// Resumes the last run if it died mid-way (same plan, same run number),
/// else reads `plan_file` or plans afresh. Conflicts are an error unless
/// `skip_conflicts`, which leaves them and their dependents out. The caller
/// holds the state lock from here until [`execute`] returns.
pub async fn prepare(cx: &Context, req: &ApplyRequest) -> Result<Prepared> {
    let interrupted = cx.state.mark_interrupted()?;
    let last = cx.state.runs()?.into_iter().last();
    let plan_file = req.plan_file.as_deref();
    let resume = last.filter(|r| {
        r.state == RunState::Interrupted || (r.state == RunState::Failed && plan_file.is_none())
    });
    let (mut plan, resume) = match (resume, plan_file) {
        (Some(r), None) if r.config_digest == cx.config.digest() => {
            planning::check_run_accounts(cx, &r)?;
            let p: Plan = serde_json::from_value(r.plan.clone()).map_err(|e| {
                EngineError::Input(format!(
                    "run {} has an unreadable plan in the state database: {e}",
                    r.id
                ))
            })?;
            let why = if interrupted.contains(&r.id) || r.state == RunState::Interrupted {
                "was interrupted"
            } else {
                "failed"
            };
            (p, Some((r.id, why)))
        }
        _ => (read_or_make(cx, plan_file).await?, None),
    };
    if plan.conflicts().next().is_some() && req.skip_conflicts {
        // The planner made every dependent of a conflict a conflict too, so
        // this leaves nothing that needs a skipped resource.
        plan.skip_conflicts();
    }
    let work = plan.items.iter().filter(|i| i.action.executes()).count();
    Ok(Prepared { plan, resume, work })
}

async fn read_or_make(cx: &Context, plan_file: Option<&Path>) -> Result<Plan> {
    match plan_file {
        Some(f) => {
            let p = planning::read(f)?;
            planning::check_fits(cx, &p, &f.display().to_string())?;
            Ok(p)
        }
        None => {
            // Planned here, copied by this process next: the source listings
            // discovery makes are kept for the copy (ferry_aws::s3::spill),
            // so each bucket is listed once. Without a directory for them,
            // the copy lists again.
            let dir = cx.state.dir().join(LISTINGS_DIR);
            if let Err(e) = cx.source.listings.keep_in(&dir) {
                tracing::debug!("not keeping listings in {}: {e}", dir.display());
            }
            planning::make(cx).await
        }
    }
}

/// Where an apply keeps the plan's source listings, in the state directory.
const LISTINGS_DIR: &str = "listings";

/// Stops keeping listings (and deletes them) when the run ends, however.
struct StopKeeping<'a>(&'a ferry_aws::s3::spill::Listings);

impl Drop for StopKeeping<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The error apply gives for a plan that still has conflicts.
pub fn conflicts_error() -> EngineError {
    EngineError::Conflicts(
        "the plan has conflicts (above); resolve them, or pass --skip-conflicts to leave them and what depends on them out".into(),
    )
}

/// Records the run (or marks the resumed one running), executes it and
/// records its outcome. A run with failed resources is an error that says
/// how to resume or roll back.
pub async fn execute(
    cx: Arc<Context>,
    prepared: Prepared,
    concurrency: Option<usize>,
) -> Result<(RunId, Summary)> {
    let _keeping = StopKeeping(&cx.source.listings);
    let Prepared {
        plan, resume, work, ..
    } = prepared;
    if plan.conflicts().next().is_some() {
        return Err(conflicts_error());
    }
    let plan_json = serde_json::to_value(&plan).expect("plan json");
    let run_id = match resume {
        Some((id, _)) => {
            cx.state.set_run_plan(id, &plan_json)?;
            cx.state.set_run_state(id, RunState::Running)?;
            id
        }
        None => cx
            .state
            .create_run(&plan_json, &cx.config.digest(), RunState::Running)?,
    };
    let mut services: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(dag) = plan.graph() {
        for i in 0..dag.len() {
            *services
                .entry(dag.node(i).key.kind.service().to_string())
                .or_default() += 1;
        }
    }
    cx.emit(Event::RunStarted {
        run: run_id,
        resumed: resume.is_some(),
        work,
        services,
        source: format!("{}/{}", plan.source.account, plan.source.region),
        destination: format!("{}/{}", plan.destination.account, plan.destination.region),
    });
    let concurrency = concurrency.unwrap_or(cx.config.apply.concurrency);
    let outcome = apply::execute(cx.clone(), run_id, Arc::new(plan), concurrency).await;
    let summary = match outcome {
        Ok(s) => s,
        Err(e) => {
            cx.state.set_run_state(run_id, RunState::Failed)?;
            cx.emit(Event::RunEnded {
                run: run_id,
                state: RunState::Failed.to_string(),
                summary: None,
                errors: vec![e.to_string()],
            });
            return Err(e);
        }
    };
    let summary_json = serde_json::to_value(&summary).expect("summary json");
    cx.state.set_run_summary(run_id, &summary_json)?;
    let state = if summary.failed > 0 {
        RunState::Failed
    } else {
        RunState::Succeeded
    };
    cx.state.set_run_state(run_id, state)?;
    cx.emit(Event::RunEnded {
        run: run_id,
        state: state.to_string(),
        summary: Some(summary_json),
        errors: summary.errors.iter().take(5).cloned().collect(),
    });
    if summary.failed > 0 {
        return Err(EngineError::Failed(format!(
            "run {run_id}: {} resource(s) failed and {} could not start; first: {}\nfix the cause and run `ferry apply` again to resume, or `ferry rollback {run_id}`",
            summary.failed,
            summary.stranded,
            summary.errors.first().cloned().unwrap_or_default()
        )));
    }
    Ok((run_id, summary))
}
