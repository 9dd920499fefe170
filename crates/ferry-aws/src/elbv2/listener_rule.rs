//! Listener rules, keyed by their ARN.
//!
//! ELBv2 lists rules per listener, so a full listing walks every listener of
//! every load balancer; a lookup by ARN asks DescribeRules for those ARNs
//! and finds each rule's listener in its ARN (`listener-rule/<lb>/<listener>/<id>`
//! under `listener/<lb>/<listener>`), which is how AWS builds it. Every
//! listener has a default rule: it is the listener's default actions, which
//! the listener's spec holds, so it is left out here.
//!
//! A rule's priority is unique on its listener and is kept: rules are
//! created with it, and a changed one is set with SetRulePriorities.
//! Conditions and actions go in their typed forms
//! ([`actions`](super::actions)); rules using what those cannot hold
//! (authenticate actions, regex conditions, request transforms) are skipped
//! with the reason.

use super::actions::{read_actions, read_conditions, write_actions, write_conditions};
use super::listener::{all_listeners, created, want_and_have};
use super::{converge_tags, creation_tags, resource, select, tags_of};
use crate::adapter::{by_ids, gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Rule, RulePriorityPair};
use ferry_core::spec::loadbalancing::ListenerRuleSpec;
use ferry_core::spec::to_value;
use ferry_core::{Kind, Ref, Resource};

pub struct ListenerRule;

/// The listener a rule belongs to, from the rule's ARN.
pub fn listener_of(rule_arn: &str) -> Option<String> {
    let (head, tail) = rule_arn.split_once(":listener-rule/")?;
    let (listener, rule) = tail.rsplit_once('/')?;
    (!rule.is_empty() && listener.matches('/').count() >= 3)
        .then(|| format!("{head}:listener/{listener}"))
}

/// Every rule of one listener (default one included). A listener deleted
/// while listing has none.
async fn rules_of(cx: &Side, listener_arn: &str) -> Result<Vec<Rule>> {
    let mut pages = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_rules()
        .listener_arn(listener_arn)
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        match page.map_err(|e| cx.err("DescribeRules", e)) {
            Ok(p) => out.extend(p.rules().iter().cloned()),
            Err(e) if e.is_not_found() => break,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// These rules with their listeners; the ones gone are left out.
async fn by_arn(cx: &Side, arns: &[String]) -> Result<Vec<(String, Rule)>> {
    let rules = by_ids(arns, |arns| async move {
        let mut pages = cx
            .elbv2(Class::ElbRead)
            .await
            .describe_rules()
            .set_rule_arns(Some(arns))
            .into_paginator()
            .send();
        let mut out = vec![];
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| cx.err("DescribeRules", e))?;
            out.extend(page.rules().iter().cloned());
        }
        Ok(out)
    })
    .await?;
    Ok(rules
        .into_iter()
        .filter_map(|r| Some((listener_of(r.rule_arn()?)?, r)))
        .collect())
}

struct Read {
    spec: ListenerRuleSpec,
    skip: Option<String>,
}

/// A rule's spec; `None` for the listener's default rule.
fn to_spec(r: &Rule, listener_arn: &str) -> Option<Read> {
    if r.is_default() == Some(true) {
        return None;
    }
    let priority = r.priority()?.parse::<i32>().ok()?;
    let (conditions, bad_condition) = read_conditions(r.conditions());
    let (actions, bad_action) = read_actions(r.actions());
    let mut skip = bad_action.or(bad_condition);
    if !r.transforms().is_empty() {
        skip.get_or_insert(
            "request transforms (host header and URL rewrites) are not migrated yet".into(),
        );
    }
    let spec = ListenerRuleSpec {
        listener: Ref::new(Kind::Listener, listener_arn),
        priority,
        conditions,
        actions,
    }
    .canonical();
    Some(Read { spec, skip })
}

async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
    let raw: Vec<(String, Rule)> = match lookup {
        Lookup::Ids(arns) => by_arn(cx, arns).await?,
        Lookup::All | Lookup::SourceTag(_) => {
            let mut out = vec![];
            for l in all_listeners(cx).await? {
                let Some(arn) = l.listener_arn() else {
                    continue;
                };
                out.extend(
                    rules_of(cx, arn)
                        .await?
                        .into_iter()
                        .map(|r| (arn.to_string(), r)),
                );
            }
            out
        }
    };
    let read: Vec<(&str, Read)> = raw
        .iter()
        .filter_map(|(listener, r)| Some((r.rule_arn()?, to_spec(r, listener)?)))
        .collect();
    let arns: Vec<String> = read.iter().map(|(arn, _)| arn.to_string()).collect();
    let tags = tags_of(cx, &arns).await?;
    let out = read
        .into_iter()
        .map(|(arn, r)| {
            let mut res = resource(Kind::ListenerRule, arn, to_value(&r.spec), tags.get(arn));
            res.skip = r.skip;
            res
        })
        .collect();
    Ok(select(lookup, out))
}

#[async_trait]
impl KindAdapter for ListenerRule {
    fn kind(&self) -> Kind {
        Kind::ListenerRule
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        read(cx, lookup).await
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: ListenerRuleSpec = parse(cx, Kind::ListenerRule, &want.spec)?;
        let out = cx
            .elbv2(Class::ElbMutate)
            .await
            .create_rule()
            .listener_arn(s.listener.id())
            .priority(s.priority)
            .set_conditions(Some(write_conditions(&s.conditions)))
            .set_actions(Some(write_actions(&s.actions)))
            .set_tags(creation_tags(want))
            .send()
            .await
            .map_err(|e| cx.err("CreateRule", e))?;
        let arn = out.rules().first().and_then(|r| r.rule_arn());
        created(cx, "CreateRule", arn)
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
        let (wanted, have): (ListenerRuleSpec, _) = want_and_have(self, cx, id, want).await?;
        let client = cx.elbv2(Class::ElbMutate).await;
        let mut changes = vec![];
        if wanted.priority != have.priority {
            client
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(id)
                        .priority(wanted.priority)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| cx.err("SetRulePriorities", e))?;
            changes.push(format!("priority {} -> {}", have.priority, wanted.priority));
        }
        let mut fields = vec![];
        if wanted.conditions != have.conditions {
            fields.push("conditions");
        }
        if wanted.actions != have.actions {
            fields.push("actions");
        }
        if !fields.is_empty() {
            client
                .modify_rule()
                .rule_arn(id)
                .set_conditions(Some(write_conditions(&wanted.conditions)))
                .set_actions(Some(write_actions(&wanted.actions)))
                .send()
                .await
                .map_err(|e| cx.err("ModifyRule", e))?;
            changes.push(format!("updated: {}", fields.join(", ")));
        }
        changes.extend(converge_tags(cx, id, want).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.elbv2(Class::ElbMutate)
                .await
                .delete_rule()
                .rule_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteRule", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:ModifyRule",
            "elasticloadbalancing:SetRulePriorities",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:DeleteRule",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, AuthenticateCognitoActionConfig, FixedResponseActionConfig,
        PathPatternConditionConfig, RuleCondition, RuleTransform, TransformTypeEnum,
    };

    const LISTENER: &str =
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
    const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";

    fn fixed() -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code("404")
                    .build(),
            )
            .build()
    }

    fn path(p: &str) -> RuleCondition {
        RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(PathPatternConditionConfig::builder().values(p).build())
            .build()
    }

    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(listener_of(RULE).as_deref(), Some(LISTENER));
        let net = "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/net/n/1/2/3";
        assert_eq!(
            listener_of(net).as_deref(),
            Some("arn:aws:elasticloadbalancing:eu-west-1:1:listener/net/n/1/2")
        );
        assert_eq!(listener_of(LISTENER), None);
        assert_eq!(listener_of("arn:x:listener-rule/app/web/1"), None);
    }

    #[test]
    fn default_rules_are_left_out() {
        let default = Rule::builder()
            .rule_arn(RULE)
            .priority("default")
            .is_default(true)
            .actions(fixed())
            .build();
        assert!(to_spec(&default, LISTENER).is_none());
    }

    #[test]
    fn a_rule_reads_its_priority_conditions_and_actions() {
        let r = Rule::builder()
            .rule_arn(RULE)
            .priority("10")
            .is_default(false)
            .conditions(path("/b"))
            .conditions(
                RuleCondition::builder()
                    .field("host-header")
                    .values("a.example.com")
                    .build(),
            )
            .actions(fixed())
            .build();
        let read = to_spec(&r, LISTENER).unwrap();
        assert!(read.skip.is_none());
        assert_eq!(read.spec.priority, 10);
        assert_eq!(read.spec.listener, Ref::new(Kind::Listener, LISTENER));
        assert_eq!(read.spec.conditions[0].field, "host-header");
        assert_eq!(read.spec.conditions[1].values, vec!["/b"]);
        assert_eq!(read.spec.actions[0].action_type, "fixed-response");
    }

    #[test]
    fn rules_the_specs_cannot_hold_are_skipped_with_the_reason() {
        let auth = Rule::builder()
            .rule_arn(RULE)
            .priority("5")
            .conditions(path("/admin/*"))
            .actions(
                Action::builder()
                    .r#type(ActionTypeEnum::AuthenticateCognito)
                    .order(1)
                    .authenticate_cognito_config(AuthenticateCognitoActionConfig::builder().build())
                    .build(),
            )
            .build();
        let read = to_spec(&auth, LISTENER).unwrap();
        assert_eq!(
            read.skip.as_deref(),
            Some(super::super::actions::AUTHENTICATE)
        );

        let rewrite = Rule::builder()
            .rule_arn(RULE)
            .priority("6")
            .conditions(path("/old/*"))
            .actions(fixed())
            .transforms(
                RuleTransform::builder()
                    .r#type(TransformTypeEnum::UrlRewrite)
                    .build(),
            )
            .build();
        assert!(to_spec(&rewrite, LISTENER)
            .unwrap()
            .skip
            .unwrap()
            .contains("transforms"));
    }
}
