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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The default keeps bucket names deterministic, so a re-run after a crash
/// finds the bucket it already created instead of making a second one.
pub const DEFAULT_BUCKET_TEMPLATE: &str = "{name}-{hash6}";

/// Enough parallelism to hide API latency while staying well inside the
/// default EC2 mutating token bucket.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Above this, throttling (not ferry) becomes the bottleneck and retries only
/// add noise; the rate limiters are the knob for going faster.
pub const MAX_CONCURRENCY: usize = 256;

/// Copy requests in flight across all buckets. S3 serves thousands of
/// requests per second per prefix, so more workers only help against latency;
/// past this the machine's own connections are the limit.
pub const MAX_S3_WORKERS: usize = 256;

/// S3's smallest part (except an object's last) and largest part or
/// single-request copy.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
pub const MAX_PART_SIZE: u64 = 5 * GIB;

/// Units accepted in sizes (`"64 MiB"`), matched case-insensitively. Both
/// families are offered because AWS documents S3 limits in binary units while
/// disks and bills use decimal ones; each means exactly what the IEC says.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

const S3_VERSIONS: &[&str] = &["current", "all"];

/// Service ids accepted as keys of `[*.endpoints]` and as the `<service>` part of
/// `[apply.rate_limits]` keys. Both the SDK names and the signing names are
/// accepted (`elbv2`/`elasticloadbalancing`, `cloudwatch`/`monitoring`), since
/// users copy whichever their VPC endpoint or AWS documentation shows.
pub const ENDPOINT_SERVICES: &[&str] = &[
    "ec2",
    "sts",
    "iam",
    "s3",
    "elasticloadbalancing",
    "elbv2",
    "autoscaling",
    "cloudwatch",
    "monitoring",
    "kms",
    "acm",
    "sns",
    "sqs",
    "s3control",
    "ssm",
    "logs",
];

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

/// Key names that would hold credentials. Matched case-insensitively and with
/// `-` read as `_`, anywhere in the document, before any other check, so the
/// refusal wins over "unknown key" messages that might show surrounding text.
const SECRET_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "access_key_id",
    "access_key",
    "secret_access_key",
    "secret_key",
    "session_token",
];

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

const DIRECTIONS: &[&str] = &[
    "north",
    "south",
    "east",
    "west",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
];

const SIDE_KEYS: &[&str] = &[
    "region",
    "profile",
    "role_arn",
    "external_id",
    "session_name",
    "endpoint_url",
    "endpoints",
];

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

/// How to reach one account: base credentials come from the standard chain
/// (optionally a named profile), then `role_arn` is assumed if set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideConfig {
    pub region: String,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    /// Only meaningful with `role_arn`; rejected without it rather than ignored.
    pub external_id: Option<String>,
    /// Only meaningful with `role_arn`; shows up in CloudTrail.
    pub session_name: Option<String>,
    /// One URL for every service (emulators).
    pub endpoint_url: Option<String>,
    /// Per-service URLs (VPC interface endpoints); win over `endpoint_url`.
    pub endpoints: BTreeMap<String, String>,
}

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyConfig {
    pub concurrency: usize,
    /// Overrides of the built-in token buckets, keyed `<service>.<class>`
    /// (e.g. `ec2.mutating`). Classes not listed keep AWS's published defaults.
    pub rate_limits: BTreeMap<String, RateLimit>,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        ApplyConfig {
            concurrency: DEFAULT_CONCURRENCY,
            rate_limits: BTreeMap::new(),
        }
    }
}

/// How instances are carried across (`[compute]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ComputeConfig {
    /// Make the image of a running instance without rebooting it. Off by
    /// default: a reboot gives a consistent file system; the plan says which.
    pub no_reboot: bool,
    /// Launch destination instances with their source private IPs (the
    /// subnets keep their CIDRs, so the addresses are free in a new estate).
    pub keep_private_ips: bool,
}

/// Which versions of a versioned bucket's objects are copied (`[s3] versions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionsMode {
    /// The current version of each key.
    #[default]
    Current,
    /// Every version, oldest first, and delete markers.
    All,
}

/// How objects are copied (`[s3]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct S3Config {
    /// Copy requests in flight across all buckets.
    pub workers: usize,
    /// Objects larger than this are copied in parts (`UploadPartCopy`); at
    /// most 5 GiB, which is what a single `CopyObject` accepts.
    pub multipart_threshold: u64,
    /// Part size of multipart copies (5 MiB to 5 GiB).
    pub part_size: u64,
    pub versions: VersionsMode,
    /// Let ferry add a temporary statement to each source bucket's policy so
    /// the destination can read it (removed afterwards). When false, objects
    /// are streamed through ferry instead: slower, but the source policy is
    /// never touched.
    pub source_policy: bool,
    /// Buckets with at least this many objects, or this many bytes, are
    /// offered to S3 Batch Operations in the plan.
    pub batch_objects: u64,
    pub batch_bytes: u64,
    /// Copy such buckets with S3 Batch Operations instead of from this
    /// machine.
    pub batch: bool,
}

pub const GIB: u64 = 1024 * 1024 * 1024;
pub const MIB: u64 = 1024 * 1024;

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            workers: 16,
            multipart_threshold: 5 * GIB,
            part_size: 512 * MIB,
            versions: VersionsMode::Current,
            source_policy: true,
            batch_objects: 10_000_000,
            batch_bytes: 50 * 1024 * GIB,
            batch: false,
        }
    }
}

/// Where a message goes when a run starts, ends or fails (`[notify]`). Both
/// targets may be set; neither means no messages.
#[derive(Clone, PartialEq, Default)]
pub struct NotifyConfig {
    /// `arn:<partition>:sns:<region>:<account>:<topic>`, published to with
    /// the credentials of the side whose account it names (the destination
    /// when it names neither).
    pub sns_topic_arn: Option<String>,
    /// Receives each message as a JSON POST. Its path or query may carry a
    /// token, so it is never printed: see [`redact_url`].
    pub webhook_url: Option<String>,
}

impl NotifyConfig {
    pub fn is_empty(&self) -> bool {
        self.sns_topic_arn.is_none() && self.webhook_url.is_none()
    }
}

/// Debug shows the webhook only as [`redact_url`] does, so a config dumped
/// in a panic or a log does not leak its token.
impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("sns_topic_arn", &self.sns_topic_arn)
            .field("webhook_url", &self.webhook_url.as_deref().map(redact_url))
            .finish()
    }
}

/// A URL as it may be shown: scheme, host and port, with any path, query or
/// user info replaced by `/…` (webhook URLs carry their token there:
/// `https://hooks.example.com/services/T0/B0/secret`).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return "(a URL)".to_string(),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let more = rest.len() > authority.len() && rest[authority.len()..] != *"/";
    format!("{scheme}://{host}{}", if more { "/…" } else { "" })
}

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

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

/// The ferry.toml written by `ferry init`. It parses as-is; optional keys are
/// shown commented out with valid example values, so uncommenting one line
/// never produces a broken file.
pub fn skeleton() -> String {
    SKELETON.to_string()
}

const SKELETON: &str = r#"# ferry.toml: what ferry replicates, from where, to where.
#
# Written by `ferry init`. Commented-out keys are optional settings shown
# with example values: uncomment and edit them as needed.
# Nothing changes in AWS until you run `ferry apply` on a plan you have read
# (`ferry plan`).
#
# Credentials are never written here. ferry uses the standard AWS credential
# chain (environment variables, ~/.aws profiles, SSO, instance roles) and
# refuses access keys in this file.

# The account and region to copy FROM. ferry only reads here, apart from
# temporary grants (image, snapshot and KMS key shares) that it withdraws.
[source]
# Region code (required).
region = "us-east-1"
# Named profile or SSO profile from ~/.aws/config. Default: the standard chain.
# profile = "legacy"
# Role to assume with the base credentials: arn:aws:iam::<12-digit account>:role/<name>.
# role_arn = "arn:aws:iam::111111111111:role/ferry"
# External ID demanded by the role's trust policy (only together with role_arn).
# external_id = "ferry-migration"
# Session name recorded in CloudTrail for the assumed role (only with role_arn).
# session_name = "ferry"
# One URL for every service, e.g. a local emulator.
# endpoint_url = "http://127.0.0.1:5000"

# Per-service URLs, e.g. VPC interface endpoints in networks with no internet
# path. They win over endpoint_url. Accepted services: ec2, sts, iam, s3,
# elasticloadbalancing, elbv2, autoscaling, cloudwatch, monitoring, kms, acm,
# sns, sqs, s3control (S3 Batch Operations), ssm, logs.
# [source.endpoints]
# ec2 = "https://vpce-0abc-ec2.us-east-1.vpce.amazonaws.com"
# sts = "https://vpce-0abc-sts.us-east-1.vpce.amazonaws.com"

# The account and region to copy TO. Same keys as [source]; `ferry bootstrap`
# prints (or creates) the role below and its trust policy.
[destination]
region = "eu-west-1"
# profile = "target"
# role_arn = "arn:aws:iam::222222222222:role/ferry"
# external_id = "ferry-migration"
# session_name = "ferry"
# endpoint_url = "http://127.0.0.1:5000"
# [destination.endpoints]
# s3 = "https://bucket.vpce-0def-s3.eu-west-1.vpce.amazonaws.com"

# What to replicate. Default: every kind ferry supports.
[scope]
# Kinds or services to replicate; an empty list means everything. Services:
# vpc (or network), ec2, iam, kms, compute, autoscaling, cloudwatch,
# elb (or load_balancing), acm; kinds: vpc, subnet, instance, target_group...
# include = ["vpc", "security_group"]
# Kinds or services to leave out (applied after include).
# exclude = ["vpc_peering"]
# Source resources carrying any of these tags are skipped. Values are strings.
# exclude_tags = { "ferry:skip" = "true" }
# Source ids, bucket names or ARNs to skip.
# exclude_ids = ["vpc-0123456789abcdef0", "legacy-logs-bucket"]

# Destination names. S3 bucket names are global, so they cannot simply be
# copied. Placeholders: {name} (source bucket), {hash6} (6 hex digits derived
# from the source bucket), {account}, {region} (source), {dest_account},
# {dest_region}. The template must use {name} or {hash6}. The default is
# deterministic, so a re-run finds the bucket it already created.
[naming]
bucket = "{name}-{hash6}"

# Explicit names for some source buckets, winning over the template: source
# bucket name (quoted when it contains a dot) to destination bucket name. Each
# destination must be a valid S3 bucket name, and two sources cannot share one.
# [naming.buckets]
# "assets.example.com" = "assets.example.org"
# "legacy-logs" = "logs-archive"

# Availability zones across regions: each source zone maps to a destination zone.
# Zones not listed keep their letter (us-east-1a becomes eu-west-1a).
[zones]
# "us-east-1a" = "eu-west-1b"
# "us-east-1b" = "eu-west-1c"

[apply]
# Operations in flight at once (1 to 256).
concurrency = 16

# Token buckets per "<service>.<class>" (keys must be quoted because of the
# dot): burst tokens, refilled at per_second. Classes not listed keep AWS's
# published defaults (EC2: non-mutating 100/20 per s, mutating 50/5).
[apply.rate_limits]
# "ec2.mutating" = { burst = 50, per_second = 5.0 }
# "ec2.non_mutating" = { burst = 100, per_second = 20.0 }

# Instances are copied through an image made of each (CreateImage).
[compute]
# true: do not reboot instances for their image (faster, but the file system
# may not be consistent). The plan says which.
no_reboot = false
# true: launch destination instances with the source's private IPs.
keep_private_ips = false

# How S3 objects are copied. Sizes are a number of bytes, or a string with a
# unit: KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000).
[s3]
# Copy requests in flight at once, shared by all buckets (1 to 256).
workers = 16
# Objects larger than this are copied in parts (UploadPartCopy) rather than
# with one CopyObject; 5 MiB to 5 GiB, since one CopyObject copies at most 5 GiB.
multipart_threshold = "5 GiB"
# The part size of those copies (5 MiB to 5 GiB). A source object that was
# itself uploaded in parts is copied with its own part layout, keeping its ETag.
part_size = "512 MiB"
# Versioned buckets: "current" copies the current version of each key; "all"
# copies every version, oldest first, and the delete markers.
versions = "current"
# true: ferry adds a temporary statement to each source bucket's policy that
# lets the destination read it, and removes it afterwards. false: the source
# policies are never touched and objects are streamed through this machine
# instead (slower).
source_policy = true
# Buckets with at least batch_objects objects, or batch_bytes bytes, are
# offered to S3 Batch Operations in the plan: AWS's managed engine for copying
# billions of objects.
batch_objects = 10000000
batch_bytes = "50 TiB"
# true: copy those buckets with S3 Batch Operations (ferry writes the manifest,
# creates the job and its role, and tracks it) instead of from this machine.
batch = false

# A message when an apply or rollback run starts, ends or fails, with its
# counts and first errors. Delivery failures are reported on stderr and never
# fail the run. Uncomment [notify] and at least one target.
# [notify]
# SNS topic, published to with the credentials of the side whose account it
# names (the destination otherwise); `ferry bootstrap` then lists sns:Publish.
# sns_topic_arn = "arn:aws:sns:eu-west-1:222222222222:ferry-runs"
# URL that receives each message as a JSON POST. It is never printed, since
# its path or query often carries a token.
# webhook_url = "https://hooks.example.com/services/ferry"
"#;

// ---------------------------------------------------------------------------
// Raw deserialisation structs: everything optional and spanned, so that every
// "missing" and "invalid" can be reported by the checker with a position.

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawNotify {
    sns_topic_arn: Option<Spanned<String>>,
    webhook_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawCompute {
    no_reboot: Option<bool>,
    keep_private_ips: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawSide {
    region: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    role_arn: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    session_name: Option<Spanned<String>>,
    endpoint_url: Option<Spanned<String>>,
    endpoints: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawScope {
    include: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    exclude_tags: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    exclude_ids: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawNaming {
    bucket: Option<Spanned<String>>,
    buckets: Option<BTreeMap<Spanned<String>, Spanned<RawBucketName>>>,
}

/// A destination bucket name. Its own type only so that a wrong value says
/// "expected a bucket name", which [`explain_toml_message`] recognises to
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawS3 {
    workers: Option<Spanned<i64>>,
    multipart_threshold: Option<Spanned<RawSize>>,
    part_size: Option<Spanned<RawSize>>,
    versions: Option<Spanned<String>>,
    source_policy: Option<bool>,
    batch: Option<bool>,
    batch_objects: Option<Spanned<i64>>,
    batch_bytes: Option<Spanned<RawSize>>,
}

/// A size as written: an integer number of bytes, or a string with a unit
/// (`"64 MiB"`). Parsed by the checker, which knows where it sits.
enum RawSize {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size (an integer number of bytes, or a string like \"64 MiB\")")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawSize, E> {
                Ok(RawSize::Bytes(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawSize, E> {
                i64::try_from(v)
                    .map(RawSize::Bytes)
                    .map_err(|_| E::custom(format!("size {v} is too large")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawSize, E> {
                Ok(RawSize::Text(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawApply {
    concurrency: Option<Spanned<i64>>,
    rate_limits: Option<BTreeMap<Spanned<String>, Spanned<RawRateLimit>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawRateLimit {
    burst: Spanned<i64>,
    per_second: Spanned<f64>,
}

// ---------------------------------------------------------------------------
// Positions

#[derive(Clone, Copy)]
struct Locator<'a> {
    text: &'a str,
    path: &'a Path,
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

    fn at(&self, offset: usize, message: String, hint: Option<String>) -> ConfigError {
        let (line, column) = self.line_col(offset);
        ConfigError {
            path: self.path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message,
            hint,
        }
    }

    fn nowhere(&self, message: String, hint: Option<String>) -> ConfigError {
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
    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
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
                closest(unknown, expected).map(|c| format!("did you mean `{c}`?"))
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

fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

// ---------------------------------------------------------------------------
// Secrets

fn is_secret_key(key: &str) -> bool {
    let normalised = key.trim().to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.contains(&normalised.as_str())
}

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
        return Err(loc.at(
            offset,
            format!(
                "`{key}`: access keys are not accepted in ferry.toml; \
                 ferry uses the standard AWS credential chain"
            ),
            Some(
                "remove this line (and rotate the key if the file was shared); provide \
                 credentials through the environment, ~/.aws profiles, SSO or an instance \
                 role, and select them with `profile` or `role_arn`"
                    .to_string(),
            ),
        ));
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
            if is_secret_key(key.get_ref()) {
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
        let compute = raw
            .compute
            .map(|c| ComputeConfig {
                no_reboot: c.no_reboot.unwrap_or(false),
                keep_private_ips: c.keep_private_ips.unwrap_or(false),
            })
            .unwrap_or_default();
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

    fn side(&mut self, name: &str, raw: Option<Spanned<RawSide>>) -> CheckedSide {
        let mut config = SideConfig {
            region: String::new(),
            profile: None,
            role_arn: None,
            external_id: None,
            session_name: None,
            endpoint_url: None,
            endpoints: BTreeMap::new(),
        };
        let Some(raw) = raw else {
            let example = if name == "source" {
                "us-east-1"
            } else {
                "eu-west-1"
            };
            self.error_nowhere(
                format!("missing [{name}] table"),
                Some(format!(
                    "add `[{name}]` with at least `region = \"{example}\"` \
                     (`ferry init` writes a commented skeleton)"
                )),
            );
            return CheckedSide {
                config,
                region_ok: false,
            };
        };
        let table_span = raw.span();
        let raw = raw.into_inner();

        let mut region_ok = false;
        match raw.region {
            None => self.error_at(
                table_span.start,
                format!("[{name}] has no `region`"),
                Some("add e.g. `region = \"us-east-1\"`".to_string()),
            ),
            Some(region) => {
                match check_region(region.get_ref()) {
                    Ok(()) => region_ok = true,
                    Err(hint) => self.error_at(
                        region.span().start,
                        format!(
                            "invalid region {:?}: expected a name like us-east-1 or eu-west-2",
                            region.get_ref()
                        ),
                        hint,
                    ),
                }
                config.region = region.into_inner();
            }
        }

        if let Some(profile) = raw.profile {
            if profile.get_ref().trim().is_empty() {
                self.error_at(
                    profile.span().start,
                    "profile must not be empty".to_string(),
                    Some("remove the key to use the default credential chain".to_string()),
                );
            }
            config.profile = Some(profile.into_inner());
        }

        if let Some(arn) = &raw.role_arn {
            match check_role_arn(arn.get_ref()) {
                Err((problem, hint)) => self.error_at(
                    arn.span().start,
                    format!("invalid role_arn {:?}: {problem}", arn.get_ref()),
                    hint,
                ),
                Ok(partition) if region_ok => {
                    let expected = region_partition(&config.region);
                    if partition != expected {
                        self.error_at(
                            arn.span().start,
                            format!(
                                "role_arn is in partition {partition} but region {} is in {expected}",
                                config.region
                            ),
                            Some("a role can only be assumed inside its own partition".to_string()),
                        );
                    }
                }
                Ok(_) => {}
            }
        }
        let has_role = raw.role_arn.is_some();

        if let Some(id) = raw.external_id {
            if !has_role {
                self.error_at(
                    id.span().start,
                    format!("external_id is only used when assuming a role, and [{name}] has no role_arn"),
                    Some(format!("set role_arn in [{name}], or remove external_id")),
                );
            } else if let Err(problem) = check_external_id(id.get_ref()) {
                // The value is not repeated: some teams treat external ids as
                // shared secrets even though AWS does not.
                self.error_at(
                    id.span().start,
                    format!("invalid external_id: {problem}"),
                    None,
                );
            }
            config.external_id = Some(id.into_inner());
        }

        if let Some(session) = raw.session_name {
            if !has_role {
                self.error_at(
                    session.span().start,
                    format!("session_name is only used when assuming a role, and [{name}] has no role_arn"),
                    Some(format!("set role_arn in [{name}], or remove session_name")),
                );
            } else if let Err(problem) = check_session_name(session.get_ref()) {
                self.error_at(
                    session.span().start,
                    format!("invalid session_name {:?}: {problem}", session.get_ref()),
                    None,
                );
            }
            config.session_name = Some(session.into_inner());
        }
        config.role_arn = raw.role_arn.map(Spanned::into_inner);

        if let Some(url) = raw.endpoint_url {
            self.url("endpoint_url", &url);
            config.endpoint_url = Some(url.into_inner());
        }

        for (service, url) in raw.endpoints.unwrap_or_default() {
            if !ENDPOINT_SERVICES.contains(&service.get_ref().as_str()) {
                let hint = closest(service.get_ref(), ENDPOINT_SERVICES)
                    .map(|c| format!("did you mean `{c}`?"));
                self.error_at(
                    service.span().start,
                    format!(
                        "unknown service {:?} in [{name}.endpoints]: accepted services are {}",
                        service.get_ref(),
                        ENDPOINT_SERVICES.join(", ")
                    ),
                    hint,
                );
            }
            self.url(&format!("endpoint for {}", service.get_ref()), &url);
            config
                .endpoints
                .insert(service.into_inner(), url.into_inner());
        }

        CheckedSide { config, region_ok }
    }

    fn url(&mut self, what: &str, url: &Spanned<String>) {
        if let Err(problem) = check_url(url.get_ref()) {
            // A URL with user info may carry a password: do not repeat it.
            let message = if url.get_ref().contains('@') {
                format!("invalid {what}: {problem}")
            } else {
                format!("invalid {what} {:?}: {problem}", url.get_ref())
            };
            self.error_at(url.span().start, message, None);
        }
    }

    fn scope(&mut self, raw: Option<RawScope>) -> ScopeConfig {
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

    fn naming(&mut self, raw: Option<RawNaming>, same_partition: bool) -> NamingConfig {
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

    fn s3(&mut self, raw: Option<RawS3>) -> S3Config {
        let mut s3 = S3Config::default();
        let Some(raw) = raw else {
            return s3;
        };
        if let Some(n) = raw.workers {
            let value = *n.get_ref();
            match usize::try_from(value) {
                Ok(v) if (1..=MAX_S3_WORKERS).contains(&v) => s3.workers = v,
                _ => self.error_at(
                    n.span().start,
                    format!("s3.workers must be between 1 and {MAX_S3_WORKERS} (got {value})"),
                    Some(format!(
                        "the default is {}; workers are shared by all buckets",
                        S3Config::default().workers
                    )),
                ),
            }
        }
        let part_hint = "S3 parts are 5 MiB to 5 GiB (only an object's last part may be smaller), \
                         and one CopyObject copies at most 5 GiB";
        if let Some(size) = raw.multipart_threshold {
            let range = MIN_PART_SIZE..=MAX_PART_SIZE;
            if let Some(v) = self.size("multipart_threshold", &size, range, part_hint) {
                s3.multipart_threshold = v;
            }
        }
        if let Some(size) = raw.part_size {
            let range = MIN_PART_SIZE..=MAX_PART_SIZE;
            if let Some(v) = self.size("part_size", &size, range, part_hint) {
                s3.part_size = v;
            }
        }
        if let Some(versions) = raw.versions {
            match versions.get_ref().as_str() {
                "current" => s3.versions = VersionsMode::Current,
                "all" => s3.versions = VersionsMode::All,
                other => {
                    let hint = closest(other, S3_VERSIONS)
                        .map(|c| format!("did you mean {c:?}?"))
                        .unwrap_or_else(|| {
                            "\"current\" copies the current version of each key, \
                             \"all\" every version and delete marker"
                                .to_string()
                        });
                    self.error_at(
                        versions.span().start,
                        format!("invalid s3.versions {other:?}: expected \"current\" or \"all\""),
                        Some(hint),
                    );
                }
            }
        }
        if let Some(v) = raw.source_policy {
            s3.source_policy = v;
        }
        if let Some(v) = raw.batch {
            s3.batch = v;
        }
        if let Some(n) = raw.batch_objects {
            let value = *n.get_ref();
            match u64::try_from(value) {
                Ok(v) if v >= 1 => s3.batch_objects = v,
                _ => self.error_at(
                    n.span().start,
                    format!("s3.batch_objects must be at least 1 (got {value})"),
                    Some(format!(
                        "the default is {}; buckets with this many objects are offered to \
                         S3 Batch Operations",
                        S3Config::default().batch_objects
                    )),
                ),
            }
        }
        if let Some(size) = raw.batch_bytes {
            let hint = "buckets holding this many bytes are offered to S3 Batch Operations";
            if let Some(v) = self.size("batch_bytes", &size, 1..=u64::MAX, hint) {
                s3.batch_bytes = v;
            }
        }
        s3
    }

    /// A size in `range`, or `None` after reporting why not.
    fn size(
        &mut self,
        key: &str,
        size: &Spanned<RawSize>,
        range: std::ops::RangeInclusive<u64>,
        hint: &str,
    ) -> Option<u64> {
        let offset = size.span().start;
        let (bytes, shown) = match size.get_ref() {
            RawSize::Bytes(n) => (u64::try_from(*n).ok(), n.to_string()),
            RawSize::Text(text) => match parse_size(text) {
                Ok(n) => (Some(n), format!("{text:?} = {n} bytes")),
                Err(problem) => {
                    self.error_at(
                        offset,
                        format!("invalid size {text:?} for s3.{key}: {problem}"),
                        Some(SIZE_HINT.to_string()),
                    );
                    return None;
                }
            },
        };
        if let Some(bytes) = bytes.filter(|b| range.contains(b)) {
            return Some(bytes);
        }
        let bounds = if *range.end() == u64::MAX {
            format!("at least {}", show_size(*range.start()))
        } else {
            format!(
                "between {} and {}",
                show_size(*range.start()),
                show_size(*range.end())
            )
        };
        // "5 MB" reads like S3's minimum part size but is 5,000,000 bytes.
        let decimal_unit = matches!(size.get_ref(), RawSize::Text(t) if {
            let t = t.to_ascii_lowercase();
            ["kb", "mb", "gb", "tb"].iter().any(|u| t.ends_with(u))
        });
        let hint = if decimal_unit {
            format!("{hint}; note that KB, MB, GB and TB are powers of 1000: write MiB or GiB for powers of 1024")
        } else {
            hint.to_string()
        };
        self.error_at(
            offset,
            format!("s3.{key} must be {bounds} (got {shown})"),
            Some(hint),
        );
        None
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

    fn zones(
        &mut self,
        raw: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
        source: &CheckedSide,
        destination: &CheckedSide,
    ) -> BTreeMap<String, String> {
        let mut zones = BTreeMap::new();
        for (from, to) in raw.unwrap_or_default() {
            self.zone(&from, "source", source);
            self.zone(&to, "destination", destination);
            zones.insert(from.into_inner(), to.into_inner());
        }
        zones
    }

    fn zone(&mut self, zone: &Spanned<String>, side: &str, expected: &CheckedSide) {
        let name = zone.get_ref();
        let Some(region) = zone_region(name) else {
            self.error_at(
                zone.span().start,
                format!(
                    "invalid availability zone {name:?}: expected a region followed by one letter, like us-east-1a"
                ),
                None,
            );
            return;
        };
        if expected.region_ok && region != expected.config.region {
            self.error_at(
                zone.span().start,
                format!(
                    "zone {name:?} is not in the {side} region {}",
                    expected.config.region
                ),
                Some("[zones] maps source zones (keys) to destination zones (values)".to_string()),
            );
        }
    }

    fn apply(&mut self, raw: Option<RawApply>) -> ApplyConfig {
        let Some(raw) = raw else {
            return ApplyConfig::default();
        };
        let mut apply = ApplyConfig::default();
        if let Some(n) = raw.concurrency {
            let value = *n.get_ref();
            match usize::try_from(value) {
                Ok(v) if (1..=MAX_CONCURRENCY).contains(&v) => apply.concurrency = v,
                _ => self.error_at(
                    n.span().start,
                    format!(
                        "apply.concurrency must be between 1 and {MAX_CONCURRENCY} (got {value})"
                    ),
                    Some(format!("the default is {DEFAULT_CONCURRENCY}")),
                ),
            }
        }
        for (key, limit) in raw.rate_limits.unwrap_or_default() {
            if let Err((problem, hint)) = check_rate_limit_key(key.get_ref()) {
                self.error_at(
                    key.span().start,
                    format!("invalid rate limit key {:?}: {problem}", key.get_ref()),
                    hint,
                );
            }
            let limit = limit.into_inner();
            let burst = *limit.burst.get_ref();
            let burst = match u32::try_from(burst) {
                Ok(b) if b >= 1 => b,
                _ => {
                    self.error_at(
                        limit.burst.span().start,
                        format!("burst must be between 1 and {} (got {burst})", u32::MAX),
                        None,
                    );
                    1
                }
            };
            let per_second = *limit.per_second.get_ref();
            if !(per_second.is_finite() && per_second > 0.0) {
                self.error_at(
                    limit.per_second.span().start,
                    format!("per_second must be a number greater than 0 (got {per_second})"),
                    Some("to stop a class of calls, narrow [scope] instead".to_string()),
                );
            }
            apply
                .rate_limits
                .insert(key.into_inner(), RateLimit { burst, per_second });
        }
        apply
    }

    fn notify(&mut self, raw: Option<Spanned<RawNotify>>) -> NotifyConfig {
        let mut notify = NotifyConfig::default();
        let Some(raw) = raw else {
            return notify;
        };
        let table = raw.span();
        let raw = raw.into_inner();
        if raw.sns_topic_arn.is_none() && raw.webhook_url.is_none() {
            self.error_at(
                table.start,
                "[notify] names no target: set sns_topic_arn, webhook_url or both".to_string(),
                Some(
                    "e.g. sns_topic_arn = \"arn:aws:sns:eu-west-1:222222222222:ferry-runs\"; \
                     or remove [notify] for no messages"
                        .to_string(),
                ),
            );
        }
        if let Some(arn) = raw.sns_topic_arn {
            match check_topic_arn(arn.get_ref()) {
                Ok(()) => notify.sns_topic_arn = Some(arn.get_ref().clone()),
                Err((problem, hint)) => self.error_at(
                    arn.span().start,
                    format!(
                        "invalid notify.sns_topic_arn {:?}: {problem}",
                        arn.get_ref()
                    ),
                    hint,
                ),
            }
        }
        if let Some(url) = raw.webhook_url {
            // Never repeated: a webhook's path or query is often its secret.
            match check_url(url.get_ref()) {
                Ok(()) => notify.webhook_url = Some(url.get_ref().clone()),
                Err(problem) => self.error_at(
                    url.span().start,
                    format!("invalid notify.webhook_url: {problem}"),
                    Some("expected an http:// or https:// URL that receives a JSON POST".into()),
                ),
            }
        }
        notify
    }
}

struct CheckedSide {
    config: SideConfig,
    /// Zone checks compare against the region only when it is itself valid,
    /// so one typo does not produce a cascade of errors.
    region_ok: bool,
}

fn placeholder_list() -> String {
    BUCKET_PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Value checks. Each returns what is wrong, phrased to follow a colon.

/// `Err(hint)` on failure; the message itself is fixed by the caller.
fn check_region(region: &str) -> Result<(), Option<String>> {
    if is_region(region) {
        return Ok(());
    }
    if is_region(&region.to_ascii_lowercase()) {
        return Err(Some("region codes are lowercase".to_string()));
    }
    if let Some(r) = zone_region(region) {
        return Err(Some(format!(
            "{region} is an availability zone; its region is {r}"
        )));
    }
    Err(None)
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let (geo, rest) = match parts.as_slice() {
        [geo, "gov", rest @ ..] | [geo, rest @ ..] => (geo, rest),
        [] => return false,
    };
    let [direction, number] = rest else {
        return false;
    };
    geo.len() == 2
        && geo.chars().all(|c| c.is_ascii_lowercase())
        && DIRECTIONS.contains(direction)
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
        && !number.starts_with('0')
}

/// The region of an availability zone name, if it is one.
fn zone_region(zone: &str) -> Option<&str> {
    let last = zone.chars().last()?;
    let region = &zone[..zone.len() - last.len_utf8()];
    (last.is_ascii_lowercase() && is_region(region)).then_some(region)
}

fn region_partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// The `arn:<partition>:` start every ARN ferry reads shares.
fn check_arn_head(
    prefix: &str,
    partition: &str,
    shape: impl Fn() -> Option<String>,
) -> Result<(), (String, Option<String>)> {
    if prefix != "arn" {
        return Err(("an ARN starts with `arn:`".to_string(), shape()));
    }
    if !PARTITIONS.contains(&partition) {
        return Err((
            format!(
                "unknown partition {partition:?}: expected {}",
                PARTITIONS.join(", ")
            ),
            None,
        ));
    }
    Ok(())
}

/// Returns the partition on success.
fn check_role_arn(arn: &str) -> Result<&str, (String, Option<String>)> {
    let shape = || Some("expected arn:aws:iam::<12-digit account id>:role/<name>".to_string());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(("not an ARN".to_string(), shape()));
    };
    check_arn_head(prefix, partition, shape)?;
    if *service != "iam" {
        let hint = if *service == "sts" {
            Some(
                "that looks like an assumed-role session ARN; use the role's own ARN, \
                 arn:aws:iam::<account id>:role/<name>"
                    .to_string(),
            )
        } else {
            shape()
        };
        return Err((format!("service must be iam (got {service:?})"), hint));
    }
    if !region.is_empty() {
        return Err((format!("IAM ARNs have no region (got {region:?})"), shape()));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(("account id must be 12 digits".to_string(), shape()));
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err((
            "resource must be role/<name>".to_string(),
            Some("only roles can be assumed; users and groups cannot".to_string()),
        ));
    };
    let segments: Vec<&str> = path_and_name.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    if name.is_empty() {
        return Err(("role name is missing after role/".to_string(), shape()));
    }
    if name.len() > 64 {
        return Err(("role name is longer than 64 characters".to_string(), None));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err(("role path has an empty segment (`//`)".to_string(), None));
    }
    if let Some(bad) = path_and_name
        .chars()
        .find(|c| *c != '/' && !is_iam_name_char(*c))
    {
        return Err((
            format!("character {bad:?} is not allowed in a role path or name"),
            Some("role names use letters, digits and +=,.@_-".to_string()),
        ));
    }
    Ok(partition)
}

/// `arn:<partition>:sns:<region>:<12-digit account>:<topic>`; a topic name
/// is 1 to 256 letters, digits, `-` and `_`, with `.fifo` for FIFO topics.
fn check_topic_arn(arn: &str) -> Result<(), (String, Option<String>)> {
    let shape =
        || Some("expected arn:aws:sns:<region>:<12-digit account id>:<topic name>".to_string());
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 7 && parts.get(2) == Some(&"sns") {
        return Err((
            "that is a subscription ARN, not a topic ARN".to_string(),
            Some("drop the last part (after the topic name)".to_string()),
        ));
    }
    let [prefix, partition, service, region, account, topic] = parts.as_slice() else {
        return Err(("not an SNS topic ARN".to_string(), shape()));
    };
    check_arn_head(prefix, partition, shape)?;
    if *service != "sns" {
        return Err((format!("service must be sns (got {service:?})"), shape()));
    }
    if let Err(hint) = check_region(region) {
        let message = if region.is_empty() {
            "the region is missing".to_string()
        } else {
            format!("invalid region {region:?}")
        };
        return Err((message, hint.or_else(shape)));
    }
    if region_partition(region) != *partition {
        return Err((
            format!("region {region} is not in partition {partition}"),
            Some(format!(
                "{region} belongs to partition {}",
                region_partition(region)
            )),
        ));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(("account id must be 12 digits".to_string(), shape()));
    }
    let name = topic.strip_suffix(".fifo").unwrap_or(topic);
    if name.is_empty() || topic.len() > 256 {
        return Err((
            "the topic name must be 1 to 256 characters".to_string(),
            shape(),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err((
            format!("character {bad:?} is not allowed in a topic name"),
            Some("topic names use letters, digits, - and _ (and .fifo at the end)".to_string()),
        ));
    }
    Ok(())
}

fn check_external_id(id: &str) -> Result<(), String> {
    let len = id.chars().count();
    if !(2..=1224).contains(&len) {
        return Err("must be 2 to 1224 characters long".to_string());
    }
    if !id
        .chars()
        .all(|c| is_iam_name_char(c) || c == ':' || c == '/')
    {
        return Err("may only contain letters, digits and +=,.@:/_-".to_string());
    }
    Ok(())
}

fn check_session_name(name: &str) -> Result<(), String> {
    if !(2..=64).contains(&name.len()) {
        return Err("must be 2 to 64 characters long".to_string());
    }
    if !name.chars().all(is_iam_name_char) {
        return Err("may only contain letters, digits and +=,.@_-".to_string());
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), String> {
    if url.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".to_string());
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err("expected an absolute URL starting with http:// or https://".to_string());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not contain a user name or password".to_string());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err("unclosed `[` in the host".to_string());
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("invalid IPv6 host".to_string());
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 host".to_string()),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".to_string());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' || c == ':')
    {
        return Err("the host may only contain letters, digits, '-' and '.'".to_string());
    }
    if let Some(port) = port {
        if port.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
            return Err(format!("invalid port {port:?}"));
        }
    }
    Ok(())
}

const SIZE_HINT: &str = "write a number of bytes, or a string with a unit such as \"64 MiB\", \
                         \"5GiB\" or \"100 MB\" (KiB, MiB, GiB, TiB are powers of 1024; \
                         KB, MB, GB, TB powers of 1000)";

/// Bytes from `"64 MiB"`, `"5GiB"`, `"1.5 GiB"`, `"100MB"` or `"4096"`.
/// Decimals are accepted when they come to whole bytes, computed exactly.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..number_end], text[number_end..].trim_start());
    if number.is_empty() {
        return Err("expected a number followed by an optional unit".to_string());
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) || fraction.contains('.') {
        return Err(format!("{number:?} is not a number"));
    }
    if fraction.len() > 12 {
        return Err("has more than 12 decimal places".to_string());
    }
    let Some((_, factor)) = SIZE_UNITS
        .iter()
        .find(|(name, _)| unit.is_empty() || name.eq_ignore_ascii_case(unit))
    else {
        return Err(format!("unknown unit {unit:?}"));
    };
    let too_large = || format!("is larger than {} bytes", u64::MAX);
    let digits = |s: &str| s.parse::<u128>().map_err(|_| too_large());
    let factor = u128::from(*factor);
    let scale = 10u128
        .checked_pow(u32::try_from(fraction.len()).map_err(|_| too_large())?)
        .ok_or_else(too_large)?;
    let fraction_bytes = if fraction.is_empty() {
        0
    } else {
        digits(fraction)?
            .checked_mul(factor)
            .ok_or_else(too_large)?
    };
    if fraction_bytes % scale != 0 {
        return Err("is not a whole number of bytes".to_string());
    }
    let bytes = digits(whole)?
        .checked_mul(factor)
        .and_then(|b| b.checked_add(fraction_bytes / scale))
        .ok_or_else(too_large)?;
    u64::try_from(bytes).map_err(|_| too_large())
}

/// A size in the largest binary unit that divides it, for messages.
fn show_size(bytes: u64) -> String {
    SIZE_UNITS
        .iter()
        .rev()
        .filter(|(name, _)| name.contains('i') || *name == "B")
        .find(|(_, factor)| bytes >= *factor && bytes.is_multiple_of(*factor))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(name, factor)| match *name {
                "B" if bytes == 1 => "1 byte".to_string(),
                "B" => format!("{bytes} bytes"),
                _ => format!("{} {name}", bytes / factor),
            },
        )
}

fn check_rate_limit_key(key: &str) -> Result<(), (String, Option<String>)> {
    let Some((service, class)) = key.split_once('.') else {
        return Err((
            "expected <service>.<class>, e.g. \"ec2.mutating\"".to_string(),
            None,
        ));
    };
    if !ENDPOINT_SERVICES.contains(&service) {
        return Err((
            format!(
                "unknown service {service:?}: accepted services are {}",
                ENDPOINT_SERVICES.join(", ")
            ),
            closest(service, ENDPOINT_SERVICES).map(|c| format!("did you mean `{c}`?")),
        ));
    }
    if class.is_empty()
        || !class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err((
            "the class after the dot must be a name like mutating or CopyImage".to_string(),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"eu-west-1\"\n";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("ferry.toml"))
    }

    fn err(text: &str) -> ConfigError {
        match parse(text) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }

    /// Asserts the error position and that the message contains `needle`.
    #[track_caller]
    fn assert_err(text: &str, line: usize, column: usize, needle: &str) -> ConfigError {
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
    fn with(extra: &str) -> String {
        format!("{MINIMAL}{extra}")
    }

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
    fn accepted_regions() {
        for r in [
            "us-east-1",
            "eu-west-2",
            "ap-southeast-1",
            "us-gov-west-1",
            "cn-north-1",
            "il-central-1",
            "ca-west-1",
            "mx-central-1",
            "ap-northeast-3",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "us-east",
            "us-east-01",
            "useast-1",
            "us-up-1",
            "US-EAST-1",
            "us-east-1a",
            "",
        ] {
            assert!(!is_region(r), "{r}");
        }
    }

    #[test]
    fn skeleton_parses_as_is() {
        let c = Config::parse(&skeleton(), Path::new("ferry.toml")).unwrap();
        assert_eq!(c.source.region, "us-east-1");
        assert_eq!(c.destination.region, "eu-west-1");
        assert_eq!(c.source.role_arn, None);
        assert_eq!(c.naming, NamingConfig::default());
        assert_eq!(c.apply, ApplyConfig::default());
        // The values shown are the defaults, so the two cannot drift apart.
        assert_eq!(c.s3, S3Config::default());
    }

    /// Every example in the skeleton is itself valid, so uncommenting any of
    /// them never breaks the file.
    #[test]
    fn skeleton_examples_parse_when_uncommented() {
        let uncommented: String = skeleton()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if (rest.contains(" = ")
                        && rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '"'))
                        || rest.starts_with('[') =>
                {
                    rest
                }
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::parse(&uncommented, Path::new("ferry.toml")).unwrap();
        assert_eq!(
            c.source.role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/ferry")
        );
        assert_eq!(
            c.destination.role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/ferry")
        );
        assert_eq!(c.source.endpoints.len(), 2);
        assert_eq!(c.destination.endpoints.len(), 1);
        assert_eq!(c.scope.include, ["vpc", "security_group"]);
        assert_eq!(c.zones.len(), 2);
        assert_eq!(c.apply.rate_limits.len(), 2);
        assert_eq!(c.naming.buckets.len(), 2);
        assert_eq!(
            c.notify.sns_topic_arn.as_deref(),
            Some("arn:aws:sns:eu-west-1:222222222222:ferry-runs")
        );
        assert!(c.notify.webhook_url.is_some());
    }

    #[test]
    fn skeleton_documents_every_key() {
        let s = skeleton();
        for key in SIDE_KEYS
            .iter()
            .filter(|k| **k != "endpoints")
            .chain(&["include", "exclude", "exclude_tags", "exclude_ids"])
            .chain(&["bucket", "concurrency", "burst", "per_second"])
            .chain(&[
                "workers",
                "multipart_threshold",
                "part_size",
                "versions",
                "source_policy",
                "batch_objects",
                "batch_bytes",
                "batch",
            ])
            .chain(&["sns_topic_arn", "webhook_url"])
        {
            assert!(s.contains(&format!("{key} =")), "{key} not shown");
        }
        for table in [
            "[source]",
            "[source.endpoints]",
            "[destination]",
            "[scope]",
            "[naming]",
            "[naming.buckets]",
            "[zones]",
            "[apply]",
            "[apply.rate_limits]",
            "[s3]",
            "[notify]",
        ] {
            assert!(s.contains(table), "{table} not shown");
        }
        for service in ENDPOINT_SERVICES {
            assert!(s.contains(service), "{service} not listed");
        }
        for p in BUCKET_PLACEHOLDERS {
            assert!(s.contains(&format!("{{{p}}}")), "{p} not listed");
        }
    }

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

    #[test]
    fn sides_and_regions_are_required() {
        let e = err("[destination]\nregion = \"eu-west-1\"\n");
        assert_eq!((e.line, e.column), (None, None));
        assert_eq!(e.message, "missing [source] table");
        assert!(e.hint.as_deref().unwrap().contains("ferry init"));
        assert_eq!(
            e.to_string().lines().next(),
            Some("ferry.toml: missing [source] table")
        );

        let e = err("[source]\nregion = \"us-east-1\"\n");
        assert_eq!(e.message, "missing [destination] table");

        assert_err(
            "[source]\nprofile = \"p\"\n[destination]\nregion = \"eu-west-1\"\n",
            1,
            1,
            "[source] has no `region`",
        );
        assert_err(
            "[source]\nregion = \"us-east-1\"\n\n[destination]\n",
            4,
            1,
            "[destination] has no `region`",
        );
        // A located error wins over one without a position.
        assert_err("[source]\nregion = \"nowhere\"\n", 2, 10, "invalid region");
    }

    #[test]
    fn invalid_regions() {
        let e = assert_err(
            "[source]\nregion = \"us-east-1a\"\n[destination]\nregion = \"eu-west-1\"\n",
            2,
            10,
            "invalid region \"us-east-1a\"",
        );
        assert!(e.hint.unwrap().contains("its region is us-east-1"));
        let e = assert_err(
            "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"EU-WEST-1\"\n",
            4,
            10,
            "invalid region",
        );
        assert!(e.hint.unwrap().contains("lowercase"));
        let e = assert_err(
            "[source]\nregion = \"us-east-1\"\n[destination]\n  region   =   'moon'\n",
            4,
            16,
            "invalid region \"moon\": expected a name like us-east-1 or eu-west-2",
        );
        assert_eq!(e.hint, None);
    }

    fn side_with(line: &str) -> String {
        format!("[source]\nregion = \"us-east-1\"\n{line}\n[destination]\nregion = \"eu-west-1\"\n")
    }

    #[test]
    fn role_arn_problems_are_explained() {
        let cases = [
            (
                "arn:aws:iam::12345678901:role/ferry",
                "account id must be 12 digits",
            ),
            (
                "arn:aws:iam::1234567890ab:role/ferry",
                "account id must be 12 digits",
            ),
            (
                "arn:azure:iam::111111111111:role/ferry",
                "unknown partition \"azure\"",
            ),
            ("arn:aws:s3::111111111111:role/ferry", "service must be iam"),
            (
                "arn:aws:iam:us-east-1:111111111111:role/ferry",
                "IAM ARNs have no region",
            ),
            (
                "arn:aws:iam::111111111111:user/ferry",
                "resource must be role/<name>",
            ),
            ("arn:aws:iam::111111111111:role/", "role name is missing"),
            ("arn:aws:iam::111111111111:role/a//b", "empty segment"),
            ("arn:aws:iam::111111111111:role/fer ry", "not allowed"),
            ("aws:iam::111111111111:role/ferry", "not an ARN"),
            (
                "ARN:aws:iam::111111111111:role/ferry:x",
                "starts with `arn:`",
            ),
        ];
        for (arn, needle) in cases {
            let e = assert_err(&side_with(&format!("role_arn = {arn:?}")), 3, 12, needle);
            assert!(e.message.starts_with("invalid role_arn"), "{e}");
        }
        let e = assert_err(
            &side_with("role_arn = \"arn:aws:sts::111111111111:assumed-role/ferry/me\""),
            3,
            12,
            "service must be iam",
        );
        assert!(e.hint.unwrap().contains("assumed-role"));
    }

    #[test]
    fn role_arn_partition_must_match_region() {
        let e = assert_err(
            "[source]\nregion = \"cn-north-1\"\nrole_arn = \"arn:aws:iam::111111111111:role/f\"\n[destination]\nregion = \"eu-west-1\"\n",
            3,
            12,
            "partition aws but region cn-north-1 is in aws-cn",
        );
        assert!(e.hint.is_some());
        parse("[source]\nregion = \"cn-north-1\"\nrole_arn = \"arn:aws-cn:iam::111111111111:role/f\"\n[destination]\nregion = \"eu-west-1\"\n").unwrap();
    }

    #[test]
    fn urls_must_be_absolute_http() {
        let cases = [
            ("ftp://host", "http:// or https://"),
            ("127.0.0.1:5000", "http:// or https://"),
            ("http://", "has no host"),
            ("http:///path", "has no host"),
            ("http://host:99999", "invalid port"),
            ("http://host:", "invalid port"),
            ("http://ho st", "spaces"),
            ("http://[::1", "unclosed"),
            ("http://h*st", "host may only contain"),
        ];
        for (url, needle) in cases {
            let e = assert_err(
                &side_with(&format!("endpoint_url = {url:?}")),
                3,
                16,
                needle,
            );
            assert!(e.message.starts_with("invalid endpoint_url"), "{e}");
        }
        for url in [
            "http://localhost",
            "https://a.b.c:443/x?y#z",
            "http://[::1]:80",
        ] {
            parse(&side_with(&format!("endpoint_url = {url:?}"))).unwrap();
        }
    }

    #[test]
    fn url_with_credentials_is_refused_without_echo() {
        let e = assert_err(
            &side_with("endpoint_url = \"http://user:hunter2@host\""),
            3,
            16,
            "user name or password",
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn endpoints_need_known_services_and_urls() {
        let text = "[source]\nregion = \"us-east-1\"\n[source.endpoints]\nec2 = \"https://x\"\nec3 = \"https://y\"\n[destination]\nregion = \"eu-west-1\"\n";
        let e = assert_err(text, 5, 1, "unknown service \"ec3\" in [source.endpoints]");
        assert!(e.message.contains("ec2, sts, iam, s3"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `ec2`?"));

        let text = "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"eu-west-1\"\nendpoints = { s3 = \"s3.local\" }\n";
        assert_err(text, 5, 20, "invalid endpoint for s3 \"s3.local\"");
    }

    #[test]
    fn profile_external_id_and_session_name() {
        assert_err(
            &side_with("profile = \"  \""),
            3,
            11,
            "profile must not be empty",
        );
        let e = assert_err(
            &side_with("external_id = \"abc\""),
            3,
            15,
            "external_id is only used when assuming a role",
        );
        assert!(!e.to_string().contains("abc"));
        assert_err(
            &side_with("session_name = \"abc\""),
            3,
            16,
            "session_name is only used when assuming a role",
        );
        let role = "role_arn = \"arn:aws:iam::111111111111:role/f\"";
        let e = assert_err(
            &side_with(&format!("{role}\nexternal_id = \"x y\"")),
            4,
            15,
            "invalid external_id: may only contain",
        );
        assert!(!e.to_string().contains("x y"));
        assert_err(
            &side_with(&format!("{role}\nsession_name = \"x\"")),
            4,
            16,
            "invalid session_name",
        );
    }

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

    #[test]
    fn zones_are_checked_against_both_regions() {
        assert_err(
            &with("[zones]\n\"us-east-1\" = \"eu-west-1a\"\n"),
            6,
            1,
            "invalid availability zone \"us-east-1\"",
        );
        assert_err(
            &with("[zones]\n\"us-east-1a\" = \"eu-west-1-a\"\n"),
            6,
            16,
            "invalid availability zone \"eu-west-1-a\"",
        );
        let e = assert_err(
            &with("[zones]\n\"us-west-2a\" = \"eu-west-1a\"\n"),
            6,
            1,
            "zone \"us-west-2a\" is not in the source region us-east-1",
        );
        assert!(e.hint.is_some());
        assert_err(
            &with("[zones]\n\"us-east-1a\" = \"us-east-1b\"\n"),
            6,
            16,
            "zone \"us-east-1b\" is not in the destination region eu-west-1",
        );
        // An invalid region is reported once, not once more per zone.
        assert_err(
            "[source]\nregion = \"nowhere\"\n[destination]\nregion = \"eu-west-1\"\n[zones]\n\"us-east-1a\" = \"eu-west-1a\"\n",
            2,
            10,
            "invalid region",
        );
    }

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

    #[test]
    fn s3_workers_range() {
        for n in ["0", "257", "-1"] {
            let e = assert_err(
                &with(&format!("[s3]\nworkers = {n}\n")),
                6,
                11,
                &format!("s3.workers must be between 1 and 256 (got {n})"),
            );
            assert!(e.hint.unwrap().contains("the default is 16"));
        }
        for n in [1, 256] {
            let c = parse(&with(&format!("[s3]\nworkers = {n}\n"))).unwrap();
            assert_eq!(c.s3.workers, n);
        }
        assert_err(
            &with("[s3]\nworkers = \"8\"\n"),
            6,
            11,
            "invalid type: string \"8\", expected an integer",
        );
    }

    #[test]
    fn s3_sizes_are_parsed() {
        let c = parse(&with(
            "[s3]\nmultipart_threshold = \"5GiB\"\npart_size = \"64 mib\"\nbatch_bytes = \"100MB\"\n",
        ))
        .unwrap();
        assert_eq!(c.s3.multipart_threshold, 5 * GIB);
        assert_eq!(c.s3.part_size, 64 * MIB);
        assert_eq!(c.s3.batch_bytes, 100_000_000);
        // A threshold below the part size is allowed (objects just above it
        // are copied in one part).
        let c = parse(&with(
            "[s3]\nmultipart_threshold = 5242880\npart_size = \"1 GiB\"\n",
        ))
        .unwrap();
        assert_eq!((c.s3.multipart_threshold, c.s3.part_size), (5 * MIB, GIB));

        for (text, bytes) in [
            ("0", 0),
            ("4096", 4096),
            ("  7 B ", 7),
            ("1 KB", 1_000),
            ("1kib", 1_024),
            ("2 GB", 2_000_000_000),
            ("3 TB", 3_000_000_000_000),
            ("1 TiB", 1 << 40),
            ("1.5 KiB", 1_536),
            ("0.5MiB", 512 * 1024),
            ("2.000 MB", 2_000_000),
            ("16777215 TiB", ((1 << 24) - 1) << 40),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for (text, needle) in [
            ("", "expected a number"),
            ("MiB", "expected a number"),
            ("-5 MiB", "expected a number"),
            ("5 MiBs", "unknown unit \"MiBs\""),
            ("5 M", "unknown unit \"M\""),
            ("1.2.3 MB", "\"1.2.3\" is not a number"),
            ("5. MB", "\"5.\" is not a number"),
            (".5 MB", "\".5\" is not a number"),
            ("0.1 KiB", "not a whole number of bytes"),
            ("1.0000000000001 TB", "more than 12 decimal places"),
            ("16777216 TiB", "is larger than"),
            (
                "99999999999999999999999999999999999999999",
                "is larger than",
            ),
        ] {
            let e = parse_size(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {needle:?} not in {e:?}");
        }
    }

    #[test]
    fn s3_size_errors_are_located() {
        let e = assert_err(
            &with("[s3]\npart_size = \"64 MiBs\"\n"),
            6,
            13,
            "invalid size \"64 MiBs\" for s3.part_size: unknown unit \"MiBs\"",
        );
        assert!(e.hint.unwrap().contains("powers of 1024"));
        let e = assert_err(
            &with("[s3]\npart_size = \"4 MiB\"\n"),
            6,
            13,
            "s3.part_size must be between 5 MiB and 5 GiB (got \"4 MiB\" = 4194304 bytes)",
        );
        assert!(e.hint.unwrap().contains("5 MiB to 5 GiB"));
        // "5 MB" looks like S3's minimum but is not.
        let e = assert_err(
            &with("[s3]\nmultipart_threshold = \"5 MB\"\n"),
            6,
            23,
            "s3.multipart_threshold must be between 5 MiB and 5 GiB (got \"5 MB\" = 5000000 bytes)",
        );
        assert!(e.hint.unwrap().contains("powers of 1000"));
        let e = assert_err(
            &with("[s3]\nmultipart_threshold = 5368709121\n"),
            6,
            23,
            "must be between 5 MiB and 5 GiB (got 5368709121)",
        );
        assert!(!e.hint.unwrap().contains("powers of 1000"));
        assert_err(
            &with("[s3]\npart_size = -1\n"),
            6,
            13,
            "s3.part_size must be between 5 MiB and 5 GiB (got -1)",
        );
        assert_err(
            &with("[s3]\nbatch_bytes = 0\n"),
            6,
            15,
            "s3.batch_bytes must be at least 1 byte (got 0)",
        );
        assert_err(
            &with("[s3]\nbatch_bytes = \"lots\"\n"),
            6,
            15,
            "invalid size \"lots\" for s3.batch_bytes: expected a number",
        );
        let e = assert_err(
            &with("[s3]\npart_size = 5.5\n"),
            6,
            13,
            "invalid type: floating point `5.5`, expected a size (an integer number of bytes, or a string like \"64 MiB\")",
        );
        assert_eq!(e.hint, None);
        assert_err(
            &with("[s3]\nbatch_bytes = true\n"),
            6,
            15,
            "invalid type: boolean `true`, expected a size",
        );
    }

    #[test]
    fn s3_versions_and_switches() {
        let e = assert_err(
            &with("[s3]\nversions = \"alll\"\n"),
            6,
            12,
            "invalid s3.versions \"alll\": expected \"current\" or \"all\"",
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean \"all\"?"));
        let e = assert_err(
            &with("[s3]\nversions = \"latest\"\n"),
            6,
            12,
            "invalid s3.versions \"latest\"",
        );
        assert!(e.hint.unwrap().contains("every version and delete marker"));
        assert_eq!(
            parse(&with("[s3]\nversions = \"all\"\n"))
                .unwrap()
                .s3
                .versions,
            VersionsMode::All
        );
        let e = assert_err(
            &with("[s3]\nsource_policy = \"no\"\n"),
            6,
            17,
            "invalid type: string \"no\", expected a boolean",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("write true or false, without quotes")
        );
        assert_err(
            &with("[s3]\nbatch = 1\n"),
            6,
            9,
            "invalid type: integer `1`, expected a boolean",
        );
        for (n, needle) in [("0", "(got 0)"), ("-3", "(got -3)")] {
            let e = assert_err(
                &with(&format!("[s3]\nbatch_objects = {n}\n")),
                6,
                17,
                &format!("s3.batch_objects must be at least 1 {needle}"),
            );
            assert!(e.hint.unwrap().contains("S3 Batch Operations"));
        }
        let c = parse(&with(
            "[s3]\nbatch_objects = 1\nbatch = true\nsource_policy = false\n",
        ))
        .unwrap();
        assert_eq!(c.s3.batch_objects, 1);
        assert!(c.s3.batch && !c.s3.source_policy);
        assert_err(
            &format!("s3 = 1\n{MINIMAL}"),
            1,
            6,
            "invalid type: integer `1`, expected a table",
        );
    }

    #[test]
    fn show_size_picks_the_largest_exact_unit() {
        assert_eq!(show_size(5 * MIB), "5 MiB");
        assert_eq!(show_size(5 * GIB), "5 GiB");
        assert_eq!(show_size(1024 * GIB), "1 TiB");
        assert_eq!(show_size(1), "1 byte");
        assert_eq!(show_size(1_000_000), "1000000 bytes");
        assert_eq!(show_size(0), "0 bytes");
    }

    #[test]
    fn concurrency_range() {
        for (n, col) in [("0", 15), ("257", 15), ("-1", 15)] {
            let e = assert_err(
                &with(&format!("[apply]\nconcurrency = {n}\n")),
                6,
                col,
                "apply.concurrency must be between 1 and 256",
            );
            assert!(e.message.contains(&format!("(got {n})")));
        }
        for n in [1, 256] {
            let c = parse(&with(&format!("[apply]\nconcurrency = {n}\n"))).unwrap();
            assert_eq!(c.apply.concurrency, n);
        }
    }

    #[test]
    fn rate_limits_are_checked() {
        let rl = |line: &str| with(&format!("[apply.rate_limits]\n{line}\n"));
        assert_err(
            &rl("\"ec2\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "expected <service>.<class>",
        );
        let e = assert_err(
            &rl("\"ecc2.mutating\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "unknown service \"ecc2\"",
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `ec2`?"));
        assert_err(
            &rl("\"ec2.\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "the class after the dot",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 0, per_second = 1 }"),
            6,
            28,
            "burst must be between 1 and 4294967295 (got 0)",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 4294967296, per_second = 1 }"),
            6,
            28,
            "burst must be between 1 and 4294967295",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1, per_second = 0 }"),
            6,
            44,
            "per_second must be a number greater than 0",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1, per_second = nan }"),
            6,
            44,
            "per_second",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1 }"),
            6,
            18,
            "missing key `per_second`",
        );
    }

    #[test]
    fn secret_keys_are_refused_without_echoing_the_value() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let cases = [
            (
                format!("aws_secret_access_key = \"{secret}\"\n{MINIMAL}"),
                1,
                1,
            ),
            (
                side_with(&format!("aws_access_key_id = \"{secret}\"")),
                3,
                1,
            ),
            (side_with(&format!("  Secret-Key = \"{secret}\"")), 3, 3),
            (
                with(&format!(
                    "[scope]\nexclude_tags = {{ session_token = \"{secret}\" }}\n"
                )),
                6,
                18,
            ),
            (
                with(&format!("[zones]\n\"aws_session_token\" = \"{secret}\"\n")),
                6,
                1,
            ),
            (
                format!("[source]\nregion = \"bad\"\nsecret_key = \"{secret}\"\n"),
                3,
                1,
            ),
            (format!("secret_key = {{ nested = \"{secret}\" }}\n"), 1, 1),
            (
                with(&format!("[naming.buckets]\nsecret_key = \"{secret}\"\n")),
                6,
                1,
            ),
            (with(&format!("[s3]\naccess_key = \"{secret}\"\n")), 6, 1),
        ];
        for (text, line, column) in cases {
            let e = err(&text);
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(secret), "value leaked: {shown}");
            assert!(e.message.contains("not accepted in ferry.toml"), "{e}");
            assert!(e.message.contains("credential chain"), "{e}");
            assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
        }
        // A syntax error on the secret's own line does not echo it either.
        let e = err(&format!("aws_secret_access_key = \"{secret}\n"));
        assert!(!format!("{e} {e:?}").contains(secret));
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
    #[test]
    fn notify_targets_parse() {
        assert!(parse(MINIMAL).unwrap().notify.is_empty());
        let c = parse(&with(
            "[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:222222222222:ferry-runs\"\n",
        ))
        .unwrap();
        assert_eq!(
            c.notify.sns_topic_arn.as_deref(),
            Some("arn:aws:sns:eu-west-1:222222222222:ferry-runs")
        );
        assert_eq!(c.notify.webhook_url, None);
        let c = parse(&with(
            "[notify]\nwebhook_url = \"http://127.0.0.1:8080/hook?token=abc\"\n\
             sns_topic_arn = \"arn:aws-us-gov:sns:us-gov-west-1:222222222222:ops_1.fifo\"\n",
        ))
        .unwrap();
        assert_eq!(
            c.notify.webhook_url.as_deref(),
            Some("http://127.0.0.1:8080/hook?token=abc")
        );
        assert!(c.notify.sns_topic_arn.unwrap().ends_with("ops_1.fifo"));
    }

    #[test]
    fn notify_targets_do_not_change_the_digest() {
        let plain = parse(MINIMAL).unwrap();
        let notified = parse(&with(
            "[notify]\nwebhook_url = \"https://hooks.example.com/x\"\n",
        ))
        .unwrap();
        assert_eq!(plain.digest(), notified.digest());
    }

    #[test]
    fn notify_errors_are_located() {
        assert_err(&with("[notify]\n"), 5, 1, "[notify] names no target");
        assert_err(
            &with("[notify]\nsns_topic = \"x\"\n"),
            6,
            1,
            "unknown key `sns_topic`",
        );
        assert_err(
            &with("[notify]\nwebhook_url = 3\n"),
            6,
            15,
            "expected a string",
        );
        for (arn, needle) in [
            ("sns:topic", "not an SNS topic ARN"),
            ("urn:aws:sns:eu-west-1:222222222222:t", "starts with `arn:`"),
            (
                "arn:aws-xx:sns:eu-west-1:222222222222:t",
                "unknown partition",
            ),
            (
                "arn:aws:sqs:eu-west-1:222222222222:t",
                "service must be sns",
            ),
            ("arn:aws:sns::222222222222:t", "region is missing"),
            (
                "arn:aws:sns:eu-west:222222222222:t",
                "invalid region \"eu-west\"",
            ),
            (
                "arn:aws-cn:sns:eu-west-1:222222222222:t",
                "not in partition aws-cn",
            ),
            ("arn:aws:sns:eu-west-1:2222:t", "12 digits"),
            ("arn:aws:sns:eu-west-1:222222222222:", "1 to 256"),
            ("arn:aws:sns:eu-west-1:222222222222:a.b", "character '.'"),
            (
                "arn:aws:sns:eu-west-1:222222222222:t:0f6a3c1e-5c7b-4b8e-9a1f-2d6c3b4a5e6f",
                "subscription ARN",
            ),
        ] {
            let e = assert_err(
                &with(&format!("[notify]\nsns_topic_arn = \"{arn}\"\n")),
                6,
                17,
                needle,
            );
            assert!(e.message.contains("notify.sns_topic_arn"), "{e}");
        }
        let long = format!("arn:aws:sns:eu-west-1:222222222222:{}", "t".repeat(257));
        assert_err(
            &with(&format!("[notify]\nsns_topic_arn = \"{long}\"\n")),
            6,
            17,
            "1 to 256",
        );
        let e = assert_err(
            &with("[notify]\nsns_topic_arn = \"arn:aws:sns:EU-west-1:222222222222:t\"\n"),
            6,
            17,
            "invalid region",
        );
        assert!(e.hint.unwrap().contains("lowercase"));
    }

    #[test]
    fn invalid_webhook_urls_are_refused_without_repeating_them() {
        for (url, needle) in [
            ("hooks.example.com/T0/secret-token", "http:// or https://"),
            (
                "ftp://hooks.example.com/secret-token",
                "http:// or https://",
            ),
            (
                "https://user:secret-token@hooks.example.com/x",
                "user name or password",
            ),
            ("https://hooks.example.com:0/secret-token", "invalid port"),
            ("https:///secret-token", "has no host"),
            ("https://hooks.example.com/secret-token x", "spaces"),
        ] {
            let e = assert_err(
                &with(&format!("[notify]\nwebhook_url = \"{url}\"\n")),
                6,
                15,
                needle,
            );
            assert!(e.message.starts_with("invalid notify.webhook_url:"), "{e}");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("secret-token"), "URL repeated: {shown}");
        }
    }

    #[test]
    fn urls_are_redacted_to_their_host() {
        assert_eq!(
            redact_url("https://hooks.example.com/services/T0/B0/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080?token=secret"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(
            redact_url("https://u:secret@hooks.example.com"),
            "https://hooks.example.com"
        );
        assert_eq!(
            redact_url("https://hooks.example.com/"),
            "https://hooks.example.com"
        );
        assert_eq!(redact_url("secret"), "(a URL)");
        let n = NotifyConfig {
            sns_topic_arn: None,
            webhook_url: Some("https://hooks.example.com/secret".into()),
        };
        assert!(!format!("{n:?}").contains("secret"));
    }
}
