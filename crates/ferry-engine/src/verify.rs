//! verify: re-read both sides and compare through the mapping (DESIGN
//! invariant 7). The journal is not consulted. Buckets are compared twice:
//! their configuration as a spec, and their objects key by key from fresh
//! listings of both sides.

use crate::context::Context;
use crate::error::Result;
use crate::{discover, planning};
use ferry_core::objects::SAMPLE_CAP;
use ferry_core::resource::Snapshot;
use ferry_core::verify::{compare, ObjectsEntry, Report, Status, VerifyInput};
use ferry_core::{Key, Kind, Mapping};
use futures::stream::{self, StreamExt};

/// Buckets whose objects are compared at the same time.
const BUCKETS_AT_ONCE: usize = 4;

pub async fn run(cx: &Context) -> Result<Report> {
    // The mapping names destination resources of the accounts of the runs
    // that made it: the newest of them says which.
    if let Some(newest) = cx.state.map_all()?.iter().map(|m| m.run_id).max() {
        if let Some(r) = cx.state.run(newest)? {
            planning::check_run_accounts(cx, &r)?;
        }
    }
    let kinds = cx.kinds();
    let (source, dest) = tokio::join!(
        discover::snapshot(cx, &cx.source, &kinds),
        discover::snapshot(cx, &cx.dest, &kinds)
    );
    let (source, dest) = (source?, dest?);
    let mapping = planning::mapping(cx)?;
    let mut report = compare(
        &source,
        &dest,
        &VerifyInput {
            kinds: &kinds,
            exclude_tags: &cx.config.scope.exclude_tags,
            exclude_ids: &cx.config.scope.exclude_ids,
            zones: &cx.config.zones,
            mapping: &mapping,
        },
    );
    report.objects = objects(cx, &report, &source, &dest, &mapping).await;
    Ok(report)
}

/// Compares the objects of every bucket whose configuration verify found in
/// the destination (equivalent or not: its objects are worth knowing either
/// way).
async fn objects(
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
    snapshot.get(key).is_some_and(|b| {
        b.spec["encryption"]["algorithm"]
            .as_str()
            .is_some_and(|a| a.starts_with("aws:kms"))
    })
}
