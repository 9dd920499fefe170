//! `[apply]`: how many operations run at once, and the token buckets that
//! pace calls to each AWS service.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::side::{accepted_services, check_service};
use super::{Bounds, Checker};

/// Enough parallelism to hide API latency while staying well inside the
/// default EC2 mutating token bucket.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Above this, throttling (not ferry) becomes the bottleneck and retries only
/// add noise; the rate limiters are the knob for going faster.
pub const MAX_CONCURRENCY: usize = 256;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyConfig {
    pub concurrency: usize,
    /// Overrides of the built-in token buckets, keyed `<service>.<class>`
    /// (e.g. `ec2.mutating`). Classes not listed keep AWS's published defaults.
    pub rate_limits: BTreeMap<String, RateLimit>,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        ApplyConfig {
            concurrency: DEFAULT_CONCURRENCY,
            rate_limits: BTreeMap::new(),
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawApply {
    concurrency: Option<Spanned<i64>>,
    rate_limits: Option<BTreeMap<Spanned<String>, Spanned<RawRateLimit>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawRateLimit {
    burst: Spanned<i64>,
    per_second: Spanned<f64>,
}

impl Checker<'_> {
    pub(super) fn apply(&mut self, raw: Option<RawApply>) -> ApplyConfig {
        let Some(raw) = raw else {
            return ApplyConfig::default();
        };
        let mut apply = ApplyConfig::default();
        if let Some(n) = raw.concurrency {
            let hint = format!("the default is {DEFAULT_CONCURRENCY}");
            let bounds = Bounds::between(1, MAX_CONCURRENCY);
            if let Some(v) = self.whole_number("apply.concurrency", &n, bounds, Some(hint)) {
                apply.concurrency = v;
            }
        }
        for (key, limit) in raw.rate_limits.unwrap_or_default() {
            if let Err((problem, hint)) = check_rate_limit_key(key.get_ref()) {
                self.error_at(
                    key.span().start,
                    format!("invalid rate limit key {:?}: {problem}", key.get_ref()),
                    hint,
                );
            }
            let limit = limit.into_inner();
            let burst = self
                .whole_number("burst", &limit.burst, Bounds::between(1, u32::MAX), None)
                .unwrap_or(1);
            let per_second = *limit.per_second.get_ref();
            if !(per_second.is_finite() && per_second > 0.0) {
                self.error_at(
                    limit.per_second.span().start,
                    format!("per_second must be a number greater than 0 (got {per_second})"),
                    Some("to stop a class of calls, narrow [scope] instead".to_string()),
                );
            }
            apply
                .rate_limits
                .insert(key.into_inner(), RateLimit { burst, per_second });
        }
        apply
    }
}

/// `<service>.<class>`, e.g. `ec2.mutating` or `ec2.CopyImage`.
fn check_rate_limit_key(key: &str) -> Result<(), (String, Option<String>)> {
    let Some((service, class)) = key.split_once('.') else {
        return Err((
            "expected <service>.<class>, e.g. \"ec2.mutating\"".to_string(),
            None,
        ));
    };
    if let Err(hint) = check_service(service) {
        return Err((
            format!("unknown service {service:?}: {}", accepted_services()),
            hint,
        ));
    }
    if class.is_empty()
        || !class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err((
            "the class after the dot must be a name like mutating or CopyImage".to_string(),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn concurrency_range() {
        for (n, col) in [("0", 15), ("257", 15), ("-1", 15)] {
            let e = assert_err(
                &with(&format!("[apply]\nconcurrency = {n}\n")),
                6,
                col,
                "apply.concurrency must be between 1 and 256",
            );
            assert!(e.message.contains(&format!("(got {n})")));
        }
        for n in [1, 256] {
            let c = parse(&with(&format!("[apply]\nconcurrency = {n}\n"))).unwrap();
            assert_eq!(c.apply.concurrency, n);
        }
    }

    #[test]
    fn rate_limits_are_checked() {
        let rl = |line: &str| with(&format!("[apply.rate_limits]\n{line}\n"));
        assert_err(
            &rl("\"ec2\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "expected <service>.<class>",
        );
        let e = assert_err(
            &rl("\"ecc2.mutating\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "unknown service \"ecc2\"",
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `ec2`?"));
        assert_err(
            &rl("\"ec2.\" = { burst = 1, per_second = 1 }"),
            6,
            1,
            "the class after the dot",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 0, per_second = 1 }"),
            6,
            28,
            "burst must be between 1 and 4294967295 (got 0)",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 4294967296, per_second = 1 }"),
            6,
            28,
            "burst must be between 1 and 4294967295",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1, per_second = 0 }"),
            6,
            44,
            "per_second must be a number greater than 0",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1, per_second = nan }"),
            6,
            44,
            "per_second",
        );
        assert_err(
            &rl("\"ec2.mutating\" = { burst = 1 }"),
            6,
            18,
            "missing key `per_second`",
        );
    }
}
