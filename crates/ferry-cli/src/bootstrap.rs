//! `ferry bootstrap`: the least-privilege IAM policies ferry needs on each
//! side, derived from the actions its adapters declare (so they cannot drift
//! from the code), and the trust policy of the destination role.

use crate::cli::{Cli, Output};
use ferry_aws::Side;
use ferry_core::config::Config;
use ferry_engine::EngineError;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn policy(actions: BTreeSet<&str>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Ferry", "Effect": "Allow", "Action": actions.into_iter().collect::<Vec<_>>(), "Resource": "*"}]
    })
}

/// Read-only actions are what discovery needs on the source; adapters that
/// carry data add the shares, grants and scratch copies they make there.
fn is_read(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or("");
    name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List")
}

pub fn documents(config: &Config, source_account: &str) -> Value {
    let kinds = ferry_core::kind::select(&config.scope.include, &config.scope.exclude);
    let mut all: BTreeSet<&str> = BTreeSet::new();
    let mut source_writes: BTreeSet<&str> = BTreeSet::new();
    let registry = ferry_aws::Registry::aws();
    for k in &kinds {
        if let Some(a) = registry.get(*k) {
            all.extend(a.actions());
            source_writes.extend(a.source_actions());
        }
    }
    // S3 Batch Operations (`[s3] batch`) creates jobs, their role and work
    // bucket in the destination, and its own read statement in the source.
    if config.s3.batch && kinds.contains(&ferry_core::Kind::Bucket) {
        all.extend(ferry_aws::s3::batch::ACTIONS);
        source_writes.extend(ferry_aws::s3::batch::SOURCE_ACTIONS);
    }
    // Run messages ([notify]) are published by the side whose account the
    // topic is in, the destination otherwise (see ferry_engine::notify).
    if let Some(topic) = config
        .notify
        .sns_topic_arn
        .as_deref()
        .and_then(ferry_aws::sns::Topic::parse)
    {
        let dest_account = account_of(&config.destination.role_arn);
        if topic.account == source_account && dest_account.as_deref() != Some(&topic.account) {
            source_writes.extend(ferry_aws::sns::ACTIONS);
        } else {
            all.extend(ferry_aws::sns::ACTIONS);
        }
    }
    all.insert("sts:GetCallerIdentity");
    let mut source: BTreeSet<&str> = all.iter().copied().filter(|a| is_read(a)).collect();
    source.extend(source_writes);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{source_account}:root")},
            "Action": "sts:AssumeRole"
        }]
    });
    json!({
        "source_policy": policy(source),
        "destination_policy": policy(all),
        "destination_role": {
            "role_arn": config.destination.role_arn,
            "trust_policy": trust,
        }
    })
}

fn account_of(arn: &Option<String>) -> Option<String> {
    arn.as_deref()
        .and_then(|a| a.split(':').nth(4))
        .map(String::from)
}

fn limits(config: &Config) -> std::collections::BTreeMap<String, (u32, f64)> {
    config
        .apply
        .rate_limits
        .iter()
        .map(|(k, v)| (k.clone(), (v.burst, v.per_second)))
        .collect()
}

/// Prints the documents; with `apply`, creates the destination role with the
/// destination's own (base) credentials and then assumes it to prove it works.
pub async fn run(cli: &Cli, output: Output, apply: bool) -> Result<u8, EngineError> {
    let config = Config::load(&cli.config)?;
    let source_account = match account_of(&config.source.role_arn) {
        Some(a) => a,
        None if apply => {
            Side::connect("source", &config.source, &limits(&config))
                .await?
                .info
                .account
        }
        None => "SOURCE_ACCOUNT_ID".into(),
    };
    let docs = documents(&config, &source_account);
    let mut changes = vec![];
    if apply {
        changes = apply_role(&config, &docs).await?;
    }
    if output == Output::Json {
        let mut out = docs.clone();
        out["applied"] = json!(apply);
        out["changes"] = json!(changes);
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(0);
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("json");
    println!(
        "# Policy for the identity ferry uses in the source account (reads, plus the temporary"
    );
    println!("# shares, KMS grants and scratch copies that carry images, snapshots and volumes):");
    println!("{}\n", pretty(&docs["source_policy"]));
    println!("# Policy for the destination role:");
    println!("{}\n", pretty(&docs["destination_policy"]));
    println!(
        "# Trust policy of the destination role ({}):",
        config
            .destination
            .role_arn
            .as_deref()
            .unwrap_or("set [destination] role_arn")
    );
    println!("{}", pretty(&docs["destination_role"]["trust_policy"]));
    for c in &changes {
        println!("{c}");
    }
    Ok(0)
}

async fn apply_role(config: &Config, docs: &Value) -> Result<Vec<String>, EngineError> {
    let role_arn = config.destination.role_arn.clone().ok_or_else(|| {
        EngineError::Input("bootstrap --apply creates the role named by [destination] role_arn; set it in ferry.toml".into())
    })?;
    let account = account_of(&Some(role_arn.clone())).unwrap_or_default();
    let resource = role_arn
        .split_once(":role/")
        .map(|(_, r)| r)
        .unwrap_or_default();
    let (path, name) = match resource.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n.to_string()),
        None => ("/".to_string(), resource.to_string()),
    };
    // The role does not exist yet: work with the destination's base credentials.
    let mut base = config.destination.clone();
    base.role_arn = None;
    base.external_id = None;
    base.session_name = None;
    let dest = Side::connect("destination", &base, &limits(config)).await?;
    if dest.info.account != account {
        return Err(EngineError::Input(format!(
            "the destination credentials act in account {}, but role_arn {role_arn} is in account {account}: run `ferry bootstrap --apply` with credentials of the destination account (set [destination] profile, or AWS_PROFILE)",
            dest.info.account
        )));
    }
    let mut changes = ferry_aws::iam::bootstrap::ensure_role(
        &dest,
        &path,
        &name,
        &docs["destination_role"]["trust_policy"],
        &docs["destination_policy"],
    )
    .await?;
    // Prove it: assume the role the way every other command will.
    Side::connect("destination", &config.destination, &limits(config)).await?;
    changes.push(format!("ferry can assume {role_arn}"));
    Ok(changes)
}
