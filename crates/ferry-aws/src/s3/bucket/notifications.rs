//! Event notifications: read into a [`Notifications`] mirror (none when
//! nothing is configured), compared whole and written
//! (PutBucketNotificationConfiguration; an empty configuration removes
//! them). Set in the contents phase: they name topics, queues and
//! functions.

use super::doc::{built, sdk_one, Built};
use super::Change;
use crate::adapter::text;
use crate::ratelimit::Class;
use crate::{Result, Side};
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::types as t;
use ferry_core::spec::s3::BucketSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Notifications {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topic_configurations: Vec<TopicConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue_configurations: Vec<QueueConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lambda_function_configurations: Vec<LambdaFunctionConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_bridge_configuration: Option<EventBridge>,
}

/// Sent as `{}`: its presence turns EventBridge delivery on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventBridge {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub topic_arn: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<KeyFilter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueueConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub queue_arn: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<KeyFilter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaFunctionConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub lambda_function_arn: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<KeyFilter>,
}

/// `{"Key": {"FilterRules": [...]}}`, as AWS nests it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyFilter {
    pub key: FilterRules,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterRules {
    pub filter_rules: Vec<FilterRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterRule {
    pub name: String,
    pub value: String,
}

fn events(e: &[t::Event]) -> Vec<String> {
    let mut v: Vec<String> = e.iter().map(|x| x.as_str().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

/// AWS reports rule names capitalised ("Prefix") and takes them in
/// lower case ("prefix"): lower case is the canonical form.
fn key_filter(f: Option<&t::NotificationConfigurationFilter>) -> Option<KeyFilter> {
    let mut rules: Vec<FilterRule> = f?
        .key()?
        .filter_rules()
        .iter()
        .map(|r| FilterRule {
            name: r
                .name()
                .map(|n| n.as_str().to_lowercase())
                .unwrap_or_default(),
            value: r.value().unwrap_or_default().to_string(),
        })
        .collect();
    rules.sort();
    (!rules.is_empty()).then_some(KeyFilter {
        key: FilterRules {
            filter_rules: rules,
        },
    })
}

fn sdk_filter(f: &Option<KeyFilter>) -> Option<t::NotificationConfigurationFilter> {
    f.as_ref().map(|f| {
        t::NotificationConfigurationFilter::builder()
            .key(
                t::S3KeyFilter::builder()
                    .set_filter_rules(Some(
                        f.key
                            .filter_rules
                            .iter()
                            .map(|r| {
                                t::FilterRule::builder()
                                    .name(t::FilterRuleName::from(r.name.as_str()))
                                    .value(&r.value)
                                    .build()
                            })
                            .collect(),
                    ))
                    .build(),
            )
            .build()
    })
}

fn sdk_events(e: &[String]) -> Vec<t::Event> {
    e.iter().map(|x| t::Event::from(x.as_str())).collect()
}

/// `None` when nothing is configured. Configurations are sorted by
/// their ID (AWS gives every one an ID).
pub fn read(n: &GetBucketNotificationConfigurationOutput) -> Option<Notifications> {
    let mut out = Notifications {
        topic_configurations: n
            .topic_configurations()
            .iter()
            .map(|c| TopicConfiguration {
                id: text(c.id()),
                topic_arn: c.topic_arn().to_string(),
                events: events(c.events()),
                filter: key_filter(c.filter()),
            })
            .collect(),
        queue_configurations: n
            .queue_configurations()
            .iter()
            .map(|c| QueueConfiguration {
                id: text(c.id()),
                queue_arn: c.queue_arn().to_string(),
                events: events(c.events()),
                filter: key_filter(c.filter()),
            })
            .collect(),
        lambda_function_configurations: n
            .lambda_function_configurations()
            .iter()
            .map(|c| LambdaFunctionConfiguration {
                id: text(c.id()),
                lambda_function_arn: c.lambda_function_arn().to_string(),
                events: events(c.events()),
                filter: key_filter(c.filter()),
            })
            .collect(),
        event_bridge_configuration: n.event_bridge_configuration().map(|_| EventBridge {}),
    };
    out.topic_configurations.sort_by(|a, b| a.id.cmp(&b.id));
    out.queue_configurations.sort_by(|a, b| a.id.cmp(&b.id));
    out.lambda_function_configurations
        .sort_by(|a, b| a.id.cmp(&b.id));
    (out != Notifications::default()).then_some(out)
}

pub fn sdk(n: &Notifications) -> Built<t::NotificationConfiguration> {
    let topics = n
        .topic_configurations
        .iter()
        .map(|c| {
            built(
                t::TopicConfiguration::builder()
                    .set_id(c.id.clone())
                    .topic_arn(&c.topic_arn)
                    .set_events(Some(sdk_events(&c.events)))
                    .set_filter(sdk_filter(&c.filter))
                    .build(),
            )
        })
        .collect::<Built<Vec<_>>>()?;
    let queues = n
        .queue_configurations
        .iter()
        .map(|c| {
            built(
                t::QueueConfiguration::builder()
                    .set_id(c.id.clone())
                    .queue_arn(&c.queue_arn)
                    .set_events(Some(sdk_events(&c.events)))
                    .set_filter(sdk_filter(&c.filter))
                    .build(),
            )
        })
        .collect::<Built<Vec<_>>>()?;
    let functions = n
        .lambda_function_configurations
        .iter()
        .map(|c| {
            built(
                t::LambdaFunctionConfiguration::builder()
                    .set_id(c.id.clone())
                    .lambda_function_arn(&c.lambda_function_arn)
                    .set_events(Some(sdk_events(&c.events)))
                    .set_filter(sdk_filter(&c.filter))
                    .build(),
            )
        })
        .collect::<Built<Vec<_>>>()?;
    Ok(t::NotificationConfiguration::builder()
        .set_topic_configurations(Some(topics))
        .set_queue_configurations(Some(queues))
        .set_lambda_function_configurations(Some(functions))
        .set_event_bridge_configuration(
            n.event_bridge_configuration
                .as_ref()
                .map(|_| t::EventBridgeConfiguration::builder().build()),
        )
        .build())
}

/// Sets `w`'s configuration (an empty one when it has none) when it
/// differs from `h`'s.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.notifications == h.notifications {
        return Ok(None);
    }
    let config = match &w.notifications {
        Some(v) => sdk_one::<Notifications, _>(cx, "notifications", v, sdk)?,
        None => t::NotificationConfiguration::builder().build(),
    };
    cx.s3(Class::S3Write)
        .await
        .put_bucket_notification_configuration()
        .bucket(id)
        .notification_configuration(config)
        .send()
        .await
        .map_err(|e| cx.err("PutBucketNotificationConfiguration", e))?;
    Ok(Some(
        if w.notifications.is_some() {
            "event notifications set"
        } else {
            "event notifications removed"
        }
        .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::notifications;
    use super::*;

    /// What is read is what is sent: SDK -> document -> SDK -> document is
    /// the identity, so converge's writes read back equal.
    #[test]
    fn configurations_round_trip_through_the_sdk_types() {
        let n = read(&notifications()).unwrap();
        let sent = sdk(&n).unwrap();
        assert_eq!(
            sent.topic_configurations()[1]
                .filter()
                .unwrap()
                .key()
                .unwrap()
                .filter_rules()[0]
                .name(),
            Some(&t::FilterRuleName::Prefix)
        );
        let back = GetBucketNotificationConfigurationOutput::builder()
            .set_topic_configurations(Some(sent.topic_configurations().to_vec()))
            .set_queue_configurations(Some(sent.queue_configurations().to_vec()))
            .set_event_bridge_configuration(sent.event_bridge_configuration().cloned())
            .build();
        assert_eq!(read(&back), Some(n));
    }
}
