//! Instances no auto scaling group owns. Each is launched in the destination
//! from a copy of an image ferry makes of it (`image/<instance id>`, see
//! image.rs), in the mapped subnet, with its type, groups, key pair, instance
//! profile, user data, EBS optimisation, monitoring, metadata options and
//! tags. Instances of a group are listed as skipped: the group launches its own.

use super::{converge_tags, filter, lookup_filters, resource};
use crate::adapter::{gone_ok, one, page_size, parse, reference, wait_for};
use crate::ratelimit::Class;
use crate::{AwsError, Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, HttpTokensState, IamInstanceProfileSpecification, InstanceAttributeName,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceMetadataTagsState,
    InstanceStateName, InstanceType, ResourceType, RunInstancesMonitoringEnabled,
};
use ferry_core::spec::compute::{InstanceSpec, MetadataOptions};
use ferry_core::{spec, Kind, Ref, Resource};
use std::time::Duration;

pub struct Instance;

/// The tag AWS puts on instances an auto scaling group launched.
pub const ASG_TAG: &str = "aws:autoscaling:groupName";

const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::Instance>> {
    let mut filters = lookup_filters(lookup, "instance-id");
    filters.push(filter("instance-state-name", LIVE_STATES));
    let mut out = vec![];
    let mut pages = cx
        .ec2(Class::Read)
        .await
        .describe_instances()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("DescribeInstances", e))?;
        for r in page.reservations() {
            out.extend(r.instances().iter().cloned());
        }
    }
    Ok(out)
}

fn group_of(i: &aws_sdk_ec2::types::Instance) -> Option<&str> {
    super::tag_pairs(i.tags())
        .find(|(k, _)| *k == ASG_TAG)
        .map(|(_, v)| v)
}

/// Live instances no auto scaling group owns (optionally only these IDs).
pub async fn standalone(
    cx: &Side,
    only: Option<&[String]>,
) -> Result<Vec<aws_sdk_ec2::types::Instance>> {
    let lookup = match only {
        Some(ids) => Lookup::Ids(ids.to_vec()),
        None => Lookup::All,
    };
    Ok(list(cx, &lookup)
        .await?
        .into_iter()
        .filter(|i| group_of(i).is_none())
        .collect())
}

async fn user_data(cx: &Side, id: &str) -> Result<Option<String>> {
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| cx.err("DescribeInstanceAttribute", e))?;
    Ok(out
        .user_data()
        .and_then(|u| u.value())
        .filter(|v| !v.is_empty())
        .map(String::from))
}

/// The instance profile name at the end of its ARN (`...:instance-profile/path/name`).
pub fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn spec_of(cx: &Side, i: &aws_sdk_ec2::types::Instance, user_data: Option<String>) -> InstanceSpec {
    let id = i.instance_id().unwrap_or_default();
    // The source launches nothing from its own AMI: the destination twin
    // runs the image ferry makes of this instance.
    let image = if cx.name == "source" {
        id
    } else {
        i.image_id().unwrap_or_default()
    };
    let mut groups: Vec<Ref> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .map(|g| Ref::new(Kind::SecurityGroup, g))
        .collect();
    groups.sort();
    groups.dedup();
    InstanceSpec {
        image: Ref::new(Kind::Image, image),
        instance_type: i
            .instance_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        subnet: Ref::new(Kind::Subnet, i.subnet_id().unwrap_or_default()),
        security_groups: groups,
        key_pair: reference(Kind::KeyPair, i.key_name()),
        instance_profile: i
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(|a| Ref::new(Kind::IamInstanceProfile, profile_name(a))),
        user_data,
        ebs_optimized: i.ebs_optimized().unwrap_or(false),
        monitoring: i
            .monitoring()
            .and_then(|m| m.state())
            .is_some_and(|s| matches!(s.as_str(), "enabled" | "pending")),
        metadata: i.metadata_options().map(|m| MetadataOptions {
            http_tokens: m
                .http_tokens()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "optional".into()),
            http_endpoint: m
                .http_endpoint()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "enabled".into()),
            http_put_response_hop_limit: m.http_put_response_hop_limit().unwrap_or(1),
            instance_metadata_tags: m.instance_metadata_tags().map(|t| t.as_str().to_string()),
        }),
        source_dest_check: i.source_dest_check(),
        private_ip: i.private_ip_address().map(String::from),
    }
}

#[async_trait]
impl KindAdapter for Instance {
    fn kind(&self) -> Kind {
        Kind::Instance
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let mut out = vec![];
        for i in list(cx, lookup).await? {
            let id = i.instance_id().unwrap_or_default().to_string();
            let data = user_data(cx, &id).await?;
            let spec = spec_of(cx, &i, data);
            let mut r = resource(Kind::Instance, &id, spec::to_value(&spec), i.tags());
            if let Some(g) = group_of(&i) {
                r.skip = Some(format!(
                    "launched by auto scaling group {g}: the group makes its instances"
                ));
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: InstanceSpec = parse(cx, Kind::Instance, &want.spec)?;
        let metadata = s.metadata.as_ref().map(|m| {
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::from(m.http_tokens.as_str()))
                .http_endpoint(InstanceMetadataEndpointState::from(
                    m.http_endpoint.as_str(),
                ))
                .http_put_response_hop_limit(m.http_put_response_hop_limit)
                .set_instance_metadata_tags(
                    m.instance_metadata_tags
                        .as_deref()
                        .map(InstanceMetadataTagsState::from),
                )
                .build()
        });
        let mut tags = vec![];
        for rt in [ResourceType::Instance, ResourceType::Volume] {
            tags.extend(super::tag_spec(rt, want));
        }
        let out = cx
            .ec2(Class::RunInstances)
            .await
            .run_instances()
            .image_id(s.image.id())
            .instance_type(InstanceType::from(s.instance_type.as_str()))
            .subnet_id(s.subnet.id())
            .set_security_group_ids(Some(
                s.security_groups
                    .iter()
                    .map(|g| g.id().to_string())
                    .collect(),
            ))
            .set_key_name(s.key_pair.as_ref().map(|k| k.id().to_string()))
            .set_iam_instance_profile(s.instance_profile.as_ref().map(|p| {
                IamInstanceProfileSpecification::builder()
                    .name(p.id())
                    .build()
            }))
            .set_user_data(s.user_data.clone())
            .ebs_optimized(s.ebs_optimized)
            .monitoring(
                RunInstancesMonitoringEnabled::builder()
                    .enabled(s.monitoring)
                    .build(),
            )
            .set_metadata_options(metadata)
            .set_private_ip_address(s.private_ip.clone())
            .set_tag_specifications(Some(tags).filter(|t| !t.is_empty()))
            .client_token(super::carry::client_token(want))
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .map_err(|e| cx.err("RunInstances", e))?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("RunInstances returned no instance"))
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
        let s: InstanceSpec = parse(cx, Kind::Instance, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: InstanceSpec = parse(cx, Kind::Instance, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        if let Some(check) = s
            .source_dest_check
            .filter(|c| Some(*c) != have.source_dest_check)
        {
            cx.ec2(Class::Mutate)
                .await
                .modify_instance_attribute()
                .instance_id(id)
                .source_dest_check(AttributeBooleanValue::builder().value(check).build())
                .send()
                .await
                .map_err(|e| cx.err("ModifyInstanceAttribute", e))?;
            changes.push(format!("source/destination check set to {check}"));
        }
        if s.monitoring != have.monitoring {
            let c = cx.ec2(Class::Mutate).await;
            if s.monitoring {
                c.monitor_instances()
                    .instance_ids(id)
                    .send()
                    .await
                    .map_err(|e| cx.err("MonitorInstances", e))?;
            } else {
                c.unmonitor_instances()
                    .instance_ids(id)
                    .send()
                    .await
                    .map_err(|e| cx.err("UnmonitorInstances", e))?;
            }
            changes.push(format!("detailed monitoring set to {}", s.monitoring));
        }
        // Type, image, subnet, key and profile are fixed at launch: a
        // difference is reported by plan and verify, not changed in place.
        Ok(changes)
    }

    /// Terminates the instance and waits, so its subnet and groups can go next.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let r = cx
            .ec2(Class::Mutate)
            .await
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("TerminateInstances", e));
        gone_ok(r)?;
        wait_for(
            cx,
            format!("instance {id} to terminate"),
            Duration::from_secs(15 * 60),
            || async {
                let out = cx
                    .ec2(Class::Read)
                    .await
                    .describe_instances()
                    .instance_ids(id)
                    .send()
                    .await;
                let out = match out.map_err(|e| cx.err("DescribeInstances", e)) {
                    Err(e) if e.is_not_found() => return Ok(Some(())),
                    r => r?,
                };
                let state = out
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .find_map(|i| i.state().and_then(|s| s.name()).cloned());
                Ok(match state {
                    None | Some(InstanceStateName::Terminated) => Some(()),
                    _ => None,
                })
            },
        )
        .await
        .map_err(|e: AwsError| e)
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeInstanceAttribute",
            "ec2:RunInstances",
            "ec2:ModifyInstanceAttribute",
            "ec2:MonitorInstances",
            "ec2:UnmonitorInstances",
            "ec2:TerminateInstances",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "iam:PassRole",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_come_from_arns() {
        assert_eq!(
            profile_name("arn:aws:iam::111111111111:instance-profile/app/web"),
            "web"
        );
        assert_eq!(profile_name("web"), "web");
    }
}
