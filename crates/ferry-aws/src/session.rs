//! A side of the migration: credentials, region, endpoints, clients and rate
//! limits, resolved from one `[source]` or `[destination]` table.
//!
//! Credentials come only from the standard chain (environment, profiles, SSO,
//! instance roles), optionally exchanged for a role with AssumeRole. ferry
//! never reads, prints or stores keys itself.

use crate::error::{api, AwsError, Result};
use crate::ratelimit::{Class, Limiter};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use ferry_core::config::SideConfig;
use ferry_core::SideInfo;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts of API calls by class, for progress output and benchmarks.
#[derive(Debug, Default)]
pub struct CallCounts {
    pub read: AtomicU64,
    pub mutate: AtomicU64,
}

#[derive(Clone)]
pub struct Side {
    /// "source" or "destination", for messages.
    pub name: &'static str,
    pub info: SideInfo,
    /// The IAM principal ferry acts as on this side (a role ARN for an
    /// assumed role, else the user or root ARN): what a temporary grant in
    /// the other account names.
    pub principal: String,
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    kms: aws_sdk_kms::Client,
    autoscaling: aws_sdk_autoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    acm: aws_sdk_acm::Client,
    s3: aws_sdk_s3::Client,
    s3control: aws_sdk_s3control::Client,
    limiter: Arc<Limiter>,
    pub calls: Arc<CallCounts>,
    /// The side's resolved configuration (credentials included, never
    /// shown), for clients made on demand in another region (SNS topics).
    pub(crate) sdk: SdkConfig,
    /// `[<side>.endpoints] sns`, which wins over the side's endpoint_url.
    pub(crate) sns_endpoint: Option<String>,
    /// Bucket listings discovery keeps for the copy (off unless the engine
    /// turns it on: see [`crate::s3::spill`]).
    pub listings: Arc<crate::s3::spill::Listings>,
    /// The availability zones of a side made by [`Side::offline`].
    fixed_zones: Option<Vec<String>>,
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side")
            .field("name", &self.name)
            .field("info", &self.info)
            .finish()
    }
}

impl Side {
    /// Builds the clients and asks STS who we are (which also proves the
    /// credentials and the endpoint work before anything else happens).
    pub async fn connect(
        name: &'static str,
        cfg: &SideConfig,
        limits: &BTreeMap<String, (u32, f64)>,
    ) -> Result<Side> {
        let limiter = Limiter::new(limits).map_err(|message| AwsError::Invalid {
            side: name,
            message,
        })?;
        let sdk = sdk_config(name, cfg).await?;
        let sts_conf = with_endpoint(aws_sdk_sts::config::Builder::from(&sdk), cfg, "sts");
        let sts = aws_sdk_sts::Client::from_conf(sts_conf.build());
        let who = sts.get_caller_identity().send().await.map_err(|e| {
            let e = api(name, "GetCallerIdentity", e);
            credentials_hint(name, cfg, e)
        })?;
        let account = who.account().unwrap_or_default().to_string();
        let partition = who
            .arn()
            .and_then(|a| a.split(':').nth(1))
            .unwrap_or("aws")
            .to_string();
        // Creates whose response is lost are found by tag, not sent again
        // blind (lost.rs).
        let ec2_conf = with_endpoint(aws_sdk_ec2::config::Builder::from(&sdk), cfg, "ec2")
            .interceptor(crate::lost::LostResponse);
        let iam_conf = with_endpoint(aws_sdk_iam::config::Builder::from(&sdk), cfg, "iam");
        let kms_conf = with_endpoint(aws_sdk_kms::config::Builder::from(&sdk), cfg, "kms")
            .interceptor(crate::lost::LostResponse);
        let asg_conf = with_endpoint(
            aws_sdk_autoscaling::config::Builder::from(&sdk),
            cfg,
            "autoscaling",
        );
        // CloudWatch's signing name is "monitoring"; either key is accepted.
        let cw_service = if cfg.endpoints.contains_key("cloudwatch") {
            "cloudwatch"
        } else {
            "monitoring"
        };
        let cw_conf = with_endpoint(
            aws_sdk_cloudwatch::config::Builder::from(&sdk),
            cfg,
            cw_service,
        );
        // Both ELB APIs share the "elasticloadbalancing" endpoint; "elbv2"
        // (the SDK's name) may point v2 elsewhere.
        let elb_conf = with_endpoint(
            aws_sdk_elasticloadbalancing::config::Builder::from(&sdk),
            cfg,
            "elasticloadbalancing",
        );
        let v2_service = if cfg.endpoints.contains_key("elbv2") {
            "elbv2"
        } else {
            "elasticloadbalancing"
        };
        let elbv2_conf = with_endpoint(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(&sdk),
            cfg,
            v2_service,
        );
        let acm_conf = with_endpoint(aws_sdk_acm::config::Builder::from(&sdk), cfg, "acm");
        // Path-style addressing when an endpoint is overridden: emulators and
        // VPC interface endpoints do not serve bucket-name host names.
        let s3_conf = with_endpoint(aws_sdk_s3::config::Builder::from(&sdk), cfg, "s3")
            .force_path_style(cfg.endpoint_url.is_some() || cfg.endpoints.contains_key("s3"));
        let s3control_conf = with_endpoint(
            aws_sdk_s3control::config::Builder::from(&sdk),
            cfg,
            "s3control",
        );
        let principal = principal_of(who.arn().unwrap_or_default(), &account, &partition);
        Ok(Side {
            name,
            principal,
            info: SideInfo {
                account,
                region: cfg.region.clone(),
                partition,
            },
            ec2: aws_sdk_ec2::Client::from_conf(ec2_conf.build()),
            iam: aws_sdk_iam::Client::from_conf(iam_conf.build()),
            kms: aws_sdk_kms::Client::from_conf(kms_conf.build()),
            autoscaling: aws_sdk_autoscaling::Client::from_conf(asg_conf.build()),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cw_conf.build()),
            elb: aws_sdk_elasticloadbalancing::Client::from_conf(elb_conf.build()),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2_conf.build()),
            acm: aws_sdk_acm::Client::from_conf(acm_conf.build()),
            s3: aws_sdk_s3::Client::from_conf(s3_conf.build()),
            s3control: aws_sdk_s3control::Client::from_conf(s3control_conf.build()),
            limiter: Arc::new(limiter),
            calls: Arc::new(CallCounts::default()),
            sns_endpoint: cfg.endpoints.get("sns").cloned(),
            sdk,
            listings: Arc::default(),
            fixed_zones: None,
        })
    }

    /// A side given its identity and zones instead of asking AWS for them,
    /// for tests that drive the engine with fake adapters: nothing it holds
    /// touches the network until an adapter calls AWS through it (a fake
    /// never does), and it has no credentials to call with.
    pub fn offline(name: &'static str, info: SideInfo, zones: Vec<String>) -> Side {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(info.region.clone()))
            .build();
        Side {
            name,
            principal: format!("arn:{}:iam::{}:root", info.partition, info.account),
            info,
            ec2: aws_sdk_ec2::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
            autoscaling: aws_sdk_autoscaling::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            elb: aws_sdk_elasticloadbalancing::Client::new(&sdk),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            acm: aws_sdk_acm::Client::new(&sdk),
            s3: aws_sdk_s3::Client::new(&sdk),
            s3control: aws_sdk_s3control::Client::new(&sdk),
            limiter: Arc::new(Limiter::new(&BTreeMap::new()).expect("no limits are valid limits")),
            calls: Arc::new(CallCounts::default()),
            sdk,
            sns_endpoint: None,
            listings: Arc::default(),
            fixed_zones: Some(zones),
        }
    }

    /// Waits for a token of the call's class and counts the call.
    pub(crate) async fn pace(&self, class: Class) {
        self.limiter.acquire(class).await;
        if class.is_read() {
            self.calls.read.fetch_add(1, Ordering::Relaxed);
        } else {
            self.calls.mutate.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The EC2 client, after waiting for a token of the call's class.
    pub async fn ec2(&self, class: Class) -> &aws_sdk_ec2::Client {
        self.pace(class).await;
        &self.ec2
    }

    /// The IAM client, after waiting for a token of the call's class.
    pub async fn iam(&self, class: Class) -> &aws_sdk_iam::Client {
        self.pace(class).await;
        &self.iam
    }

    /// The KMS client (classes KmsRead / KmsMutate).
    pub async fn kms(&self, class: Class) -> &aws_sdk_kms::Client {
        self.pace(class).await;
        &self.kms
    }

    /// The Auto Scaling client (classes AutoScalingRead / AutoScalingMutate).
    pub async fn autoscaling(&self, class: Class) -> &aws_sdk_autoscaling::Client {
        self.pace(class).await;
        &self.autoscaling
    }

    /// The CloudWatch client (classes CloudWatchRead / CloudWatchMutate).
    pub async fn cloudwatch(&self, class: Class) -> &aws_sdk_cloudwatch::Client {
        self.pace(class).await;
        &self.cloudwatch
    }

    /// The classic Elastic Load Balancing client (classes ElbRead / ElbMutate).
    pub async fn elb(&self, class: Class) -> &aws_sdk_elasticloadbalancing::Client {
        self.pace(class).await;
        &self.elb
    }

    /// The Elastic Load Balancing v2 client (Application and Network load
    /// balancers; classes ElbRead / ElbMutate).
    pub async fn elbv2(&self, class: Class) -> &aws_sdk_elasticloadbalancingv2::Client {
        self.pace(class).await;
        &self.elbv2
    }

    /// The ACM client (class CertificateRead).
    pub async fn acm(&self, class: Class) -> &aws_sdk_acm::Client {
        self.pace(class).await;
        &self.acm
    }

    /// The S3 client (classes S3Read / S3Write).
    pub async fn s3(&self, class: Class) -> &aws_sdk_s3::Client {
        self.pace(class).await;
        &self.s3
    }

    /// The S3 Control client (class S3Control): Batch Operations jobs.
    pub async fn s3control(&self, class: Class) -> &aws_sdk_s3control::Client {
        self.pace(class).await;
        &self.s3control
    }

    /// The region's availability zones, for mapping zones across regions.
    pub async fn zones(&self) -> Result<Vec<String>> {
        if let Some(z) = &self.fixed_zones {
            return Ok(z.clone());
        }
        let out = self
            .ec2(Class::Read)
            .await
            .describe_availability_zones()
            .send()
            .await
            .map_err(|e| self.err("DescribeAvailabilityZones", e))?;
        let mut z: Vec<String> = out
            .availability_zones()
            .iter()
            .filter_map(|z| z.zone_name().map(String::from))
            .collect();
        z.sort();
        Ok(z)
    }

    pub fn err<E, R>(
        &self,
        op: &'static str,
        e: aws_smithy_runtime_api::client::result::SdkError<E, R>,
    ) -> AwsError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static + crate::error::HttpStatus,
    {
        api(self.name, op, e)
    }

    pub fn invalid(&self, message: impl Into<String>) -> AwsError {
        AwsError::Invalid {
            side: self.name,
            message: message.into(),
        }
    }
}

/// The IAM principal behind a caller ARN: an assumed-role session
/// (`arn:aws:sts::1:assumed-role/ferry/s`) is its role
/// (`arn:aws:iam::1:role/ferry`); anything unusual falls back to the account.
fn principal_of(caller: &str, account: &str, partition: &str) -> String {
    let root = format!("arn:{partition}:iam::{account}:root");
    if let Some(rest) = caller.split_once(":assumed-role/").map(|(_, r)| r) {
        return match rest.split_once('/') {
            Some((role, _)) => format!("arn:{partition}:iam::{account}:role/{role}"),
            None => root,
        };
    }
    if caller.starts_with("arn:") && caller.contains(":iam::") {
        return caller.to_string();
    }
    root
}

trait EndpointBuilder {
    fn set_url(self, url: String) -> Self;
}
impl EndpointBuilder for aws_sdk_sts::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_iam::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_ec2::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_kms::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_autoscaling::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_cloudwatch::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_elasticloadbalancing::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_elasticloadbalancingv2::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_s3::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_s3control::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}
impl EndpointBuilder for aws_sdk_acm::config::Builder {
    fn set_url(self, url: String) -> Self {
        self.endpoint_url(url)
    }
}

/// A per-service endpoint (`[source.endpoints] ec2 = ...`, e.g. a VPC
/// interface endpoint) wins over the side's `endpoint_url`.
fn with_endpoint<B: EndpointBuilder>(b: B, cfg: &SideConfig, service: &str) -> B {
    match cfg.endpoints.get(service) {
        Some(url) => b.set_url(url.clone()),
        None => b,
    }
}

async fn sdk_config(name: &'static str, cfg: &SideConfig) -> Result<SdkConfig> {
    let region = Region::new(cfg.region.clone());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        // Adaptive: after a throttling answer the client also slows its own
        // sending rate, so an account whose quota is below ferry's
        // `[apply.rate_limits]` settles to what AWS allows instead of
        // running out of attempts; ten attempts, backing off up to 20 s,
        // ride out a minute of throttling.
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(10)
                .with_max_backoff(Duration::from_secs(20)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let base = loader.load().await;
    let Some(role) = &cfg.role_arn else {
        return Ok(base);
    };
    // AssumeRole goes to STS, through its own endpoint when one is configured
    // (an STS interface endpoint in a network without internet access).
    let sts_base = match cfg.endpoints.get("sts") {
        Some(url) => base.to_builder().endpoint_url(url).build(),
        None => base.clone(),
    };
    let mut b = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name(cfg.session_name.clone().unwrap_or_else(|| "ferry".into()))
        .region(region)
        .configure(&sts_base);
    if let Some(x) = &cfg.external_id {
        b = b.external_id(x);
    }
    let provider = b.build().await;
    // Assume now, so a refused role is reported as such, not as a failure of
    // whatever call happens to come first.
    let first = provider.provide_credentials().await.map_err(|e| {
        let full = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
        // The chain ends with the instance metadata service: its refusal
        // means no provider had credentials.
        let why = if full.contains("no credentials found in chain") || full.contains("IMDS") {
            crate::error::NO_CREDENTIALS.to_string()
        } else if full.contains("dispatch failure") || full.contains("timeout") {
            format!(
                "cannot reach the endpoint: {} ({})",
                crate::error::root_cause(&e),
                endpoint_hint(name, cfg)
            )
        } else {
            crate::error::root_cause(&e)
        };
        AwsError::Credentials {
            side: name,
            message: format!("could not assume {role}: {why}"),
        }
    })?;
    let primed = Primed {
        first: std::sync::Mutex::new(Some(first)),
        inner: provider,
    };
    Ok(base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(primed))
        .build())
}

/// The assumed role's provider, handing out the credentials the up-front
/// AssumeRole got before asking STS again: the SDK's credential cache
/// would otherwise assume the role a second time for the first call.
#[derive(Debug)]
struct Primed {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    inner: aws_config::sts::AssumeRoleProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().unwrap().take() {
            Some(c) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(c)),
            None => self.inner.provide_credentials(),
        }
    }
}

fn credentials_hint(name: &'static str, cfg: &SideConfig, e: AwsError) -> AwsError {
    match &e {
        AwsError::Api { code: Some(c), message, .. } if c.contains("Token") || c.contains("Signature") || c.contains("AccessDenied") || c.contains("Credential") => {
            AwsError::Credentials {
                side: name,
                message: format!("{message} (check the [{name}] profile / role_arn, or your AWS credentials)"),
            }
        }
        AwsError::Api { message, .. } if message.contains("no credentials") || message.contains("credentials provider") => {
            AwsError::Credentials {
                side: name,
                message: format!("no usable credentials for the {name}: set up the standard AWS credential chain (environment, ~/.aws profiles, SSO){}", cfg.profile.as_deref().map(|p| format!("; profile {p:?} is configured")).unwrap_or_default()),
            }
        }
        AwsError::Api { message, .. } if message.starts_with("cannot reach") => {
            let endpoint = endpoint_hint(name, cfg);
            AwsError::Api { side: name, op: "GetCallerIdentity", code: None, message: format!("{message} ({endpoint})") }
        }
        _ => e,
    }
}

/// Where STS calls of a side go, and what to check when they cannot get there.
fn endpoint_hint(name: &str, cfg: &SideConfig) -> String {
    match cfg.endpoints.get("sts").or(cfg.endpoint_url.as_ref()) {
        Some(u) => format!("{u}; check endpoint_url / [{name}.endpoints] in ferry.toml"),
        None => format!(
            "the public AWS endpoint of {}; check the network, proxy, or set endpoint_url",
            cfg.region
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::principal_of;

    #[test]
    fn principals_of_callers() {
        assert_eq!(
            principal_of("arn:aws:sts::1:assumed-role/ferry/sess", "1", "aws"),
            "arn:aws:iam::1:role/ferry"
        );
        assert_eq!(
            principal_of("arn:aws:iam::1:user/ops", "1", "aws"),
            "arn:aws:iam::1:user/ops"
        );
        assert_eq!(principal_of("", "1", "aws"), "arn:aws:iam::1:root");
    }
}
