//! The kinds of resource ferry knows about: one row per kind in [`KINDS`]
//! (its name, service, ARN type, ID prefix, `[scope]` groups, whether it
//! takes tags, keeps its name, is migrated or only referenced, and its
//! planning rules). Everything else about a kind is derived from its row:
//! [`SUPPORTED`], the scope groups, ARN and ID parsing. Adding a kind is a
//! row here, its rules in [`crate::rules`], and its adapter in ferry-aws
//! (ARCHITECTURE.md, "Adding a kind").
//!
//! Some kinds are only *referenced* (a route to a transit gateway, say): ferry
//! recognises them so the plan can say "unsupported kind" instead of failing to
//! resolve an ID it does not understand.

use crate::rules::{self, KindRules};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// Every kind; the order is the order of [`KINDS`] (checked by a test) and of
/// the plan table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    DhcpOptions,
    PrefixList,
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
    Bucket,
    NetworkInterface,
    TransitGateway,
    VpnGateway,
    EgressOnlyInternetGateway,
    CarrierGateway,
    LocalGateway,
    SnsTopic,
}

/// One kind's facts.
pub struct KindDef {
    pub kind: Kind,
    /// Its name in ferry.toml, plan files, state and output (`vpc`, `s3_bucket`).
    pub name: &'static str,
    /// The AWS service that owns it (endpoints, rate limits, IAM actions).
    pub service: &'static str,
    /// The resource type segment of its ARN (`arn:aws:ec2:r:a:<type>/<id>`).
    pub arn_type: &'static str,
    /// The prefix of its EC2 IDs (`vpc-`), by which a bare ID is recognised.
    pub id_prefix: Option<&'static str>,
    /// The `[scope]` group names that select it besides its own name.
    pub groups: &'static [&'static str],
    /// Takes tags; untaggable kinds are found by their kept name.
    pub taggable: bool,
    /// Its ID is a name the destination keeps (IAM names, key pair, launch
    /// configuration, auto scaling group, alarm and classic load balancer
    /// names): a name already taken in the destination is a conflict, never
    /// adopted.
    pub keeps_name: bool,
    /// ferry creates and deletes it (it has an adapter); false for kinds
    /// that are only referenced, or only mapped.
    pub migrated: bool,
    /// Never created or deleted: every resource is a default the plan maps
    /// to the destination's one with an equal spec (certificates: their
    /// private keys never move).
    pub mapped_only: bool,
    /// What the kind adds to planning, comparison and apply.
    pub rules: &'static dyn KindRules,
}

/// A row with the common defaults; rows below override what differs.
const fn row(
    kind: Kind,
    name: &'static str,
    service: &'static str,
    arn_type: &'static str,
    groups: &'static [&'static str],
) -> KindDef {
    KindDef {
        kind,
        name,
        service,
        arn_type,
        id_prefix: None,
        groups,
        taggable: true,
        // IAM names are global to the account: kept.
        keeps_name: is_iam(service),
        migrated: true,
        mapped_only: false,
        rules: &rules::Plain,
    }
}

const fn is_iam(service: &str) -> bool {
    let s = service.as_bytes();
    s.len() == 3 && s[0] == b'i' && s[1] == b'a' && s[2] == b'm'
}

impl KindDef {
    const fn with(self, rules: &'static dyn KindRules) -> KindDef {
        KindDef { rules, ..self }
    }

    const fn prefix(self, prefix: &'static str) -> KindDef {
        KindDef {
            id_prefix: Some(prefix),
            ..self
        }
    }

    const fn untaggable(self) -> KindDef {
        KindDef {
            taggable: false,
            ..self
        }
    }

    const fn keeping_name(self) -> KindDef {
        KindDef {
            keeps_name: true,
            ..self
        }
    }

    const fn mapped_only(self) -> KindDef {
        KindDef {
            mapped_only: true,
            ..self
        }
    }

    const fn referenced_only(self) -> KindDef {
        KindDef {
            migrated: false,
            ..self
        }
    }
}

/// The network layer: what "vpc", "network" and "ec2" select.
const NET: &[&str] = &["vpc", "network", "ec2"];
/// EC2 compute: "ec2" is the network layer plus these, as the EC2 API is.
const EC2_COMPUTE: &[&str] = &["ec2", "compute"];
const AUTOSCALING: &[&str] = &["compute", "autoscaling"];
/// Load balancing; certificates come along (listeners cannot be planned
/// without them).
const LB: &[&str] = &["elb", "load_balancing"];

/// Group names accepted in `[scope] include/exclude`, in the order error
/// messages list them. "vpc" and "network" mean the whole network layer, as
/// the VPC console does.
const GROUP_NAMES: &[&str] = &[
    "vpc",
    "network",
    "ec2",
    "iam",
    "compute",
    "kms",
    "autoscaling",
    "cloudwatch",
    "elb",
    "load_balancing",
    "acm",
    "s3",
];

/// A kind ferry only recognises in references.
const fn referenced(
    kind: Kind,
    name: &'static str,
    arn_type: &'static str,
    prefix: &'static str,
) -> KindDef {
    row(kind, name, "ec2", arn_type, &[])
        .prefix(prefix)
        .referenced_only()
}

/// An EC2 network kind with its ID prefix.
const fn net(
    kind: Kind,
    name: &'static str,
    arn_type: &'static str,
    prefix: &'static str,
) -> KindDef {
    row(kind, name, "ec2", arn_type, NET).prefix(prefix)
}

/// The kind table, in [`Kind`]'s order.
pub const KINDS: &[KindDef] = &[
    net(Kind::DhcpOptions, "dhcp_options", "dhcp-options", "dopt-"),
    net(Kind::PrefixList, "prefix_list", "prefix-list", "pl-")
        .with(&crate::spec::prefix_list::PrefixList),
    net(Kind::Vpc, "vpc", "vpc", "vpc-").with(&rules::network::Vpc),
    net(Kind::Subnet, "subnet", "subnet", "subnet-").with(&rules::network::Subnet),
    net(
        Kind::InternetGateway,
        "internet_gateway",
        "internet-gateway",
        "igw-",
    )
    .with(&rules::network::InternetGateway),
    net(Kind::ElasticIp, "elastic_ip", "elastic-ip", "eipalloc-").with(&rules::network::ElasticIp),
    net(Kind::NatGateway, "nat_gateway", "natgateway", "nat-"),
    net(Kind::RouteTable, "route_table", "route-table", "rtb-").with(&rules::network::RouteTable),
    net(Kind::NetworkAcl, "network_acl", "network-acl", "acl-").with(&rules::network::NetworkAcl),
    net(
        Kind::SecurityGroup,
        "security_group",
        "security-group",
        "sg-",
    )
    .with(&rules::network::SecurityGroup),
    net(Kind::VpcEndpoint, "vpc_endpoint", "vpc-endpoint", "vpce-"),
    net(
        Kind::VpcPeering,
        "vpc_peering",
        "vpc-peering-connection",
        "pcx-",
    ),
    row(Kind::IamPolicy, "iam_policy", "iam", "policy", &["iam"]),
    row(Kind::IamRole, "iam_role", "iam", "role", &["iam"]).with(&rules::iam::Role),
    row(
        Kind::IamInstanceProfile,
        "iam_instance_profile",
        "iam",
        "instance-profile",
        &["iam"],
    ),
    row(Kind::IamGroup, "iam_group", "iam", "group", &["iam"]).untaggable(),
    row(Kind::IamUser, "iam_user", "iam", "user", &["iam"]),
    row(Kind::KmsKey, "kms_key", "kms", "key", &["compute", "kms"]),
    row(Kind::KeyPair, "key_pair", "ec2", "key-pair", EC2_COMPUTE)
        .keeping_name()
        .with(&rules::compute::KeyPair),
    row(Kind::Image, "image", "ec2", "image", EC2_COMPUTE)
        .prefix("ami-")
        .with(&rules::compute::Image),
    row(Kind::Snapshot, "snapshot", "ec2", "snapshot", EC2_COMPUTE).prefix("snap-"),
    row(Kind::Volume, "volume", "ec2", "volume", EC2_COMPUTE)
        .prefix("vol-")
        .with(&rules::compute::Volume),
    row(Kind::Instance, "instance", "ec2", "instance", EC2_COMPUTE)
        .prefix("i-")
        .with(&rules::compute::Instance),
    row(
        Kind::LaunchTemplate,
        "launch_template",
        "ec2",
        "launch-template",
        EC2_COMPUTE,
    )
    .prefix("lt-")
    .with(&rules::compute::LaunchTemplate),
    row(
        Kind::LaunchConfiguration,
        "launch_configuration",
        "autoscaling",
        "launchConfiguration",
        AUTOSCALING,
    )
    .untaggable()
    .keeping_name(),
    row(
        Kind::AutoScalingGroup,
        "autoscaling_group",
        "autoscaling",
        "autoScalingGroup",
        AUTOSCALING,
    )
    .keeping_name(),
    row(
        Kind::ScalingPolicy,
        "scaling_policy",
        "autoscaling",
        "scalingPolicy",
        AUTOSCALING,
    )
    .untaggable(),
    row(
        Kind::MetricAlarm,
        "metric_alarm",
        "cloudwatch",
        "alarm",
        &["compute", "cloudwatch"],
    )
    .keeping_name(),
    row(
        Kind::Certificate,
        "certificate",
        "acm",
        "certificate",
        &["elb", "load_balancing", "acm"],
    )
    .mapped_only()
    .with(&rules::loadbalancing::Certificate),
    row(
        Kind::ServerCertificate,
        "server_certificate",
        "iam",
        "server-certificate",
        LB,
    )
    .mapped_only()
    .with(&rules::loadbalancing::Certificate),
    row(
        Kind::TargetGroup,
        "target_group",
        "elasticloadbalancing",
        "targetgroup",
        LB,
    )
    .with(&rules::loadbalancing::TargetGroup),
    row(
        Kind::LoadBalancer,
        "load_balancer",
        "elasticloadbalancing",
        "loadbalancer",
        LB,
    )
    .with(&rules::loadbalancing::LoadBalancer),
    row(
        Kind::Listener,
        "listener",
        "elasticloadbalancing",
        "listener",
        LB,
    ),
    row(
        Kind::ListenerRule,
        "listener_rule",
        "elasticloadbalancing",
        "listener-rule",
        LB,
    ),
    row(
        Kind::ClassicLoadBalancer,
        "classic_load_balancer",
        "elasticloadbalancing",
        "loadbalancer",
        LB,
    )
    .keeping_name(),
    row(Kind::Bucket, "s3_bucket", "s3", "bucket", &["s3"]).with(&rules::s3::Bucket),
    referenced(
        Kind::NetworkInterface,
        "network_interface",
        "network-interface",
        "eni-",
    ),
    referenced(
        Kind::TransitGateway,
        "transit_gateway",
        "transit-gateway",
        "tgw-",
    ),
    referenced(Kind::VpnGateway, "vpn_gateway", "vpn-gateway", "vgw-"),
    referenced(
        Kind::EgressOnlyInternetGateway,
        "egress_only_internet_gateway",
        "egress-only-internet-gateway",
        "eigw-",
    ),
    referenced(
        Kind::CarrierGateway,
        "carrier_gateway",
        "carrier-gateway",
        "cagw-",
    ),
    referenced(Kind::LocalGateway, "local_gateway", "local-gateway", "lgw-"),
    row(Kind::SnsTopic, "sns_topic", "sns", "topic", &[]).referenced_only(),
];

/// The rows of [`KINDS`] that are migrated, in order, and how many they are
/// (the array is padded to `N`).
const fn migrated<const N: usize>() -> ([Kind; N], usize) {
    let mut out = [Kind::Vpc; N];
    let (mut i, mut n) = (0, 0);
    while i < KINDS.len() {
        if KINDS[i].migrated {
            out[n] = KINDS[i].kind;
            n += 1;
        }
        i += 1;
    }
    (out, n)
}

const SUPPORTED_ARRAY: [Kind; migrated::<{ KINDS.len() }>().1] = {
    let (all, _) = migrated::<{ KINDS.len() }>();
    let mut out = [Kind::Vpc; migrated::<{ KINDS.len() }>().1];
    let mut i = 0;
    while i < out.len() {
        out[i] = all[i];
        i += 1;
    }
    out
};

/// Kinds ferry can migrate, in a stable order (also the order of the plan
/// table): the rows of [`KINDS`] that are migrated.
pub const SUPPORTED: &[Kind] = &SUPPORTED_ARRAY;

impl Kind {
    /// The kind's row in [`KINDS`].
    pub fn def(self) -> &'static KindDef {
        &KINDS[self as usize]
    }

    pub fn rules(self) -> &'static dyn KindRules {
        self.def().rules
    }

    pub fn as_str(self) -> &'static str {
        self.def().name
    }

    pub fn parse(s: &str) -> Option<Kind> {
        KINDS.iter().find(|d| d.name == s).map(|d| d.kind)
    }

    pub fn is_supported(self) -> bool {
        self.def().migrated
    }

    /// The AWS service that owns the kind (for endpoints, rate limits, IAM actions).
    pub fn service(self) -> &'static str {
        self.def().service
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

    /// See [`KindDef::keeps_name`].
    pub fn keeps_name(self) -> bool {
        self.def().keeps_name
    }

    /// See [`KindDef::mapped_only`].
    pub fn is_mapped_only(self) -> bool {
        self.def().mapped_only
    }

    /// Kinds that cannot carry tags (IAM groups): found by their kept name.
    pub fn is_taggable(self) -> bool {
        self.def().taggable
    }

    /// Global kinds (IAM) have no region in their ARN and keep their names:
    /// the destination resource is called as the source one.
    pub fn is_global(self) -> bool {
        self.service() == "iam"
    }

    /// The resource type segment of the kind's ARN (`arn:aws:ec2:r:a:<type>/<id>`).
    pub fn arn_type(self) -> &'static str {
        self.def().arn_type
    }

    /// Recognises the kind of an EC2 ID by its prefix, the longest matching
    /// one (`vpce-` before `vpc-`).
    pub fn from_id(id: &str) -> Option<Kind> {
        KINDS
            .iter()
            .filter_map(|d| d.id_prefix.filter(|p| id.starts_with(p)).map(|p| (p, d)))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, d)| d.kind)
    }

    /// Fields of the spec that are reconciled in a second phase, after every
    /// resource they may reference exists (see [`KindRules::content_fields`]).
    pub fn content_fields(self) -> &'static [&'static str] {
        self.rules().content_fields()
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

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Kind::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, &[]))
    }
}

/// True when `name` may appear in `[scope] include/exclude`.
pub fn is_scope_name(name: &str) -> bool {
    resolve_scope_name(name).is_some()
}

/// Every name `[scope]` accepts, for error messages: the groups, then the
/// migrated kinds.
pub fn scope_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = GROUP_NAMES.to_vec();
    for k in SUPPORTED {
        if !names.contains(&k.as_str()) {
            names.push(k.as_str());
        }
    }
    names
}

pub fn resolve_scope_name(name: &str) -> Option<Vec<Kind>> {
    if GROUP_NAMES.contains(&name) {
        return Some(
            KINDS
                .iter()
                .filter(|d| d.migrated && d.groups.contains(&name))
                .map(|d| d.kind)
                .collect(),
        );
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
        assert_eq!(Kind::from_id("pl-0abc"), Some(Kind::PrefixList));
        assert_eq!(Kind::from_id("local"), None);
    }

    #[test]
    fn the_table_is_in_kind_order_and_its_groups_are_known() {
        for (i, d) in KINDS.iter().enumerate() {
            assert_eq!(d.kind as usize, i, "{} is out of order", d.name);
            for g in d.groups {
                assert!(GROUP_NAMES.contains(g), "{}: unknown group {g}", d.name);
            }
            assert!(!d.mapped_only || d.migrated, "{}", d.name);
        }
        assert!(SUPPORTED.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Kind::from_id("eipalloc-1"), Some(Kind::ElasticIp));
        assert_eq!(Kind::from_id("i-0abc"), Some(Kind::Instance));
        assert_eq!(Kind::from_id("lt-1"), Some(Kind::LaunchTemplate));
    }

    #[test]
    fn derived_facts_are_those_of_the_table() {
        let with = |f: fn(Kind) -> bool| -> Vec<Kind> {
            KINDS.iter().map(|d| d.kind).filter(|k| f(*k)).collect()
        };
        use Kind::*;
        assert_eq!(
            with(Kind::keeps_name),
            vec![
                IamPolicy,
                IamRole,
                IamInstanceProfile,
                IamGroup,
                IamUser,
                KeyPair,
                LaunchConfiguration,
                AutoScalingGroup,
                MetricAlarm,
                ServerCertificate,
                ClassicLoadBalancer
            ]
        );
        assert_eq!(
            with(|k| !k.is_taggable()),
            vec![IamGroup, LaunchConfiguration, ScalingPolicy]
        );
        assert_eq!(
            with(Kind::is_mapped_only),
            vec![Certificate, ServerCertificate]
        );
        assert_eq!(
            with(Kind::has_contents),
            vec![RouteTable, NetworkAcl, SecurityGroup, IamRole, Bucket]
        );
        assert_eq!(SUPPORTED.len(), 36);
        assert_eq!(SUPPORTED.first(), Some(&DhcpOptions));
        assert_eq!(SUPPORTED.last(), Some(&Bucket));
        assert_eq!(
            scope_names()[..12],
            [
                "vpc",
                "network",
                "ec2",
                "iam",
                "compute",
                "kms",
                "autoscaling",
                "cloudwatch",
                "elb",
                "load_balancing",
                "acm",
                "s3"
            ]
        );
        assert_eq!(Kind::Bucket.arn_type(), "bucket");
        assert_eq!(Kind::AutoScalingGroup.as_str(), "autoscaling_group");
        assert_eq!(Kind::ServerCertificate.service(), "iam");
    }

    #[test]
    fn names_round_trip() {
        for k in KINDS.iter().map(|d| &d.kind) {
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
        assert!(only.contains(&Kind::Subnet) && only.contains(&Kind::PrefixList));
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
