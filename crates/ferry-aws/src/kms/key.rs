//! Customer-managed KMS keys. Key material never leaves KMS, so the
//! destination key is a new key with the source's settings: description,
//! usage and spec, key policy (accounts and ARNs rewritten), rotation,
//! enabled state, aliases and tags. Data encrypted under the source key is
//! re-encrypted under the new one when it is copied (images, snapshots).
//!
//! Keys that cannot be recreated are listed and skipped with a reason:
//! imported key material, custom key stores, multi-Region replicas, and the
//! scratch keys ferry makes itself to carry data.

use crate::adapter::{gone_ok, one, parse, tags};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_kms::types::{
    KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType, MultiRegionKeyType, OriginType,
    Tag,
};
use ferry_core::resource::TAG_SOURCE;
use ferry_core::spec::{self, templates::KmsKeySpec};
use ferry_core::{Key, Kind, Resource};
use std::collections::{BTreeMap, BTreeSet};

pub struct KmsKey;

/// Tag on the scratch keys ferry makes in the source to re-encrypt what the
/// AWS-managed key encrypts (the same tag as `ec2::carry`'s scratch resources).
const SCRATCH_TAG: &str = "ferry:scratch";
/// Descriptions of ferry's scratch keys start so.
const SCRATCH_DESCRIPTION: &str = "ferry:";
/// AWS-reserved alias names: the AWS-managed keys behind them are never copied.
const AWS_ALIASES: &str = "alias/aws/";
/// The shortest pending window KMS allows before deleting a key.
const DELETION_WINDOW_DAYS: i32 = 7;
const KEY_MATERIAL_NOTE: &str =
    "key material cannot leave KMS: the destination key is new; data is re-encrypted under it when copied";
const ROLLBACK_NOTE: &str = "rollback schedules the destination key for deletion in 7 days (the KMS minimum), not at once: until then it exists, unusable, and CancelKeyDeletion restores it";

/// The KMS tags of a key, page by page, as (key, value) pairs.
async fn tags_of(cx: &Side, key_id: &str) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    let mut pages = cx
        .kms(Class::KmsRead)
        .await
        .list_resource_tags()
        .key_id(key_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("ListResourceTags", e))?;
        out.extend(
            page.tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string())),
        );
    }
    Ok(out)
}

/// Every key ID of the account-region, page by page.
async fn key_ids(cx: &Side) -> Result<Vec<String>> {
    let mut out = vec![];
    let mut pages = cx
        .kms(Class::KmsRead)
        .await
        .list_keys()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("ListKeys", e))?;
        out.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(String::from)),
        );
    }
    Ok(out)
}

async fn metadata(cx: &Side, key_id: &str) -> Result<Option<KeyMetadata>> {
    match cx
        .kms(Class::KmsRead)
        .await
        .describe_key()
        .key_id(key_id)
        .send()
        .await
    {
        Ok(o) => Ok(o.key_metadata().cloned()),
        Err(e) => {
            let e = cx.err("DescribeKey", e);
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Automatic rotation exists only for symmetric keys whose material KMS
/// made; asking about others is an error in AWS.
fn rotatable(m: &KeyMetadata) -> bool {
    m.key_spec() == Some(&KeySpec::SymmetricDefault) && m.origin() == Some(&OriginType::AwsKms)
}

/// Why a listed key must not be copied, if it must not.
fn skip_reason(m: &KeyMetadata, tags: &[(String, String)]) -> Option<String> {
    let description = m.description().unwrap_or_default();
    if description.starts_with(SCRATCH_DESCRIPTION) || tags.iter().any(|(k, _)| k == SCRATCH_TAG) {
        return Some("a scratch key ferry made to carry data: never migrated".into());
    }
    let replica = m
        .multi_region_configuration()
        .and_then(|c| c.multi_region_key_type())
        == Some(&MultiRegionKeyType::Replica);
    if replica {
        return Some(
            "a multi-Region replica key: it follows its primary key; replicate the primary's copy in the destination yourself"
                .into(),
        );
    }
    match m.origin() {
        Some(OriginType::External) => Some("imported key material cannot be exported".into()),
        Some(OriginType::AwsKms) | None => None,
        Some(other) => Some(format!(
            "a key in a custom key store (origin {}): create the key store in the destination and its keys there",
            other.as_str()
        )),
    }
}

/// Keys ferry lists: customer-managed, enabled or disabled (not pending
/// deletion or import), and not behind an AWS-reserved alias.
fn listed(m: &KeyMetadata, aliases: &[String]) -> bool {
    m.key_manager() == Some(&KeyManagerType::Customer)
        && matches!(m.key_state(), Some(KeyState::Enabled | KeyState::Disabled))
        && !aliases.iter().any(|a| a.starts_with(AWS_ALIASES))
}

/// Alias names by target key, sorted.
fn by_key(aliases: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, key) in aliases {
        out.entry(key).or_default().push(name);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// The resource for one key, or None when ferry does not list it.
async fn read(
    cx: &Side,
    key_id: &str,
    aliases: &BTreeMap<String, Vec<String>>,
    tags: Option<Vec<(String, String)>>,
) -> Result<Option<Resource>> {
    let Some(m) = metadata(cx, key_id).await? else {
        return Ok(None);
    };
    let names = aliases.get(key_id).cloned().unwrap_or_default();
    if !listed(&m, &names) {
        return Ok(None);
    }
    let tags = match tags {
        Some(t) => t,
        None => tags_of(cx, key_id).await?,
    };
    let policy = cx
        .kms(Class::KmsRead)
        .await
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| cx.err("GetKeyPolicy", e))?;
    let policy = policy.policy().unwrap_or("{}");
    let rotation_enabled = if rotatable(&m) {
        cx.kms(Class::KmsRead)
            .await
            .get_key_rotation_status()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| cx.err("GetKeyRotationStatus", e))?
            .key_rotation_enabled()
    } else {
        false
    };
    let s = KmsKeySpec {
        description: m.description().unwrap_or_default().to_string(),
        // AWS always reports the usage; the emulator omits it when CreateKey
        // did not name one, and the API's default is what it means.
        key_usage: m
            .key_usage()
            .map(|u| u.as_str())
            .filter(|u| !u.is_empty())
            .unwrap_or(KeyUsageType::EncryptDecrypt.as_str())
            .into(),
        key_spec: m.key_spec().map(|k| k.as_str()).unwrap_or_default().into(),
        multi_region: m.multi_region().unwrap_or(false),
        policy: serde_json::from_str(policy)
            .unwrap_or_else(|_| serde_json::Value::String(policy.to_string())),
        rotation_enabled,
        enabled: m.key_state() == Some(&KeyState::Enabled),
        aliases: names,
    };
    let mut r = Resource::with_tags(
        Key::new(Kind::KmsKey, key_id),
        spec::to_value(&s),
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    if r.name.is_none() {
        r.name = s.aliases.first().cloned();
    }
    r.skip = skip_reason(&m, &tags);
    if r.skip.is_none() {
        r.notes = vec![KEY_MATERIAL_NOTE.into(), ROLLBACK_NOTE.into()];
    }
    Ok(Some(r))
}

fn kms_tags(cx: &Side, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| cx.invalid(e.to_string()))
        })
        .collect()
}

/// Brings the key's tags to `want`'s (the rule: [`crate::adapter::tags`]).
async fn converge_tags(
    cx: &Side,
    id: &str,
    want: &Desired,
    have: &Resource,
) -> Result<Vec<String>> {
    let diff = tags::changes_to(want, have);
    tags::send(
        &diff,
        |set| async move {
            cx.kms(Class::KmsMutate)
                .await
                .tag_resource()
                .key_id(id)
                .set_tags(Some(kms_tags(cx, &set)?))
                .send()
                .await
                .map_err(|e| cx.err("TagResource", e))
        },
        |keys| async move {
            cx.kms(Class::KmsMutate)
                .await
                .untag_resource()
                .key_id(id)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(|e| cx.err("UntagResource", e))
        },
    )
    .await
}

/// Whether ferry may move `alias` from `holder` to the key it is making for
/// `source`: only from a key that is on its way out or that ferry made for
/// the same source key.
async fn may_take_alias(cx: &Side, holder: &str, source: Option<&String>) -> Result<bool> {
    let Some(m) = metadata(cx, holder).await? else {
        return Ok(true);
    };
    if m.key_state() == Some(&KeyState::PendingDeletion) {
        return Ok(true);
    }
    let tags = tags_of(cx, holder).await?;
    Ok(source.is_some_and(|s| tags.iter().any(|(k, v)| k == TAG_SOURCE && v == s)))
}

/// What converge does to a key's aliases.
enum AliasStep {
    Create(String),
    /// Move the alias from the key that holds it.
    Take {
        alias: String,
        from: String,
    },
    Delete(String),
}

/// The alias changes `want` needs, decided before anything changes: an
/// alias held by a key ferry may not take from is an error up front, so a
/// refused key is left as it was.
async fn alias_steps(
    cx: &Side,
    id: &str,
    want: &KmsKeySpec,
    want_tags: &BTreeMap<String, String>,
) -> Result<Vec<AliasStep>> {
    let all = crate::kms::aliases(cx).await?;
    let wanted: BTreeSet<&str> = want.aliases.iter().map(String::as_str).collect();
    let mut steps = vec![];
    for name in &wanted {
        match all.iter().find(|(a, _)| a == name) {
            Some((_, target)) if target == id => {}
            Some((_, target)) => {
                if !may_take_alias(cx, target, want_tags.get(TAG_SOURCE)).await? {
                    return Err(cx.invalid(format!(
                        "alias {name} is already taken in the destination by key {target}, which ferry did not make for this key; delete or rename that alias there (aliases are names per account and region), then apply again"
                    )));
                }
                steps.push(AliasStep::Take {
                    alias: name.to_string(),
                    from: target.clone(),
                });
            }
            None => steps.push(AliasStep::Create(name.to_string())),
        }
    }
    steps.extend(
        all.iter()
            .filter(|(a, t)| t == id && !wanted.contains(a.as_str()) && !a.starts_with(AWS_ALIASES))
            .map(|(a, _)| AliasStep::Delete(a.clone())),
    );
    Ok(steps)
}

async fn apply_alias_step(cx: &Side, id: &str, step: AliasStep) -> Result<String> {
    let client = cx.kms(Class::KmsMutate).await;
    match step {
        AliasStep::Create(name) => {
            client
                .create_alias()
                .alias_name(&name)
                .target_key_id(id)
                .send()
                .await
                .map_err(|e| cx.err("CreateAlias", e))?;
            Ok(format!("alias {name} created"))
        }
        AliasStep::Take { alias, from } => {
            client
                .update_alias()
                .alias_name(&alias)
                .target_key_id(id)
                .send()
                .await
                .map_err(|e| cx.err("UpdateAlias", e))?;
            Ok(format!("alias {alias} moved from {from}"))
        }
        AliasStep::Delete(name) => {
            delete_alias(cx, &name).await?;
            Ok(format!("alias {name} deleted"))
        }
    }
}

async fn delete_alias(cx: &Side, name: &str) -> Result<()> {
    gone_ok(
        cx.kms(Class::KmsMutate)
            .await
            .delete_alias()
            .alias_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DeleteAlias", e)),
    )
}

async fn set_enabled(cx: &Side, id: &str, on: bool) -> Result<String> {
    let client = cx.kms(Class::KmsMutate).await;
    if on {
        client
            .enable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| cx.err("EnableKey", e))?;
        Ok("key enabled".into())
    } else {
        client
            .disable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| cx.err("DisableKey", e))?;
        Ok("key disabled".into())
    }
}

async fn set_rotation(cx: &Side, id: &str, on: bool) -> Result<String> {
    let client = cx.kms(Class::KmsMutate).await;
    if on {
        client
            .enable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(|e| cx.err("EnableKeyRotation", e))?;
        Ok("automatic rotation enabled".into())
    } else {
        client
            .disable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(|e| cx.err("DisableKeyRotation", e))?;
        Ok("automatic rotation disabled".into())
    }
}

#[async_trait]
impl KindAdapter for KmsKey {
    fn kind(&self) -> Kind {
        Kind::KmsKey
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let aliases = by_key(crate::kms::aliases(cx).await?);
        let ids = match lookup {
            Lookup::Ids(ids) => ids.clone(),
            _ => key_ids(cx).await?,
        };
        let mut out = vec![];
        for id in ids {
            let tags = match lookup {
                Lookup::SourceTag(want) => {
                    let tags = match tags_of(cx, &id).await {
                        Err(e) if e.is_not_found() => continue,
                        r => r?,
                    };
                    if !tags.iter().any(|(k, v)| k == TAG_SOURCE && v == want) {
                        continue;
                    }
                    Some(tags)
                }
                _ => None,
            };
            out.extend(read(cx, &id, &aliases, tags).await?);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: KmsKeySpec = parse(cx, Kind::KmsKey, &want.spec)?;
        let out = cx
            .kms(Class::KmsMutate)
            .await
            .create_key()
            .set_description(Some(s.description.clone()).filter(|d| !d.is_empty()))
            .key_usage(KeyUsageType::from(s.key_usage.as_str()))
            .key_spec(KeySpec::from(s.key_spec.as_str()))
            .policy(s.policy.to_string())
            .set_tags(Some(kms_tags(cx, &want.tags)?))
            .bypass_policy_lockout_safety_check(false)
            .set_multi_region(s.multi_region.then_some(true))
            .send()
            .await
            .map_err(|e| cx.err("CreateKey", e))?;
        out.key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| cx.invalid("CreateKey returned no key"))
    }

    /// Rotation can only change on an enabled key, so a key that must end up
    /// disabled is enabled for the change and disabled last.
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
        let s: KmsKeySpec = parse(cx, Kind::KmsKey, &want.spec)?;
        let have_r = one(self, cx, id).await?;
        let have: KmsKeySpec = parse(cx, Kind::KmsKey, &have_r.spec)?;
        let aliases = alias_steps(cx, id, &s, &want.tags).await?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        let client = cx.kms(Class::KmsMutate).await;
        if s.description != have.description {
            client
                .update_key_description()
                .key_id(id)
                .description(&s.description)
                .send()
                .await
                .map_err(|e| cx.err("UpdateKeyDescription", e))?;
            changes.push("description updated".into());
        }
        if s.policy != have.policy {
            client
                .put_key_policy()
                .key_id(id)
                .policy_name("default")
                .policy(s.policy.to_string())
                .bypass_policy_lockout_safety_check(false)
                .send()
                .await
                .map_err(|e| cx.err("PutKeyPolicy", e))?;
            changes.push("key policy replaced".into());
        }
        let rotate = s.rotation_enabled != have.rotation_enabled;
        let mut enabled = have.enabled;
        if !enabled && (s.enabled || rotate) {
            changes.push(set_enabled(cx, id, true).await?);
            enabled = true;
        }
        if rotate {
            changes.push(set_rotation(cx, id, s.rotation_enabled).await?);
        }
        if enabled && !s.enabled {
            changes.push(set_enabled(cx, id, false).await?);
        }
        for step in aliases {
            changes.push(apply_alias_step(cx, id, step).await?);
        }
        Ok(changes)
    }

    /// Deletes the key's aliases, then schedules the key for deletion after
    /// the shortest window KMS allows: a KMS key is never deleted at once.
    /// Already gone or already pending deletion is done.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        for (name, _) in crate::kms::aliases(cx)
            .await?
            .iter()
            .filter(|(a, t)| t == id && !a.starts_with(AWS_ALIASES))
        {
            delete_alias(cx, name).await?;
        }
        match metadata(cx, id).await? {
            None => return Ok(()),
            Some(m) if m.key_state() == Some(&KeyState::PendingDeletion) => return Ok(()),
            Some(_) => {}
        }
        gone_ok(
            cx.kms(Class::KmsMutate)
                .await
                .schedule_key_deletion()
                .key_id(id)
                .pending_window_in_days(DELETION_WINDOW_DAYS)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("ScheduleKeyDeletion", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "kms:ListKeys",
            "kms:ListAliases",
            "kms:DescribeKey",
            "kms:ListResourceTags",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:CreateKey",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:UpdateKeyDescription",
            "kms:PutKeyPolicy",
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:CreateAlias",
            "kms:UpdateAlias",
            "kms:DeleteAlias",
            "kms:ScheduleKeyDeletion",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::types::MultiRegionConfiguration;

    fn meta(origin: OriginType) -> aws_sdk_kms::types::builders::KeyMetadataBuilder {
        KeyMetadata::builder()
            .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
            .key_manager(KeyManagerType::Customer)
            .key_state(KeyState::Enabled)
            .key_spec(KeySpec::SymmetricDefault)
            .origin(origin)
    }

    #[test]
    fn keys_that_cannot_be_recreated_are_skipped_with_a_reason() {
        let plain = meta(OriginType::AwsKms).build().unwrap();
        assert_eq!(skip_reason(&plain, &[]), None);
        assert!(rotatable(&plain));
        let imported = meta(OriginType::External).build().unwrap();
        assert_eq!(
            skip_reason(&imported, &[]).as_deref(),
            Some("imported key material cannot be exported")
        );
        assert!(!rotatable(&imported));
        let hsm = meta(OriginType::AwsCloudhsm).build().unwrap();
        assert!(skip_reason(&hsm, &[]).unwrap().contains("custom key store"));
        let replica = meta(OriginType::AwsKms)
            .multi_region(true)
            .multi_region_configuration(
                MultiRegionConfiguration::builder()
                    .multi_region_key_type(MultiRegionKeyType::Replica)
                    .build(),
            )
            .build()
            .unwrap();
        assert!(skip_reason(&replica, &[]).unwrap().contains("replica"));
        let scratch = meta(OriginType::AwsKms)
            .description("ferry: scratch key to share snap-1")
            .build()
            .unwrap();
        assert!(skip_reason(&scratch, &[]).unwrap().contains("scratch"));
        let tagged = [(SCRATCH_TAG.to_string(), "snap-1".to_string())];
        assert!(skip_reason(&plain, &tagged).unwrap().contains("scratch"));
    }

    #[test]
    fn only_usable_customer_keys_are_listed() {
        let ok = meta(OriginType::AwsKms).build().unwrap();
        assert!(listed(&ok, &["alias/app".into()]));
        assert!(
            !listed(&ok, &["alias/aws/ebs".into()]),
            "AWS-managed in disguise"
        );
        let pending = meta(OriginType::AwsKms)
            .key_state(KeyState::PendingDeletion)
            .build()
            .unwrap();
        assert!(!listed(&pending, &[]));
        let aws = meta(OriginType::AwsKms)
            .key_manager(KeyManagerType::Aws)
            .build()
            .unwrap();
        assert!(!listed(&aws, &[]));
    }

    #[test]
    fn aliases_group_by_key_sorted() {
        let m = by_key(vec![
            ("alias/b".into(), "k1".into()),
            ("alias/a".into(), "k1".into()),
            ("alias/c".into(), "k2".into()),
        ]);
        assert_eq!(m["k1"], vec!["alias/a", "alias/b"]);
        assert_eq!(m["k2"], vec!["alias/c"]);
    }
}
