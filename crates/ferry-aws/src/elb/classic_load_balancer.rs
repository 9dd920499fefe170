//! Classic load balancers, keyed by their name, which the destination keeps
//! (a name already taken there is a plan conflict).
//!
//! The spec holds what a classic load balancer is made of: its scheme,
//! subnets and security groups, listeners (with the certificate an HTTPS or
//! SSL listener serves: an ACM certificate or an IAM server certificate,
//! both mapped to the destination's own), the health check, attributes
//! (cross-zone, connection draining, idle timeout, access log), stickiness
//! policies and the instances registered with it.
//!
//! Choices:
//! - Stickiness policies are read from the description's `Policies`, which
//!   gives each app-cookie policy's cookie name and each LB-cookie policy's
//!   expiry; DescribeLoadBalancerPolicies would say the same in free-form
//!   attributes, at one more call per load balancer. Other policy types
//!   (SSL negotiation, proxy protocol on back ends) are not migrated: the
//!   plan notes where the source uses them, and converge keeps whatever
//!   such policies the destination's listeners carry (AWS gives an HTTPS
//!   listener its default SSL negotiation policy) when it sets stickiness.
//! - Instances of an auto scaling group are left out on both sides: the
//!   group's attachment registers its own instances, and converge never
//!   deregisters them. One DescribeAutoScalingGroups listing per describe
//!   finds them, and only when a load balancer has instances at all.
//! - The access log's bucket is kept as it is (bucket names are global).
//! - A load balancer outside a VPC (EC2-Classic), one whose listener names
//!   a certificate that is neither in ACM nor in IAM, or one that reports
//!   no health check, is skipped with the reason.
//! - Converge changes what AWS lets change in place: a listener whose
//!   protocols or instance port differ is deleted and made again, one whose
//!   certificate alone differs gets it set; a stickiness policy cannot be
//!   modified, so a changed one is taken off its listeners, deleted and
//!   made again; subnets are attached before others are detached (a load
//!   balancer keeps at least one).
//! - A SourceTag lookup describes the load balancer by the name inside the
//!   source ARN (names are kept) and checks its tag, rather than listing
//!   every load balancer's tags.

use crate::adapter::{gone_ok, page_size, parse, tags, text};
use crate::autoscaling::{group_instances, id_in_source_arn};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancing::types::{
    AccessLog as RawAccessLog, ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing,
    HealthCheck, Instance, Listener, LoadBalancerAttributes, LoadBalancerDescription, Tag,
    TagKeyOnly,
};
use ferry_core::spec::loadbalancing::{
    AccessLog, ClassicAttributes, ClassicHealthCheck, ClassicListener, ClassicLoadBalancerSpec,
    StickinessPolicy,
};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub struct ClassicLoadBalancer;

/// Names per DescribeLoadBalancers and DescribeTags call (DescribeTags
/// takes at most 20).
const NAME_BATCH: usize = 20;

/// AWS's defaults, for attributes a response leaves out.
const DEFAULT_IDLE_TIMEOUT: i32 = 60;
const DEFAULT_DRAINING_TIMEOUT: i32 = 300;
const DEFAULT_LOG_INTERVAL: i32 = 60;

/// Describes these names (all when `None`), page by page.
async fn describe_page(
    cx: &Side,
    names: Option<Vec<String>>,
) -> Result<Vec<LoadBalancerDescription>> {
    let client = cx.elb(Class::ElbRead).await;
    let mut pages = client
        .describe_load_balancers()
        .set_load_balancer_names(names)
        .set_page_size(page_size(true))
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeLoadBalancers", e))?
                .load_balancer_descriptions()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

/// The load balancers a lookup names. DescribeLoadBalancers fails as a
/// whole when one name is missing, so a failing batch is retried name by
/// name, leaving out the missing ones.
async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<LoadBalancerDescription>> {
    let names: Vec<String> = match lookup {
        Lookup::All => return describe_page(cx, None).await,
        Lookup::Ids(ids) => ids.clone(),
        Lookup::SourceTag(v) => id_in_source_arn(v, Kind::ClassicLoadBalancer)
            .map(|n| vec![n.to_string()])
            .unwrap_or_default(),
    };
    let mut out = vec![];
    for chunk in names.chunks(NAME_BATCH) {
        match describe_page(cx, Some(chunk.to_vec())).await {
            Ok(found) => out.extend(found),
            Err(e) if e.is_not_found() => {
                for name in chunk {
                    match describe_page(cx, Some(vec![name.clone()])).await {
                        Ok(found) => out.extend(found),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The tags of each load balancer, by name.
async fn tags_of(cx: &Side, names: &[String]) -> Result<HashMap<String, Vec<(String, String)>>> {
    let mut out = HashMap::new();
    for chunk in names.chunks(NAME_BATCH) {
        let resp = cx
            .elb(Class::ElbRead)
            .await
            .describe_tags()
            .set_load_balancer_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| cx.err("DescribeTags", e))?;
        for d in resp.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            out.insert(d.load_balancer_name().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

async fn attributes_of(cx: &Side, name: &str) -> Result<LoadBalancerAttributes> {
    let out = cx
        .elb(Class::ElbRead)
        .await
        .describe_load_balancer_attributes()
        .load_balancer_name(name)
        .send()
        .await
        .map_err(|e| cx.err("DescribeLoadBalancerAttributes", e))?;
    Ok(out
        .load_balancer_attributes
        .unwrap_or_else(|| LoadBalancerAttributes::builder().build()))
}

/// The reference a listener's certificate ARN stands for.
fn certificate_ref(arn: &str) -> std::result::Result<Ref, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "acm", ..] => Ok(Ref::new(Kind::Certificate, arn)),
        ["arn", _, "iam", _, _, res] if res.starts_with("server-certificate/") => {
            Ok(Ref::new(Kind::ServerCertificate, arn))
        }
        _ => Err(format!(
            "serves certificate {arn}, which is neither an ACM certificate nor an IAM server certificate"
        )),
    }
}

fn read_attributes(a: &LoadBalancerAttributes) -> ClassicAttributes {
    ClassicAttributes {
        cross_zone: a.cross_zone_load_balancing().is_some_and(|c| c.enabled()),
        connection_draining: a
            .connection_draining()
            .filter(|d| d.enabled())
            .map(|d| d.timeout().unwrap_or(DEFAULT_DRAINING_TIMEOUT)),
        idle_timeout: a
            .connection_settings()
            .map(|c| c.idle_timeout())
            .unwrap_or(DEFAULT_IDLE_TIMEOUT),
        access_log: a.access_log().filter(|l| l.enabled()).map(|l| AccessLog {
            bucket: l.s3_bucket_name().unwrap_or_default().to_string(),
            prefix: text(l.s3_bucket_prefix()),
            interval: l.emit_interval().unwrap_or(DEFAULT_LOG_INTERVAL),
        }),
    }
}

fn sdk_attributes(a: &ClassicAttributes) -> LoadBalancerAttributes {
    let log = match &a.access_log {
        Some(l) => RawAccessLog::builder()
            .enabled(true)
            .s3_bucket_name(&l.bucket)
            .set_s3_bucket_prefix(l.prefix.clone())
            .emit_interval(l.interval)
            .build(),
        None => RawAccessLog::builder().enabled(false).build(),
    };
    let draining = match a.connection_draining {
        Some(t) => ConnectionDraining::builder()
            .enabled(true)
            .timeout(t)
            .build(),
        None => ConnectionDraining::builder().enabled(false).build(),
    };
    LoadBalancerAttributes::builder()
        .cross_zone_load_balancing(
            CrossZoneLoadBalancing::builder()
                .enabled(a.cross_zone)
                .build(),
        )
        .connection_draining(draining)
        // Only fails without an idle timeout, which is always given.
        .set_connection_settings(
            ConnectionSettings::builder()
                .idle_timeout(a.idle_timeout)
                .build()
                .ok(),
        )
        .access_log(log)
        .build()
}

/// A load balancer's spec, what the operator should know, and why it
/// cannot be migrated (if so).
struct Read {
    spec: ClassicLoadBalancerSpec,
    notes: Vec<String>,
    skip: Option<String>,
}

fn to_spec(
    d: &LoadBalancerDescription,
    attrs: &LoadBalancerAttributes,
    in_groups: &HashSet<String>,
) -> Read {
    let mut notes = vec![];
    let mut skip = None;
    let mut policies: Vec<StickinessPolicy> = vec![];
    if let Some(p) = d.policies() {
        policies.extend(
            p.app_cookie_stickiness_policies()
                .iter()
                .map(|a| StickinessPolicy {
                    name: a.policy_name().unwrap_or_default().to_string(),
                    cookie: "app".into(),
                    cookie_name: a.cookie_name().map(String::from),
                    expiration: None,
                }),
        );
        policies.extend(p.lb_cookie_stickiness_policies().iter().map(|l| {
            StickinessPolicy {
                name: l.policy_name().unwrap_or_default().to_string(),
                cookie: "lb".into(),
                cookie_name: None,
                // No period (reported as absent or 0): for the browser session.
                expiration: l.cookie_expiration_period().filter(|p| *p > 0),
            }
        }));
    }
    let sticky: BTreeSet<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    let mut listeners = vec![];
    for ld in d.listener_descriptions() {
        let Some(l) = ld.listener() else { continue };
        let protocol = l.protocol().to_ascii_uppercase();
        let certificate = match l.ssl_certificate_id().filter(|c| !c.is_empty()) {
            Some(arn) => match certificate_ref(arn) {
                Ok(r) => Some(r),
                Err(why) => {
                    skip.get_or_insert(format!("listener {}: {why}", l.load_balancer_port()));
                    None
                }
            },
            None => None,
        };
        let (used, other): (Vec<&String>, Vec<&String>) = ld
            .policy_names()
            .iter()
            .partition(|n| sticky.contains(n.as_str()));
        if !other.is_empty() {
            notes.push(format!(
                "listener {} also uses {} (SSL negotiation or other policies), not migrated: the destination's listener gets AWS's defaults",
                l.load_balancer_port(),
                other.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        listeners.push(ClassicListener {
            instance_protocol: l
                .instance_protocol()
                .map(|p| p.to_ascii_uppercase())
                .unwrap_or_else(|| protocol.clone()),
            protocol,
            port: l.load_balancer_port(),
            instance_port: l.instance_port(),
            certificate,
            policies: used.into_iter().cloned().collect(),
        });
    }
    for b in d.backend_server_descriptions() {
        if !b.policy_names().is_empty() {
            notes.push(format!(
                "back-end port {} uses {} (proxy protocol or other policies), not migrated",
                b.instance_port().unwrap_or_default(),
                b.policy_names().join(", ")
            ));
        }
    }
    let health_check = match d.health_check() {
        Some(h) => ClassicHealthCheck {
            target: h.target().to_string(),
            interval: h.interval(),
            timeout: h.timeout(),
            healthy_threshold: h.healthy_threshold(),
            unhealthy_threshold: h.unhealthy_threshold(),
        },
        None => {
            skip.get_or_insert("reports no health check".into());
            ClassicHealthCheck {
                target: String::new(),
                interval: 0,
                timeout: 0,
                healthy_threshold: 0,
                unhealthy_threshold: 0,
            }
        }
    };
    if d.subnets().is_empty() {
        skip = Some(
            "not in a VPC (EC2-Classic): a classic load balancer can only be made in a VPC's subnets"
                .into(),
        );
    }
    let in_group: Vec<&str> = d
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .filter(|i| in_groups.contains(*i))
        .collect();
    if !in_group.is_empty() {
        notes.push(format!(
            "{} registered by an auto scaling group's attachment, not by ferry: {}",
            if in_group.len() == 1 {
                "1 instance is"
            } else {
                "instances are"
            },
            in_group.join(", ")
        ));
    }
    let spec = ClassicLoadBalancerSpec {
        scheme: d.scheme().unwrap_or("internet-facing").to_string(),
        subnets: d
            .subnets()
            .iter()
            .map(|s| Ref::new(Kind::Subnet, s))
            .collect(),
        security_groups: d
            .security_groups()
            .iter()
            .map(|g| Ref::new(Kind::SecurityGroup, g))
            .collect(),
        listeners,
        health_check,
        attributes: read_attributes(attrs),
        policies,
        instances: d
            .instances()
            .iter()
            .filter_map(|i| i.instance_id())
            .filter(|i| !in_groups.contains(*i))
            .map(|i| Ref::new(Kind::Instance, i))
            .collect(),
    }
    .canonical();
    Read { spec, notes, skip }
}

/// One load balancer as read: the raw description (its listeners' full
/// policy lists), the resource and its typed spec.
struct Current {
    raw: LoadBalancerDescription,
    resource: Resource,
    spec: ClassicLoadBalancerSpec,
}

async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<Current>> {
    let descriptions = list(cx, lookup).await?;
    if descriptions.is_empty() {
        return Ok(vec![]);
    }
    let names: Vec<String> = descriptions
        .iter()
        .filter_map(|d| d.load_balancer_name())
        .map(String::from)
        .collect();
    let tags = tags_of(cx, &names).await?;
    let in_groups = if descriptions.iter().any(|d| !d.instances().is_empty()) {
        group_instances(cx).await?
    } else {
        HashSet::new()
    };
    let mut out = vec![];
    for d in descriptions {
        let name = d.load_balancer_name().unwrap_or_default().to_string();
        let attrs = attributes_of(cx, &name).await?;
        let r = to_spec(&d, &attrs, &in_groups);
        let mut res = Resource::with_tags(
            Key::new(Kind::ClassicLoadBalancer, &name),
            spec::to_value(&r.spec),
            tags.get(&name)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if let Lookup::SourceTag(v) = lookup {
            if res.ferry_source.as_deref() != Some(v.as_str()) {
                continue;
            }
        }
        res.skip = r.skip;
        res.notes = r.notes;
        out.push(Current {
            raw: d,
            resource: res,
            spec: r.spec,
        });
    }
    Ok(out)
}

async fn read_one(cx: &Side, name: &str) -> Result<Current> {
    read(cx, &Lookup::Ids(vec![name.to_string()]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            crate::AwsError::not_found(
                cx.name,
                "DescribeLoadBalancers",
                "LoadBalancerNotFound",
                name,
            )
        })
}

fn sdk_listener(cx: &Side, l: &ClassicListener) -> Result<Listener> {
    Listener::builder()
        .protocol(&l.protocol)
        .load_balancer_port(l.port)
        .instance_protocol(&l.instance_protocol)
        .instance_port(l.instance_port)
        .set_ssl_certificate_id(l.certificate.as_ref().map(|c| c.id().to_string()))
        .build()
        .map_err(|e| cx.invalid(format!("listener {}: {e}", l.port)))
}

/// Two listeners on one port that differ only by certificate (which is
/// set in place) and stickiness policies (set apart).
fn same_but_certificate(a: &ClassicListener, b: &ClassicListener) -> bool {
    a.protocol == b.protocol
        && a.instance_protocol == b.instance_protocol
        && a.instance_port == b.instance_port
}

/// Listener ports to delete, listeners to create, and listeners whose
/// certificate is to be replaced in place.
fn listener_changes<'a>(
    want: &'a [ClassicListener],
    have: &[ClassicListener],
) -> (Vec<i32>, Vec<&'a ClassicListener>, Vec<&'a ClassicListener>) {
    let have_by_port: BTreeMap<i32, &ClassicListener> = have.iter().map(|l| (l.port, l)).collect();
    let want_ports: BTreeSet<i32> = want.iter().map(|l| l.port).collect();
    let mut delete: Vec<i32> = have
        .iter()
        .map(|l| l.port)
        .filter(|p| !want_ports.contains(p))
        .collect();
    let mut create = vec![];
    let mut certificate = vec![];
    for w in want {
        match have_by_port.get(&w.port) {
            None => create.push(w),
            Some(h) if !same_but_certificate(w, h) => {
                delete.push(w.port);
                create.push(w);
            }
            Some(h) if h.certificate != w.certificate => certificate.push(w),
            Some(_) => {}
        }
    }
    (delete, create, certificate)
}

/// Stickiness policies to delete (gone, or changed: a policy cannot be
/// modified) and to create (new, or changed).
fn policy_changes<'a>(
    want: &'a [StickinessPolicy],
    have: &'a [StickinessPolicy],
) -> (Vec<&'a StickinessPolicy>, Vec<&'a StickinessPolicy>) {
    let delete = have.iter().filter(|p| !want.contains(p)).collect();
    let create = want.iter().filter(|p| !have.contains(p)).collect();
    (delete, create)
}

async fn set_listener_policies(cx: &Side, name: &str, port: i32, names: Vec<String>) -> Result<()> {
    cx.elb(Class::ElbMutate)
        .await
        .set_load_balancer_policies_of_listener()
        .load_balancer_name(name)
        .load_balancer_port(port)
        .set_policy_names(Some(names))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("SetLoadBalancerPoliciesOfListener", e))
}

/// Each listener's full policy list (stickiness and any other), by port.
fn listener_policies(d: &LoadBalancerDescription) -> BTreeMap<i32, Vec<String>> {
    d.listener_descriptions()
        .iter()
        .filter_map(|ld| {
            ld.listener()
                .map(|l| (l.load_balancer_port(), ld.policy_names().to_vec()))
        })
        .collect()
}

async fn converge_listeners(
    cx: &Side,
    name: &str,
    want: &ClassicLoadBalancerSpec,
    have: &ClassicLoadBalancerSpec,
) -> Result<Vec<String>> {
    let (delete, create, certificate) = listener_changes(&want.listeners, &have.listeners);
    let mut changes = vec![];
    let client = cx.elb(Class::ElbMutate).await;
    if !delete.is_empty() {
        client
            .delete_load_balancer_listeners()
            .load_balancer_name(name)
            .set_load_balancer_ports(Some(delete.clone()))
            .send()
            .await
            .map_err(|e| cx.err("DeleteLoadBalancerListeners", e))?;
        let ports: Vec<String> = delete.iter().map(|p| p.to_string()).collect();
        changes.push(format!("listeners removed: {}", ports.join(", ")));
    }
    if !create.is_empty() {
        let listeners = create
            .iter()
            .map(|l| sdk_listener(cx, l))
            .collect::<Result<Vec<_>>>()?;
        client
            .create_load_balancer_listeners()
            .load_balancer_name(name)
            .set_listeners(Some(listeners))
            .send()
            .await
            .map_err(|e| cx.err("CreateLoadBalancerListeners", e))?;
        let ports: Vec<String> = create.iter().map(|l| l.port.to_string()).collect();
        changes.push(format!("listeners added: {}", ports.join(", ")));
    }
    for l in certificate {
        let Some(c) = &l.certificate else { continue };
        client
            .set_load_balancer_listener_ssl_certificate()
            .load_balancer_name(name)
            .load_balancer_port(l.port)
            .ssl_certificate_id(c.id())
            .send()
            .await
            .map_err(|e| cx.err("SetLoadBalancerListenerSSLCertificate", e))?;
        changes.push(format!("listener {} certificate set", l.port));
    }
    Ok(changes)
}

/// Creates, replaces and removes stickiness policies, and sets each
/// listener's. `current` is each listener's full policy list as read after
/// the listeners were reconciled; policies other than stickiness ones stay.
async fn converge_policies(
    cx: &Side,
    name: &str,
    want: &ClassicLoadBalancerSpec,
    have: &ClassicLoadBalancerSpec,
    mut current: BTreeMap<i32, Vec<String>>,
) -> Result<Vec<String>> {
    let (delete, create) = policy_changes(&want.policies, &have.policies);
    let mut changes = vec![];
    let client = cx.elb(Class::ElbMutate).await;
    // A policy a listener uses cannot be deleted: detach it first.
    let doomed: BTreeSet<&str> = delete.iter().map(|p| p.name.as_str()).collect();
    for (port, names) in current.iter_mut() {
        if names.iter().any(|n| doomed.contains(n.as_str())) {
            names.retain(|n| !doomed.contains(n.as_str()));
            set_listener_policies(cx, name, *port, names.clone()).await?;
        }
    }
    for p in &delete {
        gone_ok(
            client
                .delete_load_balancer_policy()
                .load_balancer_name(name)
                .policy_name(&p.name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLoadBalancerPolicy", e)),
        )?;
        changes.push(format!("stickiness policy {} removed", p.name));
    }
    for p in &create {
        if p.cookie == "app" {
            client
                .create_app_cookie_stickiness_policy()
                .load_balancer_name(name)
                .policy_name(&p.name)
                .cookie_name(p.cookie_name.clone().unwrap_or_default())
                .send()
                .await
                .map_err(|e| cx.err("CreateAppCookieStickinessPolicy", e))?;
        } else {
            client
                .create_lb_cookie_stickiness_policy()
                .load_balancer_name(name)
                .policy_name(&p.name)
                .set_cookie_expiration_period(p.expiration)
                .send()
                .await
                .map_err(|e| cx.err("CreateLBCookieStickinessPolicy", e))?;
        }
        changes.push(format!("stickiness policy {} created", p.name));
    }
    let sticky: BTreeSet<&str> = want
        .policies
        .iter()
        .chain(&have.policies)
        .map(|p| p.name.as_str())
        .collect();
    for l in &want.listeners {
        let names = current.get(&l.port).cloned().unwrap_or_default();
        let (mut used, other): (Vec<String>, Vec<String>) =
            names.into_iter().partition(|n| sticky.contains(n.as_str()));
        used.sort();
        if used != l.policies {
            let mut all = other;
            all.extend(l.policies.iter().cloned());
            set_listener_policies(cx, name, l.port, all).await?;
            changes.push(format!(
                "listener {} stickiness policies set: [{}]",
                l.port,
                l.policies.join(", ")
            ));
        }
    }
    Ok(changes)
}

async fn converge_placement(
    cx: &Side,
    name: &str,
    want: &ClassicLoadBalancerSpec,
    have: &ClassicLoadBalancerSpec,
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.elb(Class::ElbMutate).await;
    let ids = |v: &[Ref], not_in: &[Ref]| -> Vec<String> {
        v.iter()
            .filter(|r| !not_in.contains(r))
            .map(|r| r.id().to_string())
            .collect()
    };
    // Attach before detaching: a load balancer keeps at least one subnet.
    let attach = ids(&want.subnets, &have.subnets);
    if !attach.is_empty() {
        client
            .attach_load_balancer_to_subnets()
            .load_balancer_name(name)
            .set_subnets(Some(attach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("AttachLoadBalancerToSubnets", e))?;
        changes.push(format!("subnets attached: {}", attach.join(", ")));
    }
    let detach = ids(&have.subnets, &want.subnets);
    if !detach.is_empty() {
        client
            .detach_load_balancer_from_subnets()
            .load_balancer_name(name)
            .set_subnets(Some(detach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("DetachLoadBalancerFromSubnets", e))?;
        changes.push(format!("subnets detached: {}", detach.join(", ")));
    }
    if !want.security_groups.is_empty() && want.security_groups != have.security_groups {
        let groups = ids(&want.security_groups, &[]);
        client
            .apply_security_groups_to_load_balancer()
            .load_balancer_name(name)
            .set_security_groups(Some(groups.clone()))
            .send()
            .await
            .map_err(|e| cx.err("ApplySecurityGroupsToLoadBalancer", e))?;
        changes.push(format!("security groups set: {}", groups.join(", ")));
    }
    Ok(changes)
}

/// Registers and deregisters instances. Instances of auto scaling groups
/// are in neither list (see `to_spec`), so they are never deregistered.
async fn converge_instances(
    cx: &Side,
    name: &str,
    want: &[Ref],
    have: &[Ref],
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.elb(Class::ElbMutate).await;
    let instances = |v: &[Ref], not_in: &[Ref]| -> Vec<Instance> {
        v.iter()
            .filter(|r| !not_in.contains(r))
            .map(|r| Instance::builder().instance_id(r.id()).build())
            .collect()
    };
    let register = instances(want, have);
    if !register.is_empty() {
        let n = register.len();
        client
            .register_instances_with_load_balancer()
            .load_balancer_name(name)
            .set_instances(Some(register))
            .send()
            .await
            .map_err(|e| cx.err("RegisterInstancesWithLoadBalancer", e))?;
        changes.push(format!("{n} instance(s) registered"));
    }
    let deregister = instances(have, want);
    if !deregister.is_empty() {
        let n = deregister.len();
        client
            .deregister_instances_from_load_balancer()
            .load_balancer_name(name)
            .set_instances(Some(deregister))
            .send()
            .await
            .map_err(|e| cx.err("DeregisterInstancesFromLoadBalancer", e))?;
        changes.push(format!("{n} instance(s) deregistered"));
    }
    Ok(changes)
}

fn elb_tags(cx: &Side, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| cx.invalid(format!("tag {k}: {e}")))
        })
        .collect()
}

async fn converge_tags(
    cx: &Side,
    name: &str,
    want: &Desired,
    have: &Resource,
) -> Result<Vec<String>> {
    let diff = tags::changes_to(want, have);
    let client = cx.elb(Class::ElbMutate).await;
    tags::send(
        &diff,
        |set| async move {
            client
                .add_tags()
                .load_balancer_names(name)
                .set_tags(Some(elb_tags(cx, &set)?))
                .send()
                .await
                .map_err(|e| cx.err("AddTags", e))
        },
        |keys| async move {
            let keys = keys.iter().map(|k| TagKeyOnly::builder().key(k).build());
            client
                .remove_tags()
                .load_balancer_names(name)
                .set_tags(Some(keys.collect()))
                .send()
                .await
                .map_err(|e| cx.err("RemoveTags", e))
        },
    )
    .await
}

#[async_trait]
impl KindAdapter for ClassicLoadBalancer {
    fn kind(&self) -> Kind {
        Kind::ClassicLoadBalancer
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(read(cx, lookup)
            .await?
            .into_iter()
            .map(|c| c.resource)
            .collect())
    }

    /// Makes the load balancer with its listeners (certificates included),
    /// subnets, security groups, scheme and tags; converge does the rest.
    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: ClassicLoadBalancerSpec = parse(cx, Kind::ClassicLoadBalancer, &want.spec)?;
        let listeners = s
            .listeners
            .iter()
            .map(|l| sdk_listener(cx, l))
            .collect::<Result<Vec<_>>>()?;
        let tags = elb_tags(cx, &want.tags)?;
        cx.elb(Class::ElbMutate)
            .await
            .create_load_balancer()
            .load_balancer_name(&want.source_id)
            .set_listeners(Some(listeners))
            .set_subnets(Some(s.subnets.iter().map(|r| r.id().to_string()).collect()))
            .set_security_groups((!s.security_groups.is_empty()).then(|| {
                s.security_groups
                    .iter()
                    .map(|r| r.id().to_string())
                    .collect()
            }))
            // Internet-facing is the default; AWS documents only "internal".
            .set_scheme((s.scheme == "internal").then(|| s.scheme.clone()))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| cx.err("CreateLoadBalancer", e))?;
        Ok(want.source_id.clone())
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
        let s: ClassicLoadBalancerSpec = parse(cx, Kind::ClassicLoadBalancer, &want.spec)?;
        let cur = read_one(cx, id).await?;
        let have = &cur.spec;
        let mut changes = vec![];
        let client = cx.elb(Class::ElbMutate).await;
        if s.health_check != have.health_check {
            let h = &s.health_check;
            client
                .configure_health_check()
                .load_balancer_name(id)
                .health_check(
                    HealthCheck::builder()
                        .target(&h.target)
                        .interval(h.interval)
                        .timeout(h.timeout)
                        .healthy_threshold(h.healthy_threshold)
                        .unhealthy_threshold(h.unhealthy_threshold)
                        .build()
                        .map_err(|e| cx.invalid(format!("health check: {e}")))?,
                )
                .send()
                .await
                .map_err(|e| cx.err("ConfigureHealthCheck", e))?;
            changes.push(format!("health check set: {}", h.target));
        }
        if s.attributes != have.attributes {
            client
                .modify_load_balancer_attributes()
                .load_balancer_name(id)
                .load_balancer_attributes(sdk_attributes(&s.attributes))
                .send()
                .await
                .map_err(|e| cx.err("ModifyLoadBalancerAttributes", e))?;
            changes.push("attributes set".into());
        }
        changes.extend(converge_placement(cx, id, &s, have).await?);
        let listener_lines = converge_listeners(cx, id, &s, have).await?;
        // Listeners made or replaced carry new policy lists: read them again.
        let current = if listener_lines.is_empty() {
            listener_policies(&cur.raw)
        } else {
            let again = list(cx, &Lookup::Ids(vec![id.to_string()])).await?;
            again.first().map(listener_policies).unwrap_or_default()
        };
        changes.extend(listener_lines);
        changes.extend(converge_policies(cx, id, &s, have, current).await?);
        changes.extend(converge_instances(cx, id, &s.instances, &have.instances).await?);
        changes.extend(converge_tags(cx, id, want, &cur.resource).await?);
        Ok(changes)
    }

    /// DeleteLoadBalancer: a load balancer already gone is done.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.elb(Class::ElbMutate)
                .await
                .delete_load_balancer()
                .load_balancer_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLoadBalancer", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeTags",
            "autoscaling:DescribeAutoScalingGroups",
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:ConfigureHealthCheck",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:AttachLoadBalancerToSubnets",
            "elasticloadbalancing:DetachLoadBalancerFromSubnets",
            "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
            "elasticloadbalancing:CreateLoadBalancerListeners",
            "elasticloadbalancing:DeleteLoadBalancerListeners",
            "elasticloadbalancing:SetLoadBalancerListenerSSLCertificate",
            "elasticloadbalancing:CreateAppCookieStickinessPolicy",
            "elasticloadbalancing:CreateLBCookieStickinessPolicy",
            "elasticloadbalancing:DeleteLoadBalancerPolicy",
            "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
            "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
            "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:DeleteLoadBalancer",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancing::types::{
        AppCookieStickinessPolicy, BackendServerDescription, LbCookieStickinessPolicy,
        ListenerDescription, Policies,
    };

    const ACM: &str = "arn:aws:acm:us-east-1:111111111111:certificate/0f5e";
    const IAM: &str = "arn:aws:iam::111111111111:server-certificate/legacy/www";

    fn listener(protocol: &str, port: i32, instance: &str, cert: Option<&str>) -> Listener {
        Listener::builder()
            .protocol(protocol)
            .load_balancer_port(port)
            .instance_protocol(instance)
            .instance_port(80)
            .set_ssl_certificate_id(cert.map(String::from))
            .build()
            .unwrap()
    }

    fn description() -> aws_sdk_elasticloadbalancing::types::builders::LoadBalancerDescriptionBuilder
    {
        LoadBalancerDescription::builder()
            .load_balancer_name("web")
            .scheme("internet-facing")
            .subnets("subnet-b")
            .subnets("subnet-a")
            .security_groups("sg-1")
            .health_check(
                HealthCheck::builder()
                    .target("HTTP:80/health")
                    .interval(30)
                    .timeout(5)
                    .healthy_threshold(3)
                    .unhealthy_threshold(2)
                    .build()
                    .unwrap(),
            )
    }

    fn attributes(draining: Option<i32>) -> LoadBalancerAttributes {
        LoadBalancerAttributes::builder()
            .cross_zone_load_balancing(CrossZoneLoadBalancing::builder().enabled(true).build())
            .connection_draining(
                ConnectionDraining::builder()
                    .enabled(draining.is_some())
                    .timeout(draining.unwrap_or(300))
                    .build(),
            )
            .connection_settings(
                ConnectionSettings::builder()
                    .idle_timeout(120)
                    .build()
                    .unwrap(),
            )
            .access_log(
                RawAccessLog::builder()
                    .enabled(true)
                    .s3_bucket_name("logs-bucket")
                    .s3_bucket_prefix("")
                    .emit_interval(5)
                    .build(),
            )
            .build()
    }

    #[test]
    fn classic_load_balancers_read_into_references_and_settings() {
        let d = description()
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(listener("http", 80, "HTTP", None))
                    .policy_names("sticky-lb")
                    .build(),
            )
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(listener("HTTPS", 443, "HTTP", Some(ACM)))
                    .policy_names("sticky-app")
                    .policy_names("ELBSecurityPolicy-2016-08")
                    .build(),
            )
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(listener("SSL", 8443, "TCP", Some(IAM)))
                    .build(),
            )
            .policies(
                Policies::builder()
                    .app_cookie_stickiness_policies(
                        AppCookieStickinessPolicy::builder()
                            .policy_name("sticky-app")
                            .cookie_name("SESSION")
                            .build(),
                    )
                    .lb_cookie_stickiness_policies(
                        LbCookieStickinessPolicy::builder()
                            .policy_name("sticky-lb")
                            .cookie_expiration_period(600)
                            .build(),
                    )
                    .other_policies("ELBSecurityPolicy-2016-08")
                    .build(),
            )
            .instances(Instance::builder().instance_id("i-2").build())
            .instances(Instance::builder().instance_id("i-asg").build())
            .instances(Instance::builder().instance_id("i-1").build())
            .build();
        let in_groups: HashSet<String> = ["i-asg".to_string()].into();
        let r = to_spec(&d, &attributes(Some(90)), &in_groups);
        assert!(r.skip.is_none(), "{:?}", r.skip);
        let s = r.spec;
        assert_eq!(
            s.subnets,
            vec![
                Ref::new(Kind::Subnet, "subnet-a"),
                Ref::new(Kind::Subnet, "subnet-b")
            ]
        );
        assert_eq!(
            s.security_groups,
            vec![Ref::new(Kind::SecurityGroup, "sg-1")]
        );
        assert_eq!(
            s.listeners.iter().map(|l| l.port).collect::<Vec<_>>(),
            vec![80, 443, 8443]
        );
        assert_eq!(s.listeners[0].protocol, "HTTP");
        assert_eq!(s.listeners[0].policies, vec!["sticky-lb".to_string()]);
        assert_eq!(
            s.listeners[1].certificate,
            Some(Ref::new(Kind::Certificate, ACM))
        );
        assert_eq!(s.listeners[1].policies, vec!["sticky-app".to_string()]);
        assert_eq!(
            s.listeners[2].certificate,
            Some(Ref::new(Kind::ServerCertificate, IAM))
        );
        assert_eq!(s.listeners[2].instance_protocol, "TCP");
        assert_eq!(
            s.policies,
            vec![
                StickinessPolicy {
                    name: "sticky-app".into(),
                    cookie: "app".into(),
                    cookie_name: Some("SESSION".into()),
                    expiration: None,
                },
                StickinessPolicy {
                    name: "sticky-lb".into(),
                    cookie: "lb".into(),
                    cookie_name: None,
                    expiration: Some(600),
                },
            ]
        );
        assert_eq!(
            s.instances,
            vec![
                Ref::new(Kind::Instance, "i-1"),
                Ref::new(Kind::Instance, "i-2")
            ]
        );
        assert_eq!(
            s.attributes,
            ClassicAttributes {
                cross_zone: true,
                connection_draining: Some(90),
                idle_timeout: 120,
                access_log: Some(AccessLog {
                    bucket: "logs-bucket".into(),
                    prefix: None,
                    interval: 5,
                }),
            }
        );
        assert_eq!(s.health_check.target, "HTTP:80/health");
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("ELBSecurityPolicy-2016-08")));
        assert!(r.notes.iter().any(|n| n.contains("i-asg")));
        // The planner follows every reference: subnets, groups, instances
        // and both certificates.
        let refs = ferry_core::resource::refs_in(&spec::to_value(&s));
        assert!(refs.contains(&Key::new(Kind::Certificate, ACM)));
        assert!(refs.contains(&Key::new(Kind::ServerCertificate, IAM)));
        assert!(!refs.contains(&Key::new(Kind::Instance, "i-asg")));
    }

    #[test]
    fn draining_off_is_none_and_attributes_round_trip() {
        let d = description()
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(listener("TCP", 22, "TCP", None))
                    .build(),
            )
            .build();
        let off = to_spec(&d, &attributes(None), &HashSet::new()).spec;
        assert_eq!(off.attributes.connection_draining, None);
        assert!(off.policies.is_empty() && off.instances.is_empty());
        let on = to_spec(&d, &attributes(Some(45)), &HashSet::new()).spec;
        assert_eq!(on.attributes.connection_draining, Some(45));
        // What converge sends reads back as the same attributes.
        for a in [off.attributes, on.attributes] {
            assert_eq!(read_attributes(&sdk_attributes(&a)), a);
        }
    }

    #[test]
    fn odd_load_balancers_are_skipped_with_a_reason() {
        let foreign = description()
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(listener(
                        "HTTPS",
                        443,
                        "HTTP",
                        Some("arn:aws:iam::111111111111:user/someone"),
                    ))
                    .build(),
            )
            .build();
        let why = to_spec(&foreign, &attributes(None), &HashSet::new())
            .skip
            .unwrap();
        assert!(why.contains("neither an ACM certificate"), "{why}");
        let classic = LoadBalancerDescription::builder()
            .load_balancer_name("old")
            .availability_zones("us-east-1a")
            .build();
        let why = to_spec(&classic, &attributes(None), &HashSet::new())
            .skip
            .unwrap();
        assert!(why.contains("EC2-Classic"), "{why}");
    }

    #[test]
    fn back_end_policies_are_noted() {
        let d = description()
            .backend_server_descriptions(
                BackendServerDescription::builder()
                    .instance_port(80)
                    .policy_names("proxy-protocol")
                    .build(),
            )
            .build();
        let r = to_spec(&d, &attributes(None), &HashSet::new());
        assert!(r.notes.iter().any(|n| n.contains("proxy-protocol")));
    }

    fn classic(protocol: &str, port: i32, cert: Option<&str>) -> ClassicListener {
        ClassicListener {
            protocol: protocol.into(),
            port,
            instance_protocol: "HTTP".into(),
            instance_port: 80,
            certificate: cert.map(|c| Ref::new(Kind::Certificate, c)),
            policies: vec![],
        }
    }

    #[test]
    fn listeners_are_replaced_only_when_more_than_the_certificate_differs() {
        let have = vec![
            classic("HTTP", 80, None),
            classic("HTTPS", 443, Some("arn:old")),
            classic("HTTP", 8080, None),
            classic("HTTP", 9000, None),
        ];
        let want = vec![
            classic("HTTP", 80, None),
            classic("HTTPS", 443, Some("arn:new")),
            classic("TCP", 8080, None),
            classic("HTTP", 81, None),
        ];
        let (delete, create, certificate) = listener_changes(&want, &have);
        assert_eq!(delete, vec![9000, 8080]);
        assert_eq!(
            create.iter().map(|l| l.port).collect::<Vec<_>>(),
            vec![8080, 81]
        );
        assert_eq!(
            certificate.iter().map(|l| l.port).collect::<Vec<_>>(),
            vec![443]
        );
        let (delete, create, certificate) = listener_changes(&want, &want);
        assert!(delete.is_empty() && create.is_empty() && certificate.is_empty());
    }

    #[test]
    fn changed_policies_are_deleted_and_made_again() {
        let lb = |name: &str, exp: Option<i64>| StickinessPolicy {
            name: name.into(),
            cookie: "lb".into(),
            cookie_name: None,
            expiration: exp,
        };
        let have = vec![lb("a", Some(60)), lb("b", None), lb("gone", None)];
        let want = vec![lb("a", Some(120)), lb("b", None), lb("new", None)];
        let (delete, create) = policy_changes(&want, &have);
        assert_eq!(
            delete.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            vec!["a", "gone"]
        );
        assert_eq!(
            create.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            vec!["a", "new"]
        );
    }
}
