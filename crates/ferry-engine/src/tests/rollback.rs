//! rollback undoes a run (ARCHITECTURE.md invariant 6): deletes what it made, newest
//! first, retrying what AWS refuses while something still depends on it;
//! counts what is gone already as done; and puts back the previous contents
//! of the AWS defaults the run changed.

use super::*;
use crate::rollback;
use ferry_core::Key;

/// The estate applied: the world, its destination before, the run.
async fn applied() -> (
    World,
    std::collections::BTreeMap<Key, ferry_core::Resource>,
    i64,
) {
    let w = World::new();
    let before = w.dest();
    let (run, _) = w.apply(None).await;
    let run = run.unwrap();
    assert_ne!(w.dest(), before);
    (w, before, run)
}

#[tokio::test]
async fn rollback_retries_dependency_violations_and_restores_defaults() {
    let (w, before, run) = applied().await;
    let vpc = w
        .dest()
        .into_values()
        .find(|r| r.key.kind == Kind::Vpc && r.ferry_source.is_some())
        .unwrap()
        .key;
    // AWS refuses the VPC twice more than its dependents explain.
    w.aws
        .refuse_delete
        .lock()
        .unwrap()
        .insert(vpc.id.clone(), 2);

    let (cx, _) = w.context(None);
    let summary = rollback::run(&cx, run).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!((summary.deleted, summary.restored), (5, 3));
    assert_eq!(w.dest(), before, "the destination is as it was");
    assert_eq!(
        w.aws.count("delete", &vpc.to_string()),
        3,
        "refused twice, then deleted"
    );
    // The groups reference each other: one of them was refused too.
    let group_deletes = w
        .aws
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with("delete security_group/"))
        .count();
    assert!(group_deletes > 2, "{group_deletes}");
    assert!(cx.state.map_all().unwrap().is_empty());
    let r = cx.state.run(run).unwrap().unwrap();
    assert_eq!(r.state, ferry_state::RunState::RolledBack);
}

#[tokio::test]
async fn rollback_counts_what_is_gone_already_as_done() {
    let (w, before, run) = applied().await;
    // Removed by hand meanwhile: a subnet ferry made, and the default group
    // whose rules ferry changed (whose restore then finds nothing).
    let subnet = w
        .dest()
        .into_values()
        .find(|r| r.key.kind == Kind::Subnet)
        .unwrap()
        .key;
    w.aws.remove(DEST, &subnet).unwrap();
    let group = Key::new(Kind::SecurityGroup, "sg-ddef");
    w.aws.remove(DEST, &group).unwrap();

    let (cx, _) = w.context(None);
    let summary = rollback::run(&cx, run).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!((summary.deleted, summary.restored), (5, 3));
    let mut expected = before;
    expected.remove(&group);
    assert_eq!(w.dest(), expected);
}
