//! Server access logging: the target bucket (a reference, mapped to the
//! destination's bucket) and prefix. Target grants and the object key
//! format are not migrated and are noted. Set in the contents phase, as it
//! names another bucket, with PutBucketLogging (an empty status turns it
//! off).

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};
use ferry_core::spec::s3::{BucketSpec, Logging};
use ferry_core::{Kind, Ref};

/// The spec of a logging configuration; what is not migrated is added to
/// `notes`.
pub fn read(l: &LoggingEnabled, notes: &mut Vec<String>) -> Logging {
    if !l.target_grants().is_empty() {
        notes.push("server access logging has target grants, which are not migrated (grant through the target bucket's policy instead)".into());
    }
    if l.target_object_key_format().is_some() {
        notes.push("server access logging's object key format is not migrated: the destination uses the default (simple prefix)".into());
    }
    Logging {
        target: Ref::new(Kind::Bucket, l.target_bucket()),
        prefix: l.target_prefix().to_string(),
    }
}

/// Sets `w`'s logging (or turns it off) when it differs from `h`'s.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.logging == h.logging {
        return Ok(None);
    }
    let enabled = match &w.logging {
        Some(l) => Some(
            LoggingEnabled::builder()
                .target_bucket(l.target.id())
                .target_prefix(&l.prefix)
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?,
        ),
        None => None,
    };
    cx.s3(Class::S3Write)
        .await
        .put_bucket_logging()
        .bucket(id)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .set_logging_enabled(enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| cx.err("PutBucketLogging", e))?;
    Ok(Some(match &w.logging {
        Some(l) => format!(
            "access logging to bucket {} prefix {:?}",
            l.target.id(),
            l.prefix
        ),
        None => "access logging off".into(),
    }))
}
