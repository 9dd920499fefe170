//! The EC2 kinds (network and compute), one file each, and what they share:
//! EC2's tag types and calls, filters and lookups by filter. The toolkit of
//! every service (reading specs, waiting, tag diffing) is [`crate::adapter`].

pub mod carry;
pub mod dhcp_options;
pub mod elastic_ip;
pub mod image;
pub mod instance;
pub mod internet_gateway;
pub mod key_pair;
pub mod launch_template;
pub mod managed_prefix_list;
pub mod nat_gateway;
pub mod network_acl;
pub mod prefix_list;
pub mod route_table;
pub mod security_group;
pub mod snapshot;
pub mod subnet;
pub mod volume;
pub mod vpc;
pub mod vpc_endpoint;
pub mod vpc_peering;

use crate::adapter::{one, tags};
use crate::ratelimit::Class;
use crate::{Desired, Lookup, Result, Side};
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use ferry_core::resource::TAG_SOURCE;
use ferry_core::{Key, Kind, Resource};
use serde_json::Value;
use std::collections::BTreeMap;

pub fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

/// Filters for a lookup; `All` has none, `Ids` uses the kind's ID filter.
pub fn lookup_filters(lookup: &Lookup, id_filter: &str) -> Vec<Filter> {
    match lookup {
        Lookup::All => vec![],
        Lookup::Ids(ids) => vec![filter(id_filter, ids.clone())],
        Lookup::SourceTag(v) => vec![filter(&format!("tag:{TAG_SOURCE}"), [v.clone()])],
    }
}

pub fn tag_spec(rt: ResourceType, want: &Desired) -> Option<TagSpecification> {
    if want.tags.is_empty() {
        return None;
    }
    Some(
        TagSpecification::builder()
            .resource_type(rt)
            .set_tags(Some(to_tags(&want.tags)))
            .build(),
    )
}

pub fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

pub fn resource(kind: Kind, id: &str, spec: Value, tags: &[Tag]) -> Resource {
    Resource::with_tags(Key::new(kind, id), spec, tag_pairs(tags))
}

/// Brings user tags and `ferry:source` in line with `want`, from what a
/// describe of the resource reported (the rule: [`crate::adapter::tags`]).
pub async fn converge_tags(
    cx: &Side,
    id: &str,
    want: &Desired,
    have: &Resource,
) -> Result<Vec<String>> {
    let diff = tags::changes_to(want, have);
    tags::send(
        &diff,
        |set| async move {
            cx.ec2(Class::Mutate)
                .await
                .create_tags()
                .resources(id)
                .set_tags(Some(to_tags(&set)))
                .send()
                .await
                .map_err(|e| cx.err("CreateTags", e))
        },
        |keys| async move {
            let remove = keys.iter().map(|k| Tag::builder().key(k).build()).collect();
            cx.ec2(Class::Mutate)
                .await
                .delete_tags()
                .resources(id)
                .set_tags(Some(remove))
                .send()
                .await
                .map_err(|e| cx.err("DeleteTags", e))
        },
    )
    .await
}

/// The first phase of kinds whose only mutable attribute is their tags.
pub async fn converge_tags_only(
    adapter: &dyn crate::KindAdapter,
    cx: &Side,
    id: &str,
    want: &Desired,
) -> Result<Vec<String>> {
    let have = one(adapter, cx, id).await?;
    converge_tags(cx, id, want, &have).await
}
