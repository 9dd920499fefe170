//! Typed specs of load balancing: certificates (mapped, never created),
//! Application / Network load balancers with their target groups, listeners
//! and rules, and classic load balancers.
//!
//! Load balancers, target groups, listeners and rules are keyed by their
//! ARN; classic load balancers by their name, which the destination keeps.
//! Everything a spec names is a [`Ref`]: subnets, security groups, Elastic
//! IPs, instances, target groups, load balancers and certificates, so the
//! planner orders creation and the translator rewrites every ARN.
//!
//! AWS reports some settings twice (a forward action's `TargetGroupArn` and
//! its `ForwardConfig`, a rule condition's `Values` and its typed config);
//! the specs keep one canonical form ([`canonical`](ActionSpec::canonical)
//! methods), so that what was sent and what is read back compare equal.

use crate::resource::Ref;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An ACM certificate. Never created: ferry maps it to the destination's
/// issued certificate for the same names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSpec {
    pub domain_name: String,
    /// Every name the certificate covers, sorted (AWS lists the domain name
    /// too).
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
}

impl CertificateSpec {
    /// Names sorted and deduplicated: the same certificate imported twice
    /// may list them in another order.
    pub fn canonical(mut self) -> Self {
        self.subject_alternative_names.sort();
        self.subject_alternative_names.dedup();
        self
    }
}

/// An IAM server certificate (what classic load balancers often serve),
/// matched by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCertificateSpec {
    pub name: String,
}

/// Where a load balancer has a node: the subnet, and for a Network load
/// balancer the Elastic IP or private address it was given there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubnetMapping {
    pub subnet: Ref,
    /// `elastic_ip/<allocation id>`.
    #[serde(default)]
    pub allocation: Option<Ref>,
    #[serde(default)]
    pub private_ipv4_address: Option<String>,
}

/// An Application, Network or Gateway load balancer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerSpec {
    /// Unique per account and region: kept, and a conflict when taken.
    pub name: String,
    /// "application", "network" or "gateway".
    #[serde(rename = "type")]
    pub lb_type: String,
    /// "internet-facing" or "internal".
    pub scheme: String,
    /// "ipv4", "dualstack" or "dualstack-without-public-ipv4".
    pub ip_address_type: String,
    /// Sorted by subnet.
    pub subnets: Vec<SubnetMapping>,
    /// Sorted; empty for a Network load balancer created without groups.
    #[serde(default)]
    pub security_groups: Vec<Ref>,
    /// Every attribute AWS reports (deletion protection, idle timeout,
    /// access logs, cross-zone...), by key.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl LoadBalancerSpec {
    pub fn canonical(mut self) -> Self {
        self.subnets.sort();
        self.security_groups.sort();
        self.security_groups.dedup();
        self
    }
}

/// The success codes a health check expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    #[serde(default)]
    pub http_code: Option<String>,
    #[serde(default)]
    pub grpc_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealthCheck {
    pub enabled: bool,
    #[serde(default)]
    pub protocol: Option<String>,
    /// "traffic-port" or a port number, as AWS reports it.
    #[serde(default)]
    pub port: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub interval_seconds: Option<i32>,
    #[serde(default)]
    pub timeout_seconds: Option<i32>,
    #[serde(default)]
    pub healthy_threshold: Option<i32>,
    #[serde(default)]
    pub unhealthy_threshold: Option<i32>,
    #[serde(default)]
    pub matcher: Option<Matcher>,
}

/// What a target is: a migrated resource (an instance, or an Application
/// load balancer behind a Network one), or an IP address, kept as is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetId {
    Ref(Ref),
    Ip(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub id: TargetId,
    #[serde(default)]
    pub port: Option<i32>,
    /// An IP target outside the VPC is registered in "all" zones.
    #[serde(default)]
    pub all_zones: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupSpec {
    /// Unique per account and region: kept, and a conflict when taken.
    pub name: String,
    /// "instance", "ip", "lambda" or "alb".
    pub target_type: String,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub protocol_version: Option<String>,
    #[serde(default)]
    pub port: Option<i32>,
    /// `None` for Lambda targets.
    #[serde(default)]
    pub vpc: Option<Ref>,
    #[serde(default)]
    pub ip_address_type: Option<String>,
    pub health_check: TargetHealthCheck,
    /// Every attribute AWS reports (deregistration delay, stickiness...).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Registered targets, sorted. Instances of an auto scaling group are
    /// not listed: the group registers them through its attachment.
    #[serde(default)]
    pub targets: Vec<Target>,
}

impl TargetGroupSpec {
    pub fn canonical(mut self) -> Self {
        self.targets.sort();
        self.targets.dedup();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WeightedTargetGroup {
    pub target_group: Ref,
    /// AWS reports 1 when none was given.
    pub weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardSpec {
    /// Sorted.
    pub target_groups: Vec<WeightedTargetGroup>,
    /// Group-level stickiness duration in seconds, when enabled.
    #[serde(default)]
    pub stickiness_seconds: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectSpec {
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    /// "HTTP_301" or "HTTP_302".
    pub status_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedResponseSpec {
    pub status_code: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub message_body: Option<String>,
}

/// One action of a listener or rule. Authenticate actions are not
/// migrated (they hold client secrets ferry never reads): adapters skip
/// what uses them, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// "forward", "redirect" or "fixed-response".
    #[serde(rename = "type")]
    pub action_type: String,
    /// Only meaningful when there are several actions; kept as reported.
    #[serde(default)]
    pub order: Option<i32>,
    #[serde(default)]
    pub forward: Option<ForwardSpec>,
    #[serde(default)]
    pub redirect: Option<RedirectSpec>,
    #[serde(default)]
    pub fixed_response: Option<FixedResponseSpec>,
}

impl ActionSpec {
    pub fn canonical(mut self) -> Self {
        if let Some(f) = &mut self.forward {
            f.target_groups.sort();
        }
        self
    }

    /// A forward to one group with no weights or stickiness: what the
    /// `TargetGroupArn` shorthand says (and all a Network load balancer
    /// accepts).
    pub fn single_target_group(&self) -> Option<&Ref> {
        match &self.forward {
            Some(f) if f.target_groups.len() == 1 && f.stickiness_seconds.is_none() => {
                Some(&f.target_groups[0].target_group)
            }
            _ => None,
        }
    }
}

/// Actions in the order AWS performs them.
pub fn canonical_actions(mut actions: Vec<ActionSpec>) -> Vec<ActionSpec> {
    actions = actions.into_iter().map(ActionSpec::canonical).collect();
    actions.sort_by_key(|a| a.order.unwrap_or(i32::MAX));
    actions
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerSpec {
    pub load_balancer: Ref,
    pub port: i32,
    pub protocol: String,
    #[serde(default)]
    pub ssl_policy: Option<String>,
    /// The default certificate of an HTTPS or TLS listener.
    #[serde(default)]
    pub certificate: Option<Ref>,
    /// Further certificates served by SNI, sorted.
    #[serde(default)]
    pub extra_certificates: Vec<Ref>,
    #[serde(default)]
    pub alpn_policy: Vec<String>,
    pub default_actions: Vec<ActionSpec>,
    /// Every listener attribute AWS reports (a Network listener's TCP idle
    /// timeout, an Application listener's response headers...), by key.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl ListenerSpec {
    pub fn canonical(mut self) -> Self {
        self.extra_certificates.sort();
        self.extra_certificates.dedup();
        if let Some(c) = &self.certificate {
            self.extra_certificates.retain(|x| x != c);
        }
        self.default_actions = canonical_actions(self.default_actions);
        self
    }
}

/// One condition of a rule, in its typed form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuleCondition {
    /// "host-header", "path-pattern", "http-header", "http-request-method",
    /// "query-string" or "source-ip".
    pub field: String,
    /// The header an "http-header" condition looks at.
    #[serde(default)]
    pub header_name: Option<String>,
    /// Sorted. For "query-string", each is `key=value` (`=value` without
    /// a key).
    pub values: Vec<String>,
}

impl RuleCondition {
    pub fn canonical(mut self) -> Self {
        self.values.sort();
        self.values.dedup();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRuleSpec {
    pub listener: Ref,
    pub priority: i32,
    /// Sorted.
    pub conditions: Vec<RuleCondition>,
    pub actions: Vec<ActionSpec>,
}

impl ListenerRuleSpec {
    pub fn canonical(mut self) -> Self {
        self.conditions = self
            .conditions
            .into_iter()
            .map(RuleCondition::canonical)
            .collect();
        self.conditions.sort();
        self.actions = canonical_actions(self.actions);
        self
    }
}

/// A classic load balancer's listener.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClassicListener {
    pub protocol: String,
    pub port: i32,
    pub instance_protocol: String,
    pub instance_port: i32,
    /// The certificate of an HTTPS or SSL listener (ACM or IAM).
    #[serde(default)]
    pub certificate: Option<Ref>,
    /// Names of the stickiness policies it uses, sorted.
    #[serde(default)]
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicHealthCheck {
    /// "HTTP:80/health", "TCP:22"...
    pub target: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLog {
    /// Bucket names are global: kept (S3 migration maps them later).
    pub bucket: String,
    #[serde(default)]
    pub prefix: Option<String>,
    /// Minutes: 5 or 60.
    pub interval: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicAttributes {
    pub cross_zone: bool,
    /// Seconds in-flight requests may take to finish; `None`: draining off.
    #[serde(default)]
    pub connection_draining: Option<i32>,
    pub idle_timeout: i32,
    #[serde(default)]
    pub access_log: Option<AccessLog>,
}

/// A stickiness policy: "app" (follows the application's cookie) or "lb"
/// (the load balancer's own cookie, with an optional expiry).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StickinessPolicy {
    pub name: String,
    /// "app" or "lb".
    pub cookie: String,
    /// The application's cookie name ("app").
    #[serde(default)]
    pub cookie_name: Option<String>,
    /// Seconds ("lb"); `None`: for the browser session.
    #[serde(default)]
    pub expiration: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassicLoadBalancerSpec {
    /// "internet-facing" or "internal".
    pub scheme: String,
    /// Sorted.
    pub subnets: Vec<Ref>,
    /// Sorted.
    #[serde(default)]
    pub security_groups: Vec<Ref>,
    /// Sorted by port.
    pub listeners: Vec<ClassicListener>,
    pub health_check: ClassicHealthCheck,
    pub attributes: ClassicAttributes,
    /// Sorted by name.
    #[serde(default)]
    pub policies: Vec<StickinessPolicy>,
    /// Registered instances, sorted; instances of an auto scaling group
    /// come from the group's attachment instead.
    #[serde(default)]
    pub instances: Vec<Ref>,
}

impl ClassicLoadBalancerSpec {
    pub fn canonical(mut self) -> Self {
        self.subnets.sort();
        self.security_groups.sort();
        self.listeners = self
            .listeners
            .into_iter()
            .map(|mut l| {
                l.policies.sort();
                l
            })
            .collect();
        self.listeners.sort_by_key(|l| l.port);
        self.policies.sort();
        self.instances.sort();
        self.instances.dedup();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;

    fn tg(arn: &str, weight: i32) -> WeightedTargetGroup {
        WeightedTargetGroup {
            target_group: Ref::new(Kind::TargetGroup, arn),
            weight,
        }
    }

    fn forward(groups: Vec<WeightedTargetGroup>, order: Option<i32>) -> ActionSpec {
        ActionSpec {
            action_type: "forward".into(),
            order,
            forward: Some(ForwardSpec {
                target_groups: groups,
                stickiness_seconds: None,
            }),
            redirect: None,
            fixed_response: None,
        }
    }

    #[test]
    fn actions_are_ordered_and_their_groups_sorted() {
        let a = canonical_actions(vec![
            forward(vec![tg("arn:b", 1), tg("arn:a", 3)], Some(2)),
            forward(vec![tg("arn:c", 1)], Some(1)),
        ]);
        assert_eq!(a[0].order, Some(1));
        assert_eq!(
            a[1].forward.as_ref().unwrap().target_groups[0],
            tg("arn:a", 3)
        );
    }

    #[test]
    fn only_a_plain_forward_is_a_single_target_group() {
        assert!(forward(vec![tg("arn:a", 1)], None)
            .single_target_group()
            .is_some());
        assert!(forward(vec![tg("arn:a", 1), tg("arn:b", 1)], None)
            .single_target_group()
            .is_none());
        let mut sticky = forward(vec![tg("arn:a", 1)], None);
        sticky.forward.as_mut().unwrap().stickiness_seconds = Some(60);
        assert!(sticky.single_target_group().is_none());
    }

    #[test]
    fn the_default_certificate_is_not_also_an_extra_one() {
        let cert = Ref::new(Kind::Certificate, "arn:c1");
        let l = ListenerSpec {
            load_balancer: Ref::new(Kind::LoadBalancer, "arn:lb"),
            port: 443,
            protocol: "HTTPS".into(),
            ssl_policy: None,
            certificate: Some(cert.clone()),
            extra_certificates: vec![Ref::new(Kind::Certificate, "arn:c2"), cert],
            alpn_policy: vec![],
            default_actions: vec![],
            attributes: BTreeMap::new(),
        }
        .canonical();
        assert_eq!(
            l.extra_certificates,
            vec![Ref::new(Kind::Certificate, "arn:c2")]
        );
    }

    #[test]
    fn rule_conditions_compare_regardless_of_order() {
        let rule = |values: Vec<&str>| {
            ListenerRuleSpec {
                listener: Ref::new(Kind::Listener, "arn:l"),
                priority: 10,
                conditions: vec![
                    RuleCondition {
                        field: "path-pattern".into(),
                        header_name: None,
                        values: values.iter().map(|v| v.to_string()).collect(),
                    },
                    RuleCondition {
                        field: "host-header".into(),
                        header_name: None,
                        values: vec!["a.example.com".into()],
                    },
                ],
                actions: vec![],
            }
            .canonical()
        };
        assert_eq!(rule(vec!["/b", "/a"]), rule(vec!["/a", "/b"]));
        assert_eq!(rule(vec!["/a"]).conditions[0].field, "host-header");
    }
}
