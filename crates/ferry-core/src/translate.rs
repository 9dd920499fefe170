//! Translation of a source spec into the destination's terms: references
//! through the mapping, zones through `[zones]` (or by letter), region-bound
//! names (endpoint services, AWS-managed prefix lists, the default DHCP domain)
//! and documents (accounts, ARNs).
//!
//! apply uses it to resolve a spec at create time; verify uses the very same
//! function and diffs the result against what the destination reports, so the
//! two can never disagree on what "equivalent" means.

use crate::mapping::Mapping;
use crate::resource::{Key, SideInfo};
use crate::rewrite::Rewriter;
use serde_json::Value;
use std::collections::BTreeMap;

/// Spec fields that hold policy documents (or maps of them), rewritten as
/// documents: accounts, ARNs, regions, migrated IDs.
const DOCUMENT_FIELDS: &[&str] = &[
    "policy",
    "document",
    "trust_policy",
    "inline_policies",
    "notifications",
];

#[derive(Debug, Clone)]
pub struct Translator<'a> {
    pub source: &'a SideInfo,
    pub dest: &'a SideInfo,
    /// Explicit `[zones]` entries.
    pub zones: &'a BTreeMap<String, String>,
    /// Zones that exist in the destination region (empty: unknown, not checked).
    pub dest_zones: &'a [String],
    pub mapping: &'a Mapping,
    /// Source bucket name -> destination bucket name (`[naming]`), for S3
    /// ARNs inside policy documents.
    pub buckets: &'a BTreeMap<String, String>,
}

/// A translated spec and what could not be translated.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub value: Value,
    /// References to resources that are not (yet) mapped; left as source IDs.
    pub unresolved: Vec<Key>,
    /// Values with no counterpart in the destination (a zone, say).
    pub problems: Vec<String>,
}

impl Translated {
    pub fn is_complete(&self) -> bool {
        self.unresolved.is_empty() && self.problems.is_empty()
    }
}

impl Translator<'_> {
    pub fn spec(&self, spec: &Value) -> Translated {
        let mut t = Translated {
            value: Value::Null,
            unresolved: vec![],
            problems: vec![],
        };
        t.value = self.walk(spec, None, &mut t);
        t.unresolved.sort();
        t.unresolved.dedup();
        t
    }

    /// What the operator should know about the policy documents in a spec
    /// (principals in third accounts, source-account ARNs that are not
    /// migrated), one line each, prefixed by the field that holds it.
    pub fn findings(&self, spec: &Value) -> Vec<String> {
        let mut out = vec![];
        let Value::Object(m) = spec else { return out };
        for (field, v) in m
            .iter()
            .filter(|(f, _)| DOCUMENT_FIELDS.contains(&f.as_str()))
        {
            let docs: Vec<(String, &Value)> = if field == "inline_policies" {
                v.as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(n, d)| (format!("inline policy {n}"), d))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                vec![(field.replace('_', " "), v)]
            };
            for (label, doc) in docs {
                for f in self.rewriter().with_buckets(self.buckets).report(doc) {
                    out.push(format!(
                        "{label} {}: {}",
                        f.path.trim_start_matches('$'),
                        f.message
                    ));
                }
            }
        }
        out
    }

    /// The destination zone for a source zone.
    pub fn zone(&self, zone: &str) -> Result<String, String> {
        if let Some(z) = self.zones.get(zone) {
            return Ok(z.clone());
        }
        let mapped = if self.source.region == self.dest.region {
            zone.to_string()
        } else {
            let suffix = zone
                .strip_prefix(self.source.region.as_str())
                .ok_or_else(|| {
                    format!(
                        "zone {zone} is not in the source region {}",
                        self.source.region
                    )
                })?;
            format!("{}{}", self.dest.region, suffix)
        };
        if !self.dest_zones.is_empty() && !self.dest_zones.iter().any(|z| z == &mapped) {
            return Err(format!(
                "zone {zone} maps to {mapped}, which does not exist in {}; map it in [zones] of ferry.toml",
                self.dest.region
            ));
        }
        Ok(mapped)
    }

    /// `com.amazonaws.us-east-1.s3` -> `com.amazonaws.eu-west-1.s3`.
    pub fn region_name(&self, name: &str) -> String {
        let from = format!(".{}.", self.source.region);
        let to = format!(".{}.", self.dest.region);
        name.replacen(&from, &to, 1)
    }

    fn rewriter(&self) -> Rewriter<'_> {
        Rewriter {
            source_account: &self.source.account,
            dest_account: &self.dest.account,
            source_region: &self.source.region,
            dest_region: &self.dest.region,
            mapping: self.mapping,
        }
    }

    fn walk(&self, v: &Value, field: Option<&str>, t: &mut Translated) -> Value {
        match v {
            Value::Object(m) => {
                if m.len() == 1 {
                    if let Some(Value::String(s)) = m.get("$ref") {
                        if let Some(key) = Key::parse(s) {
                            let id = match self.mapping.get(&key) {
                                Some(d) => d.to_string(),
                                // IAM is global: within one account the
                                // resource is its own counterpart.
                                None if key.kind.is_global()
                                    && self.source.account == self.dest.account =>
                                {
                                    key.id.clone()
                                }
                                None => {
                                    t.unresolved.push(key.clone());
                                    key.id.clone()
                                }
                            };
                            return serde_json::json!({"$ref": format!("{}/{}", key.kind, id)});
                        }
                    }
                }
                if field.is_some_and(|f| DOCUMENT_FIELDS.contains(&f)) {
                    return self.rewriter().with_buckets(self.buckets).document(v);
                }
                Value::Object(
                    m.iter()
                        .map(|(k, x)| (k.clone(), self.walk(x, Some(k), t)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.walk(x, field, t)).collect()),
            Value::String(s) => Value::String(match field {
                Some("availability_zone") => match self.zone(s) {
                    Ok(z) => z,
                    Err(e) => {
                        t.problems.push(e);
                        s.clone()
                    }
                },
                Some("service_name") | Some("prefix_list") => self.region_name(s),
                Some("domain-name") => self.dhcp_domain(s),
                _ => s.clone(),
            }),
            other => other.clone(),
        }
    }

    /// The region's default DHCP domain follows the region; others are kept.
    fn dhcp_domain(&self, s: &str) -> String {
        let default_of = |r: &str| {
            if r == "us-east-1" {
                "ec2.internal".to_string()
            } else {
                format!("{r}.compute.internal")
            }
        };
        s.split(' ')
            .map(|d| {
                if d == default_of(&self.source.region) {
                    default_of(&self.dest.region)
                } else {
                    d.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use serde_json::json;

    fn sides(dst_region: &str) -> (SideInfo, SideInfo) {
        (
            SideInfo {
                account: "111111111111".into(),
                region: "us-east-1".into(),
                partition: "aws".into(),
            },
            SideInfo {
                account: "222222222222".into(),
                region: dst_region.into(),
                partition: "aws".into(),
            },
        )
    }

    #[test]
    fn references_zones_and_region_names_are_translated() {
        let (s, d) = sides("eu-west-1");
        let mut m = Mapping::new();
        m.insert(Key::new(Kind::Vpc, "vpc-1"), "vpc-9");
        let zones = BTreeMap::new();
        let dz = vec!["eu-west-1a".to_string(), "eu-west-1b".to_string()];
        let t = Translator {
            source: &s,
            dest: &d,
            zones: &zones,
            dest_zones: &dz,
            mapping: &m,
            buckets: &Default::default(),
        };
        let out = t.spec(&json!({
            "vpc": {"$ref": "vpc/vpc-1"},
            "availability_zone": "us-east-1b",
            "service_name": "com.amazonaws.us-east-1.s3",
            "routes": [{"destination": {"prefix_list": "com.amazonaws.us-east-1.s3"}, "target": {"$ref": "nat_gateway/nat-1"}}],
            "configurations": {"domain-name": ["ec2.internal"]}
        }));
        assert_eq!(out.value["vpc"], json!({"$ref": "vpc/vpc-9"}));
        assert_eq!(out.value["availability_zone"], "eu-west-1b");
        assert_eq!(out.value["service_name"], "com.amazonaws.eu-west-1.s3");
        assert_eq!(
            out.value["routes"][0]["destination"]["prefix_list"],
            "com.amazonaws.eu-west-1.s3"
        );
        assert_eq!(
            out.value["configurations"]["domain-name"][0],
            "eu-west-1.compute.internal"
        );
        assert_eq!(out.unresolved, vec![Key::new(Kind::NatGateway, "nat-1")]);
        assert!(out.problems.is_empty());
    }

    #[test]
    fn zones_follow_the_map_and_report_missing_letters() {
        let (s, d) = sides("eu-west-1");
        let m = Mapping::new();
        let mut zones = BTreeMap::new();
        zones.insert("us-east-1e".to_string(), "eu-west-1c".to_string());
        let dz = vec![
            "eu-west-1a".into(),
            "eu-west-1b".into(),
            "eu-west-1c".into(),
        ];
        let t = Translator {
            source: &s,
            dest: &d,
            zones: &zones,
            dest_zones: &dz,
            mapping: &m,
            buckets: &Default::default(),
        };
        assert_eq!(t.zone("us-east-1e").unwrap(), "eu-west-1c");
        assert_eq!(t.zone("us-east-1a").unwrap(), "eu-west-1a");
        let err = t.zone("us-east-1f").unwrap_err();
        assert!(err.contains("[zones]"), "{err}");
        let out = t.spec(&json!({"availability_zone": "us-east-1f"}));
        assert_eq!(out.problems.len(), 1);
        assert!(!out.is_complete());
    }

    #[test]
    fn policy_documents_are_rewritten_wherever_specs_hold_them() {
        let (s, d) = sides("eu-west-1");
        let m = Mapping::new();
        let zones = BTreeMap::new();
        let t = Translator {
            source: &s,
            dest: &d,
            zones: &zones,
            dest_zones: &[],
            mapping: &m,
            buckets: &Default::default(),
        };
        let arn = "arn:aws:iam::111111111111:role/app";
        let out = t.spec(&json!({
            "trust_policy": {"Statement": [{"Principal": {"AWS": arn}}]},
            "inline_policies": {"read": {"Statement": [{"Resource": "arn:aws:sqs:us-east-1:111111111111:q"}]}},
            "document": {"Statement": [{"Resource": arn}]},
            "description": "arn:aws:iam::111111111111:role/app is mentioned, not rewritten"
        }));
        assert_eq!(
            out.value["trust_policy"]["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::222222222222:role/app"
        );
        assert_eq!(
            out.value["inline_policies"]["read"]["Statement"][0]["Resource"],
            "arn:aws:sqs:eu-west-1:222222222222:q"
        );
        assert_eq!(
            out.value["document"]["Statement"][0]["Resource"],
            "arn:aws:iam::222222222222:role/app"
        );
        assert!(out.value["description"]
            .as_str()
            .unwrap()
            .contains("111111111111"));
    }

    #[test]
    fn same_region_keeps_zones_and_names() {
        let (s, d) = sides("us-east-1");
        let m = Mapping::new();
        let zones = BTreeMap::new();
        let t = Translator {
            source: &s,
            dest: &d,
            zones: &zones,
            dest_zones: &[],
            mapping: &m,
            buckets: &Default::default(),
        };
        let out = t.spec(&json!({"availability_zone": "us-east-1f", "service_name": "com.amazonaws.us-east-1.s3"}));
        assert_eq!(out.value["availability_zone"], "us-east-1f");
        assert_eq!(out.value["service_name"], "com.amazonaws.us-east-1.s3");
    }
}
