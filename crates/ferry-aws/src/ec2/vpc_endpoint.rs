//! VPC endpoints (gateway, interface, Gateway Load Balancer): service (by
//! name, translated between regions), route tables, subnets, security groups,
//! private DNS and the endpoint policy. Everything is set at creation and
//! reconciled with ModifyVpcEndpoint; there is no contents phase. The routes a
//! gateway endpoint adds to its route tables are AWS's, not the route table's.

use super::{converge_tags, lookup_filters, resource};
use crate::adapter::{by_ids, one, page_size, parse};
use crate::ratelimit::Class;
use crate::{AwsError, Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcEndpointType};
use ferry_core::spec::{self, VpcEndpointSpec};
use ferry_core::{Kind, Ref, Resource};
use std::collections::BTreeSet;

pub struct VpcEndpoint;

/// States of endpoints that are gone or never came to be.
const GONE: &[&str] = &["deleted", "deleting", "failed", "rejected", "expired"];

const INTERFACE: &str = "Interface";

async fn page(
    cx: &Side,
    lookup: &Lookup,
    ids: Option<Vec<String>>,
) -> Result<Vec<aws_sdk_ec2::types::VpcEndpoint>> {
    let mut out = vec![];
    let filters = if ids.is_some() {
        vec![]
    } else {
        lookup_filters(lookup, "vpc-endpoint-id")
    };
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_vpc_endpoints()
        .set_filters(Some(filters))
        .set_max_results(page_size(ids.is_none()))
        .set_vpc_endpoint_ids(ids)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeVpcEndpoints", e))?
                .vpc_endpoints()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

/// Lists by lookup; IDs go in VpcEndpointIds (see [`crate::adapter::by_ids`]).
async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::VpcEndpoint>> {
    let Lookup::Ids(ids) = lookup else {
        return page(cx, lookup, None).await;
    };
    by_ids(ids, |chunk| page(cx, lookup, Some(chunk))).await
}

fn refs<'a>(kind: Kind, ids: impl IntoIterator<Item = &'a str>) -> Vec<Ref> {
    let mut out: Vec<Ref> = ids
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| Ref::new(kind, s))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn to_spec(e: &aws_sdk_ec2::types::VpcEndpoint) -> VpcEndpointSpec {
    let endpoint_type = e
        .vpc_endpoint_type()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    VpcEndpointSpec {
        vpc: Ref::new(Kind::Vpc, e.vpc_id().unwrap_or_default()),
        service_name: e.service_name().unwrap_or_default().to_string(),
        route_tables: refs(
            Kind::RouteTable,
            e.route_table_ids().iter().map(String::as_str),
        ),
        subnets: refs(Kind::Subnet, e.subnet_ids().iter().map(String::as_str)),
        security_groups: refs(
            Kind::SecurityGroup,
            e.groups().iter().filter_map(|g| g.group_id()),
        ),
        // Private DNS exists only for interface endpoints.
        private_dns_enabled: endpoint_type == INTERFACE && e.private_dns_enabled() == Some(true),
        policy: e
            .policy_document()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                serde_json::from_str(p).unwrap_or_else(|_| serde_json::Value::String(p.to_string()))
            }),
        endpoint_type,
    }
}

fn policy_text(p: &serde_json::Value) -> String {
    match p {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// IDs in `want` and not in `have`, and the reverse.
fn diff(want: &[Ref], have: &[Ref]) -> (Vec<String>, Vec<String>) {
    let w: BTreeSet<&str> = want.iter().map(Ref::id).collect();
    let h: BTreeSet<&str> = have.iter().map(Ref::id).collect();
    (
        w.difference(&h).map(|s| s.to_string()).collect(),
        h.difference(&w).map(|s| s.to_string()).collect(),
    )
}

#[async_trait]
impl KindAdapter for VpcEndpoint {
    fn kind(&self) -> Kind {
        Kind::VpcEndpoint
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(list(cx, lookup)
            .await?
            .iter()
            .filter(|e| {
                !e.state()
                    .is_some_and(|s| GONE.contains(&s.as_str().to_ascii_lowercase().as_str()))
            })
            .map(|e| {
                resource(
                    Kind::VpcEndpoint,
                    e.vpc_endpoint_id().unwrap_or_default(),
                    spec::to_value(&to_spec(e)),
                    e.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: VpcEndpointSpec = parse(cx, Kind::VpcEndpoint, &want.spec)?;
        let ids = |r: &[Ref]| {
            Some(r.iter().map(|x| x.id().to_string()).collect::<Vec<_>>()).filter(|v| !v.is_empty())
        };
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_vpc_endpoint()
            .vpc_id(s.vpc.id())
            .service_name(&s.service_name)
            .vpc_endpoint_type(VpcEndpointType::from(s.endpoint_type.as_str()))
            .set_route_table_ids(ids(&s.route_tables))
            .set_subnet_ids(ids(&s.subnets))
            .set_security_group_ids(ids(&s.security_groups))
            .set_private_dns_enabled(
                (s.endpoint_type == INTERFACE).then_some(s.private_dns_enabled),
            )
            .set_policy_document(s.policy.as_ref().map(policy_text))
            .set_tag_specifications(
                super::tag_spec(ResourceType::VpcEndpoint, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateVpcEndpoint", e))?;
        out.vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateVpcEndpoint returned no endpoint id"))
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
        let s: VpcEndpointSpec = parse(cx, Kind::VpcEndpoint, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: VpcEndpointSpec = parse(cx, Kind::VpcEndpoint, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        let (add_rt, rm_rt) = diff(&s.route_tables, &have.route_tables);
        let (add_sn, rm_sn) = diff(&s.subnets, &have.subnets);
        let (add_sg, rm_sg) = diff(&s.security_groups, &have.security_groups);
        // No policy wanted: the service has none or uses its default; leave it.
        let policy = s
            .policy
            .as_ref()
            .filter(|p| have.policy.as_ref() != Some(*p));
        let dns = (s.endpoint_type == INTERFACE
            && s.private_dns_enabled != have.private_dns_enabled)
            .then_some(s.private_dns_enabled);
        let mut what = vec![];
        for (label, add, rm) in [
            ("route table", &add_rt, &rm_rt),
            ("subnet", &add_sn, &rm_sn),
            ("security group", &add_sg, &rm_sg),
        ] {
            what.extend(add.iter().map(|x| format!("{label} {x} added")));
            what.extend(rm.iter().map(|x| format!("{label} {x} removed")));
        }
        if policy.is_some() {
            what.push("policy replaced".to_string());
        }
        if let Some(d) = dns {
            what.push(format!("private DNS set to {d}"));
        }
        if what.is_empty() {
            return Ok(changes);
        }
        let some = |v: Vec<String>| Some(v).filter(|v| !v.is_empty());
        cx.ec2(Class::Mutate)
            .await
            .modify_vpc_endpoint()
            .vpc_endpoint_id(id)
            .set_add_route_table_ids(some(add_rt))
            .set_remove_route_table_ids(some(rm_rt))
            .set_add_subnet_ids(some(add_sn))
            .set_remove_subnet_ids(some(rm_sn))
            .set_add_security_group_ids(some(add_sg))
            .set_remove_security_group_ids(some(rm_sg))
            .set_policy_document(policy.map(policy_text))
            .set_private_dns_enabled(dns)
            .send()
            .await
            .map_err(|e| cx.err("ModifyVpcEndpoint", e))?;
        changes.extend(what);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        // Already deleted (the emulator fails a second delete of a gateway
        // endpoint whose route tables are gone).
        if self
            .describe(cx, &Lookup::Ids(vec![id.to_string()]))
            .await?
            .is_empty()
        {
            return Ok(());
        }
        // Only the endpoint's own NotFound means it is gone; another
        // (a route of a gateway endpoint, say) is a real failure.
        let gone = |e: &AwsError| {
            e.code()
                .is_some_and(|c| c.starts_with("InvalidVpcEndpoint") && c.contains("NotFound"))
        };
        let out = match cx
            .ec2(Class::Mutate)
            .await
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let e = cx.err("DeleteVpcEndpoints", e);
                return if gone(&e) { Ok(()) } else { Err(e) };
            }
        };
        for u in out.unsuccessful() {
            let e = AwsError::Api {
                side: cx.name,
                op: "DeleteVpcEndpoints",
                code: u.error().and_then(|e| e.code()).map(String::from),
                message: u
                    .error()
                    .and_then(|e| e.message())
                    .unwrap_or("refused")
                    .to_string(),
            };
            if !gone(&e) {
                return Err(e);
            }
        }
        Ok(())
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeVpcEndpoints",
            "ec2:CreateVpcEndpoint",
            "ec2:ModifyVpcEndpoint",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteVpcEndpoints",
        ]
    }
}
