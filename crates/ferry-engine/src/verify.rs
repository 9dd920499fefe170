//! verify: re-read both sides and compare through the mapping (ARCHITECTURE.md
//! invariant 7). The journal is not consulted. Resources are compared as
//! specs; the data some carry (a bucket's objects) is compared afterwards,
//! from fresh listings of both sides ([`crate::objects`]).

use crate::context::Context;
use crate::error::Result;
use crate::{discover, objects, planning};
use ferry_core::verify::{compare, Report, VerifyInput};

pub async fn run(cx: &Context) -> Result<Report> {
    // The mapping names destination resources of the accounts of the runs
    // that made it: the newest of them says which.
    if let Some(newest) = cx.state.map_all()?.iter().map(|m| m.run_id).max() {
        if let Some(r) = cx.state.run(newest)? {
            planning::check_run_accounts(cx, &r)?;
        }
    }
    let kinds = cx.kinds();
    let (source, dest) = tokio::join!(
        discover::snapshot(cx, &cx.source, &kinds),
        discover::snapshot(cx, &cx.dest, &kinds)
    );
    let (source, dest) = (source?, dest?);
    let mapping = planning::mapping(cx)?;
    let mut report = compare(
        &source,
        &dest,
        &VerifyInput {
            kinds: &kinds,
            exclude_tags: &cx.config.scope.exclude_tags,
            exclude_ids: &cx.config.scope.exclude_ids,
            zones: &cx.config.zones,
            mapping: &mapping,
        },
    );
    report.objects = objects::compare(cx, &report, &source, &dest, &mapping).await;
    Ok(report)
}
