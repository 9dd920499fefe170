//! Runs: one row per `apply` (or `rollback`) with its plan, state and summary.
//!
//! A run's state is what `ferry runs` shows and what a resumed apply or a
//! rollback starts from, so every transition is committed before returning.

use rusqlite::{params, OptionalExtension};

use crate::db::now;
use crate::{State, StateError};

/// Identifies a run; assigned by the database, increasing, never reused.
pub type RunId = i64;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Planned,
    Running,
    /// The process died (or was stopped) mid-run; `apply` again resumes it.
    Interrupted,
    Succeeded,
    Failed,
    RollingBack,
    RolledBack,
    RollbackFailed,
}

impl RunState {
    /// Every state, in lifecycle order.
    pub const ALL: [RunState; 8] = [
        RunState::Planned,
        RunState::Running,
        RunState::Interrupted,
        RunState::Succeeded,
        RunState::Failed,
        RunState::RollingBack,
        RunState::RolledBack,
        RunState::RollbackFailed,
    ];

    /// The stored and displayed name ("planned", "rolling_back", ...), the same as
    /// the serde name so JSON output and the database agree.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Planned => "planned",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::RollingBack => "rolling_back",
            RunState::RolledBack => "rolled_back",
            RunState::RollbackFailed => "rollback_failed",
        }
    }

    /// Parses [`RunState::as_str`]'s output.
    pub fn parse(s: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Whether the run has stopped (for now): `ended_at` is set on entering such a
    /// state. `Interrupted` counts, since nothing is running it any more; resuming
    /// sets the run back to `Running` and clears `ended_at`.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunState::Succeeded
                | RunState::Failed
                | RunState::RolledBack
                | RunState::RollbackFailed
                | RunState::Interrupted
        )
    }

    /// States in which some process is (or was, if it died) changing the
    /// destination account.
    pub fn is_active(self) -> bool {
        matches!(self, RunState::Running | RunState::RollingBack)
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    pub id: RunId,
    pub state: RunState,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Set when the run enters a terminal state, cleared if it is resumed.
    pub ended_at: Option<String>,
    pub config_digest: String,
    pub plan: serde_json::Value,
    /// `Null` until [`State::set_run_summary`] is called.
    pub summary: serde_json::Value,
}

const RUN_COLUMNS: &str = "id, state, started_at, ended_at, config_digest, plan, summary";

type RawRun = (i64, String, String, Option<String>, String, String, String);

fn raw_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

impl State {
    fn run_record(&self, raw: RawRun) -> Result<RunRecord, StateError> {
        let (id, state, started_at, ended_at, config_digest, plan, summary) = raw;
        let state = RunState::parse(&state)
            .ok_or_else(|| self.corrupt(format!("run {id} has unknown state {state:?}")))?;
        Ok(RunRecord {
            id,
            state,
            started_at,
            ended_at,
            config_digest,
            plan: self.parse_json(&plan, || format!("the plan of run {id}"))?,
            summary: self.parse_json(&summary, || format!("the summary of run {id}"))?,
        })
    }

    /// Records a new run and returns its id.
    pub fn create_run(
        &self,
        plan: &serde_json::Value,
        config_digest: &str,
        state: RunState,
    ) -> Result<RunId, StateError> {
        let conn = self.conn();
        let ended_at = state.is_terminal().then(now);
        conn.execute(
            "INSERT INTO runs (state, started_at, ended_at, config_digest, plan, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, 'null')",
            params![
                state.as_str(),
                now(),
                ended_at,
                config_digest,
                plan.to_string()
            ],
        )
        .map_err(self.sql("record a new run"))?;
        Ok(conn.last_insert_rowid())
    }

    /// Moves a run to `state`. Entering a terminal state sets `ended_at`; entering
    /// a non-terminal one (resuming an interrupted run, starting a rollback of a
    /// finished one) clears it.
    pub fn set_run_state(&self, id: RunId, state: RunState) -> Result<(), StateError> {
        let ended_at = state.is_terminal().then(now);
        let changed = self
            .conn()
            .execute(
                "UPDATE runs SET state = ?1, ended_at = ?2 WHERE id = ?3",
                params![state.as_str(), ended_at, id],
            )
            .map_err(self.sql("update the state of a run"))?;
        ensure_run(changed, id)
    }

    /// Stores the run's summary (counts, durations...), replacing any previous one.
    pub fn set_run_summary(
        &self,
        id: RunId,
        summary: &serde_json::Value,
    ) -> Result<(), StateError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE runs SET summary = ?1 WHERE id = ?2",
                params![summary.to_string(), id],
            )
            .map_err(self.sql("store the summary of a run"))?;
        ensure_run(changed, id)
    }

    /// Replaces the run's plan (e.g. once adoption decisions are made).
    pub fn set_run_plan(&self, id: RunId, plan: &serde_json::Value) -> Result<(), StateError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE runs SET plan = ?1 WHERE id = ?2",
                params![plan.to_string(), id],
            )
            .map_err(self.sql("store the plan of a run"))?;
        ensure_run(changed, id)
    }

    /// The run `id`, or `None` if there is no such run.
    pub fn run(&self, id: RunId) -> Result<Option<RunRecord>, StateError> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                raw_run,
            )
            .optional()
            .map_err(self.sql("read a run"))?;
        raw.map(|raw| self.run_record(raw)).transpose()
    }

    /// All runs, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StateError> {
        let raws = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id"))
                .map_err(self.sql("list the runs"))?;
            let rows = stmt
                .query_map([], raw_run)
                .map_err(self.sql("list the runs"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(self.sql("list the runs"))?
        };
        raws.into_iter().map(|raw| self.run_record(raw)).collect()
    }

    /// Marks runs left `Running` or `RollingBack` by a process that died as
    /// `Interrupted` and returns their ids, oldest first.
    ///
    /// Only correct while holding [`State::lock`]: without it, a live process's
    /// run would be marked too.
    pub fn mark_interrupted(&self) -> Result<Vec<RunId>, StateError> {
        let mut conn = self.conn();
        let tx = self.write_tx(&mut conn)?;
        let ids = {
            let mut stmt = tx
                .prepare("SELECT id FROM runs WHERE state IN (?1, ?2) ORDER BY id")
                .map_err(self.sql("find interrupted runs"))?;
            let rows = stmt
                .query_map(
                    [RunState::Running.as_str(), RunState::RollingBack.as_str()],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(self.sql("find interrupted runs"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(self.sql("find interrupted runs"))?
        };
        tx.execute(
            "UPDATE runs SET state = ?1, ended_at = ?2 WHERE state IN (?3, ?4)",
            params![
                RunState::Interrupted.as_str(),
                now(),
                RunState::Running.as_str(),
                RunState::RollingBack.as_str()
            ],
        )
        .map_err(self.sql("mark runs as interrupted"))?;
        tx.commit().map_err(self.sql("mark runs as interrupted"))?;
        Ok(ids)
    }
}

fn ensure_run(changed: usize, id: RunId) -> Result<(), StateError> {
    if changed == 0 {
        Err(StateError::UnknownRun(id))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn open() -> (tempfile::TempDir, State) {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        (tmp, state)
    }

    #[test]
    fn state_names_round_trip_and_match_serde() {
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            let back: RunState = serde_json::from_value(json!(s.as_str())).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(RunState::RollbackFailed.as_str(), "rollback_failed");
        assert_eq!(RunState::parse("nope"), None);
    }

    #[test]
    fn run_lifecycle() {
        let (_tmp, state) = open();
        let plan = json!({"steps": [{"op": "create", "kind": "vpc"}]});
        let id = state
            .create_run(&plan, "sha256:abc", RunState::Planned)
            .unwrap();

        let run = state.run(id).unwrap().unwrap();
        assert_eq!(run.id, id);
        assert_eq!(run.state, RunState::Planned);
        assert_eq!(run.plan, plan);
        assert_eq!(run.config_digest, "sha256:abc");
        assert_eq!(run.summary, serde_json::Value::Null);
        assert_eq!(run.ended_at, None);
        assert!(chrono::DateTime::parse_from_rfc3339(&run.started_at).is_ok());
        assert!(run.started_at.ends_with('Z'), "{}", run.started_at);

        state.set_run_state(id, RunState::Running).unwrap();
        assert_eq!(state.run(id).unwrap().unwrap().ended_at, None);

        let new_plan = json!({"steps": []});
        state.set_run_plan(id, &new_plan).unwrap();
        state.set_run_summary(id, &json!({"created": 3})).unwrap();
        state.set_run_state(id, RunState::Succeeded).unwrap();
        let run = state.run(id).unwrap().unwrap();
        assert_eq!(run.state, RunState::Succeeded);
        assert_eq!(run.plan, new_plan);
        assert_eq!(run.summary, json!({"created": 3}));
        assert!(run.ended_at.is_some());

        // Rolling back a finished run reopens it.
        state.set_run_state(id, RunState::RollingBack).unwrap();
        assert_eq!(state.run(id).unwrap().unwrap().ended_at, None);
        state.set_run_state(id, RunState::RolledBack).unwrap();
        let run = state.run(id).unwrap().unwrap();
        assert_eq!(run.state, RunState::RolledBack);
        assert!(run.ended_at.is_some());
    }

    #[test]
    fn runs_are_listed_oldest_first() {
        let (_tmp, state) = open();
        let a = state.create_run(&json!(1), "a", RunState::Planned).unwrap();
        let b = state.create_run(&json!(2), "b", RunState::Running).unwrap();
        let c = state.create_run(&json!(3), "c", RunState::Failed).unwrap();
        assert!(a < b && b < c);
        let runs = state.runs().unwrap();
        let ids: Vec<_> = runs.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![a, b, c]);
        assert_eq!(runs[2].state, RunState::Failed);
        assert!(runs[2].ended_at.is_some(), "created terminal: ended_at set");
    }

    #[test]
    fn unknown_run_is_reported() {
        let (_tmp, state) = open();
        assert!(state.run(42).unwrap().is_none());
        assert!(matches!(
            state.set_run_state(42, RunState::Running),
            Err(StateError::UnknownRun(42))
        ));
        assert!(matches!(
            state.set_run_summary(42, &json!({})),
            Err(StateError::UnknownRun(42))
        ));
        assert!(matches!(
            state.set_run_plan(42, &json!({})),
            Err(StateError::UnknownRun(42))
        ));
    }

    #[test]
    fn mark_interrupted_only_touches_active_runs() {
        let (_tmp, state) = open();
        let planned = state
            .create_run(&json!({}), "d", RunState::Planned)
            .unwrap();
        let running = state
            .create_run(&json!({}), "d", RunState::Running)
            .unwrap();
        let done = state
            .create_run(&json!({}), "d", RunState::Succeeded)
            .unwrap();
        let rolling = state
            .create_run(&json!({}), "d", RunState::Running)
            .unwrap();
        state.set_run_state(rolling, RunState::RollingBack).unwrap();

        assert_eq!(state.mark_interrupted().unwrap(), vec![running, rolling]);
        for id in [running, rolling] {
            let run = state.run(id).unwrap().unwrap();
            assert_eq!(run.state, RunState::Interrupted);
            assert!(run.ended_at.is_some());
        }
        assert_eq!(
            state.run(planned).unwrap().unwrap().state,
            RunState::Planned
        );
        assert_eq!(state.run(done).unwrap().unwrap().state, RunState::Succeeded);
        assert!(state.mark_interrupted().unwrap().is_empty());

        // Resuming clears ended_at.
        state.set_run_state(running, RunState::Running).unwrap();
        assert_eq!(state.run(running).unwrap().unwrap().ended_at, None);
    }

    #[test]
    fn runs_survive_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let id = {
            let state = State::open(tmp.path()).unwrap();
            let id = state
                .create_run(&json!({"a": 1}), "d", RunState::Running)
                .unwrap();
            // Simulate a kill: no orderly shutdown of the connection.
            std::mem::forget(state);
            id
        };
        let state = State::open_existing(tmp.path()).unwrap();
        assert_eq!(state.mark_interrupted().unwrap(), vec![id]);
        assert_eq!(state.run(id).unwrap().unwrap().plan, json!({"a": 1}));
    }
}
