//! DHCP option sets. The region's default set is mapped, not copied: VPCs
//! that use it have no `dhcp_options` in their spec. The default domain name
//! (`ec2.internal`, `<region>.compute.internal`) follows the region.

use super::{filter, lookup_filters, resource};
use crate::adapter::{gone_ok, page_size, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{NewDhcpConfiguration, ResourceType};
use ferry_core::spec::{self, DhcpOptionsSpec};
use ferry_core::{Kind, Resource};
use std::collections::BTreeMap;

pub struct DhcpOptions;

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::DhcpOptions>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_dhcp_options()
        .set_filters(Some(lookup_filters(lookup, "dhcp-options-id")))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeDhcpOptions", e))?
                .dhcp_options()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for DhcpOptions {
    fn kind(&self) -> Kind {
        Kind::DhcpOptions
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let sets = list(cx, lookup).await?;
        if sets.is_empty() {
            return Ok(vec![]);
        }
        // The set the default VPC uses is the account default: not ours to copy.
        let default_set = super::vpc::list(cx, vec![filter("is-default", ["true"])])
            .await?
            .first()
            .and_then(|v| v.dhcp_options_id())
            .map(String::from);
        Ok(sets
            .iter()
            .filter(|d| d.dhcp_options_id() != default_set.as_deref())
            .map(|d| {
                let configurations: BTreeMap<String, Vec<String>> = d
                    .dhcp_configurations()
                    .iter()
                    .map(|c| {
                        // Order matters for name servers: kept as AWS returns it.
                        let values = c
                            .values()
                            .iter()
                            .filter_map(|v| v.value().map(String::from))
                            .collect();
                        (c.key().unwrap_or_default().to_string(), values)
                    })
                    .collect();
                let s = DhcpOptionsSpec { configurations };
                resource(
                    Kind::DhcpOptions,
                    d.dhcp_options_id().unwrap_or_default(),
                    spec::to_value(&s),
                    d.tags(),
                )
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: DhcpOptionsSpec = parse(cx, Kind::DhcpOptions, &want.spec)?;
        let configs: Vec<NewDhcpConfiguration> = s
            .configurations
            .iter()
            .map(|(k, v)| {
                NewDhcpConfiguration::builder()
                    .key(k)
                    .set_values(Some(v.clone()))
                    .build()
            })
            .collect();
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_dhcp_options()
            .set_dhcp_configurations(Some(configs))
            .set_tag_specifications(
                super::tag_spec(ResourceType::DhcpOptions, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateDhcpOptions", e))?;
        let d = out
            .dhcp_options()
            .ok_or_else(|| cx.invalid("CreateDhcpOptions returned no set"))?;
        let id = d.dhcp_options_id().unwrap_or_default().to_string();
        // Some implementations (the emulator among them) ignore TagSpecifications
        // here; tag at once so the set can be found again after a crash.
        if d.tags().is_empty() && !want.tags.is_empty() {
            cx.ec2(Class::Mutate)
                .await
                .create_tags()
                .resources(&id)
                .set_tags(Some(super::to_tags(&want.tags)))
                .send()
                .await
                .map_err(|e| cx.err("CreateTags", e))?;
        }
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
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_dhcp_options()
                .dhcp_options_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteDhcpOptions", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeVpcs",
            "ec2:CreateDhcpOptions",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteDhcpOptions",
        ]
    }
}
