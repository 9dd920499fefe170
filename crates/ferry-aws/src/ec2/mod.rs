//! The EC2 kinds (network and compute), one file each, and what they share: tags, filters,
//! reading typed specs, waiting for states.

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

use crate::ratelimit::Class;
use crate::{Desired, Lookup, Result, Side};
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use ferry_core::resource::TAG_SOURCE;
use ferry_core::{Key, Kind, Ref, Resource};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Results per describe call. Listing goes page by page (DESIGN invariant
/// 8): without MaxResults many EC2 describes answer with everything at once.
/// 100 is within every range the network describes accept (route tables
/// and prefix lists stop at 100). `FERRY_PAGE_SIZE` overrides it (5..=100),
/// for tests and for tuning.
pub const PAGE_SIZE: i32 = 100;

/// The MaxResults to send: none when IDs are given explicitly, as AWS refuses
/// both together on several describes.
pub fn page_size(allowed: bool) -> Option<i32> {
    if !allowed {
        return None;
    }
    let n = std::env::var("FERRY_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| (5..=100).contains(n))
        .unwrap_or(PAGE_SIZE);
    Some(n)
}

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

pub fn reference(kind: Kind, id: Option<&str>) -> Option<Ref> {
    id.filter(|s| !s.is_empty()).map(|s| Ref::new(kind, s))
}

pub fn parse<T: serde::de::DeserializeOwned>(cx: &Side, kind: Kind, v: &Value) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| cx.invalid(format!("bad {kind} spec: {e}")))
}

/// Brings user tags and `ferry:source` in line with `want`, from what a
/// describe of the resource reported. `ferry:run` records the run that
/// created the resource and is never rewritten; `aws:*` is never touched.
pub async fn converge_tags(
    cx: &Side,
    id: &str,
    want: &Desired,
    have: &Resource,
) -> Result<Vec<String>> {
    if !want.manage_tags {
        return Ok(vec![]);
    }
    let mut current: BTreeMap<&str, &str> = have
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(s) = &have.ferry_source {
        current.insert(TAG_SOURCE, s);
    }
    let wanted = want
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != ferry_core::resource::TAG_RUN);
    let add: BTreeMap<String, String> = wanted
        .filter(|(k, v)| current.get(k.as_str()) != Some(&v.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<Tag> = current
        .keys()
        .filter(|k| !k.starts_with("ferry:") && !want.tags.contains_key(**k))
        .map(|k| Tag::builder().key(*k).build())
        .collect();
    let mut changes = vec![];
    if !add.is_empty() {
        cx.ec2(Class::Mutate)
            .await
            .create_tags()
            .resources(id)
            .set_tags(Some(to_tags(&add)))
            .send()
            .await
            .map_err(|e| cx.err("CreateTags", e))?;
        changes.push(format!(
            "tags set: {}",
            add.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !remove.is_empty() {
        let names: Vec<String> = remove
            .iter()
            .filter_map(|t| t.key().map(String::from))
            .collect();
        cx.ec2(Class::Mutate)
            .await
            .delete_tags()
            .resources(id)
            .set_tags(Some(remove))
            .send()
            .await
            .map_err(|e| cx.err("DeleteTags", e))?;
        changes.push(format!("tags removed: {}", names.join(", ")));
    }
    Ok(changes)
}

/// Polls `probe` until it returns Some, with capped backoff.
pub async fn wait_for<T, F, Fut>(
    cx: &Side,
    what: String,
    timeout: Duration,
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        if let Some(v) = probe().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(crate::AwsError::Timeout {
                side: cx.name,
                what,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// Treats "already there" as done: converge may repeat a step a killed run
/// already made.
pub fn duplicate_ok(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_duplicate() => Ok(()),
        other => other,
    }
}

/// Lists through an API that takes IDs as a parameter (rather than an ID
/// filter, which the emulator lacks for some kinds). AWS fails such a call
/// whole when one ID is gone, so a NotFound is retried ID by ID, leaving the
/// missing ones out.
pub async fn by_ids<T, F, Fut>(ids: &[String], fetch: F) -> Result<Vec<T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>>>,
{
    if ids.is_empty() {
        return Ok(vec![]);
    }
    match fetch(ids.to_vec()).await {
        Err(e) if e.is_not_found() => {
            let mut out = vec![];
            for id in ids.iter().filter(|_| ids.len() > 1) {
                match fetch(vec![id.clone()]).await {
                    Err(e) if e.is_not_found() => {}
                    r => out.extend(r?),
                }
            }
            Ok(out)
        }
        r => r,
    }
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

/// Treats NotFound as done: deleting something already gone succeeds.
pub fn gone_ok(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// The single resource a describe by ID returns, or an error naming it.
pub async fn one(adapter: &dyn crate::KindAdapter, cx: &Side, id: &str) -> Result<Resource> {
    adapter
        .describe(cx, &Lookup::Ids(vec![id.to_string()]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            crate::AwsError::not_found(
                cx.name,
                "Describe",
                &format!("{}.NotFound", adapter.kind()),
                id,
            )
        })
}
