//! Metric alarms. An alarm keeps its name in the destination and carries
//! ferry's tags (TagResource by alarm ARN). PutMetricAlarm both creates and
//! replaces an alarm, so converge puts it again when it differs; tags given
//! to PutMetricAlarm only count at creation, so they are reconciled apart.
//!
//! What an alarm names follows it through the mapping: dimensions that name
//! a group, instance, volume or image are references (an alarm on something
//! not migrated is then a plan conflict, and a note says which dimension),
//! scaling policy actions name the destination's policy ARN, and EC2
//! actions are made again for the destination region. SNS actions are
//! references to a kind not migrated yet (the plan reports the alarm as a
//! conflict rather than copying it without its notifications); any other
//! action, metric math alarms, and the alarms target tracking policies make
//! for themselves are skipped with a reason.

use crate::adapter::{capped_page_size, parse, tags, text};
use crate::autoscaling::{id_in_source_arn, missing_ok};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricAlarm as Raw, StandardUnit, Statistic, Tag,
};
use ferry_core::resource::SideInfo;
use ferry_core::spec::autoscaling::{
    AlarmAction, DimensionValue, MetricAlarmSpec, MetricDimension,
};
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Resource};
use std::collections::BTreeMap;

pub struct MetricAlarm;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<Raw>> {
    let batches: Vec<Option<Vec<String>>> = match lookup {
        Lookup::All => vec![None],
        Lookup::Ids(names) => names.chunks(100).map(|c| Some(c.to_vec())).collect(),
        Lookup::SourceTag(v) => match id_in_source_arn(v, Kind::MetricAlarm) {
            Some(name) => vec![Some(vec![name.to_string()])],
            None => vec![],
        },
    };
    let client = cx.cloudwatch(Class::CloudWatchRead).await;
    let mut out = vec![];
    for names in batches {
        // Without AlarmTypes only metric alarms are returned.
        let mut pages = client
            .describe_alarms()
            .set_alarm_names(names)
            .set_max_records(capped_page_size(100))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(|e| cx.err("DescribeAlarms", e))?
                    .metric_alarms()
                    .iter()
                    .cloned(),
            );
        }
    }
    Ok(out)
}

async fn tags(cx: &Side, arn: &str) -> Result<Vec<(String, String)>> {
    match cx
        .cloudwatch(Class::CloudWatchRead)
        .await
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect()),
        Err(e) => {
            let e = cx.err("ListTagsForResource", e);
            if e.is_not_found() {
                Ok(vec![])
            } else {
                Err(e)
            }
        }
    }
}

/// An alarm's spec, what the operator should know, and why it cannot be
/// migrated (if so).
struct Read {
    spec: MetricAlarmSpec,
    notes: Vec<String>,
    skip: Option<String>,
}

fn to_spec(a: &Raw, side: &SideInfo) -> Read {
    let mut skip = None;
    let mut actions = |arns: &[String]| -> Vec<AlarmAction> {
        arns.iter()
            .filter_map(|arn| match AlarmAction::from_arn(arn) {
                Ok(x) => Some(x),
                Err(why) => {
                    skip.get_or_insert(why);
                    None
                }
            })
            .collect()
    };
    let alarm_actions = actions(a.alarm_actions());
    let ok_actions = actions(a.ok_actions());
    let insufficient_data_actions = actions(a.insufficient_data_actions());
    let name = a.alarm_name().unwrap_or_default();
    let scales = alarm_actions
        .iter()
        .any(|x| matches!(x, AlarmAction::Ref(r) if r.key.kind == Kind::ScalingPolicy));
    if name.starts_with("TargetTracking-") && scales {
        skip = Some(
            "made by a target tracking scaling policy, which makes it again in the destination"
                .into(),
        );
    }
    if !a.metrics().is_empty() {
        skip = Some("metric math alarms are not migrated yet".into());
    }
    let dimensions: Vec<MetricDimension> = a
        .dimensions()
        .iter()
        .map(|d| {
            MetricDimension::new(
                d.name().unwrap_or_default(),
                d.value().unwrap_or_default(),
                side,
            )
        })
        .collect();
    let notes = dimensions
        .iter()
        .filter_map(|d| match &d.value {
            DimensionValue::Ref(r) => Some(format!(
                "dimension {} names {}: the destination's alarm watches its counterpart",
                d.name, r.key
            )),
            DimensionValue::Literal(_) => None,
        })
        .collect();
    let spec = MetricAlarmSpec {
        namespace: a.namespace().unwrap_or_default().to_string(),
        metric_name: a.metric_name().unwrap_or_default().to_string(),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        extended_statistic: text(a.extended_statistic()),
        dimensions,
        period: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold().unwrap_or_default(),
        comparison_operator: a
            .comparison_operator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        treat_missing_data: text(a.treat_missing_data()),
        evaluate_low_sample_count_percentile: text(a.evaluate_low_sample_count_percentile()),
        unit: a.unit().map(|u| u.as_str().to_string()),
        description: text(a.alarm_description()),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        alarm_actions,
        ok_actions,
        insufficient_data_actions,
    }
    .canonical();
    Read { spec, notes, skip }
}

/// The alarms with their tags.
async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<(String, Resource)>> {
    let mut out = vec![];
    for a in list(cx, lookup).await? {
        let arn = a.alarm_arn().unwrap_or_default().to_string();
        let tags = tags(cx, &arn).await?;
        let r = to_spec(&a, &cx.info);
        let mut res = Resource::with_tags(
            Key::new(Kind::MetricAlarm, a.alarm_name().unwrap_or_default()),
            spec::to_value(&r.spec),
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        res.skip = r.skip;
        res.notes = r.notes;
        if let Lookup::SourceTag(v) = lookup {
            if res.ferry_source.as_deref() != Some(v.as_str()) {
                continue;
            }
        }
        out.push((arn, res));
    }
    Ok(out)
}

fn cw_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Creates or replaces the alarm (tags count only when it is new).
async fn put(cx: &Side, name: &str, s: &MetricAlarmSpec, tags: Option<Vec<Tag>>) -> Result<()> {
    let arns = |l: &[AlarmAction]| -> Option<Vec<String>> {
        Some(
            l.iter()
                .map(|x| x.arn(&cx.info.partition, &cx.info.region))
                .collect(),
        )
    };
    cx.cloudwatch(Class::CloudWatchMutate)
        .await
        .put_metric_alarm()
        .alarm_name(name)
        .set_alarm_description(s.description.clone())
        .actions_enabled(s.actions_enabled)
        .set_alarm_actions(arns(&s.alarm_actions))
        .set_ok_actions(arns(&s.ok_actions))
        .set_insufficient_data_actions(arns(&s.insufficient_data_actions))
        .namespace(&s.namespace)
        .metric_name(&s.metric_name)
        .set_statistic(s.statistic.as_deref().map(Statistic::from))
        .set_extended_statistic(s.extended_statistic.clone())
        .set_dimensions(Some(
            s.dimensions
                .iter()
                .map(|d| Dimension::builder().name(&d.name).value(d.value()).build())
                .collect(),
        ))
        .period(s.period)
        .evaluation_periods(s.evaluation_periods)
        .set_datapoints_to_alarm(s.datapoints_to_alarm)
        .threshold(s.threshold)
        .comparison_operator(ComparisonOperator::from(s.comparison_operator.as_str()))
        .set_treat_missing_data(s.treat_missing_data.clone())
        .set_evaluate_low_sample_count_percentile(s.evaluate_low_sample_count_percentile.clone())
        .set_unit(s.unit.as_deref().map(StandardUnit::from))
        .set_tags(tags.filter(|t| !t.is_empty()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("PutMetricAlarm", e))
}

#[async_trait]
impl KindAdapter for MetricAlarm {
    fn kind(&self) -> Kind {
        Kind::MetricAlarm
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(read(cx, lookup)
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: MetricAlarmSpec = parse(cx, Kind::MetricAlarm, &want.spec)?;
        put(cx, &want.source_id, &s, Some(cw_tags(&want.tags))).await?;
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
        let (arn, have) = read(cx, &Lookup::Ids(vec![id.to_string()]))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                crate::AwsError::not_found(cx.name, "DescribeAlarms", "ResourceNotFound", id)
            })?;
        let mut changes = vec![];
        let mut fields: Vec<String> =
            ferry_core::diff::diff_spec(Kind::MetricAlarm, &want.spec, &have.spec)
                .into_iter()
                .map(|d| d.path)
                .collect();
        if !fields.is_empty() {
            fields.dedup();
            let s: MetricAlarmSpec = parse(cx, Kind::MetricAlarm, &want.spec)?;
            put(cx, id, &s, None).await?;
            changes.push(format!("updated: {}", fields.join(", ")));
        }
        let diff = tags::changes_to(want, &have);
        let client = cx.cloudwatch(Class::CloudWatchMutate).await;
        let arn = arn.as_str();
        let lines = tags::send(
            &diff,
            |set| async move {
                client
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(cw_tags(&set)))
                    .send()
                    .await
                    .map_err(|e| cx.err("TagResource", e))
            },
            |keys| async move {
                client
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(keys))
                    .send()
                    .await
                    .map_err(|e| cx.err("UntagResource", e))
            },
        )
        .await?;
        changes.extend(lines);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        missing_ok(
            cx.cloudwatch(Class::CloudWatchMutate)
                .await
                .delete_alarms()
                .alarm_names(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteAlarms", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
            "cloudwatch:DeleteAlarms",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::MetricDataQuery;
    use ferry_core::Ref;

    fn side() -> SideInfo {
        SideInfo {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        }
    }

    const POLICY: &str = "arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:u:autoScalingGroupName/web:policyName/up";

    fn alarm(name: &str) -> aws_sdk_cloudwatch::types::builders::MetricAlarmBuilder {
        Raw::builder()
            .alarm_name(name)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .dimensions(
                Dimension::builder()
                    .name("AutoScalingGroupName")
                    .value("web")
                    .build(),
            )
            .period(60)
            .evaluation_periods(2)
            .threshold(70.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .actions_enabled(true)
    }

    #[test]
    fn alarms_follow_groups_and_policies() {
        let a = alarm("cpu-high")
            .alarm_actions(POLICY)
            .ok_actions("arn:aws:automate:us-east-1:ec2:stop")
            .build();
        let r = to_spec(&a, &side());
        assert!(r.skip.is_none());
        assert_eq!(
            r.spec.alarm_actions,
            vec![AlarmAction::Ref(Ref::new(Kind::ScalingPolicy, POLICY))]
        );
        assert_eq!(
            r.spec.ok_actions,
            vec![AlarmAction::Ec2 {
                ec2_action: "stop".into()
            }]
        );
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].contains("AutoScalingGroupName"));
        let refs = ferry_core::resource::refs_in(&spec::to_value(&r.spec));
        assert!(refs.contains(&Key::new(Kind::AutoScalingGroup, "web")));
        assert!(refs.contains(&Key::new(Kind::ScalingPolicy, POLICY)));
    }

    #[test]
    fn alarms_ferry_cannot_carry_are_skipped() {
        let tt = alarm("TargetTracking-web-AlarmHigh-1234")
            .alarm_actions(POLICY)
            .build();
        assert!(to_spec(&tt, &side())
            .skip
            .unwrap()
            .contains("target tracking"));
        let math = alarm("math")
            .metrics(MetricDataQuery::builder().id("m1").build())
            .build();
        assert!(to_spec(&math, &side())
            .skip
            .unwrap()
            .contains("metric math"));
        let lambda = alarm("fn")
            .alarm_actions("arn:aws:lambda:us-east-1:111111111111:function:f")
            .build();
        assert!(to_spec(&lambda, &side()).skip.unwrap().contains("lambda"));
        let sns = alarm("notify")
            .alarm_actions("arn:aws:sns:us-east-1:111111111111:ops")
            .build();
        assert!(
            to_spec(&sns, &side()).skip.is_none(),
            "a conflict, not a skip"
        );
    }
}
