//! Temporary grants and scratch resources: AMI launch permissions, snapshot
//! create-volume permissions, KMS grants, images and keys made only to carry
//! data across. Each is recorded before it is made and closed once withdrawn,
//! so an apply that dies halfway, or a rollback, can withdraw what is left
//! (ARCHITECTURE.md invariant 6). `what` is the adapter's own JSON description.

use rusqlite::params;

use crate::db::now;
use crate::mapping::is_foreign_key_violation;
use crate::{RunId, State, StateError};

/// One temporary that has not been withdrawn yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TemporaryEntry {
    pub id: i64,
    pub run_id: RunId,
    /// "source" or "destination".
    pub side: String,
    pub what: serde_json::Value,
    pub opened_at: String,
}

impl State {
    /// Records a temporary about to be made; returns its id for [`State::temporary_closed`].
    pub fn temporary_opened(
        &self,
        run_id: RunId,
        side: &str,
        what: &serde_json::Value,
    ) -> Result<i64, StateError> {
        let conn = self.conn();
        let result = conn.execute(
            "INSERT INTO temporaries (run_id, side, what, opened_at) VALUES (?1, ?2, ?3, ?4)",
            params![run_id, side, what.to_string(), now()],
        );
        match result {
            Ok(_) => Ok(conn.last_insert_rowid()),
            Err(e) if is_foreign_key_violation(&e) => Err(StateError::UnknownRun(run_id)),
            Err(e) => Err(self.sql("record a temporary grant")(e)),
        }
    }

    /// Marks a temporary withdrawn. Closing twice is not an error.
    pub fn temporary_closed(&self, id: i64) -> Result<(), StateError> {
        self.conn()
            .execute(
                "UPDATE temporaries SET closed_at = ?2 WHERE id = ?1 AND closed_at IS NULL",
                params![id, now()],
            )
            .map_err(self.sql("close a temporary grant"))?;
        Ok(())
    }

    /// Temporaries not withdrawn yet, of one run or of all runs, oldest first.
    pub fn temporaries_open(
        &self,
        run_id: Option<RunId>,
    ) -> Result<Vec<TemporaryEntry>, StateError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, run_id, side, what, opened_at FROM temporaries
                 WHERE closed_at IS NULL AND (?1 IS NULL OR run_id = ?1) ORDER BY id",
            )
            .map_err(self.sql("read temporary grants"))?;
        let rows = stmt
            .query_map([run_id], |row| {
                let what: String = row.get(3)?;
                Ok(TemporaryEntry {
                    id: row.get(0)?,
                    run_id: row.get(1)?,
                    side: row.get(2)?,
                    what: serde_json::from_str(&what).unwrap_or(serde_json::Value::String(what)),
                    opened_at: row.get(4)?,
                })
            })
            .map_err(self.sql("read temporary grants"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.sql("read temporary grants"))
    }
}

#[cfg(test)]
mod tests {
    use crate::State;
    use serde_json::json;

    #[test]
    fn temporaries_are_listed_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let s = State::open(dir.path()).unwrap();
        let run = s
            .create_run(&json!({}), "digest", crate::RunState::Running)
            .unwrap();
        let a = s
            .temporary_opened(run, "source", &json!({"type": "image_launch_permission"}))
            .unwrap();
        let b = s
            .temporary_opened(run, "source", &json!({"type": "kms_grant"}))
            .unwrap();
        assert_eq!(s.temporaries_open(Some(run)).unwrap().len(), 2);
        s.temporary_closed(a).unwrap();
        s.temporary_closed(a).unwrap();
        let open = s.temporaries_open(None).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, b);
        assert_eq!(open[0].what["type"], "kms_grant");
        assert!(s.temporaries_open(Some(run + 1)).unwrap().is_empty());
        assert!(s.temporary_opened(run + 7, "source", &json!({})).is_err());
    }
}
