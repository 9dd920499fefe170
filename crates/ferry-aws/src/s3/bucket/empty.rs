//! Emptying a bucket before it is deleted (rollback deletes only what
//! ferry made): every object version, delete marker and unfinished
//! multipart upload.

use crate::adapter::gone_ok;
use crate::ratelimit::Class;
use crate::{AwsError, Result, Side};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

/// Objects per ListObjectVersions page and DeleteObjects call (AWS's limit).
const DELETE_BATCH: i32 = 1000;

/// Deletes every object version, delete marker and unfinished multipart
/// upload, so the bucket can be deleted. Objects under a governance-mode
/// retention are deleted too (the bucket is ferry's); compliance-mode ones
/// cannot be, and their errors are reported.
pub async fn empty(cx: &Side, name: &str) -> Result<()> {
    let locked = super::raw::configured(
        cx.s3(Class::S3Read)
            .await
            .get_object_lock_configuration()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("GetObjectLockConfiguration", e)),
    )?
    .and_then(|o| {
        o.object_lock_configuration()
            .and_then(super::object_lock::read)
    })
    .is_some();
    loop {
        // Always the first page: what was listed is deleted before the next.
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_object_versions()
            .bucket(name)
            .max_keys(DELETE_BATCH)
            .send()
            .await
            .map_err(|e| cx.err("ListObjectVersions", e))?;
        let ids = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|d| (d.key(), d.version_id())),
            )
            .filter_map(|(k, v)| {
                Some(
                    ObjectIdentifier::builder()
                        .key(k?)
                        .set_version_id(v.map(String::from))
                        .build(),
                )
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| cx.invalid(e.to_string()))?;
        if ids.is_empty() {
            break;
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| cx.invalid(e.to_string()))?;
        let out = cx
            .s3(Class::S3Write)
            .await
            .delete_objects()
            .bucket(name)
            .delete(delete)
            .set_bypass_governance_retention(locked.then_some(true))
            .send()
            .await
            .map_err(|e| cx.err("DeleteObjects", e))?;
        if let Some(first) = out.errors().first() {
            return Err(AwsError::Api {
                side: cx.name,
                op: "DeleteObjects",
                code: first.code().map(String::from),
                message: format!(
                    "{} object(s) of bucket {name} could not be deleted; first: {}: {}",
                    out.errors().len(),
                    first.key().unwrap_or_default(),
                    first.message().unwrap_or_default()
                ),
            });
        }
    }
    loop {
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_multipart_uploads()
            .bucket(name)
            .send()
            .await
            .map_err(|e| cx.err("ListMultipartUploads", e))?;
        if page.uploads().is_empty() {
            return Ok(());
        }
        for u in page.uploads() {
            let r = cx
                .s3(Class::S3Write)
                .await
                .abort_multipart_upload()
                .bucket(name)
                .set_key(u.key().map(String::from))
                .set_upload_id(u.upload_id().map(String::from))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("AbortMultipartUpload", e));
            gone_ok(r)?;
        }
    }
}
