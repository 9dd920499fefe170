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
    // Referenced only: no adapter yet.
    Instance,
    NetworkInterface,
    TransitGateway,
    VpnGateway,
    EgressOnlyInternetGateway,
    CarrierGateway,
    LocalGateway,
    PrefixList,
}

/// The network layer: what the "vpc", "network" and "ec2" scope names select.
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
    Kind::Instance,
    Kind::NetworkInterface,
    Kind::TransitGateway,
    Kind::VpnGateway,
    Kind::EgressOnlyInternetGateway,
    Kind::CarrierGateway,
    Kind::LocalGateway,
    Kind::PrefixList,
];

/// Service groups accepted in `[scope] include/exclude`, besides kind names.
/// "vpc" and "network" mean the whole network layer, as the VPC console does.
const GROUPS: &[(&str, &[Kind])] = &[
    ("vpc", NETWORK),
    ("network", NETWORK),
    ("ec2", NETWORK),
    ("iam", IAM),
];

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
            Kind::Instance => "instance",
            Kind::NetworkInterface => "network_interface",
            Kind::TransitGateway => "transit_gateway",
            Kind::VpnGateway => "vpn_gateway",
            Kind::EgressOnlyInternetGateway => "egress_only_internet_gateway",
            Kind::CarrierGateway => "carrier_gateway",
            Kind::LocalGateway => "local_gateway",
            Kind::PrefixList => "prefix_list",
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
            | Kind::IamUser => "iam",
            _ => "ec2",
        }
    }

    /// Kinds that cannot carry tags (IAM groups): found by their kept name.
    pub fn is_taggable(self) -> bool {
        self != Kind::IamGroup
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
            Kind::Instance => "instance",
            Kind::NetworkInterface => "network-interface",
            Kind::TransitGateway => "transit-gateway",
            Kind::VpnGateway => "vpn-gateway",
            Kind::EgressOnlyInternetGateway => "egress-only-internet-gateway",
            Kind::CarrierGateway => "carrier-gateway",
            Kind::LocalGateway => "local-gateway",
            Kind::PrefixList => "prefix-list",
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
    for k in SUPPORTED {
        if !names.contains(&k.as_str()) {
            names.push(k.as_str());
        }
    }
    names
}

pub fn resolve_scope_name(name: &str) -> Option<Vec<Kind>> {
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
            !is_scope_name("instance"),
            "unsupported kinds are not selectable"
        );
        assert!(is_scope_name("network"));
    }
}
