//! SNS: publishing run notifications to a topic (`[notify] sns_topic_arn`).
//! ferry migrates no SNS resources; it only tells people how a run went.

use crate::error::Result;
use crate::ratelimit::Class;
use crate::Side;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, Region};
use std::time::Duration;

/// What `ferry bootstrap` lists when `[notify]` names a topic.
pub const ACTIONS: &[&str] = &["sns:Publish"];

/// SNS refuses subjects longer than this.
pub const MAX_SUBJECT: usize = 100;

/// The parts of a topic ARN ferry needs: `arn:<partition>:sns:<region>:<account>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub region: String,
    pub account: String,
    /// FIFO topics (`name.fifo`) need a message group and a deduplication id.
    pub fifo: bool,
}

impl Topic {
    /// `None` for anything but a topic ARN (the configuration checks it first).
    pub fn parse(arn: &str) -> Option<Topic> {
        let parts: Vec<&str> = arn.split(':').collect();
        let ["arn", _, "sns", region, account, name] = parts.as_slice() else {
            return None;
        };
        Some(Topic {
            arn: arn.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            fifo: name.ends_with(".fifo"),
        })
    }
}

/// A subject SNS accepts: printable ASCII on one line, at most
/// [`MAX_SUBJECT`] characters (cut with "..." when longer).
pub fn subject(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.len() <= MAX_SUBJECT {
        return clean;
    }
    format!("{}...", &clean[..MAX_SUBJECT - 3])
}

/// Publishes one message with `side`'s credentials to `topic` (in the
/// topic's own region, which may differ from the side's), and returns the
/// message id. Retries are few and timeouts short: a notification must not
/// hold up the command it reports on.
pub async fn publish(
    side: &Side,
    topic: &Topic,
    subject_text: &str,
    message: &str,
) -> Result<String> {
    let mut conf = aws_sdk_sns::config::Builder::from(&side.sdk)
        .region(Region::new(topic.region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        );
    if let Some(url) = &side.sns_endpoint {
        conf = conf.endpoint_url(url);
    }
    let client = aws_sdk_sns::Client::from_conf(conf.build());
    side.pace(Class::SnsPublish).await;
    let mut req = client
        .publish()
        .topic_arn(&topic.arn)
        .subject(subject(subject_text))
        .message(message);
    if topic.fifo {
        // One group keeps a run's messages in order; the id is the content,
        // so a retried publish is not delivered twice.
        req = req
            .message_group_id("ferry")
            .message_deduplication_id(dedup_id(message));
    }
    let out = req.send().await.map_err(|e| side.err("Publish", e))?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

/// A FIFO deduplication id (at most 128 characters) derived from the message.
fn dedup_id(message: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(message.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse() {
        let t = Topic::parse("arn:aws:sns:eu-west-1:222222222222:runs").unwrap();
        assert_eq!(
            (t.region.as_str(), t.account.as_str()),
            ("eu-west-1", "222222222222")
        );
        assert!(!t.fifo);
        assert!(
            Topic::parse("arn:aws:sns:eu-west-1:222222222222:runs.fifo")
                .unwrap()
                .fifo
        );
        assert_eq!(Topic::parse("arn:aws:sqs:eu-west-1:222222222222:q"), None);
    }

    #[test]
    fn subjects_fit_sns() {
        assert_eq!(subject("ferry run 1 started"), "ferry run 1 started");
        assert_eq!(subject("a\nb\u{e9}"), "a?b?");
        let long = subject(&"x".repeat(150));
        assert_eq!(long.len(), MAX_SUBJECT);
        assert!(long.ends_with("..."));
        assert_eq!(dedup_id("m").len(), 64);
    }
}
