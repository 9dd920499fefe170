//! A fake AWS for the engine's tests: one in-memory store per account,
//! adapters over it for a few kinds, and hooks to inject the faults the
//! engine must survive (a failing create, a delete refused while something
//! depends on it, a resource gone by hand).
//!
//! It behaves as the adapters' contract says (ferry_aws::KindAdapter):
//! create tags at creation, converge is idempotent and reports its changes,
//! delete removes a resource's contents first and treats a missing
//! resource as done, and a delete is refused with
//! DependencyViolation while another resource references the one deleted
//! (as EC2 refuses to delete a VPC with subnets).

use async_trait::async_trait;
use ferry_aws::{
    AwsError, Desired, KindAdapter, Lookup, Phase, Registry, Side, Temporary, Withdraw,
};
use ferry_core::{Key, Kind, Resource};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The spec fields a converge sets in the contents phase; every other
/// field is set in the first phase.
const CONTENTS: &[&str] = &["ingress", "egress"];

/// Every account's resources, and the faults to inject.
#[derive(Default)]
pub struct FakeAws {
    /// account -> key -> resource.
    accounts: Mutex<BTreeMap<String, BTreeMap<Key, Resource>>>,
    next_id: Mutex<u64>,
    /// Source ids whose create fails.
    pub fail_create: Mutex<HashSet<String>>,
    /// Destination ids and how many more deletes of each are refused with
    /// DependencyViolation.
    pub refuse_delete: Mutex<HashMap<String, u32>>,
    /// Calls made, `op kind/id` (creates name the source id).
    pub calls: Mutex<Vec<String>>,
    /// Temporaries withdrawn, with the side they were withdrawn on.
    pub withdrawn: Mutex<Vec<(String, Temporary)>>,
}

impl FakeAws {
    pub fn put(&self, account: &str, r: Resource) {
        self.accounts
            .lock()
            .unwrap()
            .entry(account.to_string())
            .or_default()
            .insert(r.key.clone(), r);
    }

    /// The account's resources, by key.
    pub fn resources(&self, account: &str) -> BTreeMap<Key, Resource> {
        self.accounts
            .lock()
            .unwrap()
            .get(account)
            .cloned()
            .unwrap_or_default()
    }

    pub fn remove(&self, account: &str, key: &Key) -> Option<Resource> {
        self.accounts.lock().unwrap().get_mut(account)?.remove(key)
    }

    /// How many calls `op` made on `what` (`kind/id`).
    pub fn count(&self, op: &str, what: &str) -> usize {
        let call = format!("{op} {what}");
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| **c == call)
            .count()
    }

    /// Adapters over this fake for `kinds`, the second half of them listing
    /// in pages (so that both ways apply looks for what it made are used).
    pub fn registry(self: &Arc<Self>, kinds: &[Kind]) -> Registry {
        let adapters = kinds.iter().enumerate().map(|(i, kind)| {
            Arc::new(FakeAdapter {
                kind: *kind,
                aws: self.clone(),
                in_pages: i >= kinds.len() / 2,
            }) as Arc<dyn KindAdapter>
        });
        Registry::new(adapters, self.clone())
    }

    fn new_id(&self, kind: Kind) -> String {
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        let prefix = match kind {
            Kind::SecurityGroup => "sg",
            other => other.as_str(),
        };
        format!("{prefix}-d{:04}", *n)
    }

    fn record(&self, op: &str, kind: Kind, id: &str) {
        self.calls.lock().unwrap().push(format!("{op} {kind}/{id}"));
    }
}

#[async_trait]
impl Withdraw for FakeAws {
    async fn withdraw(&self, side: &Side, t: &Temporary) -> ferry_aws::Result<()> {
        self.withdrawn
            .lock()
            .unwrap()
            .push((side.name.to_string(), t.clone()));
        Ok(())
    }
}

struct FakeAdapter {
    kind: Kind,
    aws: Arc<FakeAws>,
    in_pages: bool,
}

fn not_found(side: &Side, id: &str) -> AwsError {
    AwsError::not_found(side.name, "Fake", "InvalidID.NotFound", id)
}

/// Whether `spec` references `key` anywhere.
fn references(spec: &Value, key: &Key) -> bool {
    match spec {
        Value::Object(m) => {
            m.get("$ref").and_then(Value::as_str) == Some(key.to_string().as_str())
                || m.values().any(|v| references(v, key))
        }
        Value::Array(a) => a.iter().any(|v| references(v, key)),
        _ => false,
    }
}

#[async_trait]
impl KindAdapter for FakeAdapter {
    fn kind(&self) -> Kind {
        self.kind
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> ferry_aws::Result<Vec<Resource>> {
        let found = self
            .aws
            .resources(&cx.info.account)
            .into_values()
            .filter(|r| r.key.kind == self.kind)
            .filter(|r| match lookup {
                Lookup::All => true,
                Lookup::Ids(ids) => ids.contains(&r.key.id),
                Lookup::SourceTag(arn) => r.ferry_source.as_deref() == Some(arn.as_str()),
            })
            .collect();
        Ok(found)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> ferry_aws::Result<String> {
        self.aws.record("create", self.kind, &want.source_id);
        if self
            .aws
            .fail_create
            .lock()
            .unwrap()
            .contains(&want.source_id)
        {
            return Err(AwsError::Api {
                side: cx.name,
                op: "Create",
                code: Some("InvalidParameterValue".into()),
                message: format!("the fake refuses to create {}", want.source_id),
            });
        }
        // Subnets stand for the kinds that carry data across: a scratch
        // copy in the source, recorded before it is made, left for the
        // run's sweep.
        if let (Kind::Subnet, Some(copy)) = (self.kind, &want.copy) {
            let scratch = Temporary::ScratchSnapshot {
                snapshot_id: format!("snap-of-{}", want.source_id),
            };
            copy.log
                .opened(copy.source.name, &scratch)
                .map_err(|e| cx.invalid(e))?;
        }
        let id = self.aws.new_id(self.kind);
        let tags = want.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let mut spec = want.spec.clone();
        // Contents are set by converge, as AWS creates a group without rules.
        if let Value::Object(m) = &mut spec {
            m.retain(|k, _| !CONTENTS.contains(&k.as_str()));
        }
        let r = Resource::with_tags(Key::new(self.kind, &id), spec, tags);
        self.aws.put(&cx.info.account, r);
        Ok(id)
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> ferry_aws::Result<Vec<String>> {
        let key = Key::new(self.kind, id);
        self.aws.record("converge", self.kind, id);
        let mut accounts = self.aws.accounts.lock().unwrap();
        let Some(r) = accounts
            .get_mut(&cx.info.account)
            .and_then(|a| a.get_mut(&key))
        else {
            return Err(not_found(cx, id));
        };
        let (Value::Object(have), Value::Object(want)) = (&mut r.spec, &want.spec) else {
            return Err(cx.invalid("specs are objects"));
        };
        let mut changes = vec![];
        for (field, value) in want {
            if CONTENTS.contains(&field.as_str()) != (phase == Phase::Contents) {
                continue;
            }
            if have.get(field) != Some(value) {
                have.insert(field.clone(), value.clone());
                changes.push(format!("set {field}"));
            }
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> ferry_aws::Result<()> {
        let key = Key::new(self.kind, id);
        self.aws.record("delete", self.kind, id);
        if let Some(n) = self.aws.refuse_delete.lock().unwrap().get_mut(id) {
            if *n > 0 {
                *n -= 1;
                return Err(dependency_violation(cx, id));
            }
        }
        let mut accounts = self.aws.accounts.lock().unwrap();
        let Some(account) = accounts.get_mut(&cx.info.account) else {
            return Ok(());
        };
        // Its own contents go first (the adapters revoke a group's rules
        // before deleting it), even when the delete is then refused.
        if let Some(Value::Object(spec)) = account.get_mut(&key).map(|r| &mut r.spec) {
            spec.retain(|k, _| !CONTENTS.contains(&k.as_str()));
        }
        if account.values().any(|r| references(&r.spec, &key)) {
            return Err(dependency_violation(cx, id));
        }
        // Gone already is done (the adapters' contract).
        account.remove(&key);
        Ok(())
    }

    fn actions(&self) -> &'static [&'static str] {
        &[]
    }

    fn lists_in_pages(&self) -> bool {
        self.in_pages
    }
}

fn dependency_violation(cx: &Side, id: &str) -> AwsError {
    AwsError::Api {
        side: cx.name,
        op: "Delete",
        code: Some("DependencyViolation".into()),
        message: format!("{id} has dependent objects"),
    }
}
