//! The cross-account data path shared by images, snapshots and volumes:
//! share with the destination account (granting use of the customer key),
//! re-encrypt first what the AWS-managed `aws/ebs` key encrypts (AWS refuses
//! to share that), and withdraw it all once the destination has its copy.
//!
//! Every share, grant and scratch copy is recorded through the run's
//! [`CopyCx`] before (or, when AWS names it only on creation, right after) it
//! is made, so the engine can withdraw leftovers after a crash.

use crate::adapter::wait_for;
use crate::ratelimit::Class;
use crate::transfer::{CopyCx, Temporary};
use crate::{AwsError, Desired, Result, Side};
use aws_sdk_ec2::types::{
    LaunchPermission, LaunchPermissionModifications, OperationType, ResourceType,
    SnapshotAttributeName, SnapshotState, Tag, TagSpecification,
};
use aws_sdk_kms::types::GrantOperation;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Tag on scratch resources ferry makes in the source; its value says of what.
pub const TAG_SCRATCH: &str = "ferry:scratch";

/// How long a copy may take. Real copies of large images take hours.
pub const COPY_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The temporaries made for one copy, withdrawn together.
#[derive(Debug, Default)]
pub struct Opened(Vec<(i64, Temporary, bool)>);

impl Opened {
    /// Withdraws everything, newest first (shares before the scratch images
    /// and keys they expose).
    async fn withdraw(self, copy: &CopyCx, dest: &Side) -> Result<()> {
        for (id, t, on_source) in self.0.into_iter().rev() {
            let side = if on_source { &copy.source } else { dest };
            copy.withdraw(side, id, &t).await?;
        }
        Ok(())
    }

    /// Withdraws everything whether the copy worked or not, then gives the
    /// copy's result (its error first). A failure to withdraw leaves the
    /// temporaries recorded for the engine's sweep.
    pub async fn finish<T>(self, copy: &CopyCx, dest: &Side, result: Result<T>) -> Result<T> {
        let withdrawn = self.withdraw(copy, dest).await;
        let value = result?;
        withdrawn?;
        Ok(value)
    }

    fn push(&mut self, id: i64, t: Temporary, on_source: bool) {
        self.0.push((id, t, on_source));
    }
}

/// The copy context of `want`; only the engine's apply provides one.
pub fn copy_of<'a>(cx: &Side, want: &'a Desired) -> Result<&'a CopyCx> {
    want.copy
        .as_ref()
        .ok_or_else(|| cx.invalid("copying data needs the source side (internal error)"))
}

/// An idempotency token for a create call, from ferry's tags (source + run):
/// a retried call within AWS's token window does not copy twice.
pub fn client_token(want: &Desired) -> String {
    let mut h = Sha256::new();
    for (k, v) in &want.tags {
        if k.starts_with("ferry:") {
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_bytes());
            h.update(b";");
        }
    }
    hex::encode(h.finalize())[..32].to_string()
}

/// (snapshot id, encrypted, key id) of each snapshot.
pub async fn snapshot_keys(
    cx: &Side,
    ids: &[String],
) -> Result<Vec<(String, bool, Option<String>)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_snapshots()
        .set_snapshot_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|e| cx.err("DescribeSnapshots", e))?;
    Ok(out
        .snapshots()
        .iter()
        .map(|s| {
            (
                s.snapshot_id().unwrap_or_default().to_string(),
                s.encrypted().unwrap_or(false),
                s.kms_key_id().map(|k| crate::kms::key_id(k).to_string()),
            )
        })
        .collect())
}

/// The snapshots behind an image's EBS devices.
pub async fn image_snapshots(cx: &Side, image_id: &str) -> Result<Vec<String>> {
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_images()
        .image_ids(image_id)
        .send()
        .await
        .map_err(|e| cx.err("DescribeImages", e))?;
    let image = out.images().first().ok_or_else(|| AwsError::Api {
        side: cx.name,
        op: "DescribeImages",
        code: Some("InvalidAMIID.NotFound".into()),
        message: format!("image {image_id} does not exist"),
    })?;
    Ok(image
        .block_device_mappings()
        .iter()
        .filter_map(|b| b.ebs()?.snapshot_id().map(String::from))
        .collect())
}

/// Waits until an image is available (failed is an error).
pub async fn wait_image(cx: &Side, image_id: &str) -> Result<()> {
    wait_for(
        cx,
        format!("image {image_id} to become available"),
        COPY_WAIT,
        || async {
            let out = cx
                .ec2(Class::Read)
                .await
                .describe_images()
                .image_ids(image_id)
                .send()
                .await
                .map_err(|e| cx.err("DescribeImages", e))?;
            match out.images().first().and_then(|i| i.state()) {
                Some(s) if s.as_str() == "available" => Ok(Some(())),
                Some(s) if matches!(s.as_str(), "failed" | "error" | "invalid") => {
                    Err(AwsError::Api {
                        side: cx.name,
                        op: "DescribeImages",
                        code: Some("ImageFailed".into()),
                        message: format!("image {image_id} is {}", s.as_str()),
                    })
                }
                _ => Ok(None),
            }
        },
    )
    .await
}

/// Waits until a snapshot is completed.
pub async fn wait_snapshot(cx: &Side, snapshot_id: &str) -> Result<()> {
    wait_for(
        cx,
        format!("snapshot {snapshot_id} to complete"),
        COPY_WAIT,
        || async {
            let out = cx
                .ec2(Class::Read)
                .await
                .describe_snapshots()
                .snapshot_ids(snapshot_id)
                .send()
                .await
                .map_err(|e| cx.err("DescribeSnapshots", e))?;
            match out.snapshots().first().and_then(|s| s.state()) {
                Some(SnapshotState::Completed) => Ok(Some(())),
                Some(SnapshotState::Error) => Err(AwsError::Api {
                    side: cx.name,
                    op: "DescribeSnapshots",
                    code: Some("SnapshotFailed".into()),
                    message: format!("snapshot {snapshot_id} failed"),
                }),
                _ => Ok(None),
            }
        },
    )
    .await
}

/// Lets the destination account use a source customer key for as long as
/// the copy takes.
async fn grant_key(copy: &CopyCx, key_id: &str, account: &str, opened: &mut Opened) -> Result<()> {
    let src = &copy.source;
    let out = src
        .kms(Class::KmsMutate)
        .await
        .create_grant()
        .key_id(key_id)
        .grantee_principal(format!("arn:{}:iam::{account}:root", src.info.partition))
        .name("ferry-copy")
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::DescribeKey)
        .operations(GrantOperation::CreateGrant)
        .operations(GrantOperation::ReEncryptFrom)
        .operations(GrantOperation::GenerateDataKeyWithoutPlaintext)
        .send()
        .await
        .map_err(|e| src.err("CreateGrant", e))?;
    let t = Temporary::KmsGrant {
        key_id: key_id.to_string(),
        grant_id: out.grant_id().unwrap_or_default().to_string(),
    };
    let id = copy.open(src, &t)?;
    opened.push(id, t, true);
    Ok(())
}

/// Grants the destination the customer keys of these encrypted snapshots.
/// Snapshots under the AWS-managed key must be re-encrypted first (AWS
/// refuses to share them); callers check with [`uses_default_key`].
async fn grant_keys(
    copy: &CopyCx,
    snapshots: &[(String, bool, Option<String>)],
    account: &str,
    opened: &mut Opened,
) -> Result<()> {
    let mut keys: Vec<&str> = snapshots
        .iter()
        .filter_map(|(_, enc, k)| k.as_deref().filter(|_| *enc))
        .collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        grant_key(copy, k, account, opened).await?;
    }
    Ok(())
}

/// Shares a snapshot (and its key) with the destination account.
pub async fn share_snapshot(
    copy: &CopyCx,
    snapshot: &(String, bool, Option<String>),
    account: &str,
    opened: &mut Opened,
) -> Result<()> {
    let src = &copy.source;
    grant_keys(copy, std::slice::from_ref(snapshot), account, opened).await?;
    let t = Temporary::SnapshotVolumePermission {
        snapshot_id: snapshot.0.clone(),
        account: account.to_string(),
    };
    let id = copy.open(src, &t)?;
    opened.push(id, t, true);
    src.ec2(Class::Mutate)
        .await
        .modify_snapshot_attribute()
        .snapshot_id(&snapshot.0)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Add)
        .user_ids(account)
        .send()
        .await
        .map_err(|e| src.err("ModifySnapshotAttribute", e))?;
    Ok(())
}

/// Shares an image, its snapshots and their keys with the destination account.
pub async fn share_image(
    copy: &CopyCx,
    image_id: &str,
    account: &str,
    opened: &mut Opened,
) -> Result<()> {
    let src = &copy.source;
    let snaps = snapshot_keys(src, &image_snapshots(src, image_id).await?).await?;
    for s in &snaps {
        share_snapshot(copy, s, account, opened).await?;
    }
    let t = Temporary::ImageLaunchPermission {
        image_id: image_id.to_string(),
        account: account.to_string(),
    };
    let id = copy.open(src, &t)?;
    opened.push(id, t, true);
    src.ec2(Class::Mutate)
        .await
        .modify_image_attribute()
        .image_id(image_id)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(LaunchPermission::builder().user_id(account).build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| src.err("ModifyImageAttribute", e))?;
    Ok(())
}

/// Whether any of these snapshots is encrypted with the source's AWS-managed key.
pub async fn uses_default_key(
    src: &Side,
    snaps: &[(String, bool, Option<String>)],
) -> Result<bool> {
    if !snaps.iter().any(|(_, enc, _)| *enc) {
        return Ok(false);
    }
    let default = crate::kms::ebs_default_key(src).await?;
    Ok(snaps
        .iter()
        .any(|(_, enc, k)| *enc && (k.is_none() || k.as_deref() == default.as_deref())))
}

/// A scratch customer key in the source, to re-encrypt default-key data
/// under before sharing. Scheduled for deletion once the copy is done.
pub async fn scratch_key(copy: &CopyCx, of: &str, opened: &mut Opened) -> Result<String> {
    let src = &copy.source;
    let out = src
        .kms(Class::KmsMutate)
        .await
        .create_key()
        .description(format!(
            "ferry: scratch key to share {of}, which the AWS-managed aws/ebs key encrypts"
        ))
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(TAG_SCRATCH)
                .tag_value(of)
                .build()
                .map_err(|e| src.invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| src.err("CreateKey", e))?;
    let key_id = out
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .ok_or_else(|| src.invalid("CreateKey returned no key"))?;
    let t = Temporary::ScratchKey {
        key_id: key_id.clone(),
    };
    let id = copy.open(src, &t)?;
    opened.push(id, t, true);
    Ok(key_id)
}

/// Tag specifications marking a scratch resource in the source.
pub fn scratch_tags(rt: ResourceType, of: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(rt)
        .tags(Tag::builder().key(TAG_SCRATCH).value(of).build())
        .build()
}

/// The destination key to encrypt a copy with: the first customer key the
/// (translated) spec names; `None` with `encrypted` means the destination's
/// AWS-managed key.
pub fn dest_key<'a>(keys: impl IntoIterator<Item = &'a Option<ferry_core::Ref>>) -> Option<String> {
    keys.into_iter()
        .flatten()
        .next()
        .map(|r| r.id().to_string())
}

/// Tags a resource (tag specifications are not honoured by every call).
pub async fn tag(cx: &Side, id: &str, tags: Vec<Tag>) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    cx.ec2(Class::Mutate)
        .await
        .create_tags()
        .resources(id)
        .set_tags(Some(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("CreateTags", e))
}

/// The source-side writes of carrying snapshots (snapshots, volumes).
pub const SNAPSHOT_SOURCE_ACTIONS: &[&str] = &[
    "ec2:CreateSnapshot",
    "ec2:CopySnapshot",
    "ec2:ModifySnapshotAttribute",
    "ec2:DeleteSnapshot",
    "ec2:CreateTags",
    "kms:CreateGrant",
    "kms:RevokeGrant",
    "kms:CreateKey",
    "kms:TagResource",
    "kms:ScheduleKeyDeletion",
];

/// A scratch tag.
pub fn scratch_tag(of: &str) -> Tag {
    Tag::builder().key(TAG_SCRATCH).value(of).build()
}

/// What the destination copy of a snapshot should be.
pub struct SnapshotCopy {
    pub encrypted: bool,
    /// Destination customer key; `None` with `encrypted`: the AWS-managed key.
    pub key: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
}

/// Carries a source snapshot into the destination: re-encrypts it in the
/// source first when the AWS-managed key encrypts it, shares it (and its
/// key), copies it in the destination and waits. Returns the copy's ID;
/// the shares stay in `opened` for the caller to withdraw.
pub async fn carry_snapshot(
    copy: &CopyCx,
    dest: &Side,
    snapshot_id: &str,
    want: SnapshotCopy,
    opened: &mut Opened,
) -> Result<String> {
    let src = &copy.source;
    let mut snap = snapshot_keys(src, &[snapshot_id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| src.invalid(format!("snapshot {snapshot_id} does not exist")))?;
    if uses_default_key(src, std::slice::from_ref(&snap)).await? {
        let key = scratch_key(copy, snapshot_id, opened).await?;
        let out = src
            .ec2(Class::Mutate)
            .await
            .copy_snapshot()
            .source_snapshot_id(snapshot_id)
            .source_region(&src.info.region)
            .encrypted(true)
            .kms_key_id(&key)
            .description(format!("ferry: {snapshot_id} re-encrypted to share it"))
            .send()
            .await
            .map_err(|e| src.err("CopySnapshot", e))?;
        let id = out
            .snapshot_id()
            .map(String::from)
            .ok_or_else(|| src.invalid("CopySnapshot returned no snapshot id"))?;
        let t = Temporary::ScratchSnapshot {
            snapshot_id: id.clone(),
        };
        let rec = copy.open(src, &t)?;
        opened.push(rec, t, true);
        tag(
            src,
            &id,
            vec![scratch_tag(&format!("re-encrypted {snapshot_id}"))],
        )
        .await?;
        wait_snapshot(src, &id).await?;
        snap = (id, true, Some(key));
    }
    share_snapshot(copy, &snap, &dest.info.account, opened).await?;
    let out = dest
        .ec2(Class::Mutate)
        .await
        .copy_snapshot()
        .source_snapshot_id(&snap.0)
        .source_region(&src.info.region)
        .encrypted(want.encrypted)
        .set_kms_key_id(want.key.filter(|_| want.encrypted))
        .set_description(want.description)
        .send()
        .await
        .map_err(|e| dest.err("CopySnapshot", e))?;
    let id = out
        .snapshot_id()
        .map(String::from)
        .ok_or_else(|| dest.invalid("CopySnapshot returned no snapshot id"))?;
    tag(dest, &id, want.tags).await?;
    wait_snapshot(dest, &id).await?;
    Ok(id)
}

/// Records a scratch snapshot made on `side` so it is deleted after the copy.
pub fn scratch_snapshot(
    copy: &CopyCx,
    side: &Side,
    id: &str,
    on_source: bool,
    opened: &mut Opened,
) -> Result<()> {
    let t = Temporary::ScratchSnapshot {
        snapshot_id: id.to_string(),
    };
    let rec = copy.open(side, &t)?;
    opened.push(rec, t, on_source);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn client_tokens_follow_ferry_tags_only() {
        let mut tags = BTreeMap::new();
        tags.insert("ferry:source".to_string(), "arn:x".to_string());
        tags.insert("ferry:run".to_string(), "3".to_string());
        let a = Desired {
            spec: serde_json::Value::Null,
            tags: tags.clone(),
            manage_tags: true,
            source_id: "ami-1".into(),
            dest_name: None,
            copy: None,
        };
        let mut b = a.clone();
        b.tags.insert("team".into(), "web".into());
        assert_eq!(client_token(&a), client_token(&b));
        assert_eq!(client_token(&a).len(), 32);
        b.tags.insert("ferry:run".into(), "4".into());
        assert_ne!(client_token(&a), client_token(&b));
    }
}
