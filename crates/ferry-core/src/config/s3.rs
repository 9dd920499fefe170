//! `[s3]`: how objects are copied (workers, multipart sizes, versions, the
//! source policy grant, S3 Batch Operations), and the sizes it is written in
//! (`"64 MiB"`).

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::closest;
use super::{Bounds, Checker};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawS3 {
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

impl Checker<'_> {
    pub(super) fn s3(&mut self, raw: Option<RawS3>) -> S3Config {
        let mut s3 = S3Config::default();
        let Some(raw) = raw else {
            return s3;
        };
        if let Some(n) = raw.workers {
            let hint = format!(
                "the default is {}; workers are shared by all buckets",
                S3Config::default().workers
            );
            let bounds = Bounds::between(1, MAX_S3_WORKERS);
            if let Some(v) = self.whole_number("s3.workers", &n, bounds, Some(hint)) {
                s3.workers = v;
            }
        }
        let part_hint = "S3 parts are 5 MiB to 5 GiB (only an object's last part may be smaller), \
                         and one CopyObject copies at most 5 GiB";
        let part_bounds = Bounds::between(MIN_PART_SIZE, MAX_PART_SIZE);
        if let Some(size) = raw.multipart_threshold {
            if let Some(v) = self.size("multipart_threshold", &size, part_bounds, part_hint) {
                s3.multipart_threshold = v;
            }
        }
        if let Some(size) = raw.part_size {
            if let Some(v) = self.size("part_size", &size, part_bounds, part_hint) {
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
            let hint = format!(
                "the default is {}; buckets with this many objects are offered to \
                 S3 Batch Operations",
                S3Config::default().batch_objects
            );
            let bounds = Bounds::at_least(1);
            if let Some(v) = self.whole_number("s3.batch_objects", &n, bounds, Some(hint)) {
                s3.batch_objects = v;
            }
        }
        if let Some(size) = raw.batch_bytes {
            let hint = "buckets holding this many bytes are offered to S3 Batch Operations";
            if let Some(v) = self.size("batch_bytes", &size, Bounds::at_least(1), hint) {
                s3.batch_bytes = v;
            }
        }
        s3
    }

    /// A size within `bounds`, or `None` after reporting why not.
    fn size(
        &mut self,
        key: &str,
        size: &Spanned<RawSize>,
        bounds: Bounds<u64>,
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
        if let Some(bytes) = bytes.filter(|b| bounds.contains(*b)) {
            return Some(bytes);
        }
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
            format!(
                "s3.{key} must be {} (got {shown})",
                bounds.describe(show_size)
            ),
            Some(hint),
        );
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

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
}
