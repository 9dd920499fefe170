//! Listener and rule actions and rule conditions: what AWS reports read
//! into the specs' one canonical form, and written back the way AWS accepts
//! them. Pure, so listeners and rules share it and it is tested here.
//!
//! AWS reports several things twice: a forward action's `TargetGroupArn`
//! and its `ForwardConfig`, a host or path condition's `Values` and its
//! typed config. Reading prefers the richer form and falls back to the
//! other (the emulator echoes only what it was sent). Writing sends a
//! forward to one plain group as the `TargetGroupArn` shorthand (all a
//! Network load balancer accepts) and anything else as a `ForwardConfig`;
//! conditions always go in their typed configs.
//!
//! What the specs cannot hold comes back as `Err(reason)` so the caller
//! skips the listener or rule with that reason rather than copying part of
//! it: authenticate actions (their client secrets are never readable),
//! JWT validation actions, regex conditions and NLB address-type
//! conditions.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig,
    HostHeaderConditionConfig, HttpHeaderConditionConfig, HttpRequestMethodConditionConfig,
    PathPatternConditionConfig, QueryStringConditionConfig, QueryStringKeyValuePair,
    RedirectActionConfig, RedirectActionStatusCodeEnum, RuleCondition as RawCondition,
    SourceIpConditionConfig, TargetGroupStickinessConfig, TargetGroupTuple,
};
use ferry_core::spec::loadbalancing::{
    canonical_actions, ActionSpec, FixedResponseSpec, ForwardSpec, RedirectSpec, RuleCondition,
    WeightedTargetGroup,
};
use ferry_core::{Kind, Ref};

/// Why a listener or rule with an authenticate action is not copied.
pub const AUTHENTICATE: &str =
    "authenticate actions hold client secrets ferry never reads; recreate them in the destination";

/// An empty string is no value (AWS and the emulator report both).
fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(String::from)
}

fn read_forward(a: &Action) -> Result<ForwardSpec, String> {
    let config = a.forward_config();
    let mut target_groups: Vec<WeightedTargetGroup> = config
        .map(|c| c.target_groups())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some(WeightedTargetGroup {
                target_group: Ref::new(Kind::TargetGroup, t.target_group_arn()?),
                weight: t.weight().unwrap_or(1),
            })
        })
        .collect();
    if target_groups.is_empty() {
        if let Some(arn) = text(a.target_group_arn()) {
            target_groups.push(WeightedTargetGroup {
                target_group: Ref::new(Kind::TargetGroup, arn),
                weight: 1,
            });
        }
    }
    if target_groups.is_empty() {
        return Err("a forward action names no target group".into());
    }
    let stickiness_seconds = config
        .and_then(|c| c.target_group_stickiness_config())
        .filter(|s| s.enabled() == Some(true))
        .and_then(|s| s.duration_seconds());
    target_groups.sort();
    Ok(ForwardSpec {
        target_groups,
        stickiness_seconds,
    })
}

/// One action, or why it cannot be migrated.
pub fn read_action(a: &Action) -> Result<ActionSpec, String> {
    let mut spec = ActionSpec {
        action_type: String::new(),
        order: a.order(),
        forward: None,
        redirect: None,
        fixed_response: None,
    };
    match a.r#type() {
        Some(ActionTypeEnum::Forward) => spec.forward = Some(read_forward(a)?),
        Some(ActionTypeEnum::Redirect) => {
            let r = a
                .redirect_config()
                .ok_or("a redirect action has no redirect configuration")?;
            spec.redirect = Some(RedirectSpec {
                protocol: text(r.protocol()),
                port: text(r.port()),
                host: text(r.host()),
                path: text(r.path()),
                query: r.query().map(String::from),
                status_code: r
                    .status_code()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        Some(ActionTypeEnum::FixedResponse) => {
            let f = a
                .fixed_response_config()
                .ok_or("a fixed-response action has no response configuration")?;
            spec.fixed_response = Some(FixedResponseSpec {
                status_code: f.status_code().unwrap_or_default().to_string(),
                content_type: text(f.content_type()),
                message_body: f.message_body().map(String::from),
            });
        }
        Some(ActionTypeEnum::AuthenticateOidc) | Some(ActionTypeEnum::AuthenticateCognito) => {
            return Err(AUTHENTICATE.into())
        }
        Some(other) => return Err(format!("{} actions are not migrated yet", other.as_str())),
        None => return Err("an action has no type".into()),
    }
    spec.action_type = a.r#type().map(|t| t.as_str()).unwrap_or_default().into();
    Ok(spec)
}

/// A list of actions in canonical order, or the first reason one of them
/// cannot be migrated (with the ones that can, for the plan to show).
pub fn read_actions(actions: &[Action]) -> (Vec<ActionSpec>, Option<String>) {
    let mut skip = None;
    let read = actions
        .iter()
        .filter_map(|a| match read_action(a) {
            Ok(s) => Some(s),
            Err(why) => {
                skip.get_or_insert(why);
                None
            }
        })
        .collect();
    (canonical_actions(read), skip)
}

/// The action to send to CreateListener, ModifyListener, CreateRule or
/// ModifyRule.
pub fn write_action(s: &ActionSpec) -> Action {
    let mut b = Action::builder()
        .r#type(ActionTypeEnum::from(s.action_type.as_str()))
        .set_order(s.order);
    if let Some(arn) = s.single_target_group() {
        b = b.target_group_arn(arn.id());
    } else if let Some(f) = &s.forward {
        let groups = f
            .target_groups
            .iter()
            .map(|t| {
                TargetGroupTuple::builder()
                    .target_group_arn(t.target_group.id())
                    .weight(t.weight)
                    .build()
            })
            .collect();
        let stickiness = f.stickiness_seconds.map(|d| {
            TargetGroupStickinessConfig::builder()
                .enabled(true)
                .duration_seconds(d)
                .build()
        });
        b = b.forward_config(
            ForwardActionConfig::builder()
                .set_target_groups(Some(groups))
                .set_target_group_stickiness_config(stickiness)
                .build(),
        );
    }
    if let Some(r) = &s.redirect {
        b = b.redirect_config(
            RedirectActionConfig::builder()
                .set_protocol(r.protocol.clone())
                .set_port(r.port.clone())
                .set_host(r.host.clone())
                .set_path(r.path.clone())
                .set_query(r.query.clone())
                .status_code(RedirectActionStatusCodeEnum::from(r.status_code.as_str()))
                .build(),
        );
    }
    if let Some(f) = &s.fixed_response {
        b = b.fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code(&f.status_code)
                .set_content_type(f.content_type.clone())
                .set_message_body(f.message_body.clone())
                .build(),
        );
    }
    b.build()
}

pub fn write_actions(actions: &[ActionSpec]) -> Vec<Action> {
    actions.iter().map(write_action).collect()
}

/// The typed config's values, or the legacy `Values` when it has none.
fn values_or(typed: Option<&[String]>, legacy: &[String]) -> Vec<String> {
    match typed {
        Some(v) if !v.is_empty() => v.to_vec(),
        _ => legacy.to_vec(),
    }
}

const REGEX: &str = "regex rule conditions are not migrated yet";

/// One condition, or why it cannot be migrated.
pub fn read_condition(c: &RawCondition) -> Result<RuleCondition, String> {
    let field = c.field().unwrap_or_default().to_string();
    let mut header_name = None;
    let regex = !c.regex_values().is_empty();
    let values = match field.as_str() {
        "host-header" => {
            let cfg = c.host_header_config();
            if regex || cfg.is_some_and(|h| !h.regex_values().is_empty()) {
                return Err(REGEX.into());
            }
            values_or(cfg.map(|h| h.values()), c.values())
        }
        "path-pattern" => {
            let cfg = c.path_pattern_config();
            if regex || cfg.is_some_and(|p| !p.regex_values().is_empty()) {
                return Err(REGEX.into());
            }
            values_or(cfg.map(|p| p.values()), c.values())
        }
        "http-request-method" => values_or(
            c.http_request_method_config().map(|m| m.values()),
            c.values(),
        ),
        "source-ip" => {
            let cfg = c.source_ip_config();
            if cfg.is_some_and(|s| s.ip_address_type().is_some()) {
                return Err(
                    "source-ip conditions on the address type (Network load balancers) are not migrated yet"
                        .into(),
                );
            }
            values_or(cfg.map(|s| s.values()), c.values())
        }
        "http-header" => {
            let h = c
                .http_header_config()
                .ok_or("an http-header condition has no header configuration")?;
            if regex || !h.regex_values().is_empty() {
                return Err(REGEX.into());
            }
            header_name = h.http_header_name().map(String::from);
            h.values().to_vec()
        }
        "query-string" => c
            .query_string_config()
            .ok_or("a query-string condition has no query configuration")?
            .values()
            .iter()
            .map(|kv| {
                format!(
                    "{}={}",
                    kv.key().unwrap_or_default(),
                    kv.value().unwrap_or_default()
                )
            })
            .collect(),
        other => return Err(format!("{other:?} rule conditions are not migrated yet")),
    };
    Ok(RuleCondition {
        field,
        header_name,
        values,
    }
    .canonical())
}

/// A rule's conditions sorted, or the first reason one of them cannot be
/// migrated (with the ones that can).
pub fn read_conditions(conditions: &[RawCondition]) -> (Vec<RuleCondition>, Option<String>) {
    let mut skip = None;
    let mut read: Vec<RuleCondition> = conditions
        .iter()
        .filter_map(|c| match read_condition(c) {
            Ok(s) => Some(s),
            Err(why) => {
                skip.get_or_insert(why);
                None
            }
        })
        .collect();
    read.sort();
    (read, skip)
}

/// A `key=value` query condition value: a key cannot hold a bare `=` in a
/// query string, so the first one separates them; `=value` has no key.
fn query_pair(v: &str) -> QueryStringKeyValuePair {
    let (key, value) = v.split_once('=').unwrap_or(("", v));
    QueryStringKeyValuePair::builder()
        .set_key(text(Some(key)))
        .value(value)
        .build()
}

/// The condition to send to CreateRule or ModifyRule, in its typed config.
pub fn write_condition(c: &RuleCondition) -> RawCondition {
    let b = RawCondition::builder().field(&c.field);
    let values = Some(c.values.clone());
    match c.field.as_str() {
        "host-header" => b.host_header_config(
            HostHeaderConditionConfig::builder()
                .set_values(values)
                .build(),
        ),
        "path-pattern" => b.path_pattern_config(
            PathPatternConditionConfig::builder()
                .set_values(values)
                .build(),
        ),
        "http-request-method" => b.http_request_method_config(
            HttpRequestMethodConditionConfig::builder()
                .set_values(values)
                .build(),
        ),
        "source-ip" => b.source_ip_config(
            SourceIpConditionConfig::builder()
                .set_values(values)
                .build(),
        ),
        "http-header" => b.http_header_config(
            HttpHeaderConditionConfig::builder()
                .set_http_header_name(c.header_name.clone())
                .set_values(values)
                .build(),
        ),
        "query-string" => b.query_string_config(
            QueryStringConditionConfig::builder()
                .set_values(Some(c.values.iter().map(|v| query_pair(v)).collect()))
                .build(),
        ),
        // Never read (read_condition refuses other fields); kept as AWS's
        // generic form.
        _ => b.set_values(values),
    }
    .build()
}

pub fn write_conditions(conditions: &[RuleCondition]) -> Vec<RawCondition> {
    conditions.iter().map(write_condition).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        AuthenticateCognitoActionConfig, AuthenticateOidcActionConfig,
    };

    const TG_A: &str = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/a/1";
    const TG_B: &str = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/b/2";

    /// Reads what AWS reported, writes it back, reads that again: the two
    /// readings must be the same spec.
    fn round_trip(a: &Action) -> ActionSpec {
        let spec = read_action(a).expect("readable");
        let again = read_action(&write_action(&spec)).expect("readable again");
        assert_eq!(spec, again);
        spec
    }

    fn tuple(arn: &str, weight: Option<i32>) -> TargetGroupTuple {
        TargetGroupTuple::builder()
            .target_group_arn(arn)
            .set_weight(weight)
            .build()
    }

    #[test]
    fn a_plain_forward_goes_back_as_the_target_group_shorthand() {
        // What AWS reports for a forward to one group: both forms.
        let a = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(1)
            .target_group_arn(TG_A)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(tuple(TG_A, Some(1)))
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(false)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let spec = round_trip(&a);
        let f = spec.forward.as_ref().unwrap();
        assert_eq!(f.target_groups.len(), 1);
        assert_eq!(
            f.target_groups[0].target_group,
            Ref::new(Kind::TargetGroup, TG_A)
        );
        assert_eq!(f.stickiness_seconds, None);
        assert_eq!(spec.order, Some(1));
        let sent = write_action(&spec);
        assert_eq!(sent.target_group_arn(), Some(TG_A));
        assert!(sent.forward_config().is_none());
        assert_eq!(sent.order(), Some(1));
    }

    #[test]
    fn a_forward_read_from_the_shorthand_alone_weighs_one() {
        let a = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(TG_B)
            .build();
        let spec = round_trip(&a);
        assert_eq!(
            spec.forward.unwrap().target_groups,
            vec![WeightedTargetGroup {
                target_group: Ref::new(Kind::TargetGroup, TG_B),
                weight: 1
            }]
        );
    }

    #[test]
    fn weighted_and_sticky_forwards_keep_their_config() {
        let a = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(tuple(TG_B, Some(30)))
                    .target_groups(tuple(TG_A, None))
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(true)
                            .duration_seconds(300)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let spec = round_trip(&a);
        let f = spec.forward.as_ref().unwrap();
        assert_eq!(f.stickiness_seconds, Some(300));
        assert_eq!(f.target_groups[0].target_group.id(), TG_A);
        assert_eq!(f.target_groups[0].weight, 1);
        assert_eq!(f.target_groups[1].weight, 30);
        let sent = write_action(&spec);
        assert_eq!(sent.target_group_arn(), None);
        let cfg = sent.forward_config().unwrap();
        assert_eq!(cfg.target_groups().len(), 2);
        assert_eq!(cfg.target_groups()[1].weight(), Some(30));
        let s = cfg.target_group_stickiness_config().unwrap();
        assert_eq!((s.enabled(), s.duration_seconds()), (Some(true), Some(300)));

        // One group but sticky: not the shorthand either.
        let one_sticky = ActionSpec {
            forward: Some(ForwardSpec {
                target_groups: vec![f.target_groups[0].clone()],
                stickiness_seconds: Some(60),
            }),
            ..spec.clone()
        };
        assert!(write_action(&one_sticky).forward_config().is_some());
    }

    #[test]
    fn disabled_stickiness_is_no_stickiness() {
        let a = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(tuple(TG_A, Some(2)))
                    .target_groups(tuple(TG_B, Some(3)))
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(false)
                            .duration_seconds(3600)
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(round_trip(&a).forward.unwrap().stickiness_seconds, None);
    }

    #[test]
    fn a_forward_without_groups_is_refused() {
        let a = Action::builder().r#type(ActionTypeEnum::Forward).build();
        assert!(read_action(&a).is_err());
    }

    #[test]
    fn redirects_keep_every_field() {
        let a = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .order(2)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .host("#{host}")
                    .path("/new/#{path}")
                    .query("#{query}")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build();
        let spec = round_trip(&a);
        assert_eq!(
            spec.redirect,
            Some(RedirectSpec {
                protocol: Some("HTTPS".into()),
                port: Some("443".into()),
                host: Some("#{host}".into()),
                path: Some("/new/#{path}".into()),
                query: Some("#{query}".into()),
                status_code: "HTTP_301".into(),
            })
        );
        assert_eq!(spec.action_type, "redirect");
        let sent = write_action(&spec);
        assert_eq!(
            sent.redirect_config().unwrap().status_code(),
            Some(&RedirectActionStatusCodeEnum::Http301)
        );
        assert!(sent.target_group_arn().is_none() && sent.forward_config().is_none());
    }

    #[test]
    fn an_empty_redirect_query_stays_empty() {
        // "" is a query that drops the original one; absent keeps it.
        let a = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .query("")
                    .status_code(RedirectActionStatusCodeEnum::Http302)
                    .build(),
            )
            .build();
        let spec = round_trip(&a);
        let r = spec.redirect.unwrap();
        assert_eq!(r.query.as_deref(), Some(""));
        assert_eq!(r.status_code, "HTTP_302");
    }

    #[test]
    fn fixed_responses_keep_every_field() {
        let a = Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code("503")
                    .content_type("application/json")
                    .message_body("{\"down\":true}")
                    .build(),
            )
            .build();
        let spec = round_trip(&a);
        assert_eq!(
            spec.fixed_response,
            Some(FixedResponseSpec {
                status_code: "503".into(),
                content_type: Some("application/json".into()),
                message_body: Some("{\"down\":true}".into()),
            })
        );
        assert_eq!(spec.action_type, "fixed-response");
    }

    #[test]
    fn authenticate_actions_are_refused_with_the_reason() {
        let oidc = Action::builder()
            .r#type(ActionTypeEnum::AuthenticateOidc)
            .order(1)
            .authenticate_oidc_config(
                AuthenticateOidcActionConfig::builder()
                    .issuer("https://idp")
                    .client_id("c")
                    .build(),
            )
            .build();
        let cognito = Action::builder()
            .r#type(ActionTypeEnum::AuthenticateCognito)
            .authenticate_cognito_config(
                AuthenticateCognitoActionConfig::builder()
                    .user_pool_arn("arn:pool")
                    .build(),
            )
            .build();
        assert_eq!(read_action(&oidc), Err(AUTHENTICATE.to_string()));
        assert_eq!(read_action(&cognito), Err(AUTHENTICATE.to_string()));
        let forward = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(2)
            .target_group_arn(TG_A)
            .build();
        let (read, skip) = read_actions(&[forward, oidc]);
        assert_eq!(skip.as_deref(), Some(AUTHENTICATE));
        assert_eq!(read.len(), 1, "the readable ones are kept for the plan");
        let jwt = Action::builder()
            .r#type(ActionTypeEnum::JwtValidation)
            .build();
        assert!(read_action(&jwt).unwrap_err().contains("jwt-validation"));
    }

    #[test]
    fn actions_come_back_in_the_order_aws_performs_them() {
        let fixed = |order| {
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .order(order)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("200")
                        .build(),
                )
                .build()
        };
        let (read, skip) = read_actions(&[fixed(5), fixed(1)]);
        assert!(skip.is_none());
        assert_eq!(read[0].order, Some(1));
    }

    fn condition_round_trip(c: &RawCondition) -> RuleCondition {
        let spec = read_condition(c).expect("readable");
        let again = read_condition(&write_condition(&spec)).expect("readable again");
        assert_eq!(spec, again);
        spec
    }

    #[test]
    fn host_and_path_conditions_read_either_form() {
        // AWS reports both Values and the typed config.
        let both = RawCondition::builder()
            .field("host-header")
            .values("b.example.com")
            .host_header_config(
                HostHeaderConditionConfig::builder()
                    .values("b.example.com")
                    .values("a.example.com")
                    .build(),
            )
            .build();
        let spec = condition_round_trip(&both);
        assert_eq!(spec.values, vec!["a.example.com", "b.example.com"]);
        let sent = write_condition(&spec);
        assert_eq!(sent.host_header_config().unwrap().values().len(), 2);
        assert!(sent.values().is_empty(), "typed config only");

        let legacy = RawCondition::builder()
            .field("path-pattern")
            .values("/api/*")
            .build();
        let spec = condition_round_trip(&legacy);
        assert_eq!(spec.values, vec!["/api/*"]);
        assert_eq!(
            write_condition(&spec)
                .path_pattern_config()
                .unwrap()
                .values(),
            ["/api/*".to_string()]
        );
    }

    #[test]
    fn method_and_source_ip_conditions_round_trip() {
        let method = RawCondition::builder()
            .field("http-request-method")
            .http_request_method_config(
                HttpRequestMethodConditionConfig::builder()
                    .values("POST")
                    .values("GET")
                    .build(),
            )
            .build();
        assert_eq!(condition_round_trip(&method).values, vec!["GET", "POST"]);
        let ip = RawCondition::builder()
            .field("source-ip")
            .source_ip_config(
                SourceIpConditionConfig::builder()
                    .values("10.0.0.0/8")
                    .values("192.0.2.1/32")
                    .build(),
            )
            .build();
        let spec = condition_round_trip(&ip);
        assert_eq!(spec.values, vec!["10.0.0.0/8", "192.0.2.1/32"]);
        assert_eq!(
            write_condition(&spec)
                .source_ip_config()
                .unwrap()
                .values()
                .len(),
            2
        );
    }

    #[test]
    fn header_conditions_keep_the_header_name() {
        let c = RawCondition::builder()
            .field("http-header")
            .http_header_config(
                HttpHeaderConditionConfig::builder()
                    .http_header_name("X-Tenant")
                    .values("blue")
                    .values("green")
                    .build(),
            )
            .build();
        let spec = condition_round_trip(&c);
        assert_eq!(spec.header_name.as_deref(), Some("X-Tenant"));
        assert_eq!(spec.values, vec!["blue", "green"]);
        let sent = write_condition(&spec);
        assert_eq!(
            sent.http_header_config().unwrap().http_header_name(),
            Some("X-Tenant")
        );
    }

    #[test]
    fn query_conditions_are_key_value_pairs() {
        let pair = |k: Option<&str>, v: &str| {
            QueryStringKeyValuePair::builder()
                .set_key(k.map(String::from))
                .value(v)
                .build()
        };
        let c = RawCondition::builder()
            .field("query-string")
            .query_string_config(
                QueryStringConditionConfig::builder()
                    .values(pair(Some("version"), "v2"))
                    .values(pair(None, "debug"))
                    .values(pair(None, "a=b"))
                    .build(),
            )
            .build();
        let spec = condition_round_trip(&c);
        assert_eq!(spec.values, vec!["=a=b", "=debug", "version=v2"]);
        let sent = write_condition(&spec);
        let pairs = sent.query_string_config().unwrap().values();
        assert_eq!(pairs[0].key(), None);
        assert_eq!(pairs[0].value(), Some("a=b"));
        assert_eq!(pairs[2].key(), Some("version"));
        assert_eq!(pairs[2].value(), Some("v2"));
    }

    #[test]
    fn regex_and_unknown_conditions_are_refused() {
        let regex = RawCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .regex_values("^/v[0-9]+/")
                    .build(),
            )
            .build();
        assert_eq!(read_condition(&regex), Err(REGEX.to_string()));
        let unknown = RawCondition::builder()
            .field("tls-version")
            .values("1.3")
            .build();
        let (read, skip) = read_conditions(&[unknown, regex]);
        assert!(read.is_empty());
        assert!(skip.unwrap().contains("tls-version"));
    }
}
