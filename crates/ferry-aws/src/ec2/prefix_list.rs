//! AWS-managed prefix lists (`com.amazonaws.<region>.s3` ...): they have a
//! different ID in every account and region and so travel by name. Used by
//! route tables and security groups.

use super::filter;
use crate::adapter::page_size;
use crate::ratelimit::Class;
use crate::{Result, Side};
use std::collections::BTreeMap;

/// The region's AWS-managed prefix lists, by ID.
#[derive(Debug, Default)]
pub(crate) struct PrefixLists {
    pub(crate) by_id: BTreeMap<String, String>,
}

impl PrefixLists {
    pub(crate) async fn load(cx: &Side) -> Result<PrefixLists> {
        let mut by_id = BTreeMap::new();
        let client = cx.ec2(Class::Read).await;
        let mut pages = client
            .describe_managed_prefix_lists()
            .filters(filter("owner-id", ["AWS"]))
            .set_max_results(page_size(true))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for p in page
                .map_err(|e| cx.err("DescribeManagedPrefixLists", e))?
                .prefix_lists()
            {
                if let (Some(id), Some(name)) = (p.prefix_list_id(), p.prefix_list_name()) {
                    if p.owner_id() == Some("AWS") {
                        by_id.insert(id.to_string(), name.to_string());
                    }
                }
            }
        }
        Ok(PrefixLists { by_id })
    }

    /// Loads the lists only when something needs them.
    pub(crate) async fn load_if(cx: &Side, needed: bool) -> Result<PrefixLists> {
        if needed {
            PrefixLists::load(cx).await
        } else {
            Ok(PrefixLists::default())
        }
    }

    /// The name of an AWS-managed list; None for a customer-managed one.
    pub(crate) fn name(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    /// The ID of the AWS-managed list of that name in this region.
    pub(crate) fn id(&self, cx: &Side, name: &str) -> Result<String> {
        self.by_id
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                cx.invalid(format!(
                    "no AWS-managed prefix list named {name} in {}",
                    cx.info.region
                ))
            })
    }
}
