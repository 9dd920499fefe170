//! `ferry bootstrap`: the least-privilege IAM policies ferry needs on each
//! side, derived from the actions its adapters declare (so they cannot drift
//! from the code), and the trust policy of the destination role.

use crate::cli::{Cli, Output};
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

/// Read-only actions are what discovery needs on the source.
fn is_read(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or("");
    name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List")
}

pub fn documents(config: &Config) -> Value {
    let kinds = ferry_core::kind::select(&config.scope.include, &config.scope.exclude);
    let mut all: BTreeSet<&str> = BTreeSet::new();
    for k in &kinds {
        if let Some(a) = ferry_aws::adapter(*k) {
            all.extend(a.actions());
        }
    }
    all.insert("sts:GetCallerIdentity");
    let source: BTreeSet<&str> = all.iter().copied().filter(|a| is_read(a)).collect();
    let account_of = |arn: &Option<String>| {
        arn.as_deref()
            .and_then(|a| a.split(':').nth(4))
            .map(String::from)
    };
    let source_account =
        account_of(&config.source.role_arn).unwrap_or_else(|| "SOURCE_ACCOUNT_ID".into());
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

pub fn print(cli: &Cli, output: Output) -> Result<u8, EngineError> {
    let config = Config::load(&cli.config)?;
    let docs = documents(&config);
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&docs).expect("json"));
        return Ok(0);
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("json");
    println!("# Policy for the identity ferry uses in the source account (read-only):");
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
    Ok(0)
}
