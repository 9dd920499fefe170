//! Elastic Load Balancing v2: Application and Network load balancers, their
//! target groups, listeners and rules, one file each, and what they share:
//! tags (read in batches of 20 ARNs, reconciled with AddTags/RemoveTags),
//! and narrowing a listing to what a [`Lookup`] asks for.
//!
//! Every kind here is keyed by its ARN, so a `ferry:source` tag holds the
//! source ARN itself.

pub mod actions;
pub mod listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod target_group;

use crate::adapter::tags;
use crate::ratelimit::Class;
use crate::{Desired, Lookup, Result, Side};
use aws_sdk_elasticloadbalancingv2::types::Tag;
use ferry_core::resource::TAG_SOURCE;
use ferry_core::Resource;
use std::collections::{BTreeMap, HashMap};

/// DescribeTags takes at most 20 ARNs.
const TAG_BATCH: usize = 20;

/// The tags of each ARN (absent ARNs have none).
pub async fn tags_of(cx: &Side, arns: &[String]) -> Result<HashMap<String, Vec<(String, String)>>> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(TAG_BATCH) {
        let resp = cx
            .elbv2(Class::ElbRead)
            .await
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| cx.err("DescribeTags", e))?;
        for d in resp.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

/// The tags to create a resource with: the user's and ferry's.
pub fn creation_tags(want: &Desired) -> Option<Vec<Tag>> {
    let tags = sdk_tags(&want.tags);
    (!tags.is_empty()).then_some(tags)
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Keeps the resources a lookup asks for: all, these ARNs, or those
/// carrying `ferry:source` = the value.
pub fn select(lookup: &Lookup, resources: Vec<Resource>) -> Vec<Resource> {
    match lookup {
        Lookup::All => resources,
        Lookup::Ids(ids) => resources
            .into_iter()
            .filter(|r| ids.contains(&r.key.id))
            .collect(),
        Lookup::SourceTag(v) => resources
            .into_iter()
            .filter(|r| r.ferry_source.as_deref() == Some(v.as_str()))
            .collect(),
    }
}

/// Brings the resource's tags to `want`'s; one line per kind of change.
pub async fn converge_tags(cx: &Side, arn: &str, want: &Desired) -> Result<Vec<String>> {
    let all = tags_of(cx, &[arn.to_string()]).await?;
    let mut have: BTreeMap<String, String> = BTreeMap::new();
    let mut source = None;
    for (k, v) in all.get(arn).into_iter().flatten() {
        if k == TAG_SOURCE {
            source = Some(v.clone());
        } else if !k.starts_with("aws:") && !k.starts_with("ferry:") {
            have.insert(k.clone(), v.clone());
        }
    }
    let diff = tags::changes(want, &have, source.as_deref());
    let client = cx.elbv2(Class::ElbMutate).await;
    tags::send(
        &diff,
        |set| async move {
            client
                .add_tags()
                .resource_arns(arn)
                .set_tags(Some(sdk_tags(&set)))
                .send()
                .await
                .map_err(|e| cx.err("AddTags", e))
        },
        |keys| async move {
            client
                .remove_tags()
                .resource_arns(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(|e| cx.err("RemoveTags", e))
        },
    )
    .await
}

/// A resource read from ELBv2, with its tags split the usual way.
pub fn resource(
    kind: ferry_core::Kind,
    arn: &str,
    spec: serde_json::Value,
    tags: Option<&Vec<(String, String)>>,
) -> Resource {
    Resource::with_tags(
        ferry_core::Key::new(kind, arn),
        spec,
        tags.into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Kind;

    #[test]
    fn lookups_narrow_by_arn_or_source_tag() {
        let tags = vec![(TAG_SOURCE.to_string(), "arn:src".to_string())];
        let all = vec![
            resource(
                Kind::TargetGroup,
                "arn:a",
                serde_json::Value::Null,
                Some(&tags),
            ),
            resource(Kind::TargetGroup, "arn:b", serde_json::Value::Null, None),
        ];
        assert_eq!(select(&Lookup::All, all.clone()).len(), 2);
        let by_id = select(&Lookup::Ids(vec!["arn:b".into()]), all.clone());
        assert_eq!(by_id[0].key.id, "arn:b");
        let by_tag = select(&Lookup::SourceTag("arn:src".into()), all);
        assert_eq!(by_tag.len(), 1);
        assert_eq!(by_tag[0].key.id, "arn:a");
    }
}
