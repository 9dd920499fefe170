//! Bucket ACLs, which are not migrated (the bucket policy is the way to
//! grant): read only to note grants beyond the owner's.

use crate::ratelimit::Class;
use crate::{Result, Side};

/// ACLs are not migrated: a note when the bucket's ACL grants anything
/// beyond its owner's full control (only possible when ACLs are enabled).
pub async fn note(cx: &Side, name: &str) -> Result<Option<String>> {
    let acl = cx
        .s3(Class::S3Read)
        .await
        .get_bucket_acl()
        .bucket(name)
        .send()
        .await
        .map_err(|e| cx.err("GetBucketAcl", e))?;
    let owner = acl.owner().and_then(|o| o.id());
    let others = acl
        .grants()
        .iter()
        .filter(|g| {
            let grantee = g.grantee();
            grantee.and_then(|x| x.id()) != owner || grantee.and_then(|x| x.id()).is_none()
        })
        .count();
    Ok((others > 0).then(|| {
        format!("its ACL grants access to {others} other grantee(s): bucket ACLs are not migrated (use the bucket policy)")
    }))
}
