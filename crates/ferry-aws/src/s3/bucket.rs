//! S3 buckets: their configuration, and (in the contents phase) their
//! objects, through [`crate::s3::objects`].
//!
//! A bucket is keyed by its name. Bucket names are global, so the
//! destination's name is decided at plan time (`[naming]`) and reaches
//! `create` as `Desired::dest_name`; it is deterministic, so a re-run finds
//! the bucket a killed run made (CreateBucket answering
//! BucketAlreadyOwnedByYou adopts it). [`name_statuses`] tells the planner
//! whether a name is free, already ours, or taken by another account.
//!
//! Choices:
//! - ListBuckets is account-wide: only buckets of the side's region are
//!   listed (its BucketRegion when reported, else GetBucketLocation).
//! - Nested configuration (CORS, lifecycle, website, notifications) is read
//!   into serde mirrors of the AWS documents ([`doc`]) in one canonical form
//!   (empty values left out, unordered lists sorted), which is also what is
//!   sent, so what converge writes reads back equal.
//! - Default encryption with a customer key becomes a reference to the key
//!   (mapped to the destination's key); the AWS-managed `aws/s3` key stays
//!   `alias/aws/s3`; a key of another account is kept as its ARN, with a note.
//! - Ferry's own temporary read statement (see [`crate::s3::policy`]) is left
//!   out of the policy read, so a killed run's leftover is never migrated.
//! - The first phase sets what the bucket itself is (versioning, encryption,
//!   access blocks, ownership, CORS, lifecycle, website, Object Lock, tags);
//!   the contents phase sets what names other things (the policy names
//!   principals, logging a target bucket, notifications topics and queues)
//!   and then copies the objects.
//! - A bucket whose configuration cannot be read is listed and skipped with
//!   the reason, so one unreadable bucket does not stop discovery.

use crate::adapter::{gone_ok, parse, tags};
use crate::ratelimit::Class;
use crate::s3::objects::{self, SyncOptions};
use crate::s3::policy;
use crate::{AwsError, Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketLoggingStatus, BucketVersioningStatus,
    CreateBucketConfiguration, DefaultRetention, Delete, LoggingEnabled, MfaDeleteStatus,
    ObjectIdentifier, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use ferry_core::resource::{TAG_RUN, TAG_SOURCE};
use ferry_core::spec::s3::{
    human_bytes, thousands, BucketEncryption, BucketSpec, Logging, ObjectLock, PublicAccessBlock,
};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Ref, Resource, SideInfo};
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Bucket;

/// Buckets per ListBuckets page: AWS's maximum. (The emulator returns no
/// continuation token and cuts the list at MaxBuckets, so a small page
/// would lose buckets there.)
const MAX_BUCKETS: i32 = 10_000;
/// Buckets whose configuration is read at once.
const READ_CONCURRENCY: usize = 8;
/// Objects per ListObjectVersions page and DeleteObjects call (AWS's limit).
const DELETE_BATCH: i32 = 1000;
/// The one AWS-managed key S3 encrypts with.
const AWS_S3_KEY: &str = "alias/aws/s3";
/// Sids of ferry's temporary read statements start so.
const TEMPORARY_SID: &str = "FerryTemporaryRead";

/// Whether a bucket name can be used in the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStatus {
    /// Nobody has it.
    Free,
    /// A bucket of this side's account (a re-run finds what it made).
    Ours,
    /// Another account's bucket: names are global, so it cannot be used.
    Taken,
}

/// Whether each of `names` is free, ours, or another account's. The
/// account's buckets are listed once; HeadBucket then answers 404 for a free
/// name and 200, 301 (another region) or 403 (another account) for a taken
/// one; AWS also documents a bare 400 for the latter.
pub async fn name_statuses(cx: &Side, names: &[&str]) -> Result<Vec<NameStatus>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    let ours = owned(cx).await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if ours.iter().any(|(n, _)| n == name) {
            out.push(NameStatus::Ours);
            continue;
        }
        let head = cx
            .s3(Class::S3Read)
            .await
            .head_bucket()
            .bucket(*name)
            .send()
            .await;
        out.push(match head {
            Ok(_) => NameStatus::Taken,
            Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
                Some(404) => NameStatus::Free,
                Some(301 | 400 | 403) => NameStatus::Taken,
                _ => return Err(cx.err("HeadBucket", e)),
            },
        });
    }
    Ok(out)
}

/// The region a GetBucketLocation answer means: none (or empty) is
/// us-east-1, and the legacy "EU" is eu-west-1.
pub fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(r) => r.to_string(),
    }
}

/// Every bucket of the side's account, with its region when ListBuckets
/// reports it.
async fn owned(cx: &Side) -> Result<Vec<(String, Option<String>)>> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_buckets()
            .max_buckets(MAX_BUCKETS)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| cx.err("ListBuckets", e))?;
        out.extend(page.buckets().iter().filter_map(|b| {
            b.name()
                .map(|n| (n.to_string(), b.bucket_region().map(String::from)))
        }));
        match page.continuation_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

async fn region_of(cx: &Side, name: &str) -> Result<String> {
    let out = cx
        .s3(Class::S3Read)
        .await
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
        .map_err(|e| cx.err("GetBucketLocation", e))?;
    Ok(location_region(
        out.location_constraint()
            .map(BucketLocationConstraint::as_str),
    ))
}

/// "Not configured" (NoSuchCORSConfiguration, ...NotFoundError) is absent;
/// a bucket that is gone stays an error.
fn configured<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() && !bucket_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn bucket_gone(e: &AwsError) -> bool {
    e.code() == Some("NoSuchBucket")
}

async fn tags_of(cx: &Side, name: &str) -> Result<Vec<(String, String)>> {
    let out = configured(
        cx.s3(Class::S3Read)
            .await
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("GetBucketTagging", e)),
    )?;
    Ok(out
        .map(|o| {
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default())
}

/// A bucket's configuration as the SDK reports it.
#[derive(Debug, Default, Clone)]
struct Raw {
    versioning: Option<BucketVersioningStatus>,
    mfa_delete: bool,
    encryption: Option<ServerSideEncryptionRule>,
    public_access_block: Option<PublicAccessBlockConfiguration>,
    ownership: Option<ObjectOwnership>,
    policy: Option<Value>,
    cors: Vec<aws_sdk_s3::types::CorsRule>,
    lifecycle: Vec<aws_sdk_s3::types::LifecycleRule>,
    website: Option<aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput>,
    object_lock: Option<ObjectLockConfiguration>,
    notifications: Option<
        aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput,
    >,
    logging: Option<LoggingEnabled>,
}

/// Which parts of a bucket's configuration a read needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parts {
    /// All of it: discovery and the configuration phase.
    All,
    /// What the contents phase compares (policy, logging, notifications)
    /// and the default encryption (whether ETags are MD5s of the data). The
    /// other parts read as absent.
    Contents,
}

/// Reads the parts of a bucket's configuration asked for, all at once.
async fn fetch(cx: &Side, name: &str, parts: Parts) -> Result<Raw> {
    let all = parts == Parts::All;
    macro_rules! get {
        ($op:ident, $name:literal) => {
            async {
                cx.s3(Class::S3Read)
                    .await
                    .$op()
                    .bucket(name)
                    .send()
                    .await
                    .map_err(|e| cx.err($name, e))
            }
        };
    }
    // A part that may be unset (its Get answers "not found"), read only
    // when all parts are.
    macro_rules! optional {
        ($op:ident, $name:literal) => {
            async {
                match all {
                    true => configured(get!($op, $name).await),
                    false => Ok(None),
                }
            }
        };
    }
    let (
        versioning,
        encryption,
        pab,
        ownership,
        policy,
        cors,
        lifecycle,
        website,
        lock,
        notif,
        logging,
    ) = tokio::try_join!(
        async {
            match all {
                true => get!(get_bucket_versioning, "GetBucketVersioning")
                    .await
                    .map(Some),
                false => Ok(None),
            }
        },
        async { configured(get!(get_bucket_encryption, "GetBucketEncryption").await) },
        optional!(get_public_access_block, "GetPublicAccessBlock"),
        optional!(get_bucket_ownership_controls, "GetBucketOwnershipControls"),
        policy::get(cx, name),
        optional!(get_bucket_cors, "GetBucketCors"),
        optional!(
            get_bucket_lifecycle_configuration,
            "GetBucketLifecycleConfiguration"
        ),
        optional!(get_bucket_website, "GetBucketWebsite"),
        optional!(get_object_lock_configuration, "GetObjectLockConfiguration"),
        get!(
            get_bucket_notification_configuration,
            "GetBucketNotificationConfiguration"
        ),
        get!(get_bucket_logging, "GetBucketLogging"),
    )?;
    Ok(Raw {
        versioning: versioning.as_ref().and_then(|v| v.status().cloned()),
        mfa_delete: versioning
            .as_ref()
            .is_some_and(|v| v.mfa_delete() == Some(&MfaDeleteStatus::Enabled)),
        encryption: encryption.and_then(|e| {
            e.server_side_encryption_configuration()
                .and_then(|c| c.rules().first().cloned())
        }),
        public_access_block: pab.and_then(|p| p.public_access_block_configuration().cloned()),
        ownership: ownership.and_then(|o| {
            o.ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().clone())
        }),
        policy: policy.and_then(without_temporaries),
        cors: cors.map(|c| c.cors_rules().to_vec()).unwrap_or_default(),
        lifecycle: lifecycle.map(|l| l.rules().to_vec()).unwrap_or_default(),
        website,
        object_lock: lock.and_then(|l| l.object_lock_configuration().cloned()),
        notifications: Some(notif),
        logging: logging.logging_enabled().cloned(),
    })
}

/// The policy without ferry's temporary read statements; `None` when
/// nothing else is left.
fn without_temporaries(mut doc: Value) -> Option<Value> {
    let sids: Vec<String> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => vec![],
    }
    .into_iter()
    .filter_map(|s| s.get("Sid").and_then(Value::as_str))
    .filter(|sid| sid.starts_with(TEMPORARY_SID))
    .map(String::from)
    .collect();
    for sid in sids {
        doc = policy::without_statement(doc, &sid).0?;
    }
    Some(doc)
}

/// What a bucket's KMS key is, once DescribeKey has been asked.
#[derive(Debug, Clone, PartialEq)]
enum KeyRead {
    /// A customer-managed key of the bucket's account: its key ID.
    Customer(String),
    /// The AWS-managed `aws/s3` key, however it was named.
    AwsManaged,
    /// Another account's key, or one that cannot be described: kept as
    /// named, with the reason.
    Kept(String, String),
}

/// Whether a key name is the AWS-managed S3 key's alias (bare or as ARN).
fn is_aws_alias(id: &str) -> bool {
    id == AWS_S3_KEY || id.ends_with(&format!(":{AWS_S3_KEY}"))
}

/// Classifies the key `id` named, from its DescribeKey answer.
fn classify_key(
    id: &str,
    meta: std::result::Result<&KeyMetadata, String>,
    account: &str,
) -> KeyRead {
    match meta {
        Ok(m) if m.key_manager() == Some(&KeyManagerType::Aws) => KeyRead::AwsManaged,
        Ok(m) if m.aws_account_id().is_some_and(|a| a != account) => KeyRead::Kept(
            id.to_string(),
            format!(
                "default encryption uses KMS key {id} of account {}: kept as it is; the destination's objects are encrypted with that key only if that account lets the destination use it",
                m.aws_account_id().unwrap_or_default()
            ),
        ),
        Ok(m) => KeyRead::Customer(m.key_id().to_string()),
        Err(why) => KeyRead::Kept(
            id.to_string(),
            format!("default encryption names KMS key {id}, which cannot be described ({why}): kept as it is"),
        ),
    }
}

async fn resolve_key(cx: &Side, id: &str) -> KeyRead {
    if is_aws_alias(id) {
        return KeyRead::AwsManaged;
    }
    let out = cx
        .kms(Class::KmsRead)
        .await
        .describe_key()
        .key_id(id)
        .send()
        .await
        .map_err(|e| cx.err("DescribeKey", e).to_string());
    let meta = match &out {
        Ok(o) => o
            .key_metadata()
            .ok_or_else(|| "DescribeKey returned no metadata".to_string()),
        Err(e) => Err(e.clone()),
    };
    classify_key(id, meta, &cx.info.account)
}

/// The spec of a default encryption rule, given what its key is.
fn encryption_of(
    rule: &ServerSideEncryptionRule,
    key: Option<&KeyRead>,
) -> Option<BucketEncryption> {
    let by_default = rule.apply_server_side_encryption_by_default()?;
    let (kms_key, kms_alias) = match key {
        None => (None, None),
        Some(KeyRead::Customer(id)) => (Some(Ref::new(Kind::KmsKey, id)), None),
        Some(KeyRead::AwsManaged) => (None, Some(AWS_S3_KEY.to_string())),
        Some(KeyRead::Kept(named, _)) => (None, Some(named.clone())),
    };
    Some(BucketEncryption {
        algorithm: by_default.sse_algorithm().as_str().to_string(),
        kms_key,
        kms_alias,
        bucket_key: rule.bucket_key_enabled().unwrap_or(false),
    })
}

fn key_id_of(rule: &ServerSideEncryptionRule) -> Option<&str> {
    rule.apply_server_side_encryption_by_default()
        .and_then(|d| d.kms_master_key_id())
        .filter(|k| !k.is_empty())
}

fn versioning_of(s: Option<&BucketVersioningStatus>) -> String {
    match s {
        Some(BucketVersioningStatus::Enabled) => "enabled".into(),
        Some(BucketVersioningStatus::Suspended) => "suspended".into(),
        _ => "disabled".into(),
    }
}

fn object_lock_of(c: &ObjectLockConfiguration) -> Option<ObjectLock> {
    if c.object_lock_enabled() != Some(&ObjectLockEnabled::Enabled) {
        return None;
    }
    let retention = c.rule().and_then(|r| r.default_retention());
    Some(ObjectLock {
        enabled: true,
        mode: retention
            .and_then(|r| r.mode())
            .map(|m| m.as_str().to_string()),
        days: retention.and_then(|r| r.days()).filter(|d| *d > 0),
        years: retention.and_then(|r| r.years()).filter(|y| *y > 0),
    })
}

/// The spec of a bucket's configuration (objects left at their default),
/// and what the operator should know.
fn to_spec(raw: &Raw, key: Option<&KeyRead>) -> (BucketSpec, Vec<String>) {
    let mut notes = vec![];
    if raw.mfa_delete {
        notes.push("MFA delete is enabled: only the root user with its MFA device can enable it, so the destination bucket does not get it".into());
    }
    if let Some(KeyRead::Kept(_, why)) = key {
        notes.push(why.clone());
    }
    let pab = raw.public_access_block.as_ref().map(|p| PublicAccessBlock {
        block_public_acls: p.block_public_acls().unwrap_or(false),
        ignore_public_acls: p.ignore_public_acls().unwrap_or(false),
        block_public_policy: p.block_public_policy().unwrap_or(false),
        restrict_public_buckets: p.restrict_public_buckets().unwrap_or(false),
    });
    let logging = raw.logging.as_ref().map(|l| {
        if !l.target_grants().is_empty() {
            notes.push("server access logging has target grants, which are not migrated (grant through the target bucket's policy instead)".into());
        }
        if l.target_object_key_format().is_some() {
            notes.push("server access logging's object key format is not migrated: the destination uses the default (simple prefix)".into());
        }
        Logging {
            target: Ref::new(Kind::Bucket, l.target_bucket()),
            prefix: l.target_prefix().to_string(),
        }
    });
    let website = raw.website.as_ref().and_then(doc::website);
    let spec = BucketSpec {
        versioning: versioning_of(raw.versioning.as_ref()),
        encryption: raw.encryption.as_ref().and_then(|r| encryption_of(r, key)),
        public_access_block: pab,
        ownership: raw.ownership.as_ref().map(|o| o.as_str().to_string()),
        policy: raw.policy.clone(),
        cors: raw.cors.iter().map(|r| to_json(&doc::cors(r))).collect(),
        lifecycle: raw
            .lifecycle
            .iter()
            .map(|r| to_json(&doc::lifecycle(r)))
            .collect(),
        website: website.map(|w| to_json(&w)),
        object_lock: raw.object_lock.as_ref().and_then(object_lock_of),
        notifications: raw
            .notifications
            .as_ref()
            .and_then(doc::notifications)
            .map(|n| to_json(&n)),
        logging,
        objects: Default::default(),
    }
    .canonical();
    (spec, notes)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("documents serialise")
}

/// One bucket as read: its spec, raw tags and notes.
struct Read {
    spec: BucketSpec,
    tags: Vec<(String, String)>,
    notes: Vec<String>,
}

/// Reads a bucket's configuration and tags (unless given). For discovery
/// (`full`), also the summary of its objects and what its ACL grants.
async fn read(
    cx: &Side,
    name: &str,
    full: bool,
    tags: Option<Vec<(String, String)>>,
) -> Result<Read> {
    if full {
        // The objects' listing does not depend on the configuration: both
        // at once (the listing is the long part).
        let (mut read, objects) = tokio::try_join!(
            read_parts(cx, name, true, tags, Parts::All),
            objects::summarize(cx, name)
        )?;
        read.spec.objects = objects;
        return Ok(read);
    }
    read_parts(cx, name, false, tags, Parts::All).await
}

/// [`read`] but the objects, and only the parts of the configuration asked
/// for.
async fn read_parts(
    cx: &Side,
    name: &str,
    full: bool,
    tags: Option<Vec<(String, String)>>,
    parts: Parts,
) -> Result<Read> {
    let (raw, tags) = match tags {
        Some(t) => (fetch(cx, name, parts).await?, t),
        None => tokio::try_join!(fetch(cx, name, parts), tags_of(cx, name))?,
    };
    let key = match raw.encryption.as_ref().and_then(key_id_of) {
        Some(id) => Some(resolve_key(cx, id).await),
        None => None,
    };
    let (spec, mut notes) = to_spec(&raw, key.as_ref());
    if full && raw.ownership.as_ref() != Some(&ObjectOwnership::BucketOwnerEnforced) {
        notes.extend(acl_note(cx, name).await?);
    }
    Ok(Read { spec, tags, notes })
}

/// ACLs are not migrated: a note when the bucket's ACL grants anything
/// beyond its owner's full control (only possible when ACLs are enabled).
async fn acl_note(cx: &Side, name: &str) -> Result<Option<String>> {
    let acl = cx
        .s3(Class::S3Read)
        .await
        .get_bucket_acl()
        .bucket(name)
        .send()
        .await
        .map_err(|e| cx.err("GetBucketAcl", e))?;
    let owner = acl.owner().and_then(|o| o.id());
    let others = acl
        .grants()
        .iter()
        .filter(|g| {
            let grantee = g.grantee();
            grantee.and_then(|x| x.id()) != owner || grantee.and_then(|x| x.id()).is_none()
        })
        .count();
    Ok((others > 0).then(|| {
        format!("its ACL grants access to {others} other grantee(s): bucket ACLs are not migrated (use the bucket policy)")
    }))
}

/// The spec of a bucket that could not be read (skipped, never created).
fn unread() -> BucketSpec {
    BucketSpec {
        versioning: versioning_of(None),
        ..BucketSpec::default()
    }
}

/// The resource for a bucket, or one skipped with the reason it could not
/// be read.
fn resource(name: &str, r: Result<Read>) -> Option<Resource> {
    match r {
        Ok(r) => {
            let mut res = Resource::with_tags(
                Key::new(Kind::Bucket, name),
                spec::to_value(&r.spec),
                r.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            res.notes = r.notes;
            Some(res)
        }
        Err(e) if bucket_gone(&e) => None,
        Err(e) => {
            let mut res =
                Resource::with_tags(Key::new(Kind::Bucket, name), spec::to_value(&unread()), []);
            res.skip = Some(format!("its configuration cannot be read: {e}"));
            Some(res)
        }
    }
}

/// The names of this side's buckets in its region that `lookup` selects,
/// and resources for those whose region cannot be read.
async fn in_region(cx: &Side, lookup: &Lookup) -> Result<(Vec<String>, Vec<Resource>)> {
    let mut all = owned(cx).await?;
    if let Lookup::Ids(ids) = lookup {
        all.retain(|(n, _)| ids.contains(n));
    }
    let regions: Vec<(String, Result<String>)> = futures::stream::iter(all)
        .map(|(name, region)| async move {
            let r = match region {
                Some(r) if !r.is_empty() => Ok(r),
                _ => region_of(cx, &name).await,
            };
            (name, r)
        })
        .buffered(READ_CONCURRENCY)
        .collect()
        .await;
    let mut names = vec![];
    let mut unreadable = vec![];
    for (name, region) in regions {
        match region {
            Ok(r) if r == cx.info.region => names.push(name),
            Ok(_) => {}
            Err(e) if bucket_gone(&e) => {}
            Err(e) => {
                let mut res = Resource::with_tags(
                    Key::new(Kind::Bucket, &name),
                    spec::to_value(&unread()),
                    [],
                );
                res.skip = Some(format!("its region cannot be read: {e}"));
                unreadable.push(res);
            }
        }
    }
    Ok((names, unreadable))
}

fn sdk_tags(cx: &Side, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| cx.invalid(format!("tag {k}: {e}")))
        })
        .collect()
}

async fn put_tags(cx: &Side, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    let c = cx.s3(Class::S3Write).await;
    if tags.is_empty() {
        return c
            .delete_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DeleteBucketTagging", e));
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(sdk_tags(cx, tags)?))
        .build()
        .map_err(|e| cx.invalid(e.to_string()))?;
    c.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("PutBucketTagging", e))
}

/// PutBucketTagging replaces the whole set: the tags to write so that user
/// tags and `ferry:source` match `want`, keeping the `ferry:run` the bucket
/// already carries (or setting `want`'s when a killed create left none).
fn full_tags(want: &Desired, have: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = want
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != TAG_RUN)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let run = have
        .iter()
        .find(|(k, _)| k == TAG_RUN)
        .map(|(_, v)| v.clone())
        .or_else(|| want.tags.get(TAG_RUN).cloned());
    if let Some(r) = run {
        out.insert(TAG_RUN.into(), r);
    }
    out
}

/// The key ARN to send for a key ID of this side (an ARN is kept): S3
/// resolves a bare key ID in the caller's account, an ARN anywhere.
fn key_arn(info: &SideInfo, id: &str) -> String {
    if id.starts_with("arn:") {
        return id.to_string();
    }
    format!(
        "arn:{}:kms:{}:{}:key/{}",
        info.partition, info.region, info.account, id
    )
}

fn sdk_encryption(
    info: &SideInfo,
    e: &BucketEncryption,
) -> std::result::Result<ServerSideEncryptionConfiguration, String> {
    let key = match (&e.kms_key, &e.kms_alias) {
        (Some(r), _) => Some(key_arn(info, r.id())),
        (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    };
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(e.algorithm.as_str()))
        .set_kms_master_key_id(key)
        .build()
        .map_err(|x| x.to_string())?;
    ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .bucket_key_enabled(e.bucket_key)
                .build(),
        )
        .build()
        .map_err(|x| x.to_string())
}

fn describe_encryption(e: &BucketEncryption) -> String {
    let key = match (&e.kms_key, &e.kms_alias) {
        (Some(r), _) => format!(" with KMS key {}", r.id()),
        (None, Some(a)) => format!(" with {a}"),
        (None, None) => String::new(),
    };
    let bucket_key = if e.bucket_key { ", bucket key on" } else { "" };
    format!("default encryption: {}{key}{bucket_key}", e.algorithm)
}

fn sdk_lock(l: &ObjectLock) -> ObjectLockConfiguration {
    let rule = l.mode.as_ref().map(|m| {
        ObjectLockRule::builder()
            .default_retention(
                DefaultRetention::builder()
                    .mode(ObjectLockRetentionMode::from(m.as_str()))
                    .set_days(l.days)
                    .set_years(l.years)
                    .build(),
            )
            .build()
    });
    ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .set_rule(rule)
        .build()
}

fn describe_lock(l: &ObjectLock) -> String {
    match (&l.mode, l.days, l.years) {
        (Some(m), Some(d), _) => format!("Object Lock: default retention {m} {d} days"),
        (Some(m), _, Some(y)) => format!("Object Lock: default retention {m} {y} years"),
        _ => "Object Lock: enabled, no default retention".into(),
    }
}

/// What versioning status to set to go from `have` to `want`, if any. A
/// bucket never returns to "disabled": the nearest is suspended.
fn versioning_change(want: &str, have: &str) -> Option<BucketVersioningStatus> {
    match (want, have) {
        (w, h) if w == h => None,
        ("enabled", _) => Some(BucketVersioningStatus::Enabled),
        ("suspended", _) | ("disabled", "enabled") => Some(BucketVersioningStatus::Suspended),
        _ => None,
    }
}

/// The first phase: everything the bucket itself is, one call per part
/// that differs.
async fn converge_config(cx: &Side, id: &str, want: &Desired) -> Result<Vec<String>> {
    let w: BucketSpec = parse(cx, Kind::Bucket, &want.spec)?;
    let have = read(cx, id, false, None).await?;
    let h = &have.spec;
    let mut lines = vec![];
    if let Some(status) = versioning_change(&w.versioning, &h.versioning) {
        cx.s3(Class::S3Write)
            .await
            .put_bucket_versioning()
            .bucket(id)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(status.clone())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| cx.err("PutBucketVersioning", e))?;
        lines.push(format!("versioning: {}", status.as_str().to_lowercase()));
    }
    if let Some(e) = w
        .encryption
        .as_ref()
        .filter(|e| h.encryption.as_ref() != Some(*e))
    {
        cx.s3(Class::S3Write)
            .await
            .put_bucket_encryption()
            .bucket(id)
            .server_side_encryption_configuration(
                sdk_encryption(&cx.info, e)
                    .map_err(|x| cx.invalid(format!("default encryption: {x}")))?,
            )
            .send()
            .await
            .map_err(|x| cx.err("PutBucketEncryption", x))?;
        lines.push(describe_encryption(e));
    }
    match (&w.public_access_block, &h.public_access_block) {
        (Some(p), have) if have.as_ref() != Some(p) => {
            cx.s3(Class::S3Write)
                .await
                .put_public_access_block()
                .bucket(id)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(p.block_public_acls)
                        .ignore_public_acls(p.ignore_public_acls)
                        .block_public_policy(p.block_public_policy)
                        .restrict_public_buckets(p.restrict_public_buckets)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| cx.err("PutPublicAccessBlock", e))?;
            lines.push(format!(
                "public access block: block public ACLs {}, ignore public ACLs {}, block public policy {}, restrict public buckets {}",
                p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
            ));
        }
        (None, Some(_)) => {
            cx.s3(Class::S3Write)
                .await
                .delete_public_access_block()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeletePublicAccessBlock", e))?;
            lines.push("public access block removed".into());
        }
        _ => {}
    }
    match (&w.ownership, &h.ownership) {
        (Some(o), have) if have.as_ref() != Some(o) => {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::from(o.as_str()))
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            let controls = OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            cx.s3(Class::S3Write)
                .await
                .put_bucket_ownership_controls()
                .bucket(id)
                .ownership_controls(controls)
                .send()
                .await
                .map_err(|e| cx.err("PutBucketOwnershipControls", e))?;
            lines.push(format!("object ownership: {o}"));
        }
        (None, Some(_)) => {
            cx.s3(Class::S3Write)
                .await
                .delete_bucket_ownership_controls()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeleteBucketOwnershipControls", e))?;
            lines.push("object ownership controls removed".into());
        }
        _ => {}
    }
    if w.cors != h.cors {
        if w.cors.is_empty() {
            cx.s3(Class::S3Write)
                .await
                .delete_bucket_cors()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeleteBucketCors", e))?;
            lines.push("CORS removed".into());
        } else {
            let rules = w
                .cors
                .iter()
                .map(|v| doc::parse::<doc::CorsRule>(v).and_then(|r| doc::sdk_cors(&r)))
                .collect::<std::result::Result<Vec<_>, String>>()
                .map_err(|e| cx.invalid(format!("CORS rule: {e}")))?;
            let config = aws_sdk_s3::types::CorsConfiguration::builder()
                .set_cors_rules(Some(rules))
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            cx.s3(Class::S3Write)
                .await
                .put_bucket_cors()
                .bucket(id)
                .cors_configuration(config)
                .send()
                .await
                .map_err(|e| cx.err("PutBucketCors", e))?;
            lines.push(format!("CORS: {} rule(s)", w.cors.len()));
        }
    }
    if w.lifecycle != h.lifecycle {
        if w.lifecycle.is_empty() {
            cx.s3(Class::S3Write)
                .await
                .delete_bucket_lifecycle()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeleteBucketLifecycle", e))?;
            lines.push("lifecycle rules removed".into());
        } else {
            let rules = w
                .lifecycle
                .iter()
                .map(|v| doc::parse::<doc::LifecycleRule>(v).and_then(|r| doc::sdk_lifecycle(&r)))
                .collect::<std::result::Result<Vec<_>, String>>()
                .map_err(|e| cx.invalid(format!("lifecycle rule: {e}")))?;
            let config = aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            cx.s3(Class::S3Write)
                .await
                .put_bucket_lifecycle_configuration()
                .bucket(id)
                .lifecycle_configuration(config)
                .send()
                .await
                .map_err(|e| cx.err("PutBucketLifecycleConfiguration", e))?;
            lines.push(format!("lifecycle: {} rule(s)", w.lifecycle.len()));
        }
    }
    if w.website != h.website {
        match &w.website {
            None => {
                cx.s3(Class::S3Write)
                    .await
                    .delete_bucket_website()
                    .bucket(id)
                    .send()
                    .await
                    .map_err(|e| cx.err("DeleteBucketWebsite", e))?;
                lines.push("website configuration removed".into());
            }
            Some(v) => {
                let config = doc::parse::<doc::Website>(v)
                    .and_then(|w| doc::sdk_website(&w))
                    .map_err(|e| cx.invalid(format!("website configuration: {e}")))?;
                cx.s3(Class::S3Write)
                    .await
                    .put_bucket_website()
                    .bucket(id)
                    .website_configuration(config)
                    .send()
                    .await
                    .map_err(|e| cx.err("PutBucketWebsite", e))?;
                lines.push("website configuration set".into());
            }
        }
    }
    if let Some(l) = w
        .object_lock
        .as_ref()
        .filter(|l| h.object_lock.as_ref() != Some(*l))
    {
        let r = cx
            .s3(Class::S3Write)
            .await
            .put_object_lock_configuration()
            .bucket(id)
            .object_lock_configuration(sdk_lock(l))
            .send()
            .await
            .map_err(|e| cx.err("PutObjectLockConfiguration", e));
        match r {
            Ok(_) if h.object_lock.is_none() => {
                lines.push(format!("Object Lock enabled; {}", describe_lock(l)))
            }
            Ok(_) => lines.push(describe_lock(l)),
            Err(e) if h.object_lock.is_none() => {
                return Err(cx.invalid(format!(
                    "bucket {id} was made without Object Lock, which the source bucket has, and it cannot be enabled now ({e}): Object Lock can only be enabled when a bucket is created here; delete bucket {id} (it holds no objects yet) and apply again"
                )))
            }
            Err(e) => return Err(e),
        }
    }
    if want.manage_tags {
        let user: BTreeMap<String, String> = have
            .tags
            .iter()
            .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("ferry:"))
            .cloned()
            .collect();
        let source = have
            .tags
            .iter()
            .find(|(k, _)| k == TAG_SOURCE)
            .map(|(_, v)| v.as_str());
        let diff = tags::changes(want, &user, source);
        let run_missing =
            want.tags.contains_key(TAG_RUN) && !have.tags.iter().any(|(k, _)| k == TAG_RUN);
        if !diff.is_empty() || run_missing {
            put_tags(cx, id, &full_tags(want, &have.tags)).await?;
            let mut set = diff.set_keys();
            if run_missing {
                set.push(TAG_RUN);
            }
            lines.extend(tags::lines(&set, &diff.remove));
        }
    }
    Ok(lines)
}

/// The contents phase: policy, logging, notifications, then the objects.
async fn converge_contents(cx: &Side, id: &str, want: &Desired) -> Result<Vec<String>> {
    let w: BucketSpec = parse(cx, Kind::Bucket, &want.spec)?;
    // Only what this phase compares: the configuration phase, just before,
    // read (and set) the rest.
    let have = read_parts(cx, id, false, Some(vec![]), Parts::Contents).await?;
    let h = &have.spec;
    let mut lines = vec![];
    if w.policy != h.policy {
        policy::put(cx, id, w.policy.as_ref()).await?;
        lines.push(
            if w.policy.is_some() {
                "bucket policy set"
            } else {
                "bucket policy removed"
            }
            .into(),
        );
    }
    if w.logging != h.logging {
        let enabled = match &w.logging {
            Some(l) => Some(
                LoggingEnabled::builder()
                    .target_bucket(l.target.id())
                    .target_prefix(&l.prefix)
                    .build()
                    .map_err(|e| cx.invalid(e.to_string()))?,
            ),
            None => None,
        };
        cx.s3(Class::S3Write)
            .await
            .put_bucket_logging()
            .bucket(id)
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .set_logging_enabled(enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| cx.err("PutBucketLogging", e))?;
        lines.push(match &w.logging {
            Some(l) => format!(
                "access logging to bucket {} prefix {:?}",
                l.target.id(),
                l.prefix
            ),
            None => "access logging off".into(),
        });
    }
    if w.notifications != h.notifications {
        let config = match &w.notifications {
            Some(v) => doc::parse::<doc::Notifications>(v)
                .and_then(|n| doc::sdk_notifications(&n))
                .map_err(|e| cx.invalid(format!("notifications: {e}")))?,
            None => aws_sdk_s3::types::NotificationConfiguration::builder().build(),
        };
        cx.s3(Class::S3Write)
            .await
            .put_bucket_notification_configuration()
            .bucket(id)
            .notification_configuration(config)
            .send()
            .await
            .map_err(|e| cx.err("PutBucketNotificationConfiguration", e))?;
        lines.push(
            if w.notifications.is_some() {
                "event notifications set"
            } else {
                "event notifications removed"
            }
            .into(),
        );
    }
    let copy = want.copy.as_ref().ok_or_else(|| {
        cx.invalid(format!(
            "bucket {id}: its objects cannot be copied without the source side"
        ))
    })?;
    let kms = |e: &Option<BucketEncryption>| {
        e.as_ref()
            .is_some_and(|e| e.algorithm.starts_with("aws:kms"))
    };
    let opts = SyncOptions {
        node: format!("{}/{}", Kind::Bucket, want.source_id),
        kms: kms(&w.encryption) || kms(&h.encryption),
        versioned: w.versioning != "disabled",
    };
    // Large buckets go to S3 Batch Operations when asked; the jobs leave
    // what they cannot copy (and failed tasks) to the sync below.
    let o = &w.objects;
    let batch =
        copy.s3.batch && (o.count >= copy.s3.batch_objects || o.bytes >= copy.s3.batch_bytes);
    if batch {
        let report = crate::s3::batch::copy(cx, copy, &want.source_id, id, &opts).await?;
        lines.extend(report.lines.iter().cloned());
        if !report.needs_sync() {
            return Ok(lines);
        }
    }
    let report = objects::sync(cx, copy, &want.source_id, id, &opts).await?;
    if report.copied > 0 {
        lines.push(format!(
            "copied {} object{} ({}); {} up to date",
            thousands(report.copied),
            if report.copied == 1 { "" } else { "s" },
            human_bytes(report.copied_bytes),
            thousands(report.up_to_date)
        ));
    }
    Ok(lines)
}

/// Deletes every object version, delete marker and unfinished multipart
/// upload, so the bucket can be deleted. Objects under a governance-mode
/// retention are deleted too (the bucket is ferry's); compliance-mode ones
/// cannot be, and their errors are reported.
async fn empty(cx: &Side, name: &str) -> Result<()> {
    let locked = configured(
        cx.s3(Class::S3Read)
            .await
            .get_object_lock_configuration()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("GetObjectLockConfiguration", e)),
    )?
    .and_then(|o| o.object_lock_configuration().and_then(object_lock_of))
    .is_some();
    loop {
        // Always the first page: what was listed is deleted before the next.
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_object_versions()
            .bucket(name)
            .max_keys(DELETE_BATCH)
            .send()
            .await
            .map_err(|e| cx.err("ListObjectVersions", e))?;
        let ids = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|d| (d.key(), d.version_id())),
            )
            .filter_map(|(k, v)| {
                Some(
                    ObjectIdentifier::builder()
                        .key(k?)
                        .set_version_id(v.map(String::from))
                        .build(),
                )
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| cx.invalid(e.to_string()))?;
        if ids.is_empty() {
            break;
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| cx.invalid(e.to_string()))?;
        let out = cx
            .s3(Class::S3Write)
            .await
            .delete_objects()
            .bucket(name)
            .delete(delete)
            .set_bypass_governance_retention(locked.then_some(true))
            .send()
            .await
            .map_err(|e| cx.err("DeleteObjects", e))?;
        if let Some(first) = out.errors().first() {
            return Err(AwsError::Api {
                side: cx.name,
                op: "DeleteObjects",
                code: first.code().map(String::from),
                message: format!(
                    "{} object(s) of bucket {name} could not be deleted; first: {}: {}",
                    out.errors().len(),
                    first.key().unwrap_or_default(),
                    first.message().unwrap_or_default()
                ),
            });
        }
    }
    loop {
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_multipart_uploads()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("ListMultipartUploads", e))?;
        if page.uploads().is_empty() {
            return Ok(());
        }
        for u in page.uploads() {
            let r = cx
                .s3(Class::S3Write)
                .await
                .abort_multipart_upload()
                .bucket(name)
                .set_key(u.key().map(String::from))
                .set_upload_id(u.upload_id().map(String::from))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("AbortMultipartUpload", e));
            gone_ok(r)?;
        }
    }
}

#[async_trait]
impl KindAdapter for Bucket {
    fn kind(&self) -> Kind {
        Kind::Bucket
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let (names, mut out) = in_region(cx, lookup).await?;
        let source = match lookup {
            Lookup::SourceTag(v) => Some(v.as_str()),
            _ => None,
        };
        let read: Vec<Option<Resource>> = futures::stream::iter(names)
            .map(|name| async move {
                let tags = match source {
                    None => None,
                    Some(v) => match tags_of(cx, &name).await {
                        Ok(t) if t.iter().any(|(k, x)| k == TAG_SOURCE && x == v) => Some(t),
                        Ok(_) => return None,
                        Err(e) => {
                            tracing::warn!("{}: tags of bucket {name}: {e}", cx.name);
                            return None;
                        }
                    },
                };
                resource(&name, read(cx, &name, true, tags).await)
            })
            .buffered(READ_CONCURRENCY)
            .collect()
            .await;
        if source.is_some() {
            out.clear();
        }
        out.extend(read.into_iter().flatten());
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let name = want.dest_name.as_deref().ok_or_else(|| {
            cx.invalid(format!(
                "bucket {}: no destination name was decided at plan time",
                want.source_id
            ))
        })?;
        let s: BucketSpec = parse(cx, Kind::Bucket, &want.spec)?;
        let region = cx.info.region.as_str();
        let r = cx
            .s3(Class::S3Write)
            .await
            .create_bucket()
            .bucket(name)
            .set_create_bucket_configuration((region != "us-east-1").then(|| {
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build()
            }))
            .set_object_lock_enabled_for_bucket(
                s.object_lock
                    .as_ref()
                    .is_some_and(|l| l.enabled)
                    .then_some(true),
            )
            .set_object_ownership(s.ownership.as_deref().map(ObjectOwnership::from))
            .send()
            .await
            .map_err(|e| cx.err("CreateBucket", e));
        match r {
            Ok(_) => {}
            // A killed run made it: the name is deterministic, so it is ours.
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {
                let there = region_of(cx, name).await?;
                if there != region {
                    return Err(cx.invalid(format!(
                        "bucket {name} already exists in this account, in region {there} rather than {region}"
                    )));
                }
            }
            Err(e) if e.code() == Some("BucketAlreadyExists") => {
                return Err(cx.invalid(format!(
                    "bucket name {name} is taken by another account (bucket names are global): rename it under [naming.buckets]"
                )))
            }
            Err(e) => return Err(e),
        }
        // Buckets take no tags at creation; a crash here is repaired by the
        // re-run, which adopts the bucket and tags it.
        crate::failpoint::hit("bucket-created");
        if !want.tags.is_empty() {
            put_tags(cx, name, &want.tags).await?;
        }
        Ok(name.to_string())
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        match phase {
            Phase::Create => converge_config(cx, id, want).await,
            Phase::Contents => converge_contents(cx, id, want).await,
        }
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let r = match empty(cx, id).await {
            Ok(()) => cx
                .s3(Class::S3Write)
                .await
                .delete_bucket()
                .bucket(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteBucket", e)),
            Err(e) => Err(e),
        };
        match r {
            Err(e) if bucket_gone(&e) => Ok(()),
            other => other,
        }
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:CreateBucket",
            "s3:DeleteBucket",
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
            "s3:GetBucketVersioning",
            "s3:PutBucketVersioning",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:GetBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetBucketOwnershipControls",
            "s3:PutBucketOwnershipControls",
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:PutBucketCORS",
            "s3:GetLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:GetBucketWebsite",
            "s3:PutBucketWebsite",
            "s3:DeleteBucketWebsite",
            "s3:GetBucketObjectLockConfiguration",
            "s3:PutBucketObjectLockConfiguration",
            "s3:GetBucketNotification",
            "s3:PutBucketNotification",
            "s3:GetBucketLogging",
            "s3:PutBucketLogging",
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging",
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
            "kms:DescribeKey",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ]
    }

    fn source_actions(&self) -> &'static [&'static str] {
        // The temporary read statement in the source bucket's policy.
        &["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]
    }
}

/// Serde mirrors of the AWS documents for CORS, lifecycle, website and
/// notifications, with AWS's field names (as `aws s3api` prints them), and
/// their conversions from and to the SDK types. Reading normalises: empty
/// strings, `false` flags and empty lists are left out, unordered lists
/// (events, tags, filter rules, configurations) are sorted.
mod doc {
    use aws_sdk_s3::types as t;
    use aws_smithy_types::date_time::Format;
    use aws_smithy_types::DateTime;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    type Built<T> = std::result::Result<T, String>;

    pub fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Built<T> {
        serde_json::from_value(v.clone()).map_err(|e| e.to_string())
    }

    fn text(s: Option<&str>) -> Option<String> {
        s.filter(|s| !s.is_empty()).map(String::from)
    }

    fn list(l: &[String]) -> Vec<String> {
        l.iter().filter(|s| !s.is_empty()).cloned().collect()
    }

    fn date(d: Option<&DateTime>) -> Option<String> {
        d.and_then(|d| d.fmt(Format::DateTime).ok())
    }

    fn sdk_date(s: &Option<String>) -> Built<Option<DateTime>> {
        s.as_deref()
            .map(|s| DateTime::from_str(s, Format::DateTime).map_err(|e| format!("date {s}: {e}")))
            .transpose()
    }

    fn built<T>(
        r: std::result::Result<T, aws_smithy_types::error::operation::BuildError>,
    ) -> Built<T> {
        r.map_err(|e| e.to_string())
    }

    fn no(b: &bool) -> bool {
        !*b
    }

    // --- CORS -------------------------------------------------------------

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct CorsRule {
        #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub allowed_headers: Vec<String>,
        pub allowed_methods: Vec<String>,
        pub allowed_origins: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub expose_headers: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_age_seconds: Option<i32>,
    }

    /// Header, method and origin lists are sets (matched by membership), so
    /// they are sorted; the rules themselves keep their order.
    pub fn cors(r: &t::CorsRule) -> CorsRule {
        let sorted = |l: &[String]| {
            let mut v = list(l);
            v.sort();
            v.dedup();
            v
        };
        CorsRule {
            id: text(r.id()),
            allowed_headers: sorted(r.allowed_headers()),
            allowed_methods: sorted(r.allowed_methods()),
            allowed_origins: sorted(r.allowed_origins()),
            expose_headers: sorted(r.expose_headers()),
            max_age_seconds: r.max_age_seconds(),
        }
    }

    pub fn sdk_cors(r: &CorsRule) -> Built<t::CorsRule> {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        built(
            t::CorsRule::builder()
                .set_id(r.id.clone())
                .set_allowed_headers(some(&r.allowed_headers))
                .set_allowed_methods(Some(r.allowed_methods.clone()))
                .set_allowed_origins(Some(r.allowed_origins.clone()))
                .set_expose_headers(some(&r.expose_headers))
                .set_max_age_seconds(r.max_age_seconds)
                .build(),
        )
    }

    // --- lifecycle ---------------------------------------------------------

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct LifecycleRule {
        #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        pub status: String,
        /// Left out when the rule applies to every object.
        #[serde(default, skip_serializing_if = "Filter::is_all")]
        pub filter: Filter,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expiration: Option<Expiration>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub transitions: Vec<Transition>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub noncurrent_version_transitions: Vec<NoncurrentVersionTransition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Filter {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tag: Option<TagPair>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub object_size_greater_than: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub object_size_less_than: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub and: Option<And>,
    }

    impl Filter {
        pub fn is_all(&self) -> bool {
            self == &Filter::default()
        }
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct And {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub tags: Vec<TagPair>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub object_size_greater_than: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub object_size_less_than: Option<i64>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct TagPair {
        pub key: String,
        pub value: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Expiration {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub days: Option<i32>,
        #[serde(default, skip_serializing_if = "no")]
        pub expired_object_delete_marker: bool,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Transition {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub days: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub storage_class: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct NoncurrentVersionTransition {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub noncurrent_days: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub storage_class: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub newer_noncurrent_versions: Option<i32>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct NoncurrentVersionExpiration {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub noncurrent_days: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub newer_noncurrent_versions: Option<i32>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct AbortIncompleteMultipartUpload {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub days_after_initiation: Option<i32>,
    }

    fn tag_pair(t: &t::Tag) -> TagPair {
        TagPair {
            key: t.key().to_string(),
            value: t.value().to_string(),
        }
    }

    fn sdk_tag(t: &TagPair) -> Built<t::Tag> {
        built(t::Tag::builder().key(&t.key).value(&t.value).build())
    }

    fn filter(f: &t::LifecycleRuleFilter) -> Filter {
        Filter {
            prefix: text(f.prefix()),
            tag: f.tag().map(tag_pair),
            object_size_greater_than: f.object_size_greater_than(),
            object_size_less_than: f.object_size_less_than(),
            and: f.and().map(|a| {
                let mut tags: Vec<TagPair> = a.tags().iter().map(tag_pair).collect();
                tags.sort();
                And {
                    prefix: text(a.prefix()),
                    tags,
                    object_size_greater_than: a.object_size_greater_than(),
                    object_size_less_than: a.object_size_less_than(),
                }
            }),
        }
    }

    /// A rule's legacy top-level `Prefix` (no `Filter`) reads as a filter
    /// by that prefix, which is what it means.
    #[allow(deprecated)]
    pub fn lifecycle(r: &t::LifecycleRule) -> LifecycleRule {
        let filter = match r.filter() {
            Some(f) => filter(f),
            None => Filter {
                prefix: text(r.prefix()),
                ..Filter::default()
            },
        };
        LifecycleRule {
            id: text(r.id()),
            status: r.status().as_str().to_string(),
            filter,
            expiration: r.expiration().map(|e| Expiration {
                date: date(e.date()),
                days: e.days(),
                expired_object_delete_marker: e.expired_object_delete_marker().unwrap_or(false),
            }),
            transitions: r
                .transitions()
                .iter()
                .map(|x| Transition {
                    date: date(x.date()),
                    days: x.days(),
                    storage_class: x.storage_class().map(|c| c.as_str().to_string()),
                })
                .collect(),
            noncurrent_version_transitions: r
                .noncurrent_version_transitions()
                .iter()
                .map(|x| NoncurrentVersionTransition {
                    noncurrent_days: x.noncurrent_days(),
                    storage_class: x.storage_class().map(|c| c.as_str().to_string()),
                    newer_noncurrent_versions: x.newer_noncurrent_versions(),
                })
                .collect(),
            noncurrent_version_expiration: r.noncurrent_version_expiration().map(|x| {
                NoncurrentVersionExpiration {
                    noncurrent_days: x.noncurrent_days(),
                    newer_noncurrent_versions: x.newer_noncurrent_versions(),
                }
            }),
            abort_incomplete_multipart_upload: r.abort_incomplete_multipart_upload().map(|x| {
                AbortIncompleteMultipartUpload {
                    days_after_initiation: x.days_after_initiation(),
                }
            }),
        }
    }

    /// A rule for every object is sent with an empty prefix filter, the
    /// form AWS documents for it.
    pub fn sdk_lifecycle(r: &LifecycleRule) -> Built<t::LifecycleRule> {
        let f = &r.filter;
        let and = match &f.and {
            Some(a) => Some(
                t::LifecycleRuleAndOperator::builder()
                    .set_prefix(a.prefix.clone())
                    .set_tags(Some(a.tags.iter().map(sdk_tag).collect::<Built<Vec<_>>>()?))
                    .set_object_size_greater_than(a.object_size_greater_than)
                    .set_object_size_less_than(a.object_size_less_than)
                    .build(),
            ),
            None => None,
        };
        let filter = t::LifecycleRuleFilter::builder()
            .set_prefix(if f.is_all() {
                Some(String::new())
            } else {
                f.prefix.clone()
            })
            .set_tag(f.tag.as_ref().map(sdk_tag).transpose()?)
            .set_object_size_greater_than(f.object_size_greater_than)
            .set_object_size_less_than(f.object_size_less_than)
            .set_and(and)
            .build();
        let expiration = match &r.expiration {
            Some(e) => Some(
                t::LifecycleExpiration::builder()
                    .set_date(sdk_date(&e.date)?)
                    .set_days(e.days)
                    .set_expired_object_delete_marker(
                        e.expired_object_delete_marker.then_some(true),
                    )
                    .build(),
            ),
            None => None,
        };
        let transitions = r
            .transitions
            .iter()
            .map(|x| {
                Ok(t::Transition::builder()
                    .set_date(sdk_date(&x.date)?)
                    .set_days(x.days)
                    .set_storage_class(
                        x.storage_class
                            .as_deref()
                            .map(t::TransitionStorageClass::from),
                    )
                    .build())
            })
            .collect::<Built<Vec<_>>>()?;
        let noncurrent = r
            .noncurrent_version_transitions
            .iter()
            .map(|x| {
                t::NoncurrentVersionTransition::builder()
                    .set_noncurrent_days(x.noncurrent_days)
                    .set_storage_class(
                        x.storage_class
                            .as_deref()
                            .map(t::TransitionStorageClass::from),
                    )
                    .set_newer_noncurrent_versions(x.newer_noncurrent_versions)
                    .build()
            })
            .collect::<Vec<_>>();
        built(
            t::LifecycleRule::builder()
                .set_id(r.id.clone())
                .status(t::ExpirationStatus::from(r.status.as_str()))
                .filter(filter)
                .set_expiration(expiration)
                .set_transitions((!transitions.is_empty()).then_some(transitions))
                .set_noncurrent_version_transitions((!noncurrent.is_empty()).then_some(noncurrent))
                .set_noncurrent_version_expiration(r.noncurrent_version_expiration.as_ref().map(
                    |x| {
                        t::NoncurrentVersionExpiration::builder()
                            .set_noncurrent_days(x.noncurrent_days)
                            .set_newer_noncurrent_versions(x.newer_noncurrent_versions)
                            .build()
                    },
                ))
                .set_abort_incomplete_multipart_upload(
                    r.abort_incomplete_multipart_upload.as_ref().map(|x| {
                        t::AbortIncompleteMultipartUpload::builder()
                            .set_days_after_initiation(x.days_after_initiation)
                            .build()
                    }),
                )
                .build(),
        )
    }

    // --- website -----------------------------------------------------------

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Website {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub index_document: Option<IndexDocument>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error_document: Option<ErrorDocument>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub redirect_all_requests_to: Option<RedirectAllRequestsTo>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub routing_rules: Vec<RoutingRule>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct IndexDocument {
        pub suffix: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct ErrorDocument {
        pub key: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct RedirectAllRequestsTo {
        pub host_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub protocol: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct RoutingRule {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub condition: Option<Condition>,
        pub redirect: Redirect,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Condition {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub http_error_code_returned_equals: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_prefix_equals: Option<String>,
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Redirect {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub host_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub http_redirect_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub protocol: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_key_prefix_with: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_key_with: Option<String>,
    }

    /// `None` when nothing is configured.
    pub fn website(
        w: &aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput,
    ) -> Option<Website> {
        let out = Website {
            index_document: w
                .index_document()
                .map(|d| IndexDocument {
                    suffix: d.suffix().to_string(),
                })
                .filter(|d| !d.suffix.is_empty()),
            error_document: w
                .error_document()
                .map(|d| ErrorDocument {
                    key: d.key().to_string(),
                })
                .filter(|d| !d.key.is_empty()),
            redirect_all_requests_to: w.redirect_all_requests_to().map(|r| RedirectAllRequestsTo {
                host_name: r.host_name().to_string(),
                protocol: r.protocol().map(|p| p.as_str().to_string()),
            }),
            routing_rules: w
                .routing_rules()
                .iter()
                .map(|r| RoutingRule {
                    condition: r
                        .condition()
                        .map(|c| Condition {
                            http_error_code_returned_equals: text(
                                c.http_error_code_returned_equals(),
                            ),
                            key_prefix_equals: text(c.key_prefix_equals()),
                        })
                        .filter(|c| {
                            c.http_error_code_returned_equals.is_some()
                                || c.key_prefix_equals.is_some()
                        }),
                    redirect: r
                        .redirect()
                        .map(|x| Redirect {
                            host_name: text(x.host_name()),
                            http_redirect_code: text(x.http_redirect_code()),
                            protocol: x.protocol().map(|p| p.as_str().to_string()),
                            replace_key_prefix_with: text(x.replace_key_prefix_with()),
                            replace_key_with: text(x.replace_key_with()),
                        })
                        .unwrap_or_default(),
                })
                .collect(),
        };
        (out != Website::default()).then_some(out)
    }

    pub fn sdk_website(w: &Website) -> Built<t::WebsiteConfiguration> {
        let index = w
            .index_document
            .as_ref()
            .map(|d| built(t::IndexDocument::builder().suffix(&d.suffix).build()))
            .transpose()?;
        let error = w
            .error_document
            .as_ref()
            .map(|d| built(t::ErrorDocument::builder().key(&d.key).build()))
            .transpose()?;
        let redirect = w
            .redirect_all_requests_to
            .as_ref()
            .map(|r| {
                built(
                    t::RedirectAllRequestsTo::builder()
                        .host_name(&r.host_name)
                        .set_protocol(r.protocol.as_deref().map(t::Protocol::from))
                        .build(),
                )
            })
            .transpose()?;
        let rules: Vec<t::RoutingRule> = w
            .routing_rules
            .iter()
            .map(|r| {
                t::RoutingRule::builder()
                    .set_condition(r.condition.as_ref().map(|c| {
                        t::Condition::builder()
                            .set_http_error_code_returned_equals(
                                c.http_error_code_returned_equals.clone(),
                            )
                            .set_key_prefix_equals(c.key_prefix_equals.clone())
                            .build()
                    }))
                    .redirect(
                        t::Redirect::builder()
                            .set_host_name(r.redirect.host_name.clone())
                            .set_http_redirect_code(r.redirect.http_redirect_code.clone())
                            .set_protocol(r.redirect.protocol.as_deref().map(t::Protocol::from))
                            .set_replace_key_prefix_with(r.redirect.replace_key_prefix_with.clone())
                            .set_replace_key_with(r.redirect.replace_key_with.clone())
                            .build(),
                    )
                    .build()
            })
            .collect();
        Ok(t::WebsiteConfiguration::builder()
            .set_index_document(index)
            .set_error_document(error)
            .set_redirect_all_requests_to(redirect)
            .set_routing_rules((!rules.is_empty()).then_some(rules))
            .build())
    }

    // --- notifications -----------------------------------------------------

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Notifications {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub topic_configurations: Vec<TopicConfiguration>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub queue_configurations: Vec<QueueConfiguration>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub lambda_function_configurations: Vec<LambdaFunctionConfiguration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_bridge_configuration: Option<EventBridge>,
    }

    /// Sent as `{}`: its presence turns EventBridge delivery on.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct EventBridge {}

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct TopicConfiguration {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        pub topic_arn: String,
        pub events: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filter: Option<KeyFilter>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct QueueConfiguration {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        pub queue_arn: String,
        pub events: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filter: Option<KeyFilter>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct LambdaFunctionConfiguration {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        pub lambda_function_arn: String,
        pub events: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filter: Option<KeyFilter>,
    }

    /// `{"Key": {"FilterRules": [...]}}`, as AWS nests it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct KeyFilter {
        pub key: FilterRules,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct FilterRules {
        pub filter_rules: Vec<FilterRule>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct FilterRule {
        pub name: String,
        pub value: String,
    }

    fn events(e: &[t::Event]) -> Vec<String> {
        let mut v: Vec<String> = e.iter().map(|x| x.as_str().to_string()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// AWS reports rule names capitalised ("Prefix") and takes them in
    /// lower case ("prefix"): lower case is the canonical form.
    fn key_filter(f: Option<&t::NotificationConfigurationFilter>) -> Option<KeyFilter> {
        let mut rules: Vec<FilterRule> = f?
            .key()?
            .filter_rules()
            .iter()
            .map(|r| FilterRule {
                name: r
                    .name()
                    .map(|n| n.as_str().to_lowercase())
                    .unwrap_or_default(),
                value: r.value().unwrap_or_default().to_string(),
            })
            .collect();
        rules.sort();
        (!rules.is_empty()).then_some(KeyFilter {
            key: FilterRules {
                filter_rules: rules,
            },
        })
    }

    fn sdk_filter(f: &Option<KeyFilter>) -> Option<t::NotificationConfigurationFilter> {
        f.as_ref().map(|f| {
            t::NotificationConfigurationFilter::builder()
                .key(
                    t::S3KeyFilter::builder()
                        .set_filter_rules(Some(
                            f.key
                                .filter_rules
                                .iter()
                                .map(|r| {
                                    t::FilterRule::builder()
                                        .name(t::FilterRuleName::from(r.name.as_str()))
                                        .value(&r.value)
                                        .build()
                                })
                                .collect(),
                        ))
                        .build(),
                )
                .build()
        })
    }

    fn sdk_events(e: &[String]) -> Vec<t::Event> {
        e.iter().map(|x| t::Event::from(x.as_str())).collect()
    }

    /// `None` when nothing is configured. Configurations are sorted by
    /// their ID (AWS gives every one an ID).
    pub fn notifications(
        n: &aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput,
    ) -> Option<Notifications> {
        let mut out = Notifications {
            topic_configurations: n
                .topic_configurations()
                .iter()
                .map(|c| TopicConfiguration {
                    id: text(c.id()),
                    topic_arn: c.topic_arn().to_string(),
                    events: events(c.events()),
                    filter: key_filter(c.filter()),
                })
                .collect(),
            queue_configurations: n
                .queue_configurations()
                .iter()
                .map(|c| QueueConfiguration {
                    id: text(c.id()),
                    queue_arn: c.queue_arn().to_string(),
                    events: events(c.events()),
                    filter: key_filter(c.filter()),
                })
                .collect(),
            lambda_function_configurations: n
                .lambda_function_configurations()
                .iter()
                .map(|c| LambdaFunctionConfiguration {
                    id: text(c.id()),
                    lambda_function_arn: c.lambda_function_arn().to_string(),
                    events: events(c.events()),
                    filter: key_filter(c.filter()),
                })
                .collect(),
            event_bridge_configuration: n.event_bridge_configuration().map(|_| EventBridge {}),
        };
        out.topic_configurations.sort_by(|a, b| a.id.cmp(&b.id));
        out.queue_configurations.sort_by(|a, b| a.id.cmp(&b.id));
        out.lambda_function_configurations
            .sort_by(|a, b| a.id.cmp(&b.id));
        (out != Notifications::default()).then_some(out)
    }

    pub fn sdk_notifications(n: &Notifications) -> Built<t::NotificationConfiguration> {
        let topics = n
            .topic_configurations
            .iter()
            .map(|c| {
                built(
                    t::TopicConfiguration::builder()
                        .set_id(c.id.clone())
                        .topic_arn(&c.topic_arn)
                        .set_events(Some(sdk_events(&c.events)))
                        .set_filter(sdk_filter(&c.filter))
                        .build(),
                )
            })
            .collect::<Built<Vec<_>>>()?;
        let queues = n
            .queue_configurations
            .iter()
            .map(|c| {
                built(
                    t::QueueConfiguration::builder()
                        .set_id(c.id.clone())
                        .queue_arn(&c.queue_arn)
                        .set_events(Some(sdk_events(&c.events)))
                        .set_filter(sdk_filter(&c.filter))
                        .build(),
                )
            })
            .collect::<Built<Vec<_>>>()?;
        let functions = n
            .lambda_function_configurations
            .iter()
            .map(|c| {
                built(
                    t::LambdaFunctionConfiguration::builder()
                        .set_id(c.id.clone())
                        .lambda_function_arn(&c.lambda_function_arn)
                        .set_events(Some(sdk_events(&c.events)))
                        .set_filter(sdk_filter(&c.filter))
                        .build(),
                )
            })
            .collect::<Built<Vec<_>>>()?;
        Ok(t::NotificationConfiguration::builder()
            .set_topic_configurations(Some(topics))
            .set_queue_configurations(Some(queues))
            .set_lambda_function_configurations(Some(functions))
            .set_event_bridge_configuration(
                n.event_bridge_configuration
                    .as_ref()
                    .map(|_| t::EventBridgeConfiguration::builder().build()),
            )
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
    use aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput;
    use aws_sdk_s3::types as t;
    use serde_json::json;

    fn info() -> SideInfo {
        SideInfo {
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
        }
    }

    fn tag(k: &str, v: &str) -> t::Tag {
        t::Tag::builder().key(k).value(v).build().unwrap()
    }

    fn cors_rule() -> t::CorsRule {
        t::CorsRule::builder()
            .id("web")
            .allowed_methods("PUT")
            .allowed_methods("GET")
            .allowed_origins("https://example.com")
            .allowed_headers("*")
            .expose_headers("ETag")
            .max_age_seconds(300)
            .build()
            .unwrap()
    }

    #[allow(deprecated)]
    fn lifecycle_rules() -> Vec<t::LifecycleRule> {
        vec![
            t::LifecycleRule::builder()
                .id("zz-logs")
                .status(t::ExpirationStatus::Enabled)
                .filter(
                    t::LifecycleRuleFilter::builder()
                        .and(
                            t::LifecycleRuleAndOperator::builder()
                                .prefix("logs/")
                                .tags(tag("tier", "b"))
                                .tags(tag("keep", "no"))
                                .object_size_greater_than(1024)
                                .build(),
                        )
                        .build(),
                )
                .expiration(t::LifecycleExpiration::builder().days(30).build())
                .transitions(
                    t::Transition::builder()
                        .days(7)
                        .storage_class(t::TransitionStorageClass::StandardIa)
                        .build(),
                )
                .noncurrent_version_transitions(
                    t::NoncurrentVersionTransition::builder()
                        .noncurrent_days(10)
                        .storage_class(t::TransitionStorageClass::Glacier)
                        .newer_noncurrent_versions(2)
                        .build(),
                )
                .noncurrent_version_expiration(
                    t::NoncurrentVersionExpiration::builder()
                        .noncurrent_days(40)
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    t::AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(3)
                        .build(),
                )
                .build()
                .unwrap(),
            // Legacy form: a top-level prefix instead of a filter.
            t::LifecycleRule::builder()
                .id("aa-old")
                .status(t::ExpirationStatus::Disabled)
                .prefix("tmp/")
                .expiration(
                    t::LifecycleExpiration::builder()
                        .date(aws_smithy_types::DateTime::from_secs(1_767_225_600))
                        .expired_object_delete_marker(false)
                        .build(),
                )
                .build()
                .unwrap(),
            // Every object, as `Filter: {Prefix: ""}`.
            t::LifecycleRule::builder()
                .id("mm-all")
                .status(t::ExpirationStatus::Enabled)
                .filter(t::LifecycleRuleFilter::builder().prefix("").build())
                .expiration(
                    t::LifecycleExpiration::builder()
                        .expired_object_delete_marker(true)
                        .build(),
                )
                .build()
                .unwrap(),
        ]
    }

    fn website() -> GetBucketWebsiteOutput {
        GetBucketWebsiteOutput::builder()
            .index_document(
                t::IndexDocument::builder()
                    .suffix("index.html")
                    .build()
                    .unwrap(),
            )
            .error_document(t::ErrorDocument::builder().key("404.html").build().unwrap())
            .routing_rules(
                t::RoutingRule::builder()
                    .condition(t::Condition::builder().key_prefix_equals("docs/").build())
                    .redirect(
                        t::Redirect::builder()
                            .replace_key_prefix_with("documents/")
                            .http_redirect_code("301")
                            .protocol(t::Protocol::Https)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn notifications() -> GetBucketNotificationConfigurationOutput {
        let filter = t::NotificationConfigurationFilter::builder()
            .key(
                t::S3KeyFilter::builder()
                    // AWS reports rule names capitalised.
                    .filter_rules(
                        t::FilterRule::builder()
                            .name(t::FilterRuleName::from("Suffix"))
                            .value(".jpg")
                            .build(),
                    )
                    .filter_rules(
                        t::FilterRule::builder()
                            .name(t::FilterRuleName::from("Prefix"))
                            .value("img/")
                            .build(),
                    )
                    .build(),
            )
            .build();
        GetBucketNotificationConfigurationOutput::builder()
            .topic_configurations(
                t::TopicConfiguration::builder()
                    .id("t2")
                    .topic_arn("arn:aws:sns:eu-west-1:111111111111:uploads")
                    .events(t::Event::S3ObjectRemoved)
                    .events(t::Event::S3ObjectCreated)
                    .filter(filter)
                    .build()
                    .unwrap(),
            )
            .topic_configurations(
                t::TopicConfiguration::builder()
                    .id("t1")
                    .topic_arn("arn:aws:sns:eu-west-1:111111111111:other")
                    .events(t::Event::S3ObjectCreatedPut)
                    .build()
                    .unwrap(),
            )
            .queue_configurations(
                t::QueueConfiguration::builder()
                    .id("q")
                    .queue_arn("arn:aws:sqs:eu-west-1:111111111111:jobs")
                    .events(t::Event::S3ObjectCreated)
                    .build()
                    .unwrap(),
            )
            .event_bridge_configuration(t::EventBridgeConfiguration::builder().build())
            .build()
    }

    fn full_raw() -> Raw {
        Raw {
            versioning: Some(BucketVersioningStatus::Enabled),
            mfa_delete: false,
            encryption: Some(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::AwsKms)
                            .kms_master_key_id("alias/app")
                            .build()
                            .unwrap(),
                    )
                    .bucket_key_enabled(true)
                    .build(),
            ),
            public_access_block: Some(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(false)
                    .restrict_public_buckets(false)
                    .build(),
            ),
            ownership: Some(ObjectOwnership::BucketOwnerPreferred),
            policy: Some(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]}),
            ),
            cors: vec![cors_rule()],
            lifecycle: lifecycle_rules(),
            website: Some(website()),
            object_lock: Some(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::Governance)
                                    .days(5)
                                    .years(0)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            ),
            notifications: Some(notifications()),
            logging: Some(
                LoggingEnabled::builder()
                    .target_bucket("photos-logs")
                    .target_prefix("access/")
                    .build()
                    .unwrap(),
            ),
        }
    }

    #[test]
    fn get_bucket_location_answers_name_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-south-1")), "ap-south-1");
        // The SDK's enum hands back what the answer said.
        assert_eq!(
            location_region(Some(BucketLocationConstraint::from("EU").as_str())),
            "eu-west-1"
        );
    }

    #[test]
    fn every_setting_reads_into_the_spec() {
        let key = KeyRead::Customer("1234abcd-key".into());
        let (s, notes) = to_spec(&full_raw(), Some(&key));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(s.versioning, "enabled");
        assert_eq!(
            s.encryption,
            Some(BucketEncryption {
                algorithm: "aws:kms".into(),
                kms_key: Some(Ref::new(Kind::KmsKey, "1234abcd-key")),
                kms_alias: None,
                bucket_key: true,
            })
        );
        assert_eq!(
            s.public_access_block,
            Some(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: false,
                restrict_public_buckets: false,
            })
        );
        assert_eq!(s.ownership.as_deref(), Some("BucketOwnerPreferred"));
        assert_eq!(s.policy.as_ref().unwrap()["Statement"][0]["Sid"], "Read");
        assert_eq!(
            s.cors,
            vec![json!({
                "ID": "web",
                "AllowedHeaders": ["*"],
                "AllowedMethods": ["GET", "PUT"],
                "AllowedOrigins": ["https://example.com"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 300
            })]
        );
        // Sorted by ID; the legacy prefix is a filter; "every object" has no
        // filter; false flags and zero retention periods are left out.
        let ids: Vec<&str> = s
            .lifecycle
            .iter()
            .map(|r| r["ID"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["aa-old", "mm-all", "zz-logs"]);
        assert_eq!(
            s.lifecycle[0],
            json!({"ID": "aa-old", "Status": "Disabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Date": "2026-01-01T00:00:00Z"}})
        );
        assert_eq!(
            s.lifecycle[1],
            json!({"ID": "mm-all", "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": true}})
        );
        assert_eq!(
            s.lifecycle[2]["Filter"],
            json!({"And": {"Prefix": "logs/", "Tags": [{"Key": "keep", "Value": "no"}, {"Key": "tier", "Value": "b"}], "ObjectSizeGreaterThan": 1024}})
        );
        assert_eq!(
            s.lifecycle[2]["NoncurrentVersionTransitions"],
            json!([{"NoncurrentDays": 10, "StorageClass": "GLACIER", "NewerNoncurrentVersions": 2}])
        );
        assert_eq!(
            s.website,
            Some(json!({
                "IndexDocument": {"Suffix": "index.html"},
                "ErrorDocument": {"Key": "404.html"},
                "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"HttpRedirectCode": "301", "Protocol": "https", "ReplaceKeyPrefixWith": "documents/"}}]
            }))
        );
        assert_eq!(
            s.object_lock,
            Some(ObjectLock {
                enabled: true,
                mode: Some("GOVERNANCE".into()),
                days: Some(5),
                years: None,
            })
        );
        let n = s.notifications.as_ref().unwrap();
        assert_eq!(n["TopicConfigurations"][0]["Id"], "t1");
        assert_eq!(
            n["TopicConfigurations"][1],
            json!({
                "Id": "t2",
                "TopicArn": "arn:aws:sns:eu-west-1:111111111111:uploads",
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}, {"Name": "suffix", "Value": ".jpg"}]}}
            })
        );
        assert_eq!(
            n["QueueConfigurations"][0]["QueueArn"],
            "arn:aws:sqs:eu-west-1:111111111111:jobs"
        );
        assert_eq!(n["EventBridgeConfiguration"], json!({}));
        assert_eq!(
            s.logging,
            Some(Logging {
                target: Ref::new(Kind::Bucket, "photos-logs"),
                prefix: "access/".into(),
            })
        );
        // The logging target is a reference the planner and translator see.
        let refs = ferry_core::resource::refs_in(&spec::to_value(&s));
        assert!(refs.contains(&Key::new(Kind::Bucket, "photos-logs")));
        assert!(refs.contains(&Key::new(Kind::KmsKey, "1234abcd-key")));
    }

    #[test]
    fn an_unconfigured_bucket_reads_as_absent_settings() {
        let raw = Raw {
            notifications: Some(GetBucketNotificationConfigurationOutput::builder().build()),
            website: None,
            ..Raw::default()
        };
        let (s, notes) = to_spec(&raw, None);
        assert!(notes.is_empty());
        assert_eq!(s.versioning, "disabled");
        assert_eq!(s.notifications, None);
        assert_eq!(s.object_lock, None);
        let v = spec::to_value(&s);
        assert_eq!(v["versioning"], "disabled");
        assert!(v.get("cors").is_none() && v.get("lifecycle").is_none());
        // Object Lock reported but not enabled is no Object Lock.
        let off = ObjectLockConfiguration::builder().build();
        assert_eq!(object_lock_of(&off), None);
        let mfa = Raw {
            mfa_delete: true,
            ..Raw::default()
        };
        assert!(to_spec(&mfa, None).1[0].contains("MFA delete"));
    }

    /// What is read is what is sent: SDK -> document -> SDK -> document is
    /// the identity, so converge's writes read back equal.
    #[test]
    fn documents_round_trip_through_the_sdk_types() {
        for r in lifecycle_rules() {
            let d = doc::lifecycle(&r);
            let back = doc::lifecycle(&doc::sdk_lifecycle(&d).unwrap());
            assert_eq!(back, d);
            let v = to_json(&d);
            assert_eq!(doc::parse::<doc::LifecycleRule>(&v).unwrap(), d);
        }
        // "Every object" is sent as an empty prefix filter.
        let all = doc::lifecycle(&lifecycle_rules()[2]);
        let sent = doc::sdk_lifecycle(&all).unwrap();
        assert_eq!(sent.filter().and_then(|f| f.prefix()), Some(""));
        let c = doc::cors(&cors_rule());
        assert_eq!(doc::cors(&doc::sdk_cors(&c).unwrap()), c);
        let w = doc::website(&website()).unwrap();
        let sent = doc::sdk_website(&w).unwrap();
        let back = GetBucketWebsiteOutput::builder()
            .set_index_document(sent.index_document().cloned())
            .set_error_document(sent.error_document().cloned())
            .set_routing_rules(Some(sent.routing_rules().to_vec()))
            .build();
        assert_eq!(doc::website(&back), Some(w));
        let n = doc::notifications(&notifications()).unwrap();
        let sent = doc::sdk_notifications(&n).unwrap();
        assert_eq!(
            sent.topic_configurations()[1]
                .filter()
                .unwrap()
                .key()
                .unwrap()
                .filter_rules()[0]
                .name(),
            Some(&t::FilterRuleName::Prefix)
        );
        let back = GetBucketNotificationConfigurationOutput::builder()
            .set_topic_configurations(Some(sent.topic_configurations().to_vec()))
            .set_queue_configurations(Some(sent.queue_configurations().to_vec()))
            .set_event_bridge_configuration(sent.event_bridge_configuration().cloned())
            .build();
        assert_eq!(doc::notifications(&back), Some(n));
        let redirect = GetBucketWebsiteOutput::builder()
            .redirect_all_requests_to(
                t::RedirectAllRequestsTo::builder()
                    .host_name("example.com")
                    .protocol(t::Protocol::Https)
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            to_json(&doc::website(&redirect).unwrap()),
            json!({"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
        );
        assert_eq!(
            doc::website(&GetBucketWebsiteOutput::builder().build()),
            None
        );
    }

    #[test]
    fn kms_keys_become_references_or_stay_named() {
        let meta = |manager: KeyManagerType, account: &str| {
            KeyMetadata::builder()
                .key_id("k-1")
                .key_manager(manager)
                .aws_account_id(account)
                .build()
                .unwrap()
        };
        let own = meta(KeyManagerType::Customer, "111111111111");
        assert_eq!(
            classify_key("alias/app", Ok(&own), "111111111111"),
            KeyRead::Customer("k-1".into())
        );
        let managed = meta(KeyManagerType::Aws, "111111111111");
        assert_eq!(
            classify_key(
                "arn:aws:kms:eu-west-1:111111111111:key/k-1",
                Ok(&managed),
                "111111111111"
            ),
            KeyRead::AwsManaged
        );
        let foreign = meta(KeyManagerType::Customer, "999999999999");
        let arn = "arn:aws:kms:eu-west-1:999999999999:key/k-1";
        assert!(
            matches!(classify_key(arn, Ok(&foreign), "111111111111"), KeyRead::Kept(k, why) if k == arn && why.contains("999999999999"))
        );
        assert!(
            matches!(classify_key("gone", Err("NotFoundException".into()), "1"), KeyRead::Kept(k, _) if k == "gone")
        );
        assert!(is_aws_alias("alias/aws/s3"));
        assert!(is_aws_alias(
            "arn:aws:kms:eu-west-1:111111111111:alias/aws/s3"
        ));
        assert!(!is_aws_alias("alias/app"));

        // The AWS-managed key is sent by its alias, a customer key by ARN.
        let rule = full_raw().encryption.unwrap();
        let e = encryption_of(&rule, Some(&KeyRead::AwsManaged)).unwrap();
        assert_eq!(e.kms_alias.as_deref(), Some(AWS_S3_KEY));
        let sent = sdk_encryption(&info(), &e).unwrap();
        assert_eq!(
            sent.rules()[0]
                .apply_server_side_encryption_by_default()
                .unwrap()
                .kms_master_key_id(),
            Some(AWS_S3_KEY)
        );
        let e = encryption_of(&rule, Some(&KeyRead::Customer("dest-key".into()))).unwrap();
        let sent = sdk_encryption(&info(), &e).unwrap();
        let by_default = sent.rules()[0]
            .apply_server_side_encryption_by_default()
            .unwrap();
        assert_eq!(
            by_default.kms_master_key_id(),
            Some("arn:aws:kms:eu-west-1:111111111111:key/dest-key")
        );
        assert_eq!(sent.rules()[0].bucket_key_enabled(), Some(true));
        assert!(describe_encryption(&e).contains("dest-key"));
    }

    #[test]
    fn ferrys_temporary_statement_is_not_part_of_the_policy() {
        let owner = json!({"Sid": "Owner", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"});
        let temp = policy::statement(
            &policy::sid_for("222222222222"),
            "aws",
            "b",
            "arn:aws:iam::222222222222:root",
        );
        let doc = json!({"Version": "2012-10-17", "Statement": [owner.clone(), temp.clone()]});
        assert_eq!(
            without_temporaries(doc).unwrap()["Statement"],
            json!([owner])
        );
        let only = json!({"Version": "2012-10-17", "Statement": temp});
        assert_eq!(without_temporaries(only), None);
        let plain = json!({"Version": "2012-10-17", "Statement": {"Sid": "X"}});
        assert_eq!(without_temporaries(plain.clone()), Some(plain));
    }

    #[test]
    fn versioning_never_goes_back_to_disabled() {
        use BucketVersioningStatus as V;
        assert_eq!(versioning_change("enabled", "disabled"), Some(V::Enabled));
        assert_eq!(versioning_change("enabled", "suspended"), Some(V::Enabled));
        assert_eq!(
            versioning_change("suspended", "enabled"),
            Some(V::Suspended)
        );
        assert_eq!(
            versioning_change("suspended", "disabled"),
            Some(V::Suspended)
        );
        assert_eq!(versioning_change("disabled", "enabled"), Some(V::Suspended));
        assert_eq!(versioning_change("disabled", "suspended"), None);
        assert_eq!(versioning_change("enabled", "enabled"), None);
    }

    #[test]
    fn tagging_keeps_the_run_that_made_the_bucket() {
        let want = Desired {
            spec: Value::Null,
            tags: [
                ("team", "a"),
                (TAG_SOURCE, "arn:aws:s3:::photos"),
                (TAG_RUN, "run-2"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            manage_tags: true,
            source_id: "photos".into(),
            dest_name: Some("photos-copy".into()),
            copy: None,
        };
        let have = vec![
            (TAG_RUN.to_string(), "run-1".to_string()),
            ("old".to_string(), "x".to_string()),
        ];
        let full = full_tags(&want, &have);
        assert_eq!(full.get(TAG_RUN).map(String::as_str), Some("run-1"));
        assert_eq!(full.get("team").map(String::as_str), Some("a"));
        assert!(!full.contains_key("old"));
        // A create killed before tagging: the run tag is set late.
        assert_eq!(
            full_tags(&want, &[]).get(TAG_RUN).map(String::as_str),
            Some("run-2")
        );
    }

    #[test]
    fn object_lock_is_sent_with_its_one_retention_period() {
        let l = ObjectLock {
            enabled: true,
            mode: Some("COMPLIANCE".into()),
            days: None,
            years: Some(1),
        };
        let c = sdk_lock(&l);
        assert_eq!(object_lock_of(&c), Some(l.clone()));
        assert_eq!(
            describe_lock(&l),
            "Object Lock: default retention COMPLIANCE 1 years"
        );
        let bare = ObjectLock {
            enabled: true,
            mode: None,
            days: None,
            years: None,
        };
        assert!(sdk_lock(&bare).rule().is_none());
    }
}
