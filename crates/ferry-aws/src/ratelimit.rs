//! Client-side token buckets per service and API class (ARCHITECTURE.md invariant 9),
//! with AWS's published EC2 defaults, so a large migration paces itself
//! instead of leaning on throttling errors and retries.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// API classes as AWS's EC2 request throttling documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Describe* and other non-mutating calls.
    Read,
    /// Create*, Modify*, Delete*, Authorize* ...
    Mutate,
    RunInstances,
    CopyImage,
    /// IAM Get*/List*. IAM publishes no bucket sizes: conservative values.
    IamRead,
    /// IAM Create*/Put*/Attach*/Delete* ...
    IamMutate,
    /// KMS key management reads (DescribeKey, List*): AWS's shared quota.
    KmsRead,
    /// KMS key management writes (CreateKey, CreateGrant, TagResource ...).
    KmsMutate,
    /// Auto Scaling Describe* calls (no published numbers: conservative).
    AutoScalingRead,
    AutoScalingMutate,
    /// CloudWatch DescribeAlarms / ListTagsForResource (9 per second published).
    CloudWatchRead,
    /// CloudWatch PutMetricAlarm / DeleteAlarms / TagResource (3 per second).
    CloudWatchMutate,
    /// Elastic Load Balancing (classic and v2) Describe* calls.
    ElbRead,
    /// Elastic Load Balancing Create*, Modify*, Register*, Delete* ...
    ElbMutate,
    /// ACM and IAM certificate reads (ferry never writes certificates).
    CertificateRead,
    /// S3 GET/HEAD/LIST requests (bucket configuration and object reads).
    S3Read,
    /// S3 PUT/COPY/POST/DELETE requests (configuration, object copies).
    S3Write,
    /// S3 Control (Batch Operations jobs).
    S3Control,
    /// SNS Publish (run notifications).
    SnsPublish,
}

impl Class {
    pub fn key(self) -> &'static str {
        match self {
            Class::Read => "ec2.non_mutating",
            Class::Mutate => "ec2.mutating",
            Class::RunInstances => "ec2.run_instances",
            Class::CopyImage => "ec2.copy_image",
            Class::IamRead => "iam.non_mutating",
            Class::IamMutate => "iam.mutating",
            Class::KmsRead => "kms.non_mutating",
            Class::KmsMutate => "kms.mutating",
            Class::AutoScalingRead => "autoscaling.non_mutating",
            Class::AutoScalingMutate => "autoscaling.mutating",
            Class::CloudWatchRead => "cloudwatch.non_mutating",
            Class::CloudWatchMutate => "cloudwatch.mutating",
            Class::ElbRead => "elasticloadbalancing.non_mutating",
            Class::ElbMutate => "elasticloadbalancing.mutating",
            Class::CertificateRead => "acm.non_mutating",
            Class::S3Read => "s3.read",
            Class::S3Write => "s3.write",
            Class::S3Control => "s3control.jobs",
            Class::SnsPublish => "sns.publish",
        }
    }

    /// Whether calls of this class only read (for the call counts).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Class::Read
                | Class::IamRead
                | Class::KmsRead
                | Class::AutoScalingRead
                | Class::CloudWatchRead
                | Class::ElbRead
                | Class::CertificateRead
                | Class::S3Read
        )
    }

    pub const ALL: [Class; 19] = [
        Class::Read,
        Class::Mutate,
        Class::RunInstances,
        Class::CopyImage,
        Class::IamRead,
        Class::IamMutate,
        Class::KmsRead,
        Class::KmsMutate,
        Class::AutoScalingRead,
        Class::AutoScalingMutate,
        Class::CloudWatchRead,
        Class::CloudWatchMutate,
        Class::ElbRead,
        Class::ElbMutate,
        Class::CertificateRead,
        Class::S3Read,
        Class::S3Write,
        Class::S3Control,
        Class::SnsPublish,
    ];

    /// (burst, refill per second), from AWS's EC2 throttling documentation.
    fn default_rate(self) -> (u32, f64) {
        match self {
            Class::Read => (100, 20.0),
            Class::Mutate => (50, 5.0),
            Class::RunInstances => (5, 2.0),
            Class::CopyImage => (100, 1.0),
            Class::IamRead => (40, 20.0),
            Class::IamMutate => (20, 10.0),
            Class::KmsRead => (50, 50.0),
            Class::KmsMutate => (20, 5.0),
            Class::AutoScalingRead => (40, 20.0),
            Class::AutoScalingMutate => (20, 10.0),
            Class::CloudWatchRead => (9, 9.0),
            Class::CloudWatchMutate => (3, 3.0),
            // ELB's documented per-account buckets are per API; these sit
            // under the tightest of them (registration and modify calls).
            Class::ElbRead => (40, 10.0),
            Class::ElbMutate => (20, 5.0),
            // ACM DescribeCertificate: 10 per second.
            Class::CertificateRead => (10, 10.0),
            // S3 scales per prefix: 5,500 GET/HEAD and 3,500 PUT/COPY/POST/
            // DELETE per second each; one prefix's worth is the safe floor.
            Class::S3Read => (5500, 5500.0),
            Class::S3Write => (3500, 3500.0),
            // S3 Control job APIs (CreateJob, DescribeJob): low, undocumented.
            Class::S3Control => (5, 5.0),
            // Publish: 300 per second in the regions with the lowest quota.
            Class::SnsPublish => (300, 300.0),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(burst: u32, per_second: f64) -> Bucket {
        Bucket {
            capacity: burst as f64,
            per_second,
            tokens: burst as f64,
            last: Instant::now(),
        }
    }

    /// Takes a token if one is there; otherwise says how long until one is.
    fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

#[derive(Debug)]
pub struct Limiter {
    buckets: BTreeMap<Class, Mutex<Bucket>>,
}

impl Limiter {
    /// Buckets with AWS's defaults, overridden by `[apply.rate_limits]`.
    /// Unknown keys are refused so a typo does not silently do nothing.
    pub fn new(overrides: &BTreeMap<String, (u32, f64)>) -> Result<Limiter, String> {
        for k in overrides.keys() {
            if !Class::ALL.iter().any(|c| c.key() == k) {
                let known: Vec<_> = Class::ALL.iter().map(|c| c.key()).collect();
                return Err(format!(
                    "unknown rate limit {k:?} in [apply.rate_limits]: expected one of {}",
                    known.join(", ")
                ));
            }
        }
        let buckets = Class::ALL
            .iter()
            .map(|c| {
                let (b, r) = overrides
                    .get(c.key())
                    .copied()
                    .unwrap_or_else(|| c.default_rate());
                (*c, Mutex::new(Bucket::new(b, r)))
            })
            .collect();
        Ok(Limiter { buckets })
    }

    pub async fn acquire(&self, class: Class) {
        loop {
            let wait = {
                let mut b = self.buckets[&class].lock().expect("limiter lock");
                match b.try_take(Instant::now()) {
                    Ok(()) => return,
                    Err(w) => w,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let mut b = Bucket::new(2, 10.0);
        let t0 = b.last;
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        assert!(b.try_take(t0 + Duration::from_millis(100)).is_ok());
        // Refill never exceeds the burst.
        assert!(b.try_take(t0 + Duration::from_secs(60)).is_ok());
        assert!(b.try_take(t0 + Duration::from_secs(60)).is_ok());
        assert!(b.try_take(t0 + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn unknown_override_is_refused() {
        let mut o = BTreeMap::new();
        o.insert("ec2.mutate".to_string(), (1, 1.0));
        let err = Limiter::new(&o).unwrap_err();
        assert!(err.contains("ec2.mutating"), "{err}");
    }

    #[tokio::test]
    async fn acquire_waits_for_a_token() {
        let mut o = BTreeMap::new();
        o.insert("ec2.mutating".to_string(), (1, 20.0));
        let l = Limiter::new(&o).unwrap();
        let start = std::time::Instant::now();
        l.acquire(Class::Mutate).await;
        l.acquire(Class::Mutate).await;
        assert!(
            start.elapsed() >= Duration::from_millis(45),
            "{:?}",
            start.elapsed()
        );
    }
}
