//! A run is bound to the accounts it was planned with: resume, rollback
//! and verify refuse (exit 2, naming both accounts) when the credentials
//! now resolve to another destination account, and change nothing.

use super::*;
use crate::failpoint::Crash;
use crate::{rollback, verify};

const OTHER: &str = "333333333333";

fn assert_refused(r: Result<impl std::fmt::Debug, EngineError>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.exit_code(), 2, "{what}: {e}");
    let text = e.to_string();
    assert!(
        text.contains(DEST) && text.contains(OTHER),
        "{what}: {text}"
    );
}

#[tokio::test]
async fn resume_rollback_and_verify_refuse_other_accounts() {
    let w = World::new();
    let (first, _) = w.apply(Some(Arc::new(Crash::at("after-create", 2)))).await;
    assert!(first.is_err());
    let before = (w.dest(), w.aws.resources(OTHER));
    let calls = w.aws.calls.lock().unwrap().len();

    let (cx, _) = w.context_in(OTHER, None);
    assert_refused(apply(cx).await, "resume");
    let (cx, _) = w.context_in(OTHER, None);
    assert_refused(rollback::preview(&cx, 1).await, "rollback preview");
    assert_refused(rollback::run(&cx, 1).await, "rollback");
    assert_refused(verify::run(&cx).await, "verify");

    assert_eq!((w.dest(), w.aws.resources(OTHER)), before);
    assert_eq!(w.aws.calls.lock().unwrap().len(), calls, "no call was made");
    let r = cx.state.run(1).unwrap().unwrap();
    assert_ne!(r.state, ferry_state::RunState::RolledBack);

    // With the run's own accounts, all three go ahead.
    let (cx, _) = w.context(None);
    apply(cx).await.unwrap();
    let (cx, _) = w.context(None);
    verify::run(&cx).await.unwrap();
    rollback::run(&cx, 1).await.unwrap();
}
