//! Verify's comparison: every in-scope source resource against its
//! destination counterpart, through the mapping, from two fresh snapshots
//! (ARCHITECTURE.md invariant 7: it never consults the journal).

use crate::diff::{diff, diff_spec, Difference};
use crate::kind::Kind;
use crate::mapping::Mapping;
use crate::objects::BucketReport;
use crate::resource::{Key, Snapshot, TAG_SOURCE};
use crate::translate::Translator;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Equivalent,
    Different,
    /// Mapped, but the destination resource is gone.
    Missing,
    /// In scope in the source, never migrated.
    NotMigrated,
    /// An AWS default with no counterpart in the destination (a default
    /// subnet in a zone the destination region lacks): nothing to compare.
    Skipped,
    /// In the destination with a ferry:source tag naming a source resource
    /// that is not mapped to it: a duplicate or an orphan.
    Unexpected,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub key: Key,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_id: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: crate::resource::SideInfo,
    pub destination: crate::resource::SideInfo,
    pub entries: Vec<Entry>,
    /// The objects of each migrated bucket, compared key by key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectsEntry>,
}

/// One bucket's objects on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectsEntry {
    /// The source bucket's name.
    pub bucket: String,
    pub dest_bucket: String,
    /// `None` when the comparison itself failed (`error` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<BucketReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ObjectsEntry {
    pub fn is_equivalent(&self) -> bool {
        self.report
            .as_ref()
            .is_some_and(BucketReport::is_equivalent)
    }
}

impl Report {
    pub fn is_equivalent(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.status, Status::Equivalent | Status::Skipped))
            && self.objects.iter().all(ObjectsEntry::is_equivalent)
    }

    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            let s = match e.status {
                Status::Equivalent => "equivalent",
                Status::Different => "different",
                Status::Missing => "missing",
                Status::NotMigrated => "not_migrated",
                Status::Unexpected => "unexpected",
                Status::Skipped => "skipped",
            };
            *m.entry(s).or_insert(0) += 1;
        }
        m
    }
}

pub struct VerifyInput<'a> {
    pub kinds: &'a BTreeSet<Kind>,
    pub exclude_tags: &'a BTreeMap<String, String>,
    pub exclude_ids: &'a [String],
    pub zones: &'a BTreeMap<String, String>,
    pub mapping: &'a Mapping,
}

pub fn compare(source: &Snapshot, dest: &Snapshot, input: &VerifyInput) -> Report {
    let buckets = input.mapping.buckets();
    let t = Translator {
        source: &source.side,
        dest: &dest.side,
        zones: input.zones,
        dest_zones: &dest.zones,
        mapping: input.mapping,
        buckets: &buckets,
    };
    let mut entries = vec![];
    let mut expected_dest: BTreeSet<Key> = BTreeSet::new();
    for r in source
        .resources
        .iter()
        .filter(|r| input.kinds.contains(&r.key.kind))
    {
        let excluded = input
            .exclude_tags
            .iter()
            .any(|(k, v)| r.tags.get(k) == Some(v))
            || input.exclude_ids.contains(&r.key.id)
            || r.skip.is_some()
            || (r.key.kind.is_global() && source.side.account == dest.side.account);
        if excluded {
            continue;
        }
        let mut e = Entry {
            key: r.key.clone(),
            name: r.name.clone(),
            dest_id: None,
            status: Status::Equivalent,
            differences: vec![],
            note: None,
        };
        let Some(d) = input.mapping.get(&r.key) else {
            let problems = if r.default {
                t.spec(&r.spec).problems
            } else {
                vec![]
            };
            if !problems.is_empty() {
                e.status = Status::Skipped;
                e.note = Some(format!(
                    "AWS default with no counterpart: {}",
                    problems.join("; ")
                ));
                entries.push(e);
                continue;
            }
            if r.key.kind.is_mapped_only() {
                // Never created: what serves it is reported if not migrated.
                e.status = Status::Skipped;
                e.note = Some("mapped only for what serves it; nothing migrated does".into());
                entries.push(e);
                continue;
            }
            e.status = Status::NotMigrated;
            entries.push(e);
            continue;
        };
        e.dest_id = Some(d.to_string());
        let dkey = Key::new(r.key.kind, d);
        expected_dest.insert(dkey.clone());
        let Some(dr) = dest.get(&dkey) else {
            e.status = Status::Missing;
            entries.push(e);
            continue;
        };
        let tr = t.spec(&r.spec);
        let mut diffs = diff_spec(r.key.kind, &tr.value, &dr.spec);
        for k in tr.unresolved {
            diffs.push(Difference {
                path: format!("reference {k}"),
                expected: json!("mapped"),
                actual: json!("not migrated"),
            });
        }
        // AWS defaults carry no ferry tags and keep their own names.
        if !r.default {
            let et = serde_json::to_value(&r.tags).unwrap_or(Value::Null);
            let at = serde_json::to_value(&dr.tags).unwrap_or(Value::Null);
            diffs.extend(diff(&et, &at).into_iter().map(|mut x| {
                x.path = format!("tags.{}", x.path);
                x
            }));
            let arn = source.side.arn(&r.key);
            if r.key.kind.is_taggable() && dr.ferry_source.as_deref() != Some(arn.as_str()) {
                diffs.push(Difference {
                    path: format!("tags.{TAG_SOURCE}"),
                    expected: json!(arn),
                    actual: json!(dr.ferry_source),
                });
            }
        }
        if !diffs.is_empty() {
            e.status = Status::Different;
            e.differences = diffs;
        }
        entries.push(e);
    }
    // Destination resources claiming a source they are not mapped from.
    let from_this_source = format!("arn:{}:", source.side.partition);
    for dr in dest
        .resources
        .iter()
        .filter(|r| input.kinds.contains(&r.key.kind))
    {
        let Some(src) = dr.ferry_source.as_deref() else {
            continue;
        };
        let ours = src.starts_with(&from_this_source)
            && src.contains(&format!(":{}:{}:", source.side.region, source.side.account));
        if ours && !expected_dest.contains(&dr.key) {
            entries.push(Entry {
                key: dr.key.clone(),
                name: dr.name.clone(),
                dest_id: Some(dr.key.id.clone()),
                status: Status::Unexpected,
                note: None,
                differences: vec![Difference {
                    path: format!("tags.{TAG_SOURCE}"),
                    expected: Value::Null,
                    actual: json!(src),
                }],
            });
        }
    }
    Report {
        source: source.side.clone(),
        destination: dest.side.clone(),
        entries,
        objects: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Resource, SideInfo};

    fn side(a: &str) -> SideInfo {
        SideInfo {
            account: a.into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        }
    }

    fn snap(s: SideInfo, rs: Vec<Resource>) -> Snapshot {
        Snapshot {
            side: s,
            taken_at: String::new(),
            kinds: vec![Kind::Vpc, Kind::Subnet],
            zones: vec![],
            resources: rs,
        }
    }

    fn res(kind: Kind, id: &str, spec: Value, source_arn: Option<String>) -> Resource {
        let mut r = Resource::with_tags(Key::new(kind, id), spec, [("Name", "n")]);
        r.ferry_source = source_arn;
        r
    }

    #[test]
    fn equivalent_through_the_mapping_and_differences_reported() {
        let (s, d) = (side("111111111111"), side("222222222222"));
        let src = snap(
            s.clone(),
            vec![
                res(
                    Kind::Vpc,
                    "vpc-1",
                    json!({"cidr_block": "10.0.0.0/16"}),
                    None,
                ),
                res(
                    Kind::Subnet,
                    "subnet-1",
                    json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "10.0.1.0/24"}),
                    None,
                ),
                res(
                    Kind::Subnet,
                    "subnet-2",
                    json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "10.0.2.0/24"}),
                    None,
                ),
            ],
        );
        let dst = snap(
            d,
            vec![
                res(
                    Kind::Vpc,
                    "vpc-9",
                    json!({"cidr_block": "10.0.0.0/16"}),
                    Some(s.arn(&Key::new(Kind::Vpc, "vpc-1"))),
                ),
                res(
                    Kind::Subnet,
                    "subnet-9",
                    json!({"vpc": {"$ref": "vpc/vpc-9"}, "cidr_block": "10.0.9.0/24"}),
                    Some(s.arn(&Key::new(Kind::Subnet, "subnet-1"))),
                ),
                res(
                    Kind::Subnet,
                    "subnet-8",
                    json!({"vpc": {"$ref": "vpc/vpc-9"}, "cidr_block": "10.0.2.0/24"}),
                    Some(s.arn(&Key::new(Kind::Subnet, "subnet-2"))),
                ),
            ],
        );
        let mut m = Mapping::new();
        m.insert(Key::new(Kind::Vpc, "vpc-1"), "vpc-9");
        m.insert(Key::new(Kind::Subnet, "subnet-1"), "subnet-9");
        let kinds: BTreeSet<Kind> = [Kind::Vpc, Kind::Subnet].into();
        let r = compare(
            &src,
            &dst,
            &VerifyInput {
                kinds: &kinds,
                exclude_tags: &Default::default(),
                exclude_ids: &[],
                zones: &Default::default(),
                mapping: &m,
            },
        );
        let by: BTreeMap<String, Status> = r
            .entries
            .iter()
            .map(|e| (e.key.id.clone(), e.status))
            .collect();
        assert_eq!(by["vpc-1"], Status::Equivalent);
        assert_eq!(by["subnet-1"], Status::Different);
        assert_eq!(by["subnet-2"], Status::NotMigrated);
        assert_eq!(
            by["subnet-8"],
            Status::Unexpected,
            "tagged for subnet-2 but unmapped"
        );
        assert!(!r.is_equivalent());
        let d = &r
            .entries
            .iter()
            .find(|e| e.key.id == "subnet-1")
            .unwrap()
            .differences;
        assert_eq!(d[0].path, "cidr_block");
    }

    #[test]
    fn certificates_nothing_migrated_serves_are_not_findings() {
        let arn = "arn:aws:acm:us-east-1:111111111111:certificate/c-1";
        let mut cert = res(
            Kind::Certificate,
            arn,
            json!({"domain_name": "old.example.com"}),
            None,
        );
        cert.default = true;
        let src = snap(side("111111111111"), vec![cert]);
        let dst = snap(side("222222222222"), vec![]);
        let kinds: BTreeSet<Kind> = [Kind::Certificate].into();
        let r = compare(
            &src,
            &dst,
            &VerifyInput {
                kinds: &kinds,
                exclude_tags: &Default::default(),
                exclude_ids: &[],
                zones: &Default::default(),
                mapping: &Mapping::new(),
            },
        );
        assert_eq!(r.entries[0].status, Status::Skipped);
        assert!(r.is_equivalent());
    }
}
