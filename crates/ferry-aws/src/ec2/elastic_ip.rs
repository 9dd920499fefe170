//! Elastic IPs (VPC domain). An address cannot move between accounts: the
//! destination allocates a new one, and the plan says so.

use super::{filter, lookup_filters, resource};
use crate::adapter::gone_ok;
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};
use ferry_core::spec::{self, ElasticIpSpec};
use ferry_core::{Kind, Resource};

pub struct ElasticIp;

#[async_trait]
impl KindAdapter for ElasticIp {
    fn kind(&self) -> Kind {
        Kind::ElasticIp
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        // DescribeAddresses is not paginated.
        let mut filters = lookup_filters(lookup, "allocation-id");
        filters.push(filter("domain", ["vpc"]));
        let out = cx
            .ec2(Class::Read)
            .await
            .describe_addresses()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(|e| cx.err("DescribeAddresses", e))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                let id = a.allocation_id()?;
                let s = ElasticIpSpec {
                    domain: "vpc".into(),
                };
                Some(resource(Kind::ElasticIp, id, spec::to_value(&s), a.tags()))
            })
            .collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let out = cx
            .ec2(Class::Mutate)
            .await
            .allocate_address()
            .domain(DomainType::Vpc)
            .set_tag_specifications(super::tag_spec(ResourceType::ElasticIp, want).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cx.err("AllocateAddress", e))?;
        out.allocation_id()
            .map(String::from)
            .ok_or_else(|| cx.invalid("AllocateAddress returned no allocation id"))
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
                .release_address()
                .allocation_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("ReleaseAddress", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeAddresses",
            "ec2:AllocateAddress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:ReleaseAddress",
        ]
    }
}
