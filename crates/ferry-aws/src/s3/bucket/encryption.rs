//! Default encryption. A customer key of the bucket's account becomes a
//! reference to the key (mapped to the destination's key); the AWS-managed
//! `aws/s3` key stays `alias/aws/s3`; a key of another account, or one that
//! cannot be described, is kept as named, with a note. Set with
//! PutBucketEncryption when it differs; never removed.

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata};
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use ferry_core::spec::s3::{BucketEncryption, BucketSpec};
use ferry_core::{Kind, Ref, SideInfo};

/// The one AWS-managed key S3 encrypts with.
const AWS_S3_KEY: &str = "alias/aws/s3";

/// What a bucket's KMS key is, once DescribeKey has been asked.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRead {
    /// A customer-managed key of the bucket's account: its key ID.
    Customer(String),
    /// The AWS-managed `aws/s3` key, however it was named.
    AwsManaged,
    /// Another account's key, or one that cannot be described: kept as
    /// named, with the reason.
    Kept(String, String),
}

/// Whether a key name is the AWS-managed S3 key's alias (bare or as ARN).
fn is_aws_alias(id: &str) -> bool {
    id == AWS_S3_KEY || id.ends_with(&format!(":{AWS_S3_KEY}"))
}

/// Classifies the key `id` named, from its DescribeKey answer.
fn classify_key(
    id: &str,
    meta: std::result::Result<&KeyMetadata, String>,
    account: &str,
) -> KeyRead {
    match meta {
        Ok(m) if m.key_manager() == Some(&KeyManagerType::Aws) => KeyRead::AwsManaged,
        Ok(m) if m.aws_account_id().is_some_and(|a| a != account) => KeyRead::Kept(
            id.to_string(),
            format!(
                "default encryption uses KMS key {id} of account {}: kept as it is; the destination's objects are encrypted with that key only if that account lets the destination use it",
                m.aws_account_id().unwrap_or_default()
            ),
        ),
        Ok(m) => KeyRead::Customer(m.key_id().to_string()),
        Err(why) => KeyRead::Kept(
            id.to_string(),
            format!("default encryption names KMS key {id}, which cannot be described ({why}): kept as it is"),
        ),
    }
}

pub async fn resolve_key(cx: &Side, id: &str) -> KeyRead {
    if is_aws_alias(id) {
        return KeyRead::AwsManaged;
    }
    let out = cx
        .kms(Class::KmsRead)
        .await
        .describe_key()
        .key_id(id)
        .send()
        .await
        .map_err(|e| cx.err("DescribeKey", e).to_string());
    let meta = match &out {
        Ok(o) => o
            .key_metadata()
            .ok_or_else(|| "DescribeKey returned no metadata".to_string()),
        Err(e) => Err(e.clone()),
    };
    classify_key(id, meta, &cx.info.account)
}

/// The spec of a default encryption rule, given what its key is.
pub fn read(rule: &ServerSideEncryptionRule, key: Option<&KeyRead>) -> Option<BucketEncryption> {
    let by_default = rule.apply_server_side_encryption_by_default()?;
    let (kms_key, kms_alias) = match key {
        None => (None, None),
        Some(KeyRead::Customer(id)) => (Some(Ref::new(Kind::KmsKey, id)), None),
        Some(KeyRead::AwsManaged) => (None, Some(AWS_S3_KEY.to_string())),
        Some(KeyRead::Kept(named, _)) => (None, Some(named.clone())),
    };
    Some(BucketEncryption {
        algorithm: by_default.sse_algorithm().as_str().to_string(),
        kms_key,
        kms_alias,
        bucket_key: rule.bucket_key_enabled().unwrap_or(false),
    })
}

pub fn key_id_of(rule: &ServerSideEncryptionRule) -> Option<&str> {
    rule.apply_server_side_encryption_by_default()
        .and_then(|d| d.kms_master_key_id())
        .filter(|k| !k.is_empty())
}

/// The key ARN to send for a key ID of this side (an ARN is kept): S3
/// resolves a bare key ID in the caller's account, an ARN anywhere.
fn key_arn(info: &SideInfo, id: &str) -> String {
    if id.starts_with("arn:") {
        return id.to_string();
    }
    format!(
        "arn:{}:kms:{}:{}:key/{}",
        info.partition, info.region, info.account, id
    )
}

fn sdk(
    info: &SideInfo,
    e: &BucketEncryption,
) -> std::result::Result<ServerSideEncryptionConfiguration, String> {
    let key = match (&e.kms_key, &e.kms_alias) {
        (Some(r), _) => Some(key_arn(info, r.id())),
        (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    };
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(e.algorithm.as_str()))
        .set_kms_master_key_id(key)
        .build()
        .map_err(|x| x.to_string())?;
    ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .bucket_key_enabled(e.bucket_key)
                .build(),
        )
        .build()
        .map_err(|x| x.to_string())
}

fn describe(e: &BucketEncryption) -> String {
    let key = match (&e.kms_key, &e.kms_alias) {
        (Some(r), _) => format!(" with KMS key {}", r.id()),
        (None, Some(a)) => format!(" with {a}"),
        (None, None) => String::new(),
    };
    let bucket_key = if e.bucket_key { ", bucket key on" } else { "" };
    format!("default encryption: {}{key}{bucket_key}", e.algorithm)
}

/// Sets `w`'s default encryption when `h`'s differs.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    let Some(e) = w
        .encryption
        .as_ref()
        .filter(|e| h.encryption.as_ref() != Some(*e))
    else {
        return Ok(None);
    };
    cx.s3(Class::S3Write)
        .await
        .put_bucket_encryption()
        .bucket(id)
        .server_side_encryption_configuration(
            sdk(&cx.info, e).map_err(|x| cx.invalid(format!("default encryption: {x}")))?,
        )
        .send()
        .await
        .map_err(|x| cx.err("PutBucketEncryption", x))?;
    Ok(Some(describe(e)))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{full_raw, info};
    use super::*;

    #[test]
    fn kms_keys_become_references_or_stay_named() {
        let meta = |manager: KeyManagerType, account: &str| {
            KeyMetadata::builder()
                .key_id("k-1")
                .key_manager(manager)
                .aws_account_id(account)
                .build()
                .unwrap()
        };
        let own = meta(KeyManagerType::Customer, "111111111111");
        assert_eq!(
            classify_key("alias/app", Ok(&own), "111111111111"),
            KeyRead::Customer("k-1".into())
        );
        let managed = meta(KeyManagerType::Aws, "111111111111");
        assert_eq!(
            classify_key(
                "arn:aws:kms:eu-west-1:111111111111:key/k-1",
                Ok(&managed),
                "111111111111"
            ),
            KeyRead::AwsManaged
        );
        let foreign = meta(KeyManagerType::Customer, "999999999999");
        let arn = "arn:aws:kms:eu-west-1:999999999999:key/k-1";
        assert!(
            matches!(classify_key(arn, Ok(&foreign), "111111111111"), KeyRead::Kept(k, why) if k == arn && why.contains("999999999999"))
        );
        assert!(
            matches!(classify_key("gone", Err("NotFoundException".into()), "1"), KeyRead::Kept(k, _) if k == "gone")
        );
        assert!(is_aws_alias("alias/aws/s3"));
        assert!(is_aws_alias(
            "arn:aws:kms:eu-west-1:111111111111:alias/aws/s3"
        ));
        assert!(!is_aws_alias("alias/app"));

        // The AWS-managed key is sent by its alias, a customer key by ARN.
        let rule = full_raw().encryption.unwrap();
        let e = read(&rule, Some(&KeyRead::AwsManaged)).unwrap();
        assert_eq!(e.kms_alias.as_deref(), Some(AWS_S3_KEY));
        let sent = sdk(&info(), &e).unwrap();
        assert_eq!(
            sent.rules()[0]
                .apply_server_side_encryption_by_default()
                .unwrap()
                .kms_master_key_id(),
            Some(AWS_S3_KEY)
        );
        let e = read(&rule, Some(&KeyRead::Customer("dest-key".into()))).unwrap();
        let sent = sdk(&info(), &e).unwrap();
        let by_default = sent.rules()[0]
            .apply_server_side_encryption_by_default()
            .unwrap();
        assert_eq!(
            by_default.kms_master_key_id(),
            Some("arn:aws:kms:eu-west-1:111111111111:key/dest-key")
        );
        assert_eq!(sent.rules()[0].bucket_key_enabled(), Some(true));
        assert!(describe(&e).contains("dest-key"));
    }
}
