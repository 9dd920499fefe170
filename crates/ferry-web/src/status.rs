//! Where each part of a run is: per plan node (what the engine reports), per
//! resource, and per service (what the dashboard's sections show). Pure: the
//! node statuses come either from engine events (an apply this server runs)
//! or from the journal in the state database (an apply run by the CLI in
//! another process, or a finished run).

use ferry_core::plan::Plan;
use ferry_core::protocol::{split_node, JournalOp};
use ferry_core::Key;
use ferry_state::{JournalEntry, JournalStatus, RunState};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its turn (or for what it depends on).
    Queued,
    Running,
    Done,
    Failed,
    /// Not run because something it needs failed.
    Stranded,
    /// Not part of the work: skipped by the plan, or a conflict left out.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Stranded => "stranded",
            Status::Skipped => "skipped",
        }
    }

    /// The status an engine event gives its node, by the event's name.
    pub fn of_event(name: &str) -> Option<Status> {
        Some(match name {
            "started" => Status::Running,
            "finished" => Status::Done,
            "failed" => Status::Failed,
            "stranded" => Status::Stranded,
            _ => return None,
        })
    }
}

/// The plan's executing nodes (`kind/id` and `kind/id#contents`), all queued.
pub fn queued_nodes(plan: &Plan) -> BTreeMap<String, Status> {
    match plan.graph() {
        Ok(dag) => (0..dag.len())
            .map(|i| (dag.node(i).to_string(), Status::Queued))
            .collect(),
        // A plan that cannot be ordered never runs; show its items as queued.
        Err(_) => plan
            .items
            .iter()
            .filter(|i| i.action.executes())
            .map(|i| (i.key.to_string(), Status::Queued))
            .collect(),
    }
}

/// The resource a node belongs to.
pub fn node_key(node: &str) -> &str {
    split_node(node).0
}

/// Node statuses of a run read back from its journal: the newest apply
/// entry (create, adopt, converge) of each node decides. A node is done once
/// its converge step is (every executed node ends with one). Nodes without
/// an entry are queued, or stranded once a failed run has ended (the
/// executor ran everything it could). A step left at intent by a run that
/// is no longer running is queued again: resuming redoes it.
pub fn from_journal(
    nodes: &BTreeMap<String, Status>,
    journal: &[JournalEntry],
    run: RunState,
) -> BTreeMap<String, Status> {
    let mut newest: HashMap<&str, &JournalEntry> = HashMap::new();
    for e in journal
        .iter()
        .filter(|e| JournalOp::parse(&e.op).is_some_and(JournalOp::is_apply))
    {
        let slot = newest.entry(e.node.as_str()).or_insert(e);
        if e.seq > slot.seq {
            *slot = e;
        }
    }
    nodes
        .keys()
        .map(|n| {
            let s = match newest.get(n.as_str()) {
                None if run == RunState::Failed => Status::Stranded,
                None => Status::Queued,
                Some(e) => match (e.status, JournalOp::parse(&e.op)) {
                    (JournalStatus::Failed, _) => Status::Failed,
                    (JournalStatus::Done, Some(JournalOp::Converge)) => Status::Done,
                    _ if run == RunState::Running => Status::Running,
                    _ => Status::Queued,
                },
            };
            (n.clone(), s)
        })
        .collect()
}

/// One plan item with its status.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub key: String,
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
    pub action: String,
    pub reason: String,
    pub status: Status,
}

/// One service's section.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceGroup {
    pub service: String,
    pub status: Status,
    /// Executing items by status.
    pub counts: BTreeMap<Status, usize>,
    /// Items the run works on (create, adopt, update).
    pub work: usize,
    pub items: Vec<ItemView>,
}

/// A resource's status from its nodes: any failure wins, then stranding,
/// then activity; done when every node is.
pub fn item_status(statuses: &[Status]) -> Status {
    let any = |s: Status| statuses.contains(&s);
    if statuses.is_empty() {
        Status::Skipped
    } else if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Stranded) {
        Status::Stranded
    } else if statuses.iter().all(|s| *s == Status::Done) {
        Status::Done
    } else if statuses.iter().all(|s| *s == Status::Queued) {
        Status::Queued
    } else {
        Status::Running
    }
}

/// A service's status: done when all its work is, failed when something
/// failed and nothing is still moving, queued before anything started,
/// running in between.
pub fn service_status(counts: &BTreeMap<Status, usize>) -> Status {
    let n = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let work: usize = counts.values().sum();
    if work == 0 {
        Status::Skipped
    } else if n(Status::Done) == work {
        Status::Done
    } else if n(Status::Queued) == work {
        Status::Queued
    } else if n(Status::Failed) + n(Status::Stranded) > 0 && n(Status::Running) == 0 {
        Status::Failed
    } else {
        Status::Running
    }
}

/// Each resource's status from node statuses (the plan's items that do not
/// execute are skipped).
pub fn item_statuses(plan: &Plan, nodes: &BTreeMap<String, Status>) -> HashMap<String, Status> {
    let mut per: HashMap<&str, Vec<Status>> = HashMap::new();
    for (n, s) in nodes {
        per.entry(node_key(n)).or_default().push(*s);
    }
    plan.items
        .iter()
        .map(|i| {
            let key = i.key.to_string();
            let s = if i.action.executes() {
                per.get(key.as_str())
                    .map(|v| item_status(v))
                    .unwrap_or(Status::Queued)
            } else {
                Status::Skipped
            };
            (key, s)
        })
        .collect()
}

/// The plan grouped by service (ec2, s3, iam...), services in name order,
/// items in plan order.
pub fn group(plan: &Plan, nodes: &BTreeMap<String, Status>) -> Vec<ServiceGroup> {
    let statuses = item_statuses(plan, nodes);
    let mut groups: BTreeMap<&str, ServiceGroup> = BTreeMap::new();
    for item in &plan.items {
        let service = item.key.kind.service();
        let key = item.key.to_string();
        let status = statuses.get(&key).copied().unwrap_or(Status::Skipped);
        let g = groups.entry(service).or_insert_with(|| ServiceGroup {
            service: service.to_string(),
            status: Status::Skipped,
            counts: BTreeMap::new(),
            work: 0,
            items: vec![],
        });
        if item.action.executes() {
            g.work += 1;
            *g.counts.entry(status).or_insert(0) += 1;
        }
        g.items.push(ItemView {
            kind: item.key.kind.to_string(),
            id: item.key.id.clone(),
            key,
            name: item.name.clone(),
            action: item.action.to_string(),
            reason: item.reason.clone(),
            status,
        });
    }
    groups
        .into_values()
        .map(|mut g| {
            g.status = service_status(&g.counts);
            g
        })
        .collect()
}

/// The key of an item as the plan names it (for lookups by string).
pub fn parse_key(s: &str) -> Option<Key> {
    Key::parse(node_key(s))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A small plan: a VPC, its subnet, a security group whose rules
    /// reference the subnet's VPC (contents), a bucket, and a skipped role.
    pub fn plan() -> Plan {
        let item = |action: &str, key: &str, deps: &[&str], contents: &[&str]| {
            json!({
                "action": action, "key": key, "name": format!("name of {key}"),
                "reason": "not in the destination",
                "depends_on": deps, "contents_depend_on": contents,
                "resource": {"key": key, "spec": {}}
            })
        };
        serde_json::from_value(json!({
            "format": 1, "created_at": "2024-01-01T00:00:00Z", "config_digest": "d",
            "source": {"account": "111111111111", "region": "us-east-1"},
            "destination": {"account": "222222222222", "region": "eu-west-1"},
            "items": [
                item("create", "vpc/vpc-1", &[], &[]),
                item("create", "subnet/subnet-1", &["vpc/vpc-1"], &[]),
                item("create", "security_group/sg-1", &["vpc/vpc-1"], &["subnet/subnet-1"]),
                item("create", "s3_bucket/logs", &[], &[]),
                item("skip", "iam_role/admin", &[], &[]),
            ]
        }))
        .unwrap()
    }

    fn entry(seq: i64, node: &str, op: JournalOp, status: JournalStatus) -> JournalEntry {
        JournalEntry {
            seq,
            run_id: 1,
            ts: String::new(),
            node: node.into(),
            op: op.as_str().into(),
            kind: String::new(),
            source_key: node_key(node).into(),
            status,
            dest_id: None,
            detail: json!({}),
            error: None,
        }
    }

    #[test]
    fn a_fresh_plan_is_grouped_by_service_with_everything_queued() {
        let p = plan();
        let nodes = queued_nodes(&p);
        assert!(nodes.contains_key("security_group/sg-1#contents"));
        let groups = group(&p, &nodes);
        let names: Vec<&str> = groups.iter().map(|g| g.service.as_str()).collect();
        assert_eq!(names, ["ec2", "iam", "s3"]);
        let ec2 = &groups[0];
        assert_eq!(ec2.status, Status::Queued);
        assert_eq!(ec2.work, 3);
        assert_eq!(ec2.counts[&Status::Queued], 3);
        let keys: Vec<&str> = ec2.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["vpc/vpc-1", "subnet/subnet-1", "security_group/sg-1"]
        );
        assert_eq!(groups[1].status, Status::Skipped);
        assert_eq!(groups[1].items[0].status, Status::Skipped);
        assert_eq!(groups[1].work, 0);
    }

    #[test]
    fn services_move_from_queued_to_running_to_done_or_failed() {
        let p = plan();
        let mut nodes = queued_nodes(&p);
        nodes.insert("vpc/vpc-1".into(), Status::Done);
        nodes.insert("security_group/sg-1".into(), Status::Done);
        let g = group(&p, &nodes);
        // The group's create phase is done but its rules are not: in progress.
        let sg = g[0]
            .items
            .iter()
            .find(|i| i.kind == "security_group")
            .unwrap();
        assert_eq!(sg.status, Status::Running);
        assert_eq!(g[0].status, Status::Running);
        assert_eq!(g[2].status, Status::Queued);
        for n in nodes.values_mut() {
            *n = Status::Done;
        }
        nodes.insert("s3_bucket/logs".into(), Status::Failed);
        let g = group(&p, &nodes);
        assert_eq!(g[0].status, Status::Done);
        assert_eq!(g[2].status, Status::Failed);
        nodes.insert("subnet/subnet-1".into(), Status::Stranded);
        nodes.insert("vpc/vpc-1".into(), Status::Running);
        let g = group(&p, &nodes);
        assert_eq!(g[0].status, Status::Running, "still moving");
        nodes.insert("vpc/vpc-1".into(), Status::Done);
        assert_eq!(group(&p, &nodes)[0].status, Status::Failed);
    }

    #[test]
    fn the_journal_gives_node_statuses_newest_entry_first() {
        let p = plan();
        let nodes = queued_nodes(&p);
        let journal = vec![
            entry(1, "vpc/vpc-1", JournalOp::Create, JournalStatus::Done),
            entry(2, "vpc/vpc-1", JournalOp::Converge, JournalStatus::Done),
            entry(3, "subnet/subnet-1", JournalOp::Create, JournalStatus::Done),
            entry(
                4,
                "s3_bucket/logs",
                JournalOp::Create,
                JournalStatus::Failed,
            ),
            entry(
                5,
                "security_group/sg-1",
                JournalOp::Create,
                JournalStatus::Intent,
            ),
            // Rollback entries are not apply progress.
            entry(9, "vpc/vpc-1", JournalOp::Delete, JournalStatus::Intent),
        ];
        let s = from_journal(&nodes, &journal, RunState::Running);
        assert_eq!(s["vpc/vpc-1"], Status::Done);
        assert_eq!(s["subnet/subnet-1"], Status::Running);
        assert_eq!(s["s3_bucket/logs"], Status::Failed);
        assert_eq!(s["security_group/sg-1"], Status::Running);
        assert_eq!(s["security_group/sg-1#contents"], Status::Queued);
        // Once the run failed, what never started was stranded and what
        // was half-way will be redone.
        let s = from_journal(&nodes, &journal, RunState::Failed);
        assert_eq!(s["security_group/sg-1#contents"], Status::Stranded);
        assert_eq!(s["subnet/subnet-1"], Status::Queued);
        // A retry after a failure counts, not the failure.
        let mut retried = journal.clone();
        retried.push(entry(
            10,
            "s3_bucket/logs",
            JournalOp::Create,
            JournalStatus::Done,
        ));
        retried.push(entry(
            11,
            "s3_bucket/logs",
            JournalOp::Converge,
            JournalStatus::Done,
        ));
        let s = from_journal(&nodes, &retried, RunState::Succeeded);
        assert_eq!(s["s3_bucket/logs"], Status::Done);
    }

    #[test]
    fn event_names_map_to_statuses() {
        assert_eq!(Status::of_event("started"), Some(Status::Running));
        assert_eq!(Status::of_event("finished"), Some(Status::Done));
        assert_eq!(Status::of_event("failed"), Some(Status::Failed));
        assert_eq!(Status::of_event("stranded"), Some(Status::Stranded));
        assert_eq!(Status::of_event("message"), None);
    }
}
