//! Reading a bucket's configuration: one Get call per setting, all at
//! once, into what the SDK reports ([`Raw`]); each setting's file turns its
//! part into the spec.

use crate::ratelimit::Class;
use crate::{AwsError, Result, Side};
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CorsRule, LifecycleRule, LoggingEnabled, MfaDeleteStatus,
    ObjectLockConfiguration, ObjectOwnership, PublicAccessBlockConfiguration,
    ServerSideEncryptionRule,
};
use serde_json::Value;

/// A bucket's configuration as the SDK reports it.
#[derive(Debug, Default, Clone)]
pub struct Raw {
    pub versioning: Option<BucketVersioningStatus>,
    pub mfa_delete: bool,
    pub encryption: Option<ServerSideEncryptionRule>,
    pub public_access_block: Option<PublicAccessBlockConfiguration>,
    pub ownership: Option<ObjectOwnership>,
    pub policy: Option<Value>,
    pub cors: Vec<CorsRule>,
    pub lifecycle: Vec<LifecycleRule>,
    pub website: Option<GetBucketWebsiteOutput>,
    pub object_lock: Option<ObjectLockConfiguration>,
    pub notifications: Option<GetBucketNotificationConfigurationOutput>,
    pub logging: Option<LoggingEnabled>,
}

/// Which parts of a bucket's configuration a read needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// All of it: discovery and the configuration phase.
    All,
    /// What the contents phase compares (policy, logging, notifications)
    /// and the default encryption (whether ETags are MD5s of the data). The
    /// other parts read as absent.
    Contents,
}

/// Reads the parts of a bucket's configuration asked for, all at once.
pub async fn fetch(cx: &Side, name: &str, parts: Parts) -> Result<Raw> {
    let all = parts == Parts::All;
    macro_rules! get {
        ($op:ident, $name:literal) => {
            async {
                cx.s3(Class::S3Read)
                    .await
                    .$op()
                    .bucket(name)
                    .send()
                    .await
                    .map_err(|e| cx.err($name, e))
            }
        };
    }
    // A part that may be unset (its Get answers "not found"), read only
    // when all parts are.
    macro_rules! optional {
        ($op:ident, $name:literal) => {
            async {
                match all {
                    true => configured(get!($op, $name).await),
                    false => Ok(None),
                }
            }
        };
    }
    let (
        versioning,
        encryption,
        pab,
        ownership,
        policy,
        cors,
        lifecycle,
        website,
        lock,
        notif,
        logging,
    ) = tokio::try_join!(
        async {
            match all {
                true => get!(get_bucket_versioning, "GetBucketVersioning")
                    .await
                    .map(Some),
                false => Ok(None),
            }
        },
        async { configured(get!(get_bucket_encryption, "GetBucketEncryption").await) },
        optional!(get_public_access_block, "GetPublicAccessBlock"),
        optional!(get_bucket_ownership_controls, "GetBucketOwnershipControls"),
        crate::s3::policy::get(cx, name),
        optional!(get_bucket_cors, "GetBucketCors"),
        optional!(
            get_bucket_lifecycle_configuration,
            "GetBucketLifecycleConfiguration"
        ),
        optional!(get_bucket_website, "GetBucketWebsite"),
        optional!(get_object_lock_configuration, "GetObjectLockConfiguration"),
        get!(
            get_bucket_notification_configuration,
            "GetBucketNotificationConfiguration"
        ),
        get!(get_bucket_logging, "GetBucketLogging"),
    )?;
    Ok(Raw {
        versioning: versioning.as_ref().and_then(|v| v.status().cloned()),
        mfa_delete: versioning
            .as_ref()
            .is_some_and(|v| v.mfa_delete() == Some(&MfaDeleteStatus::Enabled)),
        encryption: encryption.and_then(|e| {
            e.server_side_encryption_configuration()
                .and_then(|c| c.rules().first().cloned())
        }),
        public_access_block: pab.and_then(|p| p.public_access_block_configuration().cloned()),
        ownership: ownership.and_then(|o| {
            o.ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().clone())
        }),
        policy: policy.and_then(super::policy::without_temporaries),
        cors: cors.map(|c| c.cors_rules().to_vec()).unwrap_or_default(),
        lifecycle: lifecycle.map(|l| l.rules().to_vec()).unwrap_or_default(),
        website,
        object_lock: lock.and_then(|l| l.object_lock_configuration().cloned()),
        notifications: Some(notif),
        logging: logging.logging_enabled().cloned(),
    })
}

/// "Not configured" (NoSuchCORSConfiguration, ...NotFoundError) is absent;
/// a bucket that is gone stays an error.
pub fn configured<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() && !bucket_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn bucket_gone(e: &AwsError) -> bool {
    e.code() == Some("NoSuchBucket")
}
