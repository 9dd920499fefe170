//! Versioning: read as "enabled", "suspended" or "disabled", and set with
//! PutBucketVersioning. A bucket never returns to "disabled" (the nearest
//! is suspended), and MFA delete is noted, never set: only the root user
//! with its MFA device can enable it.

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use ferry_core::spec::s3::BucketSpec;

/// What the operator is told when the source bucket has MFA delete.
pub const MFA_DELETE_NOTE: &str = "MFA delete is enabled: only the root user with its MFA device can enable it, so the destination bucket does not get it";

pub fn read(s: Option<&BucketVersioningStatus>) -> String {
    match s {
        Some(BucketVersioningStatus::Enabled) => "enabled".into(),
        Some(BucketVersioningStatus::Suspended) => "suspended".into(),
        _ => "disabled".into(),
    }
}

/// What versioning status to set to go from `have` to `want`, if any. A
/// bucket never returns to "disabled": the nearest is suspended.
fn change(want: &str, have: &str) -> Option<BucketVersioningStatus> {
    match (want, have) {
        (w, h) if w == h => None,
        ("enabled", _) => Some(BucketVersioningStatus::Enabled),
        ("suspended", _) | ("disabled", "enabled") => Some(BucketVersioningStatus::Suspended),
        _ => None,
    }
}

/// Sets the status that brings `h` nearest to `w`, if any.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    let Some(status) = change(&w.versioning, &h.versioning) else {
        return Ok(None);
    };
    cx.s3(Class::S3Write)
        .await
        .put_bucket_versioning()
        .bucket(id)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(status.clone())
                .build(),
        )
        .send()
        .await
        .map_err(|e| cx.err("PutBucketVersioning", e))?;
    Ok(Some(format!(
        "versioning: {}",
        status.as_str().to_lowercase()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_never_goes_back_to_disabled() {
        use BucketVersioningStatus as V;
        assert_eq!(change("enabled", "disabled"), Some(V::Enabled));
        assert_eq!(change("enabled", "suspended"), Some(V::Enabled));
        assert_eq!(change("suspended", "enabled"), Some(V::Suspended));
        assert_eq!(change("suspended", "disabled"), Some(V::Suspended));
        assert_eq!(change("disabled", "enabled"), Some(V::Suspended));
        assert_eq!(change("disabled", "suspended"), None);
        assert_eq!(change("enabled", "enabled"), None);
    }
}
