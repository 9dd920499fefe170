//! ferry-engine: discover -> plan -> apply -> verify -> rollback. Owns the
//! async DAG executor and the journal discipline around every mutation, and
//! emits [`Event`]s that the CLI (and later the dashboard) render.

pub mod apply;
pub mod context;
pub mod discover;
pub mod error;
pub mod event;
pub mod failpoint;
pub mod notify;
pub mod objects;
pub mod planning;
pub mod rollback;
pub mod run;
pub mod temporaries;
pub mod verify;

#[cfg(test)]
mod tests;

pub use context::Context;
pub use error::EngineError;
pub use event::Event;
