//! ferry-state: the state directory (`.ferry` by default), and the only code that
//! writes to it.
//!
//! It holds one SQLite database (`state.db`: runs, discover snapshots, the
//! source-to-destination mapping and the mutation journal) and a lock file. Kinds
//! and keys are plain strings and documents are `serde_json::Value`, so this crate
//! does not depend on ferry's model and stays quick to build and test.
//!
//! Durability is the point: every method commits before it returns, so a process
//! killed at any instant leaves a journal from which `apply` can finish the run.

mod db;
mod error;
mod journal;
mod lock;
mod mapping;
mod runs;
mod snapshots;
mod temporaries;

pub use db::{State, DB_FILE, SCHEMA_VERSION};
pub use error::StateError;
pub use journal::{JournalEntry, JournalStatus};
pub use lock::{LockGuard, LOCK_FILE};
pub use mapping::MappingEntry;
pub use runs::{RunId, RunRecord, RunState};
pub use snapshots::{SnapshotRecord, SNAPSHOT_RETENTION};
pub use temporaries::TemporaryEntry;
