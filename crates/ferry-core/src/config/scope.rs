//! `[scope]`: which kinds and services are replicated, and which source
//! resources are left out by tag or id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::closest;
use super::Checker;

/// What to replicate. Names are kinds or services as understood by
/// `crate::kind::is_scope_name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ScopeConfig {
    /// Empty means every kind ferry supports.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// A source resource carrying any of these tag key/value pairs is skipped.
    pub exclude_tags: BTreeMap<String, String>,
    /// Source ids (or bucket names / ARNs) to skip.
    pub exclude_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawScope {
    include: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    exclude_tags: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    exclude_ids: Option<Vec<Spanned<String>>>,
}

impl Checker<'_> {
    pub(super) fn scope(&mut self, raw: Option<RawScope>) -> ScopeConfig {
        let Some(raw) = raw else {
            return ScopeConfig::default();
        };
        let include = self.scope_names("include", raw.include);
        let exclude = self.scope_names("exclude", raw.exclude);
        let mut exclude_tags = BTreeMap::new();
        for (key, value) in raw.exclude_tags.unwrap_or_default() {
            if key.get_ref().is_empty() {
                self.error_at(
                    key.span().start,
                    "tag keys in scope.exclude_tags must not be empty".to_string(),
                    None,
                );
            }
            exclude_tags.insert(key.into_inner(), value.into_inner());
        }
        let mut exclude_ids = Vec::new();
        for id in raw.exclude_ids.unwrap_or_default() {
            if id.get_ref().trim().is_empty() {
                self.error_at(
                    id.span().start,
                    "entries of scope.exclude_ids must not be empty".to_string(),
                    None,
                );
            }
            exclude_ids.push(id.into_inner());
        }
        ScopeConfig {
            include,
            exclude,
            exclude_tags,
            exclude_ids,
        }
    }

    fn scope_names(&mut self, key: &str, raw: Option<Vec<Spanned<String>>>) -> Vec<String> {
        let mut names = Vec::new();
        for entry in raw.unwrap_or_default() {
            if !crate::kind::is_scope_name(entry.get_ref()) {
                let known = crate::kind::scope_names();
                let hint = closest(entry.get_ref(), &known).map(|c| format!("did you mean {c:?}?"));
                self.error_at(
                    entry.span().start,
                    format!(
                        "unknown kind or service {:?} in scope.{key}: expected one of {}",
                        entry.get_ref(),
                        known.join(", ")
                    ),
                    hint,
                );
            }
            names.push(entry.into_inner());
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn scope_names_are_checked() {
        let e = assert_err(
            &with("[scope]\ninclude = [\"vpc\", \"vpcs\"]\n"),
            6,
            19,
            "unknown kind or service \"vpcs\" in scope.include",
        );
        assert!(
            e.message.contains(&crate::kind::scope_names().join(", ")),
            "{e}"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean \"vpc\"?"));
        assert_err(
            &with("[scope]\nexclude = [\"lambda\"]\n"),
            6,
            12,
            "scope.exclude",
        );
        let e = assert_err(
            &with("[scope]\nexclude_tags = { \"ferry:skip\" = true }\n"),
            6,
            33,
            "invalid type: boolean `true`, expected a string",
        );
        assert!(e.hint.unwrap().contains("quote"));
        assert_err(
            &with("[scope]\nexclude_tags = { \"\" = \"x\" }\n"),
            6,
            18,
            "must not be empty",
        );
        assert_err(
            &with("[scope]\nexclude_ids = [\"\"]\n"),
            6,
            16,
            "must not be empty",
        );
    }
}
