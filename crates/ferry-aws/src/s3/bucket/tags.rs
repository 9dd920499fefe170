//! Bucket tags. Buckets take none at creation, and PutBucketTagging
//! replaces the whole set: the set written keeps the `ferry:run` the bucket
//! already carries (or sets `want`'s when a killed create left none), and
//! the tag rule itself is [`crate::adapter::tags`].

use crate::adapter::tags;
use crate::ratelimit::Class;
use crate::{Desired, Result, Side};
use aws_sdk_s3::types::{Tag, Tagging};
use ferry_core::resource::{TAG_RUN, TAG_SOURCE};
use std::collections::BTreeMap;

/// The bucket's tags as (key, value) pairs; none when it has no tag set.
pub async fn tags_of(cx: &Side, name: &str) -> Result<Vec<(String, String)>> {
    let out = super::raw::configured(
        cx.s3(Class::S3Read)
            .await
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("GetBucketTagging", e)),
    )?;
    Ok(out
        .map(|o| {
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default())
}

fn sdk_tags(cx: &Side, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| cx.invalid(format!("tag {k}: {e}")))
        })
        .collect()
}

/// Writes the whole tag set (PutBucketTagging replaces it), or deletes it
/// when there is none.
pub async fn put(cx: &Side, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    let c = cx.s3(Class::S3Write).await;
    if tags.is_empty() {
        return c
            .delete_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DeleteBucketTagging", e));
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(sdk_tags(cx, tags)?))
        .build()
        .map_err(|e| cx.invalid(e.to_string()))?;
    c.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("PutBucketTagging", e))
}

/// PutBucketTagging replaces the whole set: the tags to write so that user
/// tags and `ferry:source` match `want`, keeping the `ferry:run` the bucket
/// already carries (or setting `want`'s when a killed create left none).
fn full_tags(want: &Desired, have: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = want
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != TAG_RUN)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let run = have
        .iter()
        .find(|(k, _)| k == TAG_RUN)
        .map(|(_, v)| v.clone())
        .or_else(|| want.tags.get(TAG_RUN).cloned());
    if let Some(r) = run {
        out.insert(TAG_RUN.into(), r);
    }
    out
}

/// Brings the bucket's tags (`have`, as read: ferry's included) to
/// `want`'s, writing the whole set when anything differs.
pub async fn converge(
    cx: &Side,
    id: &str,
    want: &Desired,
    have: &[(String, String)],
) -> Result<Vec<String>> {
    if !want.manage_tags {
        return Ok(vec![]);
    }
    let user: BTreeMap<String, String> = have
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("ferry:"))
        .cloned()
        .collect();
    let source = have
        .iter()
        .find(|(k, _)| k == TAG_SOURCE)
        .map(|(_, v)| v.as_str());
    let diff = tags::changes(want, &user, source);
    let run_missing = want.tags.contains_key(TAG_RUN) && !have.iter().any(|(k, _)| k == TAG_RUN);
    if diff.is_empty() && !run_missing {
        return Ok(vec![]);
    }
    put(cx, id, &full_tags(want, have)).await?;
    let mut set = diff.set_keys();
    if run_missing {
        set.push(TAG_RUN);
    }
    Ok(tags::lines(&set, &diff.remove))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn tagging_keeps_the_run_that_made_the_bucket() {
        let want = Desired {
            spec: Value::Null,
            tags: [
                ("team", "a"),
                (TAG_SOURCE, "arn:aws:s3:::photos"),
                (TAG_RUN, "run-2"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            manage_tags: true,
            source_id: "photos".into(),
            dest_name: Some("photos-copy".into()),
            copy: None,
        };
        let have = vec![
            (TAG_RUN.to_string(), "run-1".to_string()),
            ("old".to_string(), "x".to_string()),
        ];
        let full = full_tags(&want, &have);
        assert_eq!(full.get(TAG_RUN).map(String::as_str), Some("run-1"));
        assert_eq!(full.get("team").map(String::as_str), Some("a"));
        assert!(!full.contains_key("old"));
        // A create killed before tagging: the run tag is set late.
        assert_eq!(
            full_tags(&want, &[]).get(TAG_RUN).map(String::as_str),
            Some("run-2")
        );
    }
}
