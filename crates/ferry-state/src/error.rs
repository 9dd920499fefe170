//! The one error type of this crate.
//!
//! Every message names what went wrong, where (the path of the state directory or
//! file), and what the user can do about it, because these errors end up printed by
//! the CLI as-is.

use std::path::PathBuf;

use crate::RunId;

/// Everything that can go wrong while reading or writing the state directory.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A read-only command was pointed at a state directory that was never created.
    #[error(
        "no ferry state at {path}: the directory or its state.db does not exist; \
         run `ferry discover` or `ferry apply` first, or pass the right --state-dir"
    )]
    Missing { path: PathBuf },

    /// The database exists but cannot be trusted. ferry never resets it: the file may
    /// be the only record of what ferry created in the destination account.
    #[error(
        "state database {path} is unreadable or corrupt ({detail}); ferry will not reset it: \
         restore the file from a backup, or move it aside to start with empty state \
         (resources already created would then have to be adopted or cleaned up by hand)"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// Another ferry process holds the state directory lock.
    #[error("state directory {path} is locked by another ferry ({holder}); wait for it to finish")]
    Locked { path: PathBuf, holder: String },

    /// A filesystem operation on the state directory failed.
    #[error("could not {action} {path}: {source}; check that the path is writable and the disk is not full")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A SQLite statement failed on an otherwise healthy database.
    #[error(
        "state database {path}: could not {action}: {source}; \
         if this persists, check the disk and that no other program writes to the file"
    )]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// The caller referred to a run id that is not in the state database.
    #[error("no run with id {0} in the state database; list the known runs with `ferry runs`")]
    UnknownRun(RunId),

    /// The caller referred to a journal entry that does not exist.
    #[error(
        "no journal entry with seq {seq} in state database {path}; \
         this is a bug in ferry, please report it"
    )]
    UnknownJournalEntry { seq: i64, path: PathBuf },
}

impl StateError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StateError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
