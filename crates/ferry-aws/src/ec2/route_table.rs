//! Route tables: routes (to gateways, NAT gateways, peerings, instances,
//! interfaces ...) and subnet associations, both reconciled in the contents
//! phase. The local route, routes owned by gateway endpoints and propagated
//! routes are AWS's and never touched. AWS-managed prefix lists are named,
//! not numbered, so a route to S3 survives the move between regions. The
//! main route table of a VPC is mapped, not created.

use super::prefix_list::PrefixLists;
use super::{filter, lookup_filters, resource};
use crate::adapter::{duplicate_ok, gone_ok, page_size, parse, reference};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, Route, RouteOrigin, RouteTableAssociationStateCode};
use ferry_core::spec::{self, RouteDestination, RouteSpec, RouteTableSpec};
use ferry_core::{Kind, Ref, Resource};
use std::collections::{BTreeMap, BTreeSet};

pub struct RouteTable;

async fn list(
    cx: &Side,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<aws_sdk_ec2::types::RouteTable>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_route_tables()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeRouteTables", e))?
                .route_tables()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

async fn get(cx: &Side, id: &str) -> Result<Option<aws_sdk_ec2::types::RouteTable>> {
    Ok(list(cx, vec![filter("route-table-id", [id])])
        .await?
        .into_iter()
        .next())
}

/// Routes ferry manages: not the local route, not those a gateway endpoint
/// adds (GatewayId vpce-...), not those propagated from a virtual gateway.
fn managed(r: &Route) -> bool {
    let gw = r.gateway_id().unwrap_or_default();
    gw != "local"
        && !gw.starts_with("vpce-")
        && r.origin() != Some(&RouteOrigin::EnableVgwRoutePropagation)
}

fn target(r: &Route) -> Option<Ref> {
    if let Some(g) = r.gateway_id().filter(|g| !g.is_empty()) {
        return Ref::from_id(g);
    }
    // An instance route also names the instance's interface: the instance wins.
    [
        (Kind::NatGateway, r.nat_gateway_id()),
        (Kind::VpcPeering, r.vpc_peering_connection_id()),
        (Kind::Instance, r.instance_id()),
        (Kind::NetworkInterface, r.network_interface_id()),
        (Kind::TransitGateway, r.transit_gateway_id()),
        (
            Kind::EgressOnlyInternetGateway,
            r.egress_only_internet_gateway_id(),
        ),
        (Kind::CarrierGateway, r.carrier_gateway_id()),
        (Kind::LocalGateway, r.local_gateway_id()),
    ]
    .into_iter()
    .find_map(|(k, id)| reference(k, id))
}

fn destination(r: &Route, pls: &PrefixLists) -> Option<RouteDestination> {
    if let Some(c) = r.destination_cidr_block().filter(|c| !c.is_empty()) {
        Some(RouteDestination::Cidr(c.to_string()))
    } else if let Some(c) = r.destination_ipv6_cidr_block().filter(|c| !c.is_empty()) {
        Some(RouteDestination::Ipv6Cidr(c.to_string()))
    } else {
        r.destination_prefix_list_id()
            .filter(|p| !p.is_empty())
            .map(|p| match pls.name(p) {
                Some(name) => RouteDestination::PrefixList(name.to_string()),
                None => RouteDestination::PrefixListRef(Ref::new(Kind::PrefixList, p)),
            })
    }
}

fn needs_prefix_lists<'a>(
    tables: impl IntoIterator<Item = &'a aws_sdk_ec2::types::RouteTable>,
) -> bool {
    tables.into_iter().flat_map(|t| t.routes()).any(|r| {
        managed(r)
            && r.destination_prefix_list_id()
                .is_some_and(|p| !p.is_empty())
    })
}

/// Explicit subnet associations (not the main one), subnet ID to association ID.
fn subnet_associations(t: &aws_sdk_ec2::types::RouteTable) -> BTreeMap<String, String> {
    t.associations()
        .iter()
        .filter(|a| a.main() != Some(true))
        .filter(|a| {
            a.association_state()
                .and_then(|s| s.state())
                .is_none_or(|s| {
                    matches!(
                        s,
                        RouteTableAssociationStateCode::Associated
                            | RouteTableAssociationStateCode::Associating
                    )
                })
        })
        .filter_map(|a| {
            let subnet = a.subnet_id().filter(|s| !s.is_empty())?;
            Some((
                subnet.to_string(),
                a.route_table_association_id()
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect()
}

fn to_spec(t: &aws_sdk_ec2::types::RouteTable, pls: &PrefixLists) -> RouteTableSpec {
    let id = t.route_table_id().unwrap_or_default();
    let mut routes: Vec<RouteSpec> = t
        .routes()
        .iter()
        .filter(|r| managed(r))
        .filter_map(|r| match (destination(r, pls), target(r)) {
            (Some(destination), Some(target)) => Some(RouteSpec { destination, target }),
            _ => {
                tracing::warn!(route_table = id, route = ?r, "route with a destination or target ferry does not know: skipped");
                None
            }
        })
        .collect();
    routes.sort();
    routes.dedup();
    RouteTableSpec {
        vpc: Ref::new(Kind::Vpc, t.vpc_id().unwrap_or_default()),
        main: t.associations().iter().any(|a| a.main() == Some(true)),
        routes,
        associations: subnet_associations(t)
            .into_keys()
            .map(|s| Ref::new(Kind::Subnet, s))
            .collect(),
    }
}

/// A route destination as the API's three destination fields take it.
enum Dest {
    V4(String),
    V6(String),
    PrefixList(String),
}

fn api_destination(cx: &Side, d: &RouteDestination, pls: &PrefixLists) -> Result<Dest> {
    Ok(match d {
        RouteDestination::Cidr(c) => Dest::V4(c.clone()),
        RouteDestination::Ipv6Cidr(c) => Dest::V6(c.clone()),
        RouteDestination::PrefixList(name) => Dest::PrefixList(pls.id(cx, name)?),
        RouteDestination::PrefixListRef(r) => Dest::PrefixList(r.id().to_string()),
    })
}

fn show(d: &RouteDestination) -> &str {
    match d {
        RouteDestination::Cidr(c)
        | RouteDestination::Ipv6Cidr(c)
        | RouteDestination::PrefixList(c) => c,
        RouteDestination::PrefixListRef(r) => r.id(),
    }
}

/// Sets the destination field of a CreateRoute / ReplaceRoute / DeleteRoute request.
macro_rules! with_destination {
    ($req:expr, $d:expr) => {
        match $d {
            Dest::V4(c) => $req.destination_cidr_block(c),
            Dest::V6(c) => $req.destination_ipv6_cidr_block(c),
            Dest::PrefixList(p) => $req.destination_prefix_list_id(p),
        }
    };
}

/// Sets the target field of a CreateRoute / ReplaceRoute request from the
/// target's kind.
macro_rules! with_target {
    ($cx:expr, $req:expr, $t:expr) => {{
        let t: &Ref = $t;
        let id = t.id();
        match t.key.kind {
            Kind::InternetGateway | Kind::VpnGateway => $req.gateway_id(id),
            Kind::NatGateway => $req.nat_gateway_id(id),
            Kind::VpcPeering => $req.vpc_peering_connection_id(id),
            Kind::Instance => $req.instance_id(id),
            Kind::NetworkInterface => $req.network_interface_id(id),
            Kind::TransitGateway => $req.transit_gateway_id(id),
            Kind::EgressOnlyInternetGateway => $req.egress_only_internet_gateway_id(id),
            Kind::CarrierGateway => $req.carrier_gateway_id(id),
            Kind::LocalGateway => $req.local_gateway_id(id),
            Kind::VpcEndpoint => $req.vpc_endpoint_id(id),
            other => return Err($cx.invalid(format!("a route cannot target a {other} ({id})"))),
        }
    }};
}

/// The explicit association of a subnet with any route table, if it has one.
async fn explicit_association(cx: &Side, subnet: &str) -> Result<Option<(String, String)>> {
    for t in list(cx, vec![filter("association.subnet-id", [subnet])]).await? {
        if let Some(a) = subnet_associations(&t).remove(subnet) {
            return Ok(Some((
                t.route_table_id().unwrap_or_default().to_string(),
                a,
            )));
        }
    }
    Ok(None)
}

impl RouteTable {
    async fn converge_routes(
        &self,
        cx: &Side,
        id: &str,
        want: &RouteTableSpec,
        have: &RouteTableSpec,
        pls: &PrefixLists,
    ) -> Result<Vec<String>> {
        let mut changes = vec![];
        let current: BTreeMap<&RouteDestination, &Ref> = have
            .routes
            .iter()
            .map(|r| (&r.destination, &r.target))
            .collect();
        for r in &want.routes {
            let d = api_destination(cx, &r.destination, pls)?;
            match current.get(&r.destination) {
                Some(t) if *t == &r.target => {}
                Some(t) => {
                    let req = cx
                        .ec2(Class::Mutate)
                        .await
                        .replace_route()
                        .route_table_id(id);
                    let req = with_destination!(req, d);
                    let req = with_target!(cx, req, &r.target);
                    req.send().await.map_err(|e| cx.err("ReplaceRoute", e))?;
                    changes.push(format!(
                        "route {} -> {} replaced (was -> {})",
                        show(&r.destination),
                        r.target.id(),
                        t.id()
                    ));
                }
                None => {
                    let req = cx
                        .ec2(Class::Mutate)
                        .await
                        .create_route()
                        .route_table_id(id);
                    let req = with_destination!(req, d);
                    let req = with_target!(cx, req, &r.target);
                    duplicate_ok(
                        req.send()
                            .await
                            .map(|_| ())
                            .map_err(|e| cx.err("CreateRoute", e)),
                    )?;
                    changes.push(format!(
                        "route {} -> {} added",
                        show(&r.destination),
                        r.target.id()
                    ));
                }
            }
        }
        let wanted: BTreeSet<&RouteDestination> =
            want.routes.iter().map(|r| &r.destination).collect();
        for r in have
            .routes
            .iter()
            .filter(|r| !wanted.contains(&r.destination))
        {
            let d = api_destination(cx, &r.destination, pls)?;
            let req = cx
                .ec2(Class::Mutate)
                .await
                .delete_route()
                .route_table_id(id);
            let req = with_destination!(req, d);
            gone_ok(
                req.send()
                    .await
                    .map(|_| ())
                    .map_err(|e| cx.err("DeleteRoute", e)),
            )?;
            changes.push(format!(
                "route {} -> {} removed",
                show(&r.destination),
                r.target.id()
            ));
        }
        Ok(changes)
    }

    async fn converge_associations(
        &self,
        cx: &Side,
        id: &str,
        want: &RouteTableSpec,
        have: &BTreeMap<String, String>,
    ) -> Result<Vec<String>> {
        let mut changes = vec![];
        for subnet in want
            .associations
            .iter()
            .map(Ref::id)
            .filter(|s| !have.contains_key(*s))
        {
            match explicit_association(cx, subnet).await? {
                Some((other, assoc)) => {
                    cx.ec2(Class::Mutate)
                        .await
                        .replace_route_table_association()
                        .association_id(&assoc)
                        .route_table_id(id)
                        .send()
                        .await
                        .map_err(|e| cx.err("ReplaceRouteTableAssociation", e))?;
                    changes.push(format!("subnet {subnet} associated (moved from {other})"));
                }
                None => {
                    cx.ec2(Class::Mutate)
                        .await
                        .associate_route_table()
                        .route_table_id(id)
                        .subnet_id(subnet)
                        .send()
                        .await
                        .map_err(|e| cx.err("AssociateRouteTable", e))?;
                    changes.push(format!("subnet {subnet} associated"));
                }
            }
        }
        let wanted: BTreeSet<&str> = want.associations.iter().map(Ref::id).collect();
        for (subnet, assoc) in have.iter().filter(|(s, _)| !wanted.contains(s.as_str())) {
            disassociate(cx, assoc).await?;
            changes.push(format!("subnet {subnet} disassociated"));
        }
        Ok(changes)
    }
}

async fn disassociate(cx: &Side, assoc: &str) -> Result<()> {
    gone_ok(
        cx.ec2(Class::Mutate)
            .await
            .disassociate_route_table()
            .association_id(assoc)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DisassociateRouteTable", e)),
    )
}

#[async_trait]
impl KindAdapter for RouteTable {
    fn kind(&self) -> Kind {
        Kind::RouteTable
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let tables = list(cx, lookup_filters(lookup, "route-table-id")).await?;
        let pls = PrefixLists::load_if(cx, needs_prefix_lists(&tables)).await?;
        Ok(tables
            .iter()
            .map(|t| {
                let s = to_spec(t, &pls);
                let mut r = resource(
                    Kind::RouteTable,
                    t.route_table_id().unwrap_or_default(),
                    spec::to_value(&s),
                    t.tags(),
                );
                r.default = s.main;
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: RouteTableSpec = parse(cx, Kind::RouteTable, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_route_table()
            .vpc_id(s.vpc.id())
            .set_tag_specifications(
                super::tag_spec(ResourceType::RouteTable, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateRouteTable", e))?;
        out.route_table()
            .and_then(|t| t.route_table_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateRouteTable returned no route table id"))
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
        let s: RouteTableSpec = parse(cx, Kind::RouteTable, &want.spec)?;
        let raw = get(cx, id).await?.ok_or_else(|| {
            crate::AwsError::not_found(
                cx.name,
                "DescribeRouteTables",
                "InvalidRouteTableID.NotFound",
                id,
            )
        })?;
        let wants_names = s
            .routes
            .iter()
            .any(|r| matches!(r.destination, RouteDestination::PrefixList(_)));
        let pls = PrefixLists::load_if(cx, wants_names || needs_prefix_lists([&raw])).await?;
        let have = to_spec(&raw, &pls);
        let mut changes = self.converge_routes(cx, id, &s, &have, &pls).await?;
        changes.extend(
            self.converge_associations(cx, id, &s, &subnet_associations(&raw))
                .await?,
        );
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let Some(raw) = get(cx, id).await? else {
            return Ok(());
        };
        for a in raw.associations().iter().filter(|a| a.main() != Some(true)) {
            if let Some(assoc) = a.route_table_association_id() {
                disassociate(cx, assoc).await?;
            }
        }
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteRouteTable", e)),
        )
    }

    fn lists_in_pages(&self) -> bool {
        true
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeRouteTables",
            "ec2:DescribeManagedPrefixLists",
            "ec2:CreateRouteTable",
            "ec2:CreateRoute",
            "ec2:ReplaceRoute",
            "ec2:DeleteRoute",
            "ec2:AssociateRouteTable",
            "ec2:ReplaceRouteTableAssociation",
            "ec2:DisassociateRouteTable",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteRouteTable",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::RouteTableAssociation;

    fn pls() -> PrefixLists {
        PrefixLists {
            by_id: [("pl-1".to_string(), "com.amazonaws.us-east-1.s3".to_string())].into(),
        }
    }

    #[test]
    fn routes_of_aws_are_left_out_and_targets_are_typed() {
        let t = aws_sdk_ec2::types::RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .routes(
                Route::builder()
                    .destination_cidr_block("10.0.0.0/16")
                    .gateway_id("local")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_prefix_list_id("pl-1")
                    .gateway_id("vpce-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.9.0.0/16")
                    .gateway_id("vgw-1")
                    .origin(RouteOrigin::EnableVgwRoutePropagation)
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id("nat-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.1.0.0/16")
                    .instance_id("i-1")
                    .network_interface_id("eni-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_ipv6_cidr_block("::/0")
                    .egress_only_internet_gateway_id("eigw-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_prefix_list_id("pl-1")
                    .gateway_id("igw-1")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_prefix_list_id("pl-9")
                    .transit_gateway_id("tgw-1")
                    .build(),
            )
            .associations(
                RouteTableAssociation::builder()
                    .main(true)
                    .route_table_association_id("a-0")
                    .build(),
            )
            .associations(
                RouteTableAssociation::builder()
                    .main(false)
                    .subnet_id("subnet-2")
                    .route_table_association_id("a-2")
                    .build(),
            )
            .associations(
                RouteTableAssociation::builder()
                    .main(false)
                    .subnet_id("subnet-1")
                    .route_table_association_id("a-1")
                    .build(),
            )
            .build();
        let s = to_spec(&t, &pls());
        assert!(s.main);
        assert_eq!(
            s.associations,
            vec![
                Ref::new(Kind::Subnet, "subnet-1"),
                Ref::new(Kind::Subnet, "subnet-2")
            ]
        );
        let routes: Vec<(RouteDestination, &str)> = s
            .routes
            .iter()
            .map(|r| (r.destination.clone(), r.target.id()))
            .collect();
        assert_eq!(
            routes,
            vec![
                (RouteDestination::Cidr("0.0.0.0/0".into()), "nat-1"),
                (RouteDestination::Cidr("10.1.0.0/16".into()), "i-1"),
                (RouteDestination::Ipv6Cidr("::/0".into()), "eigw-1"),
                (
                    RouteDestination::PrefixList("com.amazonaws.us-east-1.s3".into()),
                    "igw-1"
                ),
                (
                    RouteDestination::PrefixListRef(Ref::new(Kind::PrefixList, "pl-9")),
                    "tgw-1"
                ),
            ]
        );
        assert_eq!(s.routes[1].target.key.kind, Kind::Instance);
        assert_eq!(s.routes[3].target.key.kind, Kind::InternetGateway);
    }
}
