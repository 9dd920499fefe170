//! Discovery: list every in-scope kind on one side, concurrently per kind,
//! into a snapshot.

use crate::context::Context;
use crate::error::Result;
use crate::event::Event;
use ferry_aws::{Lookup, Side};
use ferry_core::{Kind, Snapshot};
use futures::future::try_join_all;
use std::collections::BTreeSet;

pub async fn snapshot(cx: &Context, side: &Side, kinds: &BTreeSet<Kind>) -> Result<Snapshot> {
    // The zones (one DescribeAvailabilityZones) only when a kind in scope
    // has any: an S3- or IAM-only migration makes no EC2 call.
    let zones = async {
        if kinds.iter().any(|k| k.zoned()) {
            side.zones().await
        } else {
            Ok(Vec::new())
        }
    };
    let lists = try_join_all(kinds.iter().filter_map(|k| cx.registry.get(*k)).map(
        |a| async move {
            let found = a.describe(side, &Lookup::All).await?;
            cx.emit(Event::Discovered {
                side: side.name.into(),
                kind: a.kind().to_string(),
                count: found.len(),
            });
            Ok::<_, ferry_aws::AwsError>(found)
        },
    ));
    let (lists, zones) = tokio::join!(lists, zones);
    let (lists, zones) = (lists?, zones?);
    let mut resources: Vec<_> = lists.into_iter().flatten().collect();
    resources.sort_by(|a, b| a.key.cmp(&b.key));
    cx.emit(Event::SideDiscovered {
        side: side.name.into(),
        account: side.info.account.clone(),
        region: side.info.region.clone(),
        resources: resources.len(),
        kinds: kinds.len(),
    });
    Ok(Snapshot {
        side: side.info.clone(),
        taken_at: now(),
        kinds: kinds.iter().copied().collect(),
        zones,
        resources,
    })
}

/// Both sides at once, stored in the state directory.
pub async fn both(cx: &Context) -> Result<(Snapshot, Snapshot)> {
    let kinds = cx.kinds();
    let (s, d) = tokio::join!(
        snapshot(cx, &cx.source, &kinds),
        snapshot(cx, &cx.dest, &kinds)
    );
    let (s, d) = (s?, d?);
    cx.state
        .save_snapshot("source", &serde_json::to_value(&s).expect("snapshot json"))?;
    cx.state.save_snapshot(
        "destination",
        &serde_json::to_value(&d).expect("snapshot json"),
    )?;
    Ok((s, d))
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
