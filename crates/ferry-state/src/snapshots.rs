//! Snapshots: what `discover` saw on each side (source, destination), as JSON.
//!
//! Only the newest [`SNAPSHOT_RETENTION`] per side are kept: an inventory can be
//! large, and older ones are only useful for a short look back.

use rusqlite::{params, OptionalExtension};

use crate::db::now;
use crate::{State, StateError};

/// How many snapshots are kept per side.
pub const SNAPSHOT_RETENTION: i64 = 20;

/// One stored snapshot.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnapshotRecord {
    /// Increasing across all sides; the newest snapshot has the highest id.
    pub id: i64,
    /// "source" or "destination" (free text for this crate).
    pub side: String,
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub data: serde_json::Value,
}

impl State {
    /// Stores a snapshot of `side`, drops that side's snapshots beyond the newest
    /// [`SNAPSHOT_RETENTION`], and returns the new snapshot's id.
    pub fn save_snapshot(&self, side: &str, data: &serde_json::Value) -> Result<i64, StateError> {
        let mut conn = self.conn();
        let tx = self.write_tx(&mut conn)?;
        tx.execute(
            "INSERT INTO snapshots (side, taken_at, data) VALUES (?1, ?2, ?3)",
            params![side, now(), data.to_string()],
        )
        .map_err(self.sql("store a snapshot"))?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM snapshots WHERE side = ?1 AND id NOT IN
                (SELECT id FROM snapshots WHERE side = ?1 ORDER BY id DESC LIMIT ?2)",
            params![side, SNAPSHOT_RETENTION],
        )
        .map_err(self.sql("drop old snapshots"))?;
        tx.commit().map_err(self.sql("store a snapshot"))?;
        Ok(id)
    }

    /// The newest snapshot of `side`, if any.
    pub fn latest_snapshot(&self, side: &str) -> Result<Option<SnapshotRecord>, StateError> {
        let raw: Option<(i64, String, String)> = self
            .conn()
            .query_row(
                "SELECT id, taken_at, data FROM snapshots WHERE side = ?1
                 ORDER BY id DESC LIMIT 1",
                [side],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(self.sql("read the latest snapshot"))?;
        raw.map(|(id, taken_at, data)| {
            Ok(SnapshotRecord {
                id,
                side: side.to_string(),
                taken_at,
                data: self.parse_json(&data, || format!("snapshot {id}"))?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn count(state: &State, side: &str) -> i64 {
        state
            .conn()
            .query_row(
                "SELECT count(*) FROM snapshots WHERE side = ?1",
                [side],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn latest_snapshot_per_side() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        assert!(state.latest_snapshot("source").unwrap().is_none());

        let s1 = state.save_snapshot("source", &json!({"vpcs": 1})).unwrap();
        let d1 = state
            .save_snapshot("destination", &json!({"vpcs": 0}))
            .unwrap();
        let s2 = state.save_snapshot("source", &json!({"vpcs": 2})).unwrap();
        assert!(s1 < d1 && d1 < s2);

        let latest = state.latest_snapshot("source").unwrap().unwrap();
        assert_eq!(latest.id, s2);
        assert_eq!(latest.side, "source");
        assert_eq!(latest.data, json!({"vpcs": 2}));
        assert!(chrono::DateTime::parse_from_rfc3339(&latest.taken_at).is_ok());
        let dest = state.latest_snapshot("destination").unwrap().unwrap();
        assert_eq!((dest.id, dest.data), (d1, json!({"vpcs": 0})));
    }

    #[test]
    fn twenty_first_save_drops_the_oldest_of_that_side_only() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let dest = state.save_snapshot("destination", &json!("d")).unwrap();
        let ids: Vec<i64> = (0..SNAPSHOT_RETENTION)
            .map(|i| state.save_snapshot("source", &json!(i)).unwrap())
            .collect();
        assert_eq!(count(&state, "source"), SNAPSHOT_RETENTION);

        let newest = state.save_snapshot("source", &json!("21st")).unwrap();
        assert_eq!(count(&state, "source"), SNAPSHOT_RETENTION);
        let oldest_left: i64 = state
            .conn()
            .query_row(
                "SELECT min(id) FROM snapshots WHERE side = 'source'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            oldest_left, ids[1],
            "the oldest source snapshot was dropped"
        );
        assert_eq!(state.latest_snapshot("source").unwrap().unwrap().id, newest);
        assert_eq!(count(&state, "destination"), 1);
        assert_eq!(
            state.latest_snapshot("destination").unwrap().unwrap().id,
            dest
        );
    }
}
