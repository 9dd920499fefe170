//! `[naming]`: the template for destination bucket names and the explicit
//! renames of `[naming.buckets]`. (The names themselves are made by
//! `crate::naming`, from this table.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::closest;
use super::Checker;

/// The default keeps bucket names deterministic, so a re-run after a crash
/// finds the bucket it already created instead of making a second one.
pub const DEFAULT_BUCKET_TEMPLATE: &str = "{name}-{hash6}";

/// Placeholders of `naming.bucket`; anything else is a typo we would otherwise
/// copy literally into a globally visible bucket name.
pub const BUCKET_PLACEHOLDERS: &[&str] = &[
    "name",
    "hash6",
    "account",
    "region",
    "dest_account",
    "dest_region",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamingConfig {
    /// Template for destination bucket names; see [`BUCKET_PLACEHOLDERS`].
    pub bucket: String,
    /// Explicit renames (`[naming.buckets]`): source bucket -> destination
    /// bucket, winning over the template.
    pub buckets: BTreeMap<String, String>,
}

impl Default for NamingConfig {
    fn default() -> Self {
        NamingConfig {
            bucket: DEFAULT_BUCKET_TEMPLATE.to_string(),
            buckets: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawNaming {
    bucket: Option<Spanned<String>>,
    buckets: Option<BTreeMap<Spanned<String>, Spanned<RawBucketName>>>,
}

/// A destination bucket name. Its own type only so that a wrong value says
/// "expected a bucket name", which
/// [`explain_toml_message`](super::error::explain_toml_message) recognises to
/// explain the usual cause: an unquoted source name with a dot, which TOML
/// reads as a nested table.
struct RawBucketName(String);

impl<'de> Deserialize<'de> for RawBucketName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawBucketName;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a bucket name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawBucketName, E> {
                Ok(RawBucketName(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Checker<'_> {
    pub(super) fn naming(&mut self, raw: Option<RawNaming>, same_partition: bool) -> NamingConfig {
        let Some(raw) = raw else {
            return NamingConfig::default();
        };
        let mut naming = NamingConfig::default();
        if let Some(template) = raw.bucket {
            self.bucket_template(&template);
            naming.bucket = template.into_inner();
        }
        naming.buckets = self.bucket_renames(raw.buckets.unwrap_or_default(), same_partition);
        naming
    }

    /// `[naming.buckets]`: every destination a valid bucket name, used once,
    /// and not the name of a listed source bucket (which that bucket holds,
    /// since names are global within a partition).
    fn bucket_renames(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<RawBucketName>>,
        same_partition: bool,
    ) -> BTreeMap<String, String> {
        let sources: Vec<String> = raw.keys().map(|k| k.get_ref().clone()).collect();
        // In file order, so a duplicate is reported where it is repeated.
        let mut entries: Vec<_> = raw.into_iter().collect();
        entries.sort_by_key(|(_, dest)| dest.span().start);
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        let mut renames = BTreeMap::new();
        for (source, dest) in entries {
            let offset = dest.span().start;
            if source.get_ref().is_empty() {
                self.error_at(
                    source.span().start,
                    "source bucket names in [naming.buckets] must not be empty".to_string(),
                    None,
                );
            }
            let source = source.into_inner();
            let dest = dest.into_inner().0;
            if let Err(problem) = crate::naming::valid_bucket_name(&dest) {
                self.error_at(
                    offset,
                    format!(
                        "invalid destination bucket name {dest:?} for {source:?} in [naming.buckets]: {problem}"
                    ),
                    Some(
                        "S3 bucket names are 3 to 63 lowercase letters, digits, '.' and '-', \
                         starting and ending with a letter or digit"
                            .to_string(),
                    ),
                );
            } else if let Some(first) = taken.get(&dest) {
                self.error_at(
                    offset,
                    format!(
                        "source buckets {first:?} and {source:?} both map to {dest:?} in [naming.buckets]"
                    ),
                    Some("a bucket receives one source bucket; give each its own name".to_string()),
                );
            } else if same_partition && sources.contains(&dest) {
                self.error_at(
                    offset,
                    format!(
                        "{source:?} is mapped to {dest:?} in [naming.buckets], \
                         which is the name of a source bucket"
                    ),
                    Some(
                        "bucket names are global within a partition, so the source bucket \
                         keeps that name; choose another"
                            .to_string(),
                    ),
                );
            }
            taken.entry(dest.clone()).or_insert_with(|| source.clone());
            renames.insert(source, dest);
        }
        renames
    }

    fn bucket_template(&mut self, template: &Spanned<String>) {
        let text = template.get_ref().as_str();
        let mut has_identity = false;
        let mut rest = text.char_indices();
        while let Some((i, c)) = rest.next() {
            if c == '{' {
                let Some(len) = text[i + 1..].find('}') else {
                    self.error_at(
                        self.inside(template, i),
                        "unclosed `{` in naming.bucket".to_string(),
                        Some(format!("placeholders are {}", placeholder_list())),
                    );
                    return;
                };
                let name = &text[i + 1..i + 1 + len];
                if BUCKET_PLACEHOLDERS.contains(&name) {
                    has_identity |= name == "name" || name == "hash6";
                } else {
                    let hint = closest(name, BUCKET_PLACEHOLDERS)
                        .map(|c| format!("did you mean {{{c}}}?"))
                        .or_else(|| Some(format!("placeholders are {}", placeholder_list())));
                    self.error_at(
                        self.inside(template, i),
                        format!("unknown placeholder {{{name}}} in naming.bucket"),
                        hint,
                    );
                }
                // Skip to just past the closing brace.
                for _ in 0..=len {
                    rest.next();
                }
            } else if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
                let hint = if c.is_ascii_uppercase() {
                    "S3 bucket names are lowercase".to_string()
                } else {
                    "S3 bucket names may only contain lowercase letters, digits, '.' and '-'"
                        .to_string()
                };
                self.error_at(
                    self.inside(template, i),
                    format!("character {c:?} is not allowed in naming.bucket"),
                    Some(hint),
                );
                return;
            }
        }
        if !has_identity {
            self.error_at(
                template.span().start,
                "naming.bucket must contain {name} or {hash6}".to_string(),
                Some(
                    "bucket names are global: without them every bucket would get the same name"
                        .to_string(),
                ),
            );
        }
    }
}

fn placeholder_list() -> String {
    BUCKET_PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    #[test]
    fn bucket_template_placeholders() {
        let e = assert_err(
            &with("[naming]\nbucket = \"{name}-{acount}\"\n"),
            6,
            18,
            "unknown placeholder {acount} in naming.bucket",
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean {account}?"));
        let e = assert_err(
            &with("[naming]\nbucket = \"{name}-{zzz}\"\n"),
            6,
            18,
            "unknown placeholder {zzz}",
        );
        assert!(e.hint.unwrap().contains("{dest_region}"));
        let e = assert_err(
            &with("[naming]\nbucket = \"copy-{region}\"\n"),
            6,
            10,
            "must contain {name} or {hash6}",
        );
        assert!(e.hint.is_some());
        assert_err(
            &with("[naming]\nbucket = \"{name}-{hash6\"\n"),
            6,
            18,
            "unclosed `{`",
        );
        let e = assert_err(
            &with("[naming]\nbucket = \"My-{name}\"\n"),
            6,
            11,
            "'M' is not allowed",
        );
        assert!(e.hint.unwrap().contains("lowercase"));
        assert_err(
            &with("[naming]\nbucket = \"{name}_x\"\n"),
            6,
            17,
            "'_' is not allowed",
        );
        // With escapes the exact column is unknown; the value's start is used.
        assert_err(
            &with("[naming]\nbucket = \"\\u0041{name}\"\n"),
            6,
            10,
            "'A' is not allowed",
        );
        parse(&with("[naming]\nbucket = \"{hash6}\"\n")).unwrap();
    }

    #[test]
    fn bucket_renames_are_checked() {
        let renames = |lines: &str| with(&format!("[naming.buckets]\n{lines}\n"));
        let c = parse(&renames(
            "\"a.example.com\" = \"a-copy\"\nb = \"b.example.org\"",
        ))
        .unwrap();
        assert_eq!(c.naming.buckets["a.example.com"], "a-copy");
        assert_eq!(c.naming.buckets["b"], "b.example.org");
        // The template keeps its default and its own check.
        assert_eq!(c.naming.bucket, DEFAULT_BUCKET_TEMPLATE);

        let cases = [
            ("ab", "must be 3 to 63 characters long (got 2)"),
            ("My-Bucket", "character 'M' is not allowed"),
            ("my_bucket", "character '_' is not allowed"),
            ("-bucket", "must start with a lowercase letter or a digit"),
            ("bucket.", "must end with a lowercase letter or a digit"),
            ("a..b", "two adjacent periods"),
            ("10.0.0.1", "formatted as an IP address"),
            ("xn--abc", "must not start with \"xn--\""),
            ("sthree-abc", "must not start with \"sthree-\""),
            ("abc-s3alias", "must not end with \"-s3alias\""),
            ("abc--ol-s3", "must not end with \"--ol-s3\""),
        ];
        for (dest, needle) in cases {
            let e = assert_err(&renames(&format!("src = {dest:?}")), 6, 7, needle);
            assert!(
                e.message.starts_with(&format!(
                    "invalid destination bucket name {dest:?} for \"src\" in [naming.buckets]: "
                )),
                "{e}"
            );
            assert!(e.hint.unwrap().contains("3 to 63"));
        }
        let long = "a".repeat(64);
        assert_err(&renames(&format!("src = \"{long}\"")), 6, 7, "(got 64)");

        // The second use of a destination, in file order, is the error.
        let e = assert_err(
            &renames("zeta = \"shared\"\nalpha = \"other\"\nbeta = \"shared\""),
            8,
            8,
            "source buckets \"zeta\" and \"beta\" both map to \"shared\"",
        );
        assert!(e.hint.unwrap().contains("one source bucket"));

        // A source bucket's own name is taken in the same partition...
        let e = assert_err(&renames("logs = \"logs\""), 6, 8, "name of a source bucket");
        assert!(
            e.message.starts_with("\"logs\" is mapped to \"logs\""),
            "{e}"
        );
        assert!(e.hint.unwrap().contains("global within a partition"));
        assert_err(
            &renames("aaa = \"bbb\"\nbbb = \"ccc\""),
            6,
            7,
            "\"aaa\" is mapped to \"bbb\"",
        );
        // ...but free in another partition.
        let other_partition = "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"cn-north-1\"\n[naming.buckets]\nlogs = \"logs\"\n";
        assert_eq!(
            parse(other_partition).unwrap().naming.buckets["logs"],
            "logs"
        );

        assert_err(
            &renames("\"\" = \"abc\""),
            6,
            1,
            "source bucket names in [naming.buckets] must not be empty",
        );
    }

    #[test]
    fn bucket_rename_types_are_explained() {
        // An unquoted dotted key is a nested table to TOML.
        let e = assert_err(
            &with("[naming.buckets]\nassets.example.com = \"assets-copy\"\n"),
            6,
            1,
            "invalid type: map, expected a bucket name",
        );
        assert!(e
            .hint
            .unwrap()
            .contains("quote source bucket names that contain a dot"));
        let e = assert_err(
            &with("[naming.buckets]\nsrc = 3\n"),
            6,
            7,
            "invalid type: integer `3`, expected a bucket name",
        );
        assert!(e.hint.unwrap().contains("quote the value"));
        assert_err(
            &with("[naming]\nbuckets = \"{name}\"\n"),
            6,
            11,
            "expected a table",
        );
    }
}
