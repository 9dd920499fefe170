//! Auto Scaling groups: what they launch (a launch template and version, or
//! a launch configuration), where (subnets; zones only without subnets),
//! how many, their health check and termination settings, and what lives
//! inside them: tags and which of them instances get, lifecycle hooks,
//! scheduled actions, suspended processes and metrics collection.
//!
//! Groups keep their names in the destination and carry ferry's tags, which
//! never propagate to the instances they launch (those are the group's,
//! not ferry's). Target groups and classic load balancers are references,
//! so the group is created after them, attached to their destination
//! twins (which then register its instances, as AWS does for attachments),
//! and converge attaches and detaches to match. Groups with a mixed
//! instances policy or a placement group are skipped with a reason.

use super::{arn_of, arn_ref, is_missing, missing_ok};
use crate::adapter::{capped_page_size, parse, reference, text, wait_for};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_autoscaling::types::{
    AutoScalingGroup as Raw, Filter, LaunchTemplateSpecification, LifecycleHook,
    LifecycleHookSpecification, ScheduledUpdateGroupAction, Tag,
};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use ferry_core::resource::TAG_SOURCE;
use ferry_core::spec::autoscaling::{
    ArnRef, AutoScalingGroupSpec, LaunchTemplateUse, LifecycleHookSpec, ScheduledActionSpec, Zone,
};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub struct AutoScalingGroup;

/// The service-linked role every group uses unless told otherwise.
const DEFAULT_SERVICE_ROLE: &str = "AWSServiceRoleForAutoScaling";
/// How long a deleted group may take to terminate its instances.
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Spec fields reconciled by their own calls, not UpdateAutoScalingGroup.
const PARTS: &[&str] = &[
    "propagate_at_launch",
    "lifecycle_hooks",
    "scheduled_actions",
    "suspended_processes",
    "enabled_metrics",
    "target_groups",
    "load_balancers",
];

/// One describe call's group names and filters.
type Batch = (Option<Vec<String>>, Option<Vec<Filter>>);

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<Raw>> {
    let batches: Vec<Batch> = match lookup {
        Lookup::All => vec![(None, None)],
        Lookup::Ids(ids) if ids.is_empty() => return Ok(vec![]),
        Lookup::Ids(ids) => ids.chunks(50).map(|c| (Some(c.to_vec()), None)).collect(),
        Lookup::SourceTag(v) => vec![(
            None,
            Some(vec![Filter::builder()
                .name(format!("tag:{TAG_SOURCE}"))
                .values(v)
                .build()]),
        )],
    };
    let client = cx.autoscaling(Class::AutoScalingRead).await;
    let mut out = vec![];
    for (names, filters) in batches {
        let mut pages = client
            .describe_auto_scaling_groups()
            .set_auto_scaling_group_names(names)
            .set_filters(filters)
            .set_max_records(capped_page_size(100))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(|e| cx.err("DescribeAutoScalingGroups", e))?
                    .auto_scaling_groups()
                    .iter()
                    .cloned(),
            );
        }
    }
    Ok(out)
}

async fn hooks(cx: &Side, group: &str) -> Result<Vec<LifecycleHook>> {
    match cx
        .autoscaling(Class::AutoScalingRead)
        .await
        .describe_lifecycle_hooks()
        .auto_scaling_group_name(group)
        .send()
        .await
    {
        Ok(o) => Ok(o.lifecycle_hooks().to_vec()),
        Err(e) => {
            let e = cx.err("DescribeLifecycleHooks", e);
            if is_missing(&e) {
                Ok(vec![])
            } else {
                Err(e)
            }
        }
    }
}

async fn scheduled(cx: &Side, group: &str) -> Result<Vec<ScheduledUpdateGroupAction>> {
    let client = cx.autoscaling(Class::AutoScalingRead).await;
    let mut pages = client
        .describe_scheduled_actions()
        .auto_scaling_group_name(group)
        .set_max_records(capped_page_size(100))
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.scheduled_update_group_actions().iter().cloned()),
            Err(e) => {
                let e = cx.err("DescribeScheduledActions", e);
                if is_missing(&e) {
                    break;
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

fn time(t: Option<&DateTime>, now: i64) -> Option<String> {
    t.filter(|t| t.secs() > now)
        .and_then(|t| t.fmt(Format::DateTime).ok())
}

/// A group's spec, with what the operator should know and why it cannot
/// be migrated (if so).
struct Read {
    spec: AutoScalingGroupSpec,
    notes: Vec<String>,
    skip: Option<String>,
}

fn to_spec(
    g: &Raw,
    hooks: &[LifecycleHook],
    actions: &[ScheduledUpdateGroupAction],
    account: &str,
    now: i64,
) -> Read {
    let mut notes = vec![];
    let mut skip = None;
    if g.mixed_instances_policy().is_some() {
        skip = Some("mixed instances policies are not migrated yet".to_string());
    }
    if let Some(p) = text(g.placement_group()) {
        skip = Some(format!(
            "uses placement group {p:?}, which ferry does not migrate yet"
        ));
    }
    if let Some(status) = text(g.status()) {
        skip = Some(format!("the group is being deleted ({status})"));
    }
    let launch_template = g.launch_template().and_then(|t| {
        let id = text(t.launch_template_id())?;
        Some(LaunchTemplateUse {
            template: Ref::new(Kind::LaunchTemplate, id),
            version: text(t.version()),
        })
    });
    if let Some(v) = launch_template
        .as_ref()
        .and_then(|t| t.version.as_deref())
        .filter(|v| !v.starts_with('$'))
    {
        notes.push(format!(
            "launches version {v} of its launch template: the destination's copy must have that version"
        ));
    }
    if g.launch_template().is_some() && launch_template.is_none() {
        skip = Some("names its launch template without an ID".to_string());
    }
    let subnets: Vec<Ref> = g
        .vpc_zone_identifier()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Ref::new(Kind::Subnet, s))
        .collect();
    let zones = if subnets.is_empty() {
        g.availability_zones()
            .iter()
            .map(|z| Zone {
                availability_zone: z.clone(),
            })
            .collect()
    } else {
        vec![]
    };
    let propagate_at_launch = g
        .tags()
        .iter()
        .filter(|t| t.propagate_at_launch() == Some(true))
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:") && !k.starts_with("ferry:"))
        .map(String::from)
        .collect();
    let lifecycle_hooks = hooks
        .iter()
        .map(|h| {
            let target = h.notification_target_arn().map(|a| arn_ref(a, account));
            if let Some(ArnRef::Arn(a)) = &target {
                if a.split(':').nth(4) == Some(account) {
                    notes.push(format!(
                        "lifecycle hook {} notifies {a}, which ferry does not migrate: the destination's hook notifies the same target",
                        h.lifecycle_hook_name().unwrap_or_default()
                    ));
                }
            }
            LifecycleHookSpec {
                name: h.lifecycle_hook_name().unwrap_or_default().to_string(),
                transition: h.lifecycle_transition().unwrap_or_default().to_string(),
                heartbeat_timeout: h.heartbeat_timeout(),
                default_result: text(h.default_result()),
                notification_target: target,
                role: h.role_arn().map(|a| arn_ref(a, account)),
                notification_metadata: text(h.notification_metadata()),
            }
        })
        .collect();
    let scheduled_actions = actions
        .iter()
        .filter_map(|a| {
            let recurrence = text(a.recurrence());
            let start_time = if recurrence.is_none() {
                // A one-off action that has run is gone (or about to be).
                Some(time(a.start_time().or(a.time()), now)?)
            } else {
                None
            };
            Some(ScheduledActionSpec {
                name: a.scheduled_action_name().unwrap_or_default().to_string(),
                recurrence,
                start_time,
                end_time: time(a.end_time(), now),
                time_zone: text(a.time_zone()),
                min_size: a.min_size(),
                max_size: a.max_size(),
                desired_capacity: a.desired_capacity(),
            })
        })
        .collect();
    let service_linked_role = g
        .service_linked_role_arn()
        .and_then(|a| a.rsplit('/').next())
        .filter(|n| !n.is_empty() && *n != DEFAULT_SERVICE_ROLE)
        .map(String::from);
    let spec = AutoScalingGroupSpec {
        launch_template,
        launch_configuration: reference(Kind::LaunchConfiguration, g.launch_configuration_name()),
        min_size: g.min_size().unwrap_or(0),
        max_size: g.max_size().unwrap_or(0),
        desired_capacity: g.desired_capacity().unwrap_or(0),
        subnets,
        zones,
        health_check_type: g.health_check_type().unwrap_or("EC2").to_string(),
        health_check_grace_period: g.health_check_grace_period().unwrap_or(0),
        default_cooldown: g.default_cooldown().unwrap_or(300),
        termination_policies: g.termination_policies().to_vec(),
        max_instance_lifetime: g.max_instance_lifetime().filter(|v| *v > 0),
        capacity_rebalance: g.capacity_rebalance().unwrap_or(false),
        new_instances_protected_from_scale_in: g
            .new_instances_protected_from_scale_in()
            .unwrap_or(false),
        default_instance_warmup: g.default_instance_warmup().filter(|v| *v >= 0),
        service_linked_role,
        propagate_at_launch,
        lifecycle_hooks,
        scheduled_actions,
        suspended_processes: g
            .suspended_processes()
            .iter()
            .filter_map(|p| p.process_name().map(String::from))
            .collect(),
        enabled_metrics: g
            .enabled_metrics()
            .iter()
            .filter_map(|m| m.metric().map(String::from))
            .collect(),
        target_groups: g
            .target_group_arns()
            .iter()
            .map(|a| Ref::new(Kind::TargetGroup, a))
            .collect(),
        load_balancers: g
            .load_balancer_names()
            .iter()
            .map(|n| Ref::new(Kind::ClassicLoadBalancer, n))
            .collect(),
    }
    .canonical();
    Read { spec, notes, skip }
}

/// Groups with their resources, read in full.
async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<(Raw, Resource)>> {
    let now = DateTime::from(std::time::SystemTime::now()).secs();
    let mut out = vec![];
    for g in list(cx, lookup).await? {
        let name = g.auto_scaling_group_name().unwrap_or_default().to_string();
        let hooks = hooks(cx, &name).await?;
        let actions = scheduled(cx, &name).await?;
        let r = to_spec(&g, &hooks, &actions, &cx.info.account, now);
        let mut res = Resource::with_tags(
            Key::new(Kind::AutoScalingGroup, &name),
            spec::to_value(&r.spec),
            g.tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
        );
        res.skip = r.skip;
        res.notes = r.notes;
        out.push((g, res));
    }
    Ok(out)
}

fn template_spec(t: &LaunchTemplateUse) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification::builder()
        .launch_template_id(t.template.id())
        .set_version(t.version.clone())
        .build()
}

fn service_role_arn(cx: &Side, s: &AutoScalingGroupSpec) -> Option<String> {
    s.service_linked_role.as_ref().map(|n| {
        format!(
            "arn:{}:iam::{}:role/aws-service-role/autoscaling.amazonaws.com/{n}",
            cx.info.partition, cx.info.account
        )
    })
}

fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

/// The settings CreateAutoScalingGroup and UpdateAutoScalingGroup share
/// (two builder types with the same setters).
macro_rules! with_settings {
    ($b:expr, $s:expr, $cx:expr) => {{
        let s: &AutoScalingGroupSpec = $s;
        $b.set_launch_template(s.launch_template.as_ref().map(template_spec))
            .set_launch_configuration_name(
                s.launch_configuration.as_ref().map(|r| r.id().to_string()),
            )
            .min_size(s.min_size)
            .max_size(s.max_size)
            .desired_capacity(s.desired_capacity)
            .set_vpc_zone_identifier((!s.subnets.is_empty()).then(|| {
                s.subnets
                    .iter()
                    .map(|r| r.id())
                    .collect::<Vec<_>>()
                    .join(",")
            }))
            .set_availability_zones(non_empty(
                s.zones
                    .iter()
                    .map(|z| z.availability_zone.clone())
                    .collect(),
            ))
            .health_check_type(&s.health_check_type)
            .health_check_grace_period(s.health_check_grace_period)
            .default_cooldown(s.default_cooldown)
            .set_termination_policies(non_empty(s.termination_policies.clone()))
            .set_max_instance_lifetime(s.max_instance_lifetime)
            .capacity_rebalance(s.capacity_rebalance)
            .new_instances_protected_from_scale_in(s.new_instances_protected_from_scale_in)
            .set_default_instance_warmup(s.default_instance_warmup)
            .set_service_linked_role_arn(service_role_arn($cx, s))
    }};
}

/// The group's tags as Auto Scaling takes them: ferry's own never
/// propagate to instances.
fn tags(group: &str, tags: &BTreeMap<String, String>, propagate: &[String]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .resource_id(group)
                .resource_type("auto-scaling-group")
                .key(k)
                .value(v)
                .propagate_at_launch(!k.starts_with("ferry:") && propagate.contains(k))
                .build()
        })
        .collect()
}

async fn hook_spec(cx: &Side, h: &LifecycleHookSpec) -> Result<LifecycleHookSpecification> {
    Ok(LifecycleHookSpecification::builder()
        .lifecycle_hook_name(&h.name)
        .lifecycle_transition(&h.transition)
        .set_heartbeat_timeout(h.heartbeat_timeout)
        .set_default_result(h.default_result.clone())
        .set_notification_metadata(h.notification_metadata.clone())
        .set_notification_target_arn(match &h.notification_target {
            Some(t) => Some(arn_of(cx, t).await?),
            None => None,
        })
        .set_role_arn(match &h.role {
            Some(r) => Some(arn_of(cx, r).await?),
            None => None,
        })
        .build())
}

/// Top-level spec fields that differ, without the parts reconciled apart.
fn differing_settings(want: &serde_json::Value, have: &serde_json::Value) -> Vec<String> {
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.retain(|k, _| !PARTS.contains(&k.as_str()));
        }
        v
    };
    let mut fields: Vec<String> = ferry_core::diff::diff(&strip(want), &strip(have))
        .into_iter()
        .map(|d| {
            d.path
                .split(['.', '['])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    fields.dedup();
    fields
}

async fn converge_settings(
    cx: &Side,
    id: &str,
    want: &AutoScalingGroupSpec,
    have: &AutoScalingGroupSpec,
) -> Result<Vec<String>> {
    let fields = differing_settings(&spec::to_value(want), &spec::to_value(have));
    if fields.is_empty() {
        return Ok(vec![]);
    }
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    let mut b = with_settings!(
        client
            .update_auto_scaling_group()
            .auto_scaling_group_name(id),
        want,
        cx
    );
    // Unset values are cleared explicitly (omitted means "leave as is").
    if want.max_instance_lifetime.is_none() && have.max_instance_lifetime.is_some() {
        b = b.max_instance_lifetime(0);
    }
    if want.default_instance_warmup.is_none() && have.default_instance_warmup.is_some() {
        b = b.default_instance_warmup(-1);
    }
    b.send()
        .await
        .map_err(|e| cx.err("UpdateAutoScalingGroup", e))?;
    Ok(vec![format!("updated: {}", fields.join(", "))])
}

/// A tag's value as the group's tags are compared: with its flag.
fn flagged(value: Option<&str>, propagate: Option<bool>) -> (String, bool) {
    (
        value.unwrap_or_default().to_string(),
        propagate.unwrap_or(false),
    )
}

/// Brings the group's tags to `want`'s (the rule: [`crate::adapter::tags`]);
/// a tag's value is compared with its propagate-at-launch flag.
async fn converge_tags(
    cx: &Side,
    id: &str,
    want: &Desired,
    s: &AutoScalingGroupSpec,
    raw: &Raw,
) -> Result<Vec<String>> {
    if !want.manage_tags {
        return Ok(vec![]);
    }
    let have: BTreeMap<String, (String, bool)> = raw
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                flagged(t.value(), t.propagate_at_launch()),
            ))
        })
        .collect();
    let wanted: BTreeMap<String, (String, bool)> = tags(id, &want.tags, &s.propagate_at_launch)
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                flagged(t.value(), t.propagate_at_launch()),
            ))
        })
        .collect();
    let diff = crate::adapter::tags::diff(&wanted, &have);
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    crate::adapter::tags::send(
        &diff,
        |set| async move {
            let values = set.into_iter().map(|(k, (v, _))| (k, v)).collect();
            client
                .create_or_update_tags()
                .set_tags(Some(tags(id, &values, &s.propagate_at_launch)))
                .send()
                .await
                .map_err(|e| cx.err("CreateOrUpdateTags", e))
        },
        |keys| async move {
            let gone = keys.iter().map(|k| {
                Tag::builder()
                    .resource_id(id)
                    .resource_type("auto-scaling-group")
                    .key(k)
                    .build()
            });
            client
                .delete_tags()
                .set_tags(Some(gone.collect()))
                .send()
                .await
                .map_err(|e| cx.err("DeleteTags", e))
        },
    )
    .await
}

async fn converge_hooks(
    cx: &Side,
    id: &str,
    want: &[LifecycleHookSpec],
    have: &[LifecycleHookSpec],
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    for h in have
        .iter()
        .filter(|h| !want.iter().any(|w| w.name == h.name))
    {
        missing_ok(
            client
                .delete_lifecycle_hook()
                .auto_scaling_group_name(id)
                .lifecycle_hook_name(&h.name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteLifecycleHook", e)),
        )?;
        changes.push(format!("lifecycle hook {} deleted", h.name));
    }
    for w in want.iter().filter(|w| !have.contains(w)) {
        let h = hook_spec(cx, w).await?;
        client
            .put_lifecycle_hook()
            .auto_scaling_group_name(id)
            .lifecycle_hook_name(&w.name)
            .lifecycle_transition(&w.transition)
            .set_heartbeat_timeout(h.heartbeat_timeout())
            .set_default_result(h.default_result().map(String::from))
            .set_notification_metadata(h.notification_metadata().map(String::from))
            .set_notification_target_arn(h.notification_target_arn().map(String::from))
            .set_role_arn(h.role_arn().map(String::from))
            .send()
            .await
            .map_err(|e| cx.err("PutLifecycleHook", e))?;
        changes.push(format!("lifecycle hook {} set", w.name));
    }
    Ok(changes)
}

fn parse_time(cx: &Side, t: &Option<String>) -> Result<Option<DateTime>> {
    t.as_deref()
        .map(|s| {
            DateTime::from_str(s, Format::DateTime)
                .map_err(|e| cx.invalid(format!("bad scheduled action time {s:?}: {e}")))
        })
        .transpose()
}

async fn converge_actions(
    cx: &Side,
    id: &str,
    want: &[ScheduledActionSpec],
    have: &[ScheduledActionSpec],
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    for a in have
        .iter()
        .filter(|a| !want.iter().any(|w| w.name == a.name))
    {
        missing_ok(
            client
                .delete_scheduled_action()
                .auto_scaling_group_name(id)
                .scheduled_action_name(&a.name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteScheduledAction", e)),
        )?;
        changes.push(format!("scheduled action {} deleted", a.name));
    }
    for w in want.iter().filter(|w| !have.contains(w)) {
        client
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(id)
            .scheduled_action_name(&w.name)
            .set_recurrence(w.recurrence.clone())
            .set_start_time(parse_time(cx, &w.start_time)?)
            .set_end_time(parse_time(cx, &w.end_time)?)
            .set_time_zone(w.time_zone.clone())
            .set_min_size(w.min_size)
            .set_max_size(w.max_size)
            .set_desired_capacity(w.desired_capacity)
            .send()
            .await
            .map_err(|e| cx.err("PutScheduledUpdateGroupAction", e))?;
        changes.push(format!("scheduled action {} set", w.name));
    }
    Ok(changes)
}

/// What is in `a` and not in `b`.
fn minus(a: &[String], b: &[String]) -> Vec<String> {
    let b: BTreeSet<&String> = b.iter().collect();
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Suspended processes and collected metrics. Empty lists are never sent:
/// ResumeProcesses and DisableMetricsCollection read "none" as "all".
async fn converge_switches(
    cx: &Side,
    id: &str,
    want: &AutoScalingGroupSpec,
    have: &AutoScalingGroupSpec,
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    let suspend = minus(&want.suspended_processes, &have.suspended_processes);
    if !suspend.is_empty() {
        client
            .suspend_processes()
            .auto_scaling_group_name(id)
            .set_scaling_processes(Some(suspend.clone()))
            .send()
            .await
            .map_err(|e| cx.err("SuspendProcesses", e))?;
        changes.push(format!("processes suspended: {}", suspend.join(", ")));
    }
    let resume = minus(&have.suspended_processes, &want.suspended_processes);
    if !resume.is_empty() {
        client
            .resume_processes()
            .auto_scaling_group_name(id)
            .set_scaling_processes(Some(resume.clone()))
            .send()
            .await
            .map_err(|e| cx.err("ResumeProcesses", e))?;
        changes.push(format!("processes resumed: {}", resume.join(", ")));
    }
    let enable = minus(&want.enabled_metrics, &have.enabled_metrics);
    if !enable.is_empty() {
        client
            .enable_metrics_collection()
            .auto_scaling_group_name(id)
            .set_metrics(Some(enable.clone()))
            .granularity("1Minute")
            .send()
            .await
            .map_err(|e| cx.err("EnableMetricsCollection", e))?;
        changes.push(format!("metrics collected: {}", enable.join(", ")));
    }
    let disable = minus(&have.enabled_metrics, &want.enabled_metrics);
    if !disable.is_empty() {
        client
            .disable_metrics_collection()
            .auto_scaling_group_name(id)
            .set_metrics(Some(disable.clone()))
            .send()
            .await
            .map_err(|e| cx.err("DisableMetricsCollection", e))?;
        changes.push(format!(
            "metrics no longer collected: {}",
            disable.join(", ")
        ));
    }
    Ok(changes)
}

fn ids(refs: &[Ref]) -> Vec<String> {
    refs.iter().map(|r| r.id().to_string()).collect()
}

/// Target groups and classic load balancers the group is attached to.
async fn converge_attachments(
    cx: &Side,
    id: &str,
    want: &AutoScalingGroupSpec,
    have: &AutoScalingGroupSpec,
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let client = cx.autoscaling(Class::AutoScalingMutate).await;
    let (want_tg, have_tg) = (ids(&want.target_groups), ids(&have.target_groups));
    let attach = minus(&want_tg, &have_tg);
    if !attach.is_empty() {
        client
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name(id)
            .set_target_group_arns(Some(attach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("AttachLoadBalancerTargetGroups", e))?;
        changes.push(format!("attached to target groups: {}", attach.join(", ")));
    }
    let detach = minus(&have_tg, &want_tg);
    if !detach.is_empty() {
        client
            .detach_load_balancer_target_groups()
            .auto_scaling_group_name(id)
            .set_target_group_arns(Some(detach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("DetachLoadBalancerTargetGroups", e))?;
        changes.push(format!(
            "detached from target groups: {}",
            detach.join(", ")
        ));
    }
    let (want_lb, have_lb) = (ids(&want.load_balancers), ids(&have.load_balancers));
    let attach = minus(&want_lb, &have_lb);
    if !attach.is_empty() {
        client
            .attach_load_balancers()
            .auto_scaling_group_name(id)
            .set_load_balancer_names(Some(attach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("AttachLoadBalancers", e))?;
        changes.push(format!("attached to load balancers: {}", attach.join(", ")));
    }
    let detach = minus(&have_lb, &want_lb);
    if !detach.is_empty() {
        client
            .detach_load_balancers()
            .auto_scaling_group_name(id)
            .set_load_balancer_names(Some(detach.clone()))
            .send()
            .await
            .map_err(|e| cx.err("DetachLoadBalancers", e))?;
        changes.push(format!(
            "detached from load balancers: {}",
            detach.join(", ")
        ));
    }
    Ok(changes)
}

#[async_trait]
impl KindAdapter for AutoScalingGroup {
    fn kind(&self) -> Kind {
        Kind::AutoScalingGroup
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(read(cx, lookup)
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// Lifecycle hooks go in at creation, so they see the first instances
    /// too; the rest of the group's parts are set by converge.
    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: AutoScalingGroupSpec = parse(cx, Kind::AutoScalingGroup, &want.spec)?;
        let name = &want.source_id;
        let mut hooks = vec![];
        for h in &s.lifecycle_hooks {
            hooks.push(hook_spec(cx, h).await?);
        }
        let client = cx.autoscaling(Class::AutoScalingMutate).await;
        with_settings!(
            client
                .create_auto_scaling_group()
                .auto_scaling_group_name(name),
            &s,
            cx
        )
        .set_lifecycle_hook_specification_list((!hooks.is_empty()).then_some(hooks))
        .set_target_group_arns(non_empty(ids(&s.target_groups)))
        .set_load_balancer_names(non_empty(ids(&s.load_balancers)))
        .set_tags(Some(tags(name, &want.tags, &s.propagate_at_launch)))
        .send()
        .await
        .map_err(|e| cx.err("CreateAutoScalingGroup", e))?;
        Ok(name.clone())
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
        let s: AutoScalingGroupSpec = parse(cx, Kind::AutoScalingGroup, &want.spec)?;
        let (raw, have_r) = read(cx, &Lookup::Ids(vec![id.to_string()]))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                crate::AwsError::not_found(
                    cx.name,
                    "DescribeAutoScalingGroups",
                    "AutoScalingGroup.NotFound",
                    id,
                )
            })?;
        let have: AutoScalingGroupSpec = parse(cx, Kind::AutoScalingGroup, &have_r.spec)?;
        let mut changes = converge_settings(cx, id, &s, &have).await?;
        changes.extend(converge_tags(cx, id, want, &s, &raw).await?);
        changes.extend(converge_hooks(cx, id, &s.lifecycle_hooks, &have.lifecycle_hooks).await?);
        changes
            .extend(converge_actions(cx, id, &s.scheduled_actions, &have.scheduled_actions).await?);
        changes.extend(converge_switches(cx, id, &s, &have).await?);
        changes.extend(converge_attachments(cx, id, &s, &have).await?);
        Ok(changes)
    }

    /// ForceDelete terminates the group's instances; the group is gone
    /// once they are, which is waited for (bounded) so that what it uses
    /// (its launch configuration, subnets) can be deleted next.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let r = cx
            .autoscaling(Class::AutoScalingMutate)
            .await
            .delete_auto_scaling_group()
            .auto_scaling_group_name(id)
            .force_delete(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DeleteAutoScalingGroup", e));
        missing_ok(r)?;
        let ids = Lookup::Ids(vec![id.to_string()]);
        wait_for(
            cx,
            format!("auto scaling group {id} to be deleted"),
            DELETE_TIMEOUT,
            || async { Ok(list(cx, &ids).await?.is_empty().then_some(())) },
        )
        .await
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeLifecycleHooks",
            "autoscaling:DescribeScheduledActions",
            "autoscaling:CreateAutoScalingGroup",
            "autoscaling:UpdateAutoScalingGroup",
            "autoscaling:CreateOrUpdateTags",
            "autoscaling:DeleteTags",
            "autoscaling:PutLifecycleHook",
            "autoscaling:DeleteLifecycleHook",
            "autoscaling:PutScheduledUpdateGroupAction",
            "autoscaling:DeleteScheduledAction",
            "autoscaling:SuspendProcesses",
            "autoscaling:ResumeProcesses",
            "autoscaling:EnableMetricsCollection",
            "autoscaling:DisableMetricsCollection",
            "autoscaling:AttachLoadBalancerTargetGroups",
            "autoscaling:DetachLoadBalancerTargetGroups",
            "autoscaling:AttachLoadBalancers",
            "autoscaling:DetachLoadBalancers",
            "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
            "autoscaling:DeleteAutoScalingGroup",
            "ec2:RunInstances",
            "ec2:CreateTags",
            "iam:GetRole",
            "iam:PassRole",
            "iam:CreateServiceLinkedRole",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::types::{SuspendedProcess, TagDescription};

    const NOW: i64 = 1_800_000_000;

    fn raw() -> Raw {
        Raw::builder()
            .auto_scaling_group_name("web")
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id("lt-1")
                    .launch_template_name("web")
                    .version("3")
                    .build(),
            )
            .min_size(1)
            .max_size(4)
            .desired_capacity(2)
            .vpc_zone_identifier("subnet-b,subnet-a")
            .availability_zones("us-east-1a")
            .health_check_type("ELB")
            .health_check_grace_period(120)
            .default_cooldown(300)
            .termination_policies("OldestInstance")
            .termination_policies("Default")
            .service_linked_role_arn("arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
            .target_group_arns("arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/1")
            .suspended_processes(SuspendedProcess::builder().process_name("AZRebalance").build())
            .tags(TagDescription::builder().key("team").value("web").propagate_at_launch(true).build())
            .tags(TagDescription::builder().key("cost").value("1").propagate_at_launch(false).build())
            .tags(TagDescription::builder().key(TAG_SOURCE).value("x").propagate_at_launch(false).build())
            .build()
    }

    #[test]
    fn groups_read_into_references_and_settings() {
        let hook = LifecycleHook::builder()
            .lifecycle_hook_name("drain")
            .lifecycle_transition("autoscaling:EC2_INSTANCE_TERMINATING")
            .heartbeat_timeout(300)
            .default_result("CONTINUE")
            .role_arn("arn:aws:iam::111111111111:role/hooks")
            .notification_target_arn("arn:aws:sqs:us-east-1:111111111111:drain")
            .build();
        let once_past = ScheduledUpdateGroupAction::builder()
            .scheduled_action_name("past")
            .start_time(DateTime::from_secs(NOW - 60))
            .desired_capacity(3)
            .build();
        let once_future = ScheduledUpdateGroupAction::builder()
            .scheduled_action_name("launch-day")
            .start_time(DateTime::from_secs(NOW + 3600))
            .desired_capacity(4)
            .build();
        let nightly = ScheduledUpdateGroupAction::builder()
            .scheduled_action_name("night")
            .recurrence("0 20 * * *")
            .start_time(DateTime::from_secs(NOW + 60))
            .desired_capacity(0)
            .build();
        let r = to_spec(
            &raw(),
            &[hook],
            &[once_past, once_future, nightly],
            "111111111111",
            NOW,
        );
        let s = r.spec;
        assert!(r.skip.is_none());
        assert_eq!(
            s.launch_template,
            Some(LaunchTemplateUse {
                template: Ref::new(Kind::LaunchTemplate, "lt-1"),
                version: Some("3".into())
            })
        );
        assert_eq!(s.subnets[0].id(), "subnet-a");
        assert!(s.zones.is_empty(), "zones come from the subnets");
        assert_eq!(s.termination_policies, vec!["OldestInstance", "Default"]);
        assert_eq!(s.service_linked_role, None);
        assert_eq!(s.propagate_at_launch, vec!["team"]);
        assert_eq!(s.target_groups[0].key.kind, Kind::TargetGroup);
        assert_eq!(
            s.lifecycle_hooks[0].role,
            Some(ArnRef::Ref(Ref::new(Kind::IamRole, "hooks")))
        );
        let names: Vec<&str> = s
            .scheduled_actions
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, vec!["launch-day", "night"]);
        assert!(s.scheduled_actions[0].start_time.is_some());
        assert_eq!(s.scheduled_actions[1].start_time, None, "recurring");
        assert!(r.notes.iter().any(|n| n.contains("drain")));
        assert!(r.notes.iter().any(|n| n.contains("version 3")));
    }

    #[test]
    fn ferry_tags_never_propagate() {
        let mut t = BTreeMap::new();
        t.insert("team".to_string(), "web".to_string());
        t.insert(TAG_SOURCE.to_string(), "arn".to_string());
        let out = tags("web", &t, &["team".to_string(), TAG_SOURCE.to_string()]);
        let p: BTreeMap<&str, bool> = out
            .iter()
            .map(|t| (t.key().unwrap(), t.propagate_at_launch().unwrap()))
            .collect();
        assert!(p["team"]);
        assert!(!p[TAG_SOURCE]);
    }

    #[test]
    fn only_settings_count_as_settings() {
        let a = to_spec(&raw(), &[], &[], "111111111111", NOW).spec;
        let mut b = a.clone();
        b.suspended_processes.clear();
        b.propagate_at_launch.clear();
        assert!(differing_settings(&spec::to_value(&a), &spec::to_value(&b)).is_empty());
        b.desired_capacity = 3;
        b.subnets.pop();
        assert_eq!(
            differing_settings(&spec::to_value(&a), &spec::to_value(&b)),
            vec!["desired_capacity", "subnets"]
        );
    }

    #[test]
    fn odd_groups_are_skipped_with_a_reason() {
        let g = Raw::builder()
            .auto_scaling_group_name("pg")
            .placement_group("cluster-1")
            .build();
        let r = to_spec(&g, &[], &[], "1", NOW);
        assert!(r.skip.unwrap().contains("cluster-1"));
    }
}
