//! Unattached EBS volumes (attached ones travel inside their instance's
//! image). Copied through a snapshot: snapshot the source volume, carry the
//! snapshot across (share, copy under the mapped key), create the volume in
//! the mapped zone with its size, type, IOPS, throughput and encryption,
//! then delete both scratch snapshots and withdraw the shares.

use super::carry::{self, SnapshotCopy};
use super::{lookup_filters, resource};
use crate::adapter::{gone_ok, page_size, parse, wait_for};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VolumeState, VolumeType};
use ferry_core::spec::compute::VolumeSpec;
use ferry_core::{spec, Kind, Resource};
use std::time::Duration;

pub struct Volume;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::Volume>> {
    let mut out = vec![];
    let mut pages = cx
        .ec2(Class::Read)
        .await
        .describe_volumes()
        .set_filters(Some(lookup_filters(lookup, "volume-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeVolumes", e))?
                .volumes()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

/// IOPS are given only for types that take them (gp2 reports a baseline it refuses).
fn takes_iops(t: &str) -> bool {
    matches!(t, "io1" | "io2" | "gp3")
}

#[async_trait]
impl KindAdapter for Volume {
    fn kind(&self) -> Kind {
        Kind::Volume
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let vols: Vec<_> = list(cx, lookup)
            .await?
            .into_iter()
            .filter(|v| {
                // Attached volumes belong to their instance.
                !matches!(lookup, Lookup::All) || v.attachments().is_empty()
            })
            .filter(|v| {
                !matches!(
                    v.state(),
                    Some(VolumeState::Deleted | VolumeState::Deleting)
                )
            })
            .collect();
        let ebs_default = if vols.iter().any(|v| v.encrypted().unwrap_or(false)) {
            crate::kms::ebs_default_key(cx).await?
        } else {
            None
        };
        Ok(vols
            .iter()
            .map(|v| {
                let encrypted = v.encrypted().unwrap_or(false);
                let volume_type = v
                    .volume_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "gp2".into());
                let spec = VolumeSpec {
                    availability_zone: v.availability_zone().unwrap_or_default().to_string(),
                    size: v.size().unwrap_or_default(),
                    iops: v.iops().filter(|_| takes_iops(&volume_type)),
                    throughput: v.throughput().filter(|_| volume_type == "gp3"),
                    volume_type,
                    encrypted,
                    kms_key: crate::kms::key_ref(
                        v.kms_key_id().filter(|_| encrypted),
                        ebs_default.as_deref(),
                    ),
                    multi_attach: v.multi_attach_enabled().unwrap_or(false),
                    source_snapshot: None,
                };
                resource(
                    Kind::Volume,
                    v.volume_id().unwrap_or_default(),
                    spec::to_value(&spec),
                    v.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: VolumeSpec = parse(cx, Kind::Volume, &want.spec)?;
        let copy = carry::copy_of(cx, want)?;
        let src = &copy.source;
        let mut opened = carry::Opened::default();
        let result = async {
            let of = format!("snapshot of {}", want.source_id);
            let out = src
                .ec2(Class::Mutate)
                .await
                .create_snapshot()
                .volume_id(&want.source_id)
                .description(format!("ferry: {of}"))
                .tag_specifications(carry::scratch_tags(ResourceType::Snapshot, &of))
                .send()
                .await
                .map_err(|e| src.err("CreateSnapshot", e))?;
            let source_snap = out
                .snapshot_id()
                .map(String::from)
                .ok_or_else(|| src.invalid("CreateSnapshot returned no snapshot id"))?;
            carry::scratch_snapshot(copy, src, &source_snap, true, &mut opened)?;
            carry::tag(src, &source_snap, vec![carry::scratch_tag(&of)]).await?;
            carry::wait_snapshot(src, &source_snap).await?;
            let key = s.kms_key.as_ref().map(|k| k.id().to_string());
            let copied = carry::carry_snapshot(
                copy,
                cx,
                &source_snap,
                SnapshotCopy {
                    encrypted: s.encrypted,
                    key: key.clone(),
                    description: Some(format!("ferry: copy of {} for its volume", want.source_id)),
                    tags: vec![carry::scratch_tag(&format!("copy of {}", want.source_id))],
                },
                &mut opened,
            )
            .await?;
            carry::scratch_snapshot(copy, cx, &copied, false, &mut opened)?;
            let out = cx
                .ec2(Class::Mutate)
                .await
                .create_volume()
                .availability_zone(&s.availability_zone)
                .size(s.size)
                .volume_type(VolumeType::from(s.volume_type.as_str()))
                .set_iops(s.iops.filter(|_| takes_iops(&s.volume_type)))
                .set_throughput(s.throughput.filter(|_| s.volume_type == "gp3"))
                .encrypted(s.encrypted)
                .set_kms_key_id(key.filter(|_| s.encrypted))
                .multi_attach_enabled(s.multi_attach)
                .snapshot_id(&copied)
                .client_token(carry::client_token(want))
                .set_tag_specifications(
                    super::tag_spec(ResourceType::Volume, want).map(|t| vec![t]),
                )
                .send()
                .await
                .map_err(|e| cx.err("CreateVolume", e))?;
            let id = out
                .volume_id()
                .map(String::from)
                .ok_or_else(|| cx.invalid("CreateVolume returned no volume id"))?;
            wait_available(cx, &id).await?;
            Ok::<String, crate::AwsError>(id)
        }
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
        wait_available(cx, id).await?;
        super::converge_tags_only(self, cx, id, want).await
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_volume()
                .volume_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteVolume", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeVolumes",
            "ec2:CreateSnapshot",
            "ec2:CopySnapshot",
            "ec2:ModifySnapshotAttribute",
            "ec2:DeleteSnapshot",
            "ec2:CreateVolume",
            "ec2:DeleteVolume",
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

async fn wait_available(cx: &Side, id: &str) -> Result<()> {
    wait_for(
        cx,
        format!("volume {id} to become available"),
        Duration::from_secs(30 * 60),
        || async {
            let out = cx
                .ec2(Class::Read)
                .await
                .describe_volumes()
                .volume_ids(id)
                .send()
                .await
                .map_err(|e| cx.err("DescribeVolumes", e))?;
            Ok(out
                .volumes()
                .first()
                .and_then(|v| v.state())
                .filter(|s| matches!(s, VolumeState::Available | VolumeState::InUse))
                .map(|_| ()))
        },
    )
    .await
}
