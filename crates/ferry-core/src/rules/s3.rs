//! Planning rules of S3 buckets: the destination name `[naming]` gives each
//! (bucket names are global), what the plan says about a bucket's objects,
//! names already taken, objects compared by listing, and the order of
//! buckets that log into each other.

use super::{typed, KindRules, PlanCx};
use crate::config::{NamingConfig, VersionsMode};
use crate::kind::Kind;
use crate::plan::{Action, PlanItem};
use crate::resource::{Key, Resource, SideInfo};
use crate::spec::s3::{human_bytes, thousands, BucketSpec, ObjectSummary};
use serde_json::Value;

pub struct Bucket;

impl KindRules for Bucket {
    /// A bucket policy names principals that must exist, logging may target
    /// the bucket itself, and objects go in once the bucket's encryption and
    /// versioning are set.
    fn content_fields(&self) -> &'static [&'static str] {
        &["policy", "logging", "notifications", "objects"]
    }

    /// Objects are compared object by object (verify) and by listing digest
    /// (plan, [`KindRules::differences`]), not as a field.
    fn uncompared_fields(&self, _spec: &Value) -> Vec<&'static str> {
        vec!["objects"]
    }

    /// Bucket names are global: no region or account in their ARN.
    fn arn(&self, partition: &str, id: &str) -> Option<String> {
        Some(format!("arn:{partition}:s3:::{id}"))
    }

    fn named_at_plan(&self) -> bool {
        true
    }

    fn planned_name(
        &self,
        r: &Resource,
        source: &SideInfo,
        dest: &SideInfo,
        naming: &NamingConfig,
    ) -> Option<Result<String, String>> {
        Some(crate::naming::bucket_name(naming, &r.key.id, source, dest))
    }

    /// Its destination name, its objects, and whether it is large enough for
    /// S3 Batch Operations.
    fn notes(&self, r: &Resource, cx: &PlanCx) -> Vec<String> {
        let s3 = &cx.input.s3;
        let mut notes = vec![];
        if let Some(Ok(name)) = cx.names.get(&r.key.id) {
            if name != &r.key.id {
                notes.push(format!("destination bucket name: {name}"));
            }
        }
        let spec: BucketSpec = typed(&r.spec).unwrap_or_default();
        let o = &spec.objects;
        notes.push(format!("objects: {}", o.describe()));
        if o.count >= s3.batch_objects || o.bytes >= s3.batch_bytes {
            notes.push(if s3.batch {
                "copied with S3 Batch Operations ([s3] batch = true): ferry writes a manifest, creates the copy job and its role, and tracks the job".to_string()
            } else {
                format!(
                    "at or above [s3] batch_objects ({}) or batch_bytes ({}): set [s3] batch = true to copy it with S3 Batch Operations instead of from this machine",
                    thousands(s3.batch_objects),
                    human_bytes(s3.batch_bytes)
                )
            });
        }
        if spec.object_lock.as_ref().is_some_and(|l| l.enabled) {
            notes.push("Object Lock: the destination bucket is created with Object Lock enabled; retention of copied objects starts anew".into());
        }
        if spec.notifications.is_some() {
            notes.push("event notifications: topic, queue and function ARNs are rewritten to the destination account and region; ferry does not migrate those targets, so they must exist there".into());
        }
        if spec.versioning != "disabled" && s3.versions == VersionsMode::Current {
            notes.push("versioned: only current versions are copied ([s3] versions = \"all\" copies every version)".into());
        }
        notes
    }

    /// Why the bucket cannot be created under its `[naming]` name.
    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        if item.action != Action::Create {
            return vec![];
        }
        let name = match cx.names.get(&item.key.id) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return vec![e.clone()],
            None => return vec![],
        };
        let hint = "bucket names are global: choose another with [naming.buckets] or the [naming] bucket template";
        if let Some(theirs) = cx.dest.get(&Key::new(Kind::Bucket, name)) {
            if !cx.claimed.contains(name) {
                return vec![format!(
                    "destination bucket name {name:?} already exists in the destination account{}; {hint}",
                    theirs
                        .ferry_source
                        .as_deref()
                        .map(|s| format!(" (made by ferry for {s})"))
                        .unwrap_or_default()
                )];
            }
        } else if let Some(by) = cx.input.taken_buckets.get(name) {
            return vec![format!(
                "destination bucket name {name:?} is taken by {by}; {hint}"
            )];
        }
        vec![]
    }

    /// Objects are not a compared field (SSE-KMS ETags differ between
    /// copies): equal listings (keys, sizes, ETags) mean nothing to copy.
    fn differences(&self, source: &Resource, dest: &Resource) -> Vec<String> {
        let (s, d): (BucketSpec, BucketSpec) = (
            typed(&source.spec).unwrap_or_default(),
            typed(&dest.spec).unwrap_or_default(),
        );
        let (a, b): (&ObjectSummary, &ObjectSummary) = (&s.objects, &d.objects);
        if a.synced_to(b, is_kms(&s) || is_kms(&d)) {
            return vec![];
        }
        vec![format!(
            "objects ({} in the source, {} in the destination; only missing or changed ones are copied)",
            a.count, b.count
        )]
    }

    /// Logging to another bucket needs that bucket's policy (which lets the
    /// logging service write) first: it is set in its contents phase. Two
    /// buckets logging to each other keep the plain order.
    fn contents_after_contents(&self, item: &PlanItem, dep: &PlanItem) -> bool {
        if dep.key.kind != Kind::Bucket || dep.key == item.key {
            return false;
        }
        let target_logs_back = typed::<BucketSpec>(&dep.resource.spec)
            .and_then(|d| d.logging)
            .is_some_and(|l| l.target.key == item.key);
        !target_logs_back
    }
}

/// Whether a bucket encrypts with SSE-KMS by default (its ETags are then not
/// MD5s of the data, so they cannot be compared across buckets).
pub fn is_kms(spec: &BucketSpec) -> bool {
    spec.encryption
        .as_ref()
        .is_some_and(|e| e.algorithm.starts_with("aws:kms"))
}
