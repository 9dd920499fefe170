//! In-process tests of the engine (ARCHITECTURE.md, "the engine's tests"):
//! the real plan, apply, resume, rollback and verify, against a fake AWS
//! ([`fake`]) reached through the context's registry, on sides made
//! without STS ([`ferry_aws::Side::offline`]).

mod accounts;
mod crash;
mod failure;
mod fake;
mod rollback;

use crate::context::{Context, Sides};
use crate::event::Event;
use crate::failpoint::Crash;
use crate::run::{self, ApplyRequest};
use crate::EngineError;
use fake::FakeAws;
use ferry_aws::Side;
use ferry_core::config::Config;
use ferry_core::{Key, Kind, Resource, SideInfo};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const SOURCE: &str = "111111111111";
pub const DEST: &str = "222222222222";
const REGION: &str = "us-east-1";
const ZONES: [&str; 2] = ["us-east-1a", "us-east-1b"];

/// The kinds the fake serves.
const KINDS: &[Kind] = &[Kind::Vpc, Kind::Subnet, Kind::SecurityGroup];

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("ferry-engine-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One migration: the fake AWS both accounts live in, and a state directory.
pub struct World {
    pub aws: Arc<FakeAws>,
    pub dir: Scratch,
}

fn res(kind: Kind, id: &str, name: &str, spec: Value) -> Resource {
    Resource::with_tags(Key::new(kind, id), spec, [("Name", name)])
}

fn default_res(kind: Kind, id: &str, spec: Value) -> Resource {
    let mut r = Resource::with_tags(Key::new(kind, id), spec, []);
    r.default = true;
    r
}

fn sg(id: &str, name: &str, vpc: &str, ingress_from: &[&str]) -> Resource {
    let ingress: Vec<Value> = ingress_from
        .iter()
        .map(|g| json!({"protocol": "tcp", "from_port": 80, "to_port": 80, "peer": {"group": {"$ref": format!("security_group/{g}")}}}))
        .collect();
    let spec = json!({"group_name": name, "description": "d", "vpc": {"$ref": format!("vpc/{vpc}")}, "ingress": ingress, "egress": []});
    res(Kind::SecurityGroup, id, name, spec)
}

impl World {
    /// A small estate: a VPC with two subnets and two groups whose rules
    /// reference each other (so each has a contents phase), and the default
    /// VPC with its default group, both changed from the destination's
    /// defaults (so apply records their previous contents).
    pub fn new() -> World {
        let aws = Arc::new(FakeAws::default());
        for r in [
            res(
                Kind::Vpc,
                "vpc-1",
                "app",
                json!({"cidr_block": "10.0.0.0/16"}),
            ),
            res(
                Kind::Subnet,
                "subnet-1",
                "a",
                json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a"}),
            ),
            res(
                Kind::Subnet,
                "subnet-2",
                "b",
                json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "10.0.2.0/24", "availability_zone": "us-east-1b"}),
            ),
            sg("sg-a", "ping", "vpc-1", &["sg-b"]),
            sg("sg-b", "pong", "vpc-1", &["sg-a"]),
            default_res(
                Kind::Vpc,
                "vpc-def",
                json!({"cidr_block": "172.31.0.0/16", "enable_dns_hostnames": true}),
            ),
            default_res(
                Kind::SecurityGroup,
                "sg-def",
                json!({"group_name": "default", "description": "default", "vpc": {"$ref": "vpc/vpc-def"},
                       "ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "peer": {"cidr": "10.0.0.0/8"}}], "egress": []}),
            ),
        ] {
            aws.put(SOURCE, r);
        }
        for r in [
            default_res(
                Kind::Vpc,
                "vpc-ddef",
                json!({"cidr_block": "172.31.0.0/16", "enable_dns_hostnames": false}),
            ),
            default_res(
                Kind::SecurityGroup,
                "sg-ddef",
                json!({"group_name": "default", "description": "default", "vpc": {"$ref": "vpc/vpc-ddef"},
                       "ingress": [], "egress": []}),
            ),
        ] {
            aws.put(DEST, r);
        }
        World {
            aws,
            dir: Scratch::new(),
        }
    }

    /// What a ferry process sees: a context on the fake, with credentials
    /// that resolve to `dest` in the destination.
    pub fn context_in(&self, dest: &str, crash: Option<Arc<Crash>>) -> (Context, Events) {
        let config = Config::parse(
            "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"us-east-1\"\n[scope]\ninclude = [\"vpc\"]\n",
            Path::new("ferry.toml"),
        )
        .unwrap();
        let info = |account: &str| SideInfo {
            account: account.into(),
            region: REGION.into(),
            partition: "aws".into(),
        };
        let zones: Vec<String> = ZONES.iter().map(|z| z.to_string()).collect();
        let sides = Sides {
            source: Side::offline("source", info(SOURCE), zones.clone()),
            dest: Side::offline("destination", info(dest), zones),
            registry: self.aws.registry(KINDS),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut cx = Context::with_sides(config, self.dir.path(), false, Some(tx), sides).unwrap();
        cx.crash = crash;
        (cx, Events(rx))
    }

    pub fn context(&self, crash: Option<Arc<Crash>>) -> (Context, Events) {
        self.context_in(DEST, crash)
    }

    /// `ferry apply --yes` in a new process: resumes the last run if it
    /// did not finish, else plans afresh.
    pub async fn apply(&self, crash: Option<Arc<Crash>>) -> (Result<i64, EngineError>, Events) {
        let (cx, events) = self.context(crash);
        (apply(cx).await, events)
    }

    /// The destination account's resources.
    pub fn dest(&self) -> std::collections::BTreeMap<Key, Resource> {
        self.aws.resources(DEST)
    }
}

/// `ferry apply --yes` with `cx`.
pub async fn apply(cx: Context) -> Result<i64, EngineError> {
    let prepared = run::prepare(&cx, &ApplyRequest::default()).await?;
    let (run, _) = run::execute(Arc::new(cx), prepared, None).await?;
    Ok(run)
}

/// The events a context emitted.
pub struct Events(tokio::sync::mpsc::UnboundedReceiver<Event>);

impl Events {
    pub fn all(&mut self) -> Vec<Event> {
        let mut out = vec![];
        while let Ok(e) = self.0.try_recv() {
            out.push(e);
        }
        out
    }
}
