//! The bucket's public access block: four flags, read as they are, set
//! whole (PutPublicAccessBlock) or removed (DeletePublicAccessBlock).

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use ferry_core::spec::s3::{BucketSpec, PublicAccessBlock};

pub fn read(p: &PublicAccessBlockConfiguration) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: p.block_public_acls().unwrap_or(false),
        ignore_public_acls: p.ignore_public_acls().unwrap_or(false),
        block_public_policy: p.block_public_policy().unwrap_or(false),
        restrict_public_buckets: p.restrict_public_buckets().unwrap_or(false),
    }
}

/// Sets `w`'s block when `h`'s differs, or removes `h`'s when
/// `w` has none.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    match (&w.public_access_block, &h.public_access_block) {
        (Some(p), have) if have.as_ref() != Some(p) => {
            cx.s3(Class::S3Write)
                .await
                .put_public_access_block()
                .bucket(id)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(p.block_public_acls)
                        .ignore_public_acls(p.ignore_public_acls)
                        .block_public_policy(p.block_public_policy)
                        .restrict_public_buckets(p.restrict_public_buckets)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| cx.err("PutPublicAccessBlock", e))?;
            Ok(Some(format!(
                "public access block: block public ACLs {}, ignore public ACLs {}, block public policy {}, restrict public buckets {}",
                p.block_public_acls, p.ignore_public_acls, p.block_public_policy, p.restrict_public_buckets
            )))
        }
        (None, Some(_)) => {
            cx.s3(Class::S3Write)
                .await
                .delete_public_access_block()
                .bucket(id)
                .send()
                .await
                .map_err(|e| cx.err("DeletePublicAccessBlock", e))?;
            Ok(Some("public access block removed".into()))
        }
        _ => Ok(None),
    }
}
