//! Internet gateways and their attachment. The gateway of the default VPC is
//! an AWS default: mapped to the destination default VPC's gateway.

use super::{converge_tags, filter, lookup_filters, resource};
use crate::adapter::{gone_ok, one, page_size, parse, reference};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use ferry_core::spec::{self, InternetGatewaySpec};
use ferry_core::{Kind, Resource};

pub struct InternetGateway;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::InternetGateway>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_internet_gateways()
        .set_filters(Some(lookup_filters(lookup, "internet-gateway-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeInternetGateways", e))?
                .internet_gateways()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for InternetGateway {
    fn kind(&self) -> Kind {
        Kind::InternetGateway
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let igws = list(cx, lookup).await?;
        let default_vpc = if igws.iter().any(|g| !g.attachments().is_empty()) {
            super::vpc::list(cx, vec![filter("is-default", ["true"])])
                .await?
                .first()
                .and_then(|v| v.vpc_id())
                .map(String::from)
        } else {
            None
        };
        Ok(igws
            .iter()
            .map(|g| {
                let vpc = g.attachments().first().and_then(|a| a.vpc_id());
                let s = InternetGatewaySpec {
                    vpc: reference(Kind::Vpc, vpc),
                };
                let mut r = resource(
                    Kind::InternetGateway,
                    g.internet_gateway_id().unwrap_or_default(),
                    spec::to_value(&s),
                    g.tags(),
                );
                r.default = vpc.is_some() && vpc == default_vpc.as_deref();
                r
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_internet_gateway()
            .set_tag_specifications(
                super::tag_spec(ResourceType::InternetGateway, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateInternetGateway", e))?;
        out.internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateInternetGateway returned no id"))
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
        let s: InternetGatewaySpec = parse(cx, Kind::InternetGateway, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: InternetGatewaySpec = parse(cx, Kind::InternetGateway, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        if s.vpc != have.vpc {
            if let Some(old) = &have.vpc {
                cx.ec2(Class::Mutate)
                    .await
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(old.id())
                    .send()
                    .await
                    .map_err(|e| cx.err("DetachInternetGateway", e))?;
                changes.push(format!("detached from {}", old.id()));
            }
            if let Some(new) = &s.vpc {
                cx.ec2(Class::Mutate)
                    .await
                    .attach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(new.id())
                    .send()
                    .await
                    .map_err(|e| cx.err("AttachInternetGateway", e))?;
                changes.push(format!("attached to {}", new.id()));
            }
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let have = match one(self, cx, id).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let s: InternetGatewaySpec = parse(cx, Kind::InternetGateway, &have.spec)?;
        if let Some(vpc) = s.vpc {
            gone_ok(
                cx.ec2(Class::Mutate)
                    .await
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc.id())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| cx.err("DetachInternetGateway", e)),
            )?;
        }
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteInternetGateway", e)),
        )
    }

    fn lists_in_pages(&self) -> bool {
        true
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeInternetGateways",
            "ec2:DescribeVpcs",
            "ec2:CreateInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteInternetGateway",
        ]
    }
}
