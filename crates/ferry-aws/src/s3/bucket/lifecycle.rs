//! Lifecycle rules: read into [`LifecycleRule`] mirrors (a rule's legacy
//! top-level prefix read as the filter it means), compared as a list and
//! written whole (PutBucketLifecycleConfiguration) or removed
//! (DeleteBucketLifecycle).

use super::doc::{built, date, no, sdk_all, sdk_date, Built};
use super::Change;
use crate::adapter::text;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types as t;
use ferry_core::spec::s3::BucketSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: String,
    /// Left out when the rule applies to every object.
    #[serde(default, skip_serializing_if = "Filter::is_all")]
    pub filter: Filter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_version_transitions: Vec<NoncurrentVersionTransition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<TagPair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_less_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<And>,
}

impl Filter {
    pub fn is_all(&self) -> bool {
        self == &Filter::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct And {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagPair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_less_than: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagPair {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Expiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "no")]
    pub expired_object_delete_marker: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Transition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionTransition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_after_initiation: Option<i32>,
}

fn tag_pair(t: &t::Tag) -> TagPair {
    TagPair {
        key: t.key().to_string(),
        value: t.value().to_string(),
    }
}

fn sdk_tag(t: &TagPair) -> Built<t::Tag> {
    built(t::Tag::builder().key(&t.key).value(&t.value).build())
}

fn filter(f: &t::LifecycleRuleFilter) -> Filter {
    Filter {
        prefix: text(f.prefix()),
        tag: f.tag().map(tag_pair),
        object_size_greater_than: f.object_size_greater_than(),
        object_size_less_than: f.object_size_less_than(),
        and: f.and().map(|a| {
            let mut tags: Vec<TagPair> = a.tags().iter().map(tag_pair).collect();
            tags.sort();
            And {
                prefix: text(a.prefix()),
                tags,
                object_size_greater_than: a.object_size_greater_than(),
                object_size_less_than: a.object_size_less_than(),
            }
        }),
    }
}

/// A rule's legacy top-level `Prefix` (no `Filter`) reads as a filter
/// by that prefix, which is what it means.
#[allow(deprecated)]
pub fn read(r: &t::LifecycleRule) -> LifecycleRule {
    let filter = match r.filter() {
        Some(f) => filter(f),
        None => Filter {
            prefix: text(r.prefix()),
            ..Filter::default()
        },
    };
    LifecycleRule {
        id: text(r.id()),
        status: r.status().as_str().to_string(),
        filter,
        expiration: r.expiration().map(|e| Expiration {
            date: date(e.date()),
            days: e.days(),
            expired_object_delete_marker: e.expired_object_delete_marker().unwrap_or(false),
        }),
        transitions: r
            .transitions()
            .iter()
            .map(|x| Transition {
                date: date(x.date()),
                days: x.days(),
                storage_class: x.storage_class().map(|c| c.as_str().to_string()),
            })
            .collect(),
        noncurrent_version_transitions: r
            .noncurrent_version_transitions()
            .iter()
            .map(|x| NoncurrentVersionTransition {
                noncurrent_days: x.noncurrent_days(),
                storage_class: x.storage_class().map(|c| c.as_str().to_string()),
                newer_noncurrent_versions: x.newer_noncurrent_versions(),
            })
            .collect(),
        noncurrent_version_expiration: r.noncurrent_version_expiration().map(|x| {
            NoncurrentVersionExpiration {
                noncurrent_days: x.noncurrent_days(),
                newer_noncurrent_versions: x.newer_noncurrent_versions(),
            }
        }),
        abort_incomplete_multipart_upload: r.abort_incomplete_multipart_upload().map(|x| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: x.days_after_initiation(),
            }
        }),
    }
}

/// A rule for every object is sent with an empty prefix filter, the
/// form AWS documents for it.
pub fn sdk(r: &LifecycleRule) -> Built<t::LifecycleRule> {
    let f = &r.filter;
    let and = match &f.and {
        Some(a) => Some(
            t::LifecycleRuleAndOperator::builder()
                .set_prefix(a.prefix.clone())
                .set_tags(Some(a.tags.iter().map(sdk_tag).collect::<Built<Vec<_>>>()?))
                .set_object_size_greater_than(a.object_size_greater_than)
                .set_object_size_less_than(a.object_size_less_than)
                .build(),
        ),
        None => None,
    };
    let filter = t::LifecycleRuleFilter::builder()
        .set_prefix(if f.is_all() {
            Some(String::new())
        } else {
            f.prefix.clone()
        })
        .set_tag(f.tag.as_ref().map(sdk_tag).transpose()?)
        .set_object_size_greater_than(f.object_size_greater_than)
        .set_object_size_less_than(f.object_size_less_than)
        .set_and(and)
        .build();
    let expiration = match &r.expiration {
        Some(e) => Some(
            t::LifecycleExpiration::builder()
                .set_date(sdk_date(&e.date)?)
                .set_days(e.days)
                .set_expired_object_delete_marker(e.expired_object_delete_marker.then_some(true))
                .build(),
        ),
        None => None,
    };
    let transitions = r
        .transitions
        .iter()
        .map(|x| {
            Ok(t::Transition::builder()
                .set_date(sdk_date(&x.date)?)
                .set_days(x.days)
                .set_storage_class(
                    x.storage_class
                        .as_deref()
                        .map(t::TransitionStorageClass::from),
                )
                .build())
        })
        .collect::<Built<Vec<_>>>()?;
    let noncurrent = r
        .noncurrent_version_transitions
        .iter()
        .map(|x| {
            t::NoncurrentVersionTransition::builder()
                .set_noncurrent_days(x.noncurrent_days)
                .set_storage_class(
                    x.storage_class
                        .as_deref()
                        .map(t::TransitionStorageClass::from),
                )
                .set_newer_noncurrent_versions(x.newer_noncurrent_versions)
                .build()
        })
        .collect::<Vec<_>>();
    built(
        t::LifecycleRule::builder()
            .set_id(r.id.clone())
            .status(t::ExpirationStatus::from(r.status.as_str()))
            .filter(filter)
            .set_expiration(expiration)
            .set_transitions((!transitions.is_empty()).then_some(transitions))
            .set_noncurrent_version_transitions((!noncurrent.is_empty()).then_some(noncurrent))
            .set_noncurrent_version_expiration(r.noncurrent_version_expiration.as_ref().map(|x| {
                t::NoncurrentVersionExpiration::builder()
                    .set_noncurrent_days(x.noncurrent_days)
                    .set_newer_noncurrent_versions(x.newer_noncurrent_versions)
                    .build()
            }))
            .set_abort_incomplete_multipart_upload(
                r.abort_incomplete_multipart_upload.as_ref().map(|x| {
                    t::AbortIncompleteMultipartUpload::builder()
                        .set_days_after_initiation(x.days_after_initiation)
                        .build()
                }),
            )
            .build(),
    )
}

/// Sets `w`'s rules, or removes them, when they differ from `h`'s.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.lifecycle == h.lifecycle {
        return Ok(None);
    }
    if w.lifecycle.is_empty() {
        cx.s3(Class::S3Write)
            .await
            .delete_bucket_lifecycle()
            .bucket(id)
            .send()
            .await
            .map_err(|e| cx.err("DeleteBucketLifecycle", e))?;
        return Ok(Some("lifecycle rules removed".into()));
    }
    let rules = sdk_all::<LifecycleRule, _>(cx, "lifecycle rule", &w.lifecycle, sdk)?;
    let config = t::BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| cx.invalid(e.to_string()))?;
    cx.s3(Class::S3Write)
        .await
        .put_bucket_lifecycle_configuration()
        .bucket(id)
        .lifecycle_configuration(config)
        .send()
        .await
        .map_err(|e| cx.err("PutBucketLifecycleConfiguration", e))?;
    Ok(Some(format!("lifecycle: {} rule(s)", w.lifecycle.len())))
}

#[cfg(test)]
mod tests {
    use super::super::doc::{parse, to_json};
    use super::super::fixtures::lifecycle_rules;
    use super::*;

    /// What is read is what is sent: SDK -> document -> SDK -> document is
    /// the identity, so converge's writes read back equal.
    #[test]
    fn rules_round_trip_through_the_sdk_types() {
        for r in lifecycle_rules() {
            let d = read(&r);
            let back = read(&sdk(&d).unwrap());
            assert_eq!(back, d);
            let v = to_json(&d);
            assert_eq!(parse::<LifecycleRule>(&v).unwrap(), d);
        }
        // "Every object" is sent as an empty prefix filter.
        let all = read(&lifecycle_rules()[2]);
        let sent = sdk(&all).unwrap();
        assert_eq!(sent.filter().and_then(|f| f.prefix()), Some(""));
    }
}
