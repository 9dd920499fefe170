//! The executor: runs a plan's graph with bounded concurrency, journalling
//! around every mutation (ARCHITECTURE.md invariant 3) so a run killed at any instant
//! is finished by running apply again: a resource whose creation was not
//! recorded is found again by its `ferry:source` tag (invariant 2), never
//! created twice.

use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::event::Event;
use crate::failpoint;
use ferry_aws::{Desired, KindAdapter, Lookup};
use ferry_core::plan::{find_default, Action, Node, Phase, Plan, PlanItem};
use ferry_core::protocol::{ConvergeDetail, EnsureDone, EnsureIntent, JournalOp, Origin, Outcome};
use ferry_core::resource::{TAG_RUN, TAG_SOURCE};
use ferry_core::translate::Translator;
use ferry_core::{Key, Kind, Mapping, Snapshot};
use ferry_state::RunId;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::OnceCell;
use tokio::task::JoinSet;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub created: usize,
    pub adopted: usize,
    pub converged: usize,
    pub changes: usize,
    pub failed: usize,
    pub stranded: usize,
    pub errors: Vec<String>,
    /// AWS calls made in the destination during the run (reads, writes).
    pub api_calls: (u64, u64),
}

struct Exec {
    cx: Arc<Context>,
    plan: Arc<Plan>,
    run: RunId,
    items: HashMap<Key, usize>,
    mapping: RwLock<Mapping>,
    /// Per kind listed in pages: what carries a `ferry:source` tag in the
    /// destination (source ARN -> destination id), listed once, at the first
    /// create of the kind (see [`made_before`]).
    swept: Mutex<HashMap<Kind, Arc<OnceCell<Tagged>>>>,
}

/// Source ARN (the `ferry:source` tag) -> destination id.
type Tagged = HashMap<String, String>;

/// What one node did.
struct Done {
    outcome: Outcome,
    dest_id: String,
    changes: Vec<String>,
}

pub async fn execute(
    cx: Arc<Context>,
    run: RunId,
    plan: Arc<Plan>,
    concurrency: usize,
) -> Result<Summary> {
    let mut dag = plan
        .graph()
        .map_err(|e| EngineError::Input(format!("the plan cannot be ordered: {e}")))?;
    let mut mapping = crate::planning::mapping(&cx)?;
    // A resource planned for creation whose mapping comes from an earlier run
    // was deleted from the destination since: that entry is stale. (Entries
    // of this run are what a resumed run made before it was interrupted.)
    for item in plan.items.iter().filter(|i| i.action == Action::Create) {
        if let Some(m) = cx.state.map_get(&item.key.to_string())? {
            if m.run_id != run {
                mapping.remove(&item.key);
            }
        }
    }
    let ex = Arc::new(Exec {
        mapping: RwLock::new(mapping),
        items: plan
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.key.clone(), i))
            .collect(),
        cx,
        plan,
        run,
        swept: Mutex::new(HashMap::new()),
    });
    let mut summary = Summary::default();
    let (reads_before, writes_before) = (
        ex.cx.dest.calls.read.load(Ordering::Relaxed),
        ex.cx.dest.calls.mutate.load(Ordering::Relaxed),
    );
    let mut tasks: JoinSet<(usize, std::result::Result<Done, String>)> = JoinSet::new();
    let concurrency = concurrency.max(1);
    loop {
        for i in dag.take_ready(concurrency.saturating_sub(dag.running())) {
            let node = dag.node(i).clone();
            ex.cx.emit(Event::Started {
                node: node.to_string(),
            });
            let ex = ex.clone();
            tasks.spawn(async move { (i, run_node(&ex, &node).await) });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (i, result) =
            joined.map_err(|e| EngineError::Failed(format!("an apply task panicked: {e}")))?;
        let node = dag.node(i).to_string();
        match result {
            Ok(o) => {
                dag.complete(i);
                match o.outcome {
                    Outcome::Created => summary.created += 1,
                    Outcome::Adopted | Outcome::MappedDefault => summary.adopted += 1,
                    Outcome::Mapped | Outcome::Updated | Outcome::UpToDate => {
                        summary.converged += 1
                    }
                }
                summary.changes += o.changes.len();
                ex.cx.emit(Event::Finished {
                    node,
                    done: o.outcome,
                    dest_id: o.dest_id,
                    changes: o.changes,
                });
            }
            Err(error) => {
                summary.failed += 1;
                summary.errors.push(format!("{node}: {error}"));
                ex.cx.emit(Event::Failed {
                    node: node.clone(),
                    error,
                });
                for s in dag.fail(i) {
                    summary.stranded += 1;
                    ex.cx.emit(Event::Stranded {
                        node: dag.node(s).to_string(),
                        because: node.clone(),
                    });
                }
            }
        }
    }
    // Shares, grants and scratch copies left by nodes that failed or by an
    // earlier attempt of this run: none outlives the run.
    if let Err(errors) = crate::temporaries::sweep(&ex.cx, ex.run).await {
        summary.failed += errors.len();
        summary.errors.extend(errors);
    }
    let calls = &ex.cx.dest.calls;
    summary.api_calls = (
        calls.read.load(Ordering::Relaxed) - reads_before,
        calls.mutate.load(Ordering::Relaxed) - writes_before,
    );
    Ok(summary)
}

async fn run_node(ex: &Exec, node: &Node) -> std::result::Result<Done, String> {
    let item = &ex.plan.items[ex.items[&node.key]];
    let adapter = ex
        .cx
        .registry
        .get(node.key.kind)
        .ok_or_else(|| format!("no adapter for kind {}", node.key.kind))?;
    match node.phase {
        Phase::Create => {
            let (dest_id, origin) = ensure(ex, item, adapter, node).await?;
            let changes = converge(ex, item, adapter, node, &dest_id).await?;
            let outcome = match origin {
                Some(origin) => origin.into(),
                None if changes.is_empty() => Outcome::Mapped,
                None => Outcome::Updated,
            };
            Ok(Done {
                outcome,
                dest_id,
                changes,
            })
        }
        Phase::Contents => {
            let dest_id = ex
                .mapping
                .read()
                .expect("mapping lock")
                .get(&node.key)
                .map(String::from)
                .ok_or_else(|| format!("{} has no destination yet", node.key))?;
            let changes = converge(ex, item, adapter, node, &dest_id).await?;
            Ok(Done {
                outcome: if changes.is_empty() {
                    Outcome::UpToDate
                } else {
                    Outcome::Updated
                },
                dest_id,
                changes,
            })
        }
    }
}

/// Finds or creates the destination resource and records the mapping; the
/// origin of what it found or made, or `None` when an earlier run had mapped
/// it already.
async fn ensure(
    ex: &Exec,
    item: &PlanItem,
    adapter: &dyn KindAdapter,
    node: &Node,
) -> std::result::Result<(String, Option<Origin>), String> {
    if let Some(d) = ex.mapping.read().expect("mapping lock").get(&item.key) {
        return Ok((d.to_string(), None));
    }
    let cx = &ex.cx;
    let arn = ex.plan.source.arn(&item.key);
    let op = if item.action == Action::Adopt {
        JournalOp::Adopt
    } else {
        JournalOp::Create
    };
    let intent = EnsureIntent {
        source_arn: arn.clone(),
    };
    let seq = cx
        .state
        .journal_intent(
            ex.run,
            &node.to_string(),
            op.as_str(),
            item.key.kind.as_str(),
            &item.key.to_string(),
            &json!(intent),
        )
        .map_err(|e| e.to_string())?;
    failpoint::hit(cx, "after-intent");
    let located = locate(ex, item, adapter, &arn)
        .await
        .map_err(|e| e.to_string())?;
    let (dest_id, origin) = match located {
        Some(found) => found,
        None if item.resource.default => {
            let e = format!(
                "the destination has no counterpart for this AWS default {}",
                item.key
            );
            let _ = cx.state.journal_failed(seq, &e);
            return Err(e);
        }
        None => {
            let want = desired(ex, item, Phase::Create, true)?;
            match create(ex, adapter, &want, &arn).await {
                Ok(d) => {
                    failpoint::hit(cx, "after-create");
                    (d, Origin::Created)
                }
                Err(e) => {
                    let _ = cx.state.journal_failed(seq, &e.to_string());
                    return Err(e.to_string());
                }
            }
        }
    };
    cx.state
        .map_put(
            &item.key.to_string(),
            item.key.kind.as_str(),
            &dest_id,
            origin.as_str(),
            ex.run,
        )
        .map_err(|e| e.to_string())?;
    ex.mapping
        .write()
        .expect("mapping lock")
        .insert(item.key.clone(), dest_id.clone());
    cx.state
        .journal_done(seq, Some(&dest_id), &json!(EnsureDone { origin }))
        .map_err(|e| e.to_string())?;
    Ok((dest_id, Some(origin)))
}

/// Creates the resource. When a create call's response was lost (the call
/// may have run: ferry_aws::lost), or a name-unique create finds its name
/// taken (perhaps by that very call), looks for the resource by its
/// `ferry:source` tag first, as a resumed run does: a lost response must not
/// become a second resource. Only a lost response is tried again, and only
/// when the resource is not there.
async fn create(
    ex: &Exec,
    adapter: &dyn KindAdapter,
    want: &Desired,
    arn: &str,
) -> ferry_aws::Result<String> {
    const ATTEMPTS: u64 = 3;
    let dest = &ex.cx.dest;
    let mut attempt = 1;
    loop {
        let e = match adapter.create(dest, want).await {
            Ok(d) => return Ok(d),
            Err(e) if e.is_response_lost() || e.is_already_exists() => e,
            Err(e) => return Err(e),
        };
        // Two looks, a second apart: a resource just made may take a moment
        // to show in a filtered describe.
        for look in 0..2 {
            if look > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let found = adapter
                .describe(dest, &Lookup::SourceTag(arn.to_string()))
                .await?;
            if let Some(r) = found.into_iter().next() {
                return Ok(r.key.id);
            }
        }
        if !e.is_response_lost() || attempt >= ATTEMPTS {
            return Err(e);
        }
        attempt += 1;
    }
}

/// The destination counterpart that already exists, if any: known from the
/// plan, the AWS default it maps to, or one ferry made before (by tag).
async fn locate(
    ex: &Exec,
    item: &PlanItem,
    adapter: &dyn KindAdapter,
    arn: &str,
) -> ferry_aws::Result<Option<(String, Origin)>> {
    let dest = &ex.cx.dest;
    if item.resource.default {
        if let Some(d) = &item.dest_id {
            return Ok(Some((d.clone(), Origin::Default)));
        }
        let found = adapter.describe(dest, &Lookup::All).await?;
        let snapshot = Snapshot {
            side: dest.info.clone(),
            taken_at: String::new(),
            kinds: vec![],
            zones: vec![],
            resources: found,
        };
        let mapping = ex.mapping.read().expect("mapping lock").clone();
        let t = translator(ex, &mapping);
        return Ok(
            find_default(&snapshot, &item.resource, &t).map(|d| (d.to_string(), Origin::Default))
        );
    }
    if let Some(d) = &item.dest_id {
        return Ok(Some((d.clone(), Origin::Adopted)));
    }
    if adapter.lists_in_pages() {
        return made_before(ex, adapter, arn).await;
    }
    let found = adapter
        .describe(dest, &Lookup::SourceTag(arn.to_string()))
        .await?;
    Ok(found
        .into_iter()
        .next()
        .map(|r| (r.key.id, Origin::Adopted)))
}

/// The resource an earlier run made for `arn`, from one listing of the kind
/// taken at its first create in this process. That is as good as a filtered
/// describe per resource: whatever an earlier process made is in the
/// listing, and what this process makes is in the mapping before anything
/// looks for it again (a second ferry cannot run on the state meanwhile:
/// apply holds its lock).
async fn made_before(
    ex: &Exec,
    adapter: &dyn KindAdapter,
    arn: &str,
) -> ferry_aws::Result<Option<(String, Origin)>> {
    let cell = ex
        .swept
        .lock()
        .expect("sweep lock")
        .entry(adapter.kind())
        .or_default()
        .clone();
    let tagged = cell
        .get_or_try_init(|| async {
            let all = adapter.describe(&ex.cx.dest, &Lookup::All).await?;
            Ok::<_, ferry_aws::AwsError>(
                all.into_iter()
                    .filter_map(|r| r.ferry_source.map(|s| (s, r.key.id)))
                    .collect(),
            )
        })
        .await?;
    Ok(tagged.get(arn).map(|id| (id.clone(), Origin::Adopted)))
}

fn translator<'a>(ex: &'a Exec, mapping: &'a Mapping) -> Translator<'a> {
    Translator {
        source: &ex.plan.source,
        dest: &ex.plan.destination,
        zones: &ex.plan.zones,
        dest_zones: &ex.plan.dest_zones,
        mapping,
        buckets: &ex.plan.buckets,
    }
}

/// The spec in destination terms, and the tags the resource should carry.
/// In the first phase, references of the contents may still be unresolved:
/// the adapter does not look at contents then.
fn desired(
    ex: &Exec,
    item: &PlanItem,
    phase: Phase,
    creating: bool,
) -> std::result::Result<Desired, String> {
    let mapping = ex.mapping.read().expect("mapping lock").clone();
    let mut t = translator(ex, &mapping).spec(&item.resource.spec);
    if phase == Phase::Create {
        t.unresolved
            .retain(|k| !item.contents_depend_on.contains(k) || item.depends_on.contains(k));
    }
    if !t.unresolved.is_empty() {
        let refs: Vec<String> = t.unresolved.iter().map(|k| k.to_string()).collect();
        return Err(format!(
            "references not yet in the destination: {}",
            refs.join(", ")
        ));
    }
    if !t.problems.is_empty() {
        return Err(t.problems.join("; "));
    }
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    if !item.resource.default {
        tags = item.resource.tags.clone();
        tags.insert(TAG_SOURCE.into(), ex.plan.source.arn(&item.key));
        if creating {
            tags.insert(TAG_RUN.into(), ex.run.to_string());
        }
    }
    Ok(Desired {
        spec: t.value,
        tags,
        manage_tags: !item.resource.default,
        source_id: item.key.id.clone(),
        dest_name: ex.plan.dest_name(&item.key).map(String::from),
        copy: Some(crate::temporaries::copy_cx(&ex.cx, ex.run)),
    })
}

/// Whether a default's previous contents must be kept for rollback: yes,
/// unless it is placed in a resource ferry made (a route table in a VPC
/// ferry made: rollback deletes that whole VPC), or it is of a kind ferry
/// never changes (certificates).
fn keeps_prior(ex: &Exec, item: &PlanItem) -> bool {
    if !item.resource.default || item.key.kind.is_mapped_only() {
        return false;
    }
    // Placed in a resource ferry made (a VPC): rollback deletes all of it.
    !ferry_core::rules::placed_in(&item.resource)
        .iter()
        .any(|p| {
            matches!(ex.cx.state.map_get(&p.to_string()),
            Ok(Some(m)) if Origin::parse(&m.origin) != Some(Origin::Default))
        })
}

async fn converge(
    ex: &Exec,
    item: &PlanItem,
    adapter: &dyn KindAdapter,
    node: &Node,
    dest_id: &str,
) -> std::result::Result<Vec<String>, String> {
    let cx = &ex.cx;
    let want = desired(ex, item, node.phase, false)?;
    let prior = if keeps_prior(ex, item) {
        let now = adapter
            .describe(&cx.dest, &Lookup::Ids(vec![dest_id.to_string()]))
            .await
            .map_err(|e| e.to_string())?;
        now.into_iter().next().map(|r| r.spec)
    } else {
        None
    };
    let detail = ConvergeDetail {
        dest_id: dest_id.to_string(),
        phase: node.phase,
        prior,
    };
    let seq = cx
        .state
        .journal_intent(
            ex.run,
            &node.to_string(),
            JournalOp::Converge.as_str(),
            item.key.kind.as_str(),
            &item.key.to_string(),
            &json!(detail),
        )
        .map_err(|e| e.to_string())?;
    match adapter.converge(&cx.dest, dest_id, &want, node.phase).await {
        Ok(changes) => {
            failpoint::hit(cx, "after-converge");
            cx.state
                .journal_done(seq, Some(dest_id), &json!({"changes": changes}))
                .map_err(|e| e.to_string())?;
            Ok(changes)
        }
        Err(e) => {
            let _ = cx.state.journal_failed(seq, &e.to_string());
            Err(e.to_string())
        }
    }
}
