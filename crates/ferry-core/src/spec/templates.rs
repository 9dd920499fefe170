//! Typed specs of KMS keys, key pairs and launch templates: the things
//! instances and auto scaling groups are launched *with*, migrated before them.
//!
//! What cannot move is kept out of the specs on purpose: key material (a
//! destination key is a new key), private keys (only the public half of a key
//! pair is ever read), and launch template version numbers, which the
//! destination assigns itself (see [`LaunchTemplateSpec`]).

use crate::resource::Ref;
use crate::spec::compute::{BlockDevice, ImageRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A customer-managed KMS key. The key policy sits in `policy` so the
/// translator rewrites the accounts, ARNs and regions inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeySpec {
    /// Empty when the key has none (KMS reports "").
    #[serde(default)]
    pub description: String,
    /// "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT".
    pub key_usage: String,
    /// "SYMMETRIC_DEFAULT", "RSA_2048", "HMAC_256" ...
    pub key_spec: String,
    /// A multi-Region primary key; the destination key is made one too
    /// (replicas are not copied: they follow their primary).
    #[serde(default)]
    pub multi_region: bool,
    /// The "default" key policy document (parsed JSON).
    pub policy: serde_json::Value,
    /// Automatic rotation of the key material (symmetric keys only).
    #[serde(default)]
    pub rotation_enabled: bool,
    pub enabled: bool,
    /// Alias names (`alias/...`), sorted; never the AWS-reserved `alias/aws/*`.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// An EC2 key pair, kept under its name. Only the public key is read and
/// imported; the fingerprint is left out because AWS computes it differently
/// for created and imported keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPairSpec {
    /// "rsa" or "ed25519".
    pub key_type: String,
    /// OpenSSH text as [`normalise_public_key`] leaves it; empty when EC2
    /// does not return it (the key pair is then skipped).
    pub public_key: String,
}

/// The OpenSSH public key reduced to `<type> <base64>`: surrounding
/// whitespace and the trailing comment go, because EC2 returns an imported
/// key with the comment it was imported with and a key it generated without
/// one, and the comment carries no meaning. Text in another format is only
/// trimmed.
pub fn normalise_public_key(text: &str) -> String {
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(kind), Some(body)) if kind.starts_with("ssh-") || kind.starts_with("ecdsa-") => {
            format!("{kind} {body}")
        }
        _ => text.trim().to_string(),
    }
}

/// The key type an OpenSSH public key names ("ssh-ed25519" -> "ed25519"),
/// for key pairs whose description does not say.
pub fn key_type_of(public_key: &str) -> Option<&'static str> {
    let kind = public_key.split_whitespace().next()?;
    match kind {
        "ssh-ed25519" => Some("ed25519"),
        "ssh-rsa" => Some("rsa"),
        _ => None,
    }
}

/// A launch template and all of its versions.
///
/// Versions are a list in version order without their numbers: a source
/// whose versions 2 and 3 were deleted numbers its versions 1, 4, 5, and the
/// destination, which numbers from 1 without gaps, 1, 2, 3. Keeping the
/// numbers would make every such template differ forever; the plan notes the
/// renumbering instead (see [`renumbering_note`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateSpec {
    pub name: String,
    /// 1-based position of the default version in `versions` (its number,
    /// when the source has no gaps).
    pub default_version: usize,
    pub versions: Vec<LaunchTemplateVersionSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateVersionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub data: LaunchTemplateData,
}

/// The part of a launch template's data ferry copies. Every field is
/// optional as in the API: an unset field means "the default at launch"
/// (of the AMI, the subnet, the account), which is not the same as the
/// default value written out, so unset stays unset.
///
/// Lists of references keep the order EC2 returns (the order they were
/// given in): ferry creates the destination version with the translated
/// list in that same order, so the two read back equal; sorting by source
/// ID would not survive translation, as destination IDs sort differently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// An image named by SSM parameter (`resolve:ssm:/aws/service/...`),
    /// resolved at launch; AWS's public parameters exist in every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair: Option<Ref>,
    /// Security group IDs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<Ref>,
    /// Security groups by name (default VPC), as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_group_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile: Option<Ref>,
    /// Base64, as EC2 returns and takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// Sorted by device name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_devices: Vec<BlockDevice>,
    /// Sorted by device index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_interfaces: Vec<LtNetworkInterface>,
    /// Detailed monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_optimized: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<LtMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_api_termination: Option<bool>,
    /// "stop" or "terminate".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_behavior: Option<String>,
    /// Burstable instances' credit option ("standard", "unlimited").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_credits: Option<String>,
    /// Tags applied at launch, sorted by resource type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_specifications: Vec<LtTagSpecification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<LtPlacement>,
}

/// A network interface the template creates at launch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LtNetworkInterface {
    #[serde(default)]
    pub device_index: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<Ref>,
    /// Security group IDs, in the order given (see [`LaunchTemplateData`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associate_public_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Instance metadata service options of a template; unlike an instance's,
/// each may be unset (the AMI's or the account's default applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_tokens: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_put_response_hop_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_metadata_tags: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LtTagSpecification {
    /// "instance", "volume", "network-interface", "spot-instances-request".
    pub resource_type: String,
    pub tags: BTreeMap<String, String>,
}

/// Where instances launch: the zone is named `availability_zone` so the
/// translator maps it to the destination region's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtPlacement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<String>,
}

impl LaunchTemplateData {
    /// Puts the lists whose order carries no meaning into canonical order
    /// (block devices by name, interfaces by index, tag specifications by
    /// type), and, with `refs_too`, the reference lists as well, for
    /// comparing two versions whose references name destination IDs.
    pub fn canonical(mut self, refs_too: bool) -> Self {
        if refs_too {
            self.security_groups.sort();
            self.security_group_names.sort();
            for n in &mut self.network_interfaces {
                n.security_groups.sort();
            }
        }
        self.block_devices.sort();
        self.network_interfaces.sort();
        self.tag_specifications.sort();
        self
    }
}

/// The index of the first version of `want` that `have` holds differently
/// (compared up to the shorter list, references as sets), if any: what
/// converge needs, stricter than verify's generic diff, which compares
/// lists holding references as sets and so not the order of versions.
pub fn first_difference(
    want: &[LaunchTemplateVersionSpec],
    have: &[LaunchTemplateVersionSpec],
) -> Option<usize> {
    want.iter().zip(have).position(|(w, h)| {
        w.description != h.description
            || w.data.clone().canonical(true) != h.data.clone().canonical(true)
    })
}

/// The plan note for a template whose source version numbers have gaps,
/// or None when the destination numbers them alike.
pub fn renumbering_note(numbers: &[i64], default_number: i64) -> Option<String> {
    let contiguous = numbers.iter().enumerate().all(|(i, n)| *n == i as i64 + 1);
    if contiguous {
        return None;
    }
    let pairs: Vec<String> = numbers
        .iter()
        .enumerate()
        .filter(|(i, n)| **n != *i as i64 + 1)
        .map(|(i, n)| format!("{n}->{}", i + 1))
        .collect();
    let default_at = numbers
        .iter()
        .position(|n| *n == default_number)
        .map(|i| i + 1)
        .unwrap_or(0);
    Some(format!(
        "source versions have gaps (deleted versions): the destination numbers them without gaps ({}); the default version {default_number} becomes {default_at}; references to version numbers (auto scaling groups) follow the new numbers",
        pairs.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::spec::compute::PublicImage;
    use crate::spec::to_value;
    use serde_json::json;

    #[test]
    fn public_keys_lose_comments_and_whitespace_only() {
        let k = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@laptop\n";
        assert_eq!(
            normalise_public_key(k),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG"
        );
        assert_eq!(
            normalise_public_key("  ssh-rsa AAAAB3Nza  "),
            "ssh-rsa AAAAB3Nza"
        );
        assert_eq!(
            normalise_public_key("ecdsa-sha2-nistp256 AAAAE2 c"),
            "ecdsa-sha2-nistp256 AAAAE2"
        );
        let rfc = "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n";
        assert_eq!(normalise_public_key(rfc), rfc.trim());
        assert_eq!(normalise_public_key(""), "");
        assert_eq!(key_type_of("ssh-ed25519 AAAA"), Some("ed25519"));
        assert_eq!(key_type_of("ssh-rsa AAAA x"), Some("rsa"));
        assert_eq!(key_type_of(""), None);
    }

    #[test]
    fn kms_key_policy_is_a_document_field() {
        let s = KmsKeySpec {
            description: "app data".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            multi_region: false,
            policy: json!({"Statement": [{"Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]}),
            rotation_enabled: true,
            enabled: true,
            aliases: vec!["alias/app".into()],
        };
        let v = to_value(&s);
        assert!(v["policy"].is_object(), "the translator rewrites `policy`");
        assert_eq!(serde_json::from_value::<KmsKeySpec>(v).unwrap(), s);
    }

    fn version(groups: &[&str], description: Option<&str>) -> LaunchTemplateVersionSpec {
        LaunchTemplateVersionSpec {
            description: description.map(String::from),
            data: LaunchTemplateData {
                image: Some(ImageRef::Public(PublicImage {
                    owner: "137112412989".into(),
                    name: "al2023".into(),
                })),
                instance_type: Some("t3.micro".into()),
                security_groups: groups
                    .iter()
                    .map(|g| Ref::new(Kind::SecurityGroup, *g))
                    .collect(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn launch_template_specs_serialise_compactly_with_refs() {
        let s = LaunchTemplateSpec {
            name: "web".into(),
            default_version: 2,
            versions: vec![
                version(&["sg-1"], None),
                version(&["sg-1", "sg-2"], Some("v2")),
            ],
        };
        let v = to_value(&s);
        assert_eq!(
            v["versions"][0]["data"]["security_groups"][0]["$ref"],
            "security_group/sg-1"
        );
        assert!(v["versions"][0]["data"].get("block_devices").is_none());
        assert!(v["versions"][0].get("description").is_none());
        assert_eq!(v["versions"][0]["data"]["image"]["owner"], "137112412989");
        let back: LaunchTemplateSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
        let placed = LtPlacement {
            availability_zone: Some("us-east-1a".into()),
            tenancy: None,
        };
        assert_eq!(
            to_value(&placed),
            json!({"availability_zone": "us-east-1a"})
        );
    }

    #[test]
    fn versions_compare_in_order_with_references_as_sets() {
        let want = vec![
            version(&["sg-2", "sg-1"], None),
            version(&["sg-3"], Some("b")),
        ];
        let same = vec![
            version(&["sg-1", "sg-2"], None),
            version(&["sg-3"], Some("b")),
        ];
        assert_eq!(first_difference(&want, &same), None);
        let shorter = vec![version(&["sg-1", "sg-2"], None)];
        assert_eq!(
            first_difference(&want, &shorter),
            None,
            "missing versions are added, not differences"
        );
        let changed = vec![
            version(&["sg-1", "sg-2"], None),
            version(&["sg-3"], Some("c")),
        ];
        assert_eq!(first_difference(&want, &changed), Some(1));
        let swapped = vec![want[1].clone(), want[0].clone()];
        assert_eq!(first_difference(&want, &swapped), Some(0));
    }

    #[test]
    fn block_devices_and_interfaces_are_canonical() {
        let dev = |name: &str| BlockDevice {
            device_name: name.into(),
            volume_size: Some(8),
            volume_type: None,
            iops: None,
            throughput: None,
            delete_on_termination: None,
            encrypted: Some(true),
            kms_key: Some(Ref::new(Kind::KmsKey, "k-1")),
            snapshot: None,
            virtual_name: None,
        };
        let nic = |i: i32| LtNetworkInterface {
            device_index: Some(i),
            subnet: Some(Ref::new(Kind::Subnet, "subnet-1")),
            security_groups: vec![],
            associate_public_ip: None,
            delete_on_termination: None,
            description: None,
        };
        let d = LaunchTemplateData {
            block_devices: vec![dev("/dev/xvdb"), dev("/dev/xvda")],
            network_interfaces: vec![nic(1), nic(0)],
            ..Default::default()
        }
        .canonical(false);
        assert_eq!(d.block_devices[0].device_name, "/dev/xvda");
        assert_eq!(d.network_interfaces[0].device_index, Some(0));
    }

    #[test]
    fn gaps_in_version_numbers_are_noted() {
        assert_eq!(renumbering_note(&[1, 2, 3], 2), None);
        assert_eq!(renumbering_note(&[], 1), None);
        let n = renumbering_note(&[1, 4, 5], 4).unwrap();
        assert!(n.contains("4->2, 5->3"), "{n}");
        assert!(n.contains("default version 4 becomes 2"), "{n}");
    }
}
