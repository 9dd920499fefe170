//! Typed specs of EC2 compute: images, snapshots, volumes, instances, and the
//! pieces launch templates and configurations share with them (the image they
//! run, block devices, encryption keys).
//!
//! Encryption is kept as `encrypted` plus `kms_key`: a reference to a
//! customer-managed key the estate migrates, or `None` for the account's
//! AWS-managed `aws/ebs` key (every account has its own, so "the default key"
//! translates to itself).

use crate::resource::Ref;
use serde::{Deserialize, Serialize};

/// The image something launches from: one the source account owns (migrated,
/// so a reference), or a public / Amazon image, which is referenced, never
/// copied, and found again in the destination region by owner and name
/// (AMI IDs differ between regions; names of public images do not).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ImageRef {
    Owned(Ref),
    Public(PublicImage),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublicImage {
    /// The owner's account ID (or alias, "amazon").
    pub owner: String,
    pub name: String,
}

/// An EBS block device of an image, a launch template or configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlockDevice {
    pub device_name: String,
    #[serde(default)]
    pub volume_size: Option<i32>,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub iops: Option<i32>,
    #[serde(default)]
    pub throughput: Option<i32>,
    #[serde(default)]
    pub delete_on_termination: Option<bool>,
    #[serde(default)]
    pub encrypted: Option<bool>,
    /// A customer-managed key; `None` with `encrypted`: the AWS-managed key.
    #[serde(default)]
    pub kms_key: Option<Ref>,
    /// A snapshot the device starts from, when it is one the estate owns.
    #[serde(default)]
    pub snapshot: Option<Ref>,
    /// Instance-store devices ("ephemeral0") have no EBS part.
    #[serde(default)]
    pub virtual_name: Option<String>,
}

/// An AMI the source owns. The destination gets a copy (`CopyImage`),
/// encrypted as the source is, under the mapped key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub virtualization_type: Option<String>,
    #[serde(default)]
    pub root_device_name: Option<String>,
    /// Sorted by device name.
    #[serde(default)]
    pub block_devices: Vec<BlockDevice>,
    /// Marketplace product codes: such images cannot be copied to another
    /// account; the plan says they need a rebuild.
    #[serde(default)]
    pub product_codes: Vec<String>,
    /// Set for the image ferry makes of a standalone instance (the resource
    /// is keyed `image/<instance id>`): the source instance ID, not a
    /// reference (the instance depends on this image, not the reverse).
    #[serde(default)]
    pub from_instance: Option<String>,
    /// `CreateImage` without rebooting the instance (`[compute] no_reboot`).
    #[serde(default)]
    pub no_reboot: bool,
}

/// A standalone snapshot (not backing an image the estate owns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSpec {
    #[serde(default)]
    pub description: Option<String>,
    pub volume_size: i32,
    pub encrypted: bool,
    #[serde(default)]
    pub kms_key: Option<Ref>,
}

/// An unattached volume: copied through a snapshot of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub availability_zone: String,
    pub size: i32,
    pub volume_type: String,
    #[serde(default)]
    pub iops: Option<i32>,
    #[serde(default)]
    pub throughput: Option<i32>,
    pub encrypted: bool,
    #[serde(default)]
    pub kms_key: Option<Ref>,
    #[serde(default)]
    pub multi_attach: bool,
    /// The snapshot the source volume was made from (informational; the copy
    /// is made from a fresh snapshot of the volume).
    #[serde(default)]
    pub source_snapshot: Option<String>,
}

/// Instance metadata service options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptions {
    /// "optional" or "required" (IMDSv2).
    pub http_tokens: String,
    /// "enabled" or "disabled".
    pub http_endpoint: String,
    pub http_put_response_hop_limit: i32,
    #[serde(default)]
    pub instance_metadata_tags: Option<String>,
}

/// An instance no auto scaling group owns. The destination instance is
/// launched from a copy of an image made of the source instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSpec {
    /// Always `image/<this instance's id>`: the image ferry makes of it.
    pub image: Ref,
    pub instance_type: String,
    pub subnet: Ref,
    /// Sorted.
    pub security_groups: Vec<Ref>,
    #[serde(default)]
    pub key_pair: Option<Ref>,
    #[serde(default)]
    pub instance_profile: Option<Ref>,
    /// Base64, as EC2 returns and takes it.
    #[serde(default)]
    pub user_data: Option<String>,
    pub ebs_optimized: bool,
    /// Detailed monitoring.
    pub monitoring: bool,
    #[serde(default)]
    pub metadata: Option<MetadataOptions>,
    #[serde(default)]
    pub source_dest_check: Option<bool>,
    /// Kept only with `[compute] keep_private_ips`; the planner drops it otherwise.
    #[serde(default)]
    pub private_ip: Option<String>,
}
