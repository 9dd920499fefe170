//! `[notify]`: where a message goes when a run starts, ends or fails, and
//! how a webhook URL (which carries its token) may be shown.

use serde::Deserialize;
use toml::Spanned;

use super::values::{
    check_account_id, check_arn_head, check_region, check_url, region_partition, url_authority,
};
use super::Checker;

/// Where a message goes when a run starts, ends or fails (`[notify]`). Both
/// targets may be set; neither means no messages.
#[derive(Clone, PartialEq, Default)]
pub struct NotifyConfig {
    /// `arn:<partition>:sns:<region>:<account>:<topic>`, published to with
    /// the credentials of the side whose account it names (the destination
    /// when it names neither).
    pub sns_topic_arn: Option<String>,
    /// Receives each message as a JSON POST. Its path or query may carry a
    /// token, so it is never printed: see [`redact_url`].
    pub webhook_url: Option<String>,
}

impl NotifyConfig {
    pub fn is_empty(&self) -> bool {
        self.sns_topic_arn.is_none() && self.webhook_url.is_none()
    }
}

/// Debug shows the webhook only as [`redact_url`] does, so a config dumped
/// in a panic or a log does not leak its token.
impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("sns_topic_arn", &self.sns_topic_arn)
            .field("webhook_url", &self.webhook_url.as_deref().map(redact_url))
            .finish()
    }
}

/// A URL as it may be shown: scheme, host and port, with any path, query or
/// user info replaced by `/…` (webhook URLs carry their token there:
/// `https://hooks.example.com/services/T0/B0/secret`).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return "(a URL)".to_string(),
    };
    let authority = url_authority(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let more = rest.len() > authority.len() && rest[authority.len()..] != *"/";
    format!("{scheme}://{host}{}", if more { "/…" } else { "" })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawNotify {
    sns_topic_arn: Option<Spanned<String>>,
    webhook_url: Option<Spanned<String>>,
}

impl Checker<'_> {
    pub(super) fn notify(&mut self, raw: Option<Spanned<RawNotify>>) -> NotifyConfig {
        let mut notify = NotifyConfig::default();
        let Some(raw) = raw else {
            return notify;
        };
        let table = raw.span();
        let raw = raw.into_inner();
        if raw.sns_topic_arn.is_none() && raw.webhook_url.is_none() {
            self.error_at(
                table.start,
                "[notify] names no target: set sns_topic_arn, webhook_url or both".to_string(),
                Some(
                    "e.g. sns_topic_arn = \"arn:aws:sns:eu-west-1:222222222222:ferry-runs\"; \
                     or remove [notify] for no messages"
                        .to_string(),
                ),
            );
        }
        if let Some(arn) = raw.sns_topic_arn {
            match check_topic_arn(arn.get_ref()) {
                Ok(()) => notify.sns_topic_arn = Some(arn.get_ref().clone()),
                Err((problem, hint)) => self.error_at(
                    arn.span().start,
                    format!(
                        "invalid notify.sns_topic_arn {:?}: {problem}",
                        arn.get_ref()
                    ),
                    hint,
                ),
            }
        }
        if let Some(url) = raw.webhook_url {
            // Never repeated: a webhook's path or query is often its secret.
            match check_url(url.get_ref()) {
                Ok(()) => notify.webhook_url = Some(url.get_ref().clone()),
                Err(problem) => self.error_at(
                    url.span().start,
                    format!("invalid notify.webhook_url: {problem}"),
                    Some("expected an http:// or https:// URL that receives a JSON POST".into()),
                ),
            }
        }
        notify
    }
}

/// `arn:<partition>:sns:<region>:<12-digit account>:<topic>`; a topic name
/// is 1 to 256 letters, digits, `-` and `_`, with `.fifo` for FIFO topics.
fn check_topic_arn(arn: &str) -> Result<(), (String, Option<String>)> {
    let shape =
        || Some("expected arn:aws:sns:<region>:<12-digit account id>:<topic name>".to_string());
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 7 && parts.get(2) == Some(&"sns") {
        return Err((
            "that is a subscription ARN, not a topic ARN".to_string(),
            Some("drop the last part (after the topic name)".to_string()),
        ));
    }
    let [prefix, partition, service, region, account, topic] = parts.as_slice() else {
        return Err(("not an SNS topic ARN".to_string(), shape()));
    };
    check_arn_head(prefix, partition, shape)?;
    if *service != "sns" {
        return Err((format!("service must be sns (got {service:?})"), shape()));
    }
    if let Err(hint) = check_region(region) {
        let message = if region.is_empty() {
            "the region is missing".to_string()
        } else {
            format!("invalid region {region:?}")
        };
        return Err((message, hint.or_else(shape)));
    }
    if region_partition(region) != *partition {
        return Err((
            format!("region {region} is not in partition {partition}"),
            Some(format!(
                "{region} belongs to partition {}",
                region_partition(region)
            )),
        ));
    }
    check_account_id(account, shape)?;
    let name = topic.strip_suffix(".fifo").unwrap_or(topic);
    if name.is_empty() || topic.len() > 256 {
        return Err((
            "the topic name must be 1 to 256 characters".to_string(),
            shape(),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err((
            format!("character {bad:?} is not allowed in a topic name"),
            Some("topic names use letters, digits, - and _ (and .fifo at the end)".to_string()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    #[test]
    fn notify_targets_parse() {
        assert!(parse(MINIMAL).unwrap().notify.is_empty());
        let c = parse(&with(
            "[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:222222222222:ferry-runs\"\n",
        ))
        .unwrap();
        assert_eq!(
            c.notify.sns_topic_arn.as_deref(),
            Some("arn:aws:sns:eu-west-1:222222222222:ferry-runs")
        );
        assert_eq!(c.notify.webhook_url, None);
        let c = parse(&with(
            "[notify]\nwebhook_url = \"http://127.0.0.1:8080/hook?token=abc\"\n\
             sns_topic_arn = \"arn:aws-us-gov:sns:us-gov-west-1:222222222222:ops_1.fifo\"\n",
        ))
        .unwrap();
        assert_eq!(
            c.notify.webhook_url.as_deref(),
            Some("http://127.0.0.1:8080/hook?token=abc")
        );
        assert!(c.notify.sns_topic_arn.unwrap().ends_with("ops_1.fifo"));
    }

    #[test]
    fn notify_targets_do_not_change_the_digest() {
        let plain = parse(MINIMAL).unwrap();
        let notified = parse(&with(
            "[notify]\nwebhook_url = \"https://hooks.example.com/x\"\n",
        ))
        .unwrap();
        assert_eq!(plain.digest(), notified.digest());
    }

    #[test]
    fn notify_errors_are_located() {
        assert_err(&with("[notify]\n"), 5, 1, "[notify] names no target");
        assert_err(
            &with("[notify]\nsns_topic = \"x\"\n"),
            6,
            1,
            "unknown key `sns_topic`",
        );
        assert_err(
            &with("[notify]\nwebhook_url = 3\n"),
            6,
            15,
            "expected a string",
        );
        for (arn, needle) in [
            ("sns:topic", "not an SNS topic ARN"),
            ("urn:aws:sns:eu-west-1:222222222222:t", "starts with `arn:`"),
            (
                "arn:aws-xx:sns:eu-west-1:222222222222:t",
                "unknown partition",
            ),
            (
                "arn:aws:sqs:eu-west-1:222222222222:t",
                "service must be sns",
            ),
            ("arn:aws:sns::222222222222:t", "region is missing"),
            (
                "arn:aws:sns:eu-west:222222222222:t",
                "invalid region \"eu-west\"",
            ),
            (
                "arn:aws-cn:sns:eu-west-1:222222222222:t",
                "not in partition aws-cn",
            ),
            ("arn:aws:sns:eu-west-1:2222:t", "12 digits"),
            ("arn:aws:sns:eu-west-1:222222222222:", "1 to 256"),
            ("arn:aws:sns:eu-west-1:222222222222:a.b", "character '.'"),
            (
                "arn:aws:sns:eu-west-1:222222222222:t:0f6a3c1e-5c7b-4b8e-9a1f-2d6c3b4a5e6f",
                "subscription ARN",
            ),
        ] {
            let e = assert_err(
                &with(&format!("[notify]\nsns_topic_arn = \"{arn}\"\n")),
                6,
                17,
                needle,
            );
            assert!(e.message.contains("notify.sns_topic_arn"), "{e}");
        }
        let long = format!("arn:aws:sns:eu-west-1:222222222222:{}", "t".repeat(257));
        assert_err(
            &with(&format!("[notify]\nsns_topic_arn = \"{long}\"\n")),
            6,
            17,
            "1 to 256",
        );
        let e = assert_err(
            &with("[notify]\nsns_topic_arn = \"arn:aws:sns:EU-west-1:222222222222:t\"\n"),
            6,
            17,
            "invalid region",
        );
        assert!(e.hint.unwrap().contains("lowercase"));
    }

    #[test]
    fn invalid_webhook_urls_are_refused_without_repeating_them() {
        for (url, needle) in [
            ("hooks.example.com/T0/secret-token", "http:// or https://"),
            (
                "ftp://hooks.example.com/secret-token",
                "http:// or https://",
            ),
            (
                "https://user:secret-token@hooks.example.com/x",
                "user name or password",
            ),
            ("https://hooks.example.com:0/secret-token", "invalid port"),
            ("https:///secret-token", "has no host"),
            ("https://hooks.example.com/secret-token x", "spaces"),
        ] {
            let e = assert_err(
                &with(&format!("[notify]\nwebhook_url = \"{url}\"\n")),
                6,
                15,
                needle,
            );
            assert!(e.message.starts_with("invalid notify.webhook_url:"), "{e}");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("secret-token"), "URL repeated: {shown}");
        }
    }

    #[test]
    fn urls_are_redacted_to_their_host() {
        assert_eq!(
            redact_url("https://hooks.example.com/services/T0/B0/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080?token=secret"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(
            redact_url("https://u:secret@hooks.example.com"),
            "https://hooks.example.com"
        );
        assert_eq!(
            redact_url("https://hooks.example.com/"),
            "https://hooks.example.com"
        );
        assert_eq!(redact_url("secret"), "(a URL)");
        let n = NotifyConfig {
            sns_topic_arn: None,
            webhook_url: Some("https://hooks.example.com/secret".into()),
        };
        assert!(!format!("{n:?}").contains("secret"));
    }
}
