//! Scaling policies (simple, step and target tracking). A policy's ID is
//! its ARN, because alarms name policies by ARN in their actions: an alarm
//! then references `scaling_policy/<arn>` and reaches the destination's ARN
//! through the mapping.
//!
//! Policies take no tags. The group's name is kept and a policy's name is
//! unique within its group, so the destination policy made for a source
//! policy is the one with the same group and name (how a `ferry:source`
//! lookup finds it). PutScalingPolicy both creates and updates in place.
//! Predictive scaling policies and target tracking on metric math are
//! skipped with a reason.

use super::{id_in_source_arn, is_missing, missing_ok, policy_arn_parts};
use crate::adapter::{capped_page_size, one, parse, text};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_autoscaling::types::{
    CustomizedMetricSpecification, MetricDimension as RawDimension, MetricStatistic, MetricType,
    PredefinedMetricSpecification, ScalingPolicy as Raw, StepAdjustment,
    TargetTrackingConfiguration,
};
use ferry_core::resource::SideInfo;
use ferry_core::spec::autoscaling::{
    CustomizedMetric, MetricDimension, PredefinedMetric, ResourceLabel, ScalingPolicySpec,
    StepAdjustmentSpec, TargetTrackingSpec,
};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Ref, Resource};

pub struct ScalingPolicy;

/// Policies of one group (all groups: `None`), optionally by name.
async fn list(cx: &Side, group: Option<&str>, name: Option<&str>) -> Result<Vec<Raw>> {
    let client = cx.autoscaling(Class::AutoScalingRead).await;
    let mut pages = client
        .describe_policies()
        .set_auto_scaling_group_name(group.map(String::from))
        .set_policy_names(name.map(|n| vec![n.to_string()]))
        .set_max_records(capped_page_size(50))
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.scaling_policies().iter().cloned()),
            Err(e) => {
                let e = cx.err("DescribePolicies", e);
                // The group is gone, and its policies with it.
                if group.is_some() && is_missing(&e) {
                    return Ok(vec![]);
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

fn target_tracking(
    t: &TargetTrackingConfiguration,
    side: &SideInfo,
) -> Result<TargetTrackingSpec, String> {
    let customized_metric = match t.customized_metric_specification() {
        Some(c) if !c.metrics().is_empty() => {
            return Err("target tracking on metric math is not migrated yet".into())
        }
        Some(c) => Some(CustomizedMetric {
            namespace: c.namespace().unwrap_or_default().to_string(),
            metric_name: c.metric_name().unwrap_or_default().to_string(),
            statistic: c.statistic().map(|s| s.as_str().to_string()),
            unit: text(c.unit()),
            dimensions: c
                .dimensions()
                .iter()
                .map(|d| {
                    MetricDimension::new(
                        d.name().unwrap_or_default(),
                        d.value().unwrap_or_default(),
                        side,
                    )
                })
                .collect(),
        }),
        None => None,
    };
    let predefined_metric = match t.predefined_metric_specification() {
        Some(p) => Some(PredefinedMetric {
            metric_type: p
                .predefined_metric_type()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            resource_label: match p.resource_label().filter(|l| !l.is_empty()) {
                Some(l) => Some(ResourceLabel::parse(l, side).ok_or_else(|| {
                    format!("resource label {l:?} names no load balancer and target group")
                })?),
                None => None,
            },
        }),
        None => None,
    };
    Ok(TargetTrackingSpec {
        predefined_metric,
        customized_metric,
        target_value: t.target_value().unwrap_or_default(),
        disable_scale_in: t.disable_scale_in().unwrap_or(false),
    })
}

/// A policy's spec, or why it cannot be migrated.
fn to_spec(p: &Raw, side: &SideInfo) -> (ScalingPolicySpec, Option<String>) {
    let policy_type = p.policy_type().unwrap_or("SimpleScaling").to_string();
    let mut skip = None;
    if policy_type == "PredictiveScaling" {
        skip = Some("predictive scaling policies are not migrated yet".to_string());
    }
    let target = match p
        .target_tracking_configuration()
        .map(|t| target_tracking(t, side))
    {
        Some(Ok(t)) => Some(t),
        Some(Err(why)) => {
            skip = Some(why);
            None
        }
        None => None,
    };
    let s = ScalingPolicySpec {
        group: Ref::new(
            Kind::AutoScalingGroup,
            p.auto_scaling_group_name().unwrap_or_default(),
        ),
        policy_name: p.policy_name().unwrap_or_default().to_string(),
        policy_type,
        adjustment_type: text(p.adjustment_type()),
        scaling_adjustment: p.scaling_adjustment(),
        cooldown: p.cooldown(),
        min_adjustment_magnitude: p.min_adjustment_magnitude(),
        step_adjustments: p
            .step_adjustments()
            .iter()
            .map(|a| StepAdjustmentSpec {
                lower_bound: a.metric_interval_lower_bound(),
                upper_bound: a.metric_interval_upper_bound(),
                scaling_adjustment: a.scaling_adjustment().unwrap_or_default(),
            })
            .collect(),
        metric_aggregation_type: text(p.metric_aggregation_type()),
        estimated_instance_warmup: p.estimated_instance_warmup(),
        target_tracking: target,
        enabled: p.enabled().unwrap_or(true),
    }
    .canonical();
    (s, skip)
}

fn resources(raw: &[Raw], side: &SideInfo) -> Vec<Resource> {
    raw.iter()
        .map(|p| {
            let (s, skip) = to_spec(p, side);
            let mut r = Resource::with_tags(
                Key::new(Kind::ScalingPolicy, p.policy_arn().unwrap_or_default()),
                spec::to_value(&s),
                [],
            );
            r.name = Some(s.policy_name.clone());
            r.skip = skip;
            r
        })
        .collect()
}

fn tracking_config(t: &TargetTrackingSpec) -> TargetTrackingConfiguration {
    TargetTrackingConfiguration::builder()
        .set_predefined_metric_specification(t.predefined_metric.as_ref().map(|p| {
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::from(p.metric_type.as_str()))
                .set_resource_label(p.resource_label.as_ref().map(ResourceLabel::label))
                .build()
        }))
        .set_customized_metric_specification(t.customized_metric.as_ref().map(|c| {
            CustomizedMetricSpecification::builder()
                .namespace(&c.namespace)
                .metric_name(&c.metric_name)
                .set_statistic(c.statistic.as_deref().map(MetricStatistic::from))
                .set_unit(c.unit.clone())
                .set_dimensions(Some(
                    c.dimensions
                        .iter()
                        .map(|d| {
                            RawDimension::builder()
                                .name(&d.name)
                                .value(d.value())
                                .build()
                        })
                        .collect(),
                ))
                .build()
        }))
        .target_value(t.target_value)
        .disable_scale_in(t.disable_scale_in)
        .build()
}

/// Creates or updates the policy; returns its ARN.
async fn put(cx: &Side, s: &ScalingPolicySpec) -> Result<String> {
    let steps: Vec<StepAdjustment> = s
        .step_adjustments
        .iter()
        .map(|a| {
            StepAdjustment::builder()
                .set_metric_interval_lower_bound(a.lower_bound)
                .set_metric_interval_upper_bound(a.upper_bound)
                .scaling_adjustment(a.scaling_adjustment)
                .build()
        })
        .collect();
    let out = cx
        .autoscaling(Class::AutoScalingMutate)
        .await
        .put_scaling_policy()
        .auto_scaling_group_name(s.group.id())
        .policy_name(&s.policy_name)
        .policy_type(&s.policy_type)
        .set_adjustment_type(s.adjustment_type.clone())
        .set_scaling_adjustment(s.scaling_adjustment)
        .set_cooldown(s.cooldown)
        .set_min_adjustment_magnitude(s.min_adjustment_magnitude)
        .set_step_adjustments((!steps.is_empty()).then_some(steps))
        .set_metric_aggregation_type(s.metric_aggregation_type.clone())
        .set_estimated_instance_warmup(s.estimated_instance_warmup)
        .set_target_tracking_configuration(s.target_tracking.as_ref().map(tracking_config))
        .enabled(s.enabled)
        .send()
        .await
        .map_err(|e| cx.err("PutScalingPolicy", e))?;
    if let Some(arn) = out.policy_arn() {
        return Ok(arn.to_string());
    }
    // Some implementations (the emulator) answer without the ARN: the
    // policy is found by its group and name.
    list(cx, Some(s.group.id()), Some(&s.policy_name))
        .await?
        .iter()
        .find_map(|p| p.policy_arn().map(String::from))
        .ok_or_else(|| cx.invalid("PutScalingPolicy returned no policy ARN"))
}

#[async_trait]
impl KindAdapter for ScalingPolicy {
    fn kind(&self) -> Kind {
        Kind::ScalingPolicy
    }

    /// IDs are ARNs, read by group and name. A SourceTag lookup finds the
    /// policy of the same group and name (the value wraps the source ARN).
    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let raw = match lookup {
            Lookup::All => list(cx, None, None).await?,
            Lookup::Ids(arns) => {
                let mut out = vec![];
                for arn in arns {
                    let Some((group, name)) = policy_arn_parts(arn) else {
                        continue;
                    };
                    out.extend(
                        list(cx, Some(group), Some(name))
                            .await?
                            .into_iter()
                            .filter(|p| p.policy_arn() == Some(arn.as_str())),
                    );
                }
                out
            }
            Lookup::SourceTag(v) => {
                match id_in_source_arn(v, Kind::ScalingPolicy).and_then(policy_arn_parts) {
                    Some((group, name)) => list(cx, Some(group), Some(name)).await?,
                    None => vec![],
                }
            }
        };
        Ok(resources(&raw, &cx.info))
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: ScalingPolicySpec = parse(cx, Kind::ScalingPolicy, &want.spec)?;
        put(cx, &s).await
    }

    /// PutScalingPolicy again when anything differs (it updates in place
    /// and keeps the ARN).
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
        let mut fields: Vec<String> =
            ferry_core::diff::diff_spec(Kind::ScalingPolicy, &want.spec, &have.spec)
                .into_iter()
                .map(|d| d.path)
                .collect();
        if fields.is_empty() {
            return Ok(vec![]);
        }
        fields.dedup();
        let s: ScalingPolicySpec = parse(cx, Kind::ScalingPolicy, &want.spec)?;
        put(cx, &s).await?;
        Ok(vec![format!("updated: {}", fields.join(", "))])
    }

    /// Gone with its group is gone too.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let (group, name) = policy_arn_parts(id)
            .ok_or_else(|| cx.invalid(format!("{id} is not a scaling policy ARN")))?;
        missing_ok(
            cx.autoscaling(Class::AutoScalingMutate)
                .await
                .delete_policy()
                .auto_scaling_group_name(group)
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeletePolicy", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "autoscaling:DescribePolicies",
            "autoscaling:PutScalingPolicy",
            "autoscaling:DeletePolicy",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::types::PredefinedMetricSpecification;

    fn side() -> SideInfo {
        SideInfo {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        }
    }

    const ARN: &str = "arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:u:autoScalingGroupName/web:policyName/cpu";

    #[test]
    fn target_tracking_policies_read_and_write_the_same() {
        let p = Raw::builder()
            .auto_scaling_group_name("web")
            .policy_name("cpu")
            .policy_arn(ARN)
            .policy_type("TargetTrackingScaling")
            .target_tracking_configuration(
                TargetTrackingConfiguration::builder()
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type(MetricType::AsgAverageCpuUtilization)
                            .build(),
                    )
                    .target_value(50.0)
                    .build(),
            )
            .build();
        let (s, skip) = to_spec(&p, &side());
        assert!(skip.is_none());
        assert_eq!(s.group, Ref::new(Kind::AutoScalingGroup, "web"));
        let t = s.target_tracking.as_ref().unwrap();
        assert_eq!(
            t.predefined_metric.as_ref().unwrap().metric_type,
            "ASGAverageCPUUtilization"
        );
        let again = tracking_config(t);
        assert_eq!(target_tracking(&again, &side()).unwrap(), *t);
        let r = resources(&[p], &side());
        assert_eq!(r[0].key.id, ARN);
        assert_eq!(r[0].name.as_deref(), Some("cpu"));
    }

    #[test]
    fn custom_metrics_name_their_group_and_alb_labels_their_balancer() {
        let t = TargetTrackingConfiguration::builder()
            .customized_metric_specification(
                CustomizedMetricSpecification::builder()
                    .namespace("App")
                    .metric_name("Queue")
                    .dimensions(
                        RawDimension::builder()
                            .name("AutoScalingGroupName")
                            .value("web")
                            .build(),
                    )
                    .statistic(MetricStatistic::Average)
                    .build(),
            )
            .predefined_metric_specification(
                PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
                    .resource_label("app/lb/1/targetgroup/tg/2")
                    .build(),
            )
            .target_value(10.0)
            .build();
        let s = target_tracking(&t, &side()).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        let refs = ferry_core::resource::refs_in(&v);
        assert!(refs.contains(&Key::new(Kind::AutoScalingGroup, "web")));
        let prefix = "arn:aws:elasticloadbalancing:us-east-1:111111111111:";
        assert!(refs.contains(&Key::new(
            Kind::TargetGroup,
            format!("{prefix}targetgroup/tg/2")
        )));
        assert!(refs.contains(&Key::new(
            Kind::LoadBalancer,
            format!("{prefix}loadbalancer/app/lb/1")
        )));
        assert_eq!(
            tracking_config(&s)
                .predefined_metric_specification()
                .and_then(|p| p.resource_label()),
            Some("app/lb/1/targetgroup/tg/2")
        );
    }

    #[test]
    fn predictive_policies_are_skipped() {
        let p = Raw::builder()
            .auto_scaling_group_name("web")
            .policy_name("forecast")
            .policy_type("PredictiveScaling")
            .build();
        assert!(to_spec(&p, &side()).1.unwrap().contains("predictive"));
    }
}
