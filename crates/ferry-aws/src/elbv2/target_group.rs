//! Target groups of Application and Network load balancers.
//!
//! A target group keeps its name in the destination: names are unique per
//! account and region, so a name already taken there by something ferry did
//! not make for this source is a plan conflict (`Kind::unique_name_field`),
//! never adopted. It is keyed by its ARN, which is also its `ferry:source`
//! value.
//!
//! Creation takes everything that cannot change later (protocol and its
//! version, port, VPC, target type, IP address type) and the health check;
//! converge reconciles the health check (ModifyTargetGroup), every
//! attribute AWS reports (compared as reported, key by key: only keys whose
//! value differs are sent), the registered targets, and tags.
//!
//! Targets are references where they are migrated resources (instances;
//! Application load balancers behind a Network one) and IP addresses kept
//! as they are otherwise. Instances of auto scaling groups are left out on
//! both sides: the group registers them through its attachment, and its
//! destination twin registers its own instances, so converge never
//! registers nor deregisters them. Targets being deregistered (draining)
//! no longer count. An Application load balancer is registered once it
//! listens on the target's port (AWS requires it; its listener is made
//! beside the group). Lambda target groups are skipped: Lambda is not
//! migrated.

use super::load_balancer::{asked_for, attribute_changes, attribute_line, attribute_map, listed};
use super::{converge_tags, creation_tags, resource, tags_of};
use crate::adapter::{gone_ok, one, page_size, parse, reference, text, wait_for};
use crate::autoscaling::group_instances;
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher as RawMatcher, ProtocolEnum, TargetDescription, TargetGroup as Raw,
    TargetGroupAttribute, TargetGroupIpAddressTypeEnum, TargetHealthDescription,
    TargetHealthStateEnum, TargetTypeEnum,
};
use ferry_core::spec::loadbalancing::{
    Matcher, Target, TargetGroupSpec, TargetHealthCheck, TargetId,
};
use ferry_core::spec::{self};
use ferry_core::{Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

pub struct TargetGroup;

/// What an IP target outside the VPC is registered in.
const ALL_ZONES: &str = "all";
/// How long a target load balancer's listener may take to appear.
const LISTENER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

async fn fetch(cx: &Side, arns: Option<Vec<String>>) -> Result<Vec<Raw>> {
    let client = cx.elbv2(Class::ElbRead).await;
    let mut pages = client
        .describe_target_groups()
        .set_page_size(page_size(arns.is_none()))
        .set_target_group_arns(arns)
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeTargetGroups", e))?
                .target_groups()
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
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("DescribeTargetGroupAttributes", e))?;
    Ok(attribute_map(
        out.attributes().iter().map(|a| (a.key(), a.value())),
    ))
}

/// The registered targets (without a target list, DescribeTargetHealth
/// reports every registered target).
async fn health(cx: &Side, arn: &str) -> Result<Vec<TargetHealthDescription>> {
    let out = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("DescribeTargetHealth", e))?;
    Ok(out.target_health_descriptions().to_vec())
}

/// A target group's spec and why it cannot be migrated (if so).
struct Read {
    spec: TargetGroupSpec,
    skip: Option<String>,
}

fn target_type(tg: &Raw) -> &str {
    tg.target_type().map(|t| t.as_str()).unwrap_or("instance")
}

fn to_spec(
    tg: &Raw,
    attributes: BTreeMap<String, String>,
    health: &[TargetHealthDescription],
    group_instances: &HashSet<String>,
) -> Read {
    let kind = target_type(tg);
    let skip = (kind == "lambda")
        .then(|| "sends to Lambda functions, which ferry does not migrate".to_string());
    let targets = health
        .iter()
        .filter(|h| {
            h.target_health().and_then(|t| t.state()) != Some(&TargetHealthStateEnum::Draining)
        })
        .filter_map(|h| h.target())
        .filter_map(|t| {
            let raw = t.id()?;
            let id = match kind {
                "instance" if group_instances.contains(raw) => return None,
                "instance" => TargetId::Ref(Ref::new(Kind::Instance, raw)),
                "alb" => TargetId::Ref(Ref::new(Kind::LoadBalancer, raw)),
                _ => TargetId::Ip(raw.to_string()),
            };
            Some(Target {
                id,
                port: t.port(),
                all_zones: t.availability_zone() == Some(ALL_ZONES),
            })
        })
        .collect();
    let health_check = TargetHealthCheck {
        enabled: tg.health_check_enabled().unwrap_or(true),
        protocol: tg.health_check_protocol().map(|p| p.as_str().to_string()),
        port: text(tg.health_check_port()),
        path: text(tg.health_check_path()),
        interval_seconds: tg.health_check_interval_seconds(),
        timeout_seconds: tg.health_check_timeout_seconds(),
        healthy_threshold: tg.healthy_threshold_count(),
        unhealthy_threshold: tg.unhealthy_threshold_count(),
        matcher: tg.matcher().map(|m| Matcher {
            http_code: text(m.http_code()),
            grpc_code: text(m.grpc_code()),
        }),
    };
    let spec = TargetGroupSpec {
        name: tg.target_group_name().unwrap_or_default().to_string(),
        target_type: kind.to_string(),
        protocol: tg.protocol().map(|p| p.as_str().to_string()),
        protocol_version: text(tg.protocol_version()),
        port: tg.port(),
        vpc: reference(Kind::Vpc, tg.vpc_id()),
        ip_address_type: tg.ip_address_type().map(|t| t.as_str().to_string()),
        health_check,
        attributes,
        targets,
    }
    .canonical();
    Read { spec, skip }
}

async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
    let raws = listed(lookup, |arns| fetch(cx, arns)).await?;
    let arns: Vec<String> = raws
        .iter()
        .filter_map(|t| t.target_group_arn().map(String::from))
        .collect();
    let tags = tags_of(cx, &arns).await?;
    // Read once per describe, and only when an instance target is seen.
    let mut in_groups: Option<HashSet<String>> = None;
    let mut out = vec![];
    for tg in &raws {
        let Some(arn) = tg.target_group_arn() else {
            continue;
        };
        if !asked_for(lookup, tags.get(arn)) {
            continue;
        }
        let details = async {
            let attrs = attributes(cx, arn).await?;
            let targets = if target_type(tg) == "lambda" {
                vec![]
            } else {
                health(cx, arn).await?
            };
            Ok::<_, crate::AwsError>((attrs, targets))
        };
        let (attrs, targets) = match details.await {
            Ok(d) => d,
            // Deleted since it was listed.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        if target_type(tg) == "instance" && !targets.is_empty() && in_groups.is_none() {
            in_groups = Some(group_instances(cx).await?);
        }
        let r = to_spec(
            tg,
            attrs,
            &targets,
            in_groups.as_ref().unwrap_or(&HashSet::new()),
        );
        let mut res = resource(
            Kind::TargetGroup,
            arn,
            spec::to_value(&r.spec),
            tags.get(arn),
        );
        if res.name.is_none() {
            res.name = Some(r.spec.name.clone());
        }
        res.skip = r.skip;
        out.push(res);
    }
    Ok(out)
}

/// The matcher to send: only HTTP and HTTPS health checks take one.
fn matcher(hc: &TargetHealthCheck) -> Option<RawMatcher> {
    let http = matches!(hc.protocol.as_deref(), Some("HTTP" | "HTTPS"));
    hc.matcher.as_ref().filter(|_| http).map(|m| {
        RawMatcher::builder()
            .set_http_code(m.http_code.clone())
            .set_grpc_code(m.grpc_code.clone())
            .build()
    })
}

/// The health check as it is sent, so that a matcher AWS reports but
/// would not take (a TCP check's) never counts as a difference to fix.
fn sent_health_check(hc: &TargetHealthCheck) -> TargetHealthCheck {
    let mut hc = hc.clone();
    if matcher(&hc).is_none() {
        hc.matcher = None;
    }
    hc
}

/// The health check settings CreateTargetGroup and ModifyTargetGroup share
/// (two builder types with the same setters).
macro_rules! with_health_check {
    ($b:expr, $hc:expr) => {{
        let hc: &TargetHealthCheck = $hc;
        $b.health_check_enabled(hc.enabled)
            .set_health_check_protocol(hc.protocol.as_deref().map(ProtocolEnum::from))
            .set_health_check_port(hc.port.clone())
            .set_health_check_path(hc.path.clone())
            .set_health_check_interval_seconds(hc.interval_seconds)
            .set_health_check_timeout_seconds(hc.timeout_seconds)
            .set_healthy_threshold_count(hc.healthy_threshold)
            .set_unhealthy_threshold_count(hc.unhealthy_threshold)
            .set_matcher(matcher(hc))
    }};
}

fn description(t: &Target) -> TargetDescription {
    let id = match &t.id {
        TargetId::Ref(r) => r.id().to_string(),
        TargetId::Ip(ip) => ip.clone(),
    };
    TargetDescription::builder()
        .id(id)
        .set_port(t.port)
        .set_availability_zone(t.all_zones.then(|| ALL_ZONES.to_string()))
        .build()
}

/// Targets to register and to deregister to bring `have` to `want`.
fn target_changes<'a>(
    want: &'a [Target],
    have: &'a [Target],
) -> (Vec<&'a Target>, Vec<&'a Target>) {
    let w: BTreeSet<&Target> = want.iter().collect();
    let h: BTreeSet<&Target> = have.iter().collect();
    (
        w.difference(&h).copied().collect(),
        h.difference(&w).copied().collect(),
    )
}

fn target_names(targets: &[&Target]) -> String {
    targets
        .iter()
        .map(|t| {
            let d = description(t);
            match t.port {
                Some(p) => format!("{}:{p}", d.id().unwrap_or_default()),
                None => d.id().unwrap_or_default().to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// AWS registers an Application load balancer as a target only once it
/// listens on the target's port. That listener is made beside this group
/// (it depends on the load balancer, not on the group), so it is waited
/// for, bounded.
async fn await_listener(cx: &Side, lb: &str, port: i32) -> Result<()> {
    wait_for(
        cx,
        format!("load balancer {lb} to listen on port {port}, as AWS requires of a target load balancer"),
        LISTENER_TIMEOUT,
        || async {
            let out = cx
                .elbv2(Class::ElbRead)
                .await
                .describe_listeners()
                .load_balancer_arn(lb)
                .send()
                .await
                .map_err(|e| cx.err("DescribeListeners", e))?;
            Ok(out
                .listeners()
                .iter()
                .any(|l| l.port() == Some(port))
                .then_some(()))
        },
    )
    .await
}

async fn converge_targets(
    cx: &Side,
    arn: &str,
    s: &TargetGroupSpec,
    have: &[Target],
) -> Result<Vec<String>> {
    let (register, deregister) = target_changes(&s.targets, have);
    let client = cx.elbv2(Class::ElbMutate).await;
    let mut changes = vec![];
    if !deregister.is_empty() {
        gone_ok(
            client
                .deregister_targets()
                .target_group_arn(arn)
                .set_targets(Some(deregister.iter().map(|t| description(t)).collect()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeregisterTargets", e)),
        )?;
        changes.push(format!(
            "targets deregistered: {}",
            target_names(&deregister)
        ));
    }
    for t in &register {
        if let TargetId::Ref(r) = &t.id {
            if r.key.kind == Kind::LoadBalancer {
                if let Some(port) = t.port.or(s.port) {
                    await_listener(cx, r.id(), port).await?;
                }
            }
        }
    }
    if !register.is_empty() {
        client
            .register_targets()
            .target_group_arn(arn)
            .set_targets(Some(register.iter().map(|t| description(t)).collect()))
            .send()
            .await
            .map_err(|e| cx.err("RegisterTargets", e))?;
        changes.push(format!("targets registered: {}", target_names(&register)));
    }
    Ok(changes)
}

#[async_trait]
impl KindAdapter for TargetGroup {
    fn kind(&self) -> Kind {
        Kind::TargetGroup
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        read(cx, lookup).await
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: TargetGroupSpec = parse(cx, Kind::TargetGroup, &want.spec)?;
        let client = cx.elbv2(Class::ElbMutate).await;
        let out = with_health_check!(
            client
                .create_target_group()
                .name(&s.name)
                .target_type(TargetTypeEnum::from(s.target_type.as_str()))
                .set_protocol(s.protocol.as_deref().map(ProtocolEnum::from))
                .set_protocol_version(s.protocol_version.clone())
                .set_port(s.port)
                .set_vpc_id(s.vpc.as_ref().map(|r| r.id().to_string()))
                .set_ip_address_type(
                    s.ip_address_type
                        .as_deref()
                        .map(TargetGroupIpAddressTypeEnum::from)
                ),
            &s.health_check
        )
        .set_tags(creation_tags(want))
        .send()
        .await
        .map_err(|e| cx.err("CreateTargetGroup", e))?;
        out.target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateTargetGroup returned no target group ARN"))
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
        let s: TargetGroupSpec = parse(cx, Kind::TargetGroup, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: TargetGroupSpec = parse(cx, Kind::TargetGroup, &have_r.spec)?;
        let client = cx.elbv2(Class::ElbMutate).await;
        let mut changes = vec![];
        if sent_health_check(&s.health_check) != sent_health_check(&have.health_check) {
            with_health_check!(
                client.modify_target_group().target_group_arn(id),
                &s.health_check
            )
            .send()
            .await
            .map_err(|e| cx.err("ModifyTargetGroup", e))?;
            changes.push("health check updated".to_string());
        }
        let set = attribute_changes(&s.attributes, &have.attributes);
        if !set.is_empty() {
            client
                .modify_target_group_attributes()
                .target_group_arn(id)
                .set_attributes(Some(
                    set.iter()
                        .map(|(k, v)| TargetGroupAttribute::builder().key(k).value(v).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|e| cx.err("ModifyTargetGroupAttributes", e))?;
            changes.push(attribute_line(&set));
        }
        changes.extend(converge_targets(cx, id, &s, &have.targets).await?);
        changes.extend(converge_tags(cx, id, want).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.elbv2(Class::ElbMutate)
                .await
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteTargetGroup", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:DeleteTargetGroup",
            "autoscaling:DescribeAutoScalingGroups",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::TargetHealth;

    fn registered(
        id: &str,
        port: i32,
        zone: Option<&str>,
        state: TargetHealthStateEnum,
    ) -> TargetHealthDescription {
        TargetHealthDescription::builder()
            .target(
                TargetDescription::builder()
                    .id(id)
                    .port(port)
                    .set_availability_zone(zone.map(String::from))
                    .build(),
            )
            .target_health(TargetHealth::builder().state(state).build())
            .build()
    }

    fn group(kind: TargetTypeEnum) -> Raw {
        Raw::builder()
            .target_group_arn(
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/1",
            )
            .target_group_name("web")
            .protocol(ProtocolEnum::Http)
            .protocol_version("HTTP1")
            .port(80)
            .vpc_id("vpc-1")
            .target_type(kind)
            .ip_address_type(TargetGroupIpAddressTypeEnum::Ipv4)
            .health_check_enabled(true)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_port("traffic-port")
            .health_check_path("/health")
            .health_check_interval_seconds(30)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(5)
            .unhealthy_threshold_count(2)
            .matcher(RawMatcher::builder().http_code("200-299").build())
            .build()
    }

    #[test]
    fn instances_of_auto_scaling_groups_are_left_to_their_group() {
        let health = vec![
            registered("i-standalone", 8080, None, TargetHealthStateEnum::Healthy),
            registered("i-asg", 80, None, TargetHealthStateEnum::Healthy),
            registered("i-leaving", 80, None, TargetHealthStateEnum::Draining),
        ];
        let asg = HashSet::from(["i-asg".to_string()]);
        let attrs = BTreeMap::from([(
            "deregistration_delay.timeout_seconds".to_string(),
            "30".to_string(),
        )]);
        let r = to_spec(&group(TargetTypeEnum::Instance), attrs, &health, &asg);
        assert!(r.skip.is_none());
        let s = r.spec;
        assert_eq!(
            s.targets,
            vec![Target {
                id: TargetId::Ref(Ref::new(Kind::Instance, "i-standalone")),
                port: Some(8080),
                all_zones: false,
            }]
        );
        assert_eq!(s.vpc, Some(Ref::new(Kind::Vpc, "vpc-1")));
        assert_eq!(s.protocol_version.as_deref(), Some("HTTP1"));
        assert_eq!(s.health_check.path.as_deref(), Some("/health"));
        assert_eq!(
            s.health_check
                .matcher
                .as_ref()
                .unwrap()
                .http_code
                .as_deref(),
            Some("200-299")
        );
        assert_eq!(s.attributes["deregistration_delay.timeout_seconds"], "30");
    }

    #[test]
    fn ip_targets_stay_addresses_and_keep_all_zones() {
        let health = vec![
            registered("10.1.0.9", 443, Some("all"), TargetHealthStateEnum::Unused),
            registered(
                "10.0.1.5",
                443,
                Some("us-east-1a"),
                TargetHealthStateEnum::Healthy,
            ),
        ];
        let s = to_spec(
            &group(TargetTypeEnum::Ip),
            BTreeMap::new(),
            &health,
            &HashSet::new(),
        )
        .spec;
        assert_eq!(
            s.targets,
            vec![
                Target {
                    id: TargetId::Ip("10.0.1.5".into()),
                    port: Some(443),
                    all_zones: false,
                },
                Target {
                    id: TargetId::Ip("10.1.0.9".into()),
                    port: Some(443),
                    all_zones: true,
                },
            ]
        );
        let sent = description(&s.targets[1]);
        assert_eq!(sent.availability_zone(), Some("all"));
        assert_eq!(sent.id(), Some("10.1.0.9"));
    }

    #[test]
    fn application_load_balancer_targets_are_references() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/2";
        let health = vec![registered(lb, 80, None, TargetHealthStateEnum::Healthy)];
        let s = to_spec(
            &group(TargetTypeEnum::Alb),
            BTreeMap::new(),
            &health,
            &HashSet::new(),
        )
        .spec;
        assert_eq!(
            s.targets[0].id,
            TargetId::Ref(Ref::new(Kind::LoadBalancer, lb))
        );
    }

    #[test]
    fn lambda_target_groups_are_skipped() {
        let tg = Raw::builder()
            .target_group_name("fn")
            .target_type(TargetTypeEnum::Lambda)
            .health_check_enabled(false)
            .build();
        let r = to_spec(&tg, BTreeMap::new(), &[], &HashSet::new());
        assert!(r.skip.unwrap().contains("Lambda"));
        assert_eq!(r.spec.vpc, None);
    }

    #[test]
    fn target_differences_go_both_ways() {
        let t = |ip: &str| Target {
            id: TargetId::Ip(ip.into()),
            port: Some(80),
            all_zones: false,
        };
        let want = vec![t("10.0.0.1"), t("10.0.0.2")];
        let have = vec![t("10.0.0.2"), t("10.0.0.3")];
        let (register, deregister) = target_changes(&want, &have);
        assert_eq!(register, vec![&want[0]]);
        assert_eq!(deregister, vec![&have[1]]);
        assert_eq!(target_names(&register), "10.0.0.1:80");
        let (register, deregister) = target_changes(&want, &want);
        assert!(register.is_empty() && deregister.is_empty());
    }

    #[test]
    fn only_http_health_checks_send_a_matcher() {
        let mut hc = to_spec(
            &group(TargetTypeEnum::Instance),
            BTreeMap::new(),
            &[],
            &HashSet::new(),
        )
        .spec
        .health_check;
        assert_eq!(matcher(&hc).unwrap().http_code(), Some("200-299"));
        hc.protocol = Some("TCP".into());
        assert!(matcher(&hc).is_none());
        let mut other = hc.clone();
        other.matcher = None;
        assert_eq!(sent_health_check(&hc), sent_health_check(&other));
    }
}
