//! Security groups: name, description and VPC at creation; ingress and egress
//! rules in the contents phase, so groups that reference each other are all
//! created empty first (ARCHITECTURE.md invariant 4). Rules are flattened to one per
//! peer; AWS-managed prefix lists travel by name; groups of other accounts
//! (peered VPCs) are kept as they are. The default group of a VPC is mapped,
//! not created.

use super::prefix_list::PrefixLists;
use super::{filter, lookup_filters, resource};
use crate::adapter::{duplicate_ok, gone_ok, page_size, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, UserIdGroupPair,
};
use ferry_core::spec::{self, SecurityGroupSpec, SgPeer, SgRule};
use ferry_core::{Kind, Ref, Resource};

pub struct SecurityGroup;

/// The name AWS gives every VPC's default group.
const DEFAULT_GROUP: &str = "default";

async fn list(
    cx: &Side,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<aws_sdk_ec2::types::SecurityGroup>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_security_groups()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeSecurityGroups", e))?
                .security_groups()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

fn uses_prefix_lists(perms: &[IpPermission]) -> bool {
    perms.iter().any(|p| !p.prefix_list_ids().is_empty())
}

fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(String::from)
}

/// Flattens IpPermissions into one rule per peer, sorted.
fn rules(perms: &[IpPermission], account: &str, pls: &PrefixLists) -> Vec<SgRule> {
    let mut out = vec![];
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1").to_ascii_lowercase();
        let (from_port, to_port) = if protocol == "-1" {
            (None, None)
        } else {
            (p.from_port(), p.to_port())
        };
        let mut add = |peer: SgPeer, description: Option<&str>| {
            out.push(SgRule {
                protocol: protocol.clone(),
                from_port,
                to_port,
                peer,
                description: text(description),
            })
        };
        for r in p.ip_ranges() {
            if let Some(c) = r.cidr_ip() {
                add(SgPeer::Cidr(c.to_string()), r.description());
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(c) = r.cidr_ipv6() {
                add(SgPeer::Ipv6Cidr(c.to_string()), r.description());
            }
        }
        for r in p.prefix_list_ids() {
            if let Some(id) = r.prefix_list_id() {
                let peer = match pls.name(id) {
                    Some(name) => SgPeer::PrefixList(name.to_string()),
                    None => SgPeer::PrefixListRef(Ref::new(Kind::PrefixList, id)),
                };
                add(peer, r.description());
            }
        }
        for g in p.user_id_group_pairs() {
            let Some(group) = g.group_id() else { continue };
            let peer = match g.user_id().filter(|u| !u.is_empty() && *u != account) {
                None => SgPeer::Group(Ref::new(Kind::SecurityGroup, group)),
                Some(other) => SgPeer::ForeignGroup {
                    account: other.to_string(),
                    group_id: group.to_string(),
                },
            };
            add(peer, g.description());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn to_spec(
    g: &aws_sdk_ec2::types::SecurityGroup,
    account: &str,
    pls: &PrefixLists,
) -> SecurityGroupSpec {
    SecurityGroupSpec {
        group_name: g.group_name().unwrap_or_default().to_string(),
        description: g.description().unwrap_or_default().to_string(),
        vpc: Ref::new(Kind::Vpc, g.vpc_id().unwrap_or_default()),
        ingress: rules(g.ip_permissions(), account, pls),
        egress: rules(g.ip_permissions_egress(), account, pls),
    }
}

/// The IpPermission of one rule. Revokes carry the description too: AWS
/// ignores it there, and the emulator matches group rules only with it.
fn permission(cx: &Side, r: &SgRule, pls: &PrefixLists) -> Result<IpPermission> {
    let d = r.description.clone();
    let b = IpPermission::builder()
        .ip_protocol(&r.protocol)
        .set_from_port(r.from_port)
        .set_to_port(r.to_port);
    let b = match &r.peer {
        SgPeer::Cidr(c) => b.ip_ranges(IpRange::builder().cidr_ip(c).set_description(d).build()),
        SgPeer::Ipv6Cidr(c) => {
            b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).set_description(d).build())
        }
        SgPeer::PrefixList(name) => b.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(pls.id(cx, name)?)
                .set_description(d)
                .build(),
        ),
        SgPeer::PrefixListRef(p) => b.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(p.id())
                .set_description(d)
                .build(),
        ),
        SgPeer::Group(g) => b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g.id())
                .set_description(d)
                .build(),
        ),
        SgPeer::ForeignGroup { account, group_id } => b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .user_id(account)
                .group_id(group_id)
                .set_description(d)
                .build(),
        ),
    };
    Ok(b.build())
}

/// A permission as describe returned it, reduced to what a revoke matches on
/// (descriptions kept, see [`permission`]).
fn bare(p: &IpPermission) -> IpPermission {
    IpPermission::builder()
        .set_ip_protocol(p.ip_protocol().map(String::from))
        .set_from_port(p.from_port())
        .set_to_port(p.to_port())
        .set_ip_ranges(Some(
            p.ip_ranges()
                .iter()
                .map(|r| {
                    IpRange::builder()
                        .set_cidr_ip(r.cidr_ip().map(String::from))
                        .set_description(r.description().map(String::from))
                        .build()
                })
                .collect(),
        ))
        .set_ipv6_ranges(Some(
            p.ipv6_ranges()
                .iter()
                .map(|r| {
                    Ipv6Range::builder()
                        .set_cidr_ipv6(r.cidr_ipv6().map(String::from))
                        .set_description(r.description().map(String::from))
                        .build()
                })
                .collect(),
        ))
        .set_prefix_list_ids(Some(
            p.prefix_list_ids()
                .iter()
                .map(|r| {
                    PrefixListId::builder()
                        .set_prefix_list_id(r.prefix_list_id().map(String::from))
                        .set_description(r.description().map(String::from))
                        .build()
                })
                .collect(),
        ))
        .set_user_id_group_pairs(Some(
            p.user_id_group_pairs()
                .iter()
                .map(|g| {
                    UserIdGroupPair::builder()
                        .set_group_id(g.group_id().map(String::from))
                        .set_user_id(g.user_id().map(String::from))
                        .set_description(g.description().map(String::from))
                        .build()
                })
                .collect(),
        ))
        .build()
}

fn show(dir: &str, r: &SgRule) -> String {
    let ports = match (r.from_port, r.to_port) {
        (Some(f), Some(t)) if f == t => format!(" {f}"),
        (Some(f), Some(t)) => format!(" {f}-{t}"),
        _ => String::new(),
    };
    let peer = match &r.peer {
        SgPeer::Cidr(c) | SgPeer::Ipv6Cidr(c) | SgPeer::PrefixList(c) => c.clone(),
        SgPeer::PrefixListRef(p) | SgPeer::Group(p) => p.id().to_string(),
        SgPeer::ForeignGroup { account, group_id } => format!("{account}/{group_id}"),
    };
    let way = if dir == "egress" { "to" } else { "from" };
    let proto = if r.protocol == "-1" {
        "all"
    } else {
        &r.protocol
    };
    format!("{dir} {proto}{ports} {way} {peer}")
}

async fn revoke(cx: &Side, id: &str, egress: bool, perms: Vec<IpPermission>) -> Result<()> {
    if perms.is_empty() {
        return Ok(());
    }
    if egress {
        cx.ec2(Class::Mutate)
            .await
            .revoke_security_group_egress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("RevokeSecurityGroupEgress", e))
    } else {
        cx.ec2(Class::Mutate)
            .await
            .revoke_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("RevokeSecurityGroupIngress", e))
    }
}

/// Revokes in one call; when part of the batch is already gone (AWS then
/// revokes nothing), retries rule by rule.
async fn revoke_all(cx: &Side, id: &str, egress: bool, perms: Vec<IpPermission>) -> Result<()> {
    match revoke(cx, id, egress, perms.clone()).await {
        Err(e) if e.is_not_found() && perms.len() > 1 => {
            for p in perms {
                gone_ok(revoke(cx, id, egress, vec![p]).await)?;
            }
            Ok(())
        }
        r => gone_ok(r),
    }
}

async fn authorize(cx: &Side, id: &str, egress: bool, perms: Vec<IpPermission>) -> Result<()> {
    if perms.is_empty() {
        return Ok(());
    }
    if egress {
        cx.ec2(Class::Mutate)
            .await
            .authorize_security_group_egress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("AuthorizeSecurityGroupEgress", e))
    } else {
        cx.ec2(Class::Mutate)
            .await
            .authorize_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("AuthorizeSecurityGroupIngress", e))
    }
}

/// Authorizes in one call; when part of the batch is already there (AWS then
/// adds nothing), retries rule by rule.
async fn authorize_all(cx: &Side, id: &str, egress: bool, perms: Vec<IpPermission>) -> Result<()> {
    match authorize(cx, id, egress, perms.clone()).await {
        Err(e) if e.is_duplicate() && perms.len() > 1 => {
            for p in perms {
                duplicate_ok(authorize(cx, id, egress, vec![p]).await)?;
            }
            Ok(())
        }
        r => duplicate_ok(r),
    }
}

async fn update_descriptions(
    cx: &Side,
    id: &str,
    egress: bool,
    perms: Vec<IpPermission>,
) -> Result<()> {
    if perms.is_empty() {
        return Ok(());
    }
    if egress {
        cx.ec2(Class::Mutate)
            .await
            .update_security_group_rule_descriptions_egress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("UpdateSecurityGroupRuleDescriptionsEgress", e))
    } else {
        cx.ec2(Class::Mutate)
            .await
            .update_security_group_rule_descriptions_ingress()
            .group_id(id)
            .set_ip_permissions(Some(perms))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("UpdateSecurityGroupRuleDescriptionsIngress", e))
    }
}

/// The rule of `other` with the same permission as `r`.
fn matching<'a>(r: &SgRule, other: &'a [SgRule]) -> Option<&'a SgRule> {
    other.iter().find(|o| o.same_permission(r))
}

/// The wanted rule has no description and the current one has.
fn undescribed(want: &SgRule, have: &SgRule) -> bool {
    want.description.is_none() && have.description.is_some()
}

/// Brings one direction's rules in line: revokes extras first (a new group's
/// default allow-all egress among them), then updates changed descriptions,
/// then authorizes what is missing. Batched in one call each; a batch that
/// fails because part of it is already done is retried rule by rule.
async fn converge_rules(
    cx: &Side,
    id: &str,
    egress: bool,
    want: &[SgRule],
    have: &[SgRule],
    pls: &PrefixLists,
) -> Result<Vec<String>> {
    let dir = if egress { "egress" } else { "ingress" };
    let mut changes = vec![];
    // A description is changed in place; removing one is not possible in
    // place everywhere (the emulator keeps it), so that rule is re-added.
    let extra: Vec<&SgRule> = have
        .iter()
        .filter(|h| matching(h, want).is_none_or(|w| undescribed(w, h)))
        .collect();
    let redescribe: Vec<&SgRule> = want
        .iter()
        .filter(|w| {
            w.description.is_some()
                && matching(w, have).is_some_and(|h| h.description != w.description)
        })
        .collect();
    let missing: Vec<&SgRule> = want
        .iter()
        .filter(|w| matching(w, have).is_none_or(|h| undescribed(w, h)))
        .collect();

    let perms = extra
        .iter()
        .map(|r| permission(cx, r, pls))
        .collect::<Result<Vec<_>>>()?;
    revoke_all(cx, id, egress, perms).await?;
    changes.extend(extra.iter().map(|r| format!("{} revoked", show(dir, r))));

    let perms = redescribe
        .iter()
        .map(|r| permission(cx, r, pls))
        .collect::<Result<Vec<_>>>()?;
    update_descriptions(cx, id, egress, perms).await?;
    changes.extend(redescribe.iter().map(|r| {
        format!(
            "{} description set to {:?}",
            show(dir, r),
            r.description.as_deref().unwrap_or_default()
        )
    }));

    let perms = missing
        .iter()
        .map(|r| permission(cx, r, pls))
        .collect::<Result<Vec<_>>>()?;
    authorize_all(cx, id, egress, perms).await?;
    changes.extend(
        missing
            .iter()
            .map(|r| format!("{} authorized", show(dir, r))),
    );
    Ok(changes)
}

fn names_prefix_list(rules: &[SgRule]) -> bool {
    rules
        .iter()
        .any(|r| matches!(r.peer, SgPeer::PrefixList(_)))
}

#[async_trait]
impl KindAdapter for SecurityGroup {
    fn kind(&self) -> Kind {
        Kind::SecurityGroup
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let groups = list(cx, lookup_filters(lookup, "group-id")).await?;
        let needed = groups.iter().any(|g| {
            uses_prefix_lists(g.ip_permissions()) || uses_prefix_lists(g.ip_permissions_egress())
        });
        let pls = PrefixLists::load_if(cx, needed).await?;
        Ok(groups
            .iter()
            .map(|g| {
                let s = to_spec(g, &cx.info.account, &pls);
                let mut r = resource(
                    Kind::SecurityGroup,
                    g.group_id().unwrap_or_default(),
                    spec::to_value(&s),
                    g.tags(),
                );
                r.default = s.group_name == DEFAULT_GROUP;
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: SecurityGroupSpec = parse(cx, Kind::SecurityGroup, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_security_group()
            .group_name(&s.group_name)
            .description(&s.description)
            .vpc_id(s.vpc.id())
            .set_tag_specifications(
                super::tag_spec(ResourceType::SecurityGroup, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateSecurityGroup", e))?;
        out.group_id()
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateSecurityGroup returned no group id"))
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
        let s: SecurityGroupSpec = parse(cx, Kind::SecurityGroup, &want.spec)?;
        let raw = list(cx, vec![filter("group-id", [id])])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                crate::AwsError::not_found(
                    cx.name,
                    "DescribeSecurityGroups",
                    "InvalidGroup.NotFound",
                    id,
                )
            })?;
        let needed = names_prefix_list(&s.ingress)
            || names_prefix_list(&s.egress)
            || uses_prefix_lists(raw.ip_permissions())
            || uses_prefix_lists(raw.ip_permissions_egress());
        let pls = PrefixLists::load_if(cx, needed).await?;
        let have = to_spec(&raw, &cx.info.account, &pls);
        let mut changes = converge_rules(cx, id, false, &s.ingress, &have.ingress, &pls).await?;
        changes.extend(converge_rules(cx, id, true, &s.egress, &have.egress, &pls).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let Some(raw) = list(cx, vec![filter("group-id", [id])])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        // Rules first, so groups that name each other can all be deleted.
        revoke_all(
            cx,
            id,
            false,
            raw.ip_permissions().iter().map(bare).collect(),
        )
        .await?;
        revoke_all(
            cx,
            id,
            true,
            raw.ip_permissions_egress().iter().map(bare).collect(),
        )
        .await?;
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteSecurityGroup", e)),
        )
    }

    fn lists_in_pages(&self) -> bool {
        true
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeManagedPrefixLists",
            "ec2:CreateSecurityGroup",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteSecurityGroup",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_flatten_to_one_rule_per_peer() {
        let pls = PrefixLists::default();
        let perms = [
            IpPermission::builder()
                .ip_protocol("TCP")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("10.0.0.0/8")
                        .description("office")
                        .build(),
                )
                .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id("sg-1")
                        .user_id("111111111111")
                        .build(),
                )
                .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-2").build())
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id("sg-9")
                        .user_id("999999999999")
                        .build(),
                )
                .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-7").build())
                .build(),
            IpPermission::builder()
                .ip_protocol("-1")
                .from_port(0)
                .to_port(65535)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .description("")
                        .build(),
                )
                .build(),
        ];
        let rules = rules(&perms, "111111111111", &pls);
        let peers: Vec<&SgPeer> = rules.iter().map(|r| &r.peer).collect();
        assert_eq!(rules.len(), 7);
        assert!(rules.iter().all(|r| r.protocol == "tcp"
            || (r.protocol == "-1" && r.from_port.is_none() && r.to_port.is_none())));
        assert!(peers.contains(&&SgPeer::Group(Ref::new(Kind::SecurityGroup, "sg-1"))));
        assert!(peers.contains(&&SgPeer::Group(Ref::new(Kind::SecurityGroup, "sg-2"))));
        assert!(peers.contains(&&SgPeer::ForeignGroup {
            account: "999999999999".into(),
            group_id: "sg-9".into()
        }));
        assert!(peers.contains(&&SgPeer::PrefixListRef(Ref::new(Kind::PrefixList, "pl-7"))));
        let office = rules
            .iter()
            .find(|r| r.peer == SgPeer::Cidr("10.0.0.0/8".into()))
            .unwrap();
        assert_eq!(office.description.as_deref(), Some("office"));
        let all = rules.iter().find(|r| r.protocol == "-1").unwrap();
        assert_eq!(
            all.description, None,
            "an empty description is no description"
        );
        let mut sorted = rules.clone();
        sorted.sort();
        assert_eq!(rules, sorted);
    }
}
