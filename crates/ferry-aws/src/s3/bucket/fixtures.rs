//! Sample AWS answers for the bucket's unit tests: one of each document a
//! fully configured bucket reports, as the SDK types hold them.

use super::raw::Raw;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput;
use aws_sdk_s3::types as t;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, LoggingEnabled, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, ObjectOwnership,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
};
use ferry_core::SideInfo;
use serde_json::json;

pub fn info() -> SideInfo {
    SideInfo {
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        partition: "aws".into(),
    }
}

fn tag(k: &str, v: &str) -> t::Tag {
    t::Tag::builder().key(k).value(v).build().unwrap()
}

pub fn cors_rule() -> t::CorsRule {
    t::CorsRule::builder()
        .id("web")
        .allowed_methods("PUT")
        .allowed_methods("GET")
        .allowed_origins("https://example.com")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(300)
        .build()
        .unwrap()
}

#[allow(deprecated)]
pub fn lifecycle_rules() -> Vec<t::LifecycleRule> {
    vec![
        t::LifecycleRule::builder()
            .id("zz-logs")
            .status(t::ExpirationStatus::Enabled)
            .filter(
                t::LifecycleRuleFilter::builder()
                    .and(
                        t::LifecycleRuleAndOperator::builder()
                            .prefix("logs/")
                            .tags(tag("tier", "b"))
                            .tags(tag("keep", "no"))
                            .object_size_greater_than(1024)
                            .build(),
                    )
                    .build(),
            )
            .expiration(t::LifecycleExpiration::builder().days(30).build())
            .transitions(
                t::Transition::builder()
                    .days(7)
                    .storage_class(t::TransitionStorageClass::StandardIa)
                    .build(),
            )
            .noncurrent_version_transitions(
                t::NoncurrentVersionTransition::builder()
                    .noncurrent_days(10)
                    .storage_class(t::TransitionStorageClass::Glacier)
                    .newer_noncurrent_versions(2)
                    .build(),
            )
            .noncurrent_version_expiration(
                t::NoncurrentVersionExpiration::builder()
                    .noncurrent_days(40)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                t::AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(3)
                    .build(),
            )
            .build()
            .unwrap(),
        // Legacy form: a top-level prefix instead of a filter.
        t::LifecycleRule::builder()
            .id("aa-old")
            .status(t::ExpirationStatus::Disabled)
            .prefix("tmp/")
            .expiration(
                t::LifecycleExpiration::builder()
                    .date(aws_smithy_types::DateTime::from_secs(1_767_225_600))
                    .expired_object_delete_marker(false)
                    .build(),
            )
            .build()
            .unwrap(),
        // Every object, as `Filter: {Prefix: ""}`.
        t::LifecycleRule::builder()
            .id("mm-all")
            .status(t::ExpirationStatus::Enabled)
            .filter(t::LifecycleRuleFilter::builder().prefix("").build())
            .expiration(
                t::LifecycleExpiration::builder()
                    .expired_object_delete_marker(true)
                    .build(),
            )
            .build()
            .unwrap(),
    ]
}

pub fn website() -> GetBucketWebsiteOutput {
    GetBucketWebsiteOutput::builder()
        .index_document(
            t::IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .error_document(t::ErrorDocument::builder().key("404.html").build().unwrap())
        .routing_rules(
            t::RoutingRule::builder()
                .condition(t::Condition::builder().key_prefix_equals("docs/").build())
                .redirect(
                    t::Redirect::builder()
                        .replace_key_prefix_with("documents/")
                        .http_redirect_code("301")
                        .protocol(t::Protocol::Https)
                        .build(),
                )
                .build(),
        )
        .build()
}

pub fn notifications() -> GetBucketNotificationConfigurationOutput {
    let filter = t::NotificationConfigurationFilter::builder()
        .key(
            t::S3KeyFilter::builder()
                // AWS reports rule names capitalised.
                .filter_rules(
                    t::FilterRule::builder()
                        .name(t::FilterRuleName::from("Suffix"))
                        .value(".jpg")
                        .build(),
                )
                .filter_rules(
                    t::FilterRule::builder()
                        .name(t::FilterRuleName::from("Prefix"))
                        .value("img/")
                        .build(),
                )
                .build(),
        )
        .build();
    GetBucketNotificationConfigurationOutput::builder()
        .topic_configurations(
            t::TopicConfiguration::builder()
                .id("t2")
                .topic_arn("arn:aws:sns:eu-west-1:111111111111:uploads")
                .events(t::Event::S3ObjectRemoved)
                .events(t::Event::S3ObjectCreated)
                .filter(filter)
                .build()
                .unwrap(),
        )
        .topic_configurations(
            t::TopicConfiguration::builder()
                .id("t1")
                .topic_arn("arn:aws:sns:eu-west-1:111111111111:other")
                .events(t::Event::S3ObjectCreatedPut)
                .build()
                .unwrap(),
        )
        .queue_configurations(
            t::QueueConfiguration::builder()
                .id("q")
                .queue_arn("arn:aws:sqs:eu-west-1:111111111111:jobs")
                .events(t::Event::S3ObjectCreated)
                .build()
                .unwrap(),
        )
        .event_bridge_configuration(t::EventBridgeConfiguration::builder().build())
        .build()
}

pub fn full_raw() -> Raw {
    Raw {
        versioning: Some(BucketVersioningStatus::Enabled),
        mfa_delete: false,
        encryption: Some(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::AwsKms)
                        .kms_master_key_id("alias/app")
                        .build()
                        .unwrap(),
                )
                .bucket_key_enabled(true)
                .build(),
        ),
        public_access_block: Some(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        ),
        ownership: Some(ObjectOwnership::BucketOwnerPreferred),
        policy: Some(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]}),
        ),
        cors: vec![cors_rule()],
        lifecycle: lifecycle_rules(),
        website: Some(website()),
        object_lock: Some(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(5)
                                .years(0)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        ),
        notifications: Some(notifications()),
        logging: Some(
            LoggingEnabled::builder()
                .target_bucket("photos-logs")
                .target_prefix("access/")
                .build()
                .unwrap(),
        ),
    }
}
