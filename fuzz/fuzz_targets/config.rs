//! ferry.toml parsing (`Config::parse`): never panics, and
//! - an error's line and column point into the text (1-based; the column
//!   counts characters, one past the end of the line at most);
//! - a credential is never echoed: when the marker secret below only appears
//!   as the value of a credential key, no error message contains it;
//! - parsing is deterministic: the same text gives the same digest.
#![no_main]

use ferry_core::config::Config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// In fuzz/dict/config.dict as `aws_secret_access_key = "<SECRET>"`.
const SECRET: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY";
const CREDENTIAL_KEYS: &[&str] = &["secret_access_key", "session_token", "secret_key"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("ferry.toml");
    match Config::parse(text, path) {
        Ok(config) => {
            let again = Config::parse(text, path).expect("parsed once, parses again");
            assert_eq!(config.digest(), again.digest());
        }
        Err(e) => {
            let shown = e.to_string();
            if let Some(line) = e.line {
                let lines: Vec<&str> = text.split('\n').collect();
                assert!(
                    line >= 1 && line <= lines.len(),
                    "line {line} outside 1..={}: {shown}",
                    lines.len()
                );
                if let Some(column) = e.column {
                    let width = lines[line - 1].chars().count();
                    assert!(
                        column >= 1 && column <= width + 1,
                        "column {column} outside 1..={}: {shown}",
                        width + 1
                    );
                }
            }
            // Every occurrence is the quoted value of a credential key that
            // starts its line.
            let only_as_credential = text.match_indices(SECRET).all(|(i, _)| {
                let line = &text[text[..i].rfind('\n').map_or(0, |n| n + 1)..i];
                CREDENTIAL_KEYS.iter().any(|k| {
                    line.ends_with(&format!("{k} = \"")) && line.trim_start().len() <= k.len() + 8
                })
            });
            if text.contains(SECRET) && only_as_credential {
                assert!(!shown.contains(SECRET), "a credential was echoed: {shown}");
            }
        }
    }
});
