//! Typed spec of an S3 bucket: its configuration, and a summary of its
//! objects (which the plan uses to tell an up-to-date bucket from one whose
//! objects must be synced; the objects themselves are never held in memory).
//!
//! A bucket is keyed by its name. The destination name is decided at plan
//! time by `[naming]` (bucket names are global), so a spec never holds a
//! name: references to buckets (logging targets) are [`Ref`]s, and bucket
//! ARNs inside the policy are renamed by the translator.
//!
//! Configuration that AWS models as long nested documents (CORS, lifecycle,
//! website, notifications) is kept as canonical JSON built by the adapter
//! from the SDK types, so that what is sent and what is read back compare
//! equal. Notifications are a document: the ARNs of their topics, queues and
//! functions are rewritten to the destination account and region.

use crate::resource::Ref;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BucketSpec {
    /// "disabled" (never enabled), "enabled" or "suspended".
    #[serde(default = "disabled")]
    pub versioning: String,
    /// Default encryption; `None` when AWS reports none (it reports SSE-S3
    /// for every bucket since 2023).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<BucketEncryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    /// Object ownership: "BucketOwnerEnforced", "BucketOwnerPreferred" or
    /// "ObjectWriter".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<String>,
    /// The bucket policy document (rewritten: accounts, ARNs, bucket names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    /// CORS rules, canonical JSON, in AWS's order (order matters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors: Vec<Value>,
    /// Lifecycle rules, canonical JSON, sorted by ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle: Vec<Value>,
    /// Static website configuration, canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<ObjectLock>,
    /// Event notifications (topic, queue and function configurations),
    /// canonical JSON; rewritten as a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Value>,
    /// Server access logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// The current objects, summarised from a streamed listing.
    #[serde(default)]
    pub objects: ObjectSummary,
}

fn disabled() -> String {
    "disabled".into()
}

impl BucketSpec {
    /// The form both sides serialise to: lifecycle rules sorted by their
    /// `ID` (AWS keeps them in no particular order; each rule is a separate
    /// rule, so their order means nothing). CORS rules keep their order: the
    /// first matching rule wins.
    pub fn canonical(mut self) -> Self {
        self.lifecycle.sort_by_key(|v| {
            v.get("ID")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        });
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// "AES256" (SSE-S3), "aws:kms" or "aws:kms:dsse".
    pub algorithm: String,
    /// A customer-managed key: `kms_key/<key id>`; mapped like any reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<Ref>,
    /// A key given by alias (`alias/aws/s3`, AWS-managed): kept as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_alias: Option<String>,
    #[serde(default)]
    pub bucket_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// Object Lock. AWS allows enabling it after creation (on a versioned
/// bucket) since 2023; the emulator and older tooling only at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    pub enabled: bool,
    /// Default retention: "GOVERNANCE" or "COMPLIANCE".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    /// `s3_bucket/<source name>`: the same account and region as the bucket
    /// (AWS requires it), so it is always a bucket ferry migrates too.
    pub target: Ref,
    #[serde(default)]
    pub prefix: String,
}

/// The current objects of a bucket, from one streamed listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectSummary {
    pub count: u64,
    pub bytes: u64,
    /// SHA-256 over every key, size and ETag, in listing order: equal
    /// digests mean equal listings. Not compared by verify (SSE-KMS ETags
    /// differ between copies); verify compares the objects themselves.
    #[serde(default)]
    pub digest: String,
    /// SHA-256 over every key and size only: what can be compared under
    /// SSE-KMS, whose ETags are not MD5s of the data.
    #[serde(default)]
    pub shape: String,
    /// The newest object's last-modified time (ms since the epoch; 0 when
    /// empty). A destination whose newest object is not older than the
    /// source's holds copies made after every source change.
    #[serde(default)]
    pub newest: i64,
}

impl ObjectSummary {
    /// Whether `dest` (a copy's summary) needs no sync from `self` (the
    /// source's): the same listing, or under SSE-KMS (`kms`) the same keys
    /// and sizes with nothing in the source newer than the copies.
    pub fn synced_to(&self, dest: &ObjectSummary, kms: bool) -> bool {
        if self.count != dest.count {
            return false;
        }
        if kms {
            self.shape == dest.shape && dest.newest >= self.newest
        } else {
            self.digest == dest.digest
        }
    }
}

impl ObjectSummary {
    /// A short human form: "1,234 objects, 5.6 GiB".
    pub fn describe(&self) -> String {
        format!(
            "{} object{}, {}",
            thousands(self.count),
            if self.count == 1 { "" } else { "s" },
            human_bytes(self.bytes)
        )
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units with one decimal: "512 B", "1.5 KiB", "5.0 GiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_forms() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        let s = ObjectSummary {
            count: 1,
            bytes: 10,
            ..Default::default()
        };
        assert_eq!(s.describe(), "1 object, 10 B");
    }

    #[test]
    fn kms_copies_are_synced_by_keys_sizes_and_time() {
        let src = ObjectSummary {
            count: 2,
            bytes: 2,
            digest: "etags-a".into(),
            shape: "keys".into(),
            newest: 100,
        };
        let copy = ObjectSummary {
            digest: "etags-b".into(),
            newest: 200,
            ..src.clone()
        };
        assert!(!src.synced_to(&copy, false));
        assert!(src.synced_to(&copy, true));
        let changed_since = ObjectSummary {
            newest: 300,
            ..src.clone()
        };
        assert!(!changed_since.synced_to(&copy, true));
        assert!(src.synced_to(&src.clone(), false));
    }

    #[test]
    fn an_old_spec_without_objects_reads() {
        let s: BucketSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(s.versioning, "disabled");
        assert_eq!(s.objects, ObjectSummary::default());
    }
}
