//! Launch configurations. They take no tags, so a configuration is known by
//! its name, kept in the destination (the plan refuses a name already
//! taken). They cannot be changed either: one that differs from its source
//! must be replaced (rollback and apply), which converge says rather than
//! pretending to fix it.
//!
//! The image is named as `image_refs` names it (owned images migrate,
//! public ones are found again by owner and name); a device's snapshot is a
//! reference only when it does not back the image (the image's copy brings
//! those along).

use super::{id_in_source_arn, missing_ok};
use crate::adapter::{capped_page_size, one, parse, reference, text};
use crate::ec2::image::{image_refs, resolve_image};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_autoscaling::types::{
    BlockDeviceMapping, Ebs, InstanceMetadataEndpointState, InstanceMetadataHttpTokensState,
    InstanceMetadataOptions, InstanceMonitoring, LaunchConfiguration as Raw,
};
use ferry_core::spec::autoscaling::LaunchConfigurationSpec;
use ferry_core::spec::compute::{BlockDevice, ImageRef, MetadataOptions};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet};

pub struct LaunchConfiguration;

/// The names a lookup asks for (None: all).
fn names(lookup: &Lookup) -> Option<Vec<String>> {
    match lookup {
        Lookup::All => None,
        Lookup::Ids(ids) => Some(ids.clone()),
        Lookup::SourceTag(arn) => Some(
            id_in_source_arn(arn, Kind::LaunchConfiguration)
                .map(String::from)
                .into_iter()
                .collect(),
        ),
    }
}

async fn list(cx: &Side, names: Option<Vec<String>>) -> Result<Vec<Raw>> {
    let batches: Vec<Option<Vec<String>>> = match names {
        None => vec![None],
        Some(n) if n.is_empty() => return Ok(vec![]),
        // The API takes at most 50 names a call.
        Some(n) => n.chunks(50).map(|c| Some(c.to_vec())).collect(),
    };
    let mut out = vec![];
    let client = cx.autoscaling(Class::AutoScalingRead).await;
    for batch in batches {
        let mut pages = client
            .describe_launch_configurations()
            .set_launch_configuration_names(batch)
            .set_max_records(capped_page_size(100))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(|e| cx.err("DescribeLaunchConfigurations", e))?
                    .launch_configurations()
                    .iter()
                    .cloned(),
            );
        }
    }
    Ok(out)
}

/// The snapshots behind the given images' devices.
async fn image_snapshots(cx: &Side, image_ids: &[String]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in image_ids.chunks(100) {
        let found = cx
            .ec2(Class::Read)
            .await
            .describe_images()
            .set_image_ids(Some(chunk.to_vec()))
            .send()
            .await;
        match found {
            Ok(o) => out.extend(
                o.images()
                    .iter()
                    .flat_map(|i| i.block_device_mappings())
                    .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()))
                    .map(String::from),
            ),
            // A deregistered image: its snapshots are then references.
            Err(e) => {
                let e = cx.err("DescribeImages", e);
                if !e.is_not_found() {
                    return Err(e);
                }
            }
        }
    }
    Ok(out)
}

/// The spec of one configuration, or why it cannot be migrated.
fn to_spec(
    lc: &Raw,
    images: &BTreeMap<String, ImageRef>,
    image_snaps: &BTreeSet<String>,
) -> (LaunchConfigurationSpec, Option<String>) {
    let image_id = lc.image_id().unwrap_or_default();
    let mut skip = None;
    let mut security_groups = vec![];
    for g in lc.security_groups() {
        if g.starts_with("sg-") {
            security_groups.push(Ref::new(Kind::SecurityGroup, g));
        } else {
            skip = Some(format!(
                "names security group {g:?} by name (EC2-Classic style), which ferry cannot map"
            ));
        }
    }
    let mut block_devices = vec![];
    let mut no_devices = vec![];
    for m in lc.block_device_mappings() {
        let device_name = m.device_name().unwrap_or_default().to_string();
        if m.no_device() == Some(true) {
            no_devices.push(device_name);
            continue;
        }
        if let Some(v) = text(m.virtual_name()) {
            block_devices.push(BlockDevice {
                device_name,
                volume_size: None,
                volume_type: None,
                iops: None,
                throughput: None,
                delete_on_termination: None,
                encrypted: None,
                kms_key: None,
                snapshot: None,
                virtual_name: Some(v),
            });
            continue;
        }
        let ebs = m.ebs();
        let snapshot = ebs
            .and_then(|e| e.snapshot_id())
            .filter(|s| !image_snaps.contains(*s));
        block_devices.push(BlockDevice {
            device_name,
            volume_size: ebs.and_then(|e| e.volume_size()),
            volume_type: text(ebs.and_then(|e| e.volume_type())),
            iops: ebs.and_then(|e| e.iops()),
            throughput: ebs.and_then(|e| e.throughput()),
            delete_on_termination: ebs.and_then(|e| e.delete_on_termination()),
            encrypted: ebs.and_then(|e| e.encrypted()),
            kms_key: None,
            snapshot: reference(Kind::Snapshot, snapshot),
            virtual_name: None,
        });
    }
    let metadata = lc.metadata_options().map(|m| MetadataOptions {
        http_tokens: m
            .http_tokens()
            .map_or("optional", |t| t.as_str())
            .to_string(),
        http_endpoint: m
            .http_endpoint()
            .map_or("enabled", |t| t.as_str())
            .to_string(),
        http_put_response_hop_limit: m.http_put_response_hop_limit().unwrap_or(1),
        instance_metadata_tags: None,
    });
    let s = LaunchConfigurationSpec {
        image: images
            .get(image_id)
            .cloned()
            .unwrap_or_else(|| ImageRef::Owned(Ref::new(Kind::Image, image_id))),
        instance_type: lc.instance_type().unwrap_or_default().to_string(),
        key_pair: reference(Kind::KeyPair, lc.key_name()),
        security_groups,
        // A name or an ARN (`...:instance-profile/path/name`): the name.
        instance_profile: reference(
            Kind::IamInstanceProfile,
            lc.iam_instance_profile()
                .map(|p| p.rsplit('/').next().unwrap_or(p)),
        ),
        user_data: text(lc.user_data()),
        block_devices,
        no_devices,
        monitoring: lc
            .instance_monitoring()
            .and_then(|m| m.enabled())
            .unwrap_or(false),
        ebs_optimized: lc.ebs_optimized().unwrap_or(false),
        associate_public_ip: lc.associate_public_ip_address(),
        metadata,
        placement_tenancy: text(lc.placement_tenancy()),
        spot_price: text(lc.spot_price()),
    }
    .canonical();
    (s, skip)
}

fn mapping(d: &BlockDevice) -> BlockDeviceMapping {
    let b = BlockDeviceMapping::builder().device_name(&d.device_name);
    if d.virtual_name.is_some() {
        return b.set_virtual_name(d.virtual_name.clone()).build();
    }
    b.ebs(
        Ebs::builder()
            .set_snapshot_id(d.snapshot.as_ref().map(|r| r.id().to_string()))
            .set_volume_size(d.volume_size)
            .set_volume_type(d.volume_type.clone())
            .set_iops(d.iops)
            .set_throughput(d.throughput)
            .set_delete_on_termination(d.delete_on_termination)
            .set_encrypted(d.encrypted)
            .build(),
    )
    .build()
}

#[async_trait]
impl KindAdapter for LaunchConfiguration {
    fn kind(&self) -> Kind {
        Kind::LaunchConfiguration
    }

    /// A SourceTag lookup finds the configuration by the name in the value
    /// (names are kept; there are no tags).
    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let raw = list(cx, names(lookup)).await?;
        let image_ids: Vec<String> = raw
            .iter()
            .filter_map(|l| l.image_id().map(String::from))
            .collect();
        let images = image_refs(cx, &image_ids).await?;
        let has_snapshots = raw
            .iter()
            .flat_map(|l| l.block_device_mappings())
            .any(|m| m.ebs().and_then(|e| e.snapshot_id()).is_some());
        let image_snaps = if has_snapshots {
            let mut ids = image_ids.clone();
            ids.sort();
            ids.dedup();
            image_snapshots(cx, &ids).await?
        } else {
            BTreeSet::new()
        };
        Ok(raw
            .iter()
            .map(|lc| {
                let (s, skip) = to_spec(lc, &images, &image_snaps);
                let name = lc.launch_configuration_name().unwrap_or_default();
                let mut r = Resource::with_tags(
                    Key::new(Kind::LaunchConfiguration, name),
                    spec::to_value(&s),
                    [],
                );
                r.skip = skip;
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: LaunchConfigurationSpec = parse(cx, Kind::LaunchConfiguration, &want.spec)?;
        let image = resolve_image(cx, &s.image).await?;
        let groups: Vec<String> = s.security_groups.iter().map(|g| g.id().into()).collect();
        let mut devices: Vec<BlockDeviceMapping> = s.block_devices.iter().map(mapping).collect();
        devices.extend(s.no_devices.iter().map(|d| {
            BlockDeviceMapping::builder()
                .device_name(d)
                .no_device(true)
                .build()
        }));
        let metadata = s.metadata.as_ref().map(|m| {
            InstanceMetadataOptions::builder()
                .http_tokens(InstanceMetadataHttpTokensState::from(
                    m.http_tokens.as_str(),
                ))
                .http_endpoint(InstanceMetadataEndpointState::from(
                    m.http_endpoint.as_str(),
                ))
                .http_put_response_hop_limit(m.http_put_response_hop_limit)
                .build()
        });
        cx.autoscaling(Class::AutoScalingMutate)
            .await
            .create_launch_configuration()
            .launch_configuration_name(&want.source_id)
            .image_id(image)
            .instance_type(&s.instance_type)
            .set_key_name(s.key_pair.as_ref().map(|k| k.id().to_string()))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .set_iam_instance_profile(s.instance_profile.as_ref().map(|p| p.id().to_string()))
            .set_user_data(s.user_data.clone())
            .set_block_device_mappings((!devices.is_empty()).then_some(devices))
            .instance_monitoring(InstanceMonitoring::builder().enabled(s.monitoring).build())
            .ebs_optimized(s.ebs_optimized)
            .set_associate_public_ip_address(s.associate_public_ip)
            .set_metadata_options(metadata)
            .set_placement_tenancy(s.placement_tenancy.clone())
            .set_spot_price(s.spot_price.clone())
            .send()
            .await
            .map_err(|e| cx.err("CreateLaunchConfiguration", e))?;
        Ok(want.source_id.clone())
    }

    /// Launch configurations are immutable: equal is done, different is an
    /// error that says how to replace it.
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
        let have = one(self, cx, id).await?;
        let diffs = ferry_core::diff::diff_spec(Kind::LaunchConfiguration, &want.spec, &have.spec);
        if diffs.is_empty() {
            return Ok(vec![]);
        }
        let mut fields: Vec<String> = diffs.into_iter().map(|d| d.path).collect();
        fields.dedup();
        Err(cx.invalid(format!(
            "launch configuration {id} differs from its source ({}), and launch configurations \
             cannot be changed: replace it with `ferry rollback` and `ferry apply`, or delete it \
             in the destination and apply again",
            fields.join(", ")
        )))
    }

    /// In use by a group: `ResourceInUse`, which rollback retries after the
    /// group is gone.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        missing_ok(
            cx.autoscaling(Class::AutoScalingMutate)
                .await
                .delete_launch_configuration()
                .launch_configuration_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLaunchConfiguration", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:CreateLaunchConfiguration",
            "autoscaling:DeleteLaunchConfiguration",
            "ec2:DescribeImages",
            "iam:PassRole",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_read_into_references_and_canonical_lists() {
        let lc = Raw::builder()
            .launch_configuration_name("web-v1")
            .image_id("ami-own")
            .instance_type("t3.micro")
            .key_name("deploy")
            .security_groups("sg-b")
            .security_groups("sg-a")
            .iam_instance_profile("arn:aws:iam::111111111111:instance-profile/app/web")
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvdb")
                    .ebs(
                        Ebs::builder()
                            .snapshot_id("snap-data")
                            .volume_size(20)
                            .build(),
                    )
                    .build(),
            )
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        Ebs::builder()
                            .snapshot_id("snap-root")
                            .volume_size(8)
                            .build(),
                    )
                    .build(),
            )
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvdz")
                    .no_device(true)
                    .build(),
            )
            .instance_monitoring(InstanceMonitoring::builder().enabled(true).build())
            .build();
        let mut images = BTreeMap::new();
        images.insert(
            "ami-own".to_string(),
            ImageRef::Owned(Ref::new(Kind::Image, "ami-own")),
        );
        let snaps: BTreeSet<String> = ["snap-root".to_string()].into();
        let (s, skip) = to_spec(&lc, &images, &snaps);
        assert!(skip.is_none());
        assert_eq!(s.key_pair, Some(Ref::new(Kind::KeyPair, "deploy")));
        assert_eq!(
            s.instance_profile,
            Some(Ref::new(Kind::IamInstanceProfile, "web"))
        );
        assert_eq!(s.security_groups[0].id(), "sg-a");
        assert_eq!(s.block_devices[0].device_name, "/dev/xvda");
        assert_eq!(s.block_devices[0].snapshot, None, "the image brings it");
        assert_eq!(
            s.block_devices[1].snapshot,
            Some(Ref::new(Kind::Snapshot, "snap-data"))
        );
        assert_eq!(s.no_devices, vec!["/dev/xvdz"]);
        assert!(s.monitoring);
        // What create sends reads back the same.
        let sent = mapping(&s.block_devices[1]);
        assert_eq!(sent.ebs().and_then(|e| e.snapshot_id()), Some("snap-data"));
    }

    #[test]
    fn groups_named_by_name_are_skipped() {
        let lc = Raw::builder()
            .launch_configuration_name("classic")
            .image_id("ami-1")
            .instance_type("m1.small")
            .security_groups("web")
            .build();
        let (_, skip) = to_spec(&lc, &BTreeMap::new(), &BTreeSet::new());
        assert!(skip.unwrap().contains("\"web\""));
    }
}
