//! Static website hosting: read into a [`Website`] mirror (none when
//! nothing is configured), compared whole and written (PutBucketWebsite) or
//! removed (DeleteBucketWebsite).

use super::doc::{built, sdk_one, Built};
use super::Change;
use crate::adapter::text;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput;
use aws_sdk_s3::types as t;
use ferry_core::spec::s3::BucketSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Website {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_document: Option<IndexDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_document: Option<ErrorDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_all_requests_to: Option<RedirectAllRequestsTo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_rules: Vec<RoutingRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDocument {
    pub suffix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorDocument {
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedirectAllRequestsTo {
    pub host_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    pub redirect: Redirect,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_error_code_returned_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix_equals: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Redirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_redirect_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_prefix_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_with: Option<String>,
}

/// `None` when nothing is configured.
pub fn read(w: &GetBucketWebsiteOutput) -> Option<Website> {
    let out = Website {
        index_document: w
            .index_document()
            .map(|d| IndexDocument {
                suffix: d.suffix().to_string(),
            })
            .filter(|d| !d.suffix.is_empty()),
        error_document: w
            .error_document()
            .map(|d| ErrorDocument {
                key: d.key().to_string(),
            })
            .filter(|d| !d.key.is_empty()),
        redirect_all_requests_to: w.redirect_all_requests_to().map(|r| RedirectAllRequestsTo {
            host_name: r.host_name().to_string(),
            protocol: r.protocol().map(|p| p.as_str().to_string()),
        }),
        routing_rules: w
            .routing_rules()
            .iter()
            .map(|r| RoutingRule {
                condition: r
                    .condition()
                    .map(|c| Condition {
                        http_error_code_returned_equals: text(c.http_error_code_returned_equals()),
                        key_prefix_equals: text(c.key_prefix_equals()),
                    })
                    .filter(|c| {
                        c.http_error_code_returned_equals.is_some() || c.key_prefix_equals.is_some()
                    }),
                redirect: r
                    .redirect()
                    .map(|x| Redirect {
                        host_name: text(x.host_name()),
                        http_redirect_code: text(x.http_redirect_code()),
                        protocol: x.protocol().map(|p| p.as_str().to_string()),
                        replace_key_prefix_with: text(x.replace_key_prefix_with()),
                        replace_key_with: text(x.replace_key_with()),
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    };
    (out != Website::default()).then_some(out)
}

pub fn sdk(w: &Website) -> Built<t::WebsiteConfiguration> {
    let index = w
        .index_document
        .as_ref()
        .map(|d| built(t::IndexDocument::builder().suffix(&d.suffix).build()))
        .transpose()?;
    let error = w
        .error_document
        .as_ref()
        .map(|d| built(t::ErrorDocument::builder().key(&d.key).build()))
        .transpose()?;
    let redirect = w
        .redirect_all_requests_to
        .as_ref()
        .map(|r| {
            built(
                t::RedirectAllRequestsTo::builder()
                    .host_name(&r.host_name)
                    .set_protocol(r.protocol.as_deref().map(t::Protocol::from))
                    .build(),
            )
        })
        .transpose()?;
    let rules: Vec<t::RoutingRule> = w
        .routing_rules
        .iter()
        .map(|r| {
            t::RoutingRule::builder()
                .set_condition(r.condition.as_ref().map(|c| {
                    t::Condition::builder()
                        .set_http_error_code_returned_equals(
                            c.http_error_code_returned_equals.clone(),
                        )
                        .set_key_prefix_equals(c.key_prefix_equals.clone())
                        .build()
                }))
                .redirect(
                    t::Redirect::builder()
                        .set_host_name(r.redirect.host_name.clone())
                        .set_http_redirect_code(r.redirect.http_redirect_code.clone())
                        .set_protocol(r.redirect.protocol.as_deref().map(t::Protocol::from))
                        .set_replace_key_prefix_with(r.redirect.replace_key_prefix_with.clone())
                        .set_replace_key_with(r.redirect.replace_key_with.clone())
                        .build(),
                )
                .build()
        })
        .collect();
    Ok(t::WebsiteConfiguration::builder()
        .set_index_document(index)
        .set_error_document(error)
        .set_redirect_all_requests_to(redirect)
        .set_routing_rules((!rules.is_empty()).then_some(rules))
        .build())
}

/// Sets `w`'s configuration, or removes it, when it differs from
/// `h`'s.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.website == h.website {
        return Ok(None);
    }
    let Some(v) = &w.website else {
        cx.s3(Class::S3Write)
            .await
            .delete_bucket_website()
            .bucket(id)
            .send()
            .await
            .map_err(|e| cx.err("DeleteBucketWebsite", e))?;
        return Ok(Some("website configuration removed".into()));
    };
    let config = sdk_one::<Website, _>(cx, "website configuration", v, sdk)?;
    cx.s3(Class::S3Write)
        .await
        .put_bucket_website()
        .bucket(id)
        .website_configuration(config)
        .send()
        .await
        .map_err(|e| cx.err("PutBucketWebsite", e))?;
    Ok(Some("website configuration set".into()))
}

#[cfg(test)]
mod tests {
    use super::super::doc::to_json;
    use super::super::fixtures::website;
    use super::*;
    use serde_json::json;

    /// What is read is what is sent: SDK -> document -> SDK -> document is
    /// the identity, so converge's writes read back equal.
    #[test]
    fn configurations_round_trip_through_the_sdk_types() {
        let w = read(&website()).unwrap();
        let sent = sdk(&w).unwrap();
        let back = GetBucketWebsiteOutput::builder()
            .set_index_document(sent.index_document().cloned())
            .set_error_document(sent.error_document().cloned())
            .set_routing_rules(Some(sent.routing_rules().to_vec()))
            .build();
        assert_eq!(read(&back), Some(w));
        let redirect = GetBucketWebsiteOutput::builder()
            .redirect_all_requests_to(
                t::RedirectAllRequestsTo::builder()
                    .host_name("example.com")
                    .protocol(t::Protocol::Https)
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            to_json(&read(&redirect).unwrap()),
            json!({"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
        );
        assert_eq!(read(&GetBucketWebsiteOutput::builder().build()), None);
    }
}
