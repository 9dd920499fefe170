//! Auto Scaling: launch configurations, groups and scaling policies, one
//! file each, and what they share: how Auto Scaling says "not found" (a
//! ValidationError, not a NotFound code), the names kept across accounts
//! that `ferry:source` values stand for, scaling policy ARNs (alarms name
//! policies by ARN, and a policy is deleted by group and name), and ARNs of
//! roles and topics in specs.

pub mod group;
pub mod launch_configuration;
pub mod policy;

use crate::adapter::{capped_page_size, ok_when};
use crate::ratelimit::Class;
use crate::{AwsError, Result, Side};
use ferry_core::spec::autoscaling::ArnRef;
use ferry_core::{Kind, Ref};
use std::collections::HashSet;

/// Auto Scaling answers a missing group, configuration, policy or action
/// with `ValidationError` ("AutoScalingGroup name not found - ..."), not a
/// NotFound code.
pub fn is_missing(e: &AwsError) -> bool {
    if e.is_not_found() {
        return true;
    }
    match e {
        AwsError::Api {
            code: Some(c),
            message,
            ..
        } if c == "ValidationError" => {
            let m = message.to_ascii_lowercase();
            m.contains("not found") || m.contains("does not exist")
        }
        _ => false,
    }
}

/// Treats "already gone", as Auto Scaling says it, as done (the toolkit's
/// [`crate::adapter::gone_ok`] for this service).
pub fn missing_ok(r: Result<()>) -> Result<()> {
    ok_when(r, is_missing)
}

/// The source ID inside a `ferry:source` value (`arn:...:<arn type>/<id>`,
/// see `SideInfo::arn`): kinds here keep their names, so the name is what
/// to look for in the destination. Scaling policies are keyed by their ARN,
/// which is then the whole value.
pub fn id_in_source_arn(arn: &str, kind: Kind) -> Option<&str> {
    if kind == Kind::ScalingPolicy && policy_arn_parts(arn).is_some() {
        return Some(arn);
    }
    arn.split_once(&format!(":{}/", kind.arn_type()))
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

/// The group and policy name of a scaling policy ARN
/// (`...:scalingPolicy:<uuid>:autoScalingGroupName/<group>:policyName/<name>`).
pub fn policy_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let (_, rest) = arn.split_once(":autoScalingGroupName/")?;
    let (group, name) = rest.rsplit_once(":policyName/")?;
    (!group.is_empty() && !name.is_empty()).then_some((group, name))
}

/// How a spec holds an ARN a group points at: a role of this account is
/// `iam_role/<name>` (migrated, found again by name), an SNS topic is
/// `sns_topic/<arn>` (not migrated yet: the plan reports it), anything else
/// (another account's role, a queue) is kept as it is.
pub fn arn_ref(arn: &str, account: &str) -> ArnRef {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", _, acct, res] if *acct == account && res.starts_with("role/") => {
            ArnRef::Ref(Ref::new(
                Kind::IamRole,
                res.rsplit('/').next().unwrap_or(res),
            ))
        }
        ["arn", _, "sns", ..] => ArnRef::Ref(Ref::new(Kind::SnsTopic, arn)),
        _ => ArnRef::Arn(arn.to_string()),
    }
}

/// The ARN to send for a (translated) [`ArnRef`]: roles are looked up, as
/// their path is not part of the reference.
pub async fn arn_of(cx: &Side, r: &ArnRef) -> Result<String> {
    match r {
        ArnRef::Arn(a) => Ok(a.clone()),
        ArnRef::Ref(r) if r.key.kind == Kind::IamRole => {
            let out = cx
                .iam(Class::IamRead)
                .await
                .get_role()
                .role_name(r.id())
                .send()
                .await
                .map_err(|e| cx.err("GetRole", e))?;
            Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
        }
        ArnRef::Ref(r) => Ok(r.id().to_string()),
    }
}

/// Every instance some auto scaling group holds. Load balancing leaves them
/// out of registered targets on both sides: each group registers its own
/// instances through its attachment, so ferry never registers them.
pub async fn group_instances(cx: &Side) -> Result<HashSet<String>> {
    let client = cx.autoscaling(Class::AutoScalingRead).await;
    let mut pages = client
        .describe_auto_scaling_groups()
        .set_max_records(capped_page_size(100))
        .into_paginator()
        .send();
    let mut out = HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("DescribeAutoScalingGroups", e))?;
        for g in page.auto_scaling_groups() {
            out.extend(
                g.instances()
                    .iter()
                    .filter_map(|i| i.instance_id().map(String::from)),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:c322761b-3172:autoScalingGroupName/web:policyName/scale-out";

    #[test]
    fn policy_arns_name_their_group_and_policy() {
        assert_eq!(policy_arn_parts(POLICY), Some(("web", "scale-out")));
        assert_eq!(policy_arn_parts("arn:aws:sns:us-east-1:1:t"), None);
        // The ferry:source value of a policy is the source policy ARN.
        assert_eq!(id_in_source_arn(POLICY, Kind::ScalingPolicy), Some(POLICY));
        assert_eq!(
            policy_arn_parts(id_in_source_arn(POLICY, Kind::ScalingPolicy).unwrap()),
            Some(("web", "scale-out"))
        );
    }

    #[test]
    fn source_arns_give_back_kept_names() {
        assert_eq!(
            id_in_source_arn(
                "arn:aws:autoscaling:us-east-1:1:launchConfiguration/web-v2",
                Kind::LaunchConfiguration
            ),
            Some("web-v2")
        );
        assert_eq!(
            id_in_source_arn(
                "arn:aws:cloudwatch:us-east-1:1:alarm/cpu/high",
                Kind::MetricAlarm
            ),
            Some("cpu/high")
        );
        assert_eq!(
            id_in_source_arn("arn:aws:ec2:us-east-1:1:vpc/vpc-1", Kind::MetricAlarm),
            None
        );
    }

    #[test]
    fn roles_of_this_account_are_references() {
        let acct = "111111111111";
        assert_eq!(
            arn_ref("arn:aws:iam::111111111111:role/hooks/notify", acct),
            ArnRef::Ref(Ref::new(Kind::IamRole, "notify"))
        );
        assert_eq!(
            arn_ref("arn:aws:iam::999999999999:role/notify", acct),
            ArnRef::Arn("arn:aws:iam::999999999999:role/notify".into())
        );
        assert_eq!(
            arn_ref("arn:aws:sns:us-east-1:111111111111:ops", acct),
            ArnRef::Ref(Ref::new(
                Kind::SnsTopic,
                "arn:aws:sns:us-east-1:111111111111:ops"
            ))
        );
        assert!(matches!(
            arn_ref("arn:aws:sqs:us-east-1:111111111111:q", acct),
            ArnRef::Arn(_)
        ));
    }

    #[test]
    fn validation_errors_saying_not_found_are_missing() {
        let api = |code: &str, message: &str| AwsError::Api {
            side: "destination",
            op: "DeleteAutoScalingGroup",
            code: Some(code.into()),
            message: message.into(),
        };
        assert!(is_missing(&api(
            "ValidationError",
            "AutoScalingGroup name not found - AutoScalingGroup 'x' not found"
        )));
        assert!(is_missing(&api("ResourceNotFound", "gone")));
        assert!(!is_missing(&api("ValidationError", "MaxSize is too small")));
        assert!(!is_missing(&api("ResourceInUse", "in use")));
    }
}
