//! Object Lock: enabled only when the bucket is created (CreateBucket's
//! flag), then its default retention set with PutObjectLockConfiguration.
//! A bucket made without it (a killed run, an older ferry) cannot get it
//! later: converge says how to repair that.

use super::Change;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use ferry_core::spec::s3::{BucketSpec, ObjectLock};

pub fn read(c: &ObjectLockConfiguration) -> Option<ObjectLock> {
    if c.object_lock_enabled() != Some(&ObjectLockEnabled::Enabled) {
        return None;
    }
    let retention = c.rule().and_then(|r| r.default_retention());
    Some(ObjectLock {
        enabled: true,
        mode: retention
            .and_then(|r| r.mode())
            .map(|m| m.as_str().to_string()),
        days: retention.and_then(|r| r.days()).filter(|d| *d > 0),
        years: retention.and_then(|r| r.years()).filter(|y| *y > 0),
    })
}

fn sdk(l: &ObjectLock) -> ObjectLockConfiguration {
    let rule = l.mode.as_ref().map(|m| {
        ObjectLockRule::builder()
            .default_retention(
                DefaultRetention::builder()
                    .mode(ObjectLockRetentionMode::from(m.as_str()))
                    .set_days(l.days)
                    .set_years(l.years)
                    .build(),
            )
            .build()
    });
    ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .set_rule(rule)
        .build()
}

fn describe(l: &ObjectLock) -> String {
    match (&l.mode, l.days, l.years) {
        (Some(m), Some(d), _) => format!("Object Lock: default retention {m} {d} days"),
        (Some(m), _, Some(y)) => format!("Object Lock: default retention {m} {y} years"),
        _ => "Object Lock: enabled, no default retention".into(),
    }
}

/// Sets `w`'s configuration when `h`'s differs.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    let Some(l) = w
        .object_lock
        .as_ref()
        .filter(|l| h.object_lock.as_ref() != Some(*l))
    else {
        return Ok(None);
    };
    let r = cx
        .s3(Class::S3Write)
        .await
        .put_object_lock_configuration()
        .bucket(id)
        .object_lock_configuration(sdk(l))
        .send()
        .await
        .map_err(|e| cx.err("PutObjectLockConfiguration", e));
    match r {
        Ok(_) if h.object_lock.is_none() => {
            Ok(Some(format!("Object Lock enabled; {}", describe(l))))
        }
        Ok(_) => Ok(Some(describe(l))),
        Err(e) if h.object_lock.is_none() => Err(cx.invalid(format!(
            "bucket {id} was made without Object Lock, which the source bucket has, and it cannot be enabled now ({e}): Object Lock can only be enabled when a bucket is created here; delete bucket {id} (it holds no objects yet) and apply again"
        ))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_lock_is_sent_with_its_one_retention_period() {
        let l = ObjectLock {
            enabled: true,
            mode: Some("COMPLIANCE".into()),
            days: None,
            years: Some(1),
        };
        let c = sdk(&l);
        assert_eq!(read(&c), Some(l.clone()));
        assert_eq!(
            describe(&l),
            "Object Lock: default retention COMPLIANCE 1 years"
        );
        let bare = ObjectLock {
            enabled: true,
            mode: None,
            days: None,
            years: None,
        };
        assert!(sdk(&bare).rule().is_none());
    }
}
