//! ferry-web: the local dashboard behind `ferry serve`.
//!
//! It shows the runs, a run's plan grouped by service with live progress
//! (from the engine's events for applies it runs itself, from the journal
//! in the state database for applies the CLI runs), the mapping, the verify
//! report, a run's rollback state and the plan's dependency graph, and it
//! can plan, apply (after a confirmation that shows the plan) and verify.
//! It reads the same ferry.toml and credential chain as the CLI, binds
//! loopback by default and answers nobody without its token. Its assets are
//! compiled in: it needs no network besides AWS.

mod app;
pub mod auth;
mod html;
mod pages;
mod server;
mod sse;
pub mod status;
mod svg;

pub use app::Options;
pub use server::{bind, router, serve, ServeError};
