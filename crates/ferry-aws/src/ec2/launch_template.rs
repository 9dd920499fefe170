//! Launch templates with every version, in order. Versions are immutable
//! and numbered by EC2, so the destination gets version 1 at creation and
//! the others appended in source order by converge (which also finishes a
//! template a killed run left half made), then the default set. A version
//! that differs from the source's cannot be fixed in place: converge says so.
//!
//! What a version launches with travels by reference (image, key pair,
//! groups, subnets, instance profile, KMS keys, snapshots) and is resolved
//! to destination IDs at creation; public images are found again by owner
//! and name, SSM image parameters are kept as they are.

use super::{converge_tags, lookup_filters, resource};
use crate::adapter::{by_ids, gone_ok, one, page_size, parse, reference};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    CreditSpecificationRequest, InstanceType, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateInstanceMetadataTagsState,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatePlacementRequest,
    LaunchTemplateTagSpecificationRequest, LaunchTemplatesMonitoringRequest,
    RequestLaunchTemplateData, ResourceType, ResponseLaunchTemplateData, ShutdownBehavior, Tag,
    Tenancy, VolumeType,
};
use ferry_core::spec::compute::{BlockDevice, ImageRef};
use ferry_core::spec::templates::{
    first_difference, renumbering_note, LaunchTemplateData, LaunchTemplateSpec,
    LaunchTemplateVersionSpec, LtMetadata, LtNetworkInterface, LtPlacement, LtTagSpecification,
};
use ferry_core::spec::to_value;
use ferry_core::{Kind, Ref, Resource};
use std::collections::BTreeMap;

pub struct LaunchTemplate;

/// Image IDs of this form name an SSM parameter resolved at launch; public
/// AWS parameters exist in every region, so they are kept verbatim.
const SSM_IMAGE: &str = "resolve:ssm:";

async fn templates(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::LaunchTemplate>> {
    if let Lookup::Ids(ids) = lookup {
        return by_ids(ids, |chunk| async move {
            cx.ec2(Class::Read)
                .await
                .describe_launch_templates()
                .set_launch_template_ids(Some(chunk))
                .send()
                .await
                .map(|o| o.launch_templates().to_vec())
                .map_err(|e| cx.err("DescribeLaunchTemplates", e))
        })
        .await;
    }
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_launch_templates()
        .set_filters(Some(lookup_filters(lookup, "launch-template-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeLaunchTemplates", e))?
                .launch_templates()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

/// Every version of a template, by version number.
async fn versions(cx: &Side, id: &str) -> Result<Vec<aws_sdk_ec2::types::LaunchTemplateVersion>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_launch_template_versions()
        .launch_template_id(id)
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeLaunchTemplateVersions", e))?
                .launch_template_versions()
                .iter()
                .cloned(),
        );
    }
    out.sort_by_key(|v| v.version_number().unwrap_or_default());
    out.dedup_by_key(|v| v.version_number());
    Ok(out)
}

/// What reading version data needs besides the data: how images and keys
/// are named, fetched once per describe.
#[derive(Default)]
struct Names {
    images: BTreeMap<String, ImageRef>,
    ebs_default: Option<String>,
    /// Alias name -> key ID, for keys named by alias.
    aliases: BTreeMap<String, String>,
}

impl Names {
    fn key(&self, key: Option<&str>) -> Option<Ref> {
        let key = key.filter(|k| !k.is_empty())?;
        if let Some((_, alias)) = key.split_once("alias/") {
            let alias = format!("alias/{alias}");
            if alias == crate::kms::EBS_DEFAULT_ALIAS {
                return None;
            }
            let id = self.aliases.get(&alias).map_or(key, String::as_str);
            return crate::kms::key_ref(Some(id), self.ebs_default.as_deref());
        }
        crate::kms::key_ref(Some(key), self.ebs_default.as_deref())
    }
}

fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(String::from)
}

/// The last path segment of an instance profile ARN is its name, which the
/// destination keeps.
fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn data_of(d: &ResponseLaunchTemplateData, names: &Names) -> LaunchTemplateData {
    let image_id = d.image_id().filter(|i| !i.is_empty());
    let profile = d
        .iam_instance_profile()
        .and_then(|p| p.name().or(p.arn().map(profile_name)));
    let block_devices = d
        .block_device_mappings()
        .iter()
        .map(|b| {
            let ebs = b.ebs();
            BlockDevice {
                device_name: b.device_name().unwrap_or_default().to_string(),
                volume_size: ebs.and_then(|e| e.volume_size()),
                volume_type: ebs.and_then(|e| e.volume_type()).map(|t| t.as_str().into()),
                iops: ebs.and_then(|e| e.iops()),
                throughput: ebs.and_then(|e| e.throughput()),
                delete_on_termination: ebs.and_then(|e| e.delete_on_termination()),
                encrypted: ebs.and_then(|e| e.encrypted()),
                kms_key: names.key(ebs.and_then(|e| e.kms_key_id())),
                snapshot: reference(Kind::Snapshot, ebs.and_then(|e| e.snapshot_id())),
                virtual_name: text(b.virtual_name()),
            }
        })
        .collect();
    let network_interfaces = d
        .network_interfaces()
        .iter()
        .map(|n| LtNetworkInterface {
            device_index: n.device_index(),
            subnet: reference(Kind::Subnet, n.subnet_id()),
            security_groups: n
                .groups()
                .iter()
                .map(|g| Ref::new(Kind::SecurityGroup, g))
                .collect(),
            associate_public_ip: n.associate_public_ip_address(),
            delete_on_termination: n.delete_on_termination(),
            description: text(n.description()),
        })
        .collect();
    let tag_specifications = d
        .tag_specifications()
        .iter()
        .filter_map(|t| {
            let resource_type = t.resource_type()?.as_str().to_string();
            // Not a launch-time resource: the emulator copies the
            // template's own tags into version 1's data under this type.
            (resource_type != "launch-template").then(|| LtTagSpecification {
                resource_type,
                tags: super::tag_pairs(t.tags())
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
        })
        .collect();
    let placement = d.placement().and_then(|p| {
        let placed = LtPlacement {
            availability_zone: text(p.availability_zone()),
            tenancy: p.tenancy().map(|t| t.as_str().to_string()),
        };
        (placed.availability_zone.is_some() || placed.tenancy.is_some()).then_some(placed)
    });
    LaunchTemplateData {
        image: image_id.filter(|i| !i.starts_with(SSM_IMAGE)).map(|i| {
            names
                .images
                .get(i)
                .cloned()
                .unwrap_or_else(|| ImageRef::Owned(Ref::new(Kind::Image, i)))
        }),
        image_parameter: image_id
            .filter(|i| i.starts_with(SSM_IMAGE))
            .map(String::from),
        instance_type: d.instance_type().map(|t| t.as_str().to_string()),
        key_pair: reference(Kind::KeyPair, d.key_name()),
        security_groups: d
            .security_group_ids()
            .iter()
            .map(|g| Ref::new(Kind::SecurityGroup, g))
            .collect(),
        security_group_names: d.security_groups().to_vec(),
        instance_profile: reference(Kind::IamInstanceProfile, profile),
        user_data: text(d.user_data()),
        block_devices,
        network_interfaces,
        monitoring: d.monitoring().and_then(|m| m.enabled()),
        ebs_optimized: d.ebs_optimized(),
        metadata: d.metadata_options().map(|m| LtMetadata {
            http_tokens: m.http_tokens().map(|v| v.as_str().to_string()),
            http_endpoint: m.http_endpoint().map(|v| v.as_str().to_string()),
            http_put_response_hop_limit: m.http_put_response_hop_limit(),
            instance_metadata_tags: m.instance_metadata_tags().map(|v| v.as_str().to_string()),
        }),
        disable_api_termination: d.disable_api_termination(),
        shutdown_behavior: d
            .instance_initiated_shutdown_behavior()
            .map(|b| b.as_str().to_string()),
        cpu_credits: d.credit_specification().and_then(|c| text(c.cpu_credits())),
        tag_specifications,
        placement,
    }
    .canonical(false)
}

/// Settings of a version ferry does not copy, for the plan's notes.
fn not_copied(d: &ResponseLaunchTemplateData) -> Vec<&'static str> {
    let present = [
        (d.kernel_id().is_some(), "kernel"),
        (d.ram_disk_id().is_some(), "RAM disk"),
        (
            d.instance_market_options().is_some(),
            "market (spot) options",
        ),
        (d.cpu_options().is_some(), "CPU options"),
        (
            d.capacity_reservation_specification().is_some(),
            "capacity reservation",
        ),
        (!d.license_specifications().is_empty(), "licenses"),
        (d.hibernation_options().is_some(), "hibernation"),
        (d.enclave_options().is_some(), "enclave options"),
        (d.instance_requirements().is_some(), "instance requirements"),
        (
            d.private_dns_name_options().is_some(),
            "private DNS name options",
        ),
        (d.maintenance_options().is_some(), "maintenance options"),
        (d.disable_api_stop().is_some(), "stop protection"),
        (
            !d.elastic_inference_accelerators().is_empty()
                || !d.elastic_gpu_specifications().is_empty(),
            "accelerators",
        ),
        (
            d.network_performance_options().is_some(),
            "network performance options",
        ),
        (
            d.placement().is_some_and(|p| {
                p.group_name().is_some_and(|g| !g.is_empty())
                    || p.host_id().is_some()
                    || p.host_resource_group_arn().is_some()
            }),
            "placement group / dedicated host",
        ),
    ];
    present
        .into_iter()
        .filter(|(yes, _)| *yes)
        .map(|(_, what)| what)
        .collect()
}

/// The names `data` needs, fetched once for every template being read.
async fn names_for(cx: &Side, all: &[ResponseLaunchTemplateData]) -> Result<Names> {
    let ids: Vec<String> = all
        .iter()
        .filter_map(|d| d.image_id())
        .filter(|i| !i.is_empty() && !i.starts_with(SSM_IMAGE))
        .map(String::from)
        .collect();
    let keys: Vec<&str> = all
        .iter()
        .flat_map(|d| d.block_device_mappings())
        .filter_map(|b| b.ebs().and_then(|e| e.kms_key_id()))
        .collect();
    let mut names = Names {
        images: crate::ec2::image::image_refs(cx, &ids).await?,
        ..Default::default()
    };
    if !keys.is_empty() {
        names.ebs_default = crate::kms::ebs_default_key(cx).await?;
    }
    if keys.iter().any(|k| k.contains("alias/")) {
        names.aliases = crate::kms::aliases(cx).await?.into_iter().collect();
    }
    Ok(names)
}

#[async_trait]
impl KindAdapter for LaunchTemplate {
    fn kind(&self) -> Kind {
        Kind::LaunchTemplate
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let mut read = vec![];
        for t in templates(cx, lookup).await? {
            let vs = versions(cx, t.launch_template_id().unwrap_or_default()).await?;
            read.push((t, vs));
        }
        let all: Vec<ResponseLaunchTemplateData> = read
            .iter()
            .flat_map(|(_, vs)| vs.iter().filter_map(|v| v.launch_template_data().cloned()))
            .collect();
        let names = names_for(cx, &all).await?;
        Ok(read
            .iter()
            .map(|(t, vs)| to_resource(t, vs, &names))
            .collect())
    }

    /// Creates the template with version 1; converge, which runs right
    /// after, appends the later versions and sets the default.
    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: LaunchTemplateSpec = parse(cx, Kind::LaunchTemplate, &want.spec)?;
        let first = s
            .versions
            .first()
            .ok_or_else(|| cx.invalid(format!("launch template {} has no versions", s.name)))?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_launch_template()
            .launch_template_name(&s.name)
            .set_version_description(first.description.clone())
            .launch_template_data(request(cx, &first.data).await?)
            .set_tag_specifications(
                super::tag_spec(ResourceType::LaunchTemplate, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateLaunchTemplate", e))?;
        out.launch_template()
            .and_then(|t| t.launch_template_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateLaunchTemplate returned no template id"))
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
        let s: LaunchTemplateSpec = parse(cx, Kind::LaunchTemplate, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: LaunchTemplateSpec = parse(cx, Kind::LaunchTemplate, &have_r.spec)?;
        if let Some(i) = first_difference(&s.versions, &have.versions) {
            return Err(cx.invalid(format!(
                "version {} of launch template {id} differs from the source's version in that position, and versions cannot be changed: delete the destination template (ferry rollback, or by hand) and apply again",
                i + 1
            )));
        }
        if have.versions.len() > s.versions.len() {
            return Err(cx.invalid(format!(
                "launch template {id} has {} versions, the source {}: ferry does not delete versions; delete the extra ones there (or the whole template), then apply again",
                have.versions.len(),
                s.versions.len()
            )));
        }
        let mut changes = vec![];
        let mut numbers: Vec<i64> = versions(cx, id)
            .await?
            .iter()
            .filter_map(|v| v.version_number())
            .collect();
        for v in &s.versions[have.versions.len()..] {
            let out = cx
                .ec2(Class::Mutate)
                .await
                .create_launch_template_version()
                .launch_template_id(id)
                .set_version_description(v.description.clone())
                .launch_template_data(request(cx, &v.data).await?)
                .send()
                .await
                .map_err(|e| cx.err("CreateLaunchTemplateVersion", e))?;
            let n = out
                .launch_template_version()
                .and_then(|v| v.version_number())
                .ok_or_else(|| cx.invalid("CreateLaunchTemplateVersion returned no version"))?;
            numbers.push(n);
            changes.push(format!("version {n} added"));
        }
        let default = *numbers
            .get(s.default_version.saturating_sub(1))
            .ok_or_else(|| {
                cx.invalid(format!(
                    "launch template {id}: the default version is number {} of {}",
                    s.default_version,
                    numbers.len()
                ))
            })?;
        if have.default_version != s.default_version || !changes.is_empty() {
            cx.ec2(Class::Mutate)
                .await
                .modify_launch_template()
                .launch_template_id(id)
                .default_version(default.to_string())
                .send()
                .await
                .map_err(|e| cx.err("ModifyLaunchTemplate", e))?;
            if have.default_version != s.default_version {
                changes.push(format!("default version set to {default}"));
            }
        }
        changes.extend(converge_tags(cx, id, want, &have_r).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_launch_template()
                .launch_template_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLaunchTemplate", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:DescribeImages",
            "kms:ListAliases",
            "ec2:CreateLaunchTemplate",
            "ec2:CreateLaunchTemplateVersion",
            "ec2:ModifyLaunchTemplate",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteLaunchTemplate",
            "iam:PassRole",
        ]
    }
}

fn to_resource(
    t: &aws_sdk_ec2::types::LaunchTemplate,
    vs: &[aws_sdk_ec2::types::LaunchTemplateVersion],
    names: &Names,
) -> Resource {
    let id = t.launch_template_id().unwrap_or_default();
    let name = t.launch_template_name().unwrap_or_default();
    let numbers: Vec<i64> = vs.iter().filter_map(|v| v.version_number()).collect();
    let default_number = t.default_version_number().unwrap_or(1);
    let spec = LaunchTemplateSpec {
        name: name.to_string(),
        default_version: numbers
            .iter()
            .position(|n| *n == default_number)
            .map_or(1, |i| i + 1),
        versions: vs
            .iter()
            .map(|v| LaunchTemplateVersionSpec {
                description: text(v.version_description()),
                data: v
                    .launch_template_data()
                    .map(|d| data_of(d, names))
                    .unwrap_or_default(),
            })
            .collect(),
    };
    let mut r = resource(Kind::LaunchTemplate, id, to_value(&spec), t.tags());
    if r.name.is_none() {
        r.name = Some(name.to_string());
    }
    r.notes.extend(renumbering_note(&numbers, default_number));
    for v in vs {
        let missing = v.launch_template_data().map(not_copied).unwrap_or_default();
        if !missing.is_empty() {
            r.notes.push(format!(
                "version {}: not copied: {}",
                v.version_number().unwrap_or_default(),
                missing.join(", ")
            ));
        }
    }
    if let Some(by) = t.operator().filter(|o| o.managed() == Some(true)) {
        r.skip = Some(format!(
            "managed by {}: that service makes it in the destination",
            by.principal().unwrap_or("another AWS service")
        ));
    }
    r
}

fn ebs_request(b: &BlockDevice) -> Option<LaunchTemplateEbsBlockDeviceRequest> {
    let any = b.volume_size.is_some()
        || b.volume_type.is_some()
        || b.iops.is_some()
        || b.throughput.is_some()
        || b.delete_on_termination.is_some()
        || b.encrypted.is_some()
        || b.kms_key.is_some()
        || b.snapshot.is_some();
    any.then(|| {
        LaunchTemplateEbsBlockDeviceRequest::builder()
            .set_volume_size(b.volume_size)
            .set_volume_type(b.volume_type.as_deref().map(VolumeType::from))
            .set_iops(b.iops)
            .set_throughput(b.throughput)
            .set_delete_on_termination(b.delete_on_termination)
            .set_encrypted(b.encrypted)
            .set_kms_key_id(b.kms_key.as_ref().map(|k| k.id().to_string()))
            .set_snapshot_id(b.snapshot.as_ref().map(|s| s.id().to_string()))
            .build()
    })
}

fn ids(refs: &[Ref]) -> Option<Vec<String>> {
    (!refs.is_empty()).then(|| refs.iter().map(|r| r.id().to_string()).collect())
}

/// Version data for EC2 from a translated spec: references name
/// destination resources; a public image is looked up in this region.
async fn request(cx: &Side, d: &LaunchTemplateData) -> Result<RequestLaunchTemplateData> {
    let image = match (&d.image, &d.image_parameter) {
        (Some(i), _) => Some(crate::ec2::image::resolve_image(cx, i).await?),
        (None, p) => p.clone(),
    };
    let b = RequestLaunchTemplateData::builder()
        .set_image_id(image)
        .set_instance_type(d.instance_type.as_deref().map(InstanceType::from))
        .set_key_name(d.key_pair.as_ref().map(|k| k.id().to_string()))
        .set_security_group_ids(ids(&d.security_groups))
        .set_security_groups(
            (!d.security_group_names.is_empty()).then(|| d.security_group_names.clone()),
        )
        .set_iam_instance_profile(d.instance_profile.as_ref().map(|p| {
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .name(p.id())
                .build()
        }))
        .set_user_data(d.user_data.clone())
        .set_block_device_mappings((!d.block_devices.is_empty()).then(|| {
            d.block_devices
                .iter()
                .map(|b| {
                    LaunchTemplateBlockDeviceMappingRequest::builder()
                        .device_name(&b.device_name)
                        .set_virtual_name(b.virtual_name.clone())
                        .set_ebs(ebs_request(b))
                        .build()
                })
                .collect()
        }))
        .set_network_interfaces((!d.network_interfaces.is_empty()).then(|| {
            d.network_interfaces
                .iter()
                .map(|n| {
                    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                        .set_device_index(n.device_index)
                        .set_subnet_id(n.subnet.as_ref().map(|s| s.id().to_string()))
                        .set_groups(ids(&n.security_groups))
                        .set_associate_public_ip_address(n.associate_public_ip)
                        .set_delete_on_termination(n.delete_on_termination)
                        .set_description(n.description.clone())
                        .build()
                })
                .collect()
        }))
        .set_monitoring(d.monitoring.map(|m| {
            LaunchTemplatesMonitoringRequest::builder()
                .enabled(m)
                .build()
        }))
        .set_ebs_optimized(d.ebs_optimized)
        .set_metadata_options(d.metadata.as_ref().map(|m| {
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .set_http_tokens(
                    m.http_tokens
                        .as_deref()
                        .map(LaunchTemplateHttpTokensState::from),
                )
                .set_http_endpoint(
                    m.http_endpoint
                        .as_deref()
                        .map(LaunchTemplateInstanceMetadataEndpointState::from),
                )
                .set_http_put_response_hop_limit(m.http_put_response_hop_limit)
                .set_instance_metadata_tags(
                    m.instance_metadata_tags
                        .as_deref()
                        .map(LaunchTemplateInstanceMetadataTagsState::from),
                )
                .build()
        }))
        .set_disable_api_termination(d.disable_api_termination)
        .set_instance_initiated_shutdown_behavior(
            d.shutdown_behavior.as_deref().map(ShutdownBehavior::from),
        )
        .set_credit_specification(
            d.cpu_credits
                .as_ref()
                .map(|c| CreditSpecificationRequest::builder().cpu_credits(c).build()),
        )
        .set_tag_specifications((!d.tag_specifications.is_empty()).then(|| {
            d.tag_specifications
                .iter()
                .map(|t| {
                    LaunchTemplateTagSpecificationRequest::builder()
                        .resource_type(ResourceType::from(t.resource_type.as_str()))
                        .set_tags(Some(
                            t.tags
                                .iter()
                                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                                .collect(),
                        ))
                        .build()
                })
                .collect()
        }))
        .set_placement(d.placement.as_ref().map(|p| {
            LaunchTemplatePlacementRequest::builder()
                .set_availability_zone(p.availability_zone.clone())
                .set_tenancy(p.tenancy.as_deref().map(Tenancy::from))
                .build()
        }));
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice,
        LaunchTemplateIamInstanceProfileSpecification, LaunchTemplateTagSpecification,
        LaunchTemplateVersion,
    };
    use ferry_core::spec::compute::PublicImage;

    fn names() -> Names {
        let mut n = Names {
            ebs_default: Some("ebs-default-id".into()),
            ..Default::default()
        };
        n.images.insert(
            "ami-pub".into(),
            ImageRef::Public(PublicImage {
                owner: "137112412989".into(),
                name: "al2023".into(),
            }),
        );
        n.aliases.insert("alias/app".into(), "key-app".into());
        n
    }

    #[test]
    fn version_data_becomes_references() {
        let d = ResponseLaunchTemplateData::builder()
            .image_id("ami-pub")
            .instance_type(InstanceType::T3Micro)
            .key_name("deploy")
            .security_group_ids("sg-2")
            .security_group_ids("sg-1")
            .iam_instance_profile(
                LaunchTemplateIamInstanceProfileSpecification::builder()
                    .arn("arn:aws:iam::111111111111:instance-profile/path/web")
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvdb")
                    .ebs(
                        LaunchTemplateEbsBlockDevice::builder()
                            .encrypted(true)
                            .kms_key_id("arn:aws:kms:us-east-1:111111111111:alias/app")
                            .snapshot_id("snap-1")
                            .build(),
                    )
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        LaunchTemplateEbsBlockDevice::builder()
                            .encrypted(true)
                            .kms_key_id("alias/aws/ebs")
                            .build(),
                    )
                    .build(),
            )
            .tag_specifications(
                LaunchTemplateTagSpecification::builder()
                    .resource_type(ResourceType::LaunchTemplate)
                    .tags(Tag::builder().key("ferry:source").value("x").build())
                    .build(),
            )
            .tag_specifications(
                LaunchTemplateTagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("role").value("web").build())
                    .build(),
            )
            .build();
        let data = data_of(&d, &names());
        assert_eq!(
            data.image,
            Some(ImageRef::Public(PublicImage {
                owner: "137112412989".into(),
                name: "al2023".into()
            }))
        );
        assert_eq!(data.key_pair, Some(Ref::new(Kind::KeyPair, "deploy")));
        assert_eq!(
            data.security_groups,
            vec![
                Ref::new(Kind::SecurityGroup, "sg-2"),
                Ref::new(Kind::SecurityGroup, "sg-1")
            ],
            "API order is kept"
        );
        assert_eq!(
            data.instance_profile,
            Some(Ref::new(Kind::IamInstanceProfile, "web"))
        );
        assert_eq!(data.block_devices[0].device_name, "/dev/xvda");
        assert_eq!(data.block_devices[0].kms_key, None, "the AWS-managed key");
        assert_eq!(
            data.block_devices[1].kms_key,
            Some(Ref::new(Kind::KmsKey, "key-app"))
        );
        assert_eq!(
            data.block_devices[1].snapshot,
            Some(Ref::new(Kind::Snapshot, "snap-1"))
        );
        assert_eq!(data.tag_specifications.len(), 1);
        assert_eq!(data.tag_specifications[0].resource_type, "instance");
        assert!(data.placement.is_none() && data.metadata.is_none());
    }

    #[test]
    fn ssm_image_parameters_are_kept_verbatim() {
        let d = ResponseLaunchTemplateData::builder()
            .image_id(
                "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
            )
            .build();
        let data = data_of(&d, &names());
        assert_eq!(data.image, None);
        assert!(data.image_parameter.unwrap().starts_with(SSM_IMAGE));
    }

    #[test]
    fn versions_with_gaps_keep_positions_and_are_noted() {
        let v = |n: i64, desc: &str| {
            LaunchTemplateVersion::builder()
                .version_number(n)
                .version_description(desc)
                .launch_template_data(
                    ResponseLaunchTemplateData::builder()
                        .image_id("ami-pub")
                        .build(),
                )
                .build()
        };
        let t = aws_sdk_ec2::types::LaunchTemplate::builder()
            .launch_template_id("lt-1")
            .launch_template_name("web")
            .default_version_number(4)
            .build();
        let r = to_resource(&t, &[v(1, "a"), v(4, "b"), v(5, "")], &names());
        assert_eq!(r.key.to_string(), "launch_template/lt-1");
        assert_eq!(r.name.as_deref(), Some("web"));
        assert_eq!(r.spec["default_version"], 2);
        assert_eq!(r.spec["versions"].as_array().unwrap().len(), 3);
        assert!(r.spec["versions"][2].get("description").is_none());
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].contains("4->2"));
        let t2 = aws_sdk_ec2::types::LaunchTemplate::builder()
            .launch_template_id("lt-2")
            .default_version_number(2)
            .build();
        let plain = to_resource(&t2, &[v(1, "a"), v(2, "b")], &names());
        assert!(plain.notes.is_empty());
        assert_eq!(plain.spec["default_version"], 2);
    }

    #[test]
    fn unsupported_settings_are_noted_not_dropped_silently() {
        let d = ResponseLaunchTemplateData::builder()
            .kernel_id("aki-1")
            .disable_api_stop(true)
            .build();
        assert_eq!(not_copied(&d), vec!["kernel", "stop protection"]);
        assert!(not_copied(&ResponseLaunchTemplateData::builder().build()).is_empty());
    }

    #[test]
    fn block_devices_without_ebs_settings_send_no_ebs() {
        let mut b = BlockDevice {
            device_name: "/dev/sdb".into(),
            volume_size: None,
            volume_type: None,
            iops: None,
            throughput: None,
            delete_on_termination: None,
            encrypted: None,
            kms_key: None,
            snapshot: None,
            virtual_name: Some("ephemeral0".into()),
        };
        assert!(ebs_request(&b).is_none());
        b.kms_key = Some(Ref::new(Kind::KmsKey, "k-9"));
        assert_eq!(ebs_request(&b).unwrap().kms_key_id(), Some("k-9"));
        assert_eq!(profile_name("arn:aws:iam::1:instance-profile/a/b"), "b");
    }
}
