//! The ferry.toml `ferry init` writes: every key, commented, with valid
//! example values.

/// The ferry.toml written by `ferry init`. It parses as-is; optional keys are
/// shown commented out with valid example values, so uncommenting one line
/// never produces a broken file.
pub fn skeleton() -> String {
    SKELETON.to_string()
}

const SKELETON: &str = r#"# ferry.toml: what ferry replicates, from where, to where.
#
# Written by `ferry init`. Commented-out keys are optional settings shown
# with example values: uncomment and edit them as needed.
# Nothing changes in AWS until you run `ferry apply` on a plan you have read
# (`ferry plan`).
#
# Credentials are never written here. ferry uses the standard AWS credential
# chain (environment variables, ~/.aws profiles, SSO, instance roles) and
# refuses access keys in this file.

# The account and region to copy FROM. ferry only reads here, apart from
# temporary grants (image, snapshot and KMS key shares) that it withdraws.
[source]
# Region code (required).
region = "us-east-1"
# Named profile or SSO profile from ~/.aws/config. Default: the standard chain.
# profile = "legacy"
# Role to assume with the base credentials: arn:aws:iam::<12-digit account>:role/<name>.
# role_arn = "arn:aws:iam::111111111111:role/ferry"
# External ID demanded by the role's trust policy (only together with role_arn).
# external_id = "ferry-migration"
# Session name recorded in CloudTrail for the assumed role (only with role_arn).
# session_name = "ferry"
# One URL for every service, e.g. a local emulator.
# endpoint_url = "http://127.0.0.1:5000"

# Per-service URLs, e.g. VPC interface endpoints in networks with no internet
# path. They win over endpoint_url. Accepted services: ec2, sts, iam, s3,
# elasticloadbalancing, elbv2, autoscaling, cloudwatch, monitoring, kms, acm,
# sns, sqs, s3control (S3 Batch Operations), ssm, logs.
# [source.endpoints]
# ec2 = "https://vpce-0abc-ec2.us-east-1.vpce.amazonaws.com"
# sts = "https://vpce-0abc-sts.us-east-1.vpce.amazonaws.com"

# The account and region to copy TO. Same keys as [source]; `ferry bootstrap`
# prints (or creates) the role below and its trust policy.
[destination]
region = "eu-west-1"
# profile = "target"
# role_arn = "arn:aws:iam::222222222222:role/ferry"
# external_id = "ferry-migration"
# session_name = "ferry"
# endpoint_url = "http://127.0.0.1:5000"
# [destination.endpoints]
# s3 = "https://bucket.vpce-0def-s3.eu-west-1.vpce.amazonaws.com"

# What to replicate. Default: every kind ferry supports.
[scope]
# Kinds or services to replicate; an empty list means everything. Services:
# vpc (or network), ec2, iam, kms, compute, autoscaling, cloudwatch,
# elb (or load_balancing), acm; kinds: vpc, subnet, instance, target_group...
# include = ["vpc", "security_group"]
# Kinds or services to leave out (applied after include).
# exclude = ["vpc_peering"]
# Source resources carrying any of these tags are skipped. Values are strings.
# exclude_tags = { "ferry:skip" = "true" }
# Source ids, bucket names or ARNs to skip.
# exclude_ids = ["vpc-0123456789abcdef0", "legacy-logs-bucket"]

# Destination names. S3 bucket names are global, so they cannot simply be
# copied. Placeholders: {name} (source bucket), {hash6} (6 hex digits derived
# from the source bucket), {account}, {region} (source), {dest_account},
# {dest_region}. The template must use {name} or {hash6}. The default is
# deterministic, so a re-run finds the bucket it already created.
[naming]
bucket = "{name}-{hash6}"

# Explicit names for some source buckets, winning over the template: source
# bucket name (quoted when it contains a dot) to destination bucket name. Each
# destination must be a valid S3 bucket name, and two sources cannot share one.
# [naming.buckets]
# "assets.example.com" = "assets.example.org"
# "legacy-logs" = "logs-archive"

# Availability zones across regions: each source zone maps to a destination zone.
# Zones not listed keep their letter (us-east-1a becomes eu-west-1a).
[zones]
# "us-east-1a" = "eu-west-1b"
# "us-east-1b" = "eu-west-1c"

[apply]
# Operations in flight at once (1 to 256).
concurrency = 16

# Token buckets per "<service>.<class>" (keys must be quoted because of the
# dot): burst tokens, refilled at per_second. Classes not listed keep AWS's
# published defaults (EC2: non-mutating 100/20 per s, mutating 50/5).
[apply.rate_limits]
# "ec2.mutating" = { burst = 50, per_second = 5.0 }
# "ec2.non_mutating" = { burst = 100, per_second = 20.0 }

# Instances are copied through an image made of each (CreateImage).
[compute]
# true: do not reboot instances for their image (faster, but the file system
# may not be consistent). The plan says which.
no_reboot = false
# true: launch destination instances with the source's private IPs.
keep_private_ips = false

# How S3 objects are copied. Sizes are a number of bytes, or a string with a
# unit: KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000).
[s3]
# Copy requests in flight at once, shared by all buckets (1 to 256).
workers = 16
# Objects larger than this are copied in parts (UploadPartCopy) rather than
# with one CopyObject; 5 MiB to 5 GiB, since one CopyObject copies at most 5 GiB.
multipart_threshold = "5 GiB"
# The part size of those copies (5 MiB to 5 GiB). A source object that was
# itself uploaded in parts is copied with its own part layout, keeping its ETag.
part_size = "512 MiB"
# Versioned buckets: "current" copies the current version of each key; "all"
# copies every version, oldest first, and the delete markers.
versions = "current"
# true: ferry adds a temporary statement to each source bucket's policy that
# lets the destination read it, and removes it afterwards. false: the source
# policies are never touched and objects are streamed through this machine
# instead (slower).
source_policy = true
# Buckets with at least batch_objects objects, or batch_bytes bytes, are
# offered to S3 Batch Operations in the plan: AWS's managed engine for copying
# billions of objects.
batch_objects = 10000000
batch_bytes = "50 TiB"
# true: copy those buckets with S3 Batch Operations (ferry writes the manifest,
# creates the job and its role, and tracks it) instead of from this machine.
batch = false

# A message when an apply or rollback run starts, ends or fails, with its
# counts and first errors. Delivery failures are reported on stderr and never
# fail the run. Uncomment [notify] and at least one target.
# [notify]
# SNS topic, published to with the credentials of the side whose account it
# names (the destination otherwise); `ferry bootstrap` then lists sns:Publish.
# sns_topic_arn = "arn:aws:sns:eu-west-1:222222222222:ferry-runs"
# URL that receives each message as a JSON POST. It is never printed, since
# its path or query often carries a token.
# webhook_url = "https://hooks.example.com/services/ferry"
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::side::{ENDPOINT_SERVICES, SIDE_KEYS};
    use crate::config::{ApplyConfig, Config, NamingConfig, S3Config, BUCKET_PLACEHOLDERS};
    use std::path::Path;

    #[test]
    fn skeleton_parses_as_is() {
        let c = Config::parse(&skeleton(), Path::new("ferry.toml")).unwrap();
        assert_eq!(c.source.region, "us-east-1");
        assert_eq!(c.destination.region, "eu-west-1");
        assert_eq!(c.source.role_arn, None);
        assert_eq!(c.naming, NamingConfig::default());
        assert_eq!(c.apply, ApplyConfig::default());
        // The values shown are the defaults, so the two cannot drift apart.
        assert_eq!(c.s3, S3Config::default());
    }

    /// Every example in the skeleton is itself valid, so uncommenting any of
    /// them never breaks the file.
    #[test]
    fn skeleton_examples_parse_when_uncommented() {
        let uncommented: String = skeleton()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if (rest.contains(" = ")
                        && rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '"'))
                        || rest.starts_with('[') =>
                {
                    rest
                }
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::parse(&uncommented, Path::new("ferry.toml")).unwrap();
        assert_eq!(
            c.source.role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/ferry")
        );
        assert_eq!(
            c.destination.role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/ferry")
        );
        assert_eq!(c.source.endpoints.len(), 2);
        assert_eq!(c.destination.endpoints.len(), 1);
        assert_eq!(c.scope.include, ["vpc", "security_group"]);
        assert_eq!(c.zones.len(), 2);
        assert_eq!(c.apply.rate_limits.len(), 2);
        assert_eq!(c.naming.buckets.len(), 2);
        assert_eq!(
            c.notify.sns_topic_arn.as_deref(),
            Some("arn:aws:sns:eu-west-1:222222222222:ferry-runs")
        );
        assert!(c.notify.webhook_url.is_some());
    }

    #[test]
    fn skeleton_documents_every_key() {
        let s = skeleton();
        for key in SIDE_KEYS
            .iter()
            .filter(|k| **k != "endpoints")
            .chain(&["include", "exclude", "exclude_tags", "exclude_ids"])
            .chain(&["bucket", "concurrency", "burst", "per_second"])
            .chain(&[
                "workers",
                "multipart_threshold",
                "part_size",
                "versions",
                "source_policy",
                "batch_objects",
                "batch_bytes",
                "batch",
            ])
            .chain(&["sns_topic_arn", "webhook_url"])
        {
            assert!(s.contains(&format!("{key} =")), "{key} not shown");
        }
        for table in [
            "[source]",
            "[source.endpoints]",
            "[destination]",
            "[scope]",
            "[naming]",
            "[naming.buckets]",
            "[zones]",
            "[apply]",
            "[apply.rate_limits]",
            "[s3]",
            "[notify]",
        ] {
            assert!(s.contains(table), "{table} not shown");
        }
        for service in ENDPOINT_SERVICES {
            assert!(s.contains(service), "{service} not listed");
        }
        for p in BUCKET_PLACEHOLDERS {
            assert!(s.contains(&format!("{{{p}}}")), "{p} not listed");
        }
    }
}
