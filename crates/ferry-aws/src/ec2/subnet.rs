//! Subnets: CIDR, zone (mapped across regions), public-IP-on-launch, tags.
//! Default subnets of the default VPC are mapped to the destination's default
//! subnet in the mapped zone.

use super::{converge_tags, lookup_filters, resource};
use crate::adapter::{gone_ok, one, page_size, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use ferry_core::spec::{self, SubnetSpec};
use ferry_core::{Kind, Ref, Resource};

pub struct Subnet;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::Subnet>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_subnets()
        .set_filters(Some(lookup_filters(lookup, "subnet-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeSubnets", e))?
                .subnets()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for Subnet {
    fn kind(&self) -> Kind {
        Kind::Subnet
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(list(cx, lookup)
            .await?
            .iter()
            .map(|s| {
                let spec = SubnetSpec {
                    vpc: Ref::new(Kind::Vpc, s.vpc_id().unwrap_or_default()),
                    cidr_block: s.cidr_block().unwrap_or_default().into(),
                    availability_zone: s.availability_zone().unwrap_or_default().into(),
                    map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                    default_for_az: s.default_for_az().unwrap_or(false),
                };
                let mut r = resource(
                    Kind::Subnet,
                    s.subnet_id().unwrap_or_default(),
                    spec::to_value(&spec),
                    s.tags(),
                );
                r.default = spec.default_for_az;
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: SubnetSpec = parse(cx, Kind::Subnet, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_subnet()
            .vpc_id(s.vpc.id())
            .cidr_block(&s.cidr_block)
            .availability_zone(&s.availability_zone)
            .set_tag_specifications(super::tag_spec(ResourceType::Subnet, want).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cx.err("CreateSubnet", e))?;
        out.subnet()
            .and_then(|s| s.subnet_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateSubnet returned no subnet id"))
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
        let s: SubnetSpec = parse(cx, Kind::Subnet, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: SubnetSpec = parse(cx, Kind::Subnet, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        if s.map_public_ip_on_launch != have.map_public_ip_on_launch {
            cx.ec2(Class::Mutate)
                .await
                .modify_subnet_attribute()
                .subnet_id(id)
                .map_public_ip_on_launch(
                    AttributeBooleanValue::builder()
                        .value(s.map_public_ip_on_launch)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| cx.err("ModifySubnetAttribute", e))?;
            changes.push(format!(
                "map_public_ip_on_launch set to {}",
                s.map_public_ip_on_launch
            ));
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_subnet()
                .subnet_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteSubnet", e)),
        )
    }

    fn lists_in_pages(&self) -> bool {
        true
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeSubnets",
            "ec2:CreateSubnet",
            "ec2:ModifySubnetAttribute",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteSubnet",
        ]
    }
}
