//! VPCs: CIDR blocks (primary and secondary), tenancy, DNS support and
//! hostnames, DHCP options, tags. The default VPC is mapped, not created.

use super::{converge_tags, filter, lookup_filters, resource};
use crate::adapter::{gone_ok, one, page_size, parse, reference};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType, Tenancy, VpcAttributeName, VpcCidrBlockStateCode,
};
use ferry_core::spec::{self, VpcSpec};
use ferry_core::{Kind, Resource};

pub struct Vpc;

/// The DHCP options the region's default VPC uses: the account default,
/// which every region has and ferry maps rather than copies. moto calls it
/// "default" and has no set behind it.
async fn default_dhcp_options(
    cx: &Side,
    listed: &[aws_sdk_ec2::types::Vpc],
) -> Result<Option<String>> {
    if let Some(v) = listed.iter().find(|v| v.is_default() == Some(true)) {
        return Ok(v.dhcp_options_id().map(String::from));
    }
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_vpcs()
        .filters(filter("is-default", ["true"]))
        .send()
        .await
        .map_err(|e| cx.err("DescribeVpcs", e))?;
    Ok(out
        .vpcs()
        .first()
        .and_then(|v| v.dhcp_options_id())
        .map(String::from))
}

pub(crate) async fn list(
    cx: &Side,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<aws_sdk_ec2::types::Vpc>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_vpcs()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeVpcs", e))?
                .vpcs()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

async fn dns_attribute(cx: &Side, id: &str, attr: VpcAttributeName) -> Result<bool> {
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attr.clone())
        .send()
        .await
        .map_err(|e| cx.err("DescribeVpcAttribute", e))?;
    let v = match attr {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(v.and_then(|b| b.value()).unwrap_or(false))
}

#[async_trait]
impl KindAdapter for Vpc {
    fn kind(&self) -> Kind {
        Kind::Vpc
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let vpcs = list(cx, lookup_filters(lookup, "vpc-id")).await?;
        let default_dopt = if vpcs
            .iter()
            .any(|v| v.dhcp_options_id().is_some_and(|d| d != "default"))
        {
            default_dhcp_options(cx, &vpcs).await?
        } else {
            None
        };
        let mut out = vec![];
        for v in &vpcs {
            let id = v.vpc_id().unwrap_or_default();
            let mut secondary: Vec<String> = v
                .cidr_block_association_set()
                .iter()
                .filter(|a| {
                    a.cidr_block_state()
                        .and_then(|s| s.state())
                        .is_some_and(|s| {
                            matches!(
                                s,
                                VpcCidrBlockStateCode::Associated
                                    | VpcCidrBlockStateCode::Associating
                            )
                        })
                })
                .filter_map(|a| a.cidr_block())
                .filter(|c| Some(*c) != v.cidr_block())
                .map(String::from)
                .collect();
            secondary.sort();
            let dopt = v
                .dhcp_options_id()
                .filter(|d| *d != "default" && Some(*d) != default_dopt.as_deref());
            let s = VpcSpec {
                cidr_block: v.cidr_block().unwrap_or_default().to_string(),
                secondary_cidr_blocks: secondary,
                instance_tenancy: v
                    .instance_tenancy()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "default".into()),
                enable_dns_support: dns_attribute(cx, id, VpcAttributeName::EnableDnsSupport)
                    .await?,
                enable_dns_hostnames: dns_attribute(cx, id, VpcAttributeName::EnableDnsHostnames)
                    .await?,
                dhcp_options: reference(Kind::DhcpOptions, dopt),
                amazon_ipv6: !v.ipv6_cidr_block_association_set().is_empty(),
            };
            let mut r = resource(Kind::Vpc, id, spec::to_value(&s), v.tags());
            r.default = v.is_default() == Some(true);
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: VpcSpec = parse(cx, Kind::Vpc, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_vpc()
            .cidr_block(&s.cidr_block)
            .instance_tenancy(Tenancy::from(s.instance_tenancy.as_str()))
            .amazon_provided_ipv6_cidr_block(s.amazon_ipv6)
            .set_tag_specifications(super::tag_spec(ResourceType::Vpc, want).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cx.err("CreateVpc", e))?;
        out.vpc()
            .and_then(|v| v.vpc_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateVpc returned no VPC id"))
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
        let s: VpcSpec = parse(cx, Kind::Vpc, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: VpcSpec = parse(cx, Kind::Vpc, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        for c in s
            .secondary_cidr_blocks
            .iter()
            .filter(|c| !have.secondary_cidr_blocks.contains(c))
        {
            cx.ec2(Class::Mutate)
                .await
                .associate_vpc_cidr_block()
                .vpc_id(id)
                .cidr_block(c)
                .send()
                .await
                .map_err(|e| cx.err("AssociateVpcCidrBlock", e))?;
            changes.push(format!("secondary CIDR {c} associated"));
        }
        for (attr, want_v, have_v) in [
            (
                VpcAttributeName::EnableDnsSupport,
                s.enable_dns_support,
                have.enable_dns_support,
            ),
            (
                VpcAttributeName::EnableDnsHostnames,
                s.enable_dns_hostnames,
                have.enable_dns_hostnames,
            ),
        ] {
            if want_v == have_v {
                continue;
            }
            let b = AttributeBooleanValue::builder().value(want_v).build();
            let req = cx
                .ec2(Class::Mutate)
                .await
                .modify_vpc_attribute()
                .vpc_id(id);
            let req = match attr {
                VpcAttributeName::EnableDnsSupport => req.enable_dns_support(b),
                _ => req.enable_dns_hostnames(b),
            };
            req.send()
                .await
                .map_err(|e| cx.err("ModifyVpcAttribute", e))?;
            changes.push(format!("{} set to {want_v}", attr.as_str()));
        }
        if s.dhcp_options != have.dhcp_options {
            let dopt = s
                .dhcp_options
                .as_ref()
                .map(|r| r.id().to_string())
                .unwrap_or_else(|| "default".into());
            cx.ec2(Class::Mutate)
                .await
                .associate_dhcp_options()
                .vpc_id(id)
                .dhcp_options_id(&dopt)
                .send()
                .await
                .map_err(|e| cx.err("AssociateDhcpOptions", e))?;
            changes.push(format!("DHCP options {dopt} associated"));
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteVpc", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcAttribute",
            "ec2:CreateVpc",
            "ec2:AssociateVpcCidrBlock",
            "ec2:ModifyVpcAttribute",
            "ec2:AssociateDhcpOptions",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteVpc",
        ]
    }
}
