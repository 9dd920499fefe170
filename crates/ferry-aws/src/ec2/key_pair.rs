//! Key pairs, kept under their name: the public key is imported into the
//! destination; the private key never moves. ferry never asks EC2 for a
//! private key (only `DescribeKeyPairs` with the public key), so none is ever
//! read, printed or stored.
//!
//! EC2 returns the public key only for key pairs created or imported since
//! late 2021; older ones are skipped with a reason, and the planner turns
//! what launches with them into conflicts.

use super::{converge_tags, lookup_filters, resource};
use crate::adapter::{gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{KeyPairInfo, ResourceType};
use ferry_core::spec::templates::{key_type_of, normalise_public_key, KeyPairSpec};
use ferry_core::spec::to_value;
use ferry_core::{Kind, Resource};

pub struct KeyPair;

/// Key pairs have no pagination; IDs are names, asked for by the `key-name`
/// filter, which (unlike `KeyNames`) does not fail when one is missing.
async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<KeyPairInfo>> {
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_key_pairs()
        .include_public_key(true)
        .set_filters(Some(lookup_filters(lookup, "key-name")))
        .send()
        .await
        .map_err(|e| cx.err("DescribeKeyPairs", e))?;
    Ok(out.key_pairs().to_vec())
}

fn to_resource(k: &KeyPairInfo) -> Resource {
    let name = k.key_name().unwrap_or_default();
    let public_key = normalise_public_key(k.public_key().unwrap_or_default());
    let key_type = k
        .key_type()
        .map(|t| t.as_str().to_string())
        .or_else(|| key_type_of(&public_key).map(String::from))
        .unwrap_or_else(|| "rsa".into());
    let spec = KeyPairSpec {
        key_type,
        public_key,
    };
    let mut r = resource(Kind::KeyPair, name, to_value(&spec), k.tags());
    if r.name.is_none() {
        r.name = Some(name.to_string());
    }
    if spec.public_key.is_empty() {
        r.skip = Some(format!(
            "the public key of {name} is not available from EC2: import it in the destination yourself (ferry never handles private keys)"
        ));
    }
    r
}

#[async_trait]
impl KindAdapter for KeyPair {
    fn kind(&self) -> Kind {
        Kind::KeyPair
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(list(cx, lookup).await?.iter().map(to_resource).collect())
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: KeyPairSpec = parse(cx, Kind::KeyPair, &want.spec)?;
        if s.public_key.is_empty() {
            return Err(cx.invalid(format!(
                "key pair {}: no public key to import",
                want.source_id
            )));
        }
        cx.ec2(Class::Mutate)
            .await
            .import_key_pair()
            .key_name(&want.source_id)
            .public_key_material(Blob::new(s.public_key.as_bytes()))
            .set_tag_specifications(super::tag_spec(ResourceType::KeyPair, want).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cx.err("ImportKeyPair", e))?;
        Ok(want.source_id.clone())
    }

    /// Only tags can change: a key pair holding another public key is an
    /// error, as key pairs are immutable.
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
        let s: KeyPairSpec = parse(cx, Kind::KeyPair, &want.spec)?;
        let info = list(cx, &Lookup::Ids(vec![id.to_string()]))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                crate::AwsError::not_found(
                    cx.name,
                    "DescribeKeyPairs",
                    "InvalidKeyPair.NotFound",
                    id,
                )
            })?;
        let have = to_resource(&info);
        if have.spec["public_key"] != s.public_key.as_str() {
            return Err(cx.invalid(format!(
                "key pair {id} in the destination holds a different public key than the source's; key pairs are immutable: delete or rename it there, then apply again"
            )));
        }
        // EC2 tags key pairs by their ID (key-...), not by name.
        let tag_id = info.key_pair_id().unwrap_or(id);
        converge_tags(cx, tag_id, want, &have).await
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_key_pair()
                .key_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteKeyPair", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeKeyPairs",
            "ec2:ImportKeyPair",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteKeyPair",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{KeyType, Tag};

    #[test]
    fn key_pairs_keep_their_name_and_lose_the_comment() {
        let k = KeyPairInfo::builder()
            .key_name("deploy")
            .key_pair_id("key-1")
            .key_type(KeyType::Ed25519)
            .public_key("ssh-ed25519 AAAAC3Nza me@host\n")
            .key_fingerprint("ab:cd")
            .tags(Tag::builder().key("team").value("web").build())
            .build();
        let r = to_resource(&k);
        assert_eq!(r.key.to_string(), "key_pair/deploy");
        assert_eq!(r.name.as_deref(), Some("deploy"));
        assert_eq!(r.spec["public_key"], "ssh-ed25519 AAAAC3Nza");
        assert_eq!(r.spec["key_type"], "ed25519");
        assert!(r.spec.get("fingerprint").is_none());
        assert_eq!(r.skip, None);
    }

    #[test]
    fn key_pairs_without_a_public_key_are_skipped() {
        let k = KeyPairInfo::builder().key_name("old").build();
        let r = to_resource(&k);
        assert!(r.skip.unwrap().contains("not available from EC2"));
        assert_eq!(r.spec["key_type"], "rsa");
        let typed = KeyPairInfo::builder()
            .key_name("x")
            .public_key("ssh-ed25519 AAAA")
            .build();
        assert_eq!(to_resource(&typed).spec["key_type"], "ed25519");
    }
}
