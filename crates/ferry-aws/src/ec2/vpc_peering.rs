//! VPC peering connections between migrated VPCs: requested and accepted in
//! the destination. A peering to a VPC outside the source estate (another
//! account or region) has a reference the plan cannot resolve, and is reported
//! as a conflict rather than half-made.

use super::{converge_tags, filter, lookup_filters, resource};
use crate::adapter::{gone_ok, one, page_size, parse, wait_for};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcPeeringConnectionStateReasonCode as Code};
use ferry_core::spec::{self, VpcPeeringSpec};
use ferry_core::{Kind, Ref, Resource};
use std::time::Duration;

pub struct VpcPeering;

const LIVE: &[&str] = &[
    "pending-acceptance",
    "provisioning",
    "active",
    "initiating-request",
];

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let mut filters = lookup_filters(lookup, "vpc-peering-connection-id");
    filters.push(filter("status-code", LIVE.iter().copied()));
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_vpc_peering_connections()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeVpcPeeringConnections", e))?
                .vpc_peering_connections()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for VpcPeering {
    fn kind(&self) -> Kind {
        Kind::VpcPeering
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(list(cx, lookup)
            .await?
            .iter()
            .map(|p| {
                let vpc = |i: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
                    Ref::new(Kind::Vpc, i.and_then(|i| i.vpc_id()).unwrap_or_default())
                };
                let s = VpcPeeringSpec {
                    requester: vpc(p.requester_vpc_info()),
                    accepter: vpc(p.accepter_vpc_info()),
                };
                resource(
                    Kind::VpcPeering,
                    p.vpc_peering_connection_id().unwrap_or_default(),
                    spec::to_value(&s),
                    p.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: VpcPeeringSpec = parse(cx, Kind::VpcPeering, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_vpc_peering_connection()
            .vpc_id(s.requester.id())
            .peer_vpc_id(s.accepter.id())
            .set_tag_specifications(
                super::tag_spec(ResourceType::VpcPeeringConnection, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateVpcPeeringConnection", e))?;
        let id = out
            .vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateVpcPeeringConnection returned no id"))?;
        Ok(id)
    }

    /// Accepting is part of converging, so a run killed between request and
    /// acceptance finishes the job when it adopts the connection.
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
        let have = one(self, cx, id).await?;
        let mut changes = converge_tags(cx, id, want, &have).await?;
        let status = |p: &aws_sdk_ec2::types::VpcPeeringConnection| {
            p.status().and_then(|s| s.code()).cloned()
        };
        let current = list(cx, &Lookup::Ids(vec![id.into()])).await?;
        if current.first().and_then(status) != Some(Code::Active) {
            if current.first().and_then(status) == Some(Code::PendingAcceptance) {
                cx.ec2(Class::Mutate)
                    .await
                    .accept_vpc_peering_connection()
                    .vpc_peering_connection_id(id)
                    .send()
                    .await
                    .map_err(|e| cx.err("AcceptVpcPeeringConnection", e))?;
                changes.push("accepted".into());
            }
            wait_for(
                cx,
                format!("peering {id} to become active"),
                Duration::from_secs(300),
                || async {
                    let now = list(cx, &Lookup::Ids(vec![id.into()])).await?;
                    match now.first().and_then(status) {
                        Some(Code::Active) => Ok(Some(())),
                        Some(Code::PendingAcceptance) => {
                            cx.ec2(Class::Mutate)
                                .await
                                .accept_vpc_peering_connection()
                                .vpc_peering_connection_id(id)
                                .send()
                                .await
                                .map_err(|e| cx.err("AcceptVpcPeeringConnection", e))?;
                            Ok(None)
                        }
                        _ => Ok(None),
                    }
                },
            )
            .await?;
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_vpc_peering_connection()
                .vpc_peering_connection_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteVpcPeeringConnection", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeVpcPeeringConnections",
            "ec2:CreateVpcPeeringConnection",
            "ec2:AcceptVpcPeeringConnection",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteVpcPeeringConnection",
        ]
    }
}
