//! Customer-managed prefix lists: the kind's typed spec and its rules
//! (ARCHITECTURE.md, "Adding a kind"). A list is a named set of CIDRs that
//! route tables and security group rules name as a destination or a peer
//! (`{"$ref": "prefix_list/pl-..."}`); ferry moves the lists the source
//! account owns and maps the references through them. AWS-managed lists
//! (`com.amazonaws.<region>.s3`) are not this kind: they exist in every
//! account and travel by name.

use crate::rules::KindRules;
use serde::{Deserialize, Serialize};

/// One entry: a CIDR and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PrefixListEntry {
    pub cidr: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixListSpec {
    pub name: String,
    /// "IPv4" or "IPv6".
    pub address_family: String,
    /// The size the list was made with: references count it, not the
    /// entries (a security group rule naming the list uses `max_entries`
    /// of the group's rule quota), so it is kept as is.
    pub max_entries: i32,
    /// Sorted by CIDR, one entry per CIDR.
    pub entries: Vec<PrefixListEntry>,
}

impl PrefixListSpec {
    /// The spec with its entries in canonical order (AWS returns them in
    /// no documented order).
    pub fn new(
        name: impl Into<String>,
        address_family: impl Into<String>,
        max_entries: i32,
        entries: impl IntoIterator<Item = PrefixListEntry>,
    ) -> PrefixListSpec {
        let mut entries: Vec<PrefixListEntry> = entries.into_iter().collect();
        entries.sort();
        entries.dedup_by(|a, b| a.cidr == b.cidr);
        PrefixListSpec {
            name: name.into(),
            address_family: address_family.into(),
            max_entries,
            entries,
        }
    }

    /// What turns `have`'s entries into these: the entries to add (new
    /// CIDRs, and CIDRs whose description changed: adding an existing CIDR
    /// sets its description) and the CIDRs to remove.
    pub fn entry_changes(&self, have: &PrefixListSpec) -> (Vec<PrefixListEntry>, Vec<String>) {
        let add = self
            .entries
            .iter()
            .filter(|e| !have.entries.contains(e))
            .cloned()
            .collect();
        let remove = have
            .entries
            .iter()
            .filter(|h| !self.entries.iter().any(|e| e.cidr == h.cidr))
            .map(|h| h.cidr.clone())
            .collect();
        (add, remove)
    }
}

/// The kind's rules: nothing beyond the generic ones but what a reference
/// to a list the source does not hold means.
pub struct PrefixList;

impl KindRules for PrefixList {
    /// References to AWS-managed lists are names, never references: a
    /// referenced list missing from the source's own lists belongs to
    /// another account (shared through RAM) or is gone.
    fn absent_reference(&self) -> Option<&'static str> {
        Some("not a list the source account owns (shared from another account, or deleted): ferry moves only the source account's own prefix lists")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::to_value;

    fn entry(cidr: &str, description: Option<&str>) -> PrefixListEntry {
        PrefixListEntry {
            cidr: cidr.into(),
            description: description.map(String::from),
        }
    }

    #[test]
    fn entries_are_sorted_by_cidr_once_each() {
        let s = PrefixListSpec::new(
            "office",
            "IPv4",
            5,
            [
                entry("192.168.0.0/24", Some("branch")),
                entry("10.1.0.0/16", None),
                entry("10.0.0.0/16", Some("hq")),
                entry("10.1.0.0/16", None),
            ],
        );
        let cidrs: Vec<&str> = s.entries.iter().map(|e| e.cidr.as_str()).collect();
        assert_eq!(cidrs, ["10.0.0.0/16", "10.1.0.0/16", "192.168.0.0/24"]);
        let v = to_value(&s);
        assert_eq!(v["entries"][0]["description"], "hq");
        assert_eq!(v["max_entries"], 5);
        let back: PrefixListSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn entry_changes_add_new_and_redescribed_cidrs_and_remove_the_rest() {
        let have = PrefixListSpec::new(
            "l",
            "IPv4",
            5,
            [
                entry("10.0.0.0/16", Some("hq")),
                entry("10.1.0.0/16", None),
                entry("10.2.0.0/16", None),
            ],
        );
        let want = PrefixListSpec::new(
            "l",
            "IPv4",
            5,
            [
                entry("10.0.0.0/16", Some("head office")),
                entry("10.1.0.0/16", None),
                entry("10.3.0.0/16", Some("new")),
            ],
        );
        let (add, remove) = want.entry_changes(&have);
        assert_eq!(
            add,
            vec![
                entry("10.0.0.0/16", Some("head office")),
                entry("10.3.0.0/16", Some("new"))
            ]
        );
        assert_eq!(remove, vec!["10.2.0.0/16".to_string()]);
        assert_eq!(want.entry_changes(&want), (vec![], vec![]));
    }

    /// Routes and rules naming a list the source owns plan as creates that
    /// wait for it; one naming a list the source lacks is a conflict that
    /// says why.
    #[test]
    fn references_to_lists_resolve_through_the_plan() {
        use crate::kind::{Kind, SUPPORTED};
        use crate::plan::{build, Action, PlanInput};
        use crate::resource::{Key, Resource, SideInfo, Snapshot};
        use serde_json::json;
        let side = |account: &str| SideInfo {
            account: account.into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        };
        let snap = |account: &str, resources: Vec<Resource>| Snapshot {
            side: side(account),
            taken_at: String::new(),
            kinds: SUPPORTED.to_vec(),
            zones: vec!["us-east-1a".into()],
            resources,
        };
        let r = |kind: Kind, id: &str, spec: serde_json::Value| {
            Resource::with_tags(Key::new(kind, id), spec, [("Name", id)])
        };
        let list = PrefixListSpec::new("office", "IPv4", 5, [entry("10.0.0.0/16", Some("hq"))]);
        let route = |pl: &str| {
            json!({"vpc": {"$ref": "vpc/vpc-1"}, "main": false, "associations": [],
                   "routes": [{"destination": {"prefix_list_ref": {"$ref": format!("prefix_list/{pl}")}},
                               "target": {"$ref": "internet_gateway/igw-1"}}]})
        };
        let source = snap(
            "111111111111",
            vec![
                r(Kind::Vpc, "vpc-1", json!({"cidr_block": "10.9.0.0/16"})),
                r(
                    Kind::InternetGateway,
                    "igw-1",
                    json!({"vpc": {"$ref": "vpc/vpc-1"}}),
                ),
                r(Kind::PrefixList, "pl-1", to_value(&list)),
                r(Kind::RouteTable, "rtb-1", route("pl-1")),
                r(Kind::RouteTable, "rtb-2", route("pl-shared")),
                r(
                    Kind::SecurityGroup,
                    "sg-1",
                    json!({"group_name": "web", "description": "d",
                    "vpc": {"$ref": "vpc/vpc-1"}, "egress": [],
                    "ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443,
                                 "peer": {"prefix_list_ref": {"$ref": "prefix_list/pl-1"}}}]}),
                ),
            ],
        );
        let input = PlanInput {
            kinds: SUPPORTED.iter().copied().collect(),
            ..Default::default()
        };
        let plan = build(&source, &snap("222222222222", vec![]), &input);
        let item = |kind, id| plan.item(&Key::new(kind, id)).unwrap();
        let pl = Key::new(Kind::PrefixList, "pl-1");
        assert_eq!(item(Kind::PrefixList, "pl-1").action, Action::Create);
        for (kind, id) in [(Kind::RouteTable, "rtb-1"), (Kind::SecurityGroup, "sg-1")] {
            let i = item(kind, id);
            assert_eq!(i.action, Action::Create, "{id}: {}", i.reason);
            assert!(i.contents_depend_on.contains(&pl), "{id}");
        }
        let shared = item(Kind::RouteTable, "rtb-2");
        assert_eq!(shared.action, Action::Conflict);
        assert!(
            shared.reason.contains("shared from another account"),
            "{}",
            shared.reason
        );
    }
}
