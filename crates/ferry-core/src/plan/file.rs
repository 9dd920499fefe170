//! Reading a plan file written by `ferry plan --out FILE`: the pure part of
//! `apply --plan FILE` (the engine reads the file and then checks the plan
//! fits the configuration and accounts).

use super::{Plan, PLAN_FORMAT};
use std::collections::BTreeSet;

/// Why a text is not a plan this ferry can run. The message starts with the
/// source (a path) and, where known, the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanFileError(pub String);

const HOW: &str = "a plan file is written by `ferry plan --out FILE` and is not edited by hand";

impl Plan {
    /// Parses and checks a saved plan. `source` names it in messages (a
    /// path). Refused: text that is not JSON, JSON that is not a plan, a plan
    /// format this ferry does not know (checked before the fields, which may
    /// differ between formats), an item whose key is not its resource's, and
    /// a resource planned twice (apply would run it twice).
    pub fn from_json(text: &str, source: &str) -> Result<Plan, PlanFileError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            PlanFileError(format!(
                "{source}:{}:{}: not a ferry plan: not JSON: {}; {HOW}",
                e.line(),
                e.column(),
                serde_message(&e)
            ))
        })?;
        let format = match value.get("format") {
            None => {
                return Err(PlanFileError(format!(
                    "{source}: not a ferry plan: no \"format\" field at the top; {HOW}"
                )))
            }
            Some(f) => f.as_u64().ok_or_else(|| {
                PlanFileError(format!(
                    "{source}: not a ferry plan: \"format\" is {f}, not a number; {HOW}"
                ))
            })?,
        };
        if format != u64::from(PLAN_FORMAT) {
            return Err(PlanFileError(format!(
                "{source}: plan format {format} is not supported by this ferry (expects {PLAN_FORMAT}); make a new plan with `ferry plan --out FILE`"
            )));
        }
        // Parsed again from the text (not the value) for line and column.
        let plan: Plan = serde_json::from_str(text).map_err(|e| {
            PlanFileError(format!(
                "{source}:{}:{}: not a ferry plan: {}; {HOW}",
                e.line(),
                e.column(),
                serde_message(&e)
            ))
        })?;
        let mut seen = BTreeSet::new();
        for (i, item) in plan.items.iter().enumerate() {
            if item.key != item.resource.key {
                return Err(PlanFileError(format!(
                    "{source}: item {i} is for {} but holds the resource {}; {HOW}",
                    item.key, item.resource.key
                )));
            }
            if !seen.insert(&item.key) {
                return Err(PlanFileError(format!(
                    "{source}: {} is planned twice (item {i}); {HOW}",
                    item.key
                )));
            }
        }
        Ok(plan)
    }
}

/// serde_json's message without its own " at line L column C" (the caller
/// puts the location first, as for ferry.toml).
fn serde_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, PlanItem};
    use crate::resource::{Key, Resource, SideInfo};
    use crate::Kind;
    use serde_json::json;

    fn plan(keys: &[&str]) -> Plan {
        let side = |a: &str| SideInfo {
            account: a.into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        };
        Plan {
            format: PLAN_FORMAT,
            created_at: "2025-01-01T00:00:00Z".into(),
            config_digest: "0123456789abcdef".into(),
            source: side("111111111111"),
            destination: side("222222222222"),
            zones: Default::default(),
            dest_zones: vec![],
            buckets: Default::default(),
            items: keys
                .iter()
                .map(|id| {
                    let key = Key::new(Kind::Vpc, *id);
                    PlanItem {
                        action: Action::Create,
                        key: key.clone(),
                        name: None,
                        reason: "not in the destination".into(),
                        dest_id: None,
                        depends_on: vec![],
                        contents_depend_on: vec![],
                        notes: vec![],
                        resource: Resource::with_tags(key, json!({"cidr": "10.0.0.0/16"}), []),
                    }
                })
                .collect(),
        }
    }

    fn err(text: &str) -> String {
        Plan::from_json(text, "p.json").unwrap_err().0
    }

    #[test]
    fn a_written_plan_reads_back_equal() {
        let p = plan(&["vpc-1", "vpc-2"]);
        let text = serde_json::to_string_pretty(&p).unwrap();
        assert_eq!(Plan::from_json(&text, "p.json").unwrap(), p);
    }

    #[test]
    fn text_that_is_not_json_says_where() {
        let e = err("{\n  \"format\": 1,\n  oops\n}");
        assert!(
            e.starts_with("p.json:3:3: not a ferry plan: not JSON: key must be a string;"),
            "{e}"
        );
        assert!(e.ends_with(HOW), "{e}");
    }

    #[test]
    fn json_that_is_not_a_plan_is_refused() {
        assert_eq!(
            err(r#"{"Version": "2012-10-17"}"#),
            format!("p.json: not a ferry plan: no \"format\" field at the top; {HOW}")
        );
        assert!(err("[1, 2]").contains("no \"format\" field"));
        assert!(err(r#"{"format": "1"}"#).contains("\"format\" is \"1\", not a number"));
        let e = err(r#"{"format": 1, "items": []}"#);
        assert!(
            e.starts_with("p.json:1:26: not a ferry plan: missing field `created_at`;"),
            "{e}"
        );
    }

    #[test]
    fn another_format_is_refused_before_its_fields_are_read() {
        assert_eq!(
            err(r#"{"format": 2, "steps": []}"#),
            "p.json: plan format 2 is not supported by this ferry (expects 1); make a new plan with `ferry plan --out FILE`"
        );
    }

    #[test]
    fn a_resource_planned_twice_is_refused() {
        let text = serde_json::to_string(&plan(&["vpc-1", "vpc-2", "vpc-1"])).unwrap();
        assert_eq!(
            err(&text),
            format!("p.json: vpc/vpc-1 is planned twice (item 2); {HOW}")
        );
    }

    #[test]
    fn an_item_holding_another_resource_is_refused() {
        let mut p = plan(&["vpc-1"]);
        p.items[0].resource.key = Key::new(Kind::Vpc, "vpc-9");
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            err(&text),
            format!("p.json: item 0 is for vpc/vpc-1 but holds the resource vpc/vpc-9; {HOW}")
        );
    }

    /// Found by the plan_file fuzz target: a number that serde_json (without
    /// its float_roundtrip feature) read back one unit in the last place off
    /// once written, so a saved plan changed between `plan --out` and apply.
    #[test]
    fn fuzz_regression_a_large_float_reads_back_equal() {
        let text = include_str!("../../fuzz-regressions/plan_file/float-roundtrip.json");
        let plan = Plan::from_json(text, "p.json").unwrap();
        let written = serde_json::to_string_pretty(&plan).unwrap();
        assert_eq!(Plan::from_json(&written, "p.json").unwrap(), plan);
    }
}
