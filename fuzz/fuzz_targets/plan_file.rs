//! Plan files (`Plan::from_json`, what `apply --plan FILE` reads), and what
//! apply then does with a plan before any AWS call: render it, count it,
//! skip its conflicts and build its execution graph. Never panics, and
//! - an error names the file first;
//! - a plan that is accepted is written back and read again unchanged;
//! - its graph, when acyclic, orders every node after its dependencies, and
//!   holds one create node per executing item.
#![no_main]

use ferry_core::Plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = match Plan::from_json(text, "plan.json") {
        Ok(p) => p,
        Err(e) => {
            assert!(e.0.starts_with("plan.json"), "{}", e.0);
            return;
        }
    };
    let _ = ferry_core::render::plan(&plan);
    let _ = plan.counts();

    let written = serde_json::to_string_pretty(&plan).expect("a plan serialises");
    let back = Plan::from_json(&written, "plan.json").expect("a written plan reads back");
    assert_eq!(back, plan, "plan changed when written and read back");

    let mut skipped = plan.clone();
    skipped.skip_conflicts();
    assert!(skipped.conflicts().next().is_none());
    for p in [&plan, &skipped] {
        if let Ok(dag) = p.graph() {
            let executing = p.items.iter().filter(|i| i.action.executes()).count();
            let creates = (0..dag.len())
                .filter(|&i| dag.node(i).phase == ferry_core::Phase::Create)
                .count();
            assert_eq!(creates, executing, "one create node per executing item");
            let order = dag.topo_order();
            assert_eq!(order.len(), dag.len(), "an acyclic graph orders every node");
        }
    }
});
