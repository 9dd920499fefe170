//! The mapping from source resources to their destination counterparts.
//!
//! One row per source key ("vpc/vpc-0abc"), replaced when the destination changes.
//! References in specs are resolved through it at create time, and rollback reads
//! `origin` to delete only what ferry created.

use rusqlite::{params, OptionalExtension};

use crate::db::now;
use crate::{RunId, State, StateError};

/// One source resource and what it corresponds to in the destination.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MappingEntry {
    /// "kind/source-id", e.g. "vpc/vpc-0abc".
    pub source_key: String,
    pub kind: String,
    pub dest_id: String,
    /// The stable name of a `ferry_core::protocol::Origin`: "created" (ferry
    /// made it; rollback may delete it), "adopted" (found by ferry's tags) or
    /// "default" (the destination's default resource).
    pub origin: String,
    /// The run that last wrote this entry.
    pub run_id: RunId,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

const MAPPING_COLUMNS: &str = "source_key, kind, dest_id, origin, run_id, updated_at";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<MappingEntry> {
    Ok(MappingEntry {
        source_key: row.get(0)?,
        kind: row.get(1)?,
        dest_id: row.get(2)?,
        origin: row.get(3)?,
        run_id: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

/// Whether a rusqlite error is a FOREIGN KEY constraint failure (the run_id
/// column points at a run that does not exist).
pub(crate) fn is_foreign_key_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    )
}

impl State {
    /// Records (or replaces) the destination of `source_key`. `run_id` must be a
    /// known run.
    pub fn map_put(
        &self,
        source_key: &str,
        kind: &str,
        dest_id: &str,
        origin: &str,
        run_id: RunId,
    ) -> Result<(), StateError> {
        let result = self.conn().execute(
            "INSERT INTO mapping (source_key, kind, dest_id, origin, run_id, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (source_key) DO UPDATE SET
                kind = excluded.kind, dest_id = excluded.dest_id, origin = excluded.origin,
                run_id = excluded.run_id, updated_at = excluded.updated_at",
            params![source_key, kind, dest_id, origin, run_id, now()],
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_foreign_key_violation(&e) => Err(StateError::UnknownRun(run_id)),
            Err(e) => Err(self.sql("record a mapping entry")(e)),
        }
    }

    /// The destination of `source_key`, if mapped.
    pub fn map_get(&self, source_key: &str) -> Result<Option<MappingEntry>, StateError> {
        self.conn()
            .query_row(
                &format!("SELECT {MAPPING_COLUMNS} FROM mapping WHERE source_key = ?1"),
                [source_key],
                entry,
            )
            .optional()
            .map_err(self.sql("read a mapping entry"))
    }

    /// The whole mapping, ordered by kind then source key.
    pub fn map_all(&self) -> Result<Vec<MappingEntry>, StateError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {MAPPING_COLUMNS} FROM mapping ORDER BY kind, source_key"
            ))
            .map_err(self.sql("read the mapping"))?;
        let rows = stmt
            .query_map([], entry)
            .map_err(self.sql("read the mapping"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.sql("read the mapping"))
    }

    /// Forgets `source_key`. Removing an unmapped key is not an error, so a
    /// rollback interrupted after the removal can simply be run again.
    pub fn map_remove(&self, source_key: &str) -> Result<(), StateError> {
        self.conn()
            .execute("DELETE FROM mapping WHERE source_key = ?1", [source_key])
            .map_err(self.sql("remove a mapping entry"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunState;

    #[test]
    fn put_get_upsert_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let r1 = state
            .create_run(&serde_json::json!({}), "d", RunState::Running)
            .unwrap();
        let r2 = state
            .create_run(&serde_json::json!({}), "d", RunState::Running)
            .unwrap();
        assert_eq!(state.map_get("vpc/vpc-1").unwrap(), None);

        state
            .map_put("vpc/vpc-1", "vpc", "vpc-d1", "created", r1)
            .unwrap();
        let e = state.map_get("vpc/vpc-1").unwrap().unwrap();
        assert_eq!(
            (
                e.kind.as_str(),
                e.dest_id.as_str(),
                e.origin.as_str(),
                e.run_id
            ),
            ("vpc", "vpc-d1", "created", r1)
        );
        assert!(chrono::DateTime::parse_from_rfc3339(&e.updated_at).is_ok());

        // Upsert: one row per source key, last write wins.
        state
            .map_put("vpc/vpc-1", "vpc", "vpc-d2", "adopted", r2)
            .unwrap();
        let e = state.map_get("vpc/vpc-1").unwrap().unwrap();
        assert_eq!(
            (e.dest_id.as_str(), e.origin.as_str(), e.run_id),
            ("vpc-d2", "adopted", r2)
        );
        assert_eq!(state.map_all().unwrap().len(), 1);

        state.map_remove("vpc/vpc-1").unwrap();
        assert_eq!(state.map_get("vpc/vpc-1").unwrap(), None);
        state.map_remove("vpc/vpc-1").unwrap();
        assert!(state.map_all().unwrap().is_empty());
    }

    #[test]
    fn map_all_is_ordered_by_kind_then_key() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let r = state
            .create_run(&serde_json::json!({}), "d", RunState::Running)
            .unwrap();
        state
            .map_put("vpc/vpc-b", "vpc", "x", "created", r)
            .unwrap();
        state
            .map_put("subnet/subnet-1", "subnet", "x", "created", r)
            .unwrap();
        state
            .map_put("vpc/vpc-a", "vpc", "x", "default", r)
            .unwrap();
        let keys: Vec<String> = state
            .map_all()
            .unwrap()
            .into_iter()
            .map(|e| e.source_key)
            .collect();
        assert_eq!(keys, ["subnet/subnet-1", "vpc/vpc-a", "vpc/vpc-b"]);
    }

    #[test]
    fn put_with_unknown_run_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let err = state
            .map_put("vpc/vpc-1", "vpc", "x", "created", 7)
            .unwrap_err();
        assert!(matches!(err, StateError::UnknownRun(7)), "{err:?}");
        assert_eq!(state.map_get("vpc/vpc-1").unwrap(), None);
    }
}
