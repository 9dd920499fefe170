//! IAM server certificates (what classic load balancers often serve), keyed
//! by ARN. Like ACM certificates they are mapped, never created, changed or
//! deleted: uploading one needs its private key, which ferry never handles.
//! Every one is listed as a default, and the plan maps each source
//! certificate to the destination's certificate of the same name.
//!
//! An expired certificate is listed but skipped: on the source side nothing
//! maps it, and on the destination side it is never picked as the
//! counterpart. ListServerCertificates gives everything needed (name, ARN,
//! expiry), so no call is made per certificate; their tags are not read, as
//! ferry never tags a certificate and the plan does not compare the tags of
//! what it maps.

use crate::adapter::page_size;
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_iam::types::ServerCertificateMetadata;
use aws_smithy_types::DateTime;
use ferry_core::spec::loadbalancing::ServerCertificateSpec;
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Resource};

pub struct ServerCertificate;

fn to_resource(m: &ServerCertificateMetadata, now: &DateTime) -> Resource {
    let s = ServerCertificateSpec {
        name: m.server_certificate_name().to_string(),
    };
    let mut r = Resource::with_tags(
        Key::new(Kind::ServerCertificate, m.arn()),
        spec::to_value(&s),
        std::iter::empty(),
    );
    r.default = true;
    if let Some(exp) = m.expiration().filter(|e| e.secs() <= now.secs()) {
        r.skip = Some(format!(
            "certificate expired on {exp}: only a valid certificate can serve a listener, so ferry maps only those; upload a renewed one and discover again"
        ));
    }
    r
}

#[async_trait]
impl KindAdapter for ServerCertificate {
    fn kind(&self) -> Kind {
        Kind::ServerCertificate
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        // ferry never tags a certificate: none carries ferry:source.
        if matches!(lookup, Lookup::SourceTag(_)) {
            return Ok(vec![]);
        }
        let now = DateTime::from(std::time::SystemTime::now());
        let client = cx.iam(Class::IamRead).await;
        let mut pages = client
            .list_server_certificates()
            .set_max_items(page_size(true))
            .into_paginator()
            .send();
        let mut out = vec![];
        while let Some(page) = pages.next().await {
            for m in page
                .map_err(|e| cx.err("ListServerCertificates", e))?
                .server_certificate_metadata_list()
            {
                if let Lookup::Ids(ids) = lookup {
                    if !ids.iter().any(|i| i == m.arn()) {
                        continue;
                    }
                }
                out.push(to_resource(m, &now));
            }
        }
        Ok(out)
    }

    /// Never reached: every server certificate is a default, which the plan
    /// maps and never creates.
    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        Err(crate::acm::never_created(cx, want))
    }

    /// ferry never changes a certificate: the destination's is the
    /// operator's, used as it is.
    async fn converge(
        &self,
        _cx: &Side,
        _id: &str,
        _want: &Desired,
        _phase: Phase,
    ) -> Result<Vec<String>> {
        Ok(vec![])
    }

    /// ferry deletes only what it created, and it creates no certificate:
    /// the one a rollback meets is the operator's and stays.
    async fn delete(&self, _cx: &Side, _id: &str) -> Result<()> {
        Ok(())
    }

    fn actions(&self) -> &'static [&'static str] {
        &["iam:ListServerCertificates"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(expiration: i64) -> ServerCertificateMetadata {
        ServerCertificateMetadata::builder()
            .path("/cloudfront/")
            .server_certificate_name("www")
            .server_certificate_id("ASCA1")
            .arn("arn:aws:iam::111111111111:server-certificate/cloudfront/www")
            .expiration(DateTime::from_secs(expiration))
            .build()
            .unwrap()
    }

    #[test]
    fn server_certificates_are_mapped_by_name_and_skipped_once_expired() {
        let now = DateTime::from_secs(1_700_000_000);
        let valid = to_resource(&meta(1_800_000_000), &now);
        assert!(valid.default && valid.skip.is_none());
        assert_eq!(
            valid.key.id,
            "arn:aws:iam::111111111111:server-certificate/cloudfront/www"
        );
        assert_eq!(valid.spec, serde_json::json!({"name": "www"}));
        let expired = to_resource(&meta(1_600_000_000), &now);
        assert!(expired.skip.unwrap().starts_with("certificate expired on"));
    }
}
