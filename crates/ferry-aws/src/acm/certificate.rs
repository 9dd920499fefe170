//! ACM certificates, keyed by ARN. ferry never creates, changes or deletes
//! one: a certificate's private key never leaves ACM (and ferry never
//! handles private keys), so the destination must already hold its own
//! certificate for the same names. Every certificate is therefore listed as
//! a default (`default = true`): the plan maps each source certificate to
//! the destination's issued certificate with an equal spec (domain name and
//! every alternative name), and reports a listener whose certificate has no
//! counterpart as a conflict.
//!
//! ListCertificates is asked for every status and every key type: by
//! default it lists only certificates with RSA 2048 keys, and without the
//! statuses an expired or pending certificate a listener still names would
//! be missing. A certificate that is not ISSUED is listed but skipped, with
//! its status as the reason: on the source side nothing maps it, and on the
//! destination side it is never picked as a counterpart. The full list of
//! alternative names comes from DescribeCertificate (the listing truncates
//! it). User tags are read for the plan's display; ferry never tags a
//! certificate.

use crate::adapter::page_size;
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Filters, KeyAlgorithm};
use ferry_core::spec::loadbalancing::CertificateSpec;
use ferry_core::spec::{self};
use ferry_core::{Key, Kind, Resource};

pub struct Certificate;

/// The ARNs of every certificate in the region, whatever its status or key.
async fn list_arns(cx: &Side) -> Result<Vec<String>> {
    let statuses = CertificateStatus::values()
        .iter()
        .map(|s| CertificateStatus::from(*s))
        .collect();
    let keys = Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|k| KeyAlgorithm::from(*k))
                .collect(),
        ))
        .build();
    let client = cx.acm(Class::CertificateRead).await;
    let mut pages = client
        .list_certificates()
        .set_certificate_statuses(Some(statuses))
        .includes(keys)
        .set_max_items(page_size(true))
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        for c in page
            .map_err(|e| cx.err("ListCertificates", e))?
            .certificate_summary_list()
        {
            if let Some(arn) = c.certificate_arn() {
                out.push(arn.to_string());
            }
        }
    }
    Ok(out)
}

/// The certificate's details; `None` when it is gone.
async fn detail(cx: &Side, arn: &str) -> Result<Option<CertificateDetail>> {
    match cx
        .acm(Class::CertificateRead)
        .await
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.certificate),
        Err(e) => {
            let e = cx.err("DescribeCertificate", e);
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

async fn tags(cx: &Side, arn: &str) -> Result<Vec<(String, String)>> {
    let out = cx
        .acm(Class::CertificateRead)
        .await
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("ListTagsForCertificate", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// The spec of a certificate, and why it cannot serve as a counterpart
/// (when it is not issued).
fn to_spec(d: &CertificateDetail) -> (CertificateSpec, Option<String>) {
    let spec = CertificateSpec {
        domain_name: d.domain_name().unwrap_or_default().to_string(),
        subject_alternative_names: d.subject_alternative_names().to_vec(),
    }
    .canonical();
    let skip = match d.status() {
        Some(CertificateStatus::Issued) => None,
        other => Some(format!(
            "certificate is {}: only an issued certificate can serve a listener, so ferry maps only issued ones; have it issued (validated, renewed or replaced) and discover again",
            other.map(|s| s.as_str()).unwrap_or("of unknown status")
        )),
    };
    (spec, skip)
}

async fn read(cx: &Side, arn: &str) -> Result<Option<Resource>> {
    let Some(d) = detail(cx, arn).await? else {
        return Ok(None);
    };
    let (spec, skip) = to_spec(&d);
    let tags = tags(cx, arn).await?;
    let mut r = Resource::with_tags(
        Key::new(Kind::Certificate, arn),
        spec::to_value(&spec),
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    r.default = true;
    r.skip = skip;
    Ok(Some(r))
}

#[async_trait]
impl KindAdapter for Certificate {
    fn kind(&self) -> Kind {
        Kind::Certificate
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let arns = match lookup {
            Lookup::All => list_arns(cx).await?,
            Lookup::Ids(ids) => ids.clone(),
            // ferry never tags a certificate: none carries ferry:source.
            Lookup::SourceTag(_) => return Ok(vec![]),
        };
        let mut out = vec![];
        for arn in arns {
            out.extend(read(cx, &arn).await?);
        }
        Ok(out)
    }

    /// Never reached: every certificate is a default, which the plan maps
    /// and never creates.
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
        &[
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "acm:ListTagsForCertificate",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(status: CertificateStatus) -> CertificateDetail {
        CertificateDetail::builder()
            .certificate_arn("arn:aws:acm:us-east-1:111111111111:certificate/abc")
            .domain_name("www.example.com")
            .subject_alternative_names("www.example.com")
            .subject_alternative_names("api.example.com")
            .subject_alternative_names("www.example.com")
            .status(status)
            .build()
    }

    #[test]
    fn names_are_sorted_and_deduplicated() {
        let (spec, skip) = to_spec(&cert(CertificateStatus::Issued));
        assert_eq!(spec.domain_name, "www.example.com");
        assert_eq!(
            spec.subject_alternative_names,
            vec!["api.example.com".to_string(), "www.example.com".to_string()]
        );
        assert!(skip.is_none());
    }

    #[test]
    fn certificates_not_issued_are_skipped_with_their_status() {
        for status in [
            CertificateStatus::Expired,
            CertificateStatus::PendingValidation,
            CertificateStatus::Revoked,
        ] {
            let why = to_spec(&cert(status.clone())).1.expect("skipped");
            assert!(
                why.starts_with(&format!("certificate is {}:", status.as_str())),
                "{why}"
            );
        }
    }
}
