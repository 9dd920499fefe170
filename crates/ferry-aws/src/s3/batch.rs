//! S3 Batch Operations: copying a bucket too large for one machine with the
//! managed engine AWS built for billions of objects (ARCHITECTURE.md, "Data paths").
//!
//! [`copy`] lists both buckets once, merge-joined page by page as sync does,
//! and writes what the destination lacks as CSV manifests (one per storage
//! class: a copy job sets one class for all it copies) to a work bucket of
//! ferry's in the destination account and region, streamed through
//! multipart uploads so memory stays flat. It then makes the job role
//! (trusted by `batchoperations.s3.amazonaws.com`), lets it read the source
//! bucket through a temporary policy statement (recorded before, withdrawn
//! after), creates one `S3PutObjectCopy` job per manifest and follows them
//! to the end, reporting progress.
//!
//! A resumed apply of the same run finds the manifests by their index and
//! the jobs by their description (their `ClientRequestToken` is
//! deterministic too), so it never makes a second job. What no job can copy
//! (objects over 5 GiB, storage classes a job cannot set) and tasks that
//! failed are left to ferry's own sync, which copies only what is missing.
//! The pure parts (manifest lines and names, policies, the request) live in
//! [`ferry_core::batch`].

use crate::error::AwsError;
use crate::ratelimit::Class;
use crate::s3::objects::{Lister, SyncOptions};
use crate::transfer::{Temporary, TransferProgress};
use crate::{CopyCx, Result, Side};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration,
    ExpirationStatus, LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging,
};
use aws_sdk_s3control::operation::create_job::builders::CreateJobInputBuilder;
use aws_sdk_s3control::operation::create_job::CreateJobInput;
use aws_sdk_s3control::types::{
    JobManifest, JobManifestFieldName, JobManifestFormat, JobManifestLocation, JobManifestSpec,
    JobOperation, JobReport, JobReportFormat, JobReportScope, RequestedJobStatus,
    S3CopyObjectOperation, S3MetadataDirective, S3StorageClass, S3Tag,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use ferry_core::batch::{
    choose_job, index_key, job_line, job_request, job_state, manifest_key, report_uri, role_name,
    role_policy, run_prefix, source_sid, trust_policy, work_bucket, ClassBuffer, JobChoice,
    JobCounts, JobInputs, JobRequest, JobState, ListedJob, ManifestIndex, ManifestRecord,
    ManifestWriter, RoleScope, ROLE_PATH, ROLE_POLICY_NAME,
};
use ferry_core::config::VersionsMode;
use ferry_core::objects::{decide, Decision, MergeJoin, Step};
use ferry_core::resource::{TAG_RUN, TAG_SOURCE};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the destination account is asked for (`ferry bootstrap`).
pub const ACTIONS: &[&str] = &[
    "s3:CreateJob",
    "s3:DescribeJob",
    "s3:ListJobs",
    "s3:UpdateJobStatus",
    "s3:PutJobTagging",
    "s3:CreateBucket",
    "s3:PutBucketTagging",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:PassRole",
];

/// What the source account is asked for besides reading: the temporary
/// statement that lets the job role read the bucket.
pub const SOURCE_ACTIONS: &[&str] = &[
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
];

/// How often a running job is described. Jobs run for minutes to days, and
/// S3 Control's job APIs have low limits.
const POLL: Duration = Duration::from_secs(15);
/// Consecutive failed DescribeJob calls (after the SDK's own retries)
/// before ferry gives up following a job.
const POLL_FAILURES: u32 = 8;
/// A role just made is not at once assumable by a service: IAM is
/// eventually consistent.
const ROLE_SETTLE: Duration = Duration::from_secs(10);

/// What a Batch Operations copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// One line per job, plus what was left out (for apply's output).
    pub lines: Vec<String>,
    /// Tasks of all jobs: succeeded and failed.
    pub counts: JobCounts,
    /// Objects no job copies that ferry's own copy can (over 5 GiB, or in a
    /// storage class a job cannot set).
    pub left_for_sync: u64,
    /// Archived objects (Glacier Flexible Retrieval, Deep Archive): no copy
    /// reads them before they are restored.
    pub archived: u64,
}

impl BatchReport {
    /// Whether [`crate::s3::objects::sync`] should follow, to copy what the
    /// jobs did not: it copies only what is missing, so it costs a listing.
    pub fn needs_sync(&self) -> bool {
        self.left_for_sync > 0 || self.counts.failed > 0
    }
}

/// Copies `src_bucket`'s current objects that `dst_bucket` lacks with S3
/// Batch Operations jobs run in the destination account. The run
/// (`copy.run`) names the manifests and the jobs, so a resumed apply finds
/// them. `opts` is sync's: the progress node, and whether a bucket uses
/// SSE-KMS (then ETags are not compared).
pub async fn copy(
    dest: &Side,
    copy: &CopyCx,
    src_bucket: &str,
    dst_bucket: &str,
    opts: &SyncOptions,
) -> Result<BatchReport> {
    let source = &copy.source;
    let run = &copy.run.to_string();
    if copy.s3.versions == VersionsMode::All {
        return Err(dest.invalid(format!(
            "bucket {src_bucket}: S3 Batch Operations copies each object as a new current \
             version, in no set order, so it cannot carry every version: set [s3] versions = \
             \"current\" or [s3] batch = false"
        )));
    }
    let cross = source.info.account != dest.info.account;
    if cross && !copy.s3.source_policy {
        return Err(dest.invalid(format!(
            "bucket {src_bucket}: S3 Batch Operations reads the source bucket with a role of the \
             destination account, which needs a statement in the source bucket's policy that \
             [s3] source_policy = false forbids: allow it, or set [s3] batch = false to stream \
             the objects through this machine"
        )));
    }
    let listed = list_jobs(dest).await?;
    let work = work_bucket(&dest.info.account, &dest.info.region);
    ensure_work_bucket(dest, &work).await?;
    let (src_kms, dst_kms) = (
        bucket_kms(source, src_bucket).await?,
        bucket_kms(dest, dst_bucket).await?,
    );
    let kms = opts.kms || src_kms.is_some() || dst_kms.is_some();
    let index = write_manifests(dest, copy, src_bucket, dst_bucket, kms, &opts.node).await?;
    let mut report = BatchReport {
        left_for_sync: index.left_out.for_local_copy(),
        archived: index.left_out.archived,
        ..BatchReport::default()
    };
    if index.manifests.is_empty() {
        report.lines.push(format!(
            "S3 Batch Operations: nothing to copy from s3://{src_bucket} ({} objects up to date)",
            ferry_core::spec::s3::thousands(index.up_to_date)
        ));
        report.lines.extend(index.left_out.describe());
        emit(copy, opts, &index, JobCounts::default(), true);
        return Ok(report);
    }
    let mut via_s3: Vec<String> = [(&src_kms, source), (&dst_kms, dest)]
        .into_iter()
        .filter(|(k, _)| k.as_ref().is_some_and(|k| k.arn.is_none()))
        .map(|(_, side)| format!("s3.{}.amazonaws.com", side.info.region))
        .collect();
    via_s3.dedup();
    let scope = RoleScope {
        partition: dest.info.partition.clone(),
        source_bucket: src_bucket.to_string(),
        dest_bucket: dst_bucket.to_string(),
        work_bucket: work.clone(),
        prefix: run_prefix(run, src_bucket),
        kms_keys: [&src_kms, &dst_kms]
            .into_iter()
            .flatten()
            .filter_map(|k| k.arn.clone())
            .collect(),
        kms_any_via_s3: via_s3,
    };
    let role_arn = ensure_role(dest, dst_bucket, src_bucket, run, &scope).await?;
    let grant = if cross {
        Some(grant_read(copy, src_bucket, &role_arn).await?)
    } else {
        None
    };
    let inputs = JobInputs {
        run: run.to_string(),
        account: dest.info.account.clone(),
        partition: dest.info.partition.clone(),
        source_bucket: src_bucket.to_string(),
        dest_bucket: dst_bucket.to_string(),
        work_bucket: work.clone(),
        role_arn,
        source_arn: format!("arn:{}:s3:::{src_bucket}", source.info.partition),
    };
    let outcome = run_jobs(dest, copy, opts, &inputs, &index, &listed).await;
    if let Some((id, t)) = grant {
        // A job that is still running when ferry stops following it (an
        // error) was cancelled by `run_jobs`: nothing needs the statement.
        let withdrawn = copy.withdraw(&copy.source, id, &t).await;
        if let (Ok(_), Err(e)) = (&outcome, withdrawn) {
            return Err(e);
        }
    }
    let (lines, counts) = outcome?;
    report.lines = lines;
    report.counts = counts;
    report.lines.extend(index.left_out.describe());
    Ok(report)
}

// --- S3 Control ------------------------------------------------------------

/// Records the URL a request was sent to, so that a failure can name the
/// endpoint (an emulator, a VPC endpoint) rather than only the operation.
#[derive(Debug, Clone, Default)]
struct SeenUrl(Arc<Mutex<Option<String>>>);

impl Intercept for SeenUrl {
    fn name(&self) -> &'static str {
        "ferry-seen-url"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        *self.0.lock().expect("seen-url lock") = Some(context.request().uri().to_string());
        Ok(())
    }
}

/// `scheme://host[:port]` of a request URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The account's jobs; also the check that the endpoint has S3 Control
/// jobs at all, before anything is made for them.
async fn list_jobs(dest: &Side) -> Result<Vec<ListedJob>> {
    let mut jobs = vec![];
    let mut token = None;
    loop {
        let seen = SeenUrl::default();
        let out = dest
            .s3control(Class::S3Control)
            .await
            .list_jobs()
            .account_id(&dest.info.account)
            .set_next_token(token.take())
            .customize()
            .interceptor(seen.clone())
            .send()
            .await
            .map_err(|e| dest.err("ListJobs", e));
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let url = seen.0.lock().expect("seen-url lock").clone();
                return Err(unavailable(dest, e, url.as_deref()));
            }
        };
        jobs.extend(out.jobs().iter().map(|j| {
            ListedJob {
                id: j.job_id().unwrap_or_default().to_string(),
                description: j.description().unwrap_or_default().to_string(),
                status: j
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            }
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(jobs),
        }
    }
}

/// An endpoint that does not serve S3 Control jobs (it cannot be reached,
/// answers with something that is not an AWS error, or says the operation
/// does not exist) gets the clear error; any other AWS error is itself.
fn unavailable(dest: &Side, e: AwsError, url: Option<&str>) -> AwsError {
    match unavailable_message(&e, url) {
        Some(m) => dest.invalid(m),
        None => e,
    }
}

fn unavailable_message(e: &AwsError, url: Option<&str>) -> Option<String> {
    let AwsError::Api { code, message, .. } = e else {
        return None;
    };
    let missing = match code.as_deref() {
        None => true,
        Some(c) => matches!(
            c,
            "NotImplemented"
                | "InvalidAction"
                | "UnknownOperation"
                | "UnknownOperationException"
                | "MethodNotAllowed"
        ),
    };
    missing.then(|| {
        let at = url.map(origin).unwrap_or("the S3 Control endpoint");
        format!(
            "S3 Batch Operations is not available at {at}: ListJobs: {message}; set [s3] batch = \
             false to copy from this machine"
        )
    })
}

/// The SDK's `CreateJob` input for a typed request.
pub fn create_job_input(r: &JobRequest) -> std::result::Result<CreateJobInputBuilder, String> {
    let op = S3CopyObjectOperation::builder()
        .target_resource(&r.operation.target_resource)
        .metadata_directive(S3MetadataDirective::from(
            r.operation.metadata_directive.as_str(),
        ))
        .storage_class(S3StorageClass::from(r.operation.storage_class.as_str()))
        .build();
    let spec = JobManifestSpec::builder()
        .format(JobManifestFormat::from(r.manifest.format.as_str()))
        .set_fields(Some(
            r.manifest
                .fields
                .iter()
                .map(|f| JobManifestFieldName::from(f.as_str()))
                .collect(),
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let location = JobManifestLocation::builder()
        .object_arn(&r.manifest.object_arn)
        .e_tag(&r.manifest.etag)
        .build()
        .map_err(|e| e.to_string())?;
    let report = JobReport::builder()
        .enabled(r.report.enabled)
        .bucket(&r.report.bucket)
        .prefix(&r.report.prefix)
        .format(JobReportFormat::from(r.report.format.as_str()))
        .report_scope(JobReportScope::from(r.report.scope.as_str()))
        .build();
    let tags = r
        .tags
        .iter()
        .map(|(k, v)| S3Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(CreateJobInput::builder()
        .account_id(&r.account_id)
        .confirmation_required(r.confirmation_required)
        .client_request_token(&r.client_request_token)
        .description(&r.description)
        .priority(r.priority)
        .role_arn(&r.role_arn)
        .operation(JobOperation::builder().s3_put_object_copy(op).build())
        .manifest(JobManifest::builder().spec(spec).location(location).build())
        .report(report)
        .set_tags(Some(tags)))
}

/// One job followed to its end.
struct Followed {
    id: String,
    state: JobState,
    counts: JobCounts,
    reasons: Vec<String>,
}

/// Creates (or finds) a job per manifest and follows them all to their end.
/// On an error, jobs still running are cancelled: the source statement they
/// read through is about to be withdrawn.
async fn run_jobs(
    dest: &Side,
    copy: &CopyCx,
    opts: &SyncOptions,
    inputs: &JobInputs,
    index: &ManifestIndex,
    listed: &[ListedJob],
) -> Result<(Vec<String>, JobCounts)> {
    let mut jobs: Vec<Followed> = vec![];
    let made = start_jobs(dest, inputs, index, listed, &mut jobs).await;
    let followed = match made {
        Ok(()) => follow(dest, copy, opts, index, &mut jobs).await,
        Err(e) => Err(e),
    };
    if let Err(e) = followed {
        cancel_running(dest, &jobs, &e.to_string()).await;
        return Err(e);
    }
    let mut lines = vec![];
    let mut total = JobCounts::default();
    let mut failures = vec![];
    for j in &jobs {
        let report = report_uri(
            &inputs.work_bucket,
            &inputs.run,
            &inputs.source_bucket,
            &j.id,
        );
        lines.push(job_line(&j.id, j.state, j.counts, &report));
        total = total + j.counts;
        if matches!(j.state, JobState::Failed | JobState::Cancelled) {
            let why = if j.reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", j.reasons.join("; "))
            };
            failures.push(format!(
                "S3 Batch Operations job {} {}{why} (report {report}); apply again to retry it",
                j.id,
                if j.state == JobState::Failed {
                    "failed"
                } else {
                    "was cancelled"
                }
            ));
        }
    }
    if !failures.is_empty() {
        return Err(dest.invalid(failures.join("; ")));
    }
    Ok((lines, total))
}

async fn start_jobs(
    dest: &Side,
    inputs: &JobInputs,
    index: &ManifestIndex,
    listed: &[ListedJob],
    jobs: &mut Vec<Followed>,
) -> Result<()> {
    for m in &index.manifests {
        let id = match choose_job(
            listed,
            &inputs.run,
            &inputs.source_bucket,
            &inputs.dest_bucket,
            &m.storage_class,
        ) {
            JobChoice::Follow(id) => id,
            JobChoice::Create { attempt } => create_job(dest, inputs, m, attempt).await?,
        };
        jobs.push(Followed {
            id,
            state: JobState::Running,
            counts: JobCounts::default(),
            reasons: vec![],
        });
    }
    Ok(())
}

async fn create_job(
    dest: &Side,
    inputs: &JobInputs,
    m: &ManifestRecord,
    attempt: u32,
) -> Result<String> {
    let input = create_job_input(&job_request(inputs, m, attempt)).map_err(|e| dest.invalid(e))?;
    let out = input
        .send_with(dest.s3control(Class::S3Control).await)
        .await
        .map_err(|e| dest.err("CreateJob", e))?;
    out.job_id()
        .map(String::from)
        .ok_or_else(|| dest.invalid("CreateJob returned no job id"))
}

/// Describes the jobs until each has ended, reporting progress.
async fn follow(
    dest: &Side,
    copy: &CopyCx,
    opts: &SyncOptions,
    index: &ManifestIndex,
    jobs: &mut [Followed],
) -> Result<()> {
    let mut failures = 0;
    loop {
        let mut err = None;
        for j in jobs.iter_mut().filter(|j| j.state == JobState::Running) {
            match describe(dest, &j.id).await {
                Ok((state, counts, reasons)) => {
                    j.state = state;
                    j.counts = counts;
                    j.reasons = reasons;
                }
                Err(e) => err = Some(e),
            }
        }
        match err {
            Some(e) => {
                failures += 1;
                if failures >= POLL_FAILURES {
                    return Err(e);
                }
                tracing::warn!("{e}: retrying");
            }
            None => failures = 0,
        }
        let counts = jobs.iter().fold(JobCounts::default(), |a, j| a + j.counts);
        let done = jobs.iter().all(|j| j.state != JobState::Running);
        emit(copy, opts, index, counts, done);
        if done {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn describe(dest: &Side, id: &str) -> Result<(JobState, JobCounts, Vec<String>)> {
    let out = dest
        .s3control(Class::S3Control)
        .await
        .describe_job()
        .account_id(&dest.info.account)
        .job_id(id)
        .send()
        .await
        .map_err(|e| dest.err("DescribeJob", e))?;
    let job = out
        .job()
        .ok_or_else(|| dest.invalid(format!("DescribeJob of {id} returned no job")))?;
    let state = job_state(job.status().map(|s| s.as_str()).unwrap_or_default());
    let counts = job
        .progress_summary()
        .map(|p| JobCounts {
            total: p.total_number_of_tasks().unwrap_or(0).max(0) as u64,
            succeeded: p.number_of_tasks_succeeded().unwrap_or(0).max(0) as u64,
            failed: p.number_of_tasks_failed().unwrap_or(0).max(0) as u64,
        })
        .unwrap_or_default();
    let mut reasons: Vec<String> = job
        .failure_reasons()
        .iter()
        .map(|f| {
            format!(
                "{}{}",
                f.failure_code()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                f.failure_reason().unwrap_or_default()
            )
        })
        .collect();
    reasons.extend(job.status_update_reason().map(String::from));
    Ok((state, counts, reasons))
}

async fn cancel_running(dest: &Side, jobs: &[Followed], why: &str) {
    let reason: String = format!("ferry stopped following it: {why}")
        .chars()
        .take(256)
        .collect();
    for j in jobs.iter().filter(|j| j.state == JobState::Running) {
        let r = dest
            .s3control(Class::S3Control)
            .await
            .update_job_status()
            .account_id(&dest.info.account)
            .job_id(&j.id)
            .requested_job_status(RequestedJobStatus::Cancelled)
            .status_update_reason(&reason)
            .send()
            .await;
        if let Err(e) = r {
            tracing::warn!("{}", dest.err("UpdateJobStatus", e));
        }
    }
}

fn emit(copy: &CopyCx, opts: &SyncOptions, index: &ManifestIndex, c: JobCounts, finished: bool) {
    let Some(sink) = &copy.progress else {
        return;
    };
    let (objects, bytes) = (index.objects(), index.bytes());
    sink(TransferProgress {
        bucket: opts.node.clone(),
        listed_objects: index.listed,
        listed_bytes: index.listed_bytes,
        listing_done: true,
        to_copy_objects: objects,
        to_copy_bytes: bytes,
        copied_objects: c.succeeded,
        copied_bytes: c.bytes_done(objects, bytes),
        finished,
    });
}

// --- the work bucket and the manifests ---------------------------------------

/// Creates the work bucket if missing (or adopts it), private, encrypted
/// with SSE-S3 (Batch Operations does not read SSE-KMS manifests), tagged,
/// and with unfinished uploads of killed runs aborted after a day.
pub async fn ensure_work_bucket(dest: &Side, name: &str) -> Result<()> {
    let c = dest.s3(Class::S3Write).await;
    let region = &dest.info.region;
    let conf = (region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region.as_str()))
            .build()
    });
    match c
        .create_bucket()
        .bucket(name)
        .set_create_bucket_configuration(conf)
        .send()
        .await
        .map_err(|e| dest.err("CreateBucket", e))
    {
        Ok(_) => {}
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {}
        Err(e) if e.code() == Some("BucketAlreadyExists") => {
            return Err(dest.invalid(format!(
                "the S3 Batch Operations work bucket {name} belongs to another account: \
                 ferry cannot write manifests there; set [s3] batch = false"
            )))
        }
        Err(e) => return Err(e),
    }
    let c = dest.s3(Class::S3Write).await;
    c.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| dest.err("PutPublicAccessBlock", e))?;
    let sse = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| dest.invalid(e.to_string()))?;
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(sse)
                .build(),
        )
        .build()
        .map_err(|e| dest.invalid(e.to_string()))?;
    dest.s3(Class::S3Write)
        .await
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(encryption)
        .send()
        .await
        .map_err(|e| dest.err("PutBucketEncryption", e))?;
    let rule = LifecycleRule::builder()
        .id("ferry-abort-unfinished-manifests")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()
        .map_err(|e| dest.invalid(e.to_string()))?;
    let lifecycle = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(|e| dest.invalid(e.to_string()))?;
    dest.s3(Class::S3Write)
        .await
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(lifecycle)
        .send()
        .await
        .map_err(|e| dest.err("PutBucketLifecycleConfiguration", e))?;
    let tag = Tag::builder()
        .key("ferry:purpose")
        .value("manifests and reports of S3 Batch Operations copy jobs")
        .build()
        .map_err(|e| dest.invalid(e.to_string()))?;
    dest.s3(Class::S3Write)
        .await
        .put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .tag_set(tag)
                .build()
                .map_err(|e| dest.invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| dest.err("PutBucketTagging", e))?;
    Ok(())
}

/// One manifest's multipart upload.
struct Upload {
    key: String,
    id: String,
    parts: Vec<CompletedPart>,
}

/// Writes the manifests of this run's copy of `src_bucket` (or reads their
/// index, written last, when a resumed apply already wrote them): the
/// source objects that are missing or different in `dst_bucket`, found by
/// the same streamed merge-join and identity rule as sync.
pub async fn write_manifests(
    dest: &Side,
    copy: &CopyCx,
    src_bucket: &str,
    dst_bucket: &str,
    kms: bool,
    node: &str,
) -> Result<ManifestIndex> {
    let run = &copy.run.to_string();
    let work = work_bucket(&dest.info.account, &dest.info.region);
    let idx_key = index_key(run, src_bucket);
    if let Some(index) = read_index(dest, &work, &idx_key).await? {
        return Ok(index);
    }
    let mut src = Lister::new(&copy.source, src_bucket, false);
    let mut dst = Lister::new(dest, dst_bucket, false);
    let mut join = MergeJoin::new();
    let mut writer = ManifestWriter::new(src_bucket);
    let mut uploads: Vec<(&'static str, Upload)> = vec![];
    let mut index = ManifestIndex {
        source_bucket: src_bucket.to_string(),
        manifests: vec![],
        left_out: Default::default(),
        listed: 0,
        listed_bytes: 0,
        up_to_date: 0,
    };
    let mut to_copy = (0u64, 0u64);
    loop {
        match join.next_step() {
            Step::NeedSource => {
                let page = src.next_page().await?;
                let last = src.ended();
                index.listed += page.len() as u64;
                index.listed_bytes += page.iter().map(|e| e.size).sum::<u64>();
                join.feed_source(page, last)
                    .map_err(|e| copy.source.invalid(format!("bucket {src_bucket}: {e}")))?;
                listing_progress(copy, node, &index, to_copy);
            }
            Step::NeedDestination => {
                let page = dst.next_page().await?;
                let last = dst.ended();
                join.feed_destination(page, last)
                    .map_err(|e| dest.invalid(format!("bucket {dst_bucket}: {e}")))?;
            }
            Step::Pair(pair) => match decide(pair, kms) {
                Decision::Copy(e) => {
                    to_copy = (to_copy.0 + 1, to_copy.1 + e.size);
                    if let Some(class) = writer.add(&e) {
                        let (number, bytes) = writer.take_part(class).expect("class just filled");
                        let pos = match uploads.iter().position(|(c, _)| *c == class) {
                            Some(p) => p,
                            None => {
                                let key = manifest_key(run, src_bucket, class);
                                let id = start_upload(dest, &work, &key).await?;
                                uploads.push((
                                    class,
                                    Upload {
                                        key,
                                        id,
                                        parts: vec![],
                                    },
                                ));
                                uploads.len() - 1
                            }
                        };
                        let up = &mut uploads[pos].1;
                        let part = upload_part(dest, &work, up, number, bytes).await?;
                        up.parts.push(part);
                    }
                }
                Decision::UpToDate(_) => index.up_to_date += 1,
                Decision::Extra(_) => {}
            },
            Step::Done => break,
        }
    }
    let (classes, left_out) = writer.finish();
    index.left_out = left_out;
    for c in classes {
        let upload = uploads
            .iter()
            .position(|(class, _)| *class == c.class)
            .map(|p| uploads.swap_remove(p).1);
        index
            .manifests
            .push(finish_manifest(dest, &work, run, src_bucket, c, upload).await?);
    }
    let body = serde_json::to_vec_pretty(&index).expect("an index serialises");
    put(dest, &work, &idx_key, body).await?;
    Ok(index)
}

fn listing_progress(copy: &CopyCx, node: &str, index: &ManifestIndex, to_copy: (u64, u64)) {
    if let Some(sink) = &copy.progress {
        sink(TransferProgress {
            bucket: node.to_string(),
            listed_objects: index.listed,
            listed_bytes: index.listed_bytes,
            listing_done: false,
            to_copy_objects: to_copy.0,
            to_copy_bytes: to_copy.1,
            copied_objects: 0,
            copied_bytes: 0,
            finished: false,
        });
    }
}

async fn read_index(dest: &Side, work: &str, key: &str) -> Result<Option<ManifestIndex>> {
    let got = dest
        .s3(Class::S3Read)
        .await
        .get_object()
        .bucket(work)
        .key(key)
        .send()
        .await
        .map_err(|e| dest.err("GetObject", e));
    let got = match got {
        Ok(g) => g,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let bytes = got
        .body
        .collect()
        .await
        .map_err(|e| dest.invalid(format!("s3://{work}/{key}: {e}")))?
        .into_bytes();
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| dest.invalid(format!("s3://{work}/{key} is not a manifest index: {e}")))
}

async fn start_upload(dest: &Side, work: &str, key: &str) -> Result<String> {
    let out = dest
        .s3(Class::S3Write)
        .await
        .create_multipart_upload()
        .bucket(work)
        .key(key)
        .content_type("text/csv")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .map_err(|e| dest.err("CreateMultipartUpload", e))?;
    out.upload_id()
        .map(String::from)
        .ok_or_else(|| dest.invalid("CreateMultipartUpload returned no upload id"))
}

async fn upload_part(
    dest: &Side,
    work: &str,
    up: &Upload,
    number: i32,
    bytes: Vec<u8>,
) -> Result<CompletedPart> {
    let out = dest
        .s3(Class::S3Write)
        .await
        .upload_part()
        .bucket(work)
        .key(&up.key)
        .upload_id(&up.id)
        .part_number(number)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| dest.err("UploadPart", e))?;
    Ok(CompletedPart::builder()
        .part_number(number)
        .set_e_tag(out.e_tag().map(String::from))
        .set_checksum_crc32(out.checksum_crc32().map(String::from))
        .build())
}

/// Sends a manifest's last lines: the last part of its upload, or, for a
/// manifest that never filled a part, the whole object in one request.
async fn finish_manifest(
    dest: &Side,
    work: &str,
    run: &str,
    src_bucket: &str,
    c: ClassBuffer,
    upload: Option<Upload>,
) -> Result<ManifestRecord> {
    let key = manifest_key(run, src_bucket, c.class);
    let etag = match upload {
        None => put(dest, work, &key, c.buf).await?,
        Some(mut up) => {
            if !c.buf.is_empty() {
                let part = upload_part(dest, work, &up, c.parts_sent + 1, c.buf).await?;
                up.parts.push(part);
            }
            let out = dest
                .s3(Class::S3Write)
                .await
                .complete_multipart_upload()
                .bucket(work)
                .key(&key)
                .upload_id(&up.id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(up.parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| dest.err("CompleteMultipartUpload", e))?;
            out.e_tag().unwrap_or_default().to_string()
        }
    };
    Ok(ManifestRecord {
        storage_class: c.class.to_string(),
        key,
        etag: etag.trim_matches('"').to_string(),
        objects: c.objects,
        bytes: c.bytes,
    })
}

/// PutObject; returns the ETag.
async fn put(dest: &Side, work: &str, key: &str, body: Vec<u8>) -> Result<String> {
    let out = dest
        .s3(Class::S3Write)
        .await
        .put_object()
        .bucket(work)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| dest.err("PutObject", e))?;
    Ok(out
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string())
}

// --- encryption, the role and the source statement ---------------------------

/// A bucket's default SSE-KMS key: its ARN when the configuration names a
/// key by id or ARN; `None` inside when by alias or the AWS managed key.
struct KmsKey {
    arn: Option<String>,
}

async fn bucket_kms(side: &Side, bucket: &str) -> Result<Option<KmsKey>> {
    let out = side
        .s3(Class::S3Read)
        .await
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| side.err("GetBucketEncryption", e));
    let out = match out {
        Ok(o) => o,
        Err(e)
            if e.is_not_found()
                || e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let default = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default());
    let Some(d) = default else {
        return Ok(None);
    };
    if !d.sse_algorithm().as_str().starts_with("aws:kms") {
        return Ok(None);
    }
    Ok(Some(KmsKey {
        arn: d.kms_master_key_id().and_then(|k| {
            key_arn(
                k,
                &side.info.partition,
                &side.info.region,
                &side.info.account,
            )
        }),
    }))
}

/// A key ARN from what a bucket's encryption names: a key ARN as is, a bare
/// key id in the bucket's account and region; aliases have no key ARN.
fn key_arn(id: &str, partition: &str, region: &str, account: &str) -> Option<String> {
    if id.starts_with("arn:") {
        return id.contains(":key/").then(|| id.to_string());
    }
    if id.starts_with("alias/") {
        return None;
    }
    Some(format!("arn:{partition}:kms:{region}:{account}:key/{id}"))
}

/// Makes the destination bucket's job role, or brings one made before up to
/// date (trust and permissions); returns its ARN.
pub async fn ensure_role(
    dest: &Side,
    dst_bucket: &str,
    src_bucket: &str,
    run: &str,
    scope: &RoleScope,
) -> Result<String> {
    let name = role_name(dst_bucket);
    let trust = trust_policy().to_string();
    let got = dest
        .iam(Class::IamRead)
        .await
        .get_role()
        .role_name(&name)
        .send()
        .await
        .map_err(|e| dest.err("GetRole", e));
    let (arn, fresh) = match got {
        Ok(out) => {
            dest.iam(Class::IamMutate)
                .await
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(&trust)
                .send()
                .await
                .map_err(|e| dest.err("UpdateAssumeRolePolicy", e))?;
            (out.role().map(|r| r.arn().to_string()), false)
        }
        Err(e) if e.is_not_found() => {
            let tag = |k: &str, v: &str| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| dest.invalid(e.to_string()))
            };
            let out = dest
                .iam(Class::IamMutate)
                .await
                .create_role()
                .role_name(&name)
                .path(ROLE_PATH)
                .description(format!(
                    "assumed by S3 Batch Operations to copy s3://{src_bucket} into s3://{dst_bucket} for ferry"
                ))
                .assume_role_policy_document(&trust)
                .tags(tag(TAG_SOURCE, &format!("arn:{}:s3:::{src_bucket}", scope.partition))?)
                .tags(tag(TAG_RUN, run)?)
                .send()
                .await
                .map_err(|e| dest.err("CreateRole", e))?;
            (out.role().map(|r| r.arn().to_string()), true)
        }
        Err(e) => return Err(e),
    };
    dest.iam(Class::IamMutate)
        .await
        .put_role_policy()
        .role_name(&name)
        .policy_name(ROLE_POLICY_NAME)
        .policy_document(role_policy(scope).to_string())
        .send()
        .await
        .map_err(|e| dest.err("PutRolePolicy", e))?;
    if fresh {
        tokio::time::sleep(ROLE_SETTLE).await;
    }
    arn.ok_or_else(|| dest.invalid(format!("IAM returned no ARN for role {name}")))
}

/// Adds the statement letting the job role read the source bucket,
/// recorded first so a killed run still withdraws it.
async fn grant_read(copy: &CopyCx, bucket: &str, role_arn: &str) -> Result<(i64, Temporary)> {
    use crate::s3::policy::{add_statement, statement};
    let source = &copy.source;
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    let sid = source_sid(account);
    let t = Temporary::BucketPolicyStatement {
        bucket: bucket.to_string(),
        sid: sid.clone(),
    };
    let id = copy.open(source, &t)?;
    let stmt = statement(&sid, &source.info.partition, bucket, role_arn);
    if let Err(e) = add_statement(source, bucket, stmt).await {
        if let Err(w) = copy.withdraw(source, id, &t).await {
            tracing::warn!("{w}");
        }
        return Err(e);
    }
    Ok((id, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::batch::{manifest_key, JobInputs, ManifestRecord};

    fn request() -> JobRequest {
        let inputs = JobInputs {
            run: "7".into(),
            account: "222222222222".into(),
            partition: "aws".into(),
            source_bucket: "src".into(),
            dest_bucket: "dst".into(),
            work_bucket: "ferry-batch-222222222222-eu-west-1".into(),
            role_arn: "arn:aws:iam::222222222222:role/ferry/r".into(),
            source_arn: "arn:aws:s3:::src".into(),
        };
        let m = ManifestRecord {
            storage_class: "STANDARD_IA".into(),
            key: manifest_key("7", "src", "STANDARD_IA"),
            etag: "abc-2".into(),
            objects: 3,
            bytes: 30,
        };
        job_request(&inputs, &m, 1)
    }

    #[test]
    fn the_sdk_input_carries_every_field_of_the_request() {
        let r = request();
        let i = create_job_input(&r).unwrap().build().unwrap();
        assert_eq!(i.account_id(), Some("222222222222"));
        assert_eq!(i.confirmation_required(), Some(false));
        assert_eq!(
            i.client_request_token(),
            Some(r.client_request_token.as_str())
        );
        assert_eq!(
            i.description(),
            Some("ferry run 7: s3://src to s3://dst (STANDARD_IA)")
        );
        assert_eq!(i.priority(), Some(10));
        assert_eq!(i.role_arn(), Some("arn:aws:iam::222222222222:role/ferry/r"));
        let op = i.operation().unwrap().s3_put_object_copy().unwrap();
        assert_eq!(op.target_resource(), Some("arn:aws:s3:::dst"));
        assert_eq!(op.metadata_directive(), Some(&S3MetadataDirective::Copy));
        assert_eq!(op.storage_class(), Some(&S3StorageClass::StandardIa));
        assert_eq!(op.new_object_tagging(), &[] as &[S3Tag]);
        assert!(op.new_object_metadata().is_none());
        let m = i.manifest().unwrap();
        let spec = m.spec().unwrap();
        assert_eq!(
            spec.format(),
            &JobManifestFormat::S3BatchOperationsCsv20180820
        );
        assert_eq!(
            spec.fields(),
            &[JobManifestFieldName::Bucket, JobManifestFieldName::Key]
        );
        let loc = m.location().unwrap();
        assert_eq!(
            loc.object_arn(),
            "arn:aws:s3:::ferry-batch-222222222222-eu-west-1/ferry/run-7/src/manifest-standard_ia.csv"
        );
        assert_eq!(loc.e_tag(), "abc-2");
        let rep = i.report().unwrap();
        assert!(rep.enabled());
        assert_eq!(
            rep.bucket(),
            Some("arn:aws:s3:::ferry-batch-222222222222-eu-west-1")
        );
        assert_eq!(rep.prefix(), Some("ferry/run-7/src/reports"));
        assert_eq!(rep.format(), Some(&JobReportFormat::ReportCsv20180820));
        assert_eq!(rep.report_scope(), Some(&JobReportScope::FailedTasksOnly));
        let tags: Vec<(&str, &str)> = i.tags().iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(
            tags,
            vec![("ferry:source", "arn:aws:s3:::src"), ("ferry:run", "7")]
        );
    }

    #[test]
    fn origins_and_key_arns() {
        assert_eq!(
            origin("http://123456789012.127.0.0.1:5313/v20180820/jobs?x=1"),
            "http://123456789012.127.0.0.1:5313"
        );
        assert_eq!(origin("https://h"), "https://h");
        assert_eq!(
            key_arn("k-1", "aws", "eu-west-1", "111"),
            Some("arn:aws:kms:eu-west-1:111:key/k-1".into())
        );
        assert_eq!(
            key_arn("arn:aws:kms:us-east-1:2:key/k", "aws", "x", "y"),
            Some("arn:aws:kms:us-east-1:2:key/k".into())
        );
        assert_eq!(key_arn("alias/aws/s3", "aws", "x", "y"), None);
        assert_eq!(
            key_arn("arn:aws:kms:us-east-1:2:alias/a", "aws", "x", "y"),
            None
        );
    }

    #[test]
    fn an_endpoint_without_jobs_says_batch_is_unavailable_and_other_errors_stay() {
        let api = |code: Option<&str>, message: &str| AwsError::Api {
            side: "destination",
            op: "ListJobs",
            code: code.map(String::from),
            message: message.into(),
        };
        let url = Some("http://123456789012.127.0.0.1:5313/v20180820/jobs");
        assert_eq!(
            unavailable_message(&api(None, "cannot reach the endpoint: dns error"), url).unwrap(),
            "S3 Batch Operations is not available at http://123456789012.127.0.0.1:5313: \
             ListJobs: cannot reach the endpoint: dns error; set [s3] batch = false to copy \
             from this machine"
        );
        let m = unavailable_message(&api(Some("NotImplemented"), "no jobs here"), None).unwrap();
        assert!(
            m.contains("at the S3 Control endpoint: ListJobs: no jobs here"),
            "{m}"
        );
        assert_eq!(
            unavailable_message(&api(Some("AccessDenied"), "no"), url),
            None
        );
        let other = AwsError::Invalid {
            side: "destination",
            message: "x".into(),
        };
        assert_eq!(unavailable_message(&other, url), None);
    }
}
