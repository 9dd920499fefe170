//! Network ACLs: numbered entries and subnet associations, both reconciled in
//! the contents phase. The immutable catch-all entries (rule 32767) are AWS's
//! and left out. Every subnet always belongs to exactly one ACL, so
//! associations are moved (ReplaceNetworkAclAssociation), never added or
//! removed: a subnet leaving a custom ACL goes back to its VPC's default ACL.
//! The default ACL of a VPC is mapped, not created.

use super::{filter, lookup_filters, resource};
use crate::adapter::{by_ids, gone_ok, page_size, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{IcmpTypeCode, PortRange, ResourceType, RuleAction};
use ferry_core::spec::{self, AclEntry, NetworkAclSpec};
use ferry_core::{Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet};

pub struct NetworkAcl;

/// The rule number of the catch-all entries AWS puts in every ACL.
const CATCH_ALL: i32 = 32767;

async fn page(
    cx: &Side,
    filters: Vec<aws_sdk_ec2::types::Filter>,
    ids: Option<Vec<String>>,
) -> Result<Vec<aws_sdk_ec2::types::NetworkAcl>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_network_acls()
        .set_filters(Some(filters))
        .set_max_results(page_size(ids.is_none()))
        .set_network_acl_ids(ids)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeNetworkAcls", e))?
                .network_acls()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

async fn list(
    cx: &Side,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<aws_sdk_ec2::types::NetworkAcl>> {
    page(cx, filters, None).await
}

/// Lists by lookup; IDs go in NetworkAclIds (see [`crate::adapter::by_ids`]).
async fn lookup_list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::NetworkAcl>> {
    let Lookup::Ids(ids) = lookup else {
        return list(cx, lookup_filters(lookup, "network-acl-id")).await;
    };
    by_ids(ids, |chunk| page(cx, vec![], Some(chunk))).await
}

async fn get(cx: &Side, id: &str) -> Result<Option<aws_sdk_ec2::types::NetworkAcl>> {
    Ok(lookup_list(cx, &Lookup::Ids(vec![id.to_string()]))
        .await?
        .into_iter()
        .next())
}

/// The default ACL of a VPC.
async fn default_acl(cx: &Side, vpc: &str) -> Result<String> {
    list(
        cx,
        vec![filter("vpc-id", [vpc]), filter("default", ["true"])],
    )
    .await?
    .iter()
    .find_map(|a| a.network_acl_id().map(String::from))
    .ok_or_else(|| cx.invalid(format!("{vpc} has no default network ACL")))
}

/// The association of a subnet (with whichever ACL it belongs to).
async fn association_of(cx: &Side, subnet: &str) -> Result<String> {
    list(cx, vec![filter("association.subnet-id", [subnet])])
        .await?
        .iter()
        .flat_map(|a| a.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| a.network_acl_association_id().map(String::from))
        .ok_or_else(|| {
            cx.invalid(format!(
                "subnet {subnet} has no network ACL association (does it exist?)"
            ))
        })
}

/// Subnet ID to association ID.
fn associations(a: &aws_sdk_ec2::types::NetworkAcl) -> BTreeMap<String, String> {
    a.associations()
        .iter()
        .filter_map(|x| {
            let subnet = x.subnet_id().filter(|s| !s.is_empty())?;
            Some((
                subnet.to_string(),
                x.network_acl_association_id()
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect()
}

fn to_spec(a: &aws_sdk_ec2::types::NetworkAcl) -> NetworkAclSpec {
    let mut entries: Vec<AclEntry> = a
        .entries()
        .iter()
        .filter(|e| e.rule_number() != Some(CATCH_ALL))
        .map(|e| AclEntry {
            rule_number: e.rule_number().unwrap_or_default(),
            egress: e.egress().unwrap_or(false),
            protocol: e.protocol().unwrap_or("-1").to_string(),
            action: e
                .rule_action()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            cidr_block: e.cidr_block().filter(|c| !c.is_empty()).map(String::from),
            ipv6_cidr_block: e
                .ipv6_cidr_block()
                .filter(|c| !c.is_empty())
                .map(String::from),
            port_range: e
                .port_range()
                .map(|p| (p.from().unwrap_or_default(), p.to().unwrap_or_default())),
            icmp: e
                .icmp_type_code()
                .map(|i| (i.r#type().unwrap_or_default(), i.code().unwrap_or_default())),
        })
        .collect();
    entries.sort();
    let default = a.is_default() == Some(true);
    NetworkAclSpec {
        vpc: Ref::new(Kind::Vpc, a.vpc_id().unwrap_or_default()),
        default,
        entries,
        // The default ACL's associations are implicit: every subnet that no
        // custom ACL claims. Listing them would tie it to default subnets
        // that may have no counterpart (zones missing in another region).
        associations: if default {
            vec![]
        } else {
            associations(a)
                .into_keys()
                .map(|s| Ref::new(Kind::Subnet, s))
                .collect()
        },
    }
}

fn show(e: &AclEntry) -> String {
    let dir = if e.egress { "egress" } else { "ingress" };
    let peer = e
        .cidr_block
        .as_deref()
        .or(e.ipv6_cidr_block.as_deref())
        .unwrap_or("?");
    let ports = match (e.port_range, e.icmp) {
        (Some((f, t)), _) if f == t => format!(" port {f}"),
        (Some((f, t)), _) => format!(" ports {f}-{t}"),
        (None, Some((t, c))) => format!(" icmp {t}/{c}"),
        _ => String::new(),
    };
    format!(
        "{dir} entry {} {} proto {}{ports} {peer}",
        e.rule_number, e.action, e.protocol
    )
}

/// Fills a CreateNetworkAclEntry / ReplaceNetworkAclEntry request from an entry.
macro_rules! with_entry {
    ($req:expr, $e:expr) => {{
        let e: &AclEntry = $e;
        $req.rule_number(e.rule_number)
            .egress(e.egress)
            .protocol(&e.protocol)
            .rule_action(RuleAction::from(e.action.as_str()))
            .set_cidr_block(e.cidr_block.clone())
            .set_ipv6_cidr_block(e.ipv6_cidr_block.clone())
            .set_port_range(
                e.port_range
                    .map(|(f, t)| PortRange::builder().from(f).to(t).build()),
            )
            .set_icmp_type_code(
                e.icmp
                    .map(|(t, c)| IcmpTypeCode::builder().r#type(t).code(c).build()),
            )
    }};
}

async fn move_association(cx: &Side, assoc: &str, acl: &str) -> Result<()> {
    cx.ec2(Class::Mutate)
        .await
        .replace_network_acl_association()
        .association_id(assoc)
        .network_acl_id(acl)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("ReplaceNetworkAclAssociation", e))
}

impl NetworkAcl {
    async fn converge_entries(
        &self,
        cx: &Side,
        id: &str,
        want: &NetworkAclSpec,
        have: &NetworkAclSpec,
    ) -> Result<Vec<String>> {
        let mut changes = vec![];
        let current: BTreeMap<(bool, i32), &AclEntry> = have
            .entries
            .iter()
            .map(|e| ((e.egress, e.rule_number), e))
            .collect();
        for e in &want.entries {
            match current.get(&(e.egress, e.rule_number)) {
                Some(h) if *h == e => {}
                Some(_) => {
                    let req = cx
                        .ec2(Class::Mutate)
                        .await
                        .replace_network_acl_entry()
                        .network_acl_id(id);
                    with_entry!(req, e)
                        .send()
                        .await
                        .map_err(|x| cx.err("ReplaceNetworkAclEntry", x))?;
                    changes.push(format!("{} replaced", show(e)));
                }
                None => {
                    let req = cx
                        .ec2(Class::Mutate)
                        .await
                        .create_network_acl_entry()
                        .network_acl_id(id);
                    match with_entry!(req, e)
                        .send()
                        .await
                        .map_err(|x| cx.err("CreateNetworkAclEntry", x))
                    {
                        Err(x) if !x.is_duplicate() => return Err(x),
                        _ => {}
                    }
                    changes.push(format!("{} added", show(e)));
                }
            }
        }
        let wanted: BTreeSet<(bool, i32)> = want
            .entries
            .iter()
            .map(|e| (e.egress, e.rule_number))
            .collect();
        for e in have
            .entries
            .iter()
            .filter(|e| !wanted.contains(&(e.egress, e.rule_number)))
        {
            gone_ok(
                cx.ec2(Class::Mutate)
                    .await
                    .delete_network_acl_entry()
                    .network_acl_id(id)
                    .rule_number(e.rule_number)
                    .egress(e.egress)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|x| cx.err("DeleteNetworkAclEntry", x)),
            )?;
            changes.push(format!("{} removed", show(e)));
        }
        Ok(changes)
    }

    async fn converge_associations(
        &self,
        cx: &Side,
        id: &str,
        want: &NetworkAclSpec,
        raw: &aws_sdk_ec2::types::NetworkAcl,
    ) -> Result<Vec<String>> {
        let mut changes = vec![];
        let have = associations(raw);
        for subnet in want
            .associations
            .iter()
            .map(Ref::id)
            .filter(|s| !have.contains_key(*s))
        {
            let assoc = association_of(cx, subnet).await?;
            move_association(cx, &assoc, id).await?;
            changes.push(format!("subnet {subnet} associated"));
        }
        // The default ACL keeps whatever no custom ACL claims.
        if raw.is_default() == Some(true) {
            return Ok(changes);
        }
        let wanted: BTreeSet<&str> = want.associations.iter().map(Ref::id).collect();
        let extra: Vec<(&String, &String)> = have
            .iter()
            .filter(|(s, _)| !wanted.contains(s.as_str()))
            .collect();
        if extra.is_empty() {
            return Ok(changes);
        }
        let default = default_acl(cx, raw.vpc_id().unwrap_or_default()).await?;
        for (subnet, assoc) in extra {
            move_association(cx, assoc, &default).await?;
            changes.push(format!(
                "subnet {subnet} returned to the default ACL {default}"
            ));
        }
        Ok(changes)
    }
}

#[async_trait]
impl KindAdapter for NetworkAcl {
    fn kind(&self) -> Kind {
        Kind::NetworkAcl
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(lookup_list(cx, lookup)
            .await?
            .iter()
            .map(|a| {
                let s = to_spec(a);
                let mut r = resource(
                    Kind::NetworkAcl,
                    a.network_acl_id().unwrap_or_default(),
                    spec::to_value(&s),
                    a.tags(),
                );
                r.default = s.default;
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: NetworkAclSpec = parse(cx, Kind::NetworkAcl, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_network_acl()
            .vpc_id(s.vpc.id())
            .set_tag_specifications(
                super::tag_spec(ResourceType::NetworkAcl, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateNetworkAcl", e))?;
        out.network_acl()
            .and_then(|a| a.network_acl_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateNetworkAcl returned no network ACL id"))
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        if phase == Phase::Create {
            return super::converge_tags_only(self, cx, id, want).await;
        }
        let s: NetworkAclSpec = parse(cx, Kind::NetworkAcl, &want.spec)?;
        let raw = get(cx, id).await?.ok_or_else(|| {
            crate::AwsError::not_found(
                cx.name,
                "DescribeNetworkAcls",
                "InvalidNetworkAclID.NotFound",
                id,
            )
        })?;
        let mut changes = self.converge_entries(cx, id, &s, &to_spec(&raw)).await?;
        changes.extend(self.converge_associations(cx, id, &s, &raw).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let Some(raw) = get(cx, id).await? else {
            return Ok(());
        };
        let have = associations(&raw);
        if !have.is_empty() {
            let default = default_acl(cx, raw.vpc_id().unwrap_or_default()).await?;
            for assoc in have.values() {
                gone_ok(move_association(cx, assoc, &default).await)?;
            }
        }
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_network_acl()
                .network_acl_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteNetworkAcl", e)),
        )
    }

    fn lists_in_pages(&self) -> bool {
        true
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeNetworkAcls",
            "ec2:CreateNetworkAcl",
            "ec2:CreateNetworkAclEntry",
            "ec2:ReplaceNetworkAclEntry",
            "ec2:DeleteNetworkAclEntry",
            "ec2:ReplaceNetworkAclAssociation",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteNetworkAcl",
        ]
    }
}
