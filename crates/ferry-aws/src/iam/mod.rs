//! The IAM kinds, one file each, and what they share: policy documents
//! (IAM returns them URL-encoded), tags (IAM's own tag calls), names (IAM
//! names are kept across accounts, so the destination ID is the name), and
//! the ARNs of attached policies.

pub mod bootstrap;
pub mod group;
pub mod instance_profile;
pub mod policy;
pub mod principal;
pub mod role;
pub mod server_certificate;
pub mod user;

use crate::ratelimit::Class;
use crate::{Desired, Result, Side};
use aws_sdk_iam::types::Tag;
use ferry_core::spec::PolicyRef;
use ferry_core::{Key, Kind, Ref, Resource};
use serde_json::Value;
use std::collections::BTreeMap;

/// Paths AWS reserves for roles it manages: never copied.
pub const RESERVED_PATHS: &[&str] = &["/aws-service-role/", "/aws-reserved/", "/service-role/aws-"];

/// Parses a policy document as IAM returns it: JSON, usually percent-encoded.
pub fn document(raw: &str) -> Value {
    if let Ok(v) = serde_json::from_str(raw) {
        return v;
    }
    serde_json::from_str(&percent_decode(raw)).unwrap_or_else(|_| Value::String(raw.to_string()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn tags(want: &BTreeMap<String, String>) -> Vec<Tag> {
    want.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

pub fn resource(kind: Kind, name: &str, spec: Value, raw_tags: &[Tag]) -> Resource {
    Resource::with_tags(
        Key::new(kind, name),
        spec,
        raw_tags.iter().map(|t| (t.key(), t.value())),
    )
}

/// The IAM name a `ferry:source` value stands for: names are kept, so a
/// resource made for `arn:aws:iam::111:role/app` is called `app`.
pub fn name_in_source_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The names a lookup asks for (None: all of them). IAM names are kept, so a
/// `ferry:source` value names the one resource that may carry it.
pub fn wanted(lookup: &crate::Lookup) -> Option<Vec<String>> {
    match lookup {
        crate::Lookup::All => None,
        crate::Lookup::Ids(ids) => Some(ids.clone()),
        crate::Lookup::SourceTag(arn) => Some(vec![name_in_source_arn(arn).to_string()]),
    }
}

/// Whether a resource read by name answers the lookup (a SourceTag lookup
/// also needs the tag itself: the name alone may belong to someone else).
pub fn answers(lookup: &crate::Lookup, r: &Resource) -> bool {
    match lookup {
        crate::Lookup::SourceTag(want) => r.ferry_source.as_deref() == Some(want.as_str()),
        _ => true,
    }
}

/// AWS-managed policies live in the pseudo-account "aws" and exist everywhere.
pub fn policy_ref(arn: &str) -> PolicyRef {
    if arn.split(':').nth(4) == Some("aws") {
        PolicyRef::Aws(arn.to_string())
    } else {
        PolicyRef::Customer(Ref::new(Kind::IamPolicy, name_in_source_arn(arn)))
    }
}

/// The ARN of a customer-managed policy by name (its path may differ from
/// `/`, so it is looked up rather than assembled).
pub async fn policy_arn(cx: &Side, r: &PolicyRef) -> Result<String> {
    match r {
        PolicyRef::Aws(arn) => Ok(arn.clone()),
        PolicyRef::Customer(name) => policy::arn_of(cx, name.id()).await?.ok_or_else(|| {
            cx.invalid(format!(
                "customer-managed policy {} does not exist",
                name.id()
            ))
        }),
    }
}

/// An IAM resource whose tags ferry reconciles; each kind has its own calls.
#[derive(Debug, Clone, Copy)]
pub enum Tagged<'a> {
    Role(&'a str),
    User(&'a str),
    /// By ARN.
    Policy(&'a str),
    InstanceProfile(&'a str),
}

impl Tagged<'_> {
    /// Brings the tags of `have` to `want`; a line per change.
    pub async fn converge(self, cx: &Side, want: &Desired, have: &Resource) -> Result<Vec<String>> {
        let diff = crate::adapter::tags::changes_to(want, have);
        crate::adapter::tags::send(&diff, |set| self.tag(cx, set), |keys| self.untag(cx, keys))
            .await
    }

    async fn tag(self, cx: &Side, set: BTreeMap<String, String>) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        let tags = Some(tags(&set));
        match self {
            Tagged::Role(n) => iam
                .tag_role()
                .role_name(n)
                .set_tags(tags)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("TagRole", e)),
            Tagged::User(n) => iam
                .tag_user()
                .user_name(n)
                .set_tags(tags)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("TagUser", e)),
            Tagged::Policy(a) => iam
                .tag_policy()
                .policy_arn(a)
                .set_tags(tags)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("TagPolicy", e)),
            Tagged::InstanceProfile(n) => iam
                .tag_instance_profile()
                .instance_profile_name(n)
                .set_tags(tags)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("TagInstanceProfile", e)),
        }
    }

    async fn untag(self, cx: &Side, keys: Vec<String>) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        let keys = Some(keys);
        match self {
            Tagged::Role(n) => iam
                .untag_role()
                .role_name(n)
                .set_tag_keys(keys)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("UntagRole", e)),
            Tagged::User(n) => iam
                .untag_user()
                .user_name(n)
                .set_tag_keys(keys)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("UntagUser", e)),
            Tagged::Policy(a) => iam
                .untag_policy()
                .policy_arn(a)
                .set_tag_keys(keys)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("UntagPolicy", e)),
            Tagged::InstanceProfile(n) => iam
                .untag_instance_profile()
                .instance_profile_name(n)
                .set_tag_keys(keys)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("UntagInstanceProfile", e)),
        }
    }
}

/// The ARN of an optional policy reference (a permissions boundary).
pub async fn optional_policy_arn(cx: &Side, r: &Option<PolicyRef>) -> Result<Option<String>> {
    match r {
        Some(p) => Ok(Some(policy_arn(cx, p).await?)),
        None => Ok(None),
    }
}

/// Lists every customer-managed policy (Scope=Local), page by page.
pub async fn local_policies(cx: &Side) -> Result<Vec<aws_sdk_iam::types::Policy>> {
    let client = cx.iam(Class::IamRead).await;
    let mut pages = client
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .max_items(100)
        .into_paginator()
        .send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("ListPolicies", e))?
                .policies()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_whether_encoded_or_not() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        assert_eq!(document(plain)["Version"], "2012-10-17");
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(document(encoded), document(plain));
    }

    #[test]
    fn managed_policies_are_aws_or_customer() {
        assert_eq!(
            policy_ref("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            PolicyRef::Aws("arn:aws:iam::aws:policy/ReadOnlyAccess".into())
        );
        assert_eq!(
            policy_ref("arn:aws:iam::111111111111:policy/team/app-read"),
            PolicyRef::Customer(Ref::new(Kind::IamPolicy, "app-read"))
        );
    }
}
