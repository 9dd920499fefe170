//! The vocabulary of the crash-safety protocol (ARCHITECTURE.md, "the life
//! of a run"): what the journal records ([`JournalOp`]), where a mapped
//! destination resource came from ([`Origin`]), what a plan node did
//! ([`Outcome`]), and how a plan node is named ([`Node::parse`]).
//!
//! apply writes these, rollback, the CLI and the dashboard read them back:
//! each is one enum here, so writer and reader cannot disagree on a spelling.
//! The state database stores their stable names ([`JournalOp::as_str`],
//! [`Origin::as_str`]) in text columns; the names are those state
//! directories have always held, so old state directories still load.

use crate::plan::{Node, Phase};
use crate::resource::Key;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Defines a protocol enum with its stable names: `as_str`, `parse` (the
/// inverse), `ALL`, and a `Display` that honours width and alignment (the
/// CLI pads outcomes into a column). Serde uses the same names.
macro_rules! stable_names {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name (what the state database and JSON hold).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value of a stable name; `None` for anything else.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

stable_names! {
    /// An operation the journal records before it is made in AWS and marks
    /// done or failed after.
    pub enum JournalOp {
        /// apply: make the destination resource (or find the one an earlier
        /// attempt made, by its `ferry:source` tag).
        Create = "create",
        /// apply: map a resource the plan found in the destination.
        Adopt = "adopt",
        /// apply: reconcile one phase of a resource (see [`ConvergeDetail`]).
        Converge = "converge",
        /// rollback: delete what a run made.
        Delete = "delete",
        /// rollback: put an AWS default's previous contents back.
        Restore = "restore",
    }
}

impl JournalOp {
    /// Operations of apply (whose entries tell a run's progress), as
    /// opposed to rollback's.
    pub fn is_apply(self) -> bool {
        matches!(
            self,
            JournalOp::Create | JournalOp::Adopt | JournalOp::Converge
        )
    }
}

stable_names! {
    /// Where a mapped destination resource came from (the mapping's and the
    /// done `create`/`adopt` entries' `origin`).
    pub enum Origin {
        /// ferry made it: rollback deletes it.
        Created = "created",
        /// ferry found it by its `ferry:source` tag, or the plan did: a run
        /// of ferry made it, so rollback deletes it too.
        Adopted = "adopted",
        /// The destination's AWS default: never deleted; its previous
        /// contents are restored.
        Default = "default",
    }
}

impl Origin {
    /// Whether rollback deletes a resource of this origin.
    pub fn is_ferrys(self) -> bool {
        matches!(self, Origin::Created | Origin::Adopted)
    }
}

stable_names! {
    /// What a plan node did (`Event::Finished`, the CLI's first column).
    pub enum Outcome {
        Created = "created",
        Adopted = "adopted",
        MappedDefault = "mapped default",
        /// Mapped by an earlier run, and nothing to change.
        Mapped = "mapped",
        Updated = "updated",
        UpToDate = "up to date",
    }
}

impl From<Origin> for Outcome {
    fn from(o: Origin) -> Outcome {
        match o {
            Origin::Created => Outcome::Created,
            Origin::Adopted => Outcome::Adopted,
            Origin::Default => Outcome::MappedDefault,
        }
    }
}

/// The detail of a `create` or `adopt` intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsureIntent {
    /// The source resource's ARN: its `ferry:source` tag in the destination,
    /// by which a resumed apply or a rollback finds what the call made when
    /// the run died before recording it.
    pub source_arn: String,
}

/// What a done `create` or `adopt` entry adds to its intent's detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsureDone {
    pub origin: Origin,
}

/// The detail of a `converge` intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvergeDetail {
    pub dest_id: String,
    pub phase: Phase,
    /// An AWS default's spec before ferry changed it, which rollback puts
    /// back; null for everything else.
    pub prior: Option<serde_json::Value>,
}

/// What a node's name appends to its key in the contents phase.
const CONTENTS_SUFFIX: &str = "#contents";

impl Node {
    pub fn new(key: Key, phase: Phase) -> Node {
        Node { key, phase }
    }

    /// The node a name (`vpc/vpc-1`, `route_table/rtb-1#contents`: the
    /// node's `Display`) stands for.
    pub fn parse(s: &str) -> Option<Node> {
        let (key, phase) = split_node(s);
        Some(Node::new(Key::parse(key)?, phase))
    }
}

/// A node's name split into its key's name and its phase, for callers that
/// keep names as strings (the dashboard's maps).
pub fn split_node(s: &str) -> (&str, Phase) {
    match s.strip_suffix(CONTENTS_SUFFIX) {
        Some(key) => (key, Phase::Contents),
        None => (s, Phase::Create),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;
    use serde_json::json;

    /// The names are what state directories hold: changing one breaks
    /// every state directory written before.
    #[test]
    fn stable_names_are_the_stored_ones() {
        let names = |all: &[&str]| all.join(",");
        assert_eq!(
            names(
                &JournalOp::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
            ),
            "create,adopt,converge,delete,restore"
        );
        assert_eq!(
            names(&Origin::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>()),
            "created,adopted,default"
        );
        assert_eq!(
            names(&Outcome::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>()),
            "created,adopted,mapped default,mapped,updated,up to date"
        );
    }

    #[test]
    fn names_parse_back_and_serialise_alike() {
        for op in JournalOp::ALL {
            assert_eq!(JournalOp::parse(op.as_str()), Some(*op));
            assert_eq!(serde_json::to_value(op).unwrap(), json!(op.as_str()));
        }
        for o in Origin::ALL {
            assert_eq!(Origin::parse(o.as_str()), Some(*o));
            assert_eq!(serde_json::to_value(o).unwrap(), json!(o.as_str()));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
            let v = serde_json::to_value(o).unwrap();
            assert_eq!(v, json!(o.as_str()));
            assert_eq!(serde_json::from_value::<Outcome>(v).unwrap(), *o);
        }
        assert_eq!(JournalOp::parse("grant"), None);
        assert_eq!(format!("{:<10}|", Outcome::UpToDate), "up to date|");
    }

    #[test]
    fn node_names_parse_back() {
        for phase in [Phase::Create, Phase::Contents] {
            let n = Node::new(Key::new(Kind::RouteTable, "rtb-1"), phase);
            assert_eq!(Node::parse(&n.to_string()), Some(n));
        }
        assert_eq!(
            split_node("route_table/rtb-1#contents"),
            ("route_table/rtb-1", Phase::Contents)
        );
        assert_eq!(Node::parse("nonsense"), None);
    }

    #[test]
    fn details_keep_their_field_names() {
        let d = ConvergeDetail {
            dest_id: "sg-9".into(),
            phase: Phase::Contents,
            prior: None,
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"dest_id": "sg-9", "phase": "contents", "prior": null})
        );
        let done: EnsureDone = serde_json::from_value(json!({"origin": "default"})).unwrap();
        assert_eq!(done.origin, Origin::Default);
    }
}
