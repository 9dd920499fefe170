//! The journal: write-ahead record of every mutation ferry makes in AWS.
//!
//! The engine writes an intent before each AWS call and marks it done or failed
//! after. An entry still at `Intent` after a crash is an AWS call whose outcome is
//! unknown: resume looks the resource up by its ferry tags before retrying, which
//! is how a killed run finishes with no duplicate and no orphan. Each write is
//! committed before the method returns.

use rusqlite::{params, OptionalExtension};

use crate::db::now;
use crate::mapping::is_foreign_key_violation;
use crate::{RunId, State, StateError};

/// Where a journalled operation got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStatus {
    /// Written before the AWS call; the outcome is unknown until done/failed.
    Intent,
    Done,
    Failed,
}

impl JournalStatus {
    /// The stored name, the same as the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalStatus::Intent => "intent",
            JournalStatus::Done => "done",
            JournalStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JournalStatus> {
        [
            JournalStatus::Intent,
            JournalStatus::Done,
            JournalStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

impl std::fmt::Display for JournalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One journalled operation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalEntry {
    /// Increasing across all runs: the order operations were started in, which
    /// rollback reverses.
    pub seq: i64,
    pub run_id: RunId,
    /// RFC 3339, UTC: when the entry reached its current status.
    pub ts: String,
    /// The plan node this operation belongs to.
    pub node: String,
    /// The stable name of a `ferry_core::protocol::JournalOp` (create,
    /// adopt, converge, delete, restore): this crate stores names, the engine
    /// and the dashboard read them back through that enum.
    pub op: String,
    pub kind: String,
    pub source_key: String,
    pub status: JournalStatus,
    pub dest_id: Option<String>,
    /// The intent's detail, with the done detail's keys merged over it.
    pub detail: serde_json::Value,
    pub error: Option<String>,
}

type RawEntry = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// Merges `update` over `base`: object keys from `update` win, a `Null` update
/// keeps `base`, anything else replaces it. Keeps what the intent recorded (e.g.
/// the request) next to what the result added (e.g. the response).
fn merge_detail(base: serde_json::Value, update: &serde_json::Value) -> serde_json::Value {
    match (base, update) {
        (base, serde_json::Value::Null) => base,
        (serde_json::Value::Object(mut base), serde_json::Value::Object(update)) => {
            for (k, v) in update {
                base.insert(k.clone(), v.clone());
            }
            serde_json::Value::Object(base)
        }
        (_, update) => update.clone(),
    }
}

impl State {
    /// Records the intent to perform `op` on `source_key` and returns the entry's
    /// `seq`, to be passed to [`State::journal_done`] or [`State::journal_failed`].
    pub fn journal_intent(
        &self,
        run_id: RunId,
        node: &str,
        op: &str,
        kind: &str,
        source_key: &str,
        detail: &serde_json::Value,
    ) -> Result<i64, StateError> {
        let conn = self.conn();
        let result = conn.execute(
            "INSERT INTO journal (run_id, ts, node, op, kind, source_key, status, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                run_id,
                now(),
                node,
                op,
                kind,
                source_key,
                JournalStatus::Intent.as_str(),
                detail.to_string()
            ],
        );
        match result {
            Ok(_) => Ok(conn.last_insert_rowid()),
            Err(e) if is_foreign_key_violation(&e) => Err(StateError::UnknownRun(run_id)),
            Err(e) => Err(self.sql("write a journal intent")(e)),
        }
    }

    /// Marks entry `seq` done, with the destination id it produced (if any).
    /// `detail` is merged over the intent's detail (see [`JournalEntry::detail`]).
    pub fn journal_done(
        &self,
        seq: i64,
        dest_id: Option<&str>,
        detail: &serde_json::Value,
    ) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = self.write_tx(&mut conn)?;
        let old: Option<String> = tx
            .query_row("SELECT detail FROM journal WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql("read a journal entry"))?;
        let old = old.ok_or_else(|| StateError::UnknownJournalEntry {
            seq,
            path: self.db_path().to_path_buf(),
        })?;
        let old = self.parse_json(&old, || format!("the detail of journal entry {seq}"))?;
        let merged = merge_detail(old, detail);
        tx.execute(
            "UPDATE journal SET status = ?1, ts = ?2, dest_id = ?3, detail = ?4, error = NULL
             WHERE seq = ?5",
            params![
                JournalStatus::Done.as_str(),
                now(),
                dest_id,
                merged.to_string(),
                seq
            ],
        )
        .map_err(self.sql("mark a journal entry done"))?;
        tx.commit().map_err(self.sql("mark a journal entry done"))
    }

    /// Marks entry `seq` failed with `error` (the message shown to the user).
    pub fn journal_failed(&self, seq: i64, error: &str) -> Result<(), StateError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE journal SET status = ?1, ts = ?2, error = ?3 WHERE seq = ?4",
                params![JournalStatus::Failed.as_str(), now(), error, seq],
            )
            .map_err(self.sql("mark a journal entry failed"))?;
        if changed == 0 {
            return Err(StateError::UnknownJournalEntry {
                seq,
                path: self.db_path().to_path_buf(),
            });
        }
        Ok(())
    }

    /// The journal of `run_id`, in the order the operations were started.
    pub fn journal(&self, run_id: RunId) -> Result<Vec<JournalEntry>, StateError> {
        let raws: Vec<RawEntry> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT seq, run_id, ts, node, op, kind, source_key, status, dest_id,
                            detail, error
                     FROM journal WHERE run_id = ?1 ORDER BY seq",
                )
                .map_err(self.sql("read the journal"))?;
            let rows = stmt
                .query_map([run_id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                })
                .map_err(self.sql("read the journal"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(self.sql("read the journal"))?
        };
        raws.into_iter()
            .map(
                |(seq, run_id, ts, node, op, kind, source_key, status, dest_id, detail, error)| {
                    let status = JournalStatus::parse(&status).ok_or_else(|| {
                        self.corrupt(format!("journal entry {seq} has unknown status {status:?}"))
                    })?;
                    Ok(JournalEntry {
                        seq,
                        run_id,
                        ts,
                        node,
                        op,
                        kind,
                        source_key,
                        status,
                        dest_id,
                        detail: self
                            .parse_json(&detail, || format!("the detail of journal entry {seq}"))?,
                        error,
                    })
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunState;
    use serde_json::json;

    #[test]
    fn intent_then_done_or_failed_in_seq_order() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let run = state
            .create_run(&json!({}), "d", RunState::Running)
            .unwrap();
        let other = state
            .create_run(&json!({}), "d", RunState::Running)
            .unwrap();

        let a = state
            .journal_intent(
                run,
                "n1",
                "create",
                "vpc",
                "vpc/vpc-1",
                &json!({"cidr": "10.0.0.0/16"}),
            )
            .unwrap();
        let x = state
            .journal_intent(other, "n9", "delete", "vpc", "vpc/vpc-9", &json!(null))
            .unwrap();
        let b = state
            .journal_intent(run, "n2", "create", "subnet", "subnet/subnet-1", &json!({}))
            .unwrap();
        let c = state
            .journal_intent(run, "n3", "grant", "image", "image/ami-1", &json!({}))
            .unwrap();
        assert!(a < x && x < b && b < c);

        // Before any result: all intents, nothing else.
        let j = state.journal(run).unwrap();
        assert!(j
            .iter()
            .all(|e| e.status == JournalStatus::Intent && e.dest_id.is_none()));

        // Results arrive out of order; the journal stays in seq order.
        state
            .journal_failed(b, "AccessDenied on CreateSubnet")
            .unwrap();
        state
            .journal_done(a, Some("vpc-dest1"), &json!({"state": "available"}))
            .unwrap();

        let j = state.journal(run).unwrap();
        let seqs: Vec<i64> = j.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![a, b, c]);

        assert_eq!(j[0].status, JournalStatus::Done);
        assert_eq!(j[0].dest_id.as_deref(), Some("vpc-dest1"));
        assert_eq!(
            j[0].detail,
            json!({"cidr": "10.0.0.0/16", "state": "available"})
        );
        assert_eq!((j[0].node.as_str(), j[0].op.as_str()), ("n1", "create"));
        assert_eq!(
            (j[0].kind.as_str(), j[0].source_key.as_str()),
            ("vpc", "vpc/vpc-1")
        );
        assert_eq!(j[0].run_id, run);
        assert_eq!(j[0].error, None);

        assert_eq!(j[1].status, JournalStatus::Failed);
        assert_eq!(j[1].error.as_deref(), Some("AccessDenied on CreateSubnet"));
        assert_eq!(j[1].dest_id, None);

        assert_eq!(
            j[2].status,
            JournalStatus::Intent,
            "unfinished stays an intent"
        );

        let o = state.journal(other).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].seq, x);
        assert_eq!(o[0].detail, json!(null));
    }

    #[test]
    fn journal_is_durable_across_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let (run, seq) = {
            let state = State::open(tmp.path()).unwrap();
            let run = state
                .create_run(&json!({}), "d", RunState::Running)
                .unwrap();
            let seq = state
                .journal_intent(run, "n", "create", "vpc", "vpc/vpc-1", &json!({}))
                .unwrap();
            std::mem::forget(state); // as if killed before any orderly close
            (run, seq)
        };
        let state = State::open(tmp.path()).unwrap();
        let j = state.journal(run).unwrap();
        assert_eq!(j.len(), 1);
        assert_eq!((j[0].seq, j[0].status), (seq, JournalStatus::Intent));
    }

    #[test]
    fn unknown_run_and_seq_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let err = state
            .journal_intent(5, "n", "create", "vpc", "vpc/vpc-1", &json!({}))
            .unwrap_err();
        assert!(matches!(err, StateError::UnknownRun(5)), "{err:?}");

        let err = state.journal_done(99, None, &json!({})).unwrap_err();
        assert!(
            matches!(err, StateError::UnknownJournalEntry { seq: 99, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&tmp.path().display().to_string()));
        let err = state.journal_failed(99, "x").unwrap_err();
        assert!(
            matches!(err, StateError::UnknownJournalEntry { seq: 99, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn merge_detail_rules() {
        assert_eq!(merge_detail(json!({"a": 1}), &json!(null)), json!({"a": 1}));
        assert_eq!(
            merge_detail(json!({"a": 1, "b": 1}), &json!({"b": 2, "c": 3})),
            json!({"a": 1, "b": 2, "c": 3})
        );
        assert_eq!(merge_detail(json!({"a": 1}), &json!([1])), json!([1]));
        assert_eq!(merge_detail(json!(null), &json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn status_serializes_snake_case() {
        assert_eq!(
            serde_json::to_value(JournalStatus::Intent).unwrap(),
            json!("intent")
        );
        for s in [
            JournalStatus::Intent,
            JournalStatus::Done,
            JournalStatus::Failed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            assert_eq!(JournalStatus::parse(s.as_str()), Some(s));
        }
    }
}
