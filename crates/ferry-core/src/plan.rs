//! The plan: what apply will do to each source resource, and why.
//!
//! Built purely from the two snapshots, the existing mapping and the scope, so
//! it can be printed, saved, reviewed and then executed exactly (ARCHITECTURE.md
//! invariant 1: the plan printed is the plan run).

use crate::config::{NamingConfig, S3Config};
use crate::diff::diff_spec;
use crate::graph::{CycleError, Dag};
use crate::kind::Kind;
use crate::mapping::Mapping;
use crate::resource::{refs_by_phase, Key, Resource, SideInfo, Snapshot};
use crate::rules::PlanCx;
use crate::translate::Translator;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

pub const PLAN_FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create it in the destination.
    Create,
    /// It already exists in the destination (made by ferry before, found by its
    /// `ferry:source` tag, or an AWS default): map it and reconcile its contents.
    Adopt,
    /// Mapped and present, but its attributes or contents differ: reconcile them.
    Update,
    /// Nothing to do (up to date), or left out on purpose (scope).
    Skip,
    /// Cannot be done as things stand; apply refuses unless told to skip conflicts.
    Conflict,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update",
            Action::Skip => "skip",
            Action::Conflict => "conflict",
        }
    }

    /// Whether apply does anything for it.
    pub fn executes(self) -> bool {
        matches!(self, Action::Create | Action::Adopt | Action::Update)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub action: Action,
    pub key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub reason: String,
    /// Known when the resource already exists in the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_id: Option<String>,
    /// Needed before it can be created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Key>,
    /// Needed before its contents (rules, routes, associations) can be set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents_depend_on: Vec<Key>,
    /// Things the operator should know (a new public IP, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub resource: Resource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    pub created_at: String,
    pub config_digest: String,
    pub source: SideInfo,
    pub destination: SideInfo,
    #[serde(default)]
    pub zones: BTreeMap<String, String>,
    #[serde(default)]
    pub dest_zones: Vec<String>,
    /// Source bucket name -> destination bucket name, decided by `[naming]`
    /// (bucket names are global, so they cannot be kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, String>,
    pub items: Vec<PlanItem>,
}

/// What the planner needs besides the snapshots.
#[derive(Debug, Clone, Default)]
pub struct PlanInput<'a> {
    pub kinds: BTreeSet<Kind>,
    pub exclude_tags: BTreeMap<String, String>,
    pub exclude_ids: Vec<String>,
    pub zones: BTreeMap<String, String>,
    pub mapping: Mapping,
    pub config_digest: String,
    pub created_at: String,
    /// `[compute]`: images of instances without reboot; keep private IPs.
    pub no_reboot: bool,
    pub keep_private_ips: bool,
    /// `[naming]`: destination bucket names.
    pub naming: NamingConfig,
    /// Destination bucket names already owned outside the destination
    /// snapshot, with by whom ("another AWS account", or the destination
    /// account in another region): probed by the engine, since bucket names
    /// are global.
    pub taken_buckets: BTreeMap<String, String>,
    /// `[s3]`: when to offer S3 Batch Operations.
    pub s3: S3Config,
    pub _marker: std::marker::PhantomData<&'a ()>,
}

/// The destination names decided at plan time, by source ID, for the kinds
/// whose names are global but not kept (S3 buckets, by `[naming]`); an
/// error says why a name cannot be made.
pub fn planned_names(
    source: &Snapshot,
    dest: &SideInfo,
    naming: &NamingConfig,
) -> BTreeMap<String, Result<String, String>> {
    source
        .resources
        .iter()
        .filter_map(|r| {
            let name = r
                .key
                .kind
                .rules()
                .planned_name(r, &source.side, dest, naming)?;
            Some((r.key.id.clone(), name))
        })
        .collect()
}

/// A node of the execution graph: a resource's first phase (find or create,
/// plus its own attributes) or second phase (contents that may reference
/// anything, which is how reference cycles are broken).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Node {
    pub key: Key,
    pub phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Create,
    Contents,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            Phase::Create => write!(f, "{}", self.key),
            Phase::Contents => write!(f, "{}#contents", self.key),
        }
    }
}

impl Plan {
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut m = BTreeMap::new();
        for i in &self.items {
            *m.entry(i.action).or_insert(0) += 1;
        }
        m
    }

    pub fn conflicts(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.action == Action::Conflict)
    }

    pub fn item(&self, key: &Key) -> Option<&PlanItem> {
        self.items.iter().find(|i| &i.key == key)
    }

    /// Turns conflicts into skips (`apply --skip-conflicts`), with everything
    /// that depends on a skipped item that is not already mapped.
    pub fn skip_conflicts(&mut self) {
        for item in &mut self.items {
            if item.action == Action::Conflict {
                item.action = Action::Skip;
                item.reason = format!("conflict skipped on request: {}", item.reason);
            }
        }
    }

    /// The name decided at plan time for the destination resource of `key`
    /// ([`crate::rules::KindRules::planned_name`]), if its kind has one.
    pub fn dest_name(&self, key: &Key) -> Option<&str> {
        if !key.kind.rules().named_at_plan() {
            return None;
        }
        self.buckets.get(&key.id).map(String::as_str)
    }

    /// The execution graph of the items apply runs.
    pub fn graph(&self) -> Result<Dag<Node>, CycleError> {
        let executing: HashMap<&Key, &PlanItem> = self
            .items
            .iter()
            .filter(|i| i.action.executes())
            .map(|i| (&i.key, i))
            .collect();
        let mut nodes = vec![];
        let mut edges = vec![];
        for item in self.items.iter().filter(|i| i.action.executes()) {
            let create = Node {
                key: item.key.clone(),
                phase: Phase::Create,
            };
            nodes.push(create.clone());
            for d in item.depends_on.iter().filter(|d| executing.contains_key(d)) {
                edges.push((
                    Node {
                        key: d.clone(),
                        phase: Phase::Create,
                    },
                    create.clone(),
                ));
            }
            if item.key.kind.has_contents() {
                let contents = Node {
                    key: item.key.clone(),
                    phase: Phase::Contents,
                };
                nodes.push(contents.clone());
                edges.push((create.clone(), contents.clone()));
                for d in item
                    .contents_depend_on
                    .iter()
                    .filter(|d| executing.contains_key(d))
                {
                    edges.push((
                        Node {
                            key: d.clone(),
                            phase: Phase::Create,
                        },
                        contents.clone(),
                    ));
                    if item
                        .key
                        .kind
                        .rules()
                        .contents_after_contents(item, executing[d])
                    {
                        edges.push((
                            Node {
                                key: d.clone(),
                                phase: Phase::Contents,
                            },
                            contents.clone(),
                        ));
                    }
                }
            }
        }
        Dag::new(nodes, &edges)
    }
}

/// Builds the plan. Pure: the same inputs give the same plan.
pub fn build(source: &Snapshot, dest: &Snapshot, input: &PlanInput) -> Plan {
    let names = planned_names(source, &dest.side, &input.naming);
    let buckets: BTreeMap<String, String> = names
        .iter()
        .filter_map(|(s, d)| d.as_ref().ok().map(|d| (s.clone(), d.clone())))
        .collect();
    let by_tag: HashMap<&str, &Resource> = dest
        .resources
        .iter()
        .filter_map(|r| r.ferry_source.as_deref().map(|s| (s, r)))
        .collect();
    let translator = Translator {
        source: &source.side,
        dest: &dest.side,
        zones: &input.zones,
        dest_zones: &dest.zones,
        mapping: &input.mapping,
        buckets: &buckets,
    };
    // Destination IDs known before apply: mapped or found by tag. Used to
    // translate specs of mapped resources for the up-to-date check.
    let mut known = input.mapping.clone();
    let no_claims = BTreeSet::new();
    let notes_cx = PlanCx {
        source,
        dest,
        input,
        known: &input.mapping,
        claimed: &no_claims,
        names: &names,
    };
    let mut items: Vec<PlanItem> = vec![];
    let mut in_source: BTreeSet<&Key> = BTreeSet::new();

    let mut resources: Vec<&Resource> = source
        .resources
        .iter()
        .filter(|r| input.kinds.contains(&r.key.kind))
        .collect();
    resources.sort_by(|a, b| a.key.cmp(&b.key));

    for r in &resources {
        in_source.insert(&r.key);
        let (deps, cdeps) = refs_by_phase(r.key.kind, &r.spec);
        let mut item = PlanItem {
            action: Action::Create,
            key: r.key.clone(),
            name: r.name.clone(),
            reason: String::new(),
            dest_id: None,
            depends_on: deps,
            contents_depend_on: cdeps,
            notes: vec![],
            resource: (*r).clone(),
        };
        if let Some((k, v)) = input
            .exclude_tags
            .iter()
            .find(|(k, v)| r.tags.get(*k) == Some(*v))
        {
            item.action = Action::Skip;
            item.reason = format!("excluded by [scope] exclude_tags {k}={v}");
        } else if r.key.kind.is_global() && source.side.account == dest.side.account {
            item.action = Action::Skip;
            item.reason =
                "IAM is global to the account: nothing to copy when only the region changes".into();
            // What references it uses it as it is.
            item.dest_id = Some(r.key.id.clone());
        } else if let Some(why) = &r.skip {
            item.action = Action::Skip;
            item.reason = why.clone();
        } else if input.exclude_ids.iter().any(|i| i == &r.key.id) {
            item.action = Action::Skip;
            item.reason = "excluded by [scope] exclude_ids".into();
        } else if let Some(d) = input.mapping.get(&r.key) {
            match dest.get(&Key::new(r.key.kind, d)) {
                Some(_) => {
                    item.action = Action::Update;
                    item.dest_id = Some(d.to_string());
                    item.reason = format!("mapped to {d}");
                }
                None => {
                    item.reason =
                        format!("mapped to {d}, which no longer exists in the destination");
                    known.remove(&r.key);
                }
            }
        } else if let Some(found) = by_tag.get(source.side.arn(&r.key).as_str()) {
            item.action = Action::Adopt;
            item.dest_id = Some(found.key.id.clone());
            item.reason = format!("found {} by its ferry:source tag", found.key.id);
            known.insert(r.key.clone(), found.key.id.clone());
        } else if r.default {
            item.action = Action::Adopt;
            item.reason = r.key.kind.rules().default_reason();
            let t = Translator {
                mapping: &known,
                ..translator.clone()
            };
            if let Some(found) = find_default(dest, r, &t) {
                item.dest_id = Some(found.to_string());
                known.insert(r.key.clone(), found.to_string());
            }
        } else {
            item.reason = "not in the destination".into();
        }
        let rules = r.key.kind.rules();
        rules.apply_options(&mut item, input);
        item.notes.extend(rules.notes(r, &notes_cx));
        item.notes.extend(r.notes.iter().cloned());
        item.notes.extend(translator.findings(&r.spec));
        items.push(item);
    }

    // Up-to-date check for resources that already have a destination.
    let translator = Translator {
        mapping: &known,
        ..translator
    };
    for item in items.iter_mut().filter(|i| {
        i.action == Action::Update || (i.action == Action::Adopt && i.dest_id.is_some())
    }) {
        let dest_id = item.dest_id.clone().expect("dest id");
        let Some(current) = dest.get(&Key::new(item.key.kind, &dest_id)) else {
            continue;
        };
        let t = translator.spec(&item.resource.spec);
        let mut differences: Vec<String> = diff_spec(item.key.kind, &t.value, &current.spec)
            .into_iter()
            .map(|d| d.path)
            .collect();
        if item.resource.tags != current.tags && !item.resource.default {
            differences.push("tags".into());
        }
        differences.extend(item.key.kind.rules().differences(&item.resource, current));
        differences.dedup();
        if item.action == Action::Update {
            if differences.is_empty() && t.is_complete() {
                item.action = Action::Skip;
                item.reason = format!("up to date ({dest_id})");
            } else {
                item.reason = format!("{dest_id} differs: {}", differences.join(", "));
            }
        }
    }

    let source_keys: BTreeSet<Key> = in_source.into_iter().cloned().collect();
    detect_conflicts(
        &mut items,
        source,
        dest,
        &translator,
        &source_keys,
        &known,
        input,
        &names,
    );
    Plan {
        format: PLAN_FORMAT,
        created_at: input.created_at.clone(),
        config_digest: input.config_digest.clone(),
        source: source.side.clone(),
        destination: dest.side.clone(),
        zones: input.zones.clone(),
        dest_zones: dest.zones.clone(),
        buckets,
        items,
    }
}

/// The destination's counterpart of an AWS default: same kind, also a
/// default, and in the mapped VPC / zone. Found at plan time when the VPC
/// already exists in the destination; otherwise apply finds it after creating
/// the VPC.
pub fn find_default<'d>(dest: &'d Snapshot, r: &Resource, t: &Translator) -> Option<&'d str> {
    if r.key.kind.is_mapped_only() {
        // The destination's own certificate for the same names.
        let want = t.spec(&r.spec);
        return dest
            .of_kind(r.key.kind)
            .filter(|d| d.default && d.skip.is_none())
            .find(|d| d.spec == want.value)
            .map(|d| d.key.id.as_str());
    }
    // Only the fields that place a default are translated: its contents may
    // name resources that do not exist yet.
    let placing_fields = r.key.kind.rules().placing_fields();
    let placing: serde_json::Map<String, serde_json::Value> = placing_fields
        .iter()
        .filter_map(|f| r.spec.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect();
    let want = t.spec(&serde_json::Value::Object(placing));
    if !want.is_complete() {
        return None;
    }
    dest.of_kind(r.key.kind)
        .filter(|d| d.default)
        .find(|d| {
            placing_fields
                .iter()
                .all(|f| want.value.get(f).is_none() || want.value.get(f) == d.spec.get(f))
        })
        .map(|d| d.key.id.as_str())
}

#[allow(clippy::too_many_arguments)]
fn detect_conflicts(
    items: &mut [PlanItem],
    source: &Snapshot,
    dest: &Snapshot,
    translator: &Translator,
    source_keys: &BTreeSet<Key>,
    known: &Mapping,
    input: &PlanInput,
    names: &BTreeMap<String, Result<String, String>>,
) {
    let claimed: BTreeSet<&str> = known.iter().map(|(_, d)| d).collect();
    let claimed: BTreeSet<String> = claimed.into_iter().map(String::from).collect();
    let cx = PlanCx {
        source,
        dest,
        input,
        known,
        claimed: &claimed,
        names,
    };
    // A mapped-only resource (a certificate) nothing in scope uses needs no
    // counterpart.
    let used: BTreeSet<Key> = items
        .iter()
        .filter(|i| i.action.executes())
        .flat_map(|i| i.depends_on.iter().chain(&i.contents_depend_on).cloned())
        .collect();
    for item in items
        .iter_mut()
        .filter(|i| i.key.kind.is_mapped_only() && i.action.executes() && !used.contains(&i.key))
    {
        item.action = Action::Skip;
        item.reason = "not served by any listener ferry migrates".into();
    }
    for item in items.iter_mut().filter(|i| i.action.executes()) {
        let r = &item.resource;
        let mut problems: Vec<String> = vec![];
        // References ferry cannot follow.
        for d in item.depends_on.iter().chain(&item.contents_depend_on) {
            if !d.kind.is_supported() {
                problems.push(format!("references {d}, of unsupported kind {}", d.kind));
            } else if !source_keys.contains(d) && !known.contains(d) {
                let why = if source.get(d).is_some() {
                    "out of scope"
                } else {
                    d.kind
                        .rules()
                        .absent_reference()
                        .unwrap_or("not in the source estate")
                };
                problems.push(format!("references {d}, which is {why}"));
            }
        }
        let t = translator.spec(&r.spec);
        if r.default && !t.problems.is_empty() {
            // An AWS default with no counterpart (a default subnet in a zone
            // the destination region lacks) holds nothing to move.
            item.action = Action::Skip;
            item.reason = format!(
                "AWS default with no counterpart in the destination: {}",
                t.problems.join("; ")
            );
            continue;
        }
        problems.extend(t.problems.iter().cloned());
        if item.action == Action::Create && r.key.kind.keeps_name() {
            // Kept names: one taken by something ferry did not make for this
            // source is a conflict, never adopted.
            if let Some(theirs) = dest.get(&r.key) {
                problems.push(format!(
                    "name {:?} is already taken in the destination account{}",
                    r.key.id,
                    theirs
                        .ferry_source
                        .as_deref()
                        .map(|s| format!(" (by ferry, for {s})"))
                        .unwrap_or_default()
                ));
            }
        }
        problems.extend(r.key.kind.rules().conflicts(item, &cx));
        if !problems.is_empty() {
            item.action = Action::Conflict;
            item.reason = problems.join("; ");
        }
    }
    // Anything that needs a resource that will not exist is a conflict too.
    loop {
        // A certificate's own reason says what to do: it is repeated.
        let blocked: BTreeMap<Key, (Action, Option<String>)> = items
            .iter()
            .filter(|i| !i.action.executes() && i.dest_id.is_none() && !known.contains(&i.key))
            .map(|i| {
                let why = i.key.kind.is_mapped_only().then(|| i.reason.clone());
                (i.key.clone(), (i.action, why))
            })
            .collect();
        let mut changed = false;
        for item in items.iter_mut().filter(|i| i.action.executes()) {
            let hit = item
                .depends_on
                .iter()
                .chain(&item.contents_depend_on)
                .find_map(|d| blocked.get(d).map(|a| (d.clone(), a.clone())));
            if let Some((d, (a, why))) = hit {
                item.action = Action::Conflict;
                item.reason = match why {
                    Some(why) => format!("depends on {d}, which is planned as {a}: {why}"),
                    None => format!("depends on {d}, which is planned as {a}"),
                };
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

mod file;
pub use file::PlanFileError;

#[cfg(test)]
mod tests;
