//! Rewriting of policy documents (IAM trust and identity policies, S3 bucket
//! policies, KMS key policies, VPC endpoint policies) and free-form strings
//! from the source account/region to the destination.
//!
//! What changes:
//!
//! - a whole string that is the source account ID becomes the destination
//!   account ID (`Principal.AWS`, `aws:SourceAccount`, `kms:CallerAccount` ...);
//!   other 12-digit accounts (third accounts) are kept;
//! - ARNs anywhere in a string (`arn:partition:service:region:account:resource`,
//!   wildcards and `${policy:variables}` allowed in any part): the source
//!   account becomes the destination account; the source region becomes the
//!   destination region, except in ARNs of a concrete third account (its
//!   resources do not move); mapped EC2 IDs in the resource part go through the
//!   [`Mapping`]; S3 bucket ARNs (`arn:aws:s3:::bucket`, `.../key*`) get the
//!   bucket renamed through the bucket map of a [`PolicyRewriter`], and key
//!   segments equal to the source account (`AWSLogs/<account>/`) rewritten;
//! - in `Condition` values only: a bare region equal to the source region
//!   (`aws:RequestedRegion`), and the region label of AWS host names
//!   (`ec2.us-east-1.amazonaws.com` in `kms:ViaService`,
//!   `com.amazonaws.us-east-1.s3`); the same host names in `Principal.Service`
//!   (`logs.us-east-1.amazonaws.com`), which is all that is done there.
//!
//! What never changes: object keys (so condition keys), `Version`, `Sid`, `Id`,
//! `Action`/`NotAction`, `Principal.CanonicalUser`, `"*"`, and any other value
//! (IP ranges, dates, org IDs, external IDs, tags) unless it is one of the
//! above as a whole string or contains an ARN.
//!
//! [`PolicyRewriter::report`] lists what an operator must check by hand: third
//! accounts, bucket patterns that stop matching renamed buckets, and
//! source-account ARNs of resources ferry does not migrate.

use crate::kind::Kind;
use crate::mapping::Mapping;
use crate::resource::Key;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The bucket map of a plain [`Rewriter`]: no bucket is renamed.
static NO_BUCKETS: BTreeMap<String, String> = BTreeMap::new();

/// What a document is rewritten from and to. Buckets are not renamed; use
/// [`Rewriter::with_buckets`] for that.
#[derive(Debug, Clone, Copy)]
pub struct Rewriter<'a> {
    pub source_account: &'a str,
    pub dest_account: &'a str,
    pub source_region: &'a str,
    pub dest_region: &'a str,
    pub mapping: &'a Mapping,
}

/// A [`Rewriter`] that also renames S3 buckets (source name -> destination
/// name) in S3 ARNs.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRewriter<'a> {
    pub base: Rewriter<'a>,
    pub buckets: &'a BTreeMap<String, String>,
}

/// Something in a document an operator must know about. `path` is where, as
/// `$.Statement[0].Principal.AWS[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: String,
    pub message: String,
}

impl<'a> Rewriter<'a> {
    /// The same rewriter, renaming buckets through `buckets` as well.
    pub fn with_buckets(self, buckets: &'a BTreeMap<String, String>) -> PolicyRewriter<'a> {
        PolicyRewriter {
            base: self,
            buckets,
        }
    }

    /// Rewrites a policy document (see the module documentation).
    pub fn document(&self, v: &Value) -> Value {
        self.with_buckets(&NO_BUCKETS).document(v)
    }

    /// What an operator must check in `doc` (see [`PolicyRewriter::report`]).
    pub fn report(&self, doc: &Value) -> Vec<Finding> {
        self.with_buckets(&NO_BUCKETS).report(doc)
    }

    /// Rewrites one string outside any policy context: a bare account ID,
    /// ARNs anywhere in it, and migrated resource IDs as whole tokens.
    pub fn string(&self, s: &str) -> String {
        self.with_buckets(&NO_BUCKETS).string(s)
    }
}

/// Where in a policy a value sits, which decides the rules applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Resources and anything not below.
    Plain,
    /// Never rewritten.
    Verbatim,
    /// `Principal`/`NotPrincipal` (`AWS`, `Federated`, or a bare string).
    Principal,
    /// `Principal.Service`: only regional host names.
    Service,
    /// `Condition` values.
    Condition,
}

impl Ctx {
    fn enter(self, key: &str) -> Ctx {
        match (self, key) {
            (Ctx::Plain, "Version" | "Sid" | "Id" | "Action" | "NotAction") => Ctx::Verbatim,
            (Ctx::Plain, "Principal" | "NotPrincipal") => Ctx::Principal,
            (Ctx::Plain, "Condition") => Ctx::Condition,
            (Ctx::Principal, "Service") => Ctx::Service,
            (Ctx::Principal, "CanonicalUser") => Ctx::Verbatim,
            (c, _) => c,
        }
    }
}

impl PolicyRewriter<'_> {
    /// Rewrites a policy document (see the module documentation).
    pub fn document(&self, v: &Value) -> Value {
        self.rewrite(v).0
    }

    /// What an operator must check in `doc`, a source document:
    ///
    /// - principals, ARNs and condition values naming a third account (neither
    ///   source nor destination), kept as they are;
    /// - S3 bucket patterns (`arn:aws:s3:::logs-*`) that match a renamed
    ///   source bucket but not its destination name;
    /// - source-account ARNs of resources that are not mapped (an SNS topic, an
    ///   IAM role), kept with the account rewritten: they must exist in the
    ///   destination. The account root and all-wildcard resources are not
    ///   reported.
    pub fn report(&self, doc: &Value) -> Vec<Finding> {
        self.rewrite(doc).1
    }

    /// The rewritten document and the findings of [`PolicyRewriter::report`].
    pub fn rewrite(&self, doc: &Value) -> (Value, Vec<Finding>) {
        let mut findings = Vec::new();
        let out = self.walk(doc, Ctx::Plain, "$", &mut findings);
        (out, findings)
    }

    /// Rewrites one string outside any policy context, as [`Rewriter::string`].
    pub fn string(&self, s: &str) -> String {
        self.text(s, Ctx::Plain, "$", &mut Vec::new())
    }

    fn walk(&self, v: &Value, ctx: Ctx, path: &str, out: &mut Vec<Finding>) -> Value {
        match v {
            Value::String(s) => Value::String(match ctx {
                Ctx::Verbatim => s.clone(),
                Ctx::Service => self.host(s).unwrap_or_else(|| s.clone()),
                _ => self.text(s, ctx, path, out),
            }),
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| self.walk(x, ctx, &format!("{path}[{i}]"), out))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.walk(x, ctx.enter(k), &child(path, k), out)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn text(&self, s: &str, ctx: Ctx, path: &str, out: &mut Vec<Finding>) -> String {
        let b = &self.base;
        if s == b.source_account {
            return b.dest_account.to_string();
        }
        if is_account(s) {
            if s != b.dest_account && ctx != Ctx::Plain {
                let message = if ctx == Ctx::Principal {
                    self.third_principal(s, s)
                } else {
                    format!("third account {s} (neither source nor destination) kept as is")
                };
                out.push(finding(path, message));
            }
            return s.to_string();
        }
        if ctx == Ctx::Condition {
            if s == b.source_region {
                return b.dest_region.to_string();
            }
            if let Some(h) = self.host(s) {
                return h;
            }
        }
        let mut res = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(pos) = find_arn(rest) {
            res.push_str(&self.ids(&rest[..pos]).0);
            let tail = &rest[pos..];
            let end = tail
                .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
                .unwrap_or(tail.len());
            res.push_str(&self.arn(&tail[..end], ctx, path, out));
            rest = &tail[end..];
        }
        res.push_str(&self.ids(rest).0);
        res
    }

    fn arn(&self, arn: &str, ctx: Ctx, path: &str, out: &mut Vec<Finding>) -> String {
        let Some([prefix, partition, service, region, account, resource]) = split_arn(arn) else {
            return arn.to_string();
        };
        let b = &self.base;
        let from_source = account == b.source_account;
        // A concrete other account's resources stay where they are.
        let other = !from_source && is_account(account);
        let region2 = if region == b.source_region && !other {
            b.dest_region
        } else {
            region
        };
        let account2 = if from_source { b.dest_account } else { account };
        let (resource2, mapped) = if service == "s3" && region.is_empty() && account.is_empty() {
            (self.s3(resource, path, out), true)
        } else {
            self.ids(resource)
        };
        let new = format!("{prefix}:{partition}:{service}:{region2}:{account2}:{resource2}");
        if other && account != b.dest_account {
            let message = if ctx == Ctx::Principal {
                self.third_principal(arn, account)
            } else if region == b.source_region {
                format!(
                    "{arn} is in third account {account} (neither source nor destination): kept as is, in region {region}"
                )
            } else {
                format!(
                    "{arn} is in third account {account} (neither source nor destination): kept as is"
                )
            };
            out.push(finding(path, message));
        } else if from_source && !mapped && resource != "root" && resource != "*" {
            let what = if has_wildcard(resource) {
                "make sure what it should match exists in the destination"
            } else {
                "make sure it exists in the destination"
            };
            out.push(finding(
                path,
                format!("{arn} is not migrated by ferry: kept with the account rewritten as {new}; {what}"),
            ));
        }
        new
    }

    fn third_principal(&self, value: &str, account: &str) -> String {
        format!(
            "principal {value} is in third account {account} (neither source nor destination): kept as is; \
             whatever that account has that names source account {} must be updated to {}",
            self.base.source_account, self.base.dest_account
        )
    }

    /// The resource part of an S3 bucket or object ARN: `bucket[/key]`.
    fn s3(&self, resource: &str, path: &str, out: &mut Vec<Finding>) -> String {
        let (bucket, key) = match resource.split_once('/') {
            Some((b, k)) => (b, Some(k)),
            None => (resource, None),
        };
        let bucket2 = if has_wildcard(bucket) {
            let lost: Vec<String> = self
                .buckets
                .iter()
                .filter(|(s, d)| s != d && glob(bucket, s) && !glob(bucket, d))
                .map(|(s, d)| format!("{s} -> {d}"))
                .collect();
            if !lost.is_empty() {
                out.push(finding(
                    path,
                    format!(
                        "S3 bucket pattern {bucket} kept as is, but it no longer matches renamed bucket(s) {}",
                        lost.join(", ")
                    ),
                ));
            }
            bucket
        } else {
            self.buckets.get(bucket).map_or(bucket, String::as_str)
        };
        match key {
            None => bucket2.to_string(),
            // Log delivery writes under `AWSLogs/<account>/`: the writer moves.
            Some(k) => {
                let k2: Vec<&str> = k
                    .split('/')
                    .map(|seg| {
                        if seg == self.base.source_account {
                            self.base.dest_account
                        } else {
                            seg
                        }
                    })
                    .collect();
                format!("{bucket2}/{}", k2.join("/"))
            }
        }
    }

    /// An AWS host name naming the source region (`ec2.us-east-1.amazonaws.com`,
    /// `com.amazonaws.us-east-1.s3`), with the destination region instead.
    fn host(&self, s: &str) -> Option<String> {
        let (from, to) = (self.base.source_region, self.base.dest_region);
        let aws = s.ends_with(".amazonaws.com")
            || s.ends_with(".amazonaws.com.cn")
            || s.starts_with("com.amazonaws.");
        if !aws || from.is_empty() || !s.split('.').any(|l| l == from) {
            return None;
        }
        let labels: Vec<&str> = s
            .split('.')
            .map(|l| if l == from { to } else { l })
            .collect();
        Some(labels.join("."))
    }

    /// Replaces tokens that are mapped EC2 IDs (`vpc-0abc`, `sg-..`); also
    /// says whether any token was a mapped ID.
    fn ids(&self, s: &str) -> (String, bool) {
        let mapping = self.base.mapping;
        if mapping.is_empty() || !s.contains('-') {
            return (s.to_string(), false);
        }
        let is_tok = |c: char| c.is_ascii_alphanumeric() || c == '-';
        let mut out = String::with_capacity(s.len());
        let mut hit = false;
        let mut rest = s;
        while let Some(start) = rest.find(is_tok) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            let end = tail.find(|c: char| !is_tok(c)).unwrap_or(tail.len());
            let token = &tail[..end];
            let dest = Kind::from_id(token)
                .and_then(|kind| mapping.get(&Key::new(kind, token.to_string())));
            match dest {
                Some(d) => {
                    hit = true;
                    out.push_str(d);
                }
                None => out.push_str(token),
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        (out, hit)
    }
}

fn finding(path: &str, message: String) -> Finding {
    Finding {
        path: path.to_string(),
        message,
    }
}

/// `$.a.b`, or `$.a['aws:SourceArn']` for keys that are not identifiers.
fn child(path: &str, key: &str) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        format!("{path}.{key}")
    } else {
        format!(
            "{path}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?']) || s.contains("${")
}

/// The first `arn:` in `s` that starts a word (not `learn:`).
fn find_arn(s: &str) -> Option<usize> {
    s.match_indices("arn:")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || !s.as_bytes()[i - 1].is_ascii_alphanumeric())
}

/// The six parts of an ARN; colons inside `${...}` policy variables do not
/// separate parts.
fn split_arn(s: &str) -> Option<[&str; 6]> {
    let bytes = s.as_bytes();
    let mut parts = [""; 6];
    let (mut n, mut start, mut depth, mut i) = (0, 0, 0usize, 0);
    while i < bytes.len() && n < 5 {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts[n] = &s[start..i];
                n += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if n < 5 {
        return None;
    }
    parts[5] = &s[start..];
    Some(parts)
}

/// IAM wildcard matching: `*` any run of characters, `?` any one.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SRC: &str = "111111111111";
    const DST: &str = "222222222222";

    fn mapping() -> Mapping {
        [
            (Key::new(Kind::Vpc, "vpc-111"), "vpc-999".to_string()),
            (
                Key::new(Kind::VpcEndpoint, "vpce-111"),
                "vpce-999".to_string(),
            ),
        ]
        .into_iter()
        .collect()
    }

    fn buckets() -> BTreeMap<String, String> {
        [("app-data", "app-data-eu"), ("logs-a", "archive-a")]
            .into_iter()
            .map(|(s, d)| (s.to_string(), d.to_string()))
            .collect()
    }

    fn rewriter(m: &Mapping) -> Rewriter<'_> {
        Rewriter {
            source_account: SRC,
            dest_account: DST,
            source_region: "us-east-1",
            dest_region: "eu-west-1",
            mapping: m,
        }
    }

    /// The destination rewritten onto itself.
    fn identity(m: &Mapping) -> Rewriter<'_> {
        Rewriter {
            source_account: DST,
            dest_account: DST,
            source_region: "eu-west-1",
            dest_region: "eu-west-1",
            mapping: m,
        }
    }

    struct Case {
        name: &'static str,
        input: Value,
        expected: Value,
        /// Paths of the findings, in order.
        findings: &'static [&'static str],
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "s3 bucket policy: another account reads, deny outside a VPC endpoint",
                input: json!({
                    "Version": "2012-10-17",
                    "Id": "Policy1415115909152",
                    "Statement": [
                        {
                            "Sid": "CrossAccountRead",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                            "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]
                        },
                        {
                            "Sid": "DenyOutsideVpce",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"],
                            "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-111", "vpce-0unmapped"]}}
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Id": "Policy1415115909152",
                    "Statement": [
                        {
                            "Sid": "CrossAccountRead",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                            "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"]
                        },
                        {
                            "Sid": "DenyOutsideVpce",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"],
                            "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-999", "vpce-0unmapped"]}}
                        }
                    ]
                }),
                findings: &["$.Statement[0].Principal.AWS"],
            },
            Case {
                name: "s3 bucket policy of a renamed bucket, log delivery prefix, bucket pattern",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "App",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111111111111:role/app"},
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": ["arn:aws:s3:::app-data", "arn:aws:s3:::app-data/*", "arn:aws:s3:::app-data-old/*"]
                        },
                        {
                            "Sid": "FlowLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": "delivery.logs.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": "arn:aws:s3:::app-data/AWSLogs/111111111111/*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": "111111111111", "s3:x-amz-acl": "bucket-owner-full-control"},
                                "ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:111111111111:*"}
                            }
                        },
                        {
                            "Sid": "Pattern",
                            "Effect": "Allow",
                            "Principal": {"AWS": "111111111111"},
                            "Action": "s3:ListBucket",
                            "Resource": ["arn:aws:s3:::logs-*", "arn:aws:s3:::app-*"],
                            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "App",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:role/app"},
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": ["arn:aws:s3:::app-data-eu", "arn:aws:s3:::app-data-eu/*", "arn:aws:s3:::app-data-old/*"]
                        },
                        {
                            "Sid": "FlowLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": "delivery.logs.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": "arn:aws:s3:::app-data-eu/AWSLogs/222222222222/*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": "222222222222", "s3:x-amz-acl": "bucket-owner-full-control"},
                                "ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:222222222222:*"}
                            }
                        },
                        {
                            "Sid": "Pattern",
                            "Effect": "Allow",
                            "Principal": {"AWS": "222222222222"},
                            "Action": "s3:ListBucket",
                            "Resource": ["arn:aws:s3:::logs-*", "arn:aws:s3:::app-*"],
                            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}
                        }
                    ]
                }),
                findings: &["$.Statement[0].Principal.AWS", "$.Statement[2].Resource[0]"],
            },
            Case {
                name: "kms key policy: account root, key administrators, EC2 via service, CloudWatch Logs",
                input: json!({
                    "Version": "2012-10-17",
                    "Id": "key-consolepolicy-3",
                    "Statement": [
                        {
                            "Sid": "Enable IAM User Permissions",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                            "Action": "kms:*",
                            "Resource": "*"
                        },
                        {
                            "Sid": "Allow access for Key Administrators",
                            "Effect": "Allow",
                            "Principal": {"AWS": ["arn:aws:iam::111111111111:role/KeyAdmin", "arn:aws:iam::111111111111:user/alice"]},
                            "Action": ["kms:Create*", "kms:Describe*", "kms:ScheduleKeyDeletion"],
                            "Resource": "*"
                        },
                        {
                            "Sid": "Allow EBS through EC2",
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:CallerAccount": "111111111111"}}
                        },
                        {
                            "Sid": "Allow CloudWatch Logs",
                            "Effect": "Allow",
                            "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                            "Action": ["kms:Encrypt*", "kms:Decrypt*"],
                            "Resource": "*",
                            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111111111111:log-group:*"}}
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Id": "key-consolepolicy-3",
                    "Statement": [
                        {
                            "Sid": "Enable IAM User Permissions",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                            "Action": "kms:*",
                            "Resource": "*"
                        },
                        {
                            "Sid": "Allow access for Key Administrators",
                            "Effect": "Allow",
                            "Principal": {"AWS": ["arn:aws:iam::222222222222:role/KeyAdmin", "arn:aws:iam::222222222222:user/alice"]},
                            "Action": ["kms:Create*", "kms:Describe*", "kms:ScheduleKeyDeletion"],
                            "Resource": "*"
                        },
                        {
                            "Sid": "Allow EBS through EC2",
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"kms:ViaService": "ec2.eu-west-1.amazonaws.com", "kms:CallerAccount": "222222222222"}}
                        },
                        {
                            "Sid": "Allow CloudWatch Logs",
                            "Effect": "Allow",
                            "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                            "Action": ["kms:Encrypt*", "kms:Decrypt*"],
                            "Resource": "*",
                            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:222222222222:log-group:*"}}
                        }
                    ]
                }),
                findings: &[
                    "$.Statement[1].Principal.AWS[0]",
                    "$.Statement[1].Principal.AWS[1]",
                    "$.Statement[3].Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']",
                ],
            },
            Case {
                name: "trust policy: service, same-account role with external id, source account and arn",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
                            "Action": "sts:AssumeRole"
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci"},
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                            "Condition": {
                                "StringEquals": {"sts:ExternalId": "111111111111-ci", "aws:SourceAccount": "111111111111"},
                                "ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:alerts"}
                            }
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
                            "Action": "sts:AssumeRole"
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:role/ci"},
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                            "Condition": {
                                "StringEquals": {"sts:ExternalId": "111111111111-ci", "aws:SourceAccount": "222222222222"},
                                "ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:222222222222:alerts"}
                            }
                        }
                    ]
                }),
                findings: &[
                    "$.Statement[1].Principal.AWS",
                    "$.Statement[1].Condition.ArnLike['aws:SourceArn']",
                ],
            },
            Case {
                name: "federated trust: SAML and GitHub OIDC",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": "arn:aws:iam::111111111111:saml-provider/Okta"},
                            "Action": "sts:AssumeRoleWithSAML",
                            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}
                            }
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": "arn:aws:iam::222222222222:saml-provider/Okta"},
                            "Action": "sts:AssumeRoleWithSAML",
                            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}
                            }
                        }
                    ]
                }),
                findings: &["$.Statement[0].Principal.Federated", "$.Statement[1].Principal.Federated"],
            },
            Case {
                name: "cross-account trust to third accounts",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"AWS": ["arn:aws:iam::333333333333:root", "444444444444", "arn:aws:iam::333333333333:role/deployer"]},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"sts:ExternalId": "partner-7f3a", "aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                            "Bool": {"aws:MultiFactorAuthPresent": "true"}
                        }
                    }]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"AWS": ["arn:aws:iam::333333333333:root", "444444444444", "arn:aws:iam::333333333333:role/deployer"]},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"sts:ExternalId": "partner-7f3a", "aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                            "Bool": {"aws:MultiFactorAuthPresent": "true"}
                        }
                    }]
                }),
                findings: &[
                    "$.Statement[0].Principal.AWS[0]",
                    "$.Statement[0].Principal.AWS[1]",
                    "$.Statement[0].Principal.AWS[2]",
                ],
            },
            Case {
                name: "identity policy: wildcards, regions, mapped ids, managed and public ARNs",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                            "Resource": ["arn:aws:dynamodb:us-east-1:111111111111:table/*", "arn:aws:dynamodb:us-east-1:111111111111:table/orders/index/*"]
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": "arn:aws:logs:*:111111111111:*"
                        },
                        {
                            "Effect": "Allow",
                            "Action": "ec2:Describe*",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"], "aws:PrincipalTag/team": "platform"},
                                "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
                            }
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["ec2:RunInstances", "ec2:CreateTags"],
                            "Resource": [
                                "arn:aws:ec2:us-east-1:111111111111:subnet/*",
                                "arn:aws:ec2:us-east-1::image/*",
                                "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/*"
                            ],
                            "Condition": {"StringEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-111"}}
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["iam:AttachRolePolicy", "iam:PassRole"],
                            "Resource": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111111111111:role/app-*", "arn:aws:s3:::*"]
                        },
                        {
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        }
                    ]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                            "Resource": ["arn:aws:dynamodb:eu-west-1:222222222222:table/*", "arn:aws:dynamodb:eu-west-1:222222222222:table/orders/index/*"]
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": "arn:aws:logs:*:222222222222:*"
                        },
                        {
                            "Effect": "Allow",
                            "Action": "ec2:Describe*",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-west-2"], "aws:PrincipalTag/team": "platform"},
                                "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
                            }
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["ec2:RunInstances", "ec2:CreateTags"],
                            "Resource": [
                                "arn:aws:ec2:eu-west-1:222222222222:subnet/*",
                                "arn:aws:ec2:eu-west-1::image/*",
                                "arn:aws:ssm:eu-west-1::parameter/aws/service/ami-amazon-linux-latest/*"
                            ],
                            "Condition": {"StringEquals": {"ec2:Vpc": "arn:aws:ec2:eu-west-1:222222222222:vpc/vpc-999"}}
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["iam:AttachRolePolicy", "iam:PassRole"],
                            "Resource": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::222222222222:role/app-*", "arn:aws:s3:::*"]
                        },
                        {
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        }
                    ]
                }),
                findings: &[
                    "$.Statement[0].Resource[0]",
                    "$.Statement[0].Resource[1]",
                    "$.Statement[3].Resource[0]",
                    "$.Statement[4].Resource[1]",
                    "$.Statement[5].Resource",
                ],
            },
            Case {
                name: "NotPrincipal, NotAction, NotResource",
                input: json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyAllButBreakGlass",
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:role/BreakGlass", "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice", "111111111111"]},
                        "NotAction": ["iam:*", "sts:*"],
                        "NotResource": ["arn:aws:s3:::app-data/public/*", "arn:aws:sns:us-east-1:111111111111:alerts"]
                    }]
                }),
                expected: json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyAllButBreakGlass",
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": ["arn:aws:iam::222222222222:role/BreakGlass", "arn:aws:sts::222222222222:assumed-role/BreakGlass/alice", "222222222222"]},
                        "NotAction": ["iam:*", "sts:*"],
                        "NotResource": ["arn:aws:s3:::app-data-eu/public/*", "arn:aws:sns:eu-west-1:222222222222:alerts"]
                    }]
                }),
                findings: &[
                    "$.Statement[0].NotPrincipal.AWS[0]",
                    "$.Statement[0].NotPrincipal.AWS[1]",
                    "$.Statement[0].NotResource[1]",
                ],
            },
            Case {
                name: "principals as a single string, a list, and a statement as an object",
                input: json!({
                    "Version": "2008-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"AWS": ["111111111111", "arn:aws:iam::111111111111:root"], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
                        "Action": "sqs:SendMessage",
                        "Resource": "arn:aws:sqs:us-east-1:111111111111:jobs"
                    }
                }),
                expected: json!({
                    "Version": "2008-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"AWS": ["222222222222", "arn:aws:iam::222222222222:root"], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
                        "Action": "sqs:SendMessage",
                        "Resource": "arn:aws:sqs:eu-west-1:222222222222:jobs"
                    }
                }),
                findings: &["$.Statement.Resource"],
            },
            Case {
                name: "vpc endpoint policy: anyone, own account's resources and a third account's",
                input: json!({
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"aws:PrincipalAccount": "111111111111", "aws:ResourceAccount": ["111111111111", "333333333333"]},
                            "StringEqualsIfExists": {"aws:SourceVpc": "vpc-111"}
                        }
                    }]
                }),
                expected: json!({
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"aws:PrincipalAccount": "222222222222", "aws:ResourceAccount": ["222222222222", "333333333333"]},
                            "StringEqualsIfExists": {"aws:SourceVpc": "vpc-999"}
                        }
                    }]
                }),
                findings: &["$.Statement[0].Condition.StringEquals['aws:ResourceAccount'][1]"],
            },
        ]
    }

    #[test]
    fn table_rewrites_exactly() {
        let (m, b) = (mapping(), buckets());
        let r = rewriter(&m).with_buckets(&b);
        for c in cases() {
            assert_eq!(r.document(&c.input), c.expected, "{}", c.name);
        }
    }

    #[test]
    fn table_reports_exactly_where() {
        let (m, b) = (mapping(), buckets());
        let r = rewriter(&m).with_buckets(&b);
        for c in cases() {
            let (doc, findings) = r.rewrite(&c.input);
            assert_eq!(doc, c.expected, "{}", c.name);
            let paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(paths, c.findings, "{}: {findings:#?}", c.name);
        }
    }

    #[test]
    fn table_rewritten_documents_are_fixed_points_at_the_destination() {
        let (m, b) = (mapping(), buckets());
        let r = identity(&m).with_buckets(&b);
        for c in cases() {
            assert_eq!(r.document(&c.expected), c.expected, "{}", c.name);
        }
        let none = Mapping::new();
        for c in cases() {
            assert_eq!(
                identity(&none).document(&c.expected),
                c.expected,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn a_plain_rewriter_renames_no_bucket() {
        let m = mapping();
        let r = rewriter(&m);
        let doc = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": SRC}, "Action": "s3:*",
            "Resource": ["arn:aws:s3:::app-data/*", "arn:aws:s3:::logs-*"]}]});
        assert_eq!(
            r.document(&doc),
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": DST}, "Action": "s3:*",
                "Resource": ["arn:aws:s3:::app-data/*", "arn:aws:s3:::logs-*"]}]})
        );
        assert_eq!(r.report(&doc), vec![]);
    }

    #[test]
    fn report_messages() {
        let (m, b) = (mapping(), buckets());
        let r = rewriter(&m).with_buckets(&b);
        let doc = json!({"Statement": [{
            "Condition": {"StringEquals": {"aws:SourceAccount": "555555555555"}},
            "Principal": {"AWS": ["arn:aws:iam::333333333333:root", "444444444444", "arn:aws:iam::111111111111:role/KeyAdmin"]},
            "Resource": [
                "arn:aws:s3:::logs-*",
                "arn:aws:sns:us-east-1:111111111111:alerts",
                "arn:aws:dynamodb:us-east-1:111111111111:table/*",
                "arn:aws:kms:us-east-1:333333333333:key/k",
                "arn:aws:iam::333333333333:role/r"
            ]
        }]});
        let f = |path: &str, message: &str| Finding {
            path: path.to_string(),
            message: message.to_string(),
        };
        assert_eq!(
            r.report(&doc),
            vec![
                f(
                    "$.Statement[0].Condition.StringEquals['aws:SourceAccount']",
                    "third account 555555555555 (neither source nor destination) kept as is"
                ),
                f(
                    "$.Statement[0].Principal.AWS[0]",
                    "principal arn:aws:iam::333333333333:root is in third account 333333333333 (neither source nor destination): \
                     kept as is; whatever that account has that names source account 111111111111 must be updated to 222222222222"
                ),
                f(
                    "$.Statement[0].Principal.AWS[1]",
                    "principal 444444444444 is in third account 444444444444 (neither source nor destination): \
                     kept as is; whatever that account has that names source account 111111111111 must be updated to 222222222222"
                ),
                f(
                    "$.Statement[0].Principal.AWS[2]",
                    "arn:aws:iam::111111111111:role/KeyAdmin is not migrated by ferry: kept with the account rewritten as \
                     arn:aws:iam::222222222222:role/KeyAdmin; make sure it exists in the destination"
                ),
                f(
                    "$.Statement[0].Resource[0]",
                    "S3 bucket pattern logs-* kept as is, but it no longer matches renamed bucket(s) logs-a -> archive-a"
                ),
                f(
                    "$.Statement[0].Resource[1]",
                    "arn:aws:sns:us-east-1:111111111111:alerts is not migrated by ferry: kept with the account rewritten as \
                     arn:aws:sns:eu-west-1:222222222222:alerts; make sure it exists in the destination"
                ),
                f(
                    "$.Statement[0].Resource[2]",
                    "arn:aws:dynamodb:us-east-1:111111111111:table/* is not migrated by ferry: kept with the account rewritten as \
                     arn:aws:dynamodb:eu-west-1:222222222222:table/*; make sure what it should match exists in the destination"
                ),
                f(
                    "$.Statement[0].Resource[3]",
                    "arn:aws:kms:us-east-1:333333333333:key/k is in third account 333333333333 (neither source nor destination): \
                     kept as is, in region us-east-1"
                ),
                f(
                    "$.Statement[0].Resource[4]",
                    "arn:aws:iam::333333333333:role/r is in third account 333333333333 (neither source nor destination): kept as is"
                ),
            ]
        );
        let json = serde_json::to_value(&r.report(&doc)[0]).unwrap();
        assert_eq!(
            json,
            json!({"path": "$.Statement[0].Condition.StringEquals['aws:SourceAccount']",
                   "message": "third account 555555555555 (neither source nor destination) kept as is"})
        );
    }

    #[test]
    fn bucket_patterns_that_still_match_are_not_reported() {
        let m = Mapping::new();
        let b: BTreeMap<String, String> = [("logs-a".to_string(), "logs-a-eu".to_string())].into();
        let r = rewriter(&m).with_buckets(&b);
        let doc =
            json!({"Resource": ["arn:aws:s3:::logs-*", "arn:aws:s3:::*", "arn:aws:s3:::logs-?"]});
        assert_eq!(r.document(&doc), doc);
        let findings = r.report(&doc);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].path, "$.Resource[2]");
    }

    #[test]
    fn bare_regions_change_only_in_conditions() {
        let m = Mapping::new();
        let r = rewriter(&m);
        let doc = json!({
            "Statement": [{"Sid": "us-east-1", "Resource": "us-east-1", "Principal": {"Service": "us-east-1"},
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1", "us-east-1": "x"}}}]
        });
        assert_eq!(
            r.document(&doc),
            json!({
                "Statement": [{"Sid": "us-east-1", "Resource": "us-east-1", "Principal": {"Service": "us-east-1"},
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1", "us-east-1": "x"}}}]
            })
        );
        assert_eq!(r.string("us-east-1"), "us-east-1");
    }

    #[test]
    fn version_sid_and_actions_are_never_touched() {
        let m: Mapping = [(Key::new(Kind::Vpc, "vpc-1"), "vpc-2".to_string())]
            .into_iter()
            .collect();
        let r = rewriter(&m);
        let doc = json!({"Version": "111111111111", "Id": "vpc-1", "Statement": [
            {"Sid": "arn:aws:iam::111111111111:root", "Action": "vpc-1", "NotAction": ["111111111111"]}]});
        assert_eq!(r.document(&doc), doc);
    }

    #[test]
    fn aws_host_names_follow_the_region() {
        let m = Mapping::new();
        let r = rewriter(&m).with_buckets(&NO_BUCKETS);
        assert_eq!(
            r.host("ec2.us-east-1.amazonaws.com").as_deref(),
            Some("ec2.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            r.host("*.us-east-1.amazonaws.com").as_deref(),
            Some("*.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            r.host("com.amazonaws.us-east-1.s3").as_deref(),
            Some("com.amazonaws.eu-west-1.s3")
        );
        assert_eq!(r.host("ec2.amazonaws.com"), None);
        assert_eq!(r.host("us-east-1.example.com"), None);
        assert_eq!(r.host("ec2.us-east-2.amazonaws.com"), None);
    }

    #[test]
    fn arns_inside_longer_strings_and_policy_variables() {
        let m = mapping();
        let r = rewriter(&m);
        assert_eq!(
            r.string("allow arn:aws:iam::111111111111:role/a, arn:aws:iam::111111111111:role/b"),
            "allow arn:aws:iam::222222222222:role/a, arn:aws:iam::222222222222:role/b"
        );
        assert_eq!(
            r.string("arn:aws:iam::${aws:PrincipalAccount}:role/x"),
            "arn:aws:iam::${aws:PrincipalAccount}:role/x"
        );
        assert_eq!(
            r.string("arn:aws:s3:us-east-1:111111111111:accesspoint/${aws:username}"),
            "arn:aws:s3:eu-west-1:222222222222:accesspoint/${aws:username}"
        );
        assert_eq!(
            r.string("learn:aws:iam::111111111111:root"),
            "learn:aws:iam::111111111111:root"
        );
        assert_eq!(
            r.string("arn:*:iam::111111111111:role/*"),
            "arn:*:iam::222222222222:role/*"
        );
        assert_eq!(
            r.string("arn:aws:ec2:us-east-1:*:vpc/vpc-111"),
            "arn:aws:ec2:eu-west-1:*:vpc/vpc-999"
        );
        assert_eq!(r.string("333333333333"), "333333333333");
    }

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("logs-*", "logs-a"));
        assert!(glob("logs-*", "logs-"));
        assert!(glob("*", ""));
        assert!(glob("l?gs-*-eu", "logs-a-b-eu"));
        assert!(!glob("logs-?", "logs-ab"));
        assert!(!glob("logs-*", "archive-a"));
        assert!(glob("*a*b", "xaxxb"));
        assert!(!glob("*a*b", "xaxxbc"));
    }

    #[test]
    fn rewrites_accounts_regions_and_ids_in_policies() {
        let m = mapping();
        let r = rewriter(&m);
        let policy = json!({
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": ["111111111111", "arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"]},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-111", "aws:SourceVpce": "vpce-unmapped"}}
            }]
        });
        let out = r.document(&policy);
        let s = &out["Statement"][0];
        assert_eq!(s["Principal"]["AWS"][0], "222222222222");
        assert_eq!(s["Principal"]["AWS"][1], "arn:aws:iam::222222222222:root");
        assert_eq!(
            s["Principal"]["AWS"][2], "arn:aws:iam::333333333333:root",
            "third accounts kept"
        );
        assert_eq!(s["Resource"], "arn:aws:s3:::bucket/*");
        assert_eq!(s["Condition"]["StringEquals"]["aws:SourceVpc"], "vpc-999");
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceVpce"],
            "vpce-unmapped"
        );
        assert_eq!(s["Action"], "s3:GetObject");
    }

    #[test]
    fn rewrites_region_and_ids_inside_arns() {
        let m = mapping();
        let r = rewriter(&m);
        assert_eq!(
            r.string("arn:aws:ec2:us-east-1:111111111111:vpc/vpc-111"),
            "arn:aws:ec2:eu-west-1:222222222222:vpc/vpc-999"
        );
        assert_eq!(r.string("no arn here"), "no arn here");
        assert_eq!(r.string("arn:broken"), "arn:broken");
    }

    /// Found by the policy_rewrite fuzz target: a rewritten document holding
    /// a large number read back different once written (serde_json without
    /// its float_roundtrip feature).
    #[test]
    fn fuzz_regression_the_output_reads_back_equal() {
        let text = include_str!("../fuzz-regressions/policy_rewrite/float-roundtrip.json");
        let doc: Value = serde_json::from_str(text).unwrap();
        let m = mapping();
        let out = rewriter(&m).document(&doc);
        let back: Value = serde_json::from_str(&serde_json::to_string(&out).unwrap()).unwrap();
        assert_eq!(back, out);
    }
}
