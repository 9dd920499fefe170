//! Carrying data across accounts: what the adapters that copy images,
//! snapshots and volumes need besides the destination side (the source side,
//! options), and the temporary grants and scratch resources they make on the
//! way (ARCHITECTURE.md, "Data paths").
//!
//! Every temporary is recorded through a [`TempLog`] *before* it is made and
//! closed once withdrawn, so an apply killed halfway, or a rollback, can
//! withdraw whatever is left (ARCHITECTURE.md invariant 6). Withdrawing is idempotent:
//! what is already gone counts as withdrawn.

use crate::error::AwsError;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_ec2::types::{
    LaunchPermission, LaunchPermissionModifications, OperationType, SnapshotAttributeName,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A grant or scratch resource that exists only while data is carried across.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Temporary {
    /// Launch permission on a source AMI for the destination account.
    ImageLaunchPermission { image_id: String, account: String },
    /// Create-volume permission on a source snapshot for the destination account.
    SnapshotVolumePermission {
        snapshot_id: String,
        account: String,
    },
    /// A KMS grant on a source key for the destination account.
    KmsGrant { key_id: String, grant_id: String },
    /// An image made only to carry data (from an instance, or re-encrypted
    /// away from the default key): deregistered, its snapshots deleted.
    ScratchImage {
        image_id: String,
        snapshot_ids: Vec<String>,
    },
    /// A snapshot made only to carry data (of a volume, or an intermediate copy).
    ScratchSnapshot { snapshot_id: String },
    /// A key made to re-encrypt what the default `aws/ebs` key encrypted
    /// (which AWS does not let anyone share): scheduled for deletion.
    ScratchKey { key_id: String },
    /// A statement added to a source bucket's policy so the destination
    /// account can read its objects: removed by its `Sid`.
    BucketPolicyStatement { bucket: String, sid: String },
}

impl Temporary {
    /// One line for the journal and messages.
    pub fn describe(&self) -> String {
        match self {
            Temporary::ImageLaunchPermission { image_id, account } => {
                format!("launch permission on {image_id} for {account}")
            }
            Temporary::SnapshotVolumePermission {
                snapshot_id,
                account,
            } => format!("create-volume permission on {snapshot_id} for {account}"),
            Temporary::KmsGrant { key_id, grant_id } => {
                format!("KMS grant {grant_id} on key {key_id}")
            }
            Temporary::ScratchImage { image_id, .. } => format!("scratch image {image_id}"),
            Temporary::ScratchSnapshot { snapshot_id } => format!("scratch snapshot {snapshot_id}"),
            Temporary::ScratchKey { key_id } => format!("scratch KMS key {key_id}"),
            Temporary::BucketPolicyStatement { bucket, sid } => {
                format!("statement {sid} in the policy of bucket {bucket}")
            }
        }
    }

    /// Withdraws it on `side` (where it was made). Gone already is success.
    pub async fn withdraw(&self, side: &Side) -> Result<()> {
        let r = match self {
            Temporary::ImageLaunchPermission { image_id, account } => side
                .ec2(Class::Mutate)
                .await
                .modify_image_attribute()
                .image_id(image_id)
                .launch_permission(
                    LaunchPermissionModifications::builder()
                        .remove(LaunchPermission::builder().user_id(account).build())
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| side.err("ModifyImageAttribute", e)),
            Temporary::SnapshotVolumePermission {
                snapshot_id,
                account,
            } => side
                .ec2(Class::Mutate)
                .await
                .modify_snapshot_attribute()
                .snapshot_id(snapshot_id)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .operation_type(OperationType::Remove)
                .user_ids(account)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| side.err("ModifySnapshotAttribute", e)),
            Temporary::KmsGrant { key_id, grant_id } => side
                .kms(Class::KmsMutate)
                .await
                .revoke_grant()
                .key_id(key_id)
                .grant_id(grant_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| side.err("RevokeGrant", e)),
            Temporary::ScratchImage {
                image_id,
                snapshot_ids,
            } => {
                gone(
                    side.ec2(Class::Mutate)
                        .await
                        .deregister_image()
                        .image_id(image_id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| side.err("DeregisterImage", e)),
                )?;
                for s in snapshot_ids {
                    delete_snapshot(side, s).await?;
                }
                Ok(())
            }
            Temporary::ScratchSnapshot { snapshot_id } => delete_snapshot(side, snapshot_id).await,
            Temporary::ScratchKey { key_id } => side
                .kms(Class::KmsMutate)
                .await
                .schedule_key_deletion()
                .key_id(key_id)
                .pending_window_in_days(7)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| side.err("ScheduleKeyDeletion", e)),
            Temporary::BucketPolicyStatement { bucket, sid } => {
                crate::s3::policy::remove_statement(side, bucket, sid).await
            }
        };
        gone(r)
    }
}

async fn delete_snapshot(side: &Side, id: &str) -> Result<()> {
    gone(
        side.ec2(Class::Mutate)
            .await
            .delete_snapshot()
            .snapshot_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| side.err("DeleteSnapshot", e)),
    )
}

/// NotFound (and a key already pending deletion) count as withdrawn.
fn gone(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_not_found() || e.to_string().contains("pending deletion") => Ok(()),
        other => other,
    }
}

/// Where temporaries are recorded (the state database, in the engine).
pub trait TempLog: Send + Sync {
    /// Records a temporary about to be made on `side` ("source" or
    /// "destination"); returns its record id.
    fn opened(&self, side: &str, t: &Temporary) -> std::result::Result<i64, String>;
    /// Marks it withdrawn.
    fn closed(&self, id: i64) -> std::result::Result<(), String>;
}

/// Progress of one bucket's object copy. Listing runs ahead of copying, so
/// the totals grow until `listing_done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferProgress {
    /// The bucket's plan node, e.g. `s3_bucket/photos`.
    pub bucket: String,
    /// Source objects listed so far, and their bytes.
    pub listed_objects: u64,
    pub listed_bytes: u64,
    pub listing_done: bool,
    /// Of those, the ones that need copying (missing or different).
    pub to_copy_objects: u64,
    pub to_copy_bytes: u64,
    pub copied_objects: u64,
    pub copied_bytes: u64,
    /// The copy of this bucket has ended (successfully or not).
    pub finished: bool,
}

/// Where progress goes (the engine turns it into events).
pub type ProgressSink = Arc<dyn Fn(TransferProgress) + Send + Sync>;

/// What data-carrying adapters get besides the destination side.
#[derive(Clone)]
pub struct CopyCx {
    pub source: Side,
    pub log: Arc<dyn TempLog>,
    /// `CreateImage` of instances without rebooting them (`[compute] no_reboot`).
    pub no_reboot: bool,
    /// How objects are copied (`[s3]`).
    pub s3: ferry_core::config::S3Config,
    /// Copy requests in flight across every bucket of the run (`[s3] workers`).
    pub s3_slots: Arc<tokio::sync::Semaphore>,
    pub progress: Option<ProgressSink>,
    /// The apply run doing the copy (names what a run makes for itself, such
    /// as a Batch Operations job's request token and manifest).
    pub run: i64,
}

impl std::fmt::Debug for CopyCx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyCx")
            .field("source", &self.source)
            .field("no_reboot", &self.no_reboot)
            .finish()
    }
}

impl CopyCx {
    /// Records `t` on `side` before it is made; the id closes it later.
    pub fn open(&self, side: &Side, t: &Temporary) -> Result<i64> {
        self.log
            .opened(side.name, t)
            .map_err(|message| AwsError::Invalid {
                side: side.name,
                message: format!("cannot record {}: {message}", t.describe()),
            })
    }

    /// Withdraws `t` on `side` and closes its record.
    pub async fn withdraw(&self, side: &Side, id: i64, t: &Temporary) -> Result<()> {
        t.withdraw(side).await?;
        self.log.closed(id).map_err(|message| AwsError::Invalid {
            side: side.name,
            message: format!(
                "cannot record that {} was withdrawn: {message}",
                t.describe()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_serialise_with_a_type_tag() {
        let t = Temporary::ImageLaunchPermission {
            image_id: "ami-1".into(),
            account: "222222222222".into(),
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["type"], "image_launch_permission");
        assert_eq!(serde_json::from_value::<Temporary>(v).unwrap(), t);
        let k = Temporary::ScratchImage {
            image_id: "ami-2".into(),
            snapshot_ids: vec!["snap-1".into()],
        };
        assert!(k.describe().contains("ami-2"));
    }
}
