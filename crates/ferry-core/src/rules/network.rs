//! Planning rules of the network kinds: CIDR overlaps, group names taken in
//! a VPC, the AWS defaults each kind maps, and what is reconciled second.

use super::{mapped_default, typed, KindRules, PlanCx};
use crate::kind::Kind;
use crate::plan::{Action, PlanItem};
use crate::resource::{Key, Resource};
use crate::spec::{SecurityGroupSpec, VpcSpec};
use ipnet::Ipv4Net;

pub struct Vpc;

impl KindRules for Vpc {
    fn default_reason(&self) -> String {
        mapped_default("the destination's default VPC")
    }

    fn notes(&self, r: &Resource, _cx: &PlanCx) -> Vec<String> {
        match typed::<VpcSpec>(&r.spec) {
            Some(v) if v.amazon_ipv6 => {
                vec!["the Amazon-provided IPv6 block differs in the destination".into()]
            }
            _ => vec![],
        }
    }

    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        let mut problems = vec![];
        if item.action == Action::Create {
            for mine in cidrs_of(&item.resource) {
                for other in cx
                    .dest
                    .of_kind(Kind::Vpc)
                    .filter(|v| !cx.claimed.contains(&v.key.id))
                {
                    if let Some(theirs) = cidrs_of(other).into_iter().find(|c| overlaps(&mine, c)) {
                        problems.push(format!(
                            "CIDR {mine} overlaps {theirs} of {}{} in the destination",
                            other.key.id,
                            other
                                .name
                                .as_deref()
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        ));
                    }
                }
            }
        }
        if item.resource.default
            && item.dest_id.is_none()
            && !cx.dest.of_kind(Kind::Vpc).any(|v| v.default)
        {
            problems.push(
                "the destination region has no default VPC to map the source's default VPC to"
                    .into(),
            );
        }
        problems
    }
}

fn cidrs_of(r: &Resource) -> Vec<Ipv4Net> {
    let Some(v) = typed::<VpcSpec>(&r.spec) else {
        return vec![];
    };
    std::iter::once(&v.cidr_block)
        .chain(&v.secondary_cidr_blocks)
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

pub struct Subnet;

impl KindRules for Subnet {
    fn default_reason(&self) -> String {
        mapped_default("the destination's default subnet in the mapped zone")
    }
}

pub struct InternetGateway;

impl KindRules for InternetGateway {
    fn default_reason(&self) -> String {
        mapped_default("the internet gateway of the destination's default VPC")
    }
}

pub struct ElasticIp;

impl KindRules for ElasticIp {
    fn notes(&self, _r: &Resource, _cx: &PlanCx) -> Vec<String> {
        vec!["addresses cannot move between accounts: the destination gets a new public IP".into()]
    }
}

pub struct RouteTable;

impl KindRules for RouteTable {
    fn content_fields(&self) -> &'static [&'static str] {
        &["routes", "associations"]
    }

    fn default_reason(&self) -> String {
        mapped_default("the main route table of the mapped VPC")
    }
}

pub struct NetworkAcl;

impl KindRules for NetworkAcl {
    fn content_fields(&self) -> &'static [&'static str] {
        &["entries", "associations"]
    }

    fn default_reason(&self) -> String {
        mapped_default("the default network ACL of the mapped VPC")
    }
}

pub struct SecurityGroup;

impl KindRules for SecurityGroup {
    fn content_fields(&self) -> &'static [&'static str] {
        &["ingress", "egress"]
    }

    fn default_reason(&self) -> String {
        mapped_default("the default security group of the mapped VPC")
    }

    /// A name is only taken inside an existing destination VPC.
    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        if item.action != Action::Create {
            return vec![];
        }
        let Some(mine) = typed::<SecurityGroupSpec>(&item.resource.spec) else {
            return vec![];
        };
        let Some(dvpc) = cx.known.get(&mine.vpc.key) else {
            return vec![];
        };
        let dvpc_key = Key::new(Kind::Vpc, dvpc);
        cx.dest
            .of_kind(Kind::SecurityGroup)
            .filter(|g| !cx.claimed.contains(&g.key.id))
            .find(|g| {
                typed::<SecurityGroupSpec>(&g.spec)
                    .is_some_and(|s| s.group_name == mine.group_name && s.vpc.key == dvpc_key)
            })
            .map(|g| {
                format!(
                    "group name {:?} is already taken in {dvpc} by {}",
                    mine.group_name, g.key.id
                )
            })
            .into_iter()
            .collect()
    }
}
