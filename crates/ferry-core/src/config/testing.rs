//! Helpers shared by the tables' tests: a minimal valid file, and
//! assertions on where an error is and what it says.

use std::path::Path;

use super::{Config, ConfigError};

pub(super) const MINIMAL: &str =
    "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"eu-west-1\"\n";

pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("ferry.toml"))
}

pub(super) fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

/// Asserts the error position and that the message contains `needle`.
#[track_caller]
pub(super) fn assert_err(text: &str, line: usize, column: usize, needle: &str) -> ConfigError {
    let e = err(text);
    assert_eq!(
        (e.line, e.column),
        (Some(line), Some(column)),
        "wrong position for: {e}"
    );
    assert!(e.message.contains(needle), "{needle:?} not in: {e}");
    e
}

/// MINIMAL with extra lines appended (starting at line 5).
pub(super) fn with(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

/// MINIMAL with one more line in [source] (line 3).
pub(super) fn side_with(line: &str) -> String {
    format!("[source]\nregion = \"us-east-1\"\n{line}\n[destination]\nregion = \"eu-west-1\"\n")
}
