//! Objects of S3 buckets, as pure data: one listed object, the rule that says
//! whether a destination object already is a copy of a source object, the
//! streaming merge-join of two key-sorted listings, the parts of a multipart
//! copy, the listing digest, and the per-bucket report verify prints.
//! No I/O: ferry-aws streams the listings and does the copies.
//!
//! Everything here works page by page so that memory stays flat in the
//! number of objects (ARCHITECTURE.md invariant 8): the merge-join holds at most one
//! page per side, the version grouper one key's versions.

use crate::spec::s3::ObjectSummary;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// One object (or object version, or delete marker) as a listing reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// As S3 reports it, without the quotes.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// Set when listed with versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default)]
    pub delete_marker: bool,
    /// "COMPOSITE" or "FULL_OBJECT" when the listing says (how the checksum
    /// of a multipart object was computed; a copy must use the same type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Listed with versions: this is the key's current version.
    #[serde(default)]
    pub is_latest: bool,
}

impl ObjectEntry {
    /// An object as ListObjectsV2 reports it (no version, no checksum).
    pub fn new(key: impl Into<String>, size: u64, etag: impl Into<String>, ms: i64) -> Self {
        ObjectEntry {
            key: key.into(),
            size,
            etag: etag.into(),
            last_modified: ms,
            storage_class: None,
            checksum_algorithm: None,
            version_id: None,
            delete_marker: false,
            checksum_type: None,
            is_latest: false,
        }
    }
}

// --- identity -------------------------------------------------------------

/// What an ETag says about how it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagKind {
    /// 32 hex digits: the MD5 of the data (single-part upload or copy,
    /// unless SSE-KMS or SSE-C encrypts it).
    Md5,
    /// `<md5 of the part md5s>-N`: a multipart upload of N parts.
    Multipart(u32),
    /// Anything else (an emulator's or a gateway's own form).
    Other,
}

/// Classifies an ETag (quotes, if any, are ignored).
pub fn etag_kind(etag: &str) -> EtagKind {
    let e = etag.trim_matches('"');
    let hex32 = |s: &str| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match e.split_once('-') {
        None if hex32(e) => EtagKind::Md5,
        Some((h, n)) if hex32(h) => match n.parse::<u32>() {
            Ok(n) if n >= 1 => EtagKind::Multipart(n),
            _ => EtagKind::Other,
        },
        _ => EtagKind::Other,
    }
}

/// Whether equal ETags mean equal data: both plain MD5s, or both multipart
/// with the same number of parts, and neither bucket encrypting with
/// SSE-KMS (whose ETags are not digests of the data).
pub fn etags_comparable(a: &str, b: &str, kms: bool) -> bool {
    if kms {
        return false;
    }
    match (etag_kind(a), etag_kind(b)) {
        (EtagKind::Md5, EtagKind::Md5) => true,
        (EtagKind::Multipart(x), EtagKind::Multipart(y)) => x == y,
        _ => false,
    }
}

/// How two objects were found to be the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A checksum both objects carry (same algorithm and type).
    Checksum,
    /// Comparable ETags.
    Etag,
    /// Same size, and the destination is not older than the source (what
    /// `aws s3 sync` relies on): the weakest proof, used when nothing
    /// stronger is comparable.
    SizeTime,
}

/// Whether a destination object is a copy of a source object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Same(Basis),
    /// Not a copy; the reason is a short phrase for reports.
    Differs(String),
}

impl Identity {
    pub fn is_same(&self) -> bool {
        matches!(self, Identity::Same(_))
    }
}

/// The identity rule (resume, incremental sync, verify): same size, and the
/// same ETag when ETags are comparable; otherwise the destination must not be
/// older than the source. Keys are assumed equal (the join pairs them).
pub fn identity(src: &ObjectEntry, dst: &ObjectEntry, kms: bool) -> Identity {
    match (src.delete_marker, dst.delete_marker) {
        (true, true) => return Identity::Same(Basis::SizeTime),
        (true, false) => return Identity::Differs("deleted in the source".into()),
        (false, true) => return Identity::Differs("deleted in the destination".into()),
        (false, false) => {}
    }
    if src.size != dst.size {
        return Identity::Differs(format!(
            "size {} in the source, {} in the destination",
            src.size, dst.size
        ));
    }
    if etags_comparable(&src.etag, &dst.etag, kms) {
        return if src.etag == dst.etag {
            Identity::Same(Basis::Etag)
        } else {
            Identity::Differs(format!(
                "ETag {} in the source, {} in the destination",
                src.etag, dst.etag
            ))
        };
    }
    time_identity(src, dst)
}

/// Size being equal and no stronger comparison possible: the destination
/// counts as a copy unless the source changed after it was written.
pub fn time_identity(src: &ObjectEntry, dst: &ObjectEntry) -> Identity {
    if dst.last_modified >= src.last_modified {
        Identity::Same(Basis::SizeTime)
    } else {
        Identity::Differs("the source is newer than the destination".into())
    }
}

/// A checksum as HeadObject (ChecksumMode ENABLED) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// "CRC32", "CRC32C", "CRC64NVME", "SHA1" or "SHA256".
    pub algorithm: String,
    /// Base64, with a `-N` suffix for a composite multipart checksum.
    pub value: String,
}

/// Compares two objects' checksums: `None` when they share no algorithm
/// (or the composite ones have different part counts), else whether the
/// first common one matches.
pub fn checksums_match(src: &[Checksum], dst: &[Checksum]) -> Option<bool> {
    let parts = |v: &str| v.split_once('-').map(|(_, n)| n.to_string());
    src.iter().find_map(|s| {
        let d = dst.iter().find(|d| d.algorithm == s.algorithm)?;
        (parts(&s.value) == parts(&d.value)).then(|| s.value == d.value)
    })
}

// --- merge-join -----------------------------------------------------------

/// Something listed under a key (an object, or a key's versions).
pub trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for ObjectEntry {
    fn key(&self) -> &str {
        &self.key
    }
}

/// A key as the two listings have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pair<T> {
    SourceOnly(T),
    Both(T, T),
    DestinationOnly(T),
}

/// What the join needs or yields next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<T> {
    Pair(Pair<T>),
    /// Feed the next source page (or say the source listing ended).
    NeedSource,
    NeedDestination,
    Done,
}

/// A listing page whose keys are not in S3's order (UTF-8 binary, strictly
/// increasing): joining it would report false differences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderError {
    pub side: &'static str,
    pub key: String,
    pub after: String,
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} listing is not in key order: {:?} came after {:?}",
            self.side, self.key, self.after
        )
    }
}

impl std::error::Error for OrderError {}

#[derive(Debug)]
struct Feed<T> {
    queue: VecDeque<T>,
    ended: bool,
    last: Option<String>,
    side: &'static str,
}

impl<T: Keyed> Feed<T> {
    fn new(side: &'static str) -> Self {
        Feed {
            queue: VecDeque::new(),
            ended: false,
            last: None,
            side,
        }
    }

    fn push(&mut self, page: Vec<T>) -> Result<(), OrderError> {
        for item in page {
            if let Some(prev) = &self.last {
                // str's Ord is byte order, which for UTF-8 is S3's order.
                if item.key() <= prev.as_str() {
                    return Err(OrderError {
                        side: self.side,
                        key: item.key().to_string(),
                        after: prev.clone(),
                    });
                }
            }
            self.last = Some(item.key().to_string());
            self.queue.push_back(item);
        }
        Ok(())
    }
}

/// The streaming merge-join of a source and a destination listing, both
/// sorted by key. Fed one page at a time per side; it asks for the side it
/// needs, so neither listing is ever held whole.
#[derive(Debug)]
pub struct MergeJoin<T> {
    src: Feed<T>,
    dst: Feed<T>,
}

impl<T: Keyed> Default for MergeJoin<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Keyed> MergeJoin<T> {
    pub fn new() -> Self {
        MergeJoin {
            src: Feed::new("source"),
            dst: Feed::new("destination"),
        }
    }

    /// The next source page; `last` when the listing has no more.
    pub fn feed_source(&mut self, page: Vec<T>, last: bool) -> Result<(), OrderError> {
        self.src.ended |= last;
        self.src.push(page)
    }

    pub fn feed_destination(&mut self, page: Vec<T>, last: bool) -> Result<(), OrderError> {
        self.dst.ended |= last;
        self.dst.push(page)
    }

    /// The next pair, or which side's page is needed to decide it.
    pub fn next_step(&mut self) -> Step<T> {
        let (s, d) = (self.src.queue.front(), self.dst.queue.front());
        match (s, d) {
            (None, _) if !self.src.ended => Step::NeedSource,
            (_, None) if !self.dst.ended => Step::NeedDestination,
            (None, None) => Step::Done,
            (Some(_), None) => Step::Pair(Pair::SourceOnly(self.src.queue.pop_front().unwrap())),
            (None, Some(_)) => {
                Step::Pair(Pair::DestinationOnly(self.dst.queue.pop_front().unwrap()))
            }
            (Some(s), Some(d)) => match s.key().cmp(d.key()) {
                std::cmp::Ordering::Less => {
                    Step::Pair(Pair::SourceOnly(self.src.queue.pop_front().unwrap()))
                }
                std::cmp::Ordering::Greater => {
                    Step::Pair(Pair::DestinationOnly(self.dst.queue.pop_front().unwrap()))
                }
                std::cmp::Ordering::Equal => Step::Pair(Pair::Both(
                    self.src.queue.pop_front().unwrap(),
                    self.dst.queue.pop_front().unwrap(),
                )),
            },
        }
    }
}

/// What sync does with one source key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Missing or different in the destination.
    Copy(ObjectEntry),
    UpToDate(Basis),
    /// Only in the destination: counted, never deleted.
    Extra(ObjectEntry),
}

/// Sync's decision for a joined pair of current objects.
pub fn decide(pair: Pair<ObjectEntry>, kms: bool) -> Decision {
    match pair {
        Pair::SourceOnly(s) => Decision::Copy(s),
        Pair::DestinationOnly(d) => Decision::Extra(d),
        Pair::Both(s, d) => match identity(&s, &d, kms) {
            Identity::Same(b) => Decision::UpToDate(b),
            Identity::Differs(_) => Decision::Copy(s),
        },
    }
}

// --- versions -------------------------------------------------------------

/// Every version (and delete marker) of one key, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersions {
    pub key: String,
    pub versions: Vec<ObjectEntry>,
}

impl Keyed for KeyVersions {
    fn key(&self) -> &str {
        &self.key
    }
}

impl KeyVersions {
    pub fn bytes(&self) -> u64 {
        self.versions.iter().map(|v| v.size).sum()
    }
}

/// Groups a version listing (keys ascending, each key's versions newest
/// first, a key possibly split across pages) into one [`KeyVersions`] per
/// key. Holds only the key being read.
#[derive(Debug, Default)]
pub struct VersionGrouper {
    current: Option<KeyVersions>,
}

impl VersionGrouper {
    /// The keys this page completes.
    pub fn push_page(&mut self, page: Vec<ObjectEntry>) -> Vec<KeyVersions> {
        let mut done = Vec::new();
        for e in page {
            match &mut self.current {
                Some(c) if c.key == e.key => c.versions.push(e),
                _ => {
                    if let Some(prev) = self.current.take() {
                        done.push(oldest_first(prev));
                    }
                    self.current = Some(KeyVersions {
                        key: e.key.clone(),
                        versions: vec![e],
                    });
                }
            }
        }
        done
    }

    /// The last key, once the listing has ended.
    pub fn finish(&mut self) -> Option<KeyVersions> {
        self.current.take().map(oldest_first)
    }
}

fn oldest_first(mut k: KeyVersions) -> KeyVersions {
    k.versions.reverse();
    k
}

/// Orders one listing page's versions and delete markers (which the SDK
/// hands over as two lists) the way S3 lists them: by key, then newest
/// first. Listings give times to the second, so within a key the current
/// version leads, and in a tie a delete marker counts as newer than a
/// version (a delete usually follows the write it hides); each list keeps
/// its own order otherwise.
pub fn interleave(versions: Vec<ObjectEntry>, markers: Vec<ObjectEntry>) -> Vec<ObjectEntry> {
    let mut all: Vec<ObjectEntry> = versions.into_iter().chain(markers).collect();
    all.sort_by(|a, b| {
        a.key
            .as_bytes()
            .cmp(b.key.as_bytes())
            .then(b.is_latest.cmp(&a.is_latest))
            .then(b.last_modified.cmp(&a.last_modified))
            .then(b.delete_marker.cmp(&a.delete_marker))
    });
    all
}

/// The source versions the destination still lacks, oldest first.
///
/// The destination's versions are matched in order against the source's
/// (greedily, by the identity rule): the source versions matched form the
/// prefix already copied, and the rest are copied. A destination whose
/// history has extra versions still matches, so a second run copies nothing;
/// if the destination's current version is not the source's, the source's
/// current version is copied again so that it is current in both.
pub fn versions_to_copy<'a>(
    src: &'a KeyVersions,
    dst: Option<&KeyVersions>,
    kms: bool,
) -> &'a [ObjectEntry] {
    let Some(dst) = dst else {
        return &src.versions;
    };
    let mut matched = 0;
    for d in &dst.versions {
        match src.versions.get(matched) {
            Some(s) if identity(s, d, kms).is_same() => matched += 1,
            Some(_) => {}
            None => break,
        }
    }
    if matched < src.versions.len() {
        return &src.versions[matched..];
    }
    match (src.versions.last(), dst.versions.last()) {
        (Some(s), Some(d)) if !identity(s, d, kms).is_same() => {
            &src.versions[src.versions.len() - 1..]
        }
        _ => &[],
    }
}

// --- multipart ------------------------------------------------------------

pub const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts (except the last).
pub const MIN_PART: u64 = 5 * MIB;
/// The largest part, and the largest single CopyObject.
pub const MAX_PART: u64 = 5 * 1024 * MIB;
pub const MAX_PARTS: u64 = 10_000;

/// A multipart source's layout, as HeadObject with partNumber=1 reports it:
/// the size of part 1 and the number of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLayout {
    pub part_size: u64,
    pub parts: u32,
}

/// One part of a multipart copy: inclusive byte range, as `bytes=first-last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRange {
    /// 1-based.
    pub number: i32,
    pub first: u64,
    pub last: u64,
}

impl PartRange {
    pub fn bytes(&self) -> u64 {
        self.last - self.first + 1
    }

    /// The `x-amz-copy-source-range` / `Range` header value.
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

/// Whether an object of `size` is copied in parts.
pub fn is_multipart(size: u64, threshold: u64) -> bool {
    size > threshold.min(MAX_PART)
}

/// Consecutive parts of `part_size` covering `size` bytes.
pub fn ranges(size: u64, part_size: u64) -> Vec<PartRange> {
    let part_size = part_size.max(1);
    (0..size.div_ceil(part_size))
        .map(|i| PartRange {
            number: i as i32 + 1,
            first: i * part_size,
            last: ((i + 1) * part_size).min(size) - 1,
        })
        .collect()
}

/// Parts of the given sizes, in order (a source whose parts differ in size).
pub fn ranges_from_sizes(sizes: &[u64]) -> Vec<PartRange> {
    let mut first = 0;
    sizes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let r = PartRange {
                number: i as i32 + 1,
                first,
                last: first + s - 1,
            };
            first += s;
            r
        })
        .collect()
}

/// The part size for a copy of `size` bytes without a source layout to keep:
/// the configured size, raised so the parts fit in 10,000, within S3's limits.
pub fn part_size_for(size: u64, configured: u64) -> u64 {
    configured
        .max(size.div_ceil(MAX_PARTS))
        .clamp(MIN_PART, MAX_PART)
}

/// The parts of a multipart copy. A multipart source whose parts (all but
/// the last) have the size of its first part keeps that layout, so the copy
/// has the same ETag; `None` means the layout is irregular and each part's
/// size must be asked for ([`ranges_from_sizes`]).
pub fn plan_parts(
    size: u64,
    configured: u64,
    source: Option<PartLayout>,
) -> Option<Vec<PartRange>> {
    match source {
        Some(l) if l.parts > 1 || l.part_size != size => {
            let regular = l.part_size > 0
                && size.div_ceil(l.part_size) == u64::from(l.parts)
                && l.part_size <= MAX_PART;
            regular.then(|| ranges(size, l.part_size))
        }
        Some(_) => Some(ranges(size, size.max(1))),
        None => Some(ranges(size, part_size_for(size, configured))),
    }
}

// --- summary digest -------------------------------------------------------

/// Builds an [`ObjectSummary`] from a listing, one entry at a time.
#[derive(Debug, Clone, Default)]
pub struct SummaryDigest {
    hasher: Sha256,
    shape: Sha256,
    count: u64,
    bytes: u64,
    newest: i64,
}

impl SummaryDigest {
    /// Adds the next listed object (in listing order).
    pub fn add(&mut self, e: &ObjectEntry) {
        self.count += 1;
        self.bytes += e.size;
        self.hasher.update(e.key.as_bytes());
        self.hasher.update(b"\0");
        self.hasher.update(e.size.to_string().as_bytes());
        self.hasher.update(b"\0");
        self.hasher.update(e.etag.as_bytes());
        self.hasher.update(b"\n");
        self.shape.update(e.key.as_bytes());
        self.shape.update(b"\0");
        self.shape.update(e.size.to_string().as_bytes());
        self.shape.update(b"\n");
        self.newest = self.newest.max(e.last_modified);
    }

    pub fn finish(self) -> ObjectSummary {
        ObjectSummary {
            count: self.count,
            bytes: self.bytes,
            digest: hex::encode(self.hasher.finalize()),
            shape: hex::encode(self.shape.finalize()),
            newest: self.newest,
        }
    }
}

// --- verify report --------------------------------------------------------

/// How many keys a [`BucketReport`] names by default.
pub const SAMPLE_CAP: usize = 20;

/// One key that differs, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySample {
    pub key: String,
    pub reason: String,
}

/// Verify's comparison of one bucket's current objects on both sides:
/// totals, how each pair was compared, and a capped list of the keys that
/// differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketReport {
    pub source_objects: u64,
    pub source_bytes: u64,
    pub destination_objects: u64,
    pub destination_bytes: u64,
    /// In the source, not in the destination.
    pub missing: u64,
    /// In the destination, not in the source (sync never deletes them).
    pub extra: u64,
    /// In both, not the same object.
    pub differing: u64,
    pub compared_by_checksum: u64,
    pub compared_by_etag: u64,
    pub compared_by_size_time: u64,
    /// At most `cap` keys that are missing, extra or differing.
    #[serde(default)]
    pub samples: Vec<KeySample>,
    #[serde(default = "default_cap")]
    pub cap: usize,
}

fn default_cap() -> usize {
    SAMPLE_CAP
}

impl Default for BucketReport {
    fn default() -> Self {
        BucketReport::new(SAMPLE_CAP)
    }
}

impl BucketReport {
    pub fn new(cap: usize) -> Self {
        BucketReport {
            source_objects: 0,
            source_bytes: 0,
            destination_objects: 0,
            destination_bytes: 0,
            missing: 0,
            extra: 0,
            differing: 0,
            compared_by_checksum: 0,
            compared_by_etag: 0,
            compared_by_size_time: 0,
            samples: Vec::new(),
            cap,
        }
    }

    fn sample(&mut self, key: &str, reason: String) {
        if self.samples.len() < self.cap {
            self.samples.push(KeySample {
                key: key.to_string(),
                reason,
            });
        }
    }

    pub fn count_source(&mut self, e: &ObjectEntry) {
        self.source_objects += 1;
        self.source_bytes += e.size;
    }

    pub fn count_destination(&mut self, e: &ObjectEntry) {
        self.destination_objects += 1;
        self.destination_bytes += e.size;
    }

    pub fn missing(&mut self, key: &str) {
        self.missing += 1;
        self.sample(key, "missing in the destination".into());
    }

    pub fn extra(&mut self, key: &str) {
        self.extra += 1;
        self.sample(key, "only in the destination".into());
    }

    /// Records the outcome of comparing a pair.
    pub fn compared(&mut self, key: &str, outcome: Identity, basis: Basis) {
        match basis {
            Basis::Checksum => self.compared_by_checksum += 1,
            Basis::Etag => self.compared_by_etag += 1,
            Basis::SizeTime => self.compared_by_size_time += 1,
        }
        if let Identity::Differs(reason) = outcome {
            self.differing += 1;
            self.sample(key, reason);
        }
    }

    /// Every source object is in the destination, the same, and the
    /// destination holds nothing else.
    pub fn is_equivalent(&self) -> bool {
        self.is_complete() && self.extra == 0
    }

    /// Every source object is in the destination and the same (extra
    /// destination objects allowed).
    pub fn is_complete(&self) -> bool {
        self.missing == 0 && self.differing == 0
    }

    /// Keys that differ but are not among the samples.
    pub fn unsampled(&self) -> u64 {
        (self.missing + self.extra + self.differing).saturating_sub(self.samples.len() as u64)
    }

    /// One line: "1,234 objects (5.6 GiB) on both sides, all the same" or
    /// "... 3 missing, 1 differing, 2 extra".
    pub fn describe(&self) -> String {
        use crate::spec::s3::{human_bytes, thousands};
        let side = |n: u64, b: u64| format!("{} objects ({})", thousands(n), human_bytes(b));
        let sides = if (self.source_objects, self.source_bytes)
            == (self.destination_objects, self.destination_bytes)
        {
            format!(
                "{} on both sides",
                side(self.source_objects, self.source_bytes)
            )
        } else {
            format!(
                "{} in the source, {} in the destination",
                side(self.source_objects, self.source_bytes),
                side(self.destination_objects, self.destination_bytes)
            )
        };
        let mut problems = Vec::new();
        for (n, what) in [
            (self.missing, "missing"),
            (self.differing, "differing"),
            (self.extra, "extra"),
        ] {
            if n > 0 {
                problems.push(format!("{} {what}", thousands(n)));
            }
        }
        if problems.is_empty() {
            format!("{sides}, all the same")
        } else {
            format!("{sides}, {}", problems.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: &str, size: u64, etag: &str, ms: i64) -> ObjectEntry {
        ObjectEntry::new(key, size, etag, ms)
    }

    const MD5A: &str = "0cc175b9c0f1b6a831c399e269772661";
    const MD5B: &str = "92eb5ffee6ae2fec3ad71c777531578f";

    #[test]
    fn etags_are_classified() {
        assert_eq!(etag_kind(MD5A), EtagKind::Md5);
        assert_eq!(etag_kind(&format!("\"{MD5A}\"")), EtagKind::Md5);
        assert_eq!(etag_kind(&format!("{MD5A}-12")), EtagKind::Multipart(12));
        assert_eq!(etag_kind(&format!("{MD5A}-0")), EtagKind::Other);
        assert_eq!(etag_kind(&format!("{MD5A}-x")), EtagKind::Other);
        assert_eq!(etag_kind("abc"), EtagKind::Other);
        assert!(etags_comparable(MD5A, MD5B, false));
        assert!(!etags_comparable(MD5A, MD5B, true));
        assert!(etags_comparable(
            &format!("{MD5A}-3"),
            &format!("{MD5B}-3"),
            false
        ));
        assert!(!etags_comparable(
            &format!("{MD5A}-3"),
            &format!("{MD5B}-2"),
            false
        ));
        assert!(!etags_comparable(&format!("{MD5A}-3"), MD5B, false));
    }

    #[test]
    fn identity_uses_etags_when_comparable_and_time_otherwise() {
        let s = e("k", 5, MD5A, 1000);
        assert_eq!(
            identity(&s, &e("k", 5, MD5A, 10), false),
            Identity::Same(Basis::Etag)
        );
        assert!(!identity(&s, &e("k", 5, MD5B, 2000), false).is_same());
        assert!(matches!(
            identity(&s, &e("k", 6, MD5A, 2000), false),
            Identity::Differs(r) if r.contains("size 5")
        ));
        // SSE-KMS: ETags say nothing; the destination must not be older.
        assert_eq!(
            identity(&s, &e("k", 5, MD5B, 1000), true),
            Identity::Same(Basis::SizeTime)
        );
        assert!(!identity(&s, &e("k", 5, MD5B, 999), true).is_same());
        // Multipart source copied in one request: not comparable.
        let mp = e("k", 5, &format!("{MD5A}-2"), 1000);
        assert_eq!(
            identity(&mp, &e("k", 5, MD5B, 1500), false),
            Identity::Same(Basis::SizeTime)
        );
        let mut dm = e("k", 0, "", 1);
        dm.delete_marker = true;
        assert!(identity(&dm, &dm, false).is_same());
        assert!(!identity(&dm, &e("k", 0, MD5A, 5), false).is_same());
    }

    #[test]
    fn checksums_match_on_a_common_algorithm_of_the_same_shape() {
        let c = |a: &str, v: &str| Checksum {
            algorithm: a.into(),
            value: v.into(),
        };
        assert_eq!(checksums_match(&[c("CRC32", "AAA=")], &[]), None);
        assert_eq!(
            checksums_match(&[c("CRC32", "AAA=")], &[c("SHA256", "x")]),
            None
        );
        assert_eq!(
            checksums_match(&[c("CRC32", "AAA=")], &[c("CRC32", "AAA=")]),
            Some(true)
        );
        assert_eq!(
            checksums_match(&[c("CRC32", "AAA=")], &[c("CRC32", "BBB=")]),
            Some(false)
        );
        assert_eq!(
            checksums_match(&[c("CRC32", "AAA=-2")], &[c("CRC32", "AAA=")]),
            None
        );
    }

    /// Joins two listings cut into pages of `n`, as the caller would.
    fn join(src: &[ObjectEntry], dst: &[ObjectEntry], n: usize) -> Vec<Pair<ObjectEntry>> {
        let mut j = MergeJoin::new();
        let mut sp = src.chunks(n).peekable();
        let mut dp = dst.chunks(n).peekable();
        let mut out = Vec::new();
        let mut held_max = 0;
        loop {
            held_max = held_max.max(j.src.queue.len()).max(j.dst.queue.len());
            match j.next_step() {
                Step::Pair(p) => out.push(p),
                Step::NeedSource => {
                    let page = sp.next().map(|p| p.to_vec()).unwrap_or_default();
                    j.feed_source(page, sp.peek().is_none()).unwrap();
                }
                Step::NeedDestination => {
                    let page = dp.next().map(|p| p.to_vec()).unwrap_or_default();
                    j.feed_destination(page, dp.peek().is_none()).unwrap();
                }
                Step::Done => break,
            }
        }
        assert!(held_max <= n, "held {held_max} entries with pages of {n}");
        out
    }

    #[test]
    fn the_join_pairs_keys_page_by_page() {
        let keys =
            |ks: &[&str]| -> Vec<ObjectEntry> { ks.iter().map(|k| e(k, 1, MD5A, 1)).collect() };
        // Byte order: "a b" < "a/" < "ab" < "z" < "é" (0xC3) < "𝄞" (0xF0).
        let src = keys(&["a b", "a/", "ab", "c", "d", "é", "𝄞"]);
        let dst = keys(&["a/", "b", "d", "e", "é"]);
        for n in [1, 2, 3, 10] {
            let out = join(&src, &dst, n);
            let tags: Vec<String> = out
                .iter()
                .map(|p| match p {
                    Pair::SourceOnly(s) => format!("+{}", s.key),
                    Pair::Both(s, _) => format!("={}", s.key),
                    Pair::DestinationOnly(d) => format!("-{}", d.key),
                })
                .collect();
            assert_eq!(
                tags,
                ["+a b", "=a/", "+ab", "-b", "+c", "=d", "-e", "=é", "+𝄞"],
                "pages of {n}"
            );
        }
        assert!(join(&[], &[], 3).is_empty());
        assert_eq!(join(&src, &[], 2).len(), src.len());
    }

    #[test]
    fn a_listing_out_of_order_is_refused() {
        let mut j = MergeJoin::new();
        j.feed_source(vec![e("b", 1, MD5A, 1)], false).unwrap();
        let err = j.feed_source(vec![e("a", 1, MD5A, 1)], true).unwrap_err();
        assert_eq!((err.side, err.key.as_str()), ("source", "a"));
        assert!(err.to_string().contains("not in key order"));
    }

    #[test]
    fn decisions_copy_what_is_missing_or_different_and_count_extras() {
        let s = e("k", 5, MD5A, 1000);
        assert_eq!(
            decide(Pair::SourceOnly(s.clone()), false),
            Decision::Copy(s.clone())
        );
        assert_eq!(
            decide(Pair::Both(s.clone(), e("k", 5, MD5B, 9)), false),
            Decision::Copy(s.clone())
        );
        assert_eq!(
            decide(Pair::Both(s.clone(), s.clone()), false),
            Decision::UpToDate(Basis::Etag)
        );
        assert!(matches!(
            decide(Pair::DestinationOnly(s), false),
            Decision::Extra(_)
        ));
    }

    fn v(key: &str, size: u64, etag: &str, ms: i64, latest: bool) -> ObjectEntry {
        let mut x = e(key, size, etag, ms);
        x.version_id = Some(format!("{key}{ms}"));
        x.is_latest = latest;
        x
    }

    #[test]
    fn versions_are_interleaved_and_grouped_across_pages_oldest_first() {
        let mut dm = v("a", 0, "", 30, true);
        dm.delete_marker = true;
        let page1 = interleave(
            vec![v("a", 1, MD5A, 10, false), v("a", 2, MD5B, 20, false)],
            vec![dm.clone()],
        );
        assert_eq!(page1[0], dm);
        // Within one second: put, delete, put. The current version leads,
        // the marker comes before the older version.
        let mut tie = v("t", 0, "", 50, false);
        tie.delete_marker = true;
        let order: Vec<(u64, bool)> = interleave(
            vec![v("t", 9, MD5A, 50, true), v("t", 7, MD5B, 50, false)],
            vec![tie],
        )
        .iter()
        .map(|x| (x.size, x.delete_marker))
        .collect();
        assert_eq!(order, [(9, false), (0, true), (7, false)]);
        let mut g = VersionGrouper::default();
        assert!(g.push_page(page1).is_empty());
        let done = g.push_page(vec![v("a", 3, MD5A, 5, false), v("b", 1, MD5A, 7, true)]);
        assert_eq!(done.len(), 1);
        let sizes: Vec<u64> = done[0].versions.iter().map(|x| x.size).collect();
        assert_eq!(sizes, [3, 1, 2, 0]);
        assert!(done[0].versions[3].delete_marker);
        assert_eq!(g.finish().unwrap().key, "b");
        assert!(g.finish().is_none());
    }

    #[test]
    fn only_the_versions_the_destination_lacks_are_copied() {
        let src = KeyVersions {
            key: "k".into(),
            versions: vec![
                e("k", 1, MD5A, 10),
                e("k", 2, MD5B, 20),
                e("k", 3, MD5A, 30),
            ],
        };
        assert_eq!(versions_to_copy(&src, None, false).len(), 3);
        let mut dst = KeyVersions {
            key: "k".into(),
            versions: vec![e("k", 1, MD5A, 100)],
        };
        assert_eq!(
            versions_to_copy(&src, Some(&dst), false),
            &src.versions[1..]
        );
        // A destination version that is no copy is stepped over, and a
        // second run after copying the rest copies nothing.
        dst.versions.push(e("k", 9, MD5A, 101));
        assert_eq!(
            versions_to_copy(&src, Some(&dst), false),
            &src.versions[1..]
        );
        dst.versions.extend(src.versions[1..].iter().cloned());
        assert!(versions_to_copy(&src, Some(&dst), false).is_empty());
        // The destination's current version is not the source's: the
        // source's is copied again to be current.
        dst.versions.push(e("k", 7, MD5B, 200));
        assert_eq!(
            versions_to_copy(&src, Some(&dst), false),
            &src.versions[2..]
        );
    }

    #[test]
    fn part_ranges_cover_the_object_and_keep_a_source_layout() {
        assert!(!is_multipart(5 * MIB, 5 * MIB));
        assert!(is_multipart(5 * MIB + 1, 5 * MIB));
        assert!(is_multipart(6 * 1024 * MIB, 100 * 1024 * MIB));
        let r = ranges(12 * MIB, 5 * MIB);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].header(), format!("bytes=0-{}", 5 * MIB - 1));
        assert_eq!((r[2].number, r[2].bytes()), (3, 2 * MIB));
        assert_eq!(r.iter().map(PartRange::bytes).sum::<u64>(), 12 * MIB);
        // A 3-part source of 8 MiB parts keeps its layout.
        let keep = plan_parts(
            20 * MIB,
            5 * MIB,
            Some(PartLayout {
                part_size: 8 * MIB,
                parts: 3,
            }),
        )
        .unwrap();
        assert_eq!(
            keep.iter().map(PartRange::bytes).collect::<Vec<_>>(),
            [8 * MIB, 8 * MIB, 4 * MIB]
        );
        // Irregular: part 1 cannot describe the rest.
        assert_eq!(
            plan_parts(
                20 * MIB,
                5 * MIB,
                Some(PartLayout {
                    part_size: 8 * MIB,
                    parts: 4
                })
            ),
            None
        );
        let own = ranges_from_sizes(&[6 * MIB, 9 * MIB, 5 * MIB]);
        assert_eq!((own[1].first, own[1].last), (6 * MIB, 15 * MIB - 1));
        // No layout: configured size, raised to fit 10,000 parts.
        assert_eq!(plan_parts(12 * MIB, 5 * MIB, None).unwrap().len(), 3);
        assert_eq!(part_size_for(100_000 * MIB, 5 * MIB), 10 * MIB);
        assert_eq!(part_size_for(1, 1), MIN_PART);
        // A single-part multipart source ("-1") stays one part.
        assert_eq!(
            plan_parts(
                7 * MIB,
                5 * MIB,
                Some(PartLayout {
                    part_size: 7 * MIB,
                    parts: 1
                })
            )
            .unwrap()
            .len(),
            1
        );
    }

    #[test]
    fn the_digest_covers_key_size_and_etag_in_order() {
        let a = e("a", 1, MD5A, 1);
        let b = e("b", 2, MD5B, 1);
        let mut d1 = SummaryDigest::default();
        d1.add(&a);
        d1.add(&b);
        let s = d1.finish();
        assert_eq!((s.count, s.bytes, s.digest.len()), (2, 3, 64));
        let mut d2 = SummaryDigest::default();
        d2.add(&a);
        d2.add(&e("b", 2, MD5A, 1));
        assert_ne!(d2.finish().digest, s.digest);
        let mut expect = Sha256::new();
        expect.update(format!("a\x001\x00{MD5A}\nb\x002\x00{MD5B}\n"));
        assert_eq!(s.digest, hex::encode(expect.finalize()));
        assert_eq!(SummaryDigest::default().finish().count, 0);
    }

    #[test]
    fn the_report_counts_everything_and_caps_its_samples() {
        let mut r = BucketReport::new(2);
        let o = e("k", 4, MD5A, 1);
        r.count_source(&o);
        r.count_destination(&o);
        r.compared("k", Identity::Same(Basis::Etag), Basis::Etag);
        assert!(r.is_equivalent());
        assert!(
            r.describe().ends_with("on both sides, all the same"),
            "{}",
            r.describe()
        );
        r.missing("m");
        r.extra("x");
        r.compared("d", Identity::Differs("size".into()), Basis::SizeTime);
        assert_eq!((r.missing, r.extra, r.differing), (1, 1, 1));
        assert_eq!(r.samples.len(), 2);
        assert_eq!(r.unsampled(), 1);
        assert!(!r.is_complete() && !r.is_equivalent());
        assert!(r.describe().contains("1 missing, 1 differing, 1 extra"));
        let back: BucketReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let mut only_extra = BucketReport::default();
        only_extra.extra("x");
        assert!(only_extra.is_complete() && !only_extra.is_equivalent());
    }
}
