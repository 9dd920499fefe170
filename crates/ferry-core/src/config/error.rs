//! Where a problem in ferry.toml is: [`ConfigError`] and its
//! `ferry.toml:LINE:COLUMN` form, the [`Locator`] that turns byte offsets into
//! lines and columns, and toml's own messages reworded in ferry.toml's
//! vocabulary, with hints for the mistakes people actually make.

use std::path::{Path, PathBuf};

use super::side::SIDE_KEYS;

/// A problem with ferry.toml, located so the user can go straight to it.
///
/// Positions are 1-based; `column` counts characters, as editors do. Errors
/// that have no place in the file (a missing table, an unreadable file) have
/// no line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {}{}", path.display(), location(*line, *column), message, hint_line(hint))]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

fn hint_line(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

/// The text being parsed and its path, to turn byte offsets into located
/// [`ConfigError`]s.
#[derive(Clone, Copy)]
pub(super) struct Locator<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
}

impl Locator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(super) fn at(&self, offset: usize, message: String, hint: Option<String>) -> ConfigError {
        let (line, column) = self.line_col(offset);
        ConfigError {
            path: self.path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message,
            hint,
        }
    }

    pub(super) fn nowhere(&self, message: String, hint: Option<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: None,
            column: None,
            message,
            hint,
        }
    }

    /// Uses only toml's message and span, never its `Display`, which quotes
    /// the source line and could therefore repeat something sensitive.
    pub(super) fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let raw = e.message().trim();
        let (message, hint) = explain_toml_message(raw);
        match e.span() {
            Some(span) => self.at(span.start, message, hint),
            None => self.nowhere(message, hint),
        }
    }
}

/// Rewords serde's messages into TOML vocabulary ("key", not "field") and adds
/// a hint for the mistakes people actually make.
fn explain_toml_message(raw: &str) -> (String, Option<String>) {
    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let names = backticked(raw);
        let hint = names.split_first().and_then(|(unknown, expected)| {
            if expected.contains(&"burst") && expected.contains(&"per_second") {
                Some(
                    "quote rate limit keys, which contain a dot: \
                     \"ec2.mutating\" = { burst = 50, per_second = 5.0 }"
                        .to_string(),
                )
            } else if expected.contains(&"source") && SIDE_KEYS.contains(unknown) {
                Some(format!(
                    "`{unknown}` belongs in the [source] or [destination] table"
                ))
            } else {
                did_you_mean(unknown, expected)
            }
        });
        return (format!("unknown key {rest}"), hint);
    }
    if let Some(rest) = raw.strip_prefix("missing field ") {
        return (format!("missing key {rest}"), None);
    }
    if raw.starts_with("invalid type:") {
        // serde's vocabulary is Rust's; say it in TOML's.
        let message = raw
            .replace(", expected a map", ", expected a table")
            .replace(", expected a sequence", ", expected a list")
            .replace(", expected i64", ", expected an integer")
            .replace(", expected f64", ", expected a number");
        let scalar = ["boolean", "integer", "floating point"]
            .iter()
            .any(|t| raw.starts_with(&format!("invalid type: {t} ")));
        let hint = if raw.starts_with("invalid type: map") && message.ends_with("a bucket name") {
            Some(
                "quote source bucket names that contain a dot, which TOML otherwise reads \
                 as a nested table: \"assets.example.com\" = \"assets-copy\""
                    .to_string(),
            )
        } else if scalar
            && (message.ends_with("expected a string") || message.ends_with("a bucket name"))
        {
            Some("quote the value: TOML strings are written in double quotes".to_string())
        } else if message.ends_with("expected a list") {
            Some("write a list, e.g. [\"vpc\", \"s3\"]".to_string())
        } else if message.ends_with("expected a boolean") {
            Some("write true or false, without quotes".to_string())
        } else {
            None
        };
        return (message, hint);
    }
    (raw.to_string(), None)
}

fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "did you mean `ec2`?" when `word` is a near miss of one of `candidates`.
pub(super) fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    #[test]
    fn display_matches_the_documented_format() {
        let e = assert_err(
            "[source]\n\n\nregion = \"us-east\"\n",
            4,
            10,
            "invalid region",
        );
        assert_eq!(
            e.to_string(),
            "ferry.toml:4:10: invalid region \"us-east\": expected a name like us-east-1 or eu-west-2"
        );
        let e = ConfigError {
            hint: Some("do this".into()),
            ..e
        };
        assert_eq!(
            e.to_string(),
            "ferry.toml:4:10: invalid region \"us-east\": expected a name like us-east-1 or eu-west-2\n  hint: do this"
        );
        let e = ConfigError {
            line: None,
            column: None,
            ..e
        };
        assert!(e.to_string().starts_with("ferry.toml: invalid region"));
    }

    #[test]
    fn syntax_error_is_located() {
        let e = assert_err("[source\nregion = \"us-east-1\"\n", 1, 8, "expected `]`");
        assert_eq!(e.path, PathBuf::from("ferry.toml"));
        assert_err("[source]\nregion = \"us-east-1\n", 2, 20, "string");
        assert_err(
            &with("[apply]\nconcurrency = 1\nconcurrency = 2\n"),
            7,
            1,
            "duplicate key",
        );
    }

    #[test]
    fn unknown_keys_list_expected_keys() {
        let e = assert_err(
            &format!("bogus = 1\n{MINIMAL}"),
            1,
            1,
            "unknown key `bogus`",
        );
        assert!(e.message.contains("`source`") && e.message.contains("`apply`"));

        let e = assert_err(
            "[source]\nregion = \"us-east-1\"\nrole_rn = \"x\"\n",
            3,
            1,
            "unknown key `role_rn`",
        );
        assert!(e.message.contains("`role_arn`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `role_arn`?"));

        let e = assert_err(
            &format!("region = \"us-east-1\"\n{MINIMAL}"),
            1,
            1,
            "`region`",
        );
        assert!(e.hint.unwrap().contains("[source] or [destination]"));

        let e = assert_err(
            &with("[naming]\nbucket_names = {}\n"),
            6,
            1,
            "unknown key `bucket_names`",
        );
        assert!(e.message.contains("`buckets`"), "{e}");
        let e = assert_err(&with("[s3]\nworker = 8\n"), 6, 1, "unknown key `worker`");
        assert!(e.message.contains("`batch_bytes`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `workers`?"));
        assert_err(
            &with("[scope]\nincluded = []\n"),
            6,
            1,
            "unknown key `included`",
        );
        assert_err(
            &with("[apply]\nconcurency = 3\n"),
            6,
            1,
            "unknown key `concurency`",
        );
        assert_err(
            &with("[apply.rate_limits]\n\"ec2.mutating\" = { burst = 1, per_second = 1, x = 1 }\n"),
            6,
            47,
            "unknown key `x`",
        );
    }

    #[test]
    fn unquoted_dotted_rate_limit_key_gets_a_hint() {
        let e = assert_err(
            &with("[apply.rate_limits]\nec2.mutating = { burst = 1, per_second = 1 }\n"),
            6,
            5,
            "unknown key `mutating`",
        );
        assert!(e.hint.unwrap().contains("quote"));
    }

    #[test]
    fn wrong_types_are_located() {
        let e = assert_err("[source]\nregion = 5\n", 2, 10, "invalid type: integer `5`");
        assert!(e.hint.unwrap().contains("quote"));
        let e = assert_err(
            &with("[scope]\ninclude = \"vpc\"\n"),
            6,
            11,
            "invalid type: string \"vpc\", expected a list",
        );
        assert!(e.hint.unwrap().contains("list"));
        let e = assert_err(
            &with("[apply]\nconcurrency = \"8\"\n"),
            6,
            15,
            "invalid type: string \"8\", expected an integer",
        );
        assert_eq!(e.hint, None);
        assert_err(
            &with("[apply]\nrate_limits = 3\n"),
            6,
            15,
            "invalid type: integer `3`, expected a table",
        );
        let e = assert_err(
            &with("[apply.rate_limits]\n\"ec2.x\" = { burst = 1.5, per_second = 1 }\n"),
            6,
            21,
            "expected an integer",
        );
        assert_eq!(e.hint, None);
        let e = assert_err(
            &format!("{MINIMAL}\n  [[scope]]\ninclude = []\n"),
            6,
            5,
            "`[[scope]]` declares an array of tables",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("write `[scope]` with single brackets")
        );
        let e = assert_err(
            &format!("naming = 3\n{MINIMAL}"),
            1,
            10,
            "invalid type: integer `3`",
        );
        assert!(e.message.ends_with("expected a table"), "{e}");
    }
}
