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
//!   into serde mirrors of the AWS documents (see [`doc`]) in one canonical
//!   form (empty values left out, unordered lists sorted), which is also what
//!   is sent, so what converge writes reads back equal.
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
//!
//! One file per setting holds its read (from [`raw::Raw`] into the spec),
//! its comparison and its write, as terraform-provider-aws keeps one file
//! per bucket setting: [`versioning`], [`encryption`],
//! [`public_access_block`], [`ownership`], [`cors`], [`lifecycle`],
//! [`website`], [`object_lock`] and [`tags`] (the first phase), [`policy`],
//! [`logging`] and [`notifications`] (the contents phase), and [`acl`]
//! (noted, never written). This file reads a bucket whole and converges it
//! setting by setting; [`names`] is where buckets are and whose names are
//! taken, [`empty`] empties a bucket before it is deleted.

mod acl;
mod cors;
mod doc;
mod empty;
mod encryption;
#[cfg(test)]
mod fixtures;
mod lifecycle;
mod logging;
mod names;
mod notifications;
mod object_lock;
mod ownership;
mod policy;
mod public_access_block;
mod raw;
mod tags;
mod versioning;
mod website;

pub use names::{location_region, name_statuses, NameStatus};

use crate::adapter::{ok_when, parse};
use crate::ratelimit::Class;
use crate::s3::objects::{self, SyncOptions};
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership};
use doc::to_json;
use encryption::KeyRead;
use ferry_core::resource::TAG_SOURCE;
use ferry_core::spec::s3::{human_bytes, thousands, BucketEncryption, BucketSpec};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Resource};
use futures::StreamExt;
use names::{in_region, region_of};
use raw::{bucket_gone, fetch, Parts, Raw};

pub struct Bucket;

/// Buckets whose configuration is read at once.
const READ_CONCURRENCY: usize = 8;

/// What a setting's `converge(cx, id, w, h)` returns: each brings bucket
/// `id` from the spec it has (`h`) to the one it should have (`w`), with
/// one call when they differ, and says what it changed in a line.
type Change = Option<String>;

/// The spec of a bucket's configuration (objects left at their default),
/// and what the operator should know.
fn to_spec(raw: &Raw, key: Option<&KeyRead>) -> (BucketSpec, Vec<String>) {
    let mut notes = vec![];
    if raw.mfa_delete {
        notes.push(versioning::MFA_DELETE_NOTE.into());
    }
    if let Some(KeyRead::Kept(_, why)) = key {
        notes.push(why.clone());
    }
    let logging = raw.logging.as_ref().map(|l| logging::read(l, &mut notes));
    let spec = BucketSpec {
        versioning: versioning::read(raw.versioning.as_ref()),
        encryption: raw
            .encryption
            .as_ref()
            .and_then(|r| encryption::read(r, key)),
        public_access_block: raw
            .public_access_block
            .as_ref()
            .map(public_access_block::read),
        ownership: raw.ownership.as_ref().map(ownership::read),
        policy: raw.policy.clone(),
        cors: raw.cors.iter().map(|r| to_json(&cors::read(r))).collect(),
        lifecycle: raw
            .lifecycle
            .iter()
            .map(|r| to_json(&lifecycle::read(r)))
            .collect(),
        website: raw
            .website
            .as_ref()
            .and_then(website::read)
            .map(|w| to_json(&w)),
        object_lock: raw.object_lock.as_ref().and_then(object_lock::read),
        notifications: raw
            .notifications
            .as_ref()
            .and_then(notifications::read)
            .map(|n| to_json(&n)),
        logging,
        objects: Default::default(),
    }
    .canonical();
    (spec, notes)
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
        None => tokio::try_join!(fetch(cx, name, parts), tags::tags_of(cx, name))?,
    };
    let key = match raw.encryption.as_ref().and_then(encryption::key_id_of) {
        Some(id) => Some(encryption::resolve_key(cx, id).await),
        None => None,
    };
    let (spec, mut notes) = to_spec(&raw, key.as_ref());
    if full && raw.ownership.as_ref() != Some(&ObjectOwnership::BucketOwnerEnforced) {
        notes.extend(acl::note(cx, name).await?);
    }
    Ok(Read { spec, tags, notes })
}

/// The spec of a bucket that could not be read (skipped, never created).
fn unread() -> BucketSpec {
    BucketSpec {
        versioning: versioning::read(None),
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

/// The first phase: everything the bucket itself is, one call per part
/// that differs, in this order.
async fn converge_config(cx: &Side, id: &str, want: &Desired) -> Result<Vec<String>> {
    let w: BucketSpec = parse(cx, Kind::Bucket, &want.spec)?;
    let have = read(cx, id, false, None).await?;
    let h = &have.spec;
    let mut lines = vec![];
    lines.extend(versioning::converge(cx, id, &w, h).await?);
    lines.extend(encryption::converge(cx, id, &w, h).await?);
    lines.extend(public_access_block::converge(cx, id, &w, h).await?);
    lines.extend(ownership::converge(cx, id, &w, h).await?);
    lines.extend(cors::converge(cx, id, &w, h).await?);
    lines.extend(lifecycle::converge(cx, id, &w, h).await?);
    lines.extend(website::converge(cx, id, &w, h).await?);
    lines.extend(object_lock::converge(cx, id, &w, h).await?);
    lines.extend(tags::converge(cx, id, want, &have.tags).await?);
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
    lines.extend(policy::converge(cx, id, &w, h).await?);
    lines.extend(logging::converge(cx, id, &w, h).await?);
    lines.extend(notifications::converge(cx, id, &w, h).await?);
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
                    Some(v) => match tags::tags_of(cx, &name).await {
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
            tags::put(cx, name, &want.tags).await?;
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
        let r = match empty::empty(cx, id).await {
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
        ok_when(r, bucket_gone)
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

#[cfg(test)]
mod tests {
    use super::fixtures::full_raw;
    use super::*;
    use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
    use aws_sdk_s3::types::ObjectLockConfiguration;
    use ferry_core::spec::s3::{Logging, ObjectLock, PublicAccessBlock};
    use ferry_core::Ref;
    use serde_json::json;

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
        assert_eq!(object_lock::read(&off), None);
        let mfa = Raw {
            mfa_delete: true,
            ..Raw::default()
        };
        assert!(to_spec(&mfa, None).1[0].contains("MFA delete"));
    }
}
