//! A run killed at any journal step, then resumed, ends as an uninterrupted
//! run does: every resource once (no duplicate), every resource made known
//! to the mapping (no orphan), defaults changed once (ARCHITECTURE.md invariants 2
//! and 3).

use super::*;
use crate::failpoint::Crash;
use ferry_core::Key;
use std::collections::BTreeMap;

/// The destination with ferry's ids replaced by what they stand for (the
/// source resource, by its `ferry:source` tag), so that two runs that made
/// the same resources under other ids compare equal.
fn canonical(w: &World) -> BTreeMap<String, Value> {
    let dest = w.dest();
    let mut names: Vec<(String, String)> = dest
        .values()
        .filter_map(|r| Some((r.key.id.clone(), r.ferry_source.clone()?)))
        .collect();
    names.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    let rename = |s: String| {
        names
            .iter()
            .fold(s, |s, (id, source)| s.replace(id.as_str(), source))
    };
    dest.values()
        .map(|r| {
            let text = serde_json::to_string(&json!({"spec": r.spec, "tags": r.tags})).unwrap();
            (
                rename(r.key.to_string()),
                serde_json::from_str(&rename(text)).unwrap(),
            )
        })
        .collect()
}

/// No two destination resources for one source resource, and the mapping
/// and the destination agree on what ferry made.
fn assert_no_duplicate_no_orphan(w: &World, label: &str) {
    let dest = w.dest();
    let mut per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for r in dest.values() {
        if let Some(s) = &r.ferry_source {
            *per_source.entry(s).or_default() += 1;
        }
    }
    assert!(
        per_source.values().all(|n| *n == 1),
        "{label}: duplicates {per_source:?}"
    );
    let (cx, _) = w.context(None);
    let mapped: Vec<Key> = cx
        .state
        .map_all()
        .unwrap()
        .into_iter()
        .map(|m| Key::parse(&format!("{}/{}", m.kind, m.dest_id)).unwrap())
        .collect();
    for key in &mapped {
        assert!(dest.contains_key(key), "{label}: {key} is mapped but gone");
    }
    for r in dest.values().filter(|r| r.ferry_source.is_some()) {
        assert!(mapped.contains(&r.key), "{label}: orphan {}", r.key);
    }
    // And no temporary outlives the run.
    let open = cx.state.temporaries_open(None).unwrap();
    assert!(open.is_empty(), "{label}: {open:?}");
    let withdrawn = w.aws.withdrawn.lock().unwrap();
    assert!(
        withdrawn.iter().all(|(side, _)| side == "source"),
        "{label}: {withdrawn:?}"
    );
}

#[tokio::test]
async fn a_kill_at_every_journal_step_resumes_with_no_duplicate_and_no_orphan() {
    // An uninterrupted run, and the points it passes.
    let w = World::new();
    let points = Arc::new(Crash::never());
    let (run, _) = w.apply(Some(points.clone())).await;
    assert_eq!(run.unwrap(), 1);
    let want = canonical(&w);
    assert_no_duplicate_no_orphan(&w, "uninterrupted");
    let made = w
        .dest()
        .values()
        .filter(|r| r.ferry_source.is_some())
        .count();
    assert_eq!(made, 5, "{:#?}", w.dest());
    assert_eq!(
        w.aws.withdrawn.lock().unwrap().len(),
        2,
        "a scratch copy per subnet"
    );
    let mut passes: BTreeMap<String, u64> = BTreeMap::new();
    for p in points.log.lock().unwrap().iter() {
        *passes.entry(p.clone()).or_default() += 1;
    }
    // Every resource is created or adopted, then converged once per phase.
    assert_eq!(passes["after-intent"], 7, "{passes:?}");
    assert_eq!(passes["after-create"], 5, "{passes:?}");
    // Seven first phases, and the rules of the three groups.
    assert_eq!(passes["after-converge"], 10, "{passes:?}");

    let mut killed = 0;
    for (point, n) in &passes {
        for i in 1..=*n {
            let label = format!("killed at {point}:{i}");
            let w = World::new();
            let (first, _) = w.apply(Some(Arc::new(Crash::at(point, i)))).await;
            assert!(first.is_err(), "{label}: the run was not killed");
            let (resumed, mut events) = w.apply(None).await;
            assert_eq!(resumed.unwrap(), 1, "{label}: not resumed as run 1");
            let resumed_event = events
                .all()
                .into_iter()
                .any(|e| matches!(e, Event::RunStarted { resumed: true, .. }));
            assert!(resumed_event, "{label}");
            assert_no_duplicate_no_orphan(&w, &label);
            assert_eq!(canonical(&w), want, "{label}");
            // And nothing is left to do.
            let (cx, _) = w.context(None);
            let again = run::prepare(&cx, &ApplyRequest::default()).await.unwrap();
            assert!(again.is_noop(), "{label}: {} item(s) to do", again.work);
            killed += 1;
        }
    }
    assert_eq!(killed, 22);
}
