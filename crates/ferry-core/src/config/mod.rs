//! ferry.toml: the schema, its validation, and the skeleton `ferry init` writes.
//!
//! Parsing runs in two steps. serde (with `deny_unknown_fields`) reads the file
//! into private "raw" structs whose values are wrapped in [`toml::Spanned`], so
//! syntax errors, unknown keys and wrong types come with toml's own positions.
//! A second pass checks meaning (regions, ARNs, URLs, placeholders, ranges) and
//! still knows where every value sits, so *every* error carries `file:line:col`
//! pointing at the offending key or value. The result is a set of plain public
//! structs that the rest of ferry uses without knowing about spans.
//!
//! Two things are deliberately not decided here:
//! - whether source and destination are the same account: that needs the
//!   account ids STS returns, so the engine checks it once sessions exist;
//! - credentials: ferry takes them only from the standard AWS chain, and this
//!   module refuses any access-key-like key without ever repeating its value.
//!
//! One file per table (`side.rs` for `[source]` and `[destination]`, then
//! `scope.rs`, `naming.rs`, `zones.rs`, `apply.rs`, `compute.rs`, `s3.rs`,
//! `notify.rs`) holds its public struct, its raw form, its checks and their
//! tests. This file holds what they share: [`Config`], the two parsing steps
//! and the `Checker` every table reports through; `error.rs` locates
//! problems, `values.rs` checks values several tables use (regions, ARNs,
//! URLs), `skeleton.rs` is the file `ferry init` writes.

mod apply;
mod compute;
mod error;
mod naming;
mod notify;
mod s3;
mod scope;
mod side;
mod skeleton;
#[cfg(test)]
mod testing;
mod values;
mod zones;

pub use apply::{ApplyConfig, RateLimit, DEFAULT_CONCURRENCY, MAX_CONCURRENCY};
pub use compute::ComputeConfig;
pub use error::ConfigError;
pub use naming::{NamingConfig, BUCKET_PLACEHOLDERS, DEFAULT_BUCKET_TEMPLATE};
pub use notify::{redact_url, NotifyConfig};
pub use s3::{S3Config, VersionsMode, GIB, MAX_PART_SIZE, MAX_S3_WORKERS, MIB, MIN_PART_SIZE};
pub use scope::ScopeConfig;
pub use side::{SideConfig, ENDPOINT_SERVICES};
pub use skeleton::skeleton;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use apply::RawApply;
use compute::RawCompute;
use error::Locator;
use naming::RawNaming;
use notify::RawNotify;
use s3::RawS3;
use scope::RawScope;
use side::RawSide;
use values::region_partition;

/// The validated ferry.toml.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub source: SideConfig,
    pub destination: SideConfig,
    pub scope: ScopeConfig,
    pub naming: NamingConfig,
    /// Source availability zone -> destination availability zone. Zones not
    /// listed keep their letter (us-east-1a -> eu-west-1a).
    pub zones: BTreeMap<String, String>,
    pub apply: ApplyConfig,
    pub compute: ComputeConfig,
    pub s3: S3Config,
    /// Where run messages go. Not serialised: changing where messages go
    /// does not change what a run does (nor [`Config::digest`], so a resumed
    /// run is still resumed), and a webhook URL may carry a token.
    #[serde(skip_serializing)]
    pub notify: NotifyConfig,
    /// Not serialised, so moving the file does not change [`Config::digest`].
    #[serde(skip_serializing)]
    pub path: PathBuf,
}

impl Config {
    /// Reads and validates the file. A missing file gets its own hint because
    /// it is what every first run without `ferry init` hits.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let (message, hint) = match e.kind() {
                std::io::ErrorKind::NotFound => (
                    "configuration file not found".to_string(),
                    "run `ferry init` to write a commented ferry.toml here, or pass --config PATH"
                        .to_string(),
                ),
                std::io::ErrorKind::InvalidData => (
                    "configuration file is not valid UTF-8".to_string(),
                    "save ferry.toml as UTF-8 text".to_string(),
                ),
                _ => (
                    format!("cannot read configuration file: {e}"),
                    "check the path and its permissions".to_string(),
                ),
            };
            ConfigError {
                path: path.to_path_buf(),
                line: None,
                column: None,
                message,
                hint: Some(hint),
            }
        })?;
        Config::parse(&text, path)
    }

    /// Pure: `path` is only used in error messages and recorded in the result.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let loc = Locator { text, path };
        prescan(&loc)?;
        let raw: RawConfig = toml::from_str(text).map_err(|e| loc.toml_error(&e))?;
        let mut checker = Checker {
            loc,
            errors: Vec::new(),
        };
        let config = checker.convert(raw);
        match checker.errors.into_iter().min_by_key(|(offset, _)| *offset) {
            Some((_, err)) => Err(err),
            None => Ok(config),
        }
    }

    /// A plan records this so `apply --plan FILE` can refuse a plan made with
    /// a different configuration. It hashes the effective values (defaults
    /// filled in, path excluded), so comments, formatting, key order and the
    /// file's location do not change it. FNV-1a 64 is enough to detect edits;
    /// this is not a security boundary.
    pub fn digest(&self) -> String {
        let canonical = serde_json::to_string(self).expect("config is always serialisable");
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in canonical.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

// ---------------------------------------------------------------------------
// Raw deserialisation structs (this one, and one per table in its file):
// everything optional and spanned, so that every "missing" and "invalid" can
// be reported by the checker with a position.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawConfig {
    source: Option<Spanned<RawSide>>,
    destination: Option<Spanned<RawSide>>,
    scope: Option<RawScope>,
    naming: Option<RawNaming>,
    zones: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    apply: Option<RawApply>,
    compute: Option<RawCompute>,
    s3: Option<RawS3>,
    notify: Option<Spanned<RawNotify>>,
}

// ---------------------------------------------------------------------------
// Before serde: credentials and arrays of tables

/// Walks the untyped document before serde sees it, for two things serde
/// would report badly:
/// - a credential key, refused wherever it is, including inside free-form
///   maps (`[zones]`, `exclude_tags`) that serde would otherwise accept. Only
///   the key is reported, never the value, and this wins over every other
///   error so nothing else can quote the surrounding text;
/// - a `[[table]]` header: ferry.toml has no arrays of tables, and serde's
///   message for one ("invalid type: map, expected a string") is misleading.
fn prescan(loc: &Locator<'_>) -> Result<(), ConfigError> {
    let doc = DeTable::parse(loc.text).map_err(|e| loc.toml_error(&e))?;
    let mut scan = Prescan::default();
    scan.table(loc.text, doc.get_ref());
    if let Some((offset, key)) = scan.secret {
        return Err(side::credentials_refused(loc, offset, &key));
    }
    if let Some((offset, key)) = scan.array_of_tables {
        return Err(loc.at(
            offset,
            format!("`[[{key}]]` declares an array of tables, which ferry.toml does not use"),
            Some(format!("write `[{key}]` with single brackets")),
        ));
    }
    Ok(())
}

/// The earliest offending key of each sort, by position in the file.
#[derive(Default)]
struct Prescan {
    secret: Option<(usize, String)>,
    array_of_tables: Option<(usize, String)>,
}

fn keep_earliest(slot: &mut Option<(usize, String)>, offset: usize, key: &str) {
    if slot.as_ref().is_none_or(|(o, _)| offset < *o) {
        *slot = Some((offset, key.to_string()));
    }
}

impl Prescan {
    fn table(&mut self, text: &str, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            let offset = key.span().start;
            if side::is_secret_key(key.get_ref()) {
                keep_earliest(&mut self.secret, offset, key.get_ref());
            }
            if let DeValue::Array(items) = value.get_ref() {
                let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
                let is_header = text[line_start..offset].trim_start().starts_with("[[");
                if is_header && items.iter().any(|i| i.get_ref().is_table()) {
                    keep_earliest(&mut self.array_of_tables, offset, key.get_ref());
                }
            }
            self.value(text, value.get_ref());
        }
    }

    fn value(&mut self, text: &str, value: &DeValue<'_>) {
        match value {
            DeValue::Table(t) => self.table(text, t),
            DeValue::Array(items) => {
                for item in items.iter() {
                    self.value(text, item.get_ref());
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Semantic checks

/// Collects every semantic error and reports the first in file order, so the
/// user fixes the file top to bottom regardless of the order checks run in.
struct Checker<'a> {
    loc: Locator<'a>,
    errors: Vec<(usize, ConfigError)>,
}

impl Checker<'_> {
    fn error_at(&mut self, offset: usize, message: String, hint: Option<String>) {
        let err = self.loc.at(offset, message, hint);
        self.errors.push((offset, err));
    }

    fn error_nowhere(&mut self, message: String, hint: Option<String>) {
        let err = self.loc.nowhere(message, hint);
        self.errors.push((usize::MAX, err));
    }

    /// Offset of byte `index` inside a string value, when the source spells
    /// the value verbatim between its quotes (no escapes, not multi-line);
    /// otherwise the start of the value, which is still the right line.
    fn inside(&self, value: &Spanned<String>, index: usize) -> usize {
        let span = value.span();
        let verbatim = span.end >= span.start + 2
            && self.loc.text.get(span.start + 1..span.end - 1) == Some(value.get_ref().as_str());
        if verbatim {
            span.start + 1 + index
        } else {
            span.start
        }
    }

    fn convert(&mut self, raw: RawConfig) -> Config {
        let source = self.side("source", raw.source);
        let destination = self.side("destination", raw.destination);
        let scope = self.scope(raw.scope);
        // Bucket names are global per partition: only there can a rename
        // collide with a source bucket's name.
        let same_partition = source.region_ok
            && destination.region_ok
            && region_partition(&source.config.region)
                == region_partition(&destination.config.region);
        let naming = self.naming(raw.naming, same_partition);
        let zones = self.zones(raw.zones, &source, &destination);
        let apply = self.apply(raw.apply);
        let compute = compute::convert(raw.compute);
        Config {
            source: source.config,
            destination: destination.config,
            scope,
            naming,
            zones,
            apply,
            compute,
            s3: self.s3(raw.s3),
            notify: self.notify(raw.notify),
            path: self.loc.path.to_path_buf(),
        }
    }

    /// A whole number within `bounds`, or `None` after reporting
    /// "`key` must be between 1 and 256 (got 0)" at the value.
    fn whole_number<T>(
        &mut self,
        key: &str,
        n: &Spanned<i64>,
        bounds: Bounds<T>,
        hint: Option<String>,
    ) -> Option<T>
    where
        T: TryFrom<i64> + PartialOrd + Copy + Display,
    {
        let value = *n.get_ref();
        match T::try_from(value) {
            Ok(v) if bounds.contains(v) => Some(v),
            _ => {
                self.error_at(
                    n.span().start,
                    format!(
                        "{key} must be {} (got {value})",
                        bounds.describe(|b| b.to_string())
                    ),
                    hint,
                );
                None
            }
        }
    }
}

/// The values a number setting accepts: at least `min`, and at most `max`
/// when there is one. Shared by counts and sizes so that both phrase their
/// range the same way.
#[derive(Clone, Copy)]
struct Bounds<T> {
    min: T,
    max: Option<T>,
}

impl<T: PartialOrd + Copy> Bounds<T> {
    fn between(min: T, max: T) -> Self {
        Bounds {
            min,
            max: Some(max),
        }
    }

    fn at_least(min: T) -> Self {
        Bounds { min, max: None }
    }

    fn contains(&self, value: T) -> bool {
        value >= self.min && self.max.is_none_or(|max| value <= max)
    }

    /// "between 1 and 256" or "at least 1", each bound shown by `show`.
    fn describe(&self, show: impl Fn(T) -> String) -> String {
        match self.max {
            Some(max) => format!("between {} and {}", show(self.min), show(max)),
            None => format!("at least {}", show(self.min)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.source.region, "us-east-1");
        assert_eq!(c.destination.region, "eu-west-1");
        assert_eq!(c.source.profile, None);
        assert!(c.source.endpoints.is_empty());
        assert_eq!(c.scope, ScopeConfig::default());
        assert!(c.scope.include.is_empty());
        assert_eq!(c.naming.bucket, "{name}-{hash6}");
        assert!(c.zones.is_empty());
        assert_eq!(c.apply.concurrency, 16);
        assert!(c.apply.rate_limits.is_empty());
        assert!(c.naming.buckets.is_empty());
        assert_eq!(c.s3, S3Config::default());
        assert_eq!(c.path, PathBuf::from("ferry.toml"));
    }

    const FULL: &str = r#"
[source]
region = "us-east-1"
profile = "legacy"
role_arn = "arn:aws:iam::111111111111:role/ops/ferry"
external_id = "ferry-x"
session_name = "ferry-run"
endpoint_url = "http://127.0.0.1:5000"
[source.endpoints]
ec2 = "https://vpce-0abc-ec2.us-east-1.vpce.amazonaws.com"
sts = "http://[::1]:4566/"

[destination]
region = "us-gov-west-1"
role_arn = "arn:aws-us-gov:iam::222222222222:role/ferry"

[scope]
include = ["vpc", "security_group"]
exclude = ["vpc_peering"]
exclude_tags = { "ferry:skip" = "true" }
exclude_ids = ["vpc-0123"]

[naming]
bucket = "copy.{name}-{dest_account}-{dest_region}"
[naming.buckets]
"assets.example.com" = "assets.example.org"
legacy = "legacy-2"

[zones]
"us-east-1a" = "us-gov-west-1b"

[apply]
concurrency = 256
[apply.rate_limits]
"ec2.mutating" = { burst = 50, per_second = 5 }
"ec2.CopyImage" = { burst = 100, per_second = 1.5 }

[s3]
workers = 64
multipart_threshold = "8 MiB"
part_size = 5242880
versions = "all"
source_policy = false
batch = true
batch_objects = 1000
batch_bytes = "1.5GiB"
"#;

    #[test]
    fn full_config_parses() {
        let c = parse(FULL).unwrap();
        assert_eq!(c.source.profile.as_deref(), Some("legacy"));
        assert_eq!(
            c.source.role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/ops/ferry")
        );
        assert_eq!(c.source.external_id.as_deref(), Some("ferry-x"));
        assert_eq!(c.source.session_name.as_deref(), Some("ferry-run"));
        assert_eq!(
            c.source.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(c.source.endpoints.len(), 2);
        assert_eq!(c.source.endpoints["sts"], "http://[::1]:4566/");
        assert_eq!(c.destination.region, "us-gov-west-1");
        assert_eq!(c.scope.include, ["vpc", "security_group"]);
        assert_eq!(c.scope.exclude, ["vpc_peering"]);
        assert_eq!(c.scope.exclude_tags["ferry:skip"], "true");
        assert_eq!(c.scope.exclude_ids, ["vpc-0123"]);
        assert_eq!(c.naming.bucket, "copy.{name}-{dest_account}-{dest_region}");
        assert_eq!(c.zones["us-east-1a"], "us-gov-west-1b");
        assert_eq!(c.apply.concurrency, 256);
        assert_eq!(
            c.apply.rate_limits["ec2.mutating"],
            RateLimit {
                burst: 50,
                per_second: 5.0
            }
        );
        assert_eq!(c.apply.rate_limits["ec2.CopyImage"].per_second, 1.5);
        assert_eq!(c.naming.buckets.len(), 2);
        assert_eq!(c.naming.buckets["assets.example.com"], "assets.example.org");
        assert_eq!(c.naming.buckets["legacy"], "legacy-2");
        assert_eq!(
            c.s3,
            S3Config {
                workers: 64,
                multipart_threshold: 8 * MIB,
                part_size: 5 * MIB,
                versions: VersionsMode::All,
                source_policy: false,
                batch_objects: 1000,
                batch_bytes: 3 * GIB / 2,
                batch: true,
            }
        );
    }

    #[test]
    fn earliest_error_is_reported() {
        let text =
            "[source]\nregion = \"us-east-1\"\nprofile = \"\"\n[destination]\nregion = \"bad\"\n";
        assert_err(text, 3, 11, "profile");
    }

    #[test]
    fn digest_is_stable_and_tracks_values() {
        let a = parse(FULL).unwrap();
        let b = parse(FULL).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.digest().len(), 16);
        assert!(a.digest().chars().all(|c| c.is_ascii_hexdigit()));

        // Formatting, comments, key order and location do not matter.
        let reordered = "# comment\n[destination]\nregion='eu-west-1'\n[source]\nregion='us-east-1'\n[apply]\nconcurrency=16\n";
        let m1 = parse(MINIMAL).unwrap();
        let m2 = Config::parse(reordered, Path::new("/elsewhere/ferry.toml")).unwrap();
        assert_eq!(m1.digest(), m2.digest());

        // Any value change does.
        let changed = parse(&FULL.replace("per_second = 1.5", "per_second = 1.25")).unwrap();
        assert_ne!(a.digest(), changed.digest());
        let changed = parse(&MINIMAL.replace("eu-west-1", "eu-west-2")).unwrap();
        assert_ne!(m1.digest(), changed.digest());

        // Pinned, so an accidental change to the canonical form is noticed.
        assert_eq!(m1.digest(), parse(MINIMAL).unwrap().digest());
        let pinned = format!("{:016x}", {
            let json = serde_json::to_string(&m1).unwrap();
            json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        });
        assert_eq!(m1.digest(), pinned);
    }

    #[test]
    fn load_reads_files_and_explains_a_missing_one() {
        let dir = std::env::temp_dir().join(format!("ferry-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("absent.toml");
        let e = Config::load(&missing).unwrap_err();
        assert_eq!(e.path, missing);
        assert_eq!(e.line, None);
        assert!(e.hint.as_deref().unwrap().contains("run `ferry init`"));

        let present = dir.join("ferry.toml");
        std::fs::write(&present, skeleton()).unwrap();
        let c = Config::load(&present).unwrap();
        assert_eq!(c.path, present);

        std::fs::write(&present, "[source]\nregion = \"x\"\n").unwrap();
        let e = Config::load(&present).unwrap_err();
        assert!(e
            .to_string()
            .starts_with(&format!("{}:2:10: ", present.display())));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
