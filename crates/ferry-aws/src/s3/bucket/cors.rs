//! CORS: the rules, read into [`CorsRule`] mirrors, compared as a list and
//! written whole (PutBucketCors) or removed (DeleteBucketCors).

use super::doc::{built, list, sdk_all, Built};
use super::Change;
use crate::adapter::text;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types as t;
use ferry_core::spec::s3::BucketSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

/// Header, method and origin lists are sets (matched by membership), so
/// they are sorted; the rules themselves keep their order.
pub fn read(r: &t::CorsRule) -> CorsRule {
    let sorted = |l: &[String]| {
        let mut v = list(l);
        v.sort();
        v.dedup();
        v
    };
    CorsRule {
        id: text(r.id()),
        allowed_headers: sorted(r.allowed_headers()),
        allowed_methods: sorted(r.allowed_methods()),
        allowed_origins: sorted(r.allowed_origins()),
        expose_headers: sorted(r.expose_headers()),
        max_age_seconds: r.max_age_seconds(),
    }
}

pub fn sdk(r: &CorsRule) -> Built<t::CorsRule> {
    let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    built(
        t::CorsRule::builder()
            .set_id(r.id.clone())
            .set_allowed_headers(some(&r.allowed_headers))
            .set_allowed_methods(Some(r.allowed_methods.clone()))
            .set_allowed_origins(Some(r.allowed_origins.clone()))
            .set_expose_headers(some(&r.expose_headers))
            .set_max_age_seconds(r.max_age_seconds)
            .build(),
    )
}

/// Sets `w`'s rules, or removes them, when they differ from `h`'s.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.cors == h.cors {
        return Ok(None);
    }
    if w.cors.is_empty() {
        cx.s3(Class::S3Write)
            .await
            .delete_bucket_cors()
            .bucket(id)
            .send()
            .await
            .map_err(|e| cx.err("DeleteBucketCors", e))?;
        return Ok(Some("CORS removed".into()));
    }
    let rules = sdk_all::<CorsRule, _>(cx, "CORS rule", &w.cors, sdk)?;
    let config = t::CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(|e| cx.invalid(e.to_string()))?;
    cx.s3(Class::S3Write)
        .await
        .put_bucket_cors()
        .bucket(id)
        .cors_configuration(config)
        .send()
        .await
        .map_err(|e| cx.err("PutBucketCors", e))?;
    Ok(Some(format!("CORS: {} rule(s)", w.cors.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is read is what is sent: SDK -> document -> SDK -> document is
    /// the identity, so converge's writes read back equal.
    #[test]
    fn rules_round_trip_through_the_sdk_types() {
        let c = read(&super::super::fixtures::cors_rule());
        assert_eq!(read(&sdk(&c).unwrap()), c);
    }
}
