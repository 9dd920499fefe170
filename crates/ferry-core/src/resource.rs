//! Resources as ferry sees them: a key (kind + provider ID), its name and user
//! tags, whether AWS made it (a default), and its spec as JSON.
//!
//! The spec is JSON rather than a Rust enum so that the generic machinery
//! (dependency extraction, translation through the mapping, verify's diff) works
//! for every kind without per-kind code; the typed structs in [`crate::spec`]
//! give adapters compile-time checked fields on either side of that JSON.

use crate::kind::Kind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Tag ferry puts on everything it creates: the source resource's ARN.
pub const TAG_SOURCE: &str = "ferry:source";
/// Tag ferry puts on everything it creates: the run that created it.
pub const TAG_RUN: &str = "ferry:run";

/// A resource identity: kind plus provider ID. Rendered `kind/id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub kind: Kind,
    pub id: String,
}

impl Key {
    pub fn new(kind: Kind, id: impl Into<String>) -> Key {
        Key {
            kind,
            id: id.into(),
        }
    }

    pub fn parse(s: &str) -> Option<Key> {
        let (k, id) = s.split_once('/')?;
        if id.is_empty() {
            return None;
        }
        Some(Key::new(Kind::parse(k)?, id))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let s = String::deserialize(d)?;
        Key::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad resource key {s:?}")))
    }
}

/// A reference from one spec to another resource, serialised as
/// `{"$ref": "kind/id"}` so generic code can find every reference in a spec.
/// In a source spec the ID is a source ID; after translation it is the
/// destination's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ref {
    #[serde(rename = "$ref")]
    pub key: Key,
}

impl Ref {
    pub fn new(kind: Kind, id: impl Into<String>) -> Ref {
        Ref {
            key: Key::new(kind, id),
        }
    }

    /// A reference to whatever an EC2 ID names, by its prefix.
    pub fn from_id(id: &str) -> Option<Ref> {
        Kind::from_id(id).map(|k| Ref::new(k, id))
    }

    pub fn id(&self) -> &str {
        &self.key.id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// User tags: without `aws:*` and `ferry:*`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The `ferry:source` tag, on destination resources ferry made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ferry_source: Option<String>,
    /// Made by AWS (default VPC, main route table, default ACL and group):
    /// mapped to the destination's counterpart, never created.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Set by the adapter when the resource must not be copied (a
    /// service-linked role, say): the plan skips it with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// What the operator should know that is not part of the spec (a user's
    /// access keys that must be re-issued, say); shown in the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub spec: Value,
}

impl Resource {
    /// Splits raw AWS tags into the name, the user tags and the ferry source tag.
    pub fn with_tags<'a>(
        key: Key,
        spec: Value,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Resource {
        let mut r = Resource {
            key,
            name: None,
            tags: BTreeMap::new(),
            ferry_source: None,
            default: false,
            skip: None,
            notes: vec![],
            spec,
        };
        for (k, v) in tags {
            if k == TAG_SOURCE {
                r.ferry_source = Some(v.to_string());
            } else if k.starts_with("aws:") || k.starts_with("ferry:") {
                continue;
            } else {
                if k == "Name" {
                    r.name = Some(v.to_string());
                }
                r.tags.insert(k.to_string(), v.to_string());
            }
        }
        r
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// Which account and region a side of the migration is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideInfo {
    pub account: String,
    pub region: String,
    #[serde(default = "default_partition")]
    pub partition: String,
}

fn default_partition() -> String {
    "aws".into()
}

impl SideInfo {
    pub fn arn(&self, key: &Key) -> String {
        // Kinds keyed by their ARN (load balancers, certificates).
        if key.id.starts_with("arn:") {
            return key.id.clone();
        }
        if let Some(arn) = key.kind.rules().arn(&self.partition, &key.id) {
            return arn;
        }
        let region = if key.kind.is_global() {
            ""
        } else {
            &self.region
        };
        format!(
            "arn:{}:{}:{}:{}:{}/{}",
            self.partition,
            key.kind.service(),
            region,
            self.account,
            key.kind.arn_type(),
            key.id
        )
    }
}

/// One side's inventory, as discover stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub side: SideInfo,
    pub taken_at: String,
    /// Kinds that were listed (absent kinds were out of scope, not empty).
    pub kinds: Vec<Kind>,
    /// Availability zones of the region, for zone mapping checks.
    #[serde(default)]
    pub zones: Vec<String>,
    pub resources: Vec<Resource>,
}

impl Snapshot {
    pub fn get(&self, key: &Key) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.key == key)
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(move |r| r.key.kind == kind)
    }
}

/// Every reference inside a JSON spec, in document order, deduplicated.
pub fn refs_in(v: &Value) -> Vec<Key> {
    let mut out = Vec::new();
    collect_refs(v, &mut out);
    let mut seen = std::collections::HashSet::new();
    out.retain(|k| seen.insert(k.clone()));
    out
}

fn collect_refs(v: &Value, out: &mut Vec<Key>) {
    match v {
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(Value::String(s)) = m.get("$ref") {
                    if let Some(k) = Key::parse(s) {
                        out.push(k);
                        return;
                    }
                }
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// References of a resource split by phase: those needed to create it, and
/// those only its contents (rules, routes, associations) need.
pub fn refs_by_phase(kind: Kind, spec: &Value) -> (Vec<Key>, Vec<Key>) {
    let content = kind.content_fields();
    let mut shell = Value::Object(Default::default());
    let mut contents = Value::Object(Default::default());
    if let Value::Object(m) = spec {
        for (k, v) in m {
            let target = if content.contains(&k.as_str()) {
                &mut contents
            } else {
                &mut shell
            };
            target
                .as_object_mut()
                .expect("object")
                .insert(k.clone(), v.clone());
        }
    }
    (refs_in(&shell), refs_in(&contents))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_refs_serialise_as_documented() {
        let r = Ref::new(Kind::Vpc, "vpc-1");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"$ref": "vpc/vpc-1"})
        );
        let back: Ref = serde_json::from_value(json!({"$ref": "subnet/subnet-9"})).unwrap();
        assert_eq!(back.key, Key::new(Kind::Subnet, "subnet-9"));
        assert!(Key::parse("nonsense/x").is_none());
        assert!(Key::parse("vpc/").is_none());
    }

    #[test]
    fn refs_are_found_anywhere_and_split_by_phase() {
        let spec = json!({
            "vpc": {"$ref": "vpc/vpc-1"},
            "group_name": "web",
            "ingress": [{"peer": {"group": {"$ref": "security_group/sg-2"}}}, {"peer": {"cidr": "0.0.0.0/0"}}],
            "egress": [{"peer": {"group": {"$ref": "security_group/sg-2"}}}]
        });
        assert_eq!(refs_in(&spec).len(), 2);
        let (shell, contents) = refs_by_phase(Kind::SecurityGroup, &spec);
        assert_eq!(shell, vec![Key::new(Kind::Vpc, "vpc-1")]);
        assert_eq!(contents, vec![Key::new(Kind::SecurityGroup, "sg-2")]);
    }

    #[test]
    fn tags_are_split_into_name_user_and_ferry() {
        let r = Resource::with_tags(
            Key::new(Kind::Vpc, "vpc-1"),
            json!({}),
            [
                ("Name", "app"),
                ("team", "x"),
                ("aws:cloudformation:stack-name", "s"),
                (TAG_SOURCE, "arn:src"),
                (TAG_RUN, "3"),
            ],
        );
        assert_eq!(r.name.as_deref(), Some("app"));
        assert_eq!(r.tags.len(), 2);
        assert_eq!(r.ferry_source.as_deref(), Some("arn:src"));
    }

    #[test]
    fn arns_follow_the_ec2_format() {
        let s = SideInfo {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        };
        assert_eq!(
            s.arn(&Key::new(Kind::VpcPeering, "pcx-1")),
            "arn:aws:ec2:us-east-1:111111111111:vpc-peering-connection/pcx-1"
        );
        assert_eq!(
            s.arn(&Key::new(Kind::IamRole, "app")),
            "arn:aws:iam::111111111111:role/app"
        );
    }
}
