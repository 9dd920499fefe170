//! ferry-aws: everything that talks to AWS. Sessions (profiles, SSO,
//! assume-role, endpoint overrides), client-side rate limits, and one adapter
//! per kind, registered in [`ADAPTERS`] so adding a kind is one new file and
//! one line there. The engine reaches them through a [`Registry`].

pub mod acm;
pub mod adapter;
pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod elb;
pub mod elbv2;
pub mod error;
pub mod failpoint;
pub mod iam;
pub mod kms;
pub mod lost;
pub mod ratelimit;
pub mod s3;
pub mod session;
pub mod sns;
pub mod transfer;

pub use error::{AwsError, Result};
pub use session::Side;
pub use transfer::{CopyCx, ProgressSink, TempLog, Temporary, TransferProgress};

use async_trait::async_trait;
use ferry_core::{Kind, Resource};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which resources a describe call should return.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    All,
    Ids(Vec<String>),
    /// Resources carrying `ferry:source` = this value.
    SourceTag(String),
}

/// What a destination resource should look like: a spec already translated
/// into destination terms (its references name destination IDs) and the tags
/// it should carry.
#[derive(Debug, Clone)]
pub struct Desired {
    pub spec: Value,
    /// User tags plus ferry's own; empty for AWS defaults, which keep theirs.
    pub tags: BTreeMap<String, String>,
    /// Reconcile tags (not done for AWS defaults: they are not ferry's).
    pub manage_tags: bool,
    /// The source resource's ID: the name global kinds (IAM) keep.
    pub source_id: String,
    /// The name decided at plan time for kinds whose names are global but
    /// not kept (S3 buckets, by `[naming]`).
    pub dest_name: Option<String>,
    /// For kinds that carry data across (images, snapshots, volumes,
    /// instances): the source side and where temporaries are recorded.
    pub copy: Option<CopyCx>,
}

/// Which part of a resource a converge call reconciles: its own attributes,
/// or its contents (rules, routes, associations) which may reference anything.
pub use ferry_core::Phase;

#[async_trait]
pub trait KindAdapter: Send + Sync {
    fn kind(&self) -> Kind;

    /// Lists resources of this kind, page by page; AWS defaults are marked.
    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>>;

    /// Creates the resource, tagged at creation, and returns its ID. Contents
    /// and mutable attributes are left to [`KindAdapter::converge`].
    async fn create(&self, cx: &Side, want: &Desired) -> Result<String>;

    /// Makes the resource match `want` for the given phase; idempotent.
    /// Returns a line per change made.
    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>>;

    /// Deletes it; NotFound is success (ARCHITECTURE.md invariant 6).
    async fn delete(&self, cx: &Side, id: &str) -> Result<()>;

    /// The IAM actions this adapter calls, for `ferry bootstrap`.
    fn actions(&self) -> &'static [&'static str];

    /// Writes it makes in the *source* account besides reading: the
    /// temporary shares, grants and scratch copies that carry data across.
    fn source_actions(&self) -> &'static [&'static str] {
        &[]
    }

    /// True when `describe(Lookup::All)` costs one call per page of
    /// resources, nothing per resource. apply then looks for what an earlier
    /// run made with one listing of the kind instead of one filtered
    /// describe per resource it creates (a thousand security groups: one
    /// call, not a thousand).
    fn lists_in_pages(&self) -> bool {
        false
    }
}

/// The one list of kinds ferry can migrate (what [`Registry::aws`] holds).
pub static ADAPTERS: &[&dyn KindAdapter] = &[
    &ec2::dhcp_options::DhcpOptions,
    &ec2::managed_prefix_list::PrefixList,
    &ec2::vpc::Vpc,
    &ec2::subnet::Subnet,
    &ec2::internet_gateway::InternetGateway,
    &ec2::elastic_ip::ElasticIp,
    &ec2::nat_gateway::NatGateway,
    &ec2::route_table::RouteTable,
    &ec2::network_acl::NetworkAcl,
    &ec2::security_group::SecurityGroup,
    &ec2::vpc_endpoint::VpcEndpoint,
    &ec2::vpc_peering::VpcPeering,
    &iam::policy::IamPolicy,
    &iam::role::IamRole,
    &iam::instance_profile::IamInstanceProfile,
    &iam::group::IamGroup,
    &iam::user::IamUser,
    &kms::key::KmsKey,
    &ec2::key_pair::KeyPair,
    &ec2::image::Image,
    &ec2::snapshot::Snapshot,
    &ec2::volume::Volume,
    &ec2::instance::Instance,
    &ec2::launch_template::LaunchTemplate,
    &autoscaling::launch_configuration::LaunchConfiguration,
    &autoscaling::group::AutoScalingGroup,
    &autoscaling::policy::ScalingPolicy,
    &cloudwatch::alarm::MetricAlarm,
    &elbv2::target_group::TargetGroup,
    &elbv2::load_balancer::LoadBalancer,
    &elbv2::listener::Listener,
    &elbv2::listener_rule::ListenerRule,
    &acm::certificate::Certificate,
    &iam::server_certificate::ServerCertificate,
    &elb::classic_load_balancer::ClassicLoadBalancer,
    &s3::bucket::Bucket,
];

/// The adapters a command works with, one per kind: carried by the engine's
/// context, so that nothing reaches AWS through a global and the engine can
/// be tested with fakes (ARCHITECTURE.md, "the engine's tests").
#[derive(Clone)]
pub struct Registry {
    adapters: Vec<Entry>,
    temporaries: Arc<dyn Withdraw>,
}

/// Withdraws the temporaries adapters record ([`Temporary`]): through AWS
/// for [`Registry::aws`].
#[async_trait]
pub trait Withdraw: Send + Sync {
    async fn withdraw(&self, side: &Side, t: &Temporary) -> Result<()>;
}

struct AwsWithdraw;

#[async_trait]
impl Withdraw for AwsWithdraw {
    async fn withdraw(&self, side: &Side, t: &Temporary) -> Result<()> {
        t.withdraw(side).await
    }
}

#[derive(Clone)]
enum Entry {
    Static(&'static dyn KindAdapter),
    Shared(Arc<dyn KindAdapter>),
}

impl Entry {
    fn get(&self) -> &dyn KindAdapter {
        match self {
            Entry::Static(a) => *a,
            Entry::Shared(a) => a.as_ref(),
        }
    }
}

impl Registry {
    /// Every kind ferry migrates, through AWS: [`ADAPTERS`].
    pub fn aws() -> Registry {
        Registry {
            adapters: ADAPTERS.iter().map(|a| Entry::Static(*a)).collect(),
            temporaries: Arc::new(AwsWithdraw),
        }
    }

    /// These adapters only (a kind given twice: the first wins), and what
    /// withdraws the temporaries they record.
    pub fn new(
        adapters: impl IntoIterator<Item = Arc<dyn KindAdapter>>,
        temporaries: Arc<dyn Withdraw>,
    ) -> Registry {
        Registry {
            adapters: adapters.into_iter().map(Entry::Shared).collect(),
            temporaries,
        }
    }

    /// Withdraws a temporary on the side that made it.
    pub async fn withdraw(&self, side: &Side, t: &Temporary) -> Result<()> {
        self.temporaries.withdraw(side, t).await
    }

    /// The adapter of `kind`; none for kinds ferry only references.
    pub fn get(&self, kind: Kind) -> Option<&dyn KindAdapter> {
        self.iter().find(|a| a.kind() == kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn KindAdapter> {
        self.adapters.iter().map(Entry::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_kind_has_exactly_one_adapter() {
        for k in ferry_core::kind::SUPPORTED {
            assert_eq!(ADAPTERS.iter().filter(|a| a.kind() == *k).count(), 1, "{k}");
        }
        assert_eq!(ADAPTERS.len(), ferry_core::kind::SUPPORTED.len());
        let aws = Registry::aws();
        for k in ferry_core::kind::SUPPORTED {
            assert_eq!(aws.get(*k).map(|a| a.kind()), Some(*k));
        }
    }
}
