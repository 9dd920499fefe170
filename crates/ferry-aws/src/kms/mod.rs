//! KMS: customer-managed keys, and what the data paths need of KMS (telling
//! the AWS-managed `aws/ebs` key from customer keys, naming keys in specs).

pub mod key;

use crate::ratelimit::Class;
use crate::{Result, Side};
use ferry_core::{Kind, Ref};

/// The alias of the key EBS uses when asked to encrypt without a key.
pub const EBS_DEFAULT_ALIAS: &str = "alias/aws/ebs";

/// The ID of this account-region's AWS-managed `aws/ebs` key, if it exists yet.
pub async fn ebs_default_key(cx: &Side) -> Result<Option<String>> {
    Ok(aliases(cx)
        .await?
        .into_iter()
        .find(|(name, _)| name == EBS_DEFAULT_ALIAS)
        .map(|(_, key)| key))
}

/// Every alias of this account-region as (alias name, target key ID), page
/// by page. Aliases without a target (AWS-reserved names not yet in use) are
/// left out.
pub async fn aliases(cx: &Side) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    let mut pages = cx
        .kms(Class::KmsRead)
        .await
        .list_aliases()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| cx.err("ListAliases", e))?;
        out.extend(
            page.aliases().iter().filter_map(|a| {
                Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string()))
            }),
        );
    }
    Ok(out)
}

/// The key ID in a key ARN (`arn:aws:kms:r:a:key/ID`) or the ID itself.
pub fn key_id(arn_or_id: &str) -> &str {
    arn_or_id
        .rsplit_once("key/")
        .map_or(arn_or_id, |(_, id)| id)
}

/// How a spec names the key that encrypts something: a reference to a
/// customer-managed key, or `None` for the account's AWS-managed default
/// (`ebs_default` is that key's ID) and for unencrypted data.
pub fn key_ref(key: Option<&str>, ebs_default: Option<&str>) -> Option<Ref> {
    let id = key_id(key.filter(|k| !k.is_empty())?);
    if Some(id) == ebs_default {
        return None;
    }
    Some(Ref::new(Kind::KmsKey, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_referenced_by_id_and_the_default_key_by_nothing() {
        let arn = "arn:aws:kms:us-east-1:111111111111:key/1234-abcd";
        assert_eq!(key_id(arn), "1234-abcd");
        assert_eq!(key_id("1234-abcd"), "1234-abcd");
        assert_eq!(
            key_ref(Some(arn), Some("ffff")),
            Some(Ref::new(Kind::KmsKey, "1234-abcd"))
        );
        assert_eq!(key_ref(Some(arn), Some("1234-abcd")), None);
        assert_eq!(key_ref(None, None), None);
    }
}
