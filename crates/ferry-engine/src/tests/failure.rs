//! A resource that fails strands exactly what needs it (its own later
//! phase, and what references it), nothing else; resuming after the cause
//! is fixed finishes the run.

use super::*;
use std::collections::BTreeSet;

#[tokio::test]
async fn a_failure_strands_exactly_its_dependents() {
    let w = World::new();
    w.aws.fail_create.lock().unwrap().insert("sg-a".into());
    let (run, mut events) = w.apply(None).await;
    let err = run.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let (mut finished, mut failed, mut stranded) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for e in events.all() {
        match e {
            Event::Finished { node, .. } => {
                finished.insert(node);
            }
            Event::Failed { node, .. } => {
                failed.insert(node);
            }
            Event::Stranded { node, because } => {
                assert_eq!(because, "security_group/sg-a");
                stranded.insert(node);
            }
            _ => {}
        }
    }
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(failed, set(&["security_group/sg-a"]));
    // sg-a's rules need sg-a; sg-b's rules reference it.
    assert_eq!(
        stranded,
        set(&[
            "security_group/sg-a#contents",
            "security_group/sg-b#contents"
        ])
    );
    assert_eq!(
        finished,
        set(&[
            "vpc/vpc-1",
            "vpc/vpc-def",
            "subnet/subnet-1",
            "subnet/subnet-2",
            "security_group/sg-b",
            "security_group/sg-def",
            "security_group/sg-def#contents",
        ])
    );
    // Nothing was made for the failed group.
    let (cx, _) = w.context(None);
    assert!(cx.state.map_get("security_group/sg-a").unwrap().is_none());

    // Fixed: apply resumes the run and does the rest.
    w.aws.fail_create.lock().unwrap().clear();
    let (run, mut events) = w.apply(None).await;
    assert_eq!(run.unwrap(), 1);
    let done: BTreeSet<String> = events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            Event::Finished { node, .. } => Some(node),
            _ => None,
        })
        .collect();
    assert!(done.contains("security_group/sg-a"));
    assert!(done.contains("security_group/sg-b#contents"));
    assert_eq!(w.aws.count("create", "security_group/sg-a"), 2);
}
