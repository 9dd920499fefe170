//! Which AWS API a request calls, and which throttling class it falls in.
//!
//! The proxy sees raw HTTP, so the API is read the way AWS's front ends read
//! it: the service from the SigV4 credential scope (`.../REGION/SERVICE/
//! aws4_request`, in the Authorization header or a presigned URL's
//! `X-Amz-Credential`), then the operation by protocol:
//!
//! - query protocol (EC2, IAM, STS, ELB, Auto Scaling, CloudWatch): the
//!   `Action` parameter, from the query string or the form body;
//! - JSON protocols (KMS, ACM ...): the `X-Amz-Target` header
//!   (`TrentService.CreateKey` -> `CreateKey`);
//! - S3 (REST-XML): the SDK's `x-id` query parameter when it sends one, else
//!   the method, whether the path names a bucket or an object, the
//!   sub-resource in the query (`?versioning`, `?uploads` ...) and
//!   `x-amz-copy-source`. S3 Control's paths start with `/v20180820/`.
//!
//! The class names match ferry's own client-side limiter
//! (crates/ferry-aws/src/ratelimit.rs), so a throttling file for the proxy
//! and `[apply.rate_limits]` in ferry.toml speak the same keys.

use hyper::Method;

/// The wire format of a service's errors: what a throttled or failed
/// response must look like for the SDK to recognise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EC2's query dialect: `<Response><Errors><Error>`.
    Ec2,
    /// The other query services: `<ErrorResponse><Error>`.
    Query,
    /// JSON 1.0/1.1 protocols: `{"__type": ...}`.
    Json,
    /// S3 and S3 Control: a bare `<Error>`.
    S3,
}

/// The API a request calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The signing name: `ec2`, `s3`, `iam`, `monitoring`, `kms` ...
    /// (`s3control` for S3 Control, which signs as `s3`); `unknown` for an
    /// unsigned request.
    pub service: String,
    /// `CreateVpc`, `CopyObject`, `CreateKey` ...
    pub operation: String,
    /// The throttling class: `ec2.mutating`, `s3.write` ...
    pub class: String,
    /// For S3: the bucket the request addresses (S3 throttles per prefix,
    /// and a new bucket starts as one prefix); None otherwise.
    pub bucket: Option<String>,
    pub protocol: Protocol,
}

impl Api {
    /// `service:Operation`, the key of the per-API counters.
    pub fn key(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    /// Whether the call only reads.
    pub fn is_read(&self) -> bool {
        self.class.ends_with(".non_mutating") || self.class.ends_with(".read")
    }
}

/// What the classifier needs from a request.
pub struct Request<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The signing service from the credential scope.
    pub service: Option<&'a str>,
    pub action: Option<&'a str>,
    pub target: Option<&'a str>,
    pub copy_source: Option<&'a str>,
}

pub fn classify(r: &Request<'_>) -> Api {
    let signed = r.service.unwrap_or("unknown");
    if signed == "s3" || (r.service.is_none() && r.action.is_none() && r.target.is_none()) {
        if r.path.starts_with("/v20180820/") {
            return s3control(r);
        }
        return s3(r);
    }
    if let Some(action) = r.action {
        let protocol = if signed == "ec2" {
            Protocol::Ec2
        } else {
            Protocol::Query
        };
        return Api {
            service: signed.to_string(),
            operation: action.to_string(),
            class: query_class(signed, action),
            bucket: None,
            protocol,
        };
    }
    if let Some(target) = r.target {
        let operation = target.rsplit('.').next().unwrap_or(target).to_string();
        return Api {
            service: signed.to_string(),
            class: generic_class(signed, &operation),
            operation,
            bucket: None,
            protocol: Protocol::Json,
        };
    }
    // Another REST protocol: name the call by method and path.
    let operation = format!("{} {}", r.method, r.path);
    Api {
        service: signed.to_string(),
        class: if matches!(*r.method, Method::GET | Method::HEAD) {
            format!("{signed}.non_mutating")
        } else {
            format!("{signed}.mutating")
        },
        operation,
        bucket: None,
        protocol: Protocol::Json,
    }
}

/// EC2's documented classes; the other query services split reads from
/// writes by the verb.
fn query_class(service: &str, action: &str) -> String {
    if service == "ec2" {
        return match action {
            "RunInstances" => "ec2.run_instances".into(),
            "CopyImage" => "ec2.copy_image".into(),
            a if is_read_verb(a) => "ec2.non_mutating".into(),
            _ => "ec2.mutating".into(),
        };
    }
    generic_class(service, action)
}

fn generic_class(service: &str, operation: &str) -> String {
    // CloudWatch signs as "monitoring"; ferry's key says "cloudwatch", ELB's
    // "elasticloadbalancing" covers both ELB APIs.
    let service = match service {
        "monitoring" => "cloudwatch",
        other => other,
    };
    if is_read_verb(operation) {
        format!("{service}.non_mutating")
    } else {
        format!("{service}.mutating")
    }
}

fn is_read_verb(operation: &str) -> bool {
    const READS: &[&str] = &["Describe", "Get", "List", "Head", "Lookup", "Search"];
    READS.iter().any(|verb| operation.starts_with(verb))
}

/// Query parameter names, decoded.
fn params(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Bucket-level sub-resources and the name AWS gives their Get/Put/Delete.
const BUCKET_SUBRESOURCES: &[(&str, &str)] = &[
    ("versioning", "BucketVersioning"),
    ("policy", "BucketPolicy"),
    ("tagging", "BucketTagging"),
    ("cors", "BucketCors"),
    ("lifecycle", "BucketLifecycleConfiguration"),
    ("website", "BucketWebsite"),
    ("encryption", "BucketEncryption"),
    ("logging", "BucketLogging"),
    ("notification", "BucketNotificationConfiguration"),
    ("publicAccessBlock", "PublicAccessBlock"),
    ("ownershipControls", "BucketOwnershipControls"),
    ("object-lock", "ObjectLockConfiguration"),
    ("acl", "BucketAcl"),
    ("location", "BucketLocation"),
    ("accelerate", "BucketAccelerateConfiguration"),
    ("replication", "BucketReplication"),
    ("requestPayment", "BucketRequestPayment"),
    ("policyStatus", "BucketPolicyStatus"),
];

fn s3(r: &Request<'_>) -> Api {
    let params = params(r.query);
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    let trimmed = r.path.trim_start_matches('/');
    let (bucket, key) = match trimmed.split_once('/') {
        Some((b, k)) => (b, k),
        None => (trimmed, ""),
    };
    let method = r.method;
    let operation = if let Some((_, id)) = params.iter().find(|(k, _)| k == "x-id") {
        id.clone()
    } else if bucket.is_empty() {
        "ListBuckets".to_string()
    } else if key.is_empty() {
        s3_bucket_operation(method, &params)
    } else {
        let part = has("partNumber") && has("uploadId");
        match *method {
            Method::PUT if part && r.copy_source.is_some() => "UploadPartCopy".into(),
            Method::PUT if part => "UploadPart".into(),
            Method::PUT if has("tagging") => "PutObjectTagging".into(),
            Method::PUT if has("acl") => "PutObjectAcl".into(),
            Method::PUT if r.copy_source.is_some() => "CopyObject".into(),
            Method::PUT => "PutObject".into(),
            Method::GET if has("tagging") => "GetObjectTagging".into(),
            Method::GET if has("acl") => "GetObjectAcl".into(),
            Method::GET if has("attributes") => "GetObjectAttributes".into(),
            Method::GET if has("uploadId") => "ListParts".into(),
            Method::GET => "GetObject".into(),
            Method::HEAD => "HeadObject".into(),
            Method::DELETE if has("uploadId") => "AbortMultipartUpload".into(),
            Method::DELETE if has("tagging") => "DeleteObjectTagging".into(),
            Method::DELETE => "DeleteObject".into(),
            Method::POST if has("uploads") => "CreateMultipartUpload".into(),
            Method::POST if has("uploadId") => "CompleteMultipartUpload".into(),
            _ => format!("{method} object"),
        }
    };
    let read = matches!(*method, Method::GET | Method::HEAD);
    Api {
        service: "s3".into(),
        operation,
        class: if read { "s3.read" } else { "s3.write" }.into(),
        bucket: (!bucket.is_empty()).then(|| bucket.to_string()),
        protocol: Protocol::S3,
    }
}

fn s3_bucket_operation(method: &Method, params: &[(String, String)]) -> String {
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    for (sub, name) in BUCKET_SUBRESOURCES {
        if has(sub) {
            let verb = match *method {
                Method::GET | Method::HEAD => "Get",
                Method::PUT | Method::POST => "Put",
                Method::DELETE => "Delete",
                _ => return format!("{method} {name}"),
            };
            return format!("{verb}{name}");
        }
    }
    match *method {
        Method::GET if has("list-type") => "ListObjectsV2".into(),
        Method::GET if has("versions") => "ListObjectVersions".into(),
        Method::GET if has("uploads") => "ListMultipartUploads".into(),
        Method::GET => "ListObjects".into(),
        Method::HEAD => "HeadBucket".into(),
        Method::PUT => "CreateBucket".into(),
        Method::DELETE => "DeleteBucket".into(),
        Method::POST if has("delete") => "DeleteObjects".into(),
        _ => format!("{method} bucket"),
    }
}

fn s3control(r: &Request<'_>) -> Api {
    let rest = r.path.trim_start_matches("/v20180820/");
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let operation = match (r.method, segments.as_slice()) {
        (&Method::POST, ["jobs"]) => "CreateJob".to_string(),
        (&Method::GET, ["jobs"]) => "ListJobs".to_string(),
        (&Method::GET, ["jobs", _]) => "DescribeJob".to_string(),
        (&Method::POST, ["jobs", _, "status"]) => "UpdateJobStatus".to_string(),
        (&Method::POST, ["jobs", _, "priority"]) => "UpdateJobPriority".to_string(),
        (method, [first, ..]) => format!("{method} {first}"),
        (method, []) => format!("{method} /"),
    };
    Api {
        service: "s3control".into(),
        operation,
        class: "s3control.jobs".into(),
        bucket: None,
        protocol: Protocol::S3,
    }
}

/// The signing service and region of a SigV4 request: from
/// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`
/// or a presigned URL's `X-Amz-Credential`. The access key id is returned
/// apart: it keys per-caller throttling and is never logged.
pub fn credential_scope(
    authorization: Option<&str>,
    query: Option<&str>,
) -> Option<(String, String, String)> {
    let credential = match authorization.and_then(|a| a.split_once("Credential=")) {
        Some((_, rest)) => rest.split([',', ' ']).next().unwrap_or("").to_string(),
        None => params(query)
            .into_iter()
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v)?,
    };
    let mut parts = credential.split('/');
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some((key, region, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(service: &str, action: &str) -> Api {
        classify(&Request {
            method: &Method::POST,
            path: "/",
            query: None,
            service: Some(service),
            action: Some(action),
            target: None,
            copy_source: None,
        })
    }

    fn s3_call(method: Method, path: &str, q: Option<&str>, copy: bool) -> Api {
        classify(&Request {
            method: &method,
            path,
            query: q,
            service: Some("s3"),
            action: None,
            target: None,
            copy_source: copy.then_some("src/key"),
        })
    }

    #[test]
    fn ec2_actions_fall_in_awss_documented_classes() {
        let c = |a| query("ec2", a).class;
        assert_eq!(c("DescribeVpcs"), "ec2.non_mutating");
        assert_eq!(c("GetManagedPrefixListEntries"), "ec2.non_mutating");
        assert_eq!(c("CreateVpc"), "ec2.mutating");
        assert_eq!(c("AuthorizeSecurityGroupIngress"), "ec2.mutating");
        assert_eq!(c("RunInstances"), "ec2.run_instances");
        assert_eq!(c("CopyImage"), "ec2.copy_image");
        let api = query("ec2", "CreateVpc");
        assert_eq!(
            (api.key(), api.protocol),
            ("ec2:CreateVpc".into(), Protocol::Ec2)
        );
        assert!(!api.is_read() && query("ec2", "DescribeVpcs").is_read());
    }

    #[test]
    fn other_query_and_json_services_split_reads_from_writes() {
        let role = query("iam", "CreateRole");
        assert_eq!(
            (role.class.as_str(), role.protocol),
            ("iam.mutating", Protocol::Query)
        );
        assert_eq!(query("iam", "ListRoles").class, "iam.non_mutating");
        assert_eq!(
            query("monitoring", "PutMetricAlarm").class,
            "cloudwatch.mutating"
        );
        assert_eq!(query("sts", "AssumeRole").class, "sts.mutating");
        let kms = classify(&Request {
            method: &Method::POST,
            path: "/",
            query: None,
            service: Some("kms"),
            action: None,
            target: Some("TrentService.CreateKey"),
            copy_source: None,
        });
        assert_eq!(
            (kms.key().as_str(), kms.class.as_str(), kms.protocol),
            ("kms:CreateKey", "kms.mutating", Protocol::Json)
        );
    }

    #[test]
    fn s3_requests_are_named_like_the_api() {
        // (method, path, query, x-amz-copy-source sent, operation)
        let cases = [
            (Method::GET, "/", None, false, "ListBuckets"),
            (Method::PUT, "/b", None, false, "CreateBucket"),
            (Method::PUT, "/b/", None, false, "CreateBucket"),
            (
                Method::GET,
                "/b",
                Some("list-type=2&prefix=a"),
                false,
                "ListObjectsV2",
            ),
            (
                Method::GET,
                "/b",
                Some("versions"),
                false,
                "ListObjectVersions",
            ),
            (
                Method::PUT,
                "/b",
                Some("versioning"),
                false,
                "PutBucketVersioning",
            ),
            (
                Method::DELETE,
                "/b",
                Some("policy"),
                false,
                "DeleteBucketPolicy",
            ),
            (Method::POST, "/b", Some("delete"), false, "DeleteObjects"),
            (Method::HEAD, "/b", None, false, "HeadBucket"),
            (Method::PUT, "/b/k%20ey", None, true, "CopyObject"),
            (
                Method::PUT,
                "/b/k",
                Some("partNumber=2&uploadId=u"),
                true,
                "UploadPartCopy",
            ),
            (
                Method::PUT,
                "/b/k",
                Some("partNumber=2&uploadId=u"),
                false,
                "UploadPart",
            ),
            (
                Method::POST,
                "/b/k",
                Some("uploads"),
                false,
                "CreateMultipartUpload",
            ),
            (
                Method::POST,
                "/b/k",
                Some("uploadId=u"),
                false,
                "CompleteMultipartUpload",
            ),
            (
                Method::DELETE,
                "/b/k",
                Some("uploadId=u"),
                false,
                "AbortMultipartUpload",
            ),
            (
                Method::GET,
                "/b/k",
                Some("tagging"),
                false,
                "GetObjectTagging",
            ),
            (Method::HEAD, "/b/a/b/c", None, false, "HeadObject"),
            // The SDK's own operation name wins when it sends one.
            (
                Method::GET,
                "/b/k",
                Some("x-id=GetObject"),
                false,
                "GetObject",
            ),
        ];
        for (method, path, query, copy, want) in cases {
            let got = s3_call(method.clone(), path, query, copy).operation;
            assert_eq!(got, want, "{method} {path}?{query:?}");
        }

        let copy = s3_call(Method::PUT, "/dst/dir/k", None, true);
        assert_eq!(copy.bucket.as_deref(), Some("dst"));
        assert_eq!(
            (copy.class.as_str(), copy.protocol),
            ("s3.write", Protocol::S3)
        );
        assert_eq!(s3_call(Method::GET, "/dst/k", None, false).class, "s3.read");
        assert_eq!(s3_call(Method::GET, "/", None, false).bucket, None);
    }

    #[test]
    fn s3_control_is_told_apart_by_its_path() {
        let job = s3_call(Method::GET, "/v20180820/jobs/abc", None, false);
        assert_eq!(
            (
                job.service.as_str(),
                job.operation.as_str(),
                job.class.as_str()
            ),
            ("s3control", "DescribeJob", "s3control.jobs")
        );
        let create = s3_call(Method::POST, "/v20180820/jobs", None, false);
        assert_eq!(create.operation, "CreateJob");
    }

    #[test]
    fn the_credential_scope_names_the_service() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            credential_scope(Some(auth), None),
            Some(("AKIDEXAMPLE".into(), "us-east-1".into(), "ec2".into()))
        );
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20261122%2Feu-west-1%2Fs3%2Faws4_request";
        assert_eq!(
            credential_scope(None, Some(presigned)),
            Some(("AK".into(), "eu-west-1".into(), "s3".into()))
        );
        assert_eq!(credential_scope(Some("Bearer x"), None), None);
        assert_eq!(credential_scope(None, None), None);
    }
}
