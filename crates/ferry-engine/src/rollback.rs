//! rollback: undo what a run did, newest first (ARCHITECTURE.md invariant 6). Deletes
//! only resources ferry created (recorded in the journal, or found by their
//! `ferry:source` tag when the run died before recording them), restores the
//! previous contents of AWS defaults it changed, treats NotFound as done and
//! retries dependency violations in later passes.

use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::event::Event;
use ferry_aws::{Desired, Lookup, Phase};
use ferry_core::protocol::{ConvergeDetail, EnsureDone, EnsureIntent, JournalOp};
use ferry_core::{Key, Kind};
use ferry_state::{JournalEntry, JournalStatus, RunId, RunState};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Step {
    Delete {
        key: Key,
        dest_id: String,
    },
    Restore {
        key: Key,
        dest_id: String,
        prior: Value,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub deleted: usize,
    pub restored: usize,
    pub failed: Vec<String>,
}

/// The run `rollback` without a number means: the newest run that changed
/// something and has not been rolled back.
pub fn default_run(cx: &Context) -> Result<RunId> {
    for r in cx.state.runs()?.into_iter().rev() {
        if matches!(r.state, RunState::RolledBack) {
            continue;
        }
        let changed = cx.state.journal(r.id)?.iter().any(|e| match op(e) {
            Some(JournalOp::Create | JournalOp::Adopt) => true,
            Some(JournalOp::Converge) => prior(e).is_some(),
            _ => false,
        });
        if changed {
            return Ok(r.id);
        }
    }
    Err(EngineError::Input(
        "there is no run to roll back: no run has created or changed anything (see `ferry runs`)"
            .into(),
    ))
}

/// What undoing `run` takes, newest first, one line per step (for the
/// confirmation prompt).
pub async fn preview(cx: &Context, run: RunId) -> Result<Vec<String>> {
    check_accounts(cx, run)?;
    Ok(collect(cx, run)
        .await?
        .into_iter()
        .map(|s| match s {
            Step::Delete { key, dest_id } => format!("delete  {dest_id}  (from {key})"),
            Step::Restore { key, dest_id, .. } => format!(
                "restore {dest_id}  (AWS default mapped from {key}) to its previous contents"
            ),
        })
        .collect())
}

async fn collect(cx: &Context, run: RunId) -> Result<Vec<Step>> {
    let mut journal = cx.state.journal(run)?;
    journal.sort_by_key(|e| std::cmp::Reverse(e.seq));
    let mut out = vec![];
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    for e in journal {
        let Some(key) = Key::parse(&e.source_key) else {
            continue;
        };
        match (op(&e), e.status) {
            (Some(JournalOp::Create | JournalOp::Adopt), JournalStatus::Done) => {
                let ferrys = detail::<EnsureDone>(&e).is_some_and(|d| d.origin.is_ferrys());
                if let (Some(d), true) = (e.dest_id.clone(), ferrys) {
                    if seen.insert((key.kind, d.clone())) {
                        out.push(Step::Delete { key, dest_id: d });
                    }
                }
            }
            (Some(JournalOp::Create), _) => {
                // Died between intent and result: whatever ferry made carries the tag.
                let Some(EnsureIntent { source_arn }) = detail(&e) else {
                    continue;
                };
                let Some(adapter) = cx.registry.get(key.kind) else {
                    continue;
                };
                for r in adapter
                    .describe(&cx.dest, &Lookup::SourceTag(source_arn))
                    .await?
                {
                    if seen.insert((key.kind, r.key.id.clone())) {
                        out.push(Step::Delete {
                            key: key.clone(),
                            dest_id: r.key.id,
                        });
                    }
                }
            }
            (Some(JournalOp::Converge), _) => {
                if let Some(ConvergeDetail {
                    dest_id,
                    prior: Some(prior),
                    ..
                }) = detail(&e)
                {
                    out.push(Step::Restore {
                        key,
                        dest_id,
                        prior,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What `run` made is in the accounts it was planned with: it is looked
/// for, deleted and restored there only.
fn check_accounts(cx: &Context, run: RunId) -> Result<()> {
    match cx.state.run(run)? {
        Some(r) => crate::planning::check_run_accounts(cx, &r),
        None => Ok(()),
    }
}

/// The operation of a journal entry (`None`: one this ferry does not know).
fn op(e: &JournalEntry) -> Option<JournalOp> {
    JournalOp::parse(&e.op)
}

/// The detail of a journal entry as apply wrote it.
fn detail<T: serde::de::DeserializeOwned>(e: &JournalEntry) -> Option<T> {
    serde_json::from_value(e.detail.clone()).ok()
}

/// The previous contents of an AWS default a converge entry recorded.
fn prior(e: &JournalEntry) -> Option<Value> {
    detail::<ConvergeDetail>(e).and_then(|d| d.prior)
}

/// Rolls `run` back, between [`Event::RollbackStarted`] and
/// [`Event::RollbackEnded`] (which notifications follow).
pub async fn run(cx: &Context, run: RunId) -> Result<Summary> {
    check_accounts(cx, run)?;
    let outcome = roll_back(cx, run).await;
    let (state, errors) = match &outcome {
        Ok(s) if s.failed.is_empty() => (RunState::RolledBack, vec![]),
        Ok(s) => (RunState::RollbackFailed, s.failed.clone()),
        Err(e) => (RunState::RollbackFailed, vec![e.to_string()]),
    };
    let (deleted, restored) = outcome
        .as_ref()
        .map(|s| (s.deleted, s.restored))
        .unwrap_or_default();
    cx.emit(Event::RollbackEnded {
        run,
        state: state.to_string(),
        deleted,
        restored,
        errors: errors.into_iter().take(5).collect(),
    });
    outcome
}

async fn roll_back(cx: &Context, run: RunId) -> Result<Summary> {
    cx.state.set_run_state(run, RunState::RollingBack)?;
    let mut pending = collect(cx, run).await?;
    cx.emit(Event::RollbackStarted {
        run,
        steps: pending.len(),
    });
    let mut summary = Summary::default();
    // Temporary shares and grants first: the source stops exposing anything.
    if let Err(errors) = crate::temporaries::sweep(cx, run).await {
        summary.failed.extend(errors);
    }
    let mut delay = Duration::from_millis(500);
    for pass in 0..12 {
        let mut retry = vec![];
        let mut errors = vec![];
        let before = pending.len();
        for step in pending {
            match do_step(cx, run, &step).await {
                Ok(()) => match &step {
                    Step::Delete { key, dest_id } => {
                        summary.deleted += 1;
                        cx.emit(Event::Deleted {
                            key: key.to_string(),
                            dest_id: dest_id.clone(),
                        });
                    }
                    Step::Restore { key, dest_id, .. } => {
                        summary.restored += 1;
                        cx.emit(Event::Restored {
                            key: key.to_string(),
                            dest_id: dest_id.clone(),
                        });
                    }
                },
                Err(e) => {
                    let label = match &step {
                        Step::Delete { key, dest_id } | Step::Restore { key, dest_id, .. } => {
                            format!("{key} ({dest_id})")
                        }
                    };
                    errors.push(format!("{label}: {e}"));
                    retry.push(step);
                }
            }
        }
        pending = retry;
        if pending.is_empty() {
            break;
        }
        if pass == 11 || (pending.len() == before && pass >= 6) {
            summary.failed.extend(errors);
            break;
        }
        cx.emit(Event::Message {
            text: format!(
                "{} step(s) must wait for others (e.g. {}); retrying",
                pending.len(),
                errors[0]
            ),
        });
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
    if summary.failed.is_empty() {
        // What the run mapped (AWS defaults included) is no longer its doing.
        for m in cx.state.map_all()?.into_iter().filter(|m| m.run_id == run) {
            cx.state.map_remove(&m.source_key)?;
        }
    }
    let state = if summary.failed.is_empty() {
        RunState::RolledBack
    } else {
        RunState::RollbackFailed
    };
    cx.state.set_run_state(run, state)?;
    Ok(summary)
}

async fn do_step(cx: &Context, run: RunId, step: &Step) -> ferry_aws::Result<()> {
    match step {
        Step::Delete { key, dest_id } => {
            let adapter = adapter(cx, key.kind)?;
            let seq = cx
                .state
                .journal_intent(
                    run,
                    &key.to_string(),
                    JournalOp::Delete.as_str(),
                    key.kind.as_str(),
                    &key.to_string(),
                    &json!({"dest_id": dest_id}),
                )
                .map_err(state_err)?;
            match adapter.delete(&cx.dest, dest_id).await {
                Ok(()) => {
                    cx.state
                        .journal_done(seq, Some(dest_id), &Value::Null)
                        .map_err(state_err)?;
                    if matches!(cx.state.map_get(&key.to_string()), Ok(Some(m)) if &m.dest_id == dest_id)
                    {
                        cx.state.map_remove(&key.to_string()).map_err(state_err)?;
                    }
                    Ok(())
                }
                Err(e) => {
                    let _ = cx.state.journal_failed(seq, &e.to_string());
                    Err(e)
                }
            }
        }
        Step::Restore {
            key,
            dest_id,
            prior,
        } => {
            let adapter = adapter(cx, key.kind)?;
            let want = Desired {
                spec: prior.clone(),
                tags: Default::default(),
                manage_tags: false,
                source_id: key.id.clone(),
                dest_name: None,
                copy: None,
            };
            let seq = cx
                .state
                .journal_intent(
                    run,
                    &key.to_string(),
                    JournalOp::Restore.as_str(),
                    key.kind.as_str(),
                    &key.to_string(),
                    &json!({"dest_id": dest_id}),
                )
                .map_err(state_err)?;
            for phase in [Phase::Create, Phase::Contents] {
                match adapter.converge(&cx.dest, dest_id, &want, phase).await {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => break,
                    Err(e) => {
                        let _ = cx.state.journal_failed(seq, &e.to_string());
                        return Err(e);
                    }
                }
            }
            cx.state
                .journal_done(seq, Some(dest_id), &Value::Null)
                .map_err(state_err)?;
            Ok(())
        }
    }
}

/// The adapter of a kind the journal names.
fn adapter(cx: &Context, kind: Kind) -> ferry_aws::Result<&dyn ferry_aws::KindAdapter> {
    cx.registry
        .get(kind)
        .ok_or_else(|| ferry_aws::AwsError::Invalid {
            side: "state",
            message: format!("the journal names kind {kind}, which has no adapter"),
        })
}

fn state_err(e: ferry_state::StateError) -> ferry_aws::AwsError {
    ferry_aws::AwsError::Invalid {
        side: "state",
        message: e.to_string(),
    }
}
