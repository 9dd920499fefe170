//! verify's second pass: the objects of every migrated S3 bucket, compared
//! key by key from fresh listings of both sides (its configuration is
//! compared as a spec, like any resource's).

use crate::context::Context;
use ferry_core::objects::SAMPLE_CAP;
use ferry_core::resource::Snapshot;
use ferry_core::spec::s3::BucketSpec;
use ferry_core::verify::{ObjectsEntry, Report, Status};
use ferry_core::{Key, Kind, Mapping};
use futures::stream::{self, StreamExt};

/// Buckets whose objects are compared at the same time.
const BUCKETS_AT_ONCE: usize = 4;

/// Compares the objects of every bucket whose configuration verify found in
/// the destination (equivalent or not: its objects are worth knowing either
/// way).
pub async fn compare(
    cx: &Context,
    report: &Report,
    source: &Snapshot,
    dest: &Snapshot,
    mapping: &Mapping,
) -> Vec<ObjectsEntry> {
    let pairs: Vec<(String, String, bool)> = report
        .entries
        .iter()
        .filter(|e| e.key.kind == Kind::Bucket)
        .filter(|e| matches!(e.status, Status::Equivalent | Status::Different))
        .filter_map(|e| {
            let dest_bucket = mapping.get(&e.key)?.to_string();
            let kms = is_kms(source, &e.key) || is_kms(dest, &Key::new(Kind::Bucket, &dest_bucket));
            Some((e.key.id.clone(), dest_bucket, kms))
        })
        .collect();
    stream::iter(pairs)
        .map(|(bucket, dest_bucket, kms)| async move {
            let r = ferry_aws::s3::objects::compare(
                &cx.source,
                &cx.dest,
                &bucket,
                &dest_bucket,
                kms,
                SAMPLE_CAP,
            )
            .await;
            let (report, error) = match r {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e.to_string())),
            };
            ObjectsEntry {
                bucket,
                dest_bucket,
                report,
                error,
            }
        })
        .buffered(BUCKETS_AT_ONCE)
        .collect()
        .await
}

/// Whether a bucket encrypts with SSE-KMS by default (its ETags are then not
/// MD5s of the data, so they cannot be compared across buckets).
fn is_kms(snapshot: &Snapshot, key: &Key) -> bool {
    snapshot
        .get(key)
        .and_then(|b| ferry_core::rules::typed::<BucketSpec>(&b.spec))
        .is_some_and(|b| ferry_core::rules::s3::is_kms(&b))
}
