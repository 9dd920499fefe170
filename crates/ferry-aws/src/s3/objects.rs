//! Objects of a bucket: streamed listings (current objects or every
//! version), the listing summary the plan compares, the sync that copies
//! what the destination lacks, and verify's object-by-object comparison.
//!
//! Memory stays flat in the number of objects (ARCHITECTURE.md invariant 8): each
//! listing runs in its own task a couple of pages ahead, a merge-join
//! ([`ferry_core::objects::MergeJoin`]) pairs the two sides page by page,
//! and the keys to copy go through a bounded channel to a pool of workers.
//! Every copy request holds a permit of the run-wide `s3_slots` semaphore,
//! so all buckets together keep `[s3] workers` requests in flight.
//!
//! A small object costs exactly one request: `CopyObject` with the metadata
//! and tags copied by S3 itself (no HeadObject first). Above the multipart
//! threshold an object is copied with `UploadPartCopy`, keeping a multipart
//! source's part layout so the copy has the same ETag. Across accounts S3
//! reads the source with the destination's credentials, through a temporary
//! statement in the source bucket's policy (recorded before it is made,
//! withdrawn after). When policy changes are forbidden, objects are streamed
//! through ferry instead (GetObject from the source, PutObject or a
//! multipart upload to the destination), metadata and tags carried
//! explicitly.

use crate::error::AwsError;
use crate::ratelimit::Class;
use crate::s3::spill::{Kept, REUSE_WITHIN};
use crate::transfer::{Temporary, TransferProgress};
use crate::{CopyCx, Result, Side};
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
    DeleteMarkerEntry, MetadataDirective, Object, ObjectVersion, StorageClass,
};
use ferry_core::config::VersionsMode;
use ferry_core::objects::{
    checksums_match, decide, etag_kind, etags_comparable, identity, interleave, is_multipart,
    plan_parts, ranges_from_sizes, time_identity, versions_to_copy, Basis, BucketReport, Checksum,
    Decision, EtagKind, Identity, KeyVersions, Keyed, MergeJoin, ObjectEntry, Pair, PartLayout,
    PartRange, Step, SummaryDigest, VersionGrouper, MIB,
};
use ferry_core::spec::s3::ObjectSummary;
use futures::stream::{FuturesUnordered, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How one bucket's objects are synced.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// The plan node, for progress (`s3_bucket/<source name>`).
    pub node: String,
    /// Either bucket encrypts with SSE-KMS by default: ETags are not MD5s
    /// of the data, so they cannot be compared across the two buckets.
    pub kms: bool,
    /// The source bucket is (or was) versioned.
    pub versioned: bool,
}

/// What a sync did. In versions mode the counts are of versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Source objects (or versions and delete markers) listed.
    pub listed: u64,
    pub copied: u64,
    pub copied_bytes: u64,
    pub up_to_date: u64,
    /// Destination objects (keys, in versions mode) the source lacks: never
    /// deleted, only counted.
    pub extra: u64,
    /// Versions mode: delete markers replayed with DeleteObject.
    pub delete_markers: u64,
    /// Objects in an archive storage class (GLACIER, DEEP_ARCHIVE) that
    /// cannot be copied without a restore: left out, with a few of their keys.
    pub skipped_archived: u64,
    pub skipped_samples: Vec<String>,
    /// Objects deleted from the source between the listing and their copy.
    pub vanished: u64,
    /// Objects went through ferry (GetObject + PutObject) rather than being
    /// copied server-side.
    pub streamed: bool,
}

/// Listing page size (S3's maximum).
const PAGE: i32 = 1000;
/// Pages a listing runs ahead of its consumer.
const LIST_AHEAD: usize = 2;
/// Keys waiting for a worker, per bucket.
const QUEUE: usize = 512;
/// HeadObject pairs in flight while verify compares checksums.
const VERIFY_HEADS: usize = 32;
/// Progress reports at most this often (plus a final one).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How often a streamed request (whose body cannot be replayed by the SDK's
/// own retries) is tried.
const STREAM_ATTEMPTS: u32 = 3;
/// Requests moving at least this many bytes get a longer timeout.
const PATIENT_FROM: u64 = 256 * MIB;
/// Storage classes whose objects must be restored before they can be read.
const ARCHIVED: &[&str] = &["GLACIER", "DEEP_ARCHIVE"];

/// The checksums a response carries (HeadObject, GetObject, UploadPart,
/// UploadPartCopy), in a fixed order.
macro_rules! checksums {
    ($x:expr) => {{
        let x = &$x;
        [
            ("CRC64NVME", x.checksum_crc64_nvme()),
            ("CRC32C", x.checksum_crc32_c()),
            ("CRC32", x.checksum_crc32()),
            ("SHA256", x.checksum_sha256()),
            ("SHA1", x.checksum_sha1()),
        ]
        .into_iter()
        .filter_map(|(a, v)| {
            v.map(|v| Checksum {
                algorithm: a.to_string(),
                value: v.to_string(),
            })
        })
        .collect::<Vec<Checksum>>()
    }};
}

/// Sets what a [`Meta`] holds on a PutObject or CreateMultipartUpload.
macro_rules! with_meta {
    ($req:expr, $meta:expr) => {{
        let m: Meta = $meta;
        $req.set_metadata(m.metadata)
            .set_content_type(m.content_type)
            .set_cache_control(m.cache_control)
            .set_content_disposition(m.content_disposition)
            .set_content_encoding(m.content_encoding)
            .set_content_language(m.content_language)
            .set_expires(m.expires)
            .set_website_redirect_location(m.website_redirect)
            .set_tagging(m.tagging)
    }};
}

macro_rules! meta_of {
    ($x:expr) => {{
        let x = &$x;
        Meta {
            metadata: x.metadata().cloned(),
            content_type: x.content_type().map(String::from),
            cache_control: x.cache_control().map(String::from),
            content_disposition: x.content_disposition().map(String::from),
            content_encoding: x.content_encoding().map(String::from),
            content_language: x.content_language().map(String::from),
            expires: x
                .expires_string()
                .and_then(|s| DateTime::from_str(s, DateTimeFormat::HttpDate).ok()),
            website_redirect: x.website_redirect_location().map(String::from),
            tagging: None,
        }
    }};
}

// --- listing --------------------------------------------------------------

/// One bucket's listing, page by page: the current objects
/// (ListObjectsV2), or every version and delete marker (ListObjectVersions)
/// in S3's order (key, then newest first).
pub struct Lister {
    side: Side,
    bucket: String,
    versions: bool,
    token: Option<String>,
    key_marker: Option<String>,
    version_marker: Option<String>,
    ended: bool,
}

impl Lister {
    pub fn new(side: &Side, bucket: &str, versions: bool) -> Lister {
        Lister {
            side: side.clone(),
            bucket: bucket.to_string(),
            versions,
            token: None,
            key_marker: None,
            version_marker: None,
            ended: false,
        }
    }

    /// The listing has no more pages.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next page (empty once ended).
    pub async fn next_page(&mut self) -> Result<Vec<ObjectEntry>> {
        if self.ended {
            return Ok(Vec::new());
        }
        if self.versions {
            self.versions_page().await
        } else {
            self.objects_page().await
        }
    }

    async fn objects_page(&mut self) -> Result<Vec<ObjectEntry>> {
        let out = self
            .side
            .s3(Class::S3Read)
            .await
            .list_objects_v2()
            .bucket(&self.bucket)
            .max_keys(PAGE)
            .set_continuation_token(self.token.take())
            .send()
            .await
            .map_err(|e| in_bucket(self.side.err("ListObjectsV2", e), &self.bucket))?;
        self.token = out.next_continuation_token().map(String::from);
        self.ended = !out.is_truncated().unwrap_or(false) || self.token.is_none();
        Ok(out.contents().iter().map(from_object).collect())
    }

    async fn versions_page(&mut self) -> Result<Vec<ObjectEntry>> {
        let out = self
            .side
            .s3(Class::S3Read)
            .await
            .list_object_versions()
            .bucket(&self.bucket)
            .max_keys(PAGE)
            .set_key_marker(self.key_marker.take())
            .set_version_id_marker(self.version_marker.take())
            .send()
            .await
            .map_err(|e| in_bucket(self.side.err("ListObjectVersions", e), &self.bucket))?;
        self.key_marker = out.next_key_marker().map(String::from);
        self.version_marker = out.next_version_id_marker().map(String::from);
        self.ended = !out.is_truncated().unwrap_or(false) || self.key_marker.is_none();
        Ok(interleave(
            out.versions().iter().map(from_version).collect(),
            out.delete_markers().iter().map(from_marker).collect(),
        ))
    }
}

fn millis(t: Option<&DateTime>) -> i64 {
    t.and_then(|t| t.to_millis().ok()).unwrap_or(0)
}

fn unquote(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_string()
}

/// The fields a listed object and a listed version share.
macro_rules! listed {
    ($o:expr) => {{
        let o = $o;
        let mut e = ObjectEntry::new(
            o.key().unwrap_or_default(),
            o.size().unwrap_or(0).max(0) as u64,
            unquote(o.e_tag()),
            millis(o.last_modified()),
        );
        e.storage_class = o.storage_class().map(|s| s.as_str().to_string());
        e.checksum_algorithm = o
            .checksum_algorithm()
            .first()
            .map(|a| a.as_str().to_string());
        e.checksum_type = o.checksum_type().map(|t| t.as_str().to_string());
        e
    }};
}

fn from_object(o: &Object) -> ObjectEntry {
    listed!(o)
}

fn from_version(v: &ObjectVersion) -> ObjectEntry {
    let mut e = listed!(v);
    e.version_id = v.version_id().map(String::from);
    e.is_latest = v.is_latest().unwrap_or(false);
    e
}

fn from_marker(m: &DeleteMarkerEntry) -> ObjectEntry {
    let mut e = ObjectEntry::new(
        m.key().unwrap_or_default(),
        0,
        "",
        millis(m.last_modified()),
    );
    e.version_id = m.version_id().map(String::from);
    e.is_latest = m.is_latest().unwrap_or(false);
    e.delete_marker = true;
    e
}

/// A listing running ahead of its consumer in its own task.
struct Lane {
    rx: mpsc::Receiver<Result<(Vec<ObjectEntry>, bool)>>,
    grouper: VersionGrouper,
    side: &'static str,
    bucket: String,
}

impl Lane {
    fn spawn(side: &Side, bucket: &str, versions: bool, tasks: &mut JoinSet<()>) -> Lane {
        let (tx, rx) = mpsc::channel(LIST_AHEAD);
        let mut lister = Lister::new(side, bucket, versions);
        tasks.spawn(async move {
            loop {
                let page = lister.next_page().await;
                let stop = page.is_err() || lister.ended();
                if tx.send(page.map(|p| (p, lister.ended()))).await.is_err() || stop {
                    break;
                }
            }
        });
        Lane {
            rx,
            grouper: VersionGrouper::default(),
            side: side.name,
            bucket: bucket.to_string(),
        }
    }

    /// Replays a listing kept from the plan, in pages of [`PAGE`], and
    /// deletes its file.
    fn replay(kept: Kept, side: &Side, bucket: &str, tasks: &mut JoinSet<()>) -> Lane {
        let (tx, rx) = mpsc::channel(LIST_AHEAD);
        let (name, what) = (
            side.name,
            format!("bucket {bucket}: the listing kept from the plan"),
        );
        tasks.spawn(async move {
            let pages = replay_pages(&kept.path, &tx).await;
            let _ = tokio::fs::remove_file(&kept.path).await;
            if let Err(e) = pages {
                let _ = tx.send(Err(invalid(name, format!("{what}: {e}")))).await;
            }
        });
        Lane {
            rx,
            grouper: VersionGrouper::default(),
            side: side.name,
            bucket: bucket.to_string(),
        }
    }

    /// The next page and whether it is the last.
    async fn page(&mut self) -> Result<(Vec<ObjectEntry>, bool)> {
        match self.rx.recv().await {
            Some(page) => page,
            None => Err(AwsError::Invalid {
                side: self.side,
                message: format!("the listing of bucket {} stopped early", self.bucket),
            }),
        }
    }
}

/// Sends a kept listing's entries in pages; Err when the file cannot be
/// read back (the receiver is told by the caller).
async fn replay_pages(
    path: &std::path::Path,
    tx: &mpsc::Sender<Result<(Vec<ObjectEntry>, bool)>>,
) -> std::result::Result<(), String> {
    use tokio::io::AsyncBufReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = tokio::io::BufReader::new(file).lines();
    let mut page = Vec::with_capacity(PAGE as usize);
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        page.push(serde_json::from_str::<ObjectEntry>(&line).map_err(|e| e.to_string())?);
        if page.len() == PAGE as usize {
            let full = std::mem::replace(&mut page, Vec::with_capacity(PAGE as usize));
            if tx.send(Ok((full, false))).await.is_err() {
                return Ok(());
            }
        }
    }
    let _ = tx.send(Ok((page, true))).await;
    Ok(())
}

/// How a lane's pages become join items: objects as they are, or versions
/// grouped per key.
type Take<T> = fn(&mut VersionGrouper, Vec<ObjectEntry>, bool) -> Vec<T>;

fn as_objects(_: &mut VersionGrouper, page: Vec<ObjectEntry>, _: bool) -> Vec<ObjectEntry> {
    page
}

fn as_versions(g: &mut VersionGrouper, page: Vec<ObjectEntry>, last: bool) -> Vec<KeyVersions> {
    let mut keys = g.push_page(page);
    if last {
        keys.extend(g.finish());
    }
    keys
}

/// The next joined pair, fetching pages as the join asks for them.
async fn next_pair<T: Keyed>(
    join: &mut MergeJoin<T>,
    src: &mut Lane,
    dst: &mut Lane,
    take: Take<T>,
) -> Result<Option<Pair<T>>> {
    loop {
        match join.next_step() {
            Step::Pair(p) => return Ok(Some(p)),
            Step::Done => return Ok(None),
            Step::NeedSource => {
                let (page, last) = src.page().await?;
                let items = take(&mut src.grouper, page, last);
                join.feed_source(items, last)
                    .map_err(|e| invalid(src.side, format!("bucket {}: {e}", src.bucket)))?;
            }
            Step::NeedDestination => {
                let (page, last) = dst.page().await?;
                let items = take(&mut dst.grouper, page, last);
                join.feed_destination(items, last)
                    .map_err(|e| invalid(dst.side, format!("bucket {}: {e}", dst.bucket)))?;
            }
        }
    }
}

fn invalid(side: &'static str, message: String) -> AwsError {
    AwsError::Invalid { side, message }
}

/// Names the bucket in an error's message.
fn in_bucket(e: AwsError, bucket: &str) -> AwsError {
    reword(e, |m| format!("bucket {bucket}: {m}"))
}

fn reword(e: AwsError, f: impl FnOnce(&str) -> String) -> AwsError {
    match e {
        AwsError::Api {
            side,
            op,
            code,
            message,
        } => AwsError::Api {
            side,
            op,
            code,
            message: f(&message),
        },
        AwsError::Invalid { side, message } => AwsError::Invalid {
            side,
            message: f(&message),
        },
        AwsError::Timeout { side, what } => AwsError::Timeout {
            side,
            what: f(&what),
        },
        other => other,
    }
}

// --- summary --------------------------------------------------------------

/// Summarises a bucket's current objects from one streamed listing, kept
/// for the copy when the side keeps listings ([`crate::s3::spill`]).
pub async fn summarize(side: &Side, bucket: &str) -> Result<ObjectSummary> {
    let mut tasks = JoinSet::new();
    let mut lane = Lane::spawn(side, bucket, false, &mut tasks);
    let mut digest = SummaryDigest::default();
    let mut spill = side.listings.writer(bucket);
    loop {
        let (page, last) = lane.page().await?;
        page.iter().for_each(|e| digest.add(e));
        if let Some(s) = spill.as_mut() {
            s.page(&page);
        }
        if last {
            if let Some(s) = spill {
                s.finish(&side.listings);
            }
            return Ok(digest.finish());
        }
    }
}

// --- verify ---------------------------------------------------------------

/// Compares the current objects of two buckets, key by key, from fresh
/// listings (verify: independent of any state). Pairs whose ETags cannot be
/// compared are compared by a checksum both carry (HeadObject with
/// ChecksumMode), else by size and time.
pub async fn compare(
    source: &Side,
    dest: &Side,
    src_bucket: &str,
    dst_bucket: &str,
    kms: bool,
    cap: usize,
) -> Result<BucketReport> {
    let mut tasks = JoinSet::new();
    let mut src = Lane::spawn(source, src_bucket, false, &mut tasks);
    let mut dst = Lane::spawn(dest, dst_bucket, false, &mut tasks);
    let mut join = MergeJoin::new();
    let mut report = BucketReport::new(cap);
    let mut heads = FuturesUnordered::new();
    while let Some(pair) = next_pair(&mut join, &mut src, &mut dst, as_objects).await? {
        match pair {
            Pair::SourceOnly(s) => {
                report.count_source(&s);
                report.missing(&s.key);
            }
            Pair::DestinationOnly(d) => {
                report.count_destination(&d);
                report.extra(&d.key);
            }
            Pair::Both(s, d) => {
                report.count_source(&s);
                report.count_destination(&d);
                if s.size != d.size {
                    let outcome = identity(&s, &d, kms);
                    report.compared(&s.key, outcome, Basis::SizeTime);
                } else if etags_comparable(&s.etag, &d.etag, kms) {
                    let outcome = identity(&s, &d, kms);
                    report.compared(&s.key, outcome, Basis::Etag);
                } else {
                    heads.push(by_checksum(source, dest, src_bucket, dst_bucket, s, d));
                    if heads.len() >= VERIFY_HEADS {
                        if let Some(r) = heads.next().await {
                            let (key, outcome, basis) = r?;
                            report.compared(&key, outcome, basis);
                        }
                    }
                }
            }
        }
    }
    while let Some(r) = heads.next().await {
        let (key, outcome, basis) = r?;
        report.compared(&key, outcome, basis);
    }
    Ok(report)
}

/// Compares a pair of equal size by a checksum both carry; size and time
/// when they share none.
async fn by_checksum(
    source: &Side,
    dest: &Side,
    src_bucket: &str,
    dst_bucket: &str,
    s: ObjectEntry,
    d: ObjectEntry,
) -> Result<(String, Identity, Basis)> {
    let (a, b) = tokio::try_join!(
        head_checksums(source, src_bucket, &s),
        head_checksums(dest, dst_bucket, &d)
    )?;
    Ok(match checksums_match(&a, &b) {
        Some(true) => (s.key, Identity::Same(Basis::Checksum), Basis::Checksum),
        Some(false) => (
            s.key,
            Identity::Differs("checksums differ".into()),
            Basis::Checksum,
        ),
        None => {
            let outcome = time_identity(&s, &d);
            (s.key, outcome, Basis::SizeTime)
        }
    })
}

/// An object's checksums, each in one form whatever the server's habits:
/// a composite (multipart) checksum ends in `-<parts>`, a full-object one
/// does not. The type comes from `x-amz-checksum-type` when S3 sends it, else
/// from the ETag (multipart uploads had only composite checksums before
/// full-object ones existed).
async fn head_checksums(side: &Side, bucket: &str, e: &ObjectEntry) -> Result<Vec<Checksum>> {
    let key = &e.key;
    let out = side
        .s3(Class::S3Read)
        .await
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .map_err(|x| {
            reword(side.err("HeadObject", x), |m| {
                format!("s3://{bucket}/{key}: {m}")
            })
        })?;
    let parts = match etag_kind(&e.etag) {
        EtagKind::Multipart(n) => Some(n),
        _ => None,
    };
    let composite = match out.checksum_type() {
        Some(ChecksumType::Composite) => true,
        Some(_) => false,
        None => parts.is_some(),
    };
    Ok(checksums!(out)
        .into_iter()
        .map(|mut c| {
            let bare = c.value.split_once('-').map(|(v, _)| v.to_string());
            match (composite, parts, bare) {
                (true, Some(n), None) => c.value = format!("{}-{n}", c.value),
                (false, _, Some(v)) => c.value = v,
                _ => {}
            }
            c
        })
        .collect())
}

// --- sync -----------------------------------------------------------------

/// Copies the source bucket's objects that are missing or different in the
/// destination bucket. Extra destination objects are left alone (counted).
pub async fn sync(
    dest: &Side,
    copy: &CopyCx,
    src_bucket: &str,
    dst_bucket: &str,
    opts: &SyncOptions,
) -> Result<SyncReport> {
    let cross = copy.source.info.account != dest.info.account;
    let stream = cross && !copy.s3.source_policy;
    Engine::run(
        dest,
        copy,
        src_bucket,
        dst_bucket,
        opts,
        cross && !stream,
        stream,
    )
    .await
}

/// Adds the temporary statement letting the destination principal read the
/// source bucket, recorded first so a killed run still withdraws it.
async fn grant_read(dest: &Side, copy: &CopyCx, bucket: &str) -> Result<(i64, Temporary)> {
    use crate::s3::policy::{add_statement, sid_for, statement};
    let source = &copy.source;
    let sid = sid_for(&dest.info.account);
    let t = Temporary::BucketPolicyStatement {
        bucket: bucket.to_string(),
        sid: sid.clone(),
    };
    let id = copy.open(source, &t)?;
    let stmt = statement(&sid, &source.info.partition, bucket, &dest.principal);
    if let Err(e) = add_statement(source, bucket, stmt).await {
        if let Err(w) = copy.withdraw(source, id, &t).await {
            tracing::warn!("{w}");
        }
        return Err(e);
    }
    Ok((id, t))
}

/// One unit of work for a worker: an object, or the versions of one key
/// (copied in order, oldest first, so they stack up as in the source).
enum Job {
    Object(ObjectEntry),
    Versions(Vec<ObjectEntry>),
}

#[derive(Default)]
struct Stats {
    listed: AtomicU64,
    listed_bytes: AtomicU64,
    listing_done: AtomicBool,
    to_copy: AtomicU64,
    to_copy_bytes: AtomicU64,
    copied: AtomicU64,
    copied_bytes: AtomicU64,
    up_to_date: AtomicU64,
    extra: AtomicU64,
    delete_markers: AtomicU64,
    skipped: AtomicU64,
    vanished: AtomicU64,
}

fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// Metadata a copy carries explicitly (multipart uploads, streamed objects).
#[derive(Default)]
struct Meta {
    metadata: Option<HashMap<String, String>>,
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<DateTime>,
    website_redirect: Option<String>,
    /// The source's tags as a `Tagging` header value.
    tagging: Option<String>,
}

/// The state shared by one bucket's lister, workers and progress reporter.
struct Engine {
    dest: Side,
    src_bucket: String,
    dst_bucket: String,
    stream: bool,
    kms: bool,
    node: String,
    stats: Stats,
    /// The source side, `[s3]`, the copy slots, and where the temporary
    /// source-policy statement is recorded.
    copy: CopyCx,
    /// The statement is needed (server-side copies across accounts) and
    /// not made yet: it is made before the first copy, so a sync with
    /// nothing to copy never touches the source policy.
    grant_needed: AtomicBool,
    grant: Mutex<Option<(i64, Temporary)>>,
    stop: AtomicBool,
    failure: Mutex<Option<AwsError>>,
    skipped_samples: Mutex<Vec<String>>,
}

impl Engine {
    async fn run(
        dest: &Side,
        copy: &CopyCx,
        src_bucket: &str,
        dst_bucket: &str,
        opts: &SyncOptions,
        grant: bool,
        stream: bool,
    ) -> Result<SyncReport> {
        let eng = Arc::new(Engine {
            dest: dest.clone(),
            src_bucket: src_bucket.to_string(),
            dst_bucket: dst_bucket.to_string(),
            stream,
            kms: opts.kms,
            node: opts.node.clone(),
            stats: Stats::default(),
            copy: copy.clone(),
            grant_needed: AtomicBool::new(grant),
            grant: Mutex::new(None),
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
            skipped_samples: Mutex::new(Vec::new()),
        });
        let versions = copy.s3.versions == VersionsMode::All && opts.versioned;
        let mut listers = JoinSet::new();
        // The plan's listing of the source when this process made it
        // moments ago (current objects only): the bucket is listed once.
        let kept = (!versions)
            .then(|| copy.source.listings.take(src_bucket, REUSE_WITHIN))
            .flatten();
        let mut src = match kept {
            Some(kept) => Lane::replay(kept, &copy.source, src_bucket, &mut listers),
            None => Lane::spawn(&copy.source, src_bucket, versions, &mut listers),
        };
        let mut dst = Lane::spawn(dest, dst_bucket, versions, &mut listers);

        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let mut workers = JoinSet::new();
        for _ in 0..copy.s3.workers.max(1) {
            let (eng, rx) = (eng.clone(), rx.clone());
            workers.spawn(async move { eng.work(rx).await });
        }
        drop(rx);
        // In a JoinSet, so that a sync that is dropped stops reporting.
        let mut reporter = JoinSet::new();
        if let Some(sink) = copy.progress.clone() {
            let eng = eng.clone();
            reporter.spawn(async move {
                let mut last = None;
                loop {
                    tokio::time::sleep(PROGRESS_EVERY).await;
                    let now = eng.progress(false);
                    if last.as_ref() != Some(&now) {
                        sink(now.clone());
                        last = Some(now);
                    }
                }
            });
        }

        let listed = if versions {
            eng.feed_versions(&mut src, &mut dst, &tx).await
        } else {
            eng.feed_objects(&mut src, &mut dst, &tx).await
        };
        drop(tx);
        if let Err(e) = listed {
            eng.fail(e);
        }
        eng.stats.listing_done.store(true, Ordering::Relaxed);
        while workers.join_next().await.is_some() {}
        listers.abort_all();
        reporter.abort_all();
        while reporter.join_next().await.is_some() {}
        let made = eng.grant.lock().unwrap().take();
        if let Some((id, t)) = made {
            if let Err(e) = copy.withdraw(&copy.source, id, &t).await {
                if eng.failure.lock().unwrap().is_some() {
                    tracing::warn!(
                        "{e}: it stays recorded and is withdrawn by the next apply or rollback"
                    );
                } else {
                    eng.fail(e);
                }
            }
        }
        if let Some(sink) = &copy.progress {
            sink(eng.progress(true));
        }
        if let Some(e) = eng.failure.lock().unwrap().take() {
            return Err(e);
        }
        let skipped_samples = std::mem::take(&mut *eng.skipped_samples.lock().unwrap());
        let s = &eng.stats;
        Ok(SyncReport {
            listed: get(&s.listed),
            copied: get(&s.copied),
            copied_bytes: get(&s.copied_bytes),
            up_to_date: get(&s.up_to_date),
            extra: get(&s.extra),
            delete_markers: get(&s.delete_markers),
            skipped_archived: get(&s.skipped),
            skipped_samples,
            vanished: get(&s.vanished),
            streamed: stream,
        })
    }

    fn progress(&self, finished: bool) -> TransferProgress {
        let s = &self.stats;
        TransferProgress {
            bucket: self.node.clone(),
            listed_objects: get(&s.listed),
            listed_bytes: get(&s.listed_bytes),
            listing_done: s.listing_done.load(Ordering::Relaxed),
            to_copy_objects: get(&s.to_copy),
            to_copy_bytes: get(&s.to_copy_bytes),
            copied_objects: get(&s.copied),
            copied_bytes: get(&s.copied_bytes),
            finished,
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Keeps the first failure and stops every worker after its current key.
    fn fail(&self, e: AwsError) {
        self.stop.store(true, Ordering::Relaxed);
        let mut f = self.failure.lock().unwrap();
        if f.is_none() {
            *f = Some(e);
        }
    }

    /// Makes the temporary source grant before the first copy (once).
    async fn ensure_grant(&self) -> Result<()> {
        if self.grant_needed.swap(false, Ordering::Relaxed) {
            let made = grant_read(&self.dest, &self.copy, &self.src_bucket).await?;
            *self.grant.lock().unwrap() = Some(made);
        }
        Ok(())
    }

    /// Hands a key to the workers; false once they have stopped. Listed and
    /// to-copy counts move together, so progress never shows a key that is
    /// still being decided as up to date.
    async fn queue(&self, tx: &mpsc::Sender<Job>, job: Job, n: u64, bytes: u64) -> Result<bool> {
        self.ensure_grant().await?;
        add(&self.stats.listed, n);
        add(&self.stats.listed_bytes, bytes);
        add(&self.stats.to_copy, n);
        add(&self.stats.to_copy_bytes, bytes);
        Ok(!self.stopped() && tx.send(job).await.is_ok())
    }

    async fn feed_objects(
        &self,
        src: &mut Lane,
        dst: &mut Lane,
        tx: &mpsc::Sender<Job>,
    ) -> Result<()> {
        let mut join = MergeJoin::new();
        while let Some(pair) = next_pair(&mut join, src, dst, as_objects).await? {
            let listed_size = match &pair {
                Pair::SourceOnly(s) | Pair::Both(s, _) => s.size,
                Pair::DestinationOnly(_) => 0,
            };
            match decide(pair, self.kms) {
                Decision::Copy(s) => {
                    let size = s.size;
                    if !self.queue(tx, Job::Object(s), 1, size).await? {
                        break;
                    }
                }
                Decision::UpToDate(_) => {
                    add(&self.stats.listed, 1);
                    add(&self.stats.listed_bytes, listed_size);
                    add(&self.stats.up_to_date, 1);
                }
                Decision::Extra(_) => add(&self.stats.extra, 1),
            }
        }
        Ok(())
    }

    async fn feed_versions(
        &self,
        src: &mut Lane,
        dst: &mut Lane,
        tx: &mpsc::Sender<Job>,
    ) -> Result<()> {
        let mut join = MergeJoin::new();
        while let Some(pair) = next_pair(&mut join, src, dst, as_versions).await? {
            let (s, d) = match pair {
                Pair::SourceOnly(s) => (s, None),
                Pair::Both(s, d) => (s, Some(d)),
                Pair::DestinationOnly(_) => {
                    add(&self.stats.extra, 1);
                    continue;
                }
            };
            let todo = versions_to_copy(&s, d.as_ref(), self.kms);
            let bytes: u64 = todo.iter().map(|v| v.size).sum();
            let up_to_date = (s.versions.len() - todo.len()) as u64;
            add(&self.stats.listed, up_to_date);
            add(&self.stats.listed_bytes, s.bytes() - bytes);
            add(&self.stats.up_to_date, up_to_date);
            if todo.is_empty() {
                continue;
            }
            if !self
                .queue(tx, Job::Versions(todo.to_vec()), todo.len() as u64, bytes)
                .await?
            {
                break;
            }
        }
        Ok(())
    }

    async fn work(self: Arc<Self>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        while !self.stopped() {
            let job = rx.lock().await.recv().await;
            let Some(job) = job else { break };
            let done = match job {
                Job::Object(e) => self.copy_one(&e).await,
                Job::Versions(vs) => {
                    let mut r = Ok(());
                    for v in &vs {
                        if self.stopped() {
                            break;
                        }
                        r = self.copy_one(v).await;
                        if r.is_err() {
                            break;
                        }
                    }
                    r
                }
            };
            if let Err(e) = done {
                self.fail(e);
            }
        }
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        self.copy
            .s3_slots
            .acquire()
            .await
            .map_err(|_| invalid(self.dest.name, "the copy slots were closed".into()))
    }

    /// Copies one object or version (or replays a delete marker).
    async fn copy_one(&self, e: &ObjectEntry) -> Result<()> {
        let r = if e.delete_marker {
            self.delete_marker(e).await
        } else if e
            .storage_class
            .as_deref()
            .is_some_and(|c| ARCHIVED.contains(&c))
        {
            add(&self.stats.skipped, 1);
            let mut s = self.skipped_samples.lock().unwrap();
            if s.len() < ferry_core::objects::SAMPLE_CAP {
                s.push(e.key.clone());
            }
            return Ok(());
        } else if is_multipart(e.size, self.copy.s3.multipart_threshold) {
            self.multipart(e).await
        } else if self.stream {
            self.retrying(|| self.stream_small(e)).await
        } else {
            self.copy_small(e).await
        };
        if r.as_ref().is_err_and(vanished) {
            add(&self.stats.vanished, 1);
            return Ok(());
        }
        r.map_err(|x| {
            let (s, d) = (&self.src_bucket, &self.dst_bucket);
            let k = &e.key;
            reword(x, |m| format!("copying s3://{s}/{k} to s3://{d}/{k}: {m}"))
        })?;
        if !e.delete_marker {
            add(&self.stats.copied, 1);
            add(&self.stats.copied_bytes, e.size);
        }
        Ok(())
    }

    async fn delete_marker(&self, e: &ObjectEntry) -> Result<()> {
        let _p = self.permit().await?;
        self.dest
            .s3(Class::S3Write)
            .await
            .delete_object()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .send()
            .await
            .map_err(|x| self.dest.err("DeleteObject", x))?;
        add(&self.stats.delete_markers, 1);
        Ok(())
    }

    /// The one request a small object costs: S3 copies data, metadata,
    /// tags and checksum. Tags and the checksum algorithm are what CopyObject
    /// copies by default (x-amz-tagging-directive defaults to COPY; without
    /// x-amz-checksum-algorithm "the checksum algorithm will be copied from
    /// the source object", S3 API reference), so neither header is sent (the
    /// emulator spent 8 % more time on a copy that carried them). The storage
    /// class is not copied by default (STANDARD otherwise), so it is sent
    /// when it is another.
    async fn copy_small(&self, e: &ObjectEntry) -> Result<()> {
        let _p = self.permit().await?;
        let req = self
            .dest
            .s3(Class::S3Write)
            .await
            .copy_object()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .copy_source(copy_source(&self.src_bucket, e))
            .metadata_directive(MetadataDirective::Copy)
            .set_storage_class(storage_class(e));
        // The hot path: most objects need no per-request configuration.
        let sent = if e.size < PATIENT_FROM {
            req.send().await
        } else {
            req.customize()
                .config_override(patient(e.size))
                .send()
                .await
        };
        sent.map_err(|x| self.dest.err("CopyObject", x))?;
        crate::failpoint::hit("object-copied");
        Ok(())
    }

    /// Streams one small object through ferry: GetObject from the source,
    /// PutObject to the destination with its metadata, tags and checksum.
    async fn stream_small(&self, e: &ObjectEntry) -> Result<()> {
        let _p = self.permit().await?;
        let got = self.get_source(e, None).await?;
        let mut meta = meta_of!(got);
        if got.tag_count().unwrap_or(0) > 0 {
            meta.tagging = self.source_tagging(e).await?;
        }
        // A full-object checksum is sent as is, so S3 checks what arrives
        // against what the source holds; otherwise S3 computes its own.
        let sums = checksums!(got);
        let full = sums.iter().find(|c| !c.value.contains('-'));
        let mut put = self
            .dest
            .s3(Class::S3Write)
            .await
            .put_object()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .content_length(e.size as i64)
            .set_storage_class(storage_class(e));
        put = with_meta!(put, meta);
        put = match full.map(|c| (c.algorithm.as_str(), c.value.clone())) {
            Some(("CRC64NVME", v)) => put.checksum_crc64_nvme(v),
            Some(("CRC32C", v)) => put.checksum_crc32_c(v),
            Some(("CRC32", v)) => put.checksum_crc32(v),
            Some(("SHA256", v)) => put.checksum_sha256(v),
            Some(("SHA1", v)) => put.checksum_sha1(v),
            _ => put.set_checksum_algorithm(checksum_algorithm(e)),
        };
        put.body(got.body)
            .customize()
            .config_override(patient(e.size))
            .send()
            .await
            .map_err(|x| self.dest.err("PutObject", x))?;
        Ok(())
    }

    /// Tries a streamed request again on failures that may pass: the SDK
    /// cannot replay a body that streams from another response.
    async fn retrying<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Err(e) if attempt < STREAM_ATTEMPTS && transient(&e) && !self.stopped() => {
                    tracing::debug!("retrying a streamed copy: {e}");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn source_tagging(&self, e: &ObjectEntry) -> Result<Option<String>> {
        let out = self
            .copy
            .source
            .s3(Class::S3Read)
            .await
            .get_object_tagging()
            .bucket(&self.src_bucket)
            .key(&e.key)
            .set_version_id(e.version_id.clone())
            .send()
            .await
            .map_err(|x| self.copy.source.err("GetObjectTagging", x))?;
        let tags: Vec<(String, String)> = out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        Ok((!tags.is_empty()).then(|| tagging_header(&tags)))
    }

    /// What a multipart copy carries from the source (HeadObject and
    /// GetObjectTagging with the source's own credentials), and the
    /// source's part layout when it was a multipart upload.
    async fn source_meta(&self, e: &ObjectEntry) -> Result<(Meta, Option<PartLayout>)> {
        let multipart = matches!(etag_kind(&e.etag), EtagKind::Multipart(_));
        let head = self.head_source(e, multipart.then_some(1)).await?;
        let mut meta = meta_of!(head);
        meta.tagging = {
            let _p = self.permit().await?;
            self.source_tagging(e).await?
        };
        let layout = match (multipart, head.parts_count(), head.content_length()) {
            (true, Some(parts), Some(len)) if parts > 0 && len > 0 => Some(PartLayout {
                part_size: len as u64,
                parts: parts as u32,
            }),
            _ => None,
        };
        Ok((meta, layout))
    }

    /// HeadObject of the source object (or of one of its parts), with the
    /// source's own credentials.
    async fn head_source(
        &self,
        e: &ObjectEntry,
        part: Option<i32>,
    ) -> Result<aws_sdk_s3::operation::head_object::HeadObjectOutput> {
        let _p = self.permit().await?;
        self.copy
            .source
            .s3(Class::S3Read)
            .await
            .head_object()
            .bucket(&self.src_bucket)
            .key(&e.key)
            .set_version_id(e.version_id.clone())
            .set_part_number(part)
            .send()
            .await
            .map_err(|x| self.copy.source.err("HeadObject", x))
    }

    /// GetObject of the source object (or a range of it), its body to be
    /// streamed on; the caller holds a permit for the pair of requests.
    async fn get_source(
        &self,
        e: &ObjectEntry,
        range: Option<String>,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput> {
        self.copy
            .source
            .s3(Class::S3Read)
            .await
            .get_object()
            .bucket(&self.src_bucket)
            .key(&e.key)
            .set_version_id(e.version_id.clone())
            .set_range(range.clone())
            .set_checksum_mode(range.is_none().then_some(ChecksumMode::Enabled))
            .send()
            .await
            .map_err(|x| self.copy.source.err("GetObject", x))
    }

    /// The size of each part of an irregular multipart source.
    async fn source_part_sizes(&self, e: &ObjectEntry, parts: u32) -> Result<Vec<u64>> {
        let mut sizes = Vec::with_capacity(parts as usize);
        for n in 1..=parts as i32 {
            let head = self.head_source(e, Some(n)).await?;
            sizes.push(head.content_length().unwrap_or(0).max(0) as u64);
        }
        Ok(sizes)
    }

    /// Copies an object above the threshold in parts: server-side with
    /// UploadPartCopy, or streamed part by part. The upload is aborted on
    /// any failure, so none is left open.
    async fn multipart(&self, e: &ObjectEntry) -> Result<()> {
        let (meta, layout) = self.source_meta(e).await?;
        let parts = match plan_parts(e.size, self.copy.s3.part_size, layout) {
            Some(p) => p,
            None => {
                let n = layout.map(|l| l.parts).unwrap_or(1);
                ranges_from_sizes(&self.source_part_sizes(e, n).await?)
            }
        };
        self.abort_leftovers(&e.key).await?;
        let upload_id = {
            let _p = self.permit().await?;
            let create = self
                .dest
                .s3(Class::S3Write)
                .await
                .create_multipart_upload()
                .bucket(&self.dst_bucket)
                .key(&e.key)
                .set_storage_class(storage_class(e))
                .set_checksum_algorithm(checksum_algorithm(e))
                .set_checksum_type(checksum_type(e));
            let out = with_meta!(create, meta)
                .send()
                .await
                .map_err(|x| self.dest.err("CreateMultipartUpload", x))?;
            out.upload_id().map(String::from).ok_or_else(|| {
                invalid(
                    self.dest.name,
                    "CreateMultipartUpload returned no upload id".into(),
                )
            })?
        };
        let done = self.upload_parts(e, &upload_id, &parts).await;
        let done = match done {
            Ok(list) => self.complete(e, &upload_id, list).await,
            Err(x) => Err(x),
        };
        if done.is_err() {
            self.abort(&e.key, &upload_id).await;
        }
        done
    }

    async fn upload_parts(
        &self,
        e: &ObjectEntry,
        upload_id: &str,
        parts: &[PartRange],
    ) -> Result<Vec<CompletedPart>> {
        let width = self.copy.s3.workers.max(1);
        let mut done: Vec<CompletedPart> = futures::stream::iter(parts.iter().copied())
            .map(|r| async move {
                if self.stopped() {
                    return Err(invalid(
                        self.dest.name,
                        "stopped after another object failed".into(),
                    ));
                }
                if self.stream {
                    self.retrying(|| self.stream_part(e, upload_id, r)).await
                } else {
                    self.copy_part(e, upload_id, r).await
                }
            })
            .buffer_unordered(width)
            .try_collect()
            .await?;
        done.sort_by_key(|p| p.part_number());
        Ok(done)
    }

    async fn copy_part(
        &self,
        e: &ObjectEntry,
        upload_id: &str,
        r: PartRange,
    ) -> Result<CompletedPart> {
        let _p = self.permit().await?;
        let out = self
            .dest
            .s3(Class::S3Write)
            .await
            .upload_part_copy()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .upload_id(upload_id)
            .part_number(r.number)
            .copy_source(copy_source(&self.src_bucket, e))
            .copy_source_range(r.header())
            .customize()
            .config_override(patient(r.bytes()))
            .send()
            .await
            .map_err(|x| self.dest.err("UploadPartCopy", x))?;
        let res = out
            .copy_part_result()
            .ok_or_else(|| invalid(self.dest.name, "UploadPartCopy returned no result".into()))?;
        Ok(completed(r.number, res.e_tag(), checksums!(res)))
    }

    async fn stream_part(
        &self,
        e: &ObjectEntry,
        upload_id: &str,
        r: PartRange,
    ) -> Result<CompletedPart> {
        let _p = self.permit().await?;
        let got = self.get_source(e, Some(r.header())).await?;
        let out = self
            .dest
            .s3(Class::S3Write)
            .await
            .upload_part()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .upload_id(upload_id)
            .part_number(r.number)
            .content_length(r.bytes() as i64)
            .set_checksum_algorithm(checksum_algorithm(e))
            .body(got.body)
            .customize()
            .config_override(patient(r.bytes()))
            .send()
            .await
            .map_err(|x| self.dest.err("UploadPart", x))?;
        Ok(completed(r.number, out.e_tag(), checksums!(out)))
    }

    async fn complete(
        &self,
        e: &ObjectEntry,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<()> {
        let _p = self.permit().await?;
        self.dest
            .s3(Class::S3Write)
            .await
            .complete_multipart_upload()
            .bucket(&self.dst_bucket)
            .key(&e.key)
            .upload_id(upload_id)
            .set_checksum_type(checksum_type(e))
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .customize()
            .config_override(patient(e.size))
            .send()
            .await
            .map_err(|x| self.dest.err("CompleteMultipartUpload", x))?;
        Ok(())
    }

    /// Aborts an upload; a failure here is only logged (the error that
    /// caused the abort is the one reported).
    async fn abort(&self, key: &str, upload_id: &str) {
        let r = self
            .dest
            .s3(Class::S3Write)
            .await
            .abort_multipart_upload()
            .bucket(&self.dst_bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(x) = r {
            let e = self.dest.err("AbortMultipartUpload", x);
            if !e.is_not_found() {
                tracing::warn!(
                    "s3://{}/{key}: upload {upload_id} left open: {e}",
                    self.dst_bucket
                );
            }
        }
    }

    /// Aborts uploads of this very key left open by a run that was killed
    /// (the key is being copied again, so they can only be ferry's).
    async fn abort_leftovers(&self, key: &str) -> Result<()> {
        let out = {
            let _p = self.permit().await?;
            self.dest
                .s3(Class::S3Read)
                .await
                .list_multipart_uploads()
                .bucket(&self.dst_bucket)
                .prefix(key)
                .send()
                .await
                .map_err(|x| self.dest.err("ListMultipartUploads", x))?
        };
        for u in out.uploads() {
            if let (Some(k), Some(id)) = (u.key(), u.upload_id()) {
                if k == key {
                    let _p = self.permit().await?;
                    self.abort(k, id).await;
                }
            }
        }
        Ok(())
    }
}

/// The source object was deleted after it was listed: nothing to copy.
fn vanished(e: &AwsError) -> bool {
    match e {
        AwsError::Api {
            op, code: Some(c), ..
        } => {
            c == "NoSuchKey"
                || c == "NoSuchVersion"
                || (c == "NotFound" && matches!(*op, "HeadObject" | "GetObject"))
        }
        _ => false,
    }
}

/// Whether a failed streamed request may pass when tried again.
fn transient(e: &AwsError) -> bool {
    match e {
        AwsError::Api { code: None, .. } | AwsError::Timeout { .. } => true,
        AwsError::Api { code: Some(c), .. } => matches!(
            c.as_str(),
            "InternalError" | "SlowDown" | "ServiceUnavailable" | "RequestTimeout" | "Throttling"
        ),
        _ => false,
    }
}

fn completed(number: i32, etag: Option<&str>, sums: Vec<Checksum>) -> CompletedPart {
    let mut b = CompletedPart::builder()
        .part_number(number)
        .set_e_tag(etag.map(String::from));
    for c in sums {
        b = match c.algorithm.as_str() {
            "CRC64NVME" => b.checksum_crc64_nvme(c.value),
            "CRC32C" => b.checksum_crc32_c(c.value),
            "CRC32" => b.checksum_crc32(c.value),
            "SHA256" => b.checksum_sha256(c.value),
            _ => b.checksum_sha1(c.value),
        };
    }
    b.build()
}

fn storage_class(e: &ObjectEntry) -> Option<StorageClass> {
    e.storage_class
        .as_deref()
        .filter(|c| *c != "STANDARD")
        .map(StorageClass::from)
}

fn checksum_algorithm(e: &ObjectEntry) -> Option<ChecksumAlgorithm> {
    e.checksum_algorithm.as_deref().map(ChecksumAlgorithm::from)
}

/// The checksum type of a multipart copy: the source's when listed; a
/// single-part source's CRC is a full-object checksum, which a multipart
/// upload can reproduce whatever its parts (SHA checksums cannot be).
fn checksum_type(e: &ObjectEntry) -> Option<ChecksumType> {
    if let Some(t) = &e.checksum_type {
        return Some(ChecksumType::from(t.as_str()));
    }
    let crc = matches!(
        e.checksum_algorithm.as_deref(),
        Some("CRC32" | "CRC32C" | "CRC64NVME")
    );
    let single = !matches!(etag_kind(&e.etag), EtagKind::Multipart(_));
    (crc && single).then_some(ChecksumType::FullObject)
}

/// A per-request timeout that grows with the bytes S3 must move (copies of
/// gigabytes take minutes); small requests keep the session's defaults.
fn patient(bytes: u64) -> aws_sdk_s3::config::Builder {
    let b = aws_sdk_s3::config::Builder::new();
    if bytes < PATIENT_FROM {
        return b;
    }
    let secs = 60 + bytes / (8 * MIB);
    b.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(secs))
            .build(),
    )
}

/// The `x-amz-copy-source` of an object (or version): bucket and key,
/// percent-encoded as S3 requires.
fn copy_source(bucket: &str, e: &ObjectEntry) -> String {
    let mut s = format!("{bucket}/{}", uri_encode(&e.key, true));
    if let Some(v) = &e.version_id {
        s.push_str("?versionId=");
        s.push_str(&uri_encode(v, false));
    }
    s
}

/// A `Tagging` header: `k1=v1&k2=v2`, each part percent-encoded.
fn tagging_header(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and
/// `/` when `keep_slash`).
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_and_tags_are_percent_encoded() {
        let mut e = ObjectEntry::new("dir/a b+é?.txt", 1, "", 0);
        assert_eq!(copy_source("b", &e), "b/dir/a%20b%2B%C3%A9%3F.txt");
        e.version_id = Some("v+1/2".into());
        assert_eq!(
            copy_source("b", &e),
            "b/dir/a%20b%2B%C3%A9%3F.txt?versionId=v%2B1%2F2"
        );
        assert_eq!(
            tagging_header(&[("a b".into(), "x=y&z".into()), ("k".into(), "".into())]),
            "a%20b=x%3Dy%26z&k="
        );
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        let api = |code: Option<&str>| AwsError::Api {
            side: "destination",
            op: "PutObject",
            code: code.map(String::from),
            message: "m".into(),
        };
        assert!(transient(&api(None)));
        assert!(transient(&api(Some("SlowDown"))));
        assert!(!transient(&api(Some("AccessDenied"))));
        assert!(!transient(&api(Some("NoSuchKey"))));
        assert!(vanished(&api(Some("NoSuchKey"))));
        assert!(!vanished(&api(Some("NoSuchBucket"))));
        assert!(!vanished(&api(Some("NotFound"))));
    }

    #[test]
    fn errors_name_the_object() {
        let e = reword(
            AwsError::Api {
                side: "destination",
                op: "CopyObject",
                code: Some("AccessDenied".into()),
                message: "no".into(),
            },
            |m| format!("copying s3://a/k to s3://b/k: {m}"),
        );
        assert_eq!(e.code(), Some("AccessDenied"));
        assert!(e.to_string().contains("s3://a/k to s3://b/k: no"), "{e}");
    }
}
