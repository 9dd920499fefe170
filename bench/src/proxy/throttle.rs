//! The throttling stage: AWS's token buckets, refusing what they refuse.
//!
//! Each request takes a token from the bucket of its class (classify.rs) for
//! its caller and region, as AWS keeps buckets per account and region; an
//! empty bucket means the request is answered at once with the service's own
//! throttling error (errors.rs) and never reaches the upstream, which is what
//! AWS does. Buckets start full and refill continuously at their rate, up to
//! their burst.
//!
//! S3 has no per-account buckets: it throttles per prefix of a bucket (3,500
//! writes and 5,500 reads a second each, documented), and a new bucket starts
//! as a single prefix, so its buckets are kept per S3 bucket.
//!
//! EC2 once documented one bucket per class and now documents one per API
//! action, each of its class's size; [`Scope`] picks either (per class is the
//! stricter, and the default).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::{errors, Exchange, Injected, Stage, Verdict};

/// A token bucket on an explicit clock: every method takes `now`, so tests
/// drive it with made-up instants.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: Limit, now: Instant) -> TokenBucket {
        TokenBucket {
            capacity: limit.burst as f64,
            per_second: limit.per_second,
            tokens: limit.burst as f64,
            last: now,
        }
    }

    /// Takes a token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Burst and refill rate of one class.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub burst: u32,
    pub per_second: f64,
}

const fn limit(burst: u32, per_second: f64) -> Limit {
    Limit { burst, per_second }
}

/// AWS's published numbers where there are some (EC2's classes, CloudWatch,
/// ACM, S3 per prefix), and the values ferry's own client-side limiter uses
/// where AWS publishes none (crates/ferry-aws/src/ratelimit.rs). `*.…` keys
/// are the fallback for services not named.
pub const AWS_DEFAULTS: &[(&str, Limit)] = &[
    ("ec2.non_mutating", limit(100, 20.0)),
    ("ec2.mutating", limit(50, 5.0)),
    ("ec2.run_instances", limit(5, 2.0)),
    ("ec2.copy_image", limit(100, 1.0)),
    ("iam.non_mutating", limit(40, 20.0)),
    ("iam.mutating", limit(20, 10.0)),
    ("kms.non_mutating", limit(50, 50.0)),
    ("kms.mutating", limit(20, 5.0)),
    ("autoscaling.non_mutating", limit(40, 20.0)),
    ("autoscaling.mutating", limit(20, 10.0)),
    ("cloudwatch.non_mutating", limit(9, 9.0)),
    ("cloudwatch.mutating", limit(3, 3.0)),
    ("elasticloadbalancing.non_mutating", limit(40, 10.0)),
    ("elasticloadbalancing.mutating", limit(20, 5.0)),
    ("acm.non_mutating", limit(10, 10.0)),
    ("s3.read", limit(5500, 5500.0)),
    ("s3.write", limit(3500, 3500.0)),
    ("s3control.jobs", limit(5, 5.0)),
    ("*.non_mutating", limit(100, 20.0)),
    ("*.mutating", limit(50, 5.0)),
];

/// One bucket per class, or one per API action of each class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Class,
    Action,
}

/// The limits of every class.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    classes: BTreeMap<String, Limit>,
    pub scope: Scope,
}

/// A throttling file: `scope` and a `[limits]` table overriding the AWS
/// defaults, e.g. `"ec2.mutating" = { burst = 10, per_second = 1.0 }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    limits: BTreeMap<String, Limit>,
}

impl Limits {
    pub fn aws() -> Limits {
        Limits {
            classes: AWS_DEFAULTS
                .iter()
                .map(|(k, l)| (k.to_string(), *l))
                .collect(),
            scope: Scope::Class,
        }
    }

    /// The AWS defaults with a TOML text's overrides.
    pub fn parse(text: &str) -> anyhow::Result<Limits> {
        let file: LimitsFile = toml::from_str(text)?;
        let mut limits = Limits::aws();
        if let Some(scope) = file.scope {
            limits.scope = scope;
        }
        for (class, limit) in file.limits {
            let service_default = class.split_once('.').is_some_and(|(_, kind)| {
                matches!(
                    kind,
                    "non_mutating"
                        | "mutating"
                        | "read"
                        | "write"
                        | "run_instances"
                        | "copy_image"
                        | "jobs"
                )
            });
            if !service_default {
                bail!(
                    "limit {class:?}: expected SERVICE.non_mutating, SERVICE.mutating (or one of {})",
                    AWS_DEFAULTS
                        .iter()
                        .map(|(k, _)| *k)
                        .filter(|k| !k.ends_with("mutating"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if limit.burst == 0 || !(limit.per_second > 0.0 && limit.per_second.is_finite()) {
                bail!("limit {class:?}: burst and per_second must be positive");
            }
            limits.classes.insert(class, limit);
        }
        Ok(limits)
    }

    pub fn load(path: &Path) -> anyhow::Result<Limits> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read throttling file {}", path.display()))?;
        Limits::parse(&text).with_context(|| format!("in throttling file {}", path.display()))
    }

    /// The limit of a class: its own, else its service kind's fallback.
    pub fn of(&self, class: &str) -> Limit {
        if let Some(l) = self.classes.get(class) {
            return *l;
        }
        let kind = if class.ends_with(".non_mutating") || class.ends_with(".read") {
            "*.non_mutating"
        } else {
            "*.mutating"
        };
        self.classes[kind]
    }
}

/// The stage. Holds every bucket made so far.
pub struct Throttle {
    limits: Limits,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl Throttle {
    pub fn new(limits: Limits) -> Throttle {
        Throttle {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket a request draws from. The caller (an access key id) only
    /// keys the map: it is never logged or printed.
    fn bucket_key(&self, exchange: &Exchange) -> String {
        let api = &exchange.api;
        let mut key = format!(
            "{}|{}|{}",
            api.class,
            exchange.caller.as_deref().unwrap_or(""),
            exchange.region.as_deref().unwrap_or("")
        );
        if let Some(bucket) = &api.bucket {
            key = format!("{}|{}", api.class, bucket);
        }
        if self.limits.scope == Scope::Action {
            key.push('|');
            key.push_str(&api.operation);
        }
        key
    }

    /// Whether the request may go on, at `now`.
    pub fn admit(&self, exchange: &Exchange, now: Instant) -> bool {
        let key = self.bucket_key(exchange);
        let limit = self.limits.of(&exchange.api.class);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(limit, now))
            .try_take(now)
    }
}

impl Stage for Throttle {
    fn name(&self) -> &'static str {
        "throttle"
    }

    fn before<'a>(&'a self, exchange: &'a Exchange) -> BoxFuture<'a, Verdict> {
        let verdict = if exchange.is_control() || self.admit(exchange, Instant::now()) {
            Verdict::Forward
        } else {
            let mut response = errors::throttled(&exchange.api, exchange.id);
            response.extensions_mut().insert(Injected::Throttle);
            Verdict::Answer(response)
        };
        Box::pin(async move { verdict })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::classify::{Api, Protocol};
    use hyper::Method;
    use std::time::Duration;

    #[test]
    fn a_bucket_gives_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(limit(50, 5.0), t0);
        assert_eq!((0..60).filter(|_| bucket.try_take(t0)).count(), 50);
        assert!(
            !bucket.try_take(t0 + Duration::from_millis(100)),
            "half a token"
        );
        assert!(
            bucket.try_take(t0 + Duration::from_millis(200)),
            "one token after 1/5 s"
        );
        assert!(!bucket.try_take(t0 + Duration::from_millis(200)));
        // Ten seconds give 50 tokens, not 51: the burst caps the refill.
        let later = t0 + Duration::from_secs(10) + Duration::from_millis(200);
        assert_eq!((0..60).filter(|_| bucket.try_take(later)).count(), 50);
        // A clock that goes back (requests racing) takes nothing and gives nothing.
        assert!(!bucket.try_take(t0));
    }

    #[test]
    fn over_a_minute_a_bucket_admits_burst_plus_rate_times_time() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(limit(5, 2.0), t0);
        // 100 attempts a second for 60 seconds: RunInstances' 5 + 2/s.
        let admitted = (0..6000)
            .filter(|i| bucket.try_take(t0 + Duration::from_millis(10 * i)))
            .count();
        assert!((123..=125).contains(&admitted), "{admitted}");
    }

    fn exchange(service: &str, op: &str, class: &str, caller: &str) -> Exchange {
        let mut e = Exchange::bare(Method::POST, "/");
        e.api = Api {
            service: service.into(),
            operation: op.into(),
            class: class.into(),
            bucket: None,
            protocol: Protocol::Ec2,
        };
        e.caller = Some(caller.into());
        e.region = Some("us-east-1".into());
        e
    }

    #[test]
    fn buckets_are_per_class_and_caller() {
        let throttle = Throttle::new(Limits::aws());
        let t0 = Instant::now();
        let create = exchange("ec2", "CreateVpc", "ec2.mutating", "A");
        let tag = exchange("ec2", "CreateTags", "ec2.mutating", "A");
        let other_account = exchange("ec2", "CreateVpc", "ec2.mutating", "B");
        let describe = exchange("ec2", "DescribeVpcs", "ec2.non_mutating", "A");
        assert_eq!((0..30).filter(|_| throttle.admit(&create, t0)).count(), 30);
        assert_eq!(
            (0..30).filter(|_| throttle.admit(&tag, t0)).count(),
            20,
            "one class, one bucket"
        );
        assert_eq!(
            (0..60)
                .filter(|_| throttle.admit(&other_account, t0))
                .count(),
            50
        );
        assert_eq!(
            (0..120).filter(|_| throttle.admit(&describe, t0)).count(),
            100
        );

        let per_action = Throttle::new(Limits {
            scope: Scope::Action,
            ..Limits::aws()
        });
        assert_eq!(
            (0..60).filter(|_| per_action.admit(&create, t0)).count(),
            50
        );
        assert_eq!((0..60).filter(|_| per_action.admit(&tag, t0)).count(), 50);
    }

    #[test]
    fn s3_buckets_are_per_bucket_whoever_calls() {
        let mut limits = Limits::aws();
        limits.classes.insert("s3.write".into(), limit(3, 1.0));
        let throttle = Throttle::new(limits);
        let t0 = Instant::now();
        let copy = |bucket: &str, caller: &str| {
            let mut e = exchange("s3", "CopyObject", "s3.write", caller);
            e.api.bucket = Some(bucket.into());
            e
        };
        assert_eq!(
            (0..5)
                .filter(|_| throttle.admit(&copy("a", "X"), t0))
                .count(),
            3
        );
        assert!(!throttle.admit(&copy("a", "Y"), t0));
        assert!(throttle.admit(&copy("b", "X"), t0));
    }

    #[test]
    fn a_file_overrides_the_defaults_and_typos_are_refused() {
        let limits = Limits::parse(
            "scope = \"action\"\n[limits]\n\"ec2.mutating\" = { burst = 10, per_second = 1.5 }\n\"sqs.mutating\" = { burst = 2, per_second = 1.0 }\n",
        )
        .unwrap();
        assert_eq!(limits.scope, Scope::Action);
        assert_eq!(limits.of("ec2.mutating"), limit(10, 1.5));
        assert_eq!(limits.of("sqs.mutating"), limit(2, 1.0));
        assert_eq!(limits.of("ec2.non_mutating"), limit(100, 20.0));
        assert_eq!(
            limits.of("lambda.non_mutating"),
            limit(100, 20.0),
            "the fallback"
        );
        assert_eq!(limits.of("lambda.mutating"), limit(50, 5.0));
        assert!(
            Limits::parse("[limits]\n\"ec2.mutate\" = { burst = 1, per_second = 1.0 }").is_err()
        );
        assert!(
            Limits::parse("[limits]\n\"ec2.mutating\" = { burst = 0, per_second = 1.0 }").is_err()
        );
        assert!(Limits::parse("[limits]\n\"ec2.mutating\" = { burst = 1 }").is_err());
        assert!(Limits::parse("scope = \"account\"").is_err());
    }
}
