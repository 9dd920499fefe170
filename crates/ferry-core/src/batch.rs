//! S3 Batch Operations, as pure data: the CSV manifest ferry writes (its
//! lines, its object keys, how it is cut into upload parts), the work bucket
//! and job role it needs (names and policies), the `CreateJob` request, and
//! how a job's state and progress read.
//!
//! Batch Operations is the managed engine AWS built for billions of objects:
//! ferry lists the source bucket once, writes the manifest to a bucket of its
//! own in the destination account and region, creates a copy job per storage
//! class (a job sets one storage class for everything it copies), and tracks
//! it. No I/O here: `ferry-aws` (`s3::batch`) does the listing, the uploads
//! and the calls.

use crate::config::{GIB, MIB};
use crate::objects::ObjectEntry;
use crate::spec::s3::thousands;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The service that assumes the job role.
pub const SERVICE_PRINCIPAL: &str = "batchoperations.s3.amazonaws.com";
/// The manifest format ferry writes: `bucket,key` per line.
pub const MANIFEST_FORMAT: &str = "S3BatchOperations_CSV_20180820";
/// The columns of that manifest (current versions: no `VersionId`).
pub const MANIFEST_FIELDS: [&str; 2] = ["Bucket", "Key"];
pub const REPORT_FORMAT: &str = "Report_CSV_20180820";
/// Only failed tasks are reported: a report of every task of a
/// ten-million-object job is itself a gigabyte that nobody reads.
pub const REPORT_SCOPE: &str = "FailedTasksOnly";
/// Jobs of higher priority run first; ferry's jobs are ordinary ones.
pub const PRIORITY: i32 = 10;
/// A Batch Operations copy is one `CopyObject` per object, which takes at
/// most 5 GiB. Larger objects are left to ferry's own multipart copy.
pub const MAX_OBJECT_SIZE: u64 = 5 * GIB;
/// The job role's IAM path and its one inline policy.
pub const ROLE_PATH: &str = "/ferry/";
pub const ROLE_POLICY_NAME: &str = "ferry-batch-copy";
/// Manifest upload parts: at least S3's 5 MiB minimum (except the last),
/// growing every 1,000 parts so that 10,000 parts (S3's maximum) hold far
/// more than any bucket's manifest (about 430 GiB, some four billion keys).
pub const PART_SIZE: usize = 8 * MIB as usize;
const PARTS_PER_STEP: i32 = 1_000;

/// Percent-encodes an object key for the manifest, which S3 Batch
/// Operations requires to be URL-encoded. Everything but RFC 3986's
/// unreserved characters and `/` is encoded, so the manifest decodes to the
/// same key whether it is read as a URL (`%20`) or a form (`+` is a space):
/// a literal `+` becomes `%2B`, a comma `%2C`, a newline `%0A`, so no line
/// ever needs CSV quoting.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// One manifest line, newline included: `bucket,key` or, for a specific
/// version, `bucket,key,versionId` (a manifest either gives every line a
/// version or none). Bucket names and S3 version ids use no character that
/// needs encoding.
pub fn manifest_line(bucket: &str, key: &str, version_id: Option<&str>) -> String {
    match version_id {
        Some(v) => format!("{bucket},{},{v}\n", encode_key(key)),
        None => format!("{bucket},{}\n", encode_key(key)),
    }
}

/// Why an object is not in any manifest (ferry copies it from this machine,
/// or, for archived objects, says they must be restored first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    /// Over [`MAX_OBJECT_SIZE`].
    TooLarge,
    /// In S3 Glacier Flexible Retrieval or Deep Archive: no copy reads it
    /// before it is restored.
    Archived,
    /// A storage class a copy job cannot set (`REDUCED_REDUNDANCY`, say):
    /// a job would change it.
    Class,
}

/// Where an object goes: into the manifest of a storage class, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Job(&'static str),
    LeftOut(LeftOut),
}

/// The storage classes a copy job can write, as `S3StorageClass` names them.
const JOB_CLASSES: [&str; 5] = [
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
];

/// Routes a listed object (a current version: listings by `ListObjectsV2`).
pub fn route(e: &ObjectEntry) -> Route {
    let class = e.storage_class.as_deref().unwrap_or("STANDARD");
    if class == "GLACIER" || class == "DEEP_ARCHIVE" {
        return Route::LeftOut(LeftOut::Archived);
    }
    if e.size > MAX_OBJECT_SIZE {
        return Route::LeftOut(LeftOut::TooLarge);
    }
    match JOB_CLASSES.iter().find(|c| **c == class) {
        Some(c) => Route::Job(c),
        None => Route::LeftOut(LeftOut::Class),
    }
}

/// Objects in no manifest, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOutCounts {
    pub too_large: u64,
    pub archived: u64,
    pub other_class: u64,
    pub bytes: u64,
}

impl LeftOutCounts {
    pub fn add(&mut self, why: LeftOut, size: u64) {
        match why {
            LeftOut::TooLarge => self.too_large += 1,
            LeftOut::Archived => self.archived += 1,
            LeftOut::Class => self.other_class += 1,
        }
        self.bytes += size;
    }

    pub fn total(&self) -> u64 {
        self.too_large + self.archived + self.other_class
    }

    /// Objects ferry's own copy takes over after the jobs (not the archived
    /// ones, which no copy can read).
    pub fn for_local_copy(&self) -> u64 {
        self.too_large + self.other_class
    }

    /// One line saying what was left out and why, when anything was.
    pub fn describe(&self) -> Option<String> {
        let mut parts = vec![];
        if self.too_large > 0 {
            parts.push(format!(
                "{} over 5 GiB (a Batch Operations copy takes 5 GiB at most)",
                thousands(self.too_large)
            ));
        }
        if self.other_class > 0 {
            parts.push(format!(
                "{} in a storage class a copy job cannot set",
                thousands(self.other_class)
            ));
        }
        if self.archived > 0 {
            parts.push(format!(
                "{} archived in S3 Glacier Flexible Retrieval or Deep Archive (restore them, then apply again)",
                thousands(self.archived)
            ));
        }
        (!parts.is_empty()).then(|| format!("left out of the manifests: {}", parts.join("; ")))
    }
}

/// The size a manifest part is cut at, given how many parts were sent.
pub fn part_target(parts_sent: i32) -> usize {
    PART_SIZE * (1 + (parts_sent / PARTS_PER_STEP) as usize)
}

/// The lines of one storage class's manifest not yet uploaded, and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassBuffer {
    pub class: &'static str,
    pub buf: Vec<u8>,
    /// Parts already taken (the next part is `parts_sent + 1`).
    pub parts_sent: i32,
    pub objects: u64,
    pub bytes: u64,
}

/// Builds the manifests of one source bucket from its streamed listing,
/// one per storage class, holding at most one part per class in memory.
#[derive(Debug, Clone)]
pub struct ManifestWriter {
    bucket: String,
    classes: Vec<ClassBuffer>,
    pub left_out: LeftOutCounts,
}

impl ManifestWriter {
    pub fn new(source_bucket: &str) -> ManifestWriter {
        ManifestWriter {
            bucket: source_bucket.to_string(),
            classes: vec![],
            left_out: LeftOutCounts::default(),
        }
    }

    /// Adds a listed object. Returns the storage class whose buffer reached
    /// its part size: upload [`ManifestWriter::take_part`] of it.
    pub fn add(&mut self, e: &ObjectEntry) -> Option<&'static str> {
        let class = match route(e) {
            Route::Job(c) => c,
            Route::LeftOut(why) => {
                self.left_out.add(why, e.size);
                return None;
            }
        };
        let i = match self.classes.iter().position(|c| c.class == class) {
            Some(i) => i,
            None => {
                self.classes.push(ClassBuffer {
                    class,
                    buf: Vec::with_capacity(PART_SIZE),
                    parts_sent: 0,
                    objects: 0,
                    bytes: 0,
                });
                self.classes.len() - 1
            }
        };
        let c = &mut self.classes[i];
        c.buf
            .extend_from_slice(manifest_line(&self.bucket, &e.key, None).as_bytes());
        c.objects += 1;
        c.bytes += e.size;
        (c.buf.len() >= part_target(c.parts_sent)).then_some(class)
    }

    /// The buffered lines of `class` as its next part: (part number, bytes).
    pub fn take_part(&mut self, class: &str) -> Option<(i32, Vec<u8>)> {
        let c = self.classes.iter_mut().find(|c| c.class == class)?;
        c.parts_sent += 1;
        let next = part_target(c.parts_sent);
        Some((
            c.parts_sent,
            std::mem::replace(&mut c.buf, Vec::with_capacity(next)),
        ))
    }

    /// What remains once the listing is done: each class's last lines.
    pub fn finish(self) -> (Vec<ClassBuffer>, LeftOutCounts) {
        (self.classes, self.left_out)
    }
}

/// A manifest written to the work bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub storage_class: String,
    pub key: String,
    /// Without quotes, as `CreateJob` takes it.
    pub etag: String,
    pub objects: u64,
    pub bytes: u64,
}

/// Written after every manifest of a bucket is complete: a resumed apply
/// that finds it reuses the manifests (and finds the jobs made from them)
/// instead of listing the bucket again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestIndex {
    pub source_bucket: String,
    pub manifests: Vec<ManifestRecord>,
    pub left_out: LeftOutCounts,
    /// Source objects listed, and their bytes (in a manifest or not).
    #[serde(default)]
    pub listed: u64,
    #[serde(default)]
    pub listed_bytes: u64,
    /// Of those, already in the destination (left out of the manifests).
    #[serde(default)]
    pub up_to_date: u64,
}

impl ManifestIndex {
    pub fn objects(&self) -> u64 {
        self.manifests.iter().map(|m| m.objects).sum()
    }
    pub fn bytes(&self) -> u64 {
        self.manifests.iter().map(|m| m.bytes).sum()
    }
}

/// The work bucket: one per destination account and region (jobs read their
/// manifest from, and report to, a bucket in their own region). The account
/// id keeps the name from colliding with another account's.
pub fn work_bucket(account: &str, region: &str) -> String {
    format!("ferry-batch-{account}-{region}")
}

/// Everything of one run's copy of one bucket sits under this prefix.
pub fn run_prefix(run: &str, source_bucket: &str) -> String {
    format!("ferry/run-{run}/{source_bucket}")
}

pub fn manifest_key(run: &str, source_bucket: &str, class: &str) -> String {
    format!(
        "{}/manifest-{}.csv",
        run_prefix(run, source_bucket),
        class.to_ascii_lowercase()
    )
}

pub fn index_key(run: &str, source_bucket: &str) -> String {
    format!("{}/manifests.json", run_prefix(run, source_bucket))
}

pub fn report_prefix(run: &str, source_bucket: &str) -> String {
    format!("{}/reports", run_prefix(run, source_bucket))
}

/// Where the report of job `job_id` lands (S3 adds `job-<id>/`).
pub fn report_uri(work_bucket: &str, run: &str, source_bucket: &str, job_id: &str) -> String {
    format!(
        "s3://{work_bucket}/{}/job-{job_id}/",
        report_prefix(run, source_bucket)
    )
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// The job role of a destination bucket. Role names take 64 characters and
/// bucket names 63, so a long name is cut and a digest of the whole keeps it
/// unique. One role per destination bucket: its policy names that bucket
/// and its source.
pub fn role_name(dest_bucket: &str) -> String {
    let head: String = dest_bucket.chars().take(40).collect();
    format!("ferry-batch-{head}-{}", &digest(&[dest_bucket])[..8])
}

/// The `Sid` of the source-bucket statement that lets the job role read.
/// Distinct from the statement of ferry's own copy, so the two never
/// replace each other.
pub fn source_sid(dest_account: &str) -> String {
    format!("FerryBatchRead{dest_account}")
}

/// The job role's trust policy: only S3 Batch Operations assumes it.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": SERVICE_PRINCIPAL},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// What the job role reaches: the two buckets, this run's manifests and
/// reports in the work bucket, and the KMS keys the buckets encrypt with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleScope {
    pub partition: String,
    pub source_bucket: String,
    pub dest_bucket: String,
    pub work_bucket: String,
    /// [`run_prefix`] of the copy.
    pub prefix: String,
    /// KMS key ARNs the buckets' default encryption names.
    pub kms_keys: Vec<String>,
    /// A bucket encrypts with SSE-KMS under a key known only by alias (or
    /// the AWS managed key): KMS is granted on any key, but only through S3
    /// in the two regions.
    pub kms_any_via_s3: Vec<String>,
}

/// The job role's permissions policy.
pub fn role_policy(s: &RoleScope) -> Value {
    let p = &s.partition;
    let mut statements = vec![
        json!({
            "Sid": "ReadSourceObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:ListBucket"
            ],
            "Resource": [
                format!("arn:{p}:s3:::{}", s.source_bucket),
                format!("arn:{p}:s3:::{}/*", s.source_bucket)
            ]
        }),
        json!({
            "Sid": "WriteDestinationObjects",
            "Effect": "Allow",
            "Action": [
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionTagging"
            ],
            "Resource": format!("arn:{p}:s3:::{}/*", s.dest_bucket)
        }),
        json!({
            "Sid": "ReadManifests",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": format!("arn:{p}:s3:::{}/{}/*", s.work_bucket, s.prefix)
        }),
        json!({
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": format!("arn:{p}:s3:::{}/{}/reports/*", s.work_bucket, s.prefix)
        }),
        json!({
            "Sid": "LocateWorkBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": format!("arn:{p}:s3:::{}", s.work_bucket)
        }),
    ];
    let kms_actions = json!(["kms:Decrypt", "kms:GenerateDataKey"]);
    if !s.kms_keys.is_empty() {
        statements.push(json!({
            "Sid": "UseBucketKeys",
            "Effect": "Allow",
            "Action": kms_actions,
            "Resource": s.kms_keys
        }));
    }
    if !s.kms_any_via_s3.is_empty() {
        statements.push(json!({
            "Sid": "UseKeysThroughS3",
            "Effect": "Allow",
            "Action": kms_actions,
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": s.kms_any_via_s3}}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// What a copy job of one bucket is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInputs {
    pub run: String,
    /// The destination account, where the job runs.
    pub account: String,
    pub partition: String,
    pub source_bucket: String,
    pub dest_bucket: String,
    pub work_bucket: String,
    pub role_arn: String,
    /// The source bucket's ARN, for the job's `ferry:source` tag.
    pub source_arn: String,
}

/// `S3PutObjectCopy`: every object of the manifest copied into the target
/// bucket under the same key, metadata copied (tags too: a copy job copies
/// them unless told to replace them), in one storage class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyOperation {
    pub target_resource: String,
    pub metadata_directive: String,
    pub storage_class: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestLocation {
    pub format: String,
    pub fields: Vec<String>,
    pub object_arn: String,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportTarget {
    pub enabled: bool,
    pub bucket: String,
    pub prefix: String,
    pub format: String,
    pub scope: String,
}

/// A `CreateJob` request, typed; `ferry-aws` turns it into the SDK's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRequest {
    pub account_id: String,
    /// The same for a resumed apply of the same run, so AWS answers a
    /// repeated request with the job it already made.
    pub client_request_token: String,
    /// Also deterministic: ferry finds its job again by it (ListJobs).
    pub description: String,
    pub priority: i32,
    pub confirmation_required: bool,
    pub role_arn: String,
    pub operation: CopyOperation,
    pub manifest: ManifestLocation,
    pub report: ReportTarget,
    pub tags: Vec<(String, String)>,
}

/// A job's description: unique per run, bucket pair, storage class and
/// attempt (a new attempt follows a job that failed or was cancelled).
pub fn job_description(run: &str, source: &str, dest: &str, class: &str, attempt: u32) -> String {
    let base = format!("ferry run {run}: s3://{source} to s3://{dest} ({class}");
    if attempt <= 1 {
        format!("{base})")
    } else {
        format!("{base}, attempt {attempt})")
    }
}

/// The attempt a description names, if it is one of [`job_description`]'s
/// for this run, bucket pair and class.
fn attempt_of(description: &str, run: &str, source: &str, dest: &str, class: &str) -> Option<u32> {
    let base = format!("ferry run {run}: s3://{source} to s3://{dest} ({class}");
    let rest = description.strip_prefix(&base)?;
    if rest == ")" {
        return Some(1);
    }
    rest.strip_prefix(", attempt ")?
        .strip_suffix(')')?
        .parse()
        .ok()
        .filter(|n| *n > 1)
}

/// `ClientRequestToken` (64 characters at most).
pub fn client_request_token(
    run: &str,
    source: &str,
    dest: &str,
    class: &str,
    attempt: u32,
) -> String {
    let attempt = attempt.to_string();
    format!(
        "ferry-{}",
        &digest(&[run, source, dest, class, &attempt])[..32]
    )
}

/// A job as `ListJobs` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedJob {
    pub id: String,
    pub description: String,
    pub status: String,
}

/// What to do for one manifest, given the account's jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobChoice {
    /// This run already made the job (a resumed apply): follow it.
    Follow(String),
    /// Make one; attempt 1, or the next after a job that failed or was
    /// cancelled.
    Create { attempt: u32 },
}

pub fn choose_job(
    listed: &[ListedJob],
    run: &str,
    source: &str,
    dest: &str,
    class: &str,
) -> JobChoice {
    let latest = listed
        .iter()
        .filter_map(|j| attempt_of(&j.description, run, source, dest, class).map(|a| (a, j)))
        .max_by_key(|(a, _)| *a);
    match latest {
        None => JobChoice::Create { attempt: 1 },
        Some((a, j)) => match job_state(&j.status) {
            JobState::Failed | JobState::Cancelled => JobChoice::Create { attempt: a + 1 },
            JobState::Running | JobState::Complete => JobChoice::Follow(j.id.clone()),
        },
    }
}

pub fn job_request(i: &JobInputs, m: &ManifestRecord, attempt: u32) -> JobRequest {
    let p = &i.partition;
    let class = &m.storage_class;
    let (run, src, dst) = (&i.run, &i.source_bucket, &i.dest_bucket);
    JobRequest {
        account_id: i.account.clone(),
        client_request_token: client_request_token(run, src, dst, class, attempt),
        description: job_description(run, src, dst, class, attempt),
        priority: PRIORITY,
        confirmation_required: false,
        role_arn: i.role_arn.clone(),
        operation: CopyOperation {
            target_resource: format!("arn:{p}:s3:::{}", i.dest_bucket),
            metadata_directive: "COPY".into(),
            storage_class: class.clone(),
        },
        manifest: ManifestLocation {
            format: MANIFEST_FORMAT.into(),
            fields: MANIFEST_FIELDS.iter().map(|f| f.to_string()).collect(),
            object_arn: format!("arn:{p}:s3:::{}/{}", i.work_bucket, m.key),
            etag: m.etag.trim_matches('"').to_string(),
        },
        report: ReportTarget {
            enabled: true,
            bucket: format!("arn:{p}:s3:::{}", i.work_bucket),
            prefix: report_prefix(&i.run, &i.source_bucket),
            format: REPORT_FORMAT.into(),
            scope: REPORT_SCOPE.into(),
        },
        tags: vec![
            (crate::resource::TAG_SOURCE.into(), i.source_arn.clone()),
            (crate::resource::TAG_RUN.into(), i.run.clone()),
        ],
    }
}

/// Where a job is, from its `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// New, Preparing, Ready, Active, Pausing, Paused, Completing, Failing,
    /// Cancelling, Suspended (and anything AWS adds): not finished.
    Running,
    Complete,
    Failed,
    Cancelled,
}

pub fn job_state(status: &str) -> JobState {
    match status {
        "Complete" => JobState::Complete,
        "Failed" => JobState::Failed,
        "Cancelled" => JobState::Cancelled,
        _ => JobState::Running,
    }
}

/// A job's `ProgressSummary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl std::ops::Add for JobCounts {
    type Output = JobCounts;

    fn add(self, o: JobCounts) -> JobCounts {
        JobCounts {
            total: self.total + o.total,
            succeeded: self.succeeded + o.succeeded,
            failed: self.failed + o.failed,
        }
    }
}

impl JobCounts {
    /// Bytes copied so far, estimated: a job counts tasks, not bytes, so the
    /// manifest's bytes are spread evenly over its objects.
    pub fn bytes_done(&self, manifest_objects: u64, manifest_bytes: u64) -> u64 {
        if manifest_objects == 0 {
            return 0;
        }
        let done = (self.succeeded + self.failed).min(manifest_objects);
        ((manifest_bytes as u128 * done as u128) / manifest_objects as u128) as u64
    }
}

/// The line a finished job leaves in apply's output.
pub fn job_line(job_id: &str, state: JobState, counts: JobCounts, report: &str) -> String {
    let how = match state {
        JobState::Complete | JobState::Running => "",
        JobState::Failed => " (the job failed)",
        JobState::Cancelled => " (the job was cancelled)",
    };
    format!(
        "S3 Batch Operations job {job_id}{how}: {} objects copied, {} failed; report {report}",
        thousands(counts.succeeded),
        thousands(counts.failed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from JSON so that fields other code adds to `ObjectEntry`
    /// (with serde defaults) do not break these tests.
    fn entry(key: &str, size: u64, class: Option<&str>) -> ObjectEntry {
        serde_json::from_value(json!({
            "key": key, "size": size, "etag": "e", "last_modified": 0,
            "storage_class": class
        }))
        .unwrap()
    }

    #[test]
    fn keys_are_percent_encoded_so_url_and_form_decoding_agree() {
        assert_eq!(encode_key("photos/2024/a.jpg"), "photos/2024/a.jpg");
        assert_eq!(encode_key("a b+c,d"), "a%20b%2Bc%2Cd");
        assert_eq!(
            encode_key("naïve 日本.txt"),
            "na%C3%AFve%20%E6%97%A5%E6%9C%AC.txt"
        );
        assert_eq!(encode_key("line\nbreak\"%"), "line%0Abreak%22%25");
        assert_eq!(encode_key("~_-."), "~_-.");
    }

    #[test]
    fn manifest_lines_are_bucket_key_and_optionally_version() {
        assert_eq!(
            manifest_line("src", "dir/a b.txt", None),
            "src,dir/a%20b.txt\n"
        );
        assert_eq!(
            manifest_line("src", "k,1", Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")),
            "src,k%2C1,3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY\n"
        );
    }

    #[test]
    fn objects_route_by_storage_class_and_size() {
        assert_eq!(route(&entry("a", 1, None)), Route::Job("STANDARD"));
        assert_eq!(
            route(&entry("a", 1, Some("STANDARD_IA"))),
            Route::Job("STANDARD_IA")
        );
        assert_eq!(
            route(&entry("a", 1, Some("INTELLIGENT_TIERING"))),
            Route::Job("INTELLIGENT_TIERING")
        );
        assert_eq!(
            route(&entry("a", MAX_OBJECT_SIZE, None)),
            Route::Job("STANDARD")
        );
        assert_eq!(
            route(&entry("a", MAX_OBJECT_SIZE + 1, None)),
            Route::LeftOut(LeftOut::TooLarge)
        );
        assert_eq!(
            route(&entry("a", 1, Some("DEEP_ARCHIVE"))),
            Route::LeftOut(LeftOut::Archived)
        );
        assert_eq!(
            route(&entry("a", MAX_OBJECT_SIZE + 1, Some("GLACIER"))),
            Route::LeftOut(LeftOut::Archived)
        );
        assert_eq!(
            route(&entry("a", 1, Some("REDUCED_REDUNDANCY"))),
            Route::LeftOut(LeftOut::Class)
        );
    }

    #[test]
    fn the_writer_keeps_one_manifest_per_class_and_cuts_parts() {
        let mut w = ManifestWriter::new("src");
        assert_eq!(w.add(&entry("a b", 3, None)), None);
        assert_eq!(w.add(&entry("c", 4, Some("STANDARD_IA"))), None);
        assert_eq!(w.add(&entry("d", 5, None)), None);
        assert_eq!(w.add(&entry("huge", 6 * GIB, None)), None);
        assert_eq!(w.add(&entry("cold", 7, Some("GLACIER"))), None);
        let (classes, left) = w.finish();
        assert_eq!(classes.len(), 2);
        assert_eq!(classes[0].class, "STANDARD");
        assert_eq!(classes[0].buf, b"src,a%20b\nsrc,d\n");
        assert_eq!((classes[0].objects, classes[0].bytes), (2, 8));
        assert_eq!(classes[1].buf, b"src,c\n");
        assert_eq!(
            left,
            LeftOutCounts {
                too_large: 1,
                archived: 1,
                other_class: 0,
                bytes: 6 * GIB + 7
            }
        );
        assert_eq!(left.for_local_copy(), 1);
        let line = left.describe().unwrap();
        assert!(
            line.contains("1 over 5 GiB") && line.contains("1 archived"),
            "{line}"
        );
        assert_eq!(LeftOutCounts::default().describe(), None);
    }

    #[test]
    fn parts_are_at_least_the_target_and_memory_stays_one_part_per_class() {
        let mut w = ManifestWriter::new("b");
        let key = "k".repeat(1000);
        let line = manifest_line("b", &key, None).len();
        let mut parts = vec![];
        for _ in 0..(2 * PART_SIZE / line + 10) {
            if let Some(c) = w.add(&entry(&key, 1, None)) {
                parts.push(w.take_part(c).unwrap());
            }
        }
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, 1);
        assert_eq!(parts[1].0, 2);
        assert!(parts
            .iter()
            .all(|(_, p)| p.len() >= PART_SIZE && p.len() < PART_SIZE + line));
        assert!(parts.iter().all(|(_, p)| p.ends_with(b"\n")));
        let (rest, _) = w.finish();
        assert_eq!(rest[0].objects as usize, 2 * PART_SIZE / line + 10);
        assert!(rest[0].buf.len() < PART_SIZE);
        assert_eq!(rest[0].parts_sent, 2);
    }

    #[test]
    fn part_sizes_grow_so_ten_thousand_parts_hold_hundreds_of_gib() {
        assert_eq!(part_target(0), 8 * MIB as usize);
        assert_eq!(part_target(999), 8 * MIB as usize);
        assert_eq!(part_target(1000), 16 * MIB as usize);
        let total: u64 = (0..10_000).map(|n| part_target(n) as u64).sum();
        assert!(total > 400 * GIB, "{total}");
    }

    #[test]
    fn names_are_deterministic_per_run_and_bucket() {
        assert_eq!(
            work_bucket("222222222222", "eu-west-1"),
            "ferry-batch-222222222222-eu-west-1"
        );
        assert_eq!(
            manifest_key("7", "photos", "STANDARD_IA"),
            "ferry/run-7/photos/manifest-standard_ia.csv"
        );
        assert_eq!(
            index_key("7", "photos"),
            "ferry/run-7/photos/manifests.json"
        );
        assert_eq!(report_prefix("7", "photos"), "ferry/run-7/photos/reports");
        assert_eq!(
            report_uri("w", "7", "photos", "abc-1"),
            "s3://w/ferry/run-7/photos/reports/job-abc-1/"
        );
        assert_eq!(source_sid("222"), "FerryBatchRead222");
        let r = role_name("photos-copy");
        assert!(
            r.starts_with("ferry-batch-photos-copy-") && r.len() == 24 + 8,
            "{r}"
        );
        assert_eq!(r, role_name("photos-copy"));
        let long = "b".repeat(63);
        let other = format!("{}c", "b".repeat(62));
        assert!(role_name(&long).len() <= 64);
        assert_ne!(role_name(&long), role_name(&other));
    }

    #[test]
    fn the_trust_policy_names_only_batch_operations() {
        assert_eq!(
            trust_policy(),
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "batchoperations.s3.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]})
        );
    }

    fn scope() -> RoleScope {
        RoleScope {
            partition: "aws".into(),
            source_bucket: "src".into(),
            dest_bucket: "dst".into(),
            work_bucket: "ferry-batch-222-eu-west-1".into(),
            prefix: run_prefix("7", "src"),
            kms_keys: vec![],
            kms_any_via_s3: vec![],
        }
    }

    #[test]
    fn the_role_reads_the_source_writes_the_destination_and_its_own_prefix() {
        let p = role_policy(&scope());
        assert_eq!(
            p,
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "ReadSourceObjects", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
                            "s3:GetObjectVersionTagging", "s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::src", "arn:aws:s3:::src/*"]},
                {"Sid": "WriteDestinationObjects", "Effect": "Allow",
                 "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
                 "Resource": "arn:aws:s3:::dst/*"},
                {"Sid": "ReadManifests", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                 "Resource": "arn:aws:s3:::ferry-batch-222-eu-west-1/ferry/run-7/src/*"},
                {"Sid": "WriteReports", "Effect": "Allow", "Action": "s3:PutObject",
                 "Resource": "arn:aws:s3:::ferry-batch-222-eu-west-1/ferry/run-7/src/reports/*"},
                {"Sid": "LocateWorkBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation",
                 "Resource": "arn:aws:s3:::ferry-batch-222-eu-west-1"}
            ]})
        );
    }

    #[test]
    fn encrypted_buckets_add_their_keys() {
        let mut s = scope();
        s.kms_keys = vec!["arn:aws:kms:eu-west-1:111:key/k1".into()];
        s.kms_any_via_s3 = vec!["s3.eu-west-1.amazonaws.com".into()];
        let p = role_policy(&s);
        let st = p["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 7);
        assert_eq!(
            st[5],
            json!({"Sid": "UseBucketKeys", "Effect": "Allow",
                   "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                   "Resource": ["arn:aws:kms:eu-west-1:111:key/k1"]})
        );
        assert_eq!(
            st[6]["Condition"],
            json!({"StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com"]}})
        );
    }

    fn inputs() -> JobInputs {
        JobInputs {
            run: "7".into(),
            account: "222222222222".into(),
            partition: "aws".into(),
            source_bucket: "src".into(),
            dest_bucket: "dst".into(),
            work_bucket: "ferry-batch-222222222222-eu-west-1".into(),
            role_arn: "arn:aws:iam::222222222222:role/ferry/ferry-batch-dst-1".into(),
            source_arn: "arn:aws:s3:::src".into(),
        }
    }

    fn record(class: &str) -> ManifestRecord {
        ManifestRecord {
            storage_class: class.into(),
            key: manifest_key("7", "src", class),
            etag: "\"0123abcd-2\"".into(),
            objects: 10,
            bytes: 100,
        }
    }

    #[test]
    fn the_create_job_request_is_exactly_this() {
        let r = job_request(&inputs(), &record("STANDARD_IA"), 1);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({
                "account_id": "222222222222",
                "client_request_token": client_request_token("7", "src", "dst", "STANDARD_IA", 1),
                "description": "ferry run 7: s3://src to s3://dst (STANDARD_IA)",
                "priority": 10,
                "confirmation_required": false,
                "role_arn": "arn:aws:iam::222222222222:role/ferry/ferry-batch-dst-1",
                "operation": {
                    "target_resource": "arn:aws:s3:::dst",
                    "metadata_directive": "COPY",
                    "storage_class": "STANDARD_IA"
                },
                "manifest": {
                    "format": "S3BatchOperations_CSV_20180820",
                    "fields": ["Bucket", "Key"],
                    "object_arn": "arn:aws:s3:::ferry-batch-222222222222-eu-west-1/ferry/run-7/src/manifest-standard_ia.csv",
                    "etag": "0123abcd-2"
                },
                "report": {
                    "enabled": true,
                    "bucket": "arn:aws:s3:::ferry-batch-222222222222-eu-west-1",
                    "prefix": "ferry/run-7/src/reports",
                    "format": "Report_CSV_20180820",
                    "scope": "FailedTasksOnly"
                },
                "tags": [["ferry:source", "arn:aws:s3:::src"], ["ferry:run", "7"]]
            })
        );
    }

    #[test]
    fn the_token_is_stable_per_run_and_attempt_and_differs_otherwise() {
        let t = client_request_token("7", "src", "dst", "STANDARD", 1);
        assert_eq!(t, client_request_token("7", "src", "dst", "STANDARD", 1));
        assert!(t.starts_with("ferry-") && t.len() == 38, "{t}");
        assert_ne!(t, client_request_token("8", "src", "dst", "STANDARD", 1));
        assert_ne!(t, client_request_token("7", "src", "dst", "STANDARD_IA", 1));
        assert_ne!(t, client_request_token("7", "src", "dst", "STANDARD", 2));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            client_request_token("7", "ab", "c", "STANDARD", 1),
            client_request_token("7", "a", "bc", "STANDARD", 1)
        );
    }

    fn listed(id: &str, description: String, status: &str) -> ListedJob {
        ListedJob {
            id: id.into(),
            description,
            status: status.into(),
        }
    }

    #[test]
    fn a_resumed_apply_follows_its_job_and_retries_after_a_failed_one() {
        let d = |a| job_description("7", "src", "dst", "STANDARD", a);
        assert_eq!(d(1), "ferry run 7: s3://src to s3://dst (STANDARD)");
        assert_eq!(
            d(2),
            "ferry run 7: s3://src to s3://dst (STANDARD, attempt 2)"
        );
        let choose = |jobs: &[ListedJob]| choose_job(jobs, "7", "src", "dst", "STANDARD");
        assert_eq!(choose(&[]), JobChoice::Create { attempt: 1 });
        // Other runs, other classes and other buckets are not ours.
        let others = [
            listed(
                "a",
                job_description("70", "src", "dst", "STANDARD", 1),
                "Active",
            ),
            listed(
                "b",
                job_description("7", "src", "dst", "STANDARD_IA", 1),
                "Active",
            ),
            listed(
                "c",
                job_description("7", "src", "dst2", "STANDARD", 1),
                "Active",
            ),
            listed("d", "copy of my own".into(), "Active"),
        ];
        assert_eq!(choose(&others), JobChoice::Create { attempt: 1 });
        let mut jobs = others.to_vec();
        jobs.push(listed("j1", d(1), "Active"));
        assert_eq!(choose(&jobs), JobChoice::Follow("j1".into()));
        jobs[4].status = "Complete".into();
        assert_eq!(choose(&jobs), JobChoice::Follow("j1".into()));
        jobs[4].status = "Failed".into();
        assert_eq!(choose(&jobs), JobChoice::Create { attempt: 2 });
        jobs.push(listed("j2", d(2), "Preparing"));
        assert_eq!(choose(&jobs), JobChoice::Follow("j2".into()));
        jobs[5].status = "Cancelled".into();
        assert_eq!(choose(&jobs), JobChoice::Create { attempt: 3 });
    }

    #[test]
    fn states_progress_and_the_final_line() {
        assert_eq!(job_state("Complete"), JobState::Complete);
        assert_eq!(job_state("Failed"), JobState::Failed);
        assert_eq!(job_state("Cancelled"), JobState::Cancelled);
        for s in [
            "New",
            "Preparing",
            "Ready",
            "Active",
            "Completing",
            "Suspended",
        ] {
            assert_eq!(job_state(s), JobState::Running, "{s}");
        }
        let c = JobCounts {
            total: 10_000_000,
            succeeded: 2_500_000,
            failed: 0,
        };
        assert_eq!(c.bytes_done(10_000_000, 4 * GIB), GIB);
        assert_eq!(JobCounts::default().bytes_done(0, 0), 0);
        let all = c + JobCounts {
            total: 1,
            succeeded: 7_500_000,
            failed: 3,
        };
        assert_eq!(
            job_line("j-1", JobState::Complete, all, "s3://w/p/job-j-1/"),
            "S3 Batch Operations job j-1: 10,000,000 objects copied, 3 failed; report s3://w/p/job-j-1/"
        );
        assert!(job_line("j", JobState::Failed, c, "r").contains("(the job failed)"));
    }

    #[test]
    fn the_index_round_trips_and_totals() {
        let idx = ManifestIndex {
            source_bucket: "src".into(),
            manifests: vec![record("STANDARD"), record("GLACIER_IR")],
            left_out: LeftOutCounts::default(),
            listed: 25,
            listed_bytes: 250,
            up_to_date: 5,
        };
        let text = serde_json::to_string(&idx).unwrap();
        assert_eq!(serde_json::from_str::<ManifestIndex>(&text).unwrap(), idx);
        assert_eq!((idx.objects(), idx.bytes()), (20, 200));
    }
}
