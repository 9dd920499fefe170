//! Standalone EBS snapshots: the ones the source owns that back no image it
//! owns (those travel with their image) and that ferry did not make as
//! scratch. Each is shared, copied into the destination encrypted as the
//! source is (under the mapped key), and the share withdrawn.

use super::carry::{self, SnapshotCopy, TAG_SCRATCH};
use super::{lookup_filters, resource};
use crate::adapter::{page_size, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::compute::SnapshotSpec;
use ferry_core::{spec, Kind, Resource};
use std::collections::BTreeSet;

pub struct Snapshot;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::Snapshot>> {
    let mut out = vec![];
    let mut pages = cx
        .ec2(Class::Read)
        .await
        .describe_snapshots()
        .owner_ids("self")
        .set_filters(Some(lookup_filters(lookup, "snapshot-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeSnapshots", e))?
                .snapshots()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

/// Snapshots behind the images this account owns.
async fn backing_images(cx: &Side) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut pages = cx
        .ec2(Class::Read)
        .await
        .describe_images()
        .owners("self")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for i in page.map_err(|e| cx.err("DescribeImages", e))?.images() {
            out.extend(
                i.block_device_mappings()
                    .iter()
                    .filter_map(|b| b.ebs()?.snapshot_id().map(String::from)),
            );
        }
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for Snapshot {
    fn kind(&self) -> Kind {
        Kind::Snapshot
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let snaps = list(cx, lookup).await?;
        let backing = if matches!(lookup, Lookup::All) {
            backing_images(cx).await?
        } else {
            BTreeSet::new()
        };
        let ebs_default = if snaps.iter().any(|s| s.encrypted().unwrap_or(false)) {
            crate::kms::ebs_default_key(cx).await?
        } else {
            None
        };
        Ok(snaps
            .iter()
            .filter(|s| {
                let id = s.snapshot_id().unwrap_or_default();
                !backing.contains(id)
                    && !super::tag_pairs(s.tags()).any(|(k, _)| k == TAG_SCRATCH)
                    && s.state().is_none_or(|st| st.as_str() != "error")
            })
            .map(|s| {
                let encrypted = s.encrypted().unwrap_or(false);
                let spec = SnapshotSpec {
                    description: s.description().filter(|d| !d.is_empty()).map(String::from),
                    volume_size: s.volume_size().unwrap_or_default(),
                    encrypted,
                    kms_key: crate::kms::key_ref(
                        s.kms_key_id().filter(|_| encrypted),
                        ebs_default.as_deref(),
                    ),
                };
                resource(
                    Kind::Snapshot,
                    s.snapshot_id().unwrap_or_default(),
                    spec::to_value(&spec),
                    s.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: SnapshotSpec = parse(cx, Kind::Snapshot, &want.spec)?;
        let copy = carry::copy_of(cx, want)?;
        let mut opened = carry::Opened::default();
        let result = carry::carry_snapshot(
            copy,
            cx,
            &want.source_id,
            SnapshotCopy {
                encrypted: s.encrypted,
                key: s.kms_key.as_ref().map(|k| k.id().to_string()),
                description: s.description.clone(),
                tags: super::to_tags(&want.tags),
            },
            &mut opened,
        )
        .await;
        opened.finish(copy, cx, result).await
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        if phase != Phase::Create {
            return Ok(vec![]);
        }
        carry::wait_snapshot(cx, id).await?;
        super::converge_tags_only(self, cx, id, want).await
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        crate::transfer::Temporary::ScratchSnapshot {
            snapshot_id: id.to_string(),
        }
        .withdraw(cx)
        .await
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeSnapshots",
            "ec2:DescribeImages",
            "ec2:CopySnapshot",
            "ec2:ModifySnapshotAttribute",
            "ec2:DeleteSnapshot",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "kms:CreateGrant",
            "kms:RevokeGrant",
            "kms:CreateKey",
            "kms:ScheduleKeyDeletion",
            "kms:ListAliases",
        ]
    }

    fn source_actions(&self) -> &'static [&'static str] {
        carry::SNAPSHOT_SOURCE_ACTIONS
    }
}
