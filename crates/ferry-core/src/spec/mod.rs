//! Typed specs of the network kinds: every attribute that defines behaviour,
//! in a canonical form (sorted lists, one security group rule per peer) so two
//! reads of equal resources serialise identically and verify can diff them.
//!
//! A spec holds [`Ref`]s, never destination IDs (ARCHITECTURE.md invariant 4): adapters
//! read source specs at discovery and receive translated copies, whose refs
//! name destination resources, at create time.
//!
//! Region-bound values are kept in a form the translator understands:
//! zones in `availability_zone`, AWS-managed prefix lists by name
//! (`com.amazonaws.us-east-1.s3`), endpoint services by `service_name`.

use crate::resource::Ref;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcSpec {
    pub cidr_block: String,
    /// Secondary IPv4 blocks, sorted.
    #[serde(default)]
    pub secondary_cidr_blocks: Vec<String>,
    #[serde(default)]
    pub instance_tenancy: String,
    #[serde(default)]
    pub enable_dns_support: bool,
    #[serde(default)]
    pub enable_dns_hostnames: bool,
    /// `None`: the region's default DHCP options.
    #[serde(default)]
    pub dhcp_options: Option<Ref>,
    /// An Amazon-provided IPv6 block is requested; the block itself differs.
    #[serde(default)]
    pub amazon_ipv6: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetSpec {
    pub vpc: Ref,
    pub cidr_block: String,
    pub availability_zone: String,
    pub map_public_ip_on_launch: bool,
    #[serde(default)]
    pub default_for_az: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGatewaySpec {
    /// The VPC it is attached to, if any.
    pub vpc: Option<Ref>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElasticIpSpec {
    /// Always "vpc" for the addresses ferry moves. The address itself cannot move
    /// between accounts: the destination gets a new one.
    pub domain: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGatewaySpec {
    pub subnet: Ref,
    /// "public" or "private".
    pub connectivity_type: String,
    /// The Elastic IP of a public NAT gateway.
    #[serde(default)]
    pub allocation: Option<Ref>,
}

/// Where a route sends traffic: an IGW, NAT gateway, peering, instance, ENI...
/// any EC2 resource named by ID, as a reference; its kind picks the API field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteSpec {
    pub destination: RouteDestination,
    pub target: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteDestination {
    Cidr(String),
    Ipv6Cidr(String),
    /// An AWS-managed prefix list, by name (region-bound, translated).
    PrefixList(String),
    /// A customer-managed prefix list (migrated: spec/prefix_list.rs).
    PrefixListRef(Ref),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableSpec {
    pub vpc: Ref,
    /// The VPC's main route table: mapped, not created.
    pub main: bool,
    /// Routes, sorted; excludes the local route and routes owned by gateway endpoints.
    pub routes: Vec<RouteSpec>,
    /// Subnets explicitly associated, sorted.
    pub associations: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// IP protocol number as a string ("-1" all, "6" tcp, "17" udp, "1" icmp).
    pub protocol: String,
    /// "allow" or "deny".
    pub action: String,
    #[serde(default)]
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_block: Option<String>,
    #[serde(default)]
    pub port_range: Option<(i32, i32)>,
    /// ICMP (type, code).
    #[serde(default)]
    pub icmp: Option<(i32, i32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAclSpec {
    pub vpc: Ref,
    pub default: bool,
    /// Sorted; without the immutable catch-all rules (32767).
    pub entries: Vec<AclEntry>,
    /// Subnets associated, sorted.
    pub associations: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SgPeer {
    Cidr(String),
    Ipv6Cidr(String),
    /// AWS-managed prefix list by name.
    PrefixList(String),
    /// Customer-managed prefix list (migrated: spec/prefix_list.rs).
    PrefixListRef(Ref),
    Group(Ref),
    /// A group in another account (peered VPC): kept as is, reported.
    ForeignGroup {
        account: String,
        group_id: String,
    },
}

/// One rule, one peer: the canonical form of an IpPermission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SgRule {
    pub protocol: String,
    #[serde(default)]
    pub from_port: Option<i32>,
    #[serde(default)]
    pub to_port: Option<i32>,
    pub peer: SgPeer,
    #[serde(default)]
    pub description: Option<String>,
}

impl SgRule {
    /// Rules are the same permission when all but the description match:
    /// a changed description is updated in place, not revoked and re-added.
    pub fn same_permission(&self, other: &SgRule) -> bool {
        self.protocol == other.protocol
            && self.from_port == other.from_port
            && self.to_port == other.to_port
            && self.peer == other.peer
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupSpec {
    pub group_name: String,
    pub description: String,
    pub vpc: Ref,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcEndpointSpec {
    pub vpc: Ref,
    pub service_name: String,
    /// "Gateway", "Interface", "GatewayLoadBalancer".
    pub endpoint_type: String,
    #[serde(default)]
    pub route_tables: Vec<Ref>,
    #[serde(default)]
    pub subnets: Vec<Ref>,
    #[serde(default)]
    pub security_groups: Vec<Ref>,
    #[serde(default)]
    pub private_dns_enabled: bool,
    /// The endpoint policy (parsed JSON), if one is set.
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpOptionsSpec {
    /// Key ("domain-name", "domain-name-servers", "ntp-servers", ...) to values.
    pub configurations: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcPeeringSpec {
    pub requester: Ref,
    pub accepter: Ref,
}

/// A managed policy attached to a role (or later a user or group): an
/// AWS-managed one by ARN (it exists in every account), a customer-managed
/// one by reference (migrated first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRef {
    Aws(String),
    Customer(Ref),
}

/// A customer-managed policy: its default version's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamPolicySpec {
    pub path: String,
    #[serde(default)]
    pub description: Option<String>,
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamRoleSpec {
    pub path: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_duration: i32,
    #[serde(default)]
    pub permissions_boundary: Option<PolicyRef>,
    pub trust_policy: serde_json::Value,
    /// Roles of the same account its trust policy names (derived from it),
    /// so they exist before the policy is set.
    #[serde(default)]
    pub trusted_roles: Vec<Ref>,
    /// Inline policies by name.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    /// Attached managed policies, sorted.
    #[serde(default)]
    pub managed_policies: Vec<PolicyRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamInstanceProfileSpec {
    pub path: String,
    /// At most one role, as AWS allows.
    #[serde(default)]
    pub roles: Vec<Ref>,
}

/// A group: its policies. Members are recorded on the users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamGroupSpec {
    pub path: String,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub managed_policies: Vec<PolicyRef>,
}

/// A user: never its password, access keys or MFA devices (the plan lists
/// what must be re-issued).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamUserSpec {
    pub path: String,
    #[serde(default)]
    pub permissions_boundary: Option<PolicyRef>,
    /// Groups, sorted.
    #[serde(default)]
    pub groups: Vec<Ref>,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub managed_policies: Vec<PolicyRef>,
}

pub mod autoscaling;
pub mod compute;
pub mod loadbalancing;
pub mod prefix_list;
pub mod s3;
pub mod templates;

/// Serialises a typed spec into the JSON a [`crate::Resource`] carries.
pub fn to_value<T: Serialize>(spec: &T) -> serde_json::Value {
    serde_json::to_value(spec).expect("specs are plain data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;

    #[test]
    fn rules_compare_without_description() {
        let a = SgRule {
            protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            peer: SgPeer::Group(Ref::new(Kind::SecurityGroup, "sg-1")),
            description: Some("ssh".into()),
        };
        let mut b = a.clone();
        b.description = None;
        assert!(a.same_permission(&b));
        b.to_port = Some(23);
        assert!(!a.same_permission(&b));
    }

    #[test]
    fn specs_round_trip_through_json() {
        let rt = RouteTableSpec {
            vpc: Ref::new(Kind::Vpc, "vpc-1"),
            main: false,
            routes: vec![RouteSpec {
                destination: RouteDestination::PrefixList("com.amazonaws.us-east-1.s3".into()),
                target: Ref::new(Kind::NatGateway, "nat-1"),
            }],
            associations: vec![Ref::new(Kind::Subnet, "subnet-1")],
        };
        let v = to_value(&rt);
        assert_eq!(
            v["routes"][0]["destination"]["prefix_list"],
            "com.amazonaws.us-east-1.s3"
        );
        let back: RouteTableSpec = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, rt);
    }
}
