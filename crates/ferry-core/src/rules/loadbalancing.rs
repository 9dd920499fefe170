//! Planning rules of the load-balancing kinds: names unique per account and
//! region, and certificates, which are mapped to the destination's own
//! (private keys never move), never created.

use super::{field_name, name_taken, typed, KindRules, PlanCx};
use crate::kind::Kind;
use crate::plan::PlanItem;
use crate::resource::{Resource, Snapshot};
use crate::spec::loadbalancing::{
    CertificateSpec, LoadBalancerSpec, ServerCertificateSpec, TargetGroupSpec,
};
use serde_json::Value;

/// ACM certificates and IAM server certificates.
pub struct Certificate;

impl KindRules for Certificate {
    fn default_reason(&self) -> String {
        "mapped to the destination's certificate for the same names (private keys never move)"
            .into()
    }

    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        if item.dest_id.is_some() {
            return vec![];
        }
        vec![missing_certificate(&item.resource, cx.dest)]
    }
}

/// Why a certificate has no counterpart, and what to do about it.
fn missing_certificate(r: &Resource, dest: &Snapshot) -> String {
    let names = if let Some(c) = typed::<CertificateSpec>(&r.spec) {
        let d = c.domain_name.as_str();
        let alt: Vec<&str> = c
            .subject_alternative_names
            .iter()
            .map(String::as_str)
            .filter(|v| *v != d)
            .collect();
        if alt.is_empty() {
            format!("for {d}")
        } else {
            format!("for {d} (also {})", alt.join(", "))
        }
    } else if let Some(s) = typed::<ServerCertificateSpec>(&r.spec) {
        format!("named {}", s.name)
    } else {
        String::new()
    };
    let (store, place) = if r.key.kind == Kind::Certificate {
        (
            "request or import one in ACM",
            format!(" in {}", dest.side.region),
        )
    } else {
        ("upload one to IAM", String::new())
    };
    format!(
        "the destination account {}{place} has no certificate {names}: ferry never moves private keys; {store} with the same names and plan again, or pass --skip-conflicts to leave out what serves it",
        dest.side.account
    )
}

/// The `name` of a load balancer or target group, unique per account and
/// region although their ID is an ARN: a destination one of that name which
/// ferry did not make for this source is a conflict.
fn name(spec: &Value, field: &str) -> Option<String> {
    spec.get(field).and_then(Value::as_str).map(String::from)
}

pub struct LoadBalancer;

impl KindRules for LoadBalancer {
    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        let field = field_name(|s: &LoadBalancerSpec| &s.name, "name");
        name_taken(item, cx, |spec| name(spec, field))
    }
}

pub struct TargetGroup;

impl KindRules for TargetGroup {
    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        let field = field_name(|s: &TargetGroupSpec| &s.name, "name");
        name_taken(item, cx, |spec| name(spec, field))
    }
}
