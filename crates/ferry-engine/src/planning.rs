//! Making a plan from fresh snapshots, and checking a saved plan still fits
//! the configuration and accounts it is about to run against.

use crate::context::Context;
use crate::discover;
use crate::error::{EngineError, Result};
use ferry_aws::s3::bucket::{name_statuses, NameStatus};
use ferry_core::plan::{self, Plan, PlanInput};
use ferry_core::resource::Snapshot;
use ferry_core::{Key, Kind, Mapping};
use std::collections::BTreeMap;

pub fn mapping(cx: &Context) -> Result<Mapping> {
    Ok(cx
        .state
        .map_all()?
        .into_iter()
        .filter_map(|m| Key::parse(&m.source_key).map(|k| (k, m.dest_id)))
        .collect())
}

pub async fn make(cx: &Context) -> Result<Plan> {
    let (source, dest) = discover::both(cx).await?;
    let taken_buckets = taken_buckets(cx, &source, &dest).await?;
    let input = PlanInput {
        kinds: cx.kinds(),
        exclude_tags: cx.config.scope.exclude_tags.clone(),
        exclude_ids: cx.config.scope.exclude_ids.clone(),
        zones: cx.config.zones.clone(),
        mapping: mapping(cx)?,
        config_digest: cx.config.digest(),
        created_at: discover::now(),
        no_reboot: cx.config.compute.no_reboot,
        keep_private_ips: cx.config.compute.keep_private_ips,
        naming: cx.config.naming.clone(),
        taken_buckets,
        s3: cx.config.s3.clone(),
        _marker: Default::default(),
    };
    Ok(plan::build(&source, &dest, &input))
}

/// The destination names of source buckets that someone already owns but
/// the destination snapshot does not show: another account (names are
/// global), or the destination account in another region.
async fn taken_buckets(
    cx: &Context,
    source: &Snapshot,
    dest: &Snapshot,
) -> Result<BTreeMap<String, String>> {
    let names = plan::planned_names(source, &dest.side, &cx.config.naming);
    let unseen: Vec<&str> = names
        .values()
        .filter_map(|n| n.as_ref().ok())
        .filter(|n| dest.get(&Key::new(Kind::Bucket, n.as_str())).is_none())
        .map(String::as_str)
        .collect();
    let statuses = name_statuses(&cx.dest, &unseen).await?;
    let mut taken = BTreeMap::new();
    for (name, status) in unseen.into_iter().zip(statuses) {
        let by = match status {
            NameStatus::Free => continue,
            NameStatus::Ours => format!(
                "the destination account, in a region other than {}",
                dest.side.region
            ),
            NameStatus::Taken => "another AWS account".to_string(),
        };
        taken.insert(name.to_string(), by);
    }
    Ok(taken)
}

/// Reads a plan file written by `ferry plan --out`.
pub fn read(path: &std::path::Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        EngineError::Input(format!(
            "cannot read plan file {}: {e}; write one with `ferry plan --out FILE`",
            path.display()
        ))
    })?;
    Plan::from_json(&text, &path.display().to_string()).map_err(|e| EngineError::Input(e.0))
}

/// A saved plan is only run against the configuration and accounts it was made for.
pub fn check_fits(cx: &Context, plan: &Plan, what: &str) -> Result<()> {
    if plan.config_digest != cx.config.digest() {
        return Err(EngineError::Input(format!(
            "{what} was made with a different ferry.toml (digest {} vs {}); make a new plan with `ferry plan --out FILE`",
            plan.config_digest,
            cx.config.digest()
        )));
    }
    check_accounts(
        cx,
        plan,
        what,
        "make a new plan with `ferry plan --out FILE`",
    )
}

/// A plan, and the run made from it, is bound to the accounts and regions
/// it was made for: `fix` says what to do when the credentials now resolve
/// to others.
pub fn check_accounts(cx: &Context, plan: &Plan, what: &str, fix: &str) -> Result<()> {
    if plan.source != cx.source.info || plan.destination != cx.dest.info {
        return Err(EngineError::Input(format!(
            "{what} is for {}/{} -> {}/{}, but the credentials now resolve to {}/{} -> {}/{}; {fix}",
            plan.source.account,
            plan.source.region,
            plan.destination.account,
            plan.destination.region,
            cx.source.info.account,
            cx.source.info.region,
            cx.dest.info.account,
            cx.dest.info.region
        )));
    }
    Ok(())
}

/// Refuses to act on run `run` (resume it, roll it back, verify what it
/// mapped) with credentials of other accounts than it was planned with: its
/// journal and mapping name resources of those accounts.
/// (A plan that cannot be read binds nothing: resuming it is refused for
/// that reason, rollback needs only the journal.)
pub fn check_run_accounts(cx: &Context, run: &ferry_state::RunRecord) -> Result<()> {
    let Ok(plan) = serde_json::from_value::<Plan>(run.plan.clone()) else {
        return Ok(());
    };
    check_accounts(
        cx,
        &plan,
        &format!("run {}", run.id),
        "run ferry with credentials for the run's accounts (check the profiles and role_arn in ferry.toml)",
    )
}
