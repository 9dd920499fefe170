//! NAT gateways, public (with their Elastic IP) and private. Creation waits
//! until the gateway is available, so routes to it can be made; deletion waits
//! until it is gone, so its address and subnet can be released.

use super::{filter, lookup_filters, resource};
use crate::adapter::{page_size, parse, wait_for};
use crate::ratelimit::Class;
use crate::{AwsError, Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ConnectivityType, NatGatewayState, ResourceType};
use ferry_core::spec::{self, NatGatewaySpec};
use ferry_core::{Kind, Ref, Resource};
use std::time::Duration;

pub struct NatGateway;

const WAIT: Duration = Duration::from_secs(15 * 60);

async fn list(
    cx: &Side,
    lookup: &Lookup,
    states: &[&str],
) -> Result<Vec<aws_sdk_ec2::types::NatGateway>> {
    let mut filters = lookup_filters(lookup, "nat-gateway-id");
    filters.push(filter("state", states.iter().copied()));
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_nat_gateways()
        .set_filter(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeNatGateways", e))?
                .nat_gateways()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

async fn state_of(cx: &Side, id: &str) -> Result<Option<NatGatewayState>> {
    let all = list(
        cx,
        &Lookup::Ids(vec![id.into()]),
        &["pending", "available", "deleting", "deleted", "failed"],
    )
    .await?;
    Ok(all.first().and_then(|g| g.state().cloned()))
}

#[async_trait]
impl KindAdapter for NatGateway {
    fn kind(&self) -> Kind {
        Kind::NatGateway
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(list(cx, lookup, &["pending", "available"])
            .await?
            .iter()
            .map(|g| {
                let connectivity = g
                    .connectivity_type()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| "public".into());
                let allocation = g
                    .nat_gateway_addresses()
                    .iter()
                    .find(|a| a.is_primary().unwrap_or(true))
                    .and_then(|a| a.allocation_id())
                    .filter(|_| connectivity == "public");
                let s = NatGatewaySpec {
                    subnet: Ref::new(Kind::Subnet, g.subnet_id().unwrap_or_default()),
                    connectivity_type: connectivity.clone(),
                    allocation: allocation.map(|a| Ref::new(Kind::ElasticIp, a)),
                };
                resource(
                    Kind::NatGateway,
                    g.nat_gateway_id().unwrap_or_default(),
                    spec::to_value(&s),
                    g.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: NatGatewaySpec = parse(cx, Kind::NatGateway, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_nat_gateway()
            .subnet_id(s.subnet.id())
            .connectivity_type(ConnectivityType::from(s.connectivity_type.as_str()))
            .set_allocation_id(s.allocation.as_ref().map(|a| a.id().to_string()))
            .set_tag_specifications(
                super::tag_spec(ResourceType::Natgateway, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateNatGateway", e))?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateNatGateway returned no id"))?;
        wait_for(
            cx,
            format!("NAT gateway {id} to become available"),
            WAIT,
            || async {
                match state_of(cx, &id).await? {
                    Some(NatGatewayState::Available) => Ok(Some(())),
                    Some(NatGatewayState::Failed) => Err(AwsError::Api {
                        side: cx.name,
                        op: "CreateNatGateway",
                        code: Some("NatGatewayFailed".into()),
                        message: format!("NAT gateway {id} failed to start"),
                    }),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok(id)
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
        super::converge_tags_only(self, cx, id, want).await
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        match cx
            .ec2(Class::Mutate)
            .await
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = cx.err("DeleteNatGateway", e);
                if e.is_not_found() {
                    return Ok(());
                }
                return Err(e);
            }
        }
        wait_for(
            cx,
            format!("NAT gateway {id} to be deleted"),
            WAIT,
            || async {
                Ok(match state_of(cx, id).await? {
                    None | Some(NatGatewayState::Deleted) | Some(NatGatewayState::Failed) => {
                        Some(())
                    }
                    _ => None,
                })
            },
        )
        .await
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeNatGateways",
            "ec2:CreateNatGateway",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteNatGateway",
        ]
    }
}
