//! Object ownership controls (whether ACLs are enabled): given at creation,
//! then set (PutBucketOwnershipControls) or removed
//! (DeleteBucketOwnershipControls) when they differ.

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types::{ObjectOwnership, OwnershipControls, OwnershipControlsRule};
use ferry_core::spec::s3::BucketSpec;

pub fn read(o: &ObjectOwnership) -> String {
    o.as_str().to_string()
}

/// Sets `w`'s ownership when `h`'s differs, or removes `h`'s
/// controls when `w` has none.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    match (&w.ownership, &h.ownership) {
        (Some(o), have) if have.as_ref() != Some(o) => {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::from(o.as_str()))
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            let controls = OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(|e| cx.invalid(e.to_string()))?;
            cx.s3(Class::S3Write)
                .await
                .put_bucket_ownership_controls()
                .bucket(id)
                .ownership_controls(controls)
                .send()
                .await
                .map_err(|e| cx.err("PutBucketOwnershipControls", e))?;
            Ok(Some(format!("object ownership: {o}")))
        }
        (None, Some(_)) => {
            cx.s3(Class::S3Write)
                .await
                .delete_bucket_ownership_controls()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeleteBucketOwnershipControls", e))?;
            Ok(Some("object ownership controls removed".into()))
        }
        _ => Ok(None),
    }
}
