//! Application and Network load balancers.
//!
//! A load balancer keeps its name in the destination: names are unique per
//! account and region, so a name already taken there by something ferry did
//! not make for this source is a plan conflict (`Kind::unique_name_field`),
//! never adopted. It is keyed by its ARN, which is also its `ferry:source`
//! value.
//!
//! Creation takes what cannot change later (name, type, scheme) and where
//! the nodes go: subnets, with a Network load balancer's Elastic IP or
//! private address in each (references, so the destination's own addresses
//! are used), and security groups. Converge then reconciles what can
//! change: subnets and groups when they differ, the IP address type, every
//! attribute AWS reports (compared as reported, key by key: only keys whose
//! value differs are sent), and tags. An address given to a subnet cannot
//! be changed while the load balancer has a node there, so subnets are
//! compared by subnet alone.
//!
//! Gateway load balancers (and the endpoints and appliances behind them)
//! are skipped with a reason. Deleting turns deletion protection off first
//! (ferry only deletes what it made) and waits until the load balancer and
//! its network interfaces are gone, so that the subnets, security groups
//! and Elastic IPs it used can be deleted next.

use super::{converge_tags, creation_tags, resource, tags_of};
use crate::adapter::{by_ids, gone_ok, one, page_size, parse, reference, text, wait_for};
use crate::ec2::filter;
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer as Raw, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerStateEnum, LoadBalancerTypeEnum, SubnetMapping as RawMapping,
};
use ferry_core::resource::TAG_SOURCE;
use ferry_core::spec::autoscaling::elb_arn_suffix;
use ferry_core::spec::loadbalancing::{LoadBalancerSpec, SubnetMapping};
use ferry_core::spec::{self};
use ferry_core::{Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub struct LoadBalancer;

/// ARNs per describe call (DescribeLoadBalancers takes at most 20).
const ARN_BATCH: usize = 20;
/// How long a deleted load balancer's network interfaces may linger.
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETION_PROTECTION: &str = "deletion_protection.enabled";
/// Logs a load balancer may write to an S3 bucket: the switch and the
/// bucket's key.
const LOGS: &[(&str, &str)] = &[
    ("access_logs.s3.enabled", "access_logs.s3.bucket"),
    ("connection_logs.s3.enabled", "connection_logs.s3.bucket"),
    (
        "health_check_logs.s3.enabled",
        "health_check_logs.s3.bucket",
    ),
];

/// Whether a resource carrying these tags is one `lookup` asks for. A
/// lookup by ARN is already narrowed by the describe call, and a lookup by
/// source tag is applied before anything else is read about the resource.
pub(super) fn asked_for(lookup: &Lookup, tags: Option<&Vec<(String, String)>>) -> bool {
    match lookup {
        Lookup::SourceTag(v) => tags
            .into_iter()
            .flatten()
            .any(|(k, val)| k == TAG_SOURCE && val == v),
        Lookup::All | Lookup::Ids(_) => true,
    }
}

/// The attributes `want` gives another value than `have` reports. Keys
/// only `have` reports are left alone: there is no way to unset one.
pub(super) fn attribute_changes(
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    want.iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The change line for attributes set.
pub(super) fn attribute_line(set: &BTreeMap<String, String>) -> String {
    let keys: Vec<&str> = set.keys().map(String::as_str).collect();
    format!("attributes set: {}", keys.join(", "))
}

/// Lists through `fetch` (one describe call, page by page, given ARNs or
/// none): a lookup by ARN goes [`ARN_BATCH`] ARNs a call and leaves out
/// those that no longer exist.
pub(super) async fn listed<T, F, Fut>(lookup: &Lookup, fetch: F) -> Result<Vec<T>>
where
    F: Fn(Option<Vec<String>>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>>>,
{
    match lookup {
        Lookup::Ids(ids) => {
            let mut out = vec![];
            for chunk in ids.chunks(ARN_BATCH) {
                out.extend(by_ids(chunk, |c| fetch(Some(c))).await?);
            }
            Ok(out)
        }
        Lookup::All | Lookup::SourceTag(_) => fetch(None).await,
    }
}

/// Attributes by key, from the pairs AWS reports.
pub(super) fn attribute_map<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

async fn fetch(cx: &Side, arns: Option<Vec<String>>) -> Result<Vec<Raw>> {
    let client = cx.elbv2(Class::ElbRead).await;
    let mut pages = client
        .describe_load_balancers()
        .set_page_size(page_size(arns.is_none()))
        .set_load_balancer_arns(arns)
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeLoadBalancers", e))?
                .load_balancers()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

async fn attributes(cx: &Side, arn: &str) -> Result<BTreeMap<String, String>> {
    let out = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("DescribeLoadBalancerAttributes", e))?;
    Ok(attribute_map(
        out.attributes().iter().map(|a| (a.key(), a.value())),
    ))
}

/// A load balancer's spec, what the operator should know, and why it
/// cannot be migrated (if so).
struct Read {
    spec: LoadBalancerSpec,
    notes: Vec<String>,
    skip: Option<String>,
}

fn to_spec(lb: &Raw, attributes: BTreeMap<String, String>) -> Read {
    let lb_type = lb
        .r#type()
        .map(|t| t.as_str())
        .unwrap_or("application")
        .to_string();
    let mut skip = None;
    if lb_type == "gateway" {
        skip = Some(
            "gateway load balancers are not migrated yet (nor their endpoints and appliances)"
                .to_string(),
        );
    }
    if lb
        .availability_zones()
        .iter()
        .any(|z| z.outpost_id().is_some())
    {
        skip = Some("runs on an Outpost, which ferry does not migrate".to_string());
    }
    if lb.state().and_then(|s| s.code()) == Some(&LoadBalancerStateEnum::Failed) {
        skip = Some("the load balancer failed to provision".to_string());
    }
    let subnets = lb
        .availability_zones()
        .iter()
        .filter_map(|z| {
            let addresses = z.load_balancer_addresses();
            Some(SubnetMapping {
                subnet: Ref::new(Kind::Subnet, z.subnet_id()?),
                allocation: addresses
                    .iter()
                    .find_map(|a| reference(Kind::ElasticIp, a.allocation_id())),
                private_ipv4_address: addresses
                    .iter()
                    .find_map(|a| text(a.private_ipv4_address())),
            })
        })
        .collect();
    let notes = LOGS
        .iter()
        .filter(|(on, _)| attributes.get(*on).map(String::as_str) == Some("true"))
        .filter_map(|(_, bucket)| attributes.get(*bucket))
        .map(|b| {
            format!(
                "writes logs to bucket {b}: its policy must let the destination's load balancer write there too"
            )
        })
        .collect();
    let spec = LoadBalancerSpec {
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        lb_type,
        scheme: lb
            .scheme()
            .map(|s| s.as_str())
            .unwrap_or("internet-facing")
            .to_string(),
        ip_address_type: lb
            .ip_address_type()
            .map(|t| t.as_str())
            .unwrap_or("ipv4")
            .to_string(),
        subnets,
        security_groups: lb
            .security_groups()
            .iter()
            .map(|g| Ref::new(Kind::SecurityGroup, g))
            .collect(),
        attributes,
    }
    .canonical();
    Read { spec, notes, skip }
}

async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
    let raws = listed(lookup, |arns| fetch(cx, arns)).await?;
    let arns: Vec<String> = raws
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(String::from))
        .collect();
    let tags = tags_of(cx, &arns).await?;
    let mut out = vec![];
    for lb in &raws {
        let Some(arn) = lb.load_balancer_arn() else {
            continue;
        };
        if !asked_for(lookup, tags.get(arn)) {
            continue;
        }
        let attrs = match attributes(cx, arn).await {
            Ok(a) => a,
            // Deleted since it was listed.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let r = to_spec(lb, attrs);
        let mut res = resource(
            Kind::LoadBalancer,
            arn,
            spec::to_value(&r.spec),
            tags.get(arn),
        );
        if res.name.is_none() {
            res.name = Some(r.spec.name.clone());
        }
        res.skip = r.skip;
        res.notes = r.notes;
        out.push(res);
    }
    Ok(out)
}

fn mappings(s: &LoadBalancerSpec) -> Vec<RawMapping> {
    s.subnets
        .iter()
        .map(|m| {
            RawMapping::builder()
                .subnet_id(m.subnet.id())
                .set_allocation_id(m.allocation.as_ref().map(|r| r.id().to_string()))
                .set_private_ipv4_address(m.private_ipv4_address.clone())
                .build()
        })
        .collect()
}

fn group_ids(s: &LoadBalancerSpec) -> Vec<String> {
    s.security_groups
        .iter()
        .map(|r| r.id().to_string())
        .collect()
}

fn subnet_ids(s: &LoadBalancerSpec) -> BTreeSet<&str> {
    s.subnets.iter().map(|m| m.subnet.id()).collect()
}

/// Subnets, security groups and the IP address type, in the order AWS
/// needs them (a dual-stack load balancer needs subnets with IPv6 ranges).
async fn converge_placement(
    cx: &Side,
    arn: &str,
    want: &LoadBalancerSpec,
    have: &LoadBalancerSpec,
) -> Result<Vec<String>> {
    let client = cx.elbv2(Class::ElbMutate).await;
    let mut changes = vec![];
    if subnet_ids(want) != subnet_ids(have) {
        client
            .set_subnets()
            .load_balancer_arn(arn)
            .set_subnet_mappings(Some(mappings(want)))
            .send()
            .await
            .map_err(|e| cx.err("SetSubnets", e))?;
        let ids: Vec<&str> = subnet_ids(want).into_iter().collect();
        changes.push(format!("subnets set: {}", ids.join(", ")));
    }
    if want.security_groups != have.security_groups {
        client
            .set_security_groups()
            .load_balancer_arn(arn)
            .set_security_groups(Some(group_ids(want)))
            .send()
            .await
            .map_err(|e| cx.err("SetSecurityGroups", e))?;
        changes.push(format!(
            "security groups set: {}",
            group_ids(want).join(", ")
        ));
    }
    if want.ip_address_type != have.ip_address_type {
        client
            .set_ip_address_type()
            .load_balancer_arn(arn)
            .ip_address_type(IpAddressType::from(want.ip_address_type.as_str()))
            .send()
            .await
            .map_err(|e| cx.err("SetIpAddressType", e))?;
        changes.push(format!("IP address type set to {}", want.ip_address_type));
    }
    Ok(changes)
}

async fn modify_attributes(cx: &Side, arn: &str, set: &BTreeMap<String, String>) -> Result<()> {
    cx.elbv2(Class::ElbMutate)
        .await
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(
            set.iter()
                .map(|(k, v)| LoadBalancerAttribute::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("ModifyLoadBalancerAttributes", e))
}

/// The load balancer and the network interfaces AWS made for it are gone.
async fn gone(cx: &Side, arn: &str) -> Result<bool> {
    let ids = Lookup::Ids(vec![arn.to_string()]);
    if !listed(&ids, |arns| fetch(cx, arns)).await?.is_empty() {
        return Ok(false);
    }
    let description = format!("ELB {}", elb_arn_suffix(&Ref::new(Kind::LoadBalancer, arn)));
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_network_interfaces()
        .filters(filter("description", [description]))
        .send()
        .await
        .map_err(|e| cx.err("DescribeNetworkInterfaces", e))?;
    Ok(out.network_interfaces().is_empty())
}

#[async_trait]
impl KindAdapter for LoadBalancer {
    fn kind(&self) -> Kind {
        Kind::LoadBalancer
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        read(cx, lookup).await
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: LoadBalancerSpec = parse(cx, Kind::LoadBalancer, &want.spec)?;
        let groups = group_ids(&s);
        let out = cx
            .elbv2(Class::ElbMutate)
            .await
            .create_load_balancer()
            .name(&s.name)
            .r#type(LoadBalancerTypeEnum::from(s.lb_type.as_str()))
            .scheme(LoadBalancerSchemeEnum::from(s.scheme.as_str()))
            .ip_address_type(IpAddressType::from(s.ip_address_type.as_str()))
            .set_subnet_mappings(Some(mappings(&s)))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .set_tags(creation_tags(want))
            .send()
            .await
            .map_err(|e| cx.err("CreateLoadBalancer", e))?;
        out.load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateLoadBalancer returned no load balancer ARN"))
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
        let s = parse::<LoadBalancerSpec>(cx, Kind::LoadBalancer, &want.spec)?.canonical();
        let have_r = one(self, cx, id).await?;
        let have: LoadBalancerSpec = parse(cx, Kind::LoadBalancer, &have_r.spec)?;
        let mut changes = converge_placement(cx, id, &s, &have).await?;
        let set = attribute_changes(&s.attributes, &have.attributes);
        if !set.is_empty() {
            modify_attributes(cx, id, &set).await?;
            changes.push(attribute_line(&set));
        }
        changes.extend(converge_tags(cx, id, want).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let attrs = match attributes(cx, id).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        if attrs.get(DELETION_PROTECTION).map(String::as_str) == Some("true") {
            let off = BTreeMap::from([(DELETION_PROTECTION.to_string(), "false".to_string())]);
            gone_ok(modify_attributes(cx, id, &off).await)?;
        }
        gone_ok(
            cx.elbv2(Class::ElbMutate)
                .await
                .delete_load_balancer()
                .load_balancer_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLoadBalancer", e)),
        )?;
        wait_for(
            cx,
            format!("load balancer {id} and its network interfaces to be deleted"),
            DELETE_TIMEOUT,
            || async { Ok(gone(cx, id).await?.then_some(())) },
        )
        .await
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:DeleteLoadBalancer",
            "ec2:DescribeNetworkInterfaces",
            // The first load balancer of an account makes the service's
            // linked role.
            "iam:CreateServiceLinkedRole",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        AvailabilityZone, LoadBalancerAddress, LoadBalancerState,
    };

    fn zone(subnet: &str, address: Option<LoadBalancerAddress>) -> AvailabilityZone {
        AvailabilityZone::builder()
            .zone_name("us-east-1a")
            .subnet_id(subnet)
            .set_load_balancer_addresses(address.map(|a| vec![a]))
            .build()
    }

    fn nlb() -> Raw {
        Raw::builder()
            .load_balancer_arn(
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/edge/1",
            )
            .load_balancer_name("edge")
            .r#type(LoadBalancerTypeEnum::Network)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .ip_address_type(IpAddressType::Ipv4)
            .state(
                LoadBalancerState::builder()
                    .code(LoadBalancerStateEnum::Active)
                    .build(),
            )
            .availability_zones(zone(
                "subnet-b",
                Some(
                    LoadBalancerAddress::builder()
                        .ip_address("198.51.100.7")
                        .allocation_id("eipalloc-2")
                        .build(),
                ),
            ))
            .availability_zones(zone(
                "subnet-a",
                Some(
                    LoadBalancerAddress::builder()
                        .ip_address("198.51.100.6")
                        .allocation_id("eipalloc-1")
                        .build(),
                ),
            ))
            .build()
    }

    #[test]
    fn network_load_balancers_keep_their_elastic_ips_per_subnet() {
        let attrs = BTreeMap::from([(
            "load_balancing.cross_zone.enabled".to_string(),
            "true".to_string(),
        )]);
        let r = to_spec(&nlb(), attrs);
        assert!(r.skip.is_none());
        assert!(r.notes.is_empty());
        let s = r.spec;
        assert_eq!(s.lb_type, "network");
        assert_eq!(s.scheme, "internet-facing");
        assert!(s.security_groups.is_empty());
        assert_eq!(
            s.subnets,
            vec![
                SubnetMapping {
                    subnet: Ref::new(Kind::Subnet, "subnet-a"),
                    allocation: Some(Ref::new(Kind::ElasticIp, "eipalloc-1")),
                    private_ipv4_address: None,
                },
                SubnetMapping {
                    subnet: Ref::new(Kind::Subnet, "subnet-b"),
                    allocation: Some(Ref::new(Kind::ElasticIp, "eipalloc-2")),
                    private_ipv4_address: None,
                },
            ]
        );
        assert_eq!(s.attributes["load_balancing.cross_zone.enabled"], "true");
        let sent = mappings(&s);
        assert_eq!(sent[0].allocation_id(), Some("eipalloc-1"));
        assert_eq!(sent[1].subnet_id(), Some("subnet-b"));
    }

    #[test]
    fn application_load_balancers_name_their_groups_and_logs() {
        let alb = Raw::builder()
            .load_balancer_name("web")
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(LoadBalancerSchemeEnum::Internal)
            .ip_address_type(IpAddressType::Dualstack)
            .availability_zones(zone("subnet-a", None))
            .availability_zones(zone("subnet-b", None))
            .security_groups("sg-2")
            .security_groups("sg-1")
            .build();
        let attrs = BTreeMap::from([
            ("access_logs.s3.enabled".to_string(), "true".to_string()),
            (
                "access_logs.s3.bucket".to_string(),
                "logs-bucket".to_string(),
            ),
            (
                "connection_logs.s3.enabled".to_string(),
                "false".to_string(),
            ),
        ]);
        let r = to_spec(&alb, attrs);
        assert_eq!(
            r.spec.security_groups,
            vec![
                Ref::new(Kind::SecurityGroup, "sg-1"),
                Ref::new(Kind::SecurityGroup, "sg-2")
            ]
        );
        assert_eq!(r.spec.scheme, "internal");
        assert_eq!(r.spec.ip_address_type, "dualstack");
        assert!(r.spec.subnets.iter().all(|m| m.allocation.is_none()));
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].contains("logs-bucket"));
    }

    #[test]
    fn gateway_load_balancers_are_skipped() {
        let gwlb = Raw::builder()
            .load_balancer_name("inspect")
            .r#type(LoadBalancerTypeEnum::Gateway)
            .availability_zones(zone("subnet-a", None))
            .build();
        assert!(to_spec(&gwlb, BTreeMap::new())
            .skip
            .unwrap()
            .contains("gateway"));
    }

    #[test]
    fn only_differing_attributes_are_sent() {
        let have = BTreeMap::from([
            ("idle_timeout.timeout_seconds".to_string(), "60".to_string()),
            (DELETION_PROTECTION.to_string(), "false".to_string()),
            ("waf.fail_open.enabled".to_string(), "false".to_string()),
        ]);
        let mut want = have.clone();
        assert!(attribute_changes(&want, &have).is_empty());
        want.insert(DELETION_PROTECTION.to_string(), "true".to_string());
        want.insert("routing.http2.enabled".to_string(), "true".to_string());
        want.remove("waf.fail_open.enabled");
        let set = attribute_changes(&want, &have);
        assert_eq!(
            set.keys().collect::<Vec<_>>(),
            vec![DELETION_PROTECTION, "routing.http2.enabled"]
        );
        assert_eq!(
            attribute_line(&set),
            "attributes set: deletion_protection.enabled, routing.http2.enabled"
        );
    }

    #[test]
    fn lookups_by_source_tag_look_at_the_tag_only() {
        let tags = vec![(TAG_SOURCE.to_string(), "arn:src".to_string())];
        assert!(asked_for(&Lookup::SourceTag("arn:src".into()), Some(&tags)));
        assert!(!asked_for(
            &Lookup::SourceTag("arn:other".into()),
            Some(&tags)
        ));
        assert!(!asked_for(&Lookup::SourceTag("arn:src".into()), None));
        assert!(asked_for(&Lookup::All, None));
    }
}
