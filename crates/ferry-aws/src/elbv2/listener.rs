//! Listeners of Application and Network load balancers, keyed by their ARN.
//!
//! ELBv2 cannot list listeners on their own: a full listing walks every
//! load balancer (DescribeLoadBalancers) and asks for each one's listeners;
//! a lookup by ARN asks DescribeListeners for those ARNs. The spec names
//! the load balancer, the target groups of forward actions and the
//! certificates as references, so each follows the mapping: an ACM
//! certificate (`arn:...:acm:...`) maps to the destination's certificate
//! for the same names, an IAM server certificate
//! (`arn:...:iam::...:server-certificate/...`) to the one of the same name.
//!
//! DescribeListeners reports only the default certificate; the further
//! certificates served by SNI come from DescribeListenerCertificates (the
//! entries that are not the default) and are reconciled with
//! Add/RemoveListenerCertificates. An SSL policy only means something on
//! HTTPS and TLS listeners, so one reported on another listener is left
//! out of its spec.
//!
//! Listener attributes are kept by key and only the differing ones are
//! sent, so AWS's defaults are never written.
//!
//! Listeners whose actions the specs cannot hold (authenticate actions,
//! whose client secrets are never readable), mutual TLS (its trust store is
//! not migrated) and gateway load balancer listeners are skipped with the
//! reason.

use super::actions::{read_actions, write_actions};
use super::{converge_tags, creation_tags, resource, select, tags_of};
use crate::adapter::{by_ids, gone_ok, one, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Certificate, Listener as Raw, ListenerAttribute, ProtocolEnum,
};
use ferry_core::spec::loadbalancing::ListenerSpec;
use ferry_core::spec::to_value;
use ferry_core::{Kind, Ref, Resource};
use std::collections::BTreeMap;

pub struct Listener;

/// Every load balancer's ARN (Application, Network and Gateway).
pub async fn load_balancer_arns(cx: &Side) -> Result<Vec<String>> {
    let mut pages = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_load_balancers()
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("DescribeLoadBalancers", e))?;
        out.extend(
            page.load_balancers()
                .iter()
                .filter_map(|lb| lb.load_balancer_arn().map(String::from)),
        );
    }
    Ok(out)
}

/// Every listener of every load balancer. A load balancer deleted while
/// listing has none.
pub async fn all_listeners(cx: &Side) -> Result<Vec<Raw>> {
    let client = cx.elbv2(Class::ElbRead).await;
    let mut out = vec![];
    for lb in load_balancer_arns(cx).await? {
        let mut pages = client
            .describe_listeners()
            .load_balancer_arn(&lb)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page.map_err(|e| cx.err("DescribeListeners", e)) {
                Ok(p) => out.extend(p.listeners().iter().cloned()),
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

/// These listeners; the ones gone are left out.
async fn by_arn(cx: &Side, arns: &[String]) -> Result<Vec<Raw>> {
    by_ids(arns, |arns| async move {
        let mut pages = cx
            .elbv2(Class::ElbRead)
            .await
            .describe_listeners()
            .set_listener_arns(Some(arns))
            .into_paginator()
            .send();
        let mut out = vec![];
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| cx.err("DescribeListeners", e))?;
            out.extend(page.listeners().iter().cloned());
        }
        Ok(out)
    })
    .await
}

/// The certificates a listener serves by SNI besides its default one.
async fn extra_certificates(cx: &Side, arn: &str) -> Result<Vec<String>> {
    let mut pages = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_listener_certificates()
        .listener_arn(arn)
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("DescribeListenerCertificates", e))?;
        out.extend(
            page.certificates()
                .iter()
                .filter(|c| c.is_default() != Some(true))
                .filter_map(|c| c.certificate_arn().map(String::from)),
        );
    }
    Ok(out)
}

async fn attributes(cx: &Side, arn: &str) -> Result<BTreeMap<String, String>> {
    let out = cx
        .elbv2(Class::ElbRead)
        .await
        .describe_listener_attributes()
        .listener_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("DescribeListenerAttributes", e))?;
    Ok(out
        .attributes()
        .iter()
        .filter_map(|a| {
            Some((
                a.key()?.to_string(),
                a.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

/// What kind of certificate an ARN names: ACM or IAM.
pub fn certificate_ref(arn: &str) -> Option<Ref> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "acm", _, _, res] if res.starts_with("certificate/") => {
            Some(Ref::new(Kind::Certificate, arn))
        }
        ["arn", _, "iam", _, _, res] if res.starts_with("server-certificate/") => {
            Some(Ref::new(Kind::ServerCertificate, arn))
        }
        _ => None,
    }
}

/// Protocols whose listeners negotiate TLS, and so have an SSL policy and
/// certificates.
fn secure(protocol: &str) -> bool {
    matches!(protocol, "HTTPS" | "TLS")
}

struct Read {
    spec: ListenerSpec,
    skip: Option<String>,
}

fn to_spec(l: &Raw, extra: &[String], attributes: BTreeMap<String, String>) -> Read {
    let mut skip = None;
    let protocol = l.protocol().map(|p| p.as_str().to_string());
    if l.port().is_none() || protocol.as_deref() == Some("GENEVE") {
        skip = Some("gateway load balancer listeners are not migrated".to_string());
    }
    let protocol = protocol.unwrap_or_default();
    if let Some(mode) = l.mutual_authentication().and_then(|m| m.mode()) {
        if mode != "off" {
            skip.get_or_insert(format!(
                "mutual TLS ({mode}) is not migrated yet: its trust store stays in the source"
            ));
        }
    }
    let mut cert = |arn: &str| {
        let r = certificate_ref(arn);
        if r.is_none() {
            skip.get_or_insert(format!(
                "certificate {arn} is neither an ACM nor an IAM server certificate"
            ));
        }
        r
    };
    let certificate = l
        .certificates()
        .iter()
        .find(|c| c.is_default() != Some(false))
        .and_then(|c| c.certificate_arn())
        .and_then(&mut cert);
    let extra_certificates = extra.iter().filter_map(|a| cert(a)).collect();
    let (default_actions, refused) = read_actions(l.default_actions());
    if let Some(why) = refused {
        skip.get_or_insert(why);
    }
    let spec = ListenerSpec {
        load_balancer: Ref::new(
            Kind::LoadBalancer,
            l.load_balancer_arn().unwrap_or_default(),
        ),
        port: l.port().unwrap_or_default(),
        ssl_policy: l
            .ssl_policy()
            .filter(|p| !p.is_empty() && secure(&protocol))
            .map(String::from),
        protocol,
        certificate,
        extra_certificates,
        alpn_policy: l.alpn_policy().to_vec(),
        default_actions,
        attributes,
    }
    .canonical();
    Read { spec, skip }
}

/// The listeners a lookup asks for, with their certificates, attributes
/// and tags.
async fn read(cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
    let raw = match lookup {
        Lookup::Ids(arns) => by_arn(cx, arns).await?,
        Lookup::All | Lookup::SourceTag(_) => all_listeners(cx).await?,
    };
    let arns: Vec<String> = raw
        .iter()
        .filter_map(|l| l.listener_arn().map(String::from))
        .collect();
    let tags = tags_of(cx, &arns).await?;
    let mut out = vec![];
    for l in &raw {
        let arn = l.listener_arn().unwrap_or_default();
        let protocol = l.protocol().map(|p| p.as_str()).unwrap_or_default();
        // Deleted since it was listed: left out, as a listing would.
        let details = async {
            let extra = if secure(protocol) {
                extra_certificates(cx, arn).await?
            } else {
                vec![]
            };
            Ok::<_, crate::AwsError>((extra, attributes(cx, arn).await?))
        };
        let (extra, attrs) = match details.await {
            Ok(d) => d,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let r = to_spec(l, &extra, attrs);
        let mut res = resource(Kind::Listener, arn, to_value(&r.spec), tags.get(arn));
        res.skip = r.skip;
        out.push(res);
    }
    Ok(select(lookup, out))
}

fn certificate(r: &Ref) -> Certificate {
    Certificate::builder().certificate_arn(r.id()).build()
}

/// Brings port, protocol, SSL policy, default certificate, ALPN policy and
/// default actions to `want`'s with one ModifyListener of what differs.
async fn modify(
    cx: &Side,
    arn: &str,
    want: &ListenerSpec,
    have: &ListenerSpec,
) -> Result<Vec<String>> {
    let mut call = cx
        .elbv2(Class::ElbMutate)
        .await
        .modify_listener()
        .listener_arn(arn);
    let mut fields = vec![];
    if want.port != have.port {
        call = call.port(want.port);
        fields.push("port");
    }
    if want.protocol != have.protocol {
        call = call.protocol(ProtocolEnum::from(want.protocol.as_str()));
        fields.push("protocol");
    }
    if want.ssl_policy.is_some() && want.ssl_policy != have.ssl_policy {
        call = call.set_ssl_policy(want.ssl_policy.clone());
        fields.push("SSL policy");
    }
    if let Some(c) = want
        .certificate
        .as_ref()
        .filter(|_| want.certificate != have.certificate)
    {
        call = call.certificates(certificate(c));
        fields.push("default certificate");
    }
    // An empty policy is what a listener without ALPN reports: nothing to send.
    if !want.alpn_policy.is_empty() && want.alpn_policy != have.alpn_policy {
        call = call.set_alpn_policy(Some(want.alpn_policy.clone()));
        fields.push("ALPN policy");
    }
    if want.default_actions != have.default_actions {
        call = call.set_default_actions(Some(write_actions(&want.default_actions)));
        fields.push("default actions");
    }
    if fields.is_empty() {
        return Ok(vec![]);
    }
    call.send().await.map_err(|e| cx.err("ModifyListener", e))?;
    Ok(vec![format!("updated: {}", fields.join(", "))])
}

/// Adds and removes SNI certificates so the listener serves `want`'s.
async fn converge_certificates(cx: &Side, arn: &str, want: &ListenerSpec) -> Result<Vec<String>> {
    if !secure(&want.protocol) {
        return Ok(vec![]);
    }
    let have: Vec<String> = extra_certificates(cx, arn).await?;
    let default = want.certificate.as_ref().map(|c| c.id());
    let add: Vec<&Ref> = want
        .extra_certificates
        .iter()
        .filter(|c| !have.iter().any(|h| h == c.id()))
        .collect();
    let remove: Vec<&String> = have
        .iter()
        .filter(|h| Some(h.as_str()) != default)
        .filter(|h| !want.extra_certificates.iter().any(|c| c.id() == h.as_str()))
        .collect();
    let client = cx.elbv2(Class::ElbMutate).await;
    let mut changes = vec![];
    if !add.is_empty() {
        client
            .add_listener_certificates()
            .listener_arn(arn)
            .set_certificates(Some(add.iter().map(|c| certificate(c)).collect()))
            .send()
            .await
            .map_err(|e| cx.err("AddListenerCertificates", e))?;
        changes.push(format!("certificates added: {}", add.len()));
    }
    if !remove.is_empty() {
        client
            .remove_listener_certificates()
            .listener_arn(arn)
            .set_certificates(Some(
                remove
                    .iter()
                    .map(|c| Certificate::builder().certificate_arn(*c).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| cx.err("RemoveListenerCertificates", e))?;
        changes.push(format!("certificates removed: {}", remove.len()));
    }
    Ok(changes)
}

/// Sets the attributes whose values differ from `want`'s.
async fn converge_attributes(
    cx: &Side,
    arn: &str,
    want: &ListenerSpec,
    have: &ListenerSpec,
) -> Result<Vec<String>> {
    let changed: Vec<(&String, &String)> = want
        .attributes
        .iter()
        .filter(|(k, v)| have.attributes.get(*k) != Some(*v))
        .collect();
    if changed.is_empty() {
        return Ok(vec![]);
    }
    cx.elbv2(Class::ElbMutate)
        .await
        .modify_listener_attributes()
        .listener_arn(arn)
        .set_attributes(Some(
            changed
                .iter()
                .map(|(k, v)| ListenerAttribute::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| cx.err("ModifyListenerAttributes", e))?;
    let keys: Vec<&str> = changed.iter().map(|(k, _)| k.as_str()).collect();
    Ok(vec![format!("attributes set: {}", keys.join(", "))])
}

/// The spec converge should reach and the one the resource has now.
pub(super) async fn want_and_have<T: serde::de::DeserializeOwned>(
    adapter: &dyn KindAdapter,
    cx: &Side,
    id: &str,
    want: &Desired,
) -> Result<(T, T)> {
    let kind = adapter.kind();
    let have = one(adapter, cx, id).await?;
    Ok((parse(cx, kind, &want.spec)?, parse(cx, kind, &have.spec)?))
}

/// The ARN a create call answered with.
pub(super) fn created(cx: &Side, op: &str, arn: Option<&str>) -> Result<String> {
    arn.map(String::from)
        .ok_or_else(|| cx.invalid(format!("{op} returned no ARN")))
}

#[async_trait]
impl KindAdapter for Listener {
    fn kind(&self) -> Kind {
        Kind::Listener
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        read(cx, lookup).await
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: ListenerSpec = parse(cx, Kind::Listener, &want.spec)?;
        let out = cx
            .elbv2(Class::ElbMutate)
            .await
            .create_listener()
            .load_balancer_arn(s.load_balancer.id())
            .port(s.port)
            .protocol(ProtocolEnum::from(s.protocol.as_str()))
            .set_ssl_policy(s.ssl_policy.clone())
            .set_certificates(s.certificate.as_ref().map(|c| vec![certificate(c)]))
            .set_alpn_policy((!s.alpn_policy.is_empty()).then(|| s.alpn_policy.clone()))
            .set_default_actions(Some(write_actions(&s.default_actions)))
            .set_tags(creation_tags(want))
            .send()
            .await
            .map_err(|e| cx.err("CreateListener", e))?;
        let arn = out.listeners().first().and_then(|l| l.listener_arn());
        created(cx, "CreateListener", arn)
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        if phase != Phase::Create {
            return Ok(vec![]);
        }
        let (wanted, have): (ListenerSpec, _) = want_and_have(self, cx, id, want).await?;
        let mut changes = modify(cx, id, &wanted, &have).await?;
        // After a ModifyListener: the emulator drops SNI certificates when
        // the default one changes, so they are read again.
        changes.extend(converge_certificates(cx, id, &wanted).await?);
        changes.extend(converge_attributes(cx, id, &wanted, &have).await?);
        changes.extend(converge_tags(cx, id, want).await?);
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.elbv2(Class::ElbMutate)
                .await
                .delete_listener()
                .listener_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteListener", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeListenerCertificates",
            "elasticloadbalancing:DescribeListenerAttributes",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:AddListenerCertificates",
            "elasticloadbalancing:RemoveListenerCertificates",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:DeleteListener",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, AuthenticateOidcActionConfig, MutualAuthenticationAttributes,
    };

    const LB: &str =
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188";
    const ACM: &str =
        "arn:aws:acm:us-east-1:111111111111:certificate/12345678-1234-1234-1234-123456789012";
    const ACM2: &str =
        "arn:aws:acm:us-east-1:111111111111:certificate/22345678-1234-1234-1234-123456789012";
    const IAM: &str = "arn:aws:iam::111111111111:server-certificate/legacy/www";
    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/1";

    fn forward() -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(TG)
            .build()
    }

    fn listener(
        protocol: ProtocolEnum,
        port: i32,
    ) -> aws_sdk_elasticloadbalancingv2::types::builders::ListenerBuilder {
        Raw::builder()
            .listener_arn(format!("{LB}/l1").replace(":loadbalancer/", ":listener/"))
            .load_balancer_arn(LB)
            .port(port)
            .protocol(protocol)
            .default_actions(forward())
    }

    #[test]
    fn certificate_arns_are_classified() {
        assert_eq!(certificate_ref(ACM), Some(Ref::new(Kind::Certificate, ACM)));
        assert_eq!(
            certificate_ref(IAM),
            Some(Ref::new(Kind::ServerCertificate, IAM))
        );
        assert_eq!(
            certificate_ref("arn:aws-cn:acm:cn-north-1:111111111111:certificate/x")
                .map(|r| r.key.kind),
            Some(Kind::Certificate)
        );
        assert_eq!(certificate_ref("arn:aws:iam::111111111111:role/x"), None);
        assert_eq!(certificate_ref("not-an-arn"), None);
    }

    #[test]
    fn an_https_listener_names_its_certificates_and_load_balancer() {
        let l = listener(ProtocolEnum::Https, 443)
            .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
            .certificates(Certificate::builder().certificate_arn(ACM).build())
            .build();
        // DescribeListenerCertificates lists the default too when it was
        // also added: it is not an extra one.
        let r = to_spec(&l, &[IAM.into(), ACM.into(), ACM2.into()], BTreeMap::new());
        assert!(r.skip.is_none());
        assert_eq!(r.spec.load_balancer, Ref::new(Kind::LoadBalancer, LB));
        assert_eq!(r.spec.certificate, Some(Ref::new(Kind::Certificate, ACM)));
        assert_eq!(
            r.spec.extra_certificates,
            vec![
                Ref::new(Kind::Certificate, ACM2),
                Ref::new(Kind::ServerCertificate, IAM)
            ]
        );
        assert_eq!(
            r.spec.ssl_policy.as_deref(),
            Some("ELBSecurityPolicy-TLS13-1-2-2021-06")
        );
        assert_eq!(r.spec.default_actions.len(), 1);
    }

    #[test]
    fn plain_listeners_have_no_ssl_policy() {
        // A policy reported on a plain listener means nothing there.
        let l = listener(ProtocolEnum::Http, 80)
            .ssl_policy("ELBSecurityPolicy-2016-08")
            .build();
        let mut attrs = BTreeMap::new();
        attrs.insert("routing.http.response.server.enabled".into(), "true".into());
        let r = to_spec(&l, &[], attrs.clone());
        assert_eq!(r.spec.ssl_policy, None);
        assert_eq!(r.spec.attributes, attrs);
        assert_eq!(r.spec.protocol, "HTTP");
        assert_eq!(r.spec.port, 80);
    }

    #[test]
    fn unmigratable_listeners_are_skipped_with_the_reason() {
        let auth = listener(ProtocolEnum::Https, 443)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::AuthenticateOidc)
                    .order(1)
                    .authenticate_oidc_config(AuthenticateOidcActionConfig::builder().build())
                    .build(),
            )
            .build();
        let r = to_spec(&auth, &[], BTreeMap::new());
        assert_eq!(r.skip.as_deref(), Some(super::super::actions::AUTHENTICATE));

        let mtls = listener(ProtocolEnum::Https, 443)
            .mutual_authentication(
                MutualAuthenticationAttributes::builder()
                    .mode("verify")
                    .trust_store_arn("arn:ts")
                    .build(),
            )
            .build();
        assert!(to_spec(&mtls, &[], BTreeMap::new())
            .skip
            .unwrap()
            .contains("mutual TLS"));
        let off = listener(ProtocolEnum::Https, 443)
            .mutual_authentication(
                MutualAuthenticationAttributes::builder()
                    .mode("off")
                    .build(),
            )
            .build();
        assert!(to_spec(&off, &[], BTreeMap::new()).skip.is_none());

        let gateway = Raw::builder()
            .listener_arn("arn:l")
            .load_balancer_arn(LB)
            .protocol(ProtocolEnum::Geneve)
            .default_actions(forward())
            .build();
        assert!(to_spec(&gateway, &[], BTreeMap::new())
            .skip
            .unwrap()
            .contains("gateway"));

        let odd = listener(ProtocolEnum::Https, 443)
            .certificates(
                Certificate::builder()
                    .certificate_arn("arn:aws:s3:::bucket")
                    .build(),
            )
            .build();
        assert!(to_spec(&odd, &[], BTreeMap::new())
            .skip
            .unwrap()
            .contains("arn:aws:s3:::bucket"));
    }
}
