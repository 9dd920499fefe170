//! The kinds of resource ferry knows about, how their IDs look, which service
//! and console group they belong to, and how `[scope]` names select them.
//!
//! Some kinds are only *referenced* (a route to a transit gateway, say): ferry
//! recognises them so the plan can say "unsupported kind" instead of failing to
//! resolve an ID it does not understand.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DhcpOptions,
    Vpc,
    Subnet,
    InternetGateway,
    ElasticIp,
    NatGateway,
    RouteTable,
    NetworkAcl,
    SecurityGroup,
    VpcEndpoint,
    VpcPeering,
    IamPolicy,
    IamRole,
    IamInstanceProfile,
    IamGroup,
    IamUser,
    KmsKey,
    KeyPair,
    Image,
    Snapshot,
    Volume,
    Instance,
    LaunchTemplate,
    LaunchConfiguration,
    #[serde(rename = "autoscaling_group")]
    AutoScalingGroup,
    ScalingPolicy,
    MetricAlarm,
    Certificate,
    ServerCertificate,
    TargetGroup,
    LoadBalancer,
    Listener,
    ListenerRule,
    ClassicLoadBalancer,
    #[serde(rename = "s3_bucket")]
    Bucket,
    // Referenced only: no adapter yet.
    NetworkInterface,
    TransitGateway,
    VpnGateway,
    EgressOnlyInternetGateway,
    CarrierGateway,
    LocalGateway,
    PrefixList,
    SnsTopic,
}

/// The network layer: what the "vpc" and "network" scope names select ("ec2" adds compute).
const NETWORK: &[Kind] = &[
    Kind::DhcpOptions,
    Kind::Vpc,
    Kind::Subnet,
    Kind::InternetGateway,
    Kind::ElasticIp,
    Kind::NatGateway,
    Kind::RouteTable,
    Kind::NetworkAcl,
    Kind::SecurityGroup,
    Kind::VpcEndpoint,
    Kind::VpcPeering,
];

/// Identities: what the "iam" scope name selects.
const IAM: &[Kind] = &[
    Kind::IamPolicy,
    Kind::IamRole,
    Kind::IamInstanceProfile,
    Kind::IamGroup,
    Kind::IamUser,
];

/// EC2 compute: what the "ec2" scope name adds to the network layer.
const EC2_COMPUTE: &[Kind] = &[
    Kind::KeyPair,
    Kind::Image,
    Kind::Snapshot,
    Kind::Volume,
    Kind::Instance,
    Kind::LaunchTemplate,
];

const AUTOSCALING: &[Kind] = &[
    Kind::LaunchConfiguration,
    Kind::AutoScalingGroup,
    Kind::ScalingPolicy,
];

/// The compute layer: what the "compute" scope name selects.
const COMPUTE: &[Kind] = &[
    Kind::KmsKey,
    Kind::KeyPair,
    Kind::Image,
    Kind::Snapshot,
    Kind::Volume,
    Kind::Instance,
    Kind::LaunchTemplate,
    Kind::LaunchConfiguration,
    Kind::AutoScalingGroup,
    Kind::ScalingPolicy,
    Kind::MetricAlarm,
];

/// Load balancing: what the "elb" and "load_balancing" scope names select.
/// Certificates come along: listeners cannot be planned without them.
const LOAD_BALANCING: &[Kind] = &[
    Kind::Certificate,
    Kind::ServerCertificate,
    Kind::TargetGroup,
    Kind::LoadBalancer,
    Kind::Listener,
    Kind::ListenerRule,
    Kind::ClassicLoadBalancer,
];

/// Kinds ferry can migrate, in a stable order (also the order of the plan table).
pub const SUPPORTED: &[Kind] = &[
    Kind::DhcpOptions,
    Kind::Vpc,
    Kind::Subnet,
    Kind::InternetGateway,
    Kind::ElasticIp,
    Kind::NatGateway,
    Kind::RouteTable,
    Kind::NetworkAcl,
    Kind::SecurityGroup,
    Kind::VpcEndpoint,
    Kind::VpcPeering,
    Kind::IamPolicy,
    Kind::IamRole,
    Kind::IamInstanceProfile,
    Kind::IamGroup,
    Kind::IamUser,
    Kind::KmsKey,
    Kind::KeyPair,
    Kind::Image,
    Kind::Snapshot,
    Kind::Volume,
    Kind::Instance,
    Kind::LaunchTemplate,
    Kind::LaunchConfiguration,
    Kind::AutoScalingGroup,
    Kind::ScalingPolicy,
    Kind::MetricAlarm,
    Kind::Certificate,
    Kind::ServerCertificate,
    Kind::TargetGroup,
    Kind::LoadBalancer,
    Kind::Listener,
    Kind::ListenerRule,
    Kind::ClassicLoadBalancer,
    Kind::Bucket,
];

const ALL: &[Kind] = &[
    Kind::DhcpOptions,
    Kind::Vpc,
    Kind::Subnet,
    Kind::InternetGateway,
    Kind::ElasticIp,
    Kind::NatGateway,
    Kind::RouteTable,
    Kind::NetworkAcl,
    Kind::SecurityGroup,
    Kind::VpcEndpoint,
    Kind::VpcPeering,
    Kind::IamPolicy,
    Kind::IamRole,
    Kind::IamInstanceProfile,
    Kind::IamGroup,
    Kind::IamUser,
    Kind::KmsKey,
    Kind::KeyPair,
    Kind::Image,
    Kind::Snapshot,
    Kind::Volume,
    Kind::Instance,
    Kind::LaunchTemplate,
    Kind::LaunchConfiguration,
    Kind::AutoScalingGroup,
    Kind::ScalingPolicy,
    Kind::MetricAlarm,
    Kind::Certificate,
    Kind::ServerCertificate,
    Kind::TargetGroup,
    Kind::LoadBalancer,
    Kind::Listener,
    Kind::ListenerRule,
    Kind::ClassicLoadBalancer,
    Kind::Bucket,
    Kind::NetworkInterface,
    Kind::TransitGateway,
    Kind::VpnGateway,
    Kind::EgressOnlyInternetGateway,
    Kind::CarrierGateway,
    Kind::LocalGateway,
    Kind::PrefixList,
    Kind::SnsTopic,
];

/// Service groups accepted in `[scope] include/exclude`, besides kind names.
/// "vpc" and "network" mean the whole network layer, as the VPC console does.
const GROUPS: &[(&str, &[Kind])] = &[
    ("vpc", NETWORK),
    ("network", NETWORK),
    ("iam", IAM),
    ("compute", COMPUTE),
    ("kms", &[Kind::KmsKey]),
    ("autoscaling", AUTOSCALING),
    ("cloudwatch", &[Kind::MetricAlarm]),
    ("elb", LOAD_BALANCING),
    ("load_balancing", LOAD_BALANCING),
    ("acm", &[Kind::Certificate]),
    ("s3", &[Kind::Bucket]),
];

/// "ec2" is the network layer plus EC2's compute kinds, as the EC2 API is.
fn ec2_group() -> Vec<Kind> {
    NETWORK.iter().chain(EC2_COMPUTE).copied().collect()
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DhcpOptions => "dhcp_options",
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internet_gateway",
            Kind::ElasticIp => "elastic_ip",
            Kind::NatGateway => "nat_gateway",
            Kind::RouteTable => "route_table",
            Kind::NetworkAcl => "network_acl",
            Kind::SecurityGroup => "security_group",
            Kind::VpcEndpoint => "vpc_endpoint",
            Kind::VpcPeering => "vpc_peering",
            Kind::IamPolicy => "iam_policy",
            Kind::IamRole => "iam_role",
            Kind::IamInstanceProfile => "iam_instance_profile",
            Kind::IamGroup => "iam_group",
            Kind::IamUser => "iam_user",
            Kind::KmsKey => "kms_key",
            Kind::KeyPair => "key_pair",
            Kind::Image => "image",
            Kind::Snapshot => "snapshot",
            Kind::Volume => "volume",
            Kind::Instance => "instance",
            Kind::LaunchTemplate => "launch_template",
            Kind::LaunchConfiguration => "launch_configuration",
            Kind::AutoScalingGroup => "autoscaling_group",
            Kind::ScalingPolicy => "scaling_policy",
            Kind::MetricAlarm => "metric_alarm",
            Kind::Certificate => "certificate",
            Kind::ServerCertificate => "server_certificate",
            Kind::LoadBalancer => "load_balancer",
            Kind::Listener => "listener",
            Kind::ListenerRule => "listener_rule",
            Kind::NetworkInterface => "network_interface",
            Kind::TransitGateway => "transit_gateway",
            Kind::VpnGateway => "vpn_gateway",
            Kind::EgressOnlyInternetGateway => "egress_only_internet_gateway",
            Kind::CarrierGateway => "carrier_gateway",
            Kind::LocalGateway => "local_gateway",
            Kind::PrefixList => "prefix_list",
            Kind::TargetGroup => "target_group",
            Kind::ClassicLoadBalancer => "classic_load_balancer",
            Kind::Bucket => "s3_bucket",
            Kind::SnsTopic => "sns_topic",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn is_supported(self) -> bool {
        SUPPORTED.contains(&self)
    }

    /// The AWS service that owns the kind (for endpoints, rate limits, IAM actions).
    pub fn service(self) -> &'static str {
        match self {
            Kind::IamPolicy
            | Kind::IamRole
            | Kind::IamInstanceProfile
            | Kind::IamGroup
            | Kind::IamUser
            | Kind::ServerCertificate => "iam",
            Kind::KmsKey => "kms",
            Kind::Certificate => "acm",
            Kind::LaunchConfiguration | Kind::AutoScalingGroup | Kind::ScalingPolicy => {
                "autoscaling"
            }
            Kind::MetricAlarm => "cloudwatch",
            Kind::TargetGroup
            | Kind::LoadBalancer
            | Kind::Listener
            | Kind::ListenerRule
            | Kind::ClassicLoadBalancer => "elasticloadbalancing",
            Kind::SnsTopic => "sns",
            Kind::Bucket => "s3",
            _ => "ec2",
        }
    }

    /// The kind's resources sit in availability zones, or refer to resources
    /// that do (every EC2, Auto Scaling and load-balancing kind): discovery
    /// lists a side's zones, to map them across regions, only when a kind in
    /// scope needs them.
    pub fn zoned(self) -> bool {
        matches!(
            self.service(),
            "ec2" | "autoscaling" | "elasticloadbalancing"
        )
    }

    /// Kinds whose ID is a name the destination keeps (IAM names, key pair,
    /// launch configuration, auto scaling group and alarm names): a name
    /// already taken in the destination is a conflict, never adopted.
    pub fn keeps_name(self) -> bool {
        self.is_global()
            || matches!(
                self,
                Kind::KeyPair
                    | Kind::LaunchConfiguration
                    | Kind::AutoScalingGroup
                    | Kind::MetricAlarm
                    | Kind::ClassicLoadBalancer
            )
    }

    /// Kinds ferry never creates or deletes: their adapters mark every
    /// resource as a default, and the plan maps each source resource to the
    /// destination's one with an equal spec. Certificates: their private
    /// keys never move, so the destination must already hold a certificate
    /// for the same names.
    pub fn is_mapped_only(self) -> bool {
        matches!(self, Kind::Certificate | Kind::ServerCertificate)
    }

    /// Kinds whose name is unique per account and region although their ID
    /// is an ARN (load balancers, target groups): a destination resource of
    /// that name which ferry did not make for this source is a conflict.
    pub fn unique_name_field(self) -> Option<&'static str> {
        match self {
            Kind::LaunchTemplate | Kind::LoadBalancer | Kind::TargetGroup => Some("name"),
            _ => None,
        }
    }

    /// Spec fields that only say how to create the resource (reboot an
    /// instance for its image, keep its private IP): the destination cannot
    /// report them back, so plan and verify do not compare them.
    pub fn create_only_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Image => &["from_instance", "no_reboot"],
            Kind::Instance => &["private_ip"],
            Kind::Volume => &["source_snapshot"],
            // Objects are compared object by object (verify) and by listing
            // digest (plan), not as a field.
            Kind::Bucket => &["objects"],
            _ => &[],
        }
    }

    /// Kinds that cannot carry tags (IAM groups): found by their kept name.
    pub fn is_taggable(self) -> bool {
        !matches!(
            self,
            Kind::IamGroup | Kind::LaunchConfiguration | Kind::ScalingPolicy
        )
    }

    /// Global kinds (IAM) have no region in their ARN and keep their names:
    /// the destination resource is called as the source one.
    pub fn is_global(self) -> bool {
        self.service() == "iam"
    }

    /// The resource type segment of the kind's ARN (`arn:aws:ec2:r:a:<type>/<id>`).
    pub fn arn_type(self) -> &'static str {
        match self {
            Kind::DhcpOptions => "dhcp-options",
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internet-gateway",
            Kind::ElasticIp => "elastic-ip",
            Kind::NatGateway => "natgateway",
            Kind::RouteTable => "route-table",
            Kind::NetworkAcl => "network-acl",
            Kind::SecurityGroup => "security-group",
            Kind::VpcEndpoint => "vpc-endpoint",
            Kind::VpcPeering => "vpc-peering-connection",
            Kind::IamPolicy => "policy",
            Kind::IamRole => "role",
            Kind::IamInstanceProfile => "instance-profile",
            Kind::IamGroup => "group",
            Kind::IamUser => "user",
            Kind::KmsKey => "key",
            Kind::KeyPair => "key-pair",
            Kind::Image => "image",
            Kind::Snapshot => "snapshot",
            Kind::Volume => "volume",
            Kind::Instance => "instance",
            Kind::LaunchTemplate => "launch-template",
            Kind::LaunchConfiguration => "launchConfiguration",
            Kind::AutoScalingGroup => "autoScalingGroup",
            Kind::ScalingPolicy => "scalingPolicy",
            Kind::MetricAlarm => "alarm",
            Kind::Certificate => "certificate",
            Kind::ServerCertificate => "server-certificate",
            Kind::LoadBalancer => "loadbalancer",
            Kind::Listener => "listener",
            Kind::ListenerRule => "listener-rule",
            Kind::NetworkInterface => "network-interface",
            Kind::TransitGateway => "transit-gateway",
            Kind::VpnGateway => "vpn-gateway",
            Kind::EgressOnlyInternetGateway => "egress-only-internet-gateway",
            Kind::CarrierGateway => "carrier-gateway",
            Kind::LocalGateway => "local-gateway",
            Kind::PrefixList => "prefix-list",
            Kind::TargetGroup => "targetgroup",
            Kind::ClassicLoadBalancer => "loadbalancer",
            Kind::Bucket => "bucket",
            Kind::SnsTopic => "topic",
        }
    }

    /// Recognises the kind of an EC2 ID by its prefix (`vpce-` before `vpc-`).
    pub fn from_id(id: &str) -> Option<Kind> {
        const PREFIXES: &[(&str, Kind)] = &[
            ("vpce-", Kind::VpcEndpoint),
            ("vpc-", Kind::Vpc),
            ("subnet-", Kind::Subnet),
            ("igw-", Kind::InternetGateway),
            ("eigw-", Kind::EgressOnlyInternetGateway),
            ("eipalloc-", Kind::ElasticIp),
            ("nat-", Kind::NatGateway),
            ("rtb-", Kind::RouteTable),
            ("acl-", Kind::NetworkAcl),
            ("sg-", Kind::SecurityGroup),
            ("pcx-", Kind::VpcPeering),
            ("dopt-", Kind::DhcpOptions),
            ("i-", Kind::Instance),
            ("ami-", Kind::Image),
            ("snap-", Kind::Snapshot),
            ("vol-", Kind::Volume),
            ("lt-", Kind::LaunchTemplate),
            ("eni-", Kind::NetworkInterface),
            ("tgw-", Kind::TransitGateway),
            ("vgw-", Kind::VpnGateway),
            ("cagw-", Kind::CarrierGateway),
            ("lgw-", Kind::LocalGateway),
            ("pl-", Kind::PrefixList),
        ];
        PREFIXES
            .iter()
            .find(|(p, _)| id.starts_with(p))
            .map(|(_, k)| *k)
    }

    /// Fields of the spec that are reconciled in a second phase, after every
    /// resource they may reference exists. This is how reference cycles
    /// (security groups naming each other) are broken: the group is created
    /// empty first, its rules second.
    pub fn content_fields(self) -> &'static [&'static str] {
        match self {
            Kind::SecurityGroup => &["ingress", "egress"],
            Kind::RouteTable => &["routes", "associations"],
            Kind::NetworkAcl => &["entries", "associations"],
            // IAM checks that trusted principals exist: roles trusting each
            // other get their trust policies once both exist.
            Kind::IamRole => &["trust_policy", "trusted_roles"],
            // A bucket policy names principals that must exist, logging may
            // target the bucket itself, and objects go in once the bucket's
            // encryption and versioning are set.
            Kind::Bucket => &["policy", "logging", "notifications", "objects"],
            _ => &[],
        }
    }

    pub fn has_contents(self) -> bool {
        !self.content_fields().is_empty()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when `name` may appear in `[scope] include/exclude`.
pub fn is_scope_name(name: &str) -> bool {
    resolve_scope_name(name).is_some()
}

/// Every name `[scope]` accepts, for error messages.
pub fn scope_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = GROUPS.iter().map(|(g, _)| *g).collect();
    names.insert(2, "ec2");
    for k in SUPPORTED {
        if !names.contains(&k.as_str()) {
            names.push(k.as_str());
        }
    }
    names
}

pub fn resolve_scope_name(name: &str) -> Option<Vec<Kind>> {
    if name == "ec2" {
        return Some(ec2_group());
    }
    if let Some((_, kinds)) = GROUPS.iter().find(|(g, _)| *g == name) {
        return Some(kinds.to_vec());
    }
    Kind::parse(name)
        .filter(|k| k.is_supported())
        .map(|k| vec![k])
}

/// The kinds selected by include (empty = all supported) minus exclude.
/// Names are assumed valid (the config layer checked them).
pub fn select(include: &[String], exclude: &[String]) -> BTreeSet<Kind> {
    let mut set: BTreeSet<Kind> = if include.is_empty() {
        SUPPORTED.iter().copied().collect()
    } else {
        include
            .iter()
            .filter_map(|n| resolve_scope_name(n))
            .flatten()
            .collect()
    };
    for n in exclude {
        for k in resolve_scope_name(n).unwrap_or_default() {
            set.remove(&k);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_kinds_with_longest_prefix_first() {
        assert_eq!(Kind::from_id("vpce-0abc"), Some(Kind::VpcEndpoint));
        assert_eq!(Kind::from_id("vpc-0abc"), Some(Kind::Vpc));
        assert_eq!(
            Kind::from_id("eigw-1"),
            Some(Kind::EgressOnlyInternetGateway)
        );
        assert_eq!(Kind::from_id("igw-1"), Some(Kind::InternetGateway));
        assert_eq!(Kind::from_id("tgw-1"), Some(Kind::TransitGateway));
        assert_eq!(Kind::from_id("local"), None);
    }

    #[test]
    fn names_round_trip() {
        for k in ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    #[test]
    fn scope_selection() {
        let all = select(&[], &[]);
        assert_eq!(all.len(), SUPPORTED.len());
        let only = select(&["vpc".into()], &["vpc_peering".into()]);
        assert!(!only.contains(&Kind::VpcPeering));
        assert!(only.contains(&Kind::Subnet));
        let iam = select(&["iam".into()], &[]);
        assert_eq!(
            iam.into_iter().collect::<Vec<_>>(),
            vec![
                Kind::IamPolicy,
                Kind::IamRole,
                Kind::IamInstanceProfile,
                Kind::IamGroup,
                Kind::IamUser
            ]
        );
        assert!(
            !select(&["vpc".into()], &[]).contains(&Kind::IamRole),
            "vpc is the network layer only"
        );
        let one = select(&["security_group".into()], &[]);
        assert_eq!(
            one.into_iter().collect::<Vec<_>>(),
            vec![Kind::SecurityGroup]
        );
        assert!(
            !is_scope_name("sns_topic"),
            "unsupported kinds are not selectable"
        );
        let ec2 = select(&["ec2".into()], &[]);
        assert!(ec2.contains(&Kind::Subnet) && ec2.contains(&Kind::Instance));
        assert!(!ec2.contains(&Kind::AutoScalingGroup));
        let compute = select(&["compute".into()], &[]);
        assert!(compute.contains(&Kind::MetricAlarm) && !compute.contains(&Kind::Vpc));
        assert!(scope_names().contains(&"ec2"));
        assert!(is_scope_name("network"));
        let lb = select(&["elb".into()], &[]);
        assert!(lb.contains(&Kind::ListenerRule) && lb.contains(&Kind::Certificate));
        assert!(!lb.contains(&Kind::Instance));
    }

    #[test]
    fn only_kinds_in_zones_need_the_zone_listing() {
        let s3 = select(&["s3".into()], &[]);
        assert!(!s3.is_empty() && s3.iter().all(|k| !k.zoned()));
        for k in [
            Kind::IamRole,
            Kind::MetricAlarm,
            Kind::Certificate,
            Kind::KmsKey,
        ] {
            assert!(!k.zoned(), "{k:?}");
        }
        for k in [
            Kind::Subnet,
            Kind::Instance,
            Kind::Volume,
            Kind::AutoScalingGroup,
            Kind::LoadBalancer,
            Kind::ClassicLoadBalancer,
        ] {
            assert!(k.zoned(), "{k:?}");
        }
    }
}
