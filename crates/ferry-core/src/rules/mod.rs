//! What each kind adds to the generic machinery: the planner, the execution
//! graph, the comparison of specs and apply. A kind declares its rules by
//! implementing [`KindRules`] (every method has an empty default) on a unit
//! struct named in its row of [`crate::kind::KINDS`]; the generic code asks
//! `kind.rules()` and never names a kind. Rules read the kind's typed spec
//! ([`crate::spec`]), not JSON fields by name, so renaming a spec field fails
//! to compile where a rule uses it. See ARCHITECTURE.md, "Adding a kind".

pub mod compute;
pub mod iam;
pub mod loadbalancing;
pub mod network;
pub mod s3;

use crate::config::NamingConfig;
use crate::mapping::Mapping;
use crate::plan::{PlanInput, PlanItem};
use crate::resource::{Key, Resource, SideInfo, Snapshot};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the planner knows when it asks a kind about one of its resources.
pub struct PlanCx<'a> {
    pub source: &'a Snapshot,
    pub dest: &'a Snapshot,
    pub input: &'a PlanInput<'a>,
    /// Source -> destination IDs known before apply (mapped, found by tag,
    /// or defaults found).
    pub known: &'a Mapping,
    /// Destination IDs already spoken for by `known`: not a conflict.
    pub claimed: &'a BTreeSet<String>,
    /// Names decided at plan time ([`KindRules::planned_name`]), by source ID.
    pub names: &'a BTreeMap<String, Result<String, String>>,
}

pub trait KindRules: Sync {
    /// Spec fields reconciled in a second phase, after every resource they
    /// may reference exists. This is how reference cycles (security groups
    /// naming each other) are broken: the resource is created without them,
    /// and they are set second.
    fn content_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Spec fields that only say how to create the resource (reboot an
    /// instance for its image, keep its private IP): the destination cannot
    /// report them back, so plan and verify do not compare them. `spec` is
    /// the expected (source) spec.
    fn uncompared_fields(&self, _spec: &Value) -> Vec<&'static str> {
        vec![]
    }

    /// Fields that place an AWS default (its VPC, its zone): the
    /// destination's default of the kind in the translated place is its
    /// counterpart, and a default placed in a resource ferry made needs no
    /// prior contents kept for rollback.
    fn placing_fields(&self) -> &'static [&'static str] {
        &["vpc", "availability_zone"]
    }

    /// The ARN of a resource of the kind with this ID, when it does not
    /// follow `arn:<partition>:<service>:<region>:<account>:<type>/<id>`.
    fn arn(&self, _partition: &str, _id: &str) -> Option<String> {
        None
    }

    /// How the plan describes mapping an AWS default of the kind.
    fn default_reason(&self) -> String {
        mapped_default("the destination's default")
    }

    /// Whether [`KindRules::planned_name`] names the kind's resources (the
    /// plan file keeps those names; apply creates under them).
    fn named_at_plan(&self) -> bool {
        false
    }

    /// The name the destination resource gets, decided at plan time, for
    /// kinds whose names are global but not kept (S3 buckets, by `[naming]`);
    /// `Err` says why no name can be made.
    fn planned_name(
        &self,
        _r: &Resource,
        _source: &SideInfo,
        _dest: &SideInfo,
        _naming: &NamingConfig,
    ) -> Option<Result<String, String>> {
        None
    }

    /// Applies the plan's options to the item's spec (`[compute]`), with a
    /// note saying so.
    fn apply_options(&self, _item: &mut PlanItem, _input: &PlanInput) {}

    /// What the plan tells the operator about the resource.
    fn notes(&self, _r: &Resource, _cx: &PlanCx) -> Vec<String> {
        vec![]
    }

    /// Why the item cannot be executed as planned (its action is create,
    /// adopt or update): each reason makes it a conflict.
    fn conflicts(&self, _item: &PlanItem, _cx: &PlanCx) -> Vec<String> {
        vec![]
    }

    /// Why a reference to a resource of this kind that is not in the source
    /// at all cannot be followed, when there is more to say than "not in
    /// the source estate".
    fn absent_reference(&self) -> Option<&'static str> {
        None
    }

    /// Differences between a mapped source resource and its destination
    /// that the spec comparison does not see (a bucket's objects).
    fn differences(&self, _source: &Resource, _dest: &Resource) -> Vec<String> {
        vec![]
    }

    /// Whether `item`'s contents must wait for `dep`'s contents, `dep`
    /// being something its contents reference (a bucket logging into
    /// another waits for that bucket's policy).
    fn contents_after_contents(&self, _item: &PlanItem, _dep: &PlanItem) -> bool {
        false
    }
}

/// A kind that adds nothing to the generic rules.
pub struct Plain;
impl KindRules for Plain {}

/// "AWS default: mapped to WHAT, contents reconciled".
pub fn mapped_default(what: &str) -> String {
    format!("AWS default: mapped to {what}, contents reconciled")
}

/// The typed spec of a resource; `None` when it does not parse (a spec from
/// an older ferry, or a hand-made one), in which case rules find nothing.
pub fn typed<T: DeserializeOwned>(spec: &Value) -> Option<T> {
    serde_json::from_value(spec.clone()).ok()
}

/// "{what} name {name:?} is already taken in the destination by {id}" when
/// a destination resource of the item's kind, not claimed by the mapping,
/// has the same name (`name_of` reads it from a spec). For kinds whose name
/// is unique per account and region although their ID is not the name.
pub fn name_taken(
    item: &PlanItem,
    cx: &PlanCx,
    name_of: impl Fn(&Value) -> Option<String>,
) -> Vec<String> {
    if item.action != crate::plan::Action::Create {
        return vec![];
    }
    let Some(name) = name_of(&item.resource.spec) else {
        return vec![];
    };
    let kind = item.key.kind;
    cx.dest
        .of_kind(kind)
        .find(|d| {
            name_of(&d.spec).as_deref() == Some(name.as_str()) && !cx.claimed.contains(&d.key.id)
        })
        .map(|d| {
            format!(
                "{} name {name:?} is already taken in the destination by {}",
                kind.as_str().replace('_', " "),
                d.key.id
            )
        })
        .into_iter()
        .collect()
}

/// The references in a resource's placing fields (the VPC of a default
/// route table, say).
pub fn placed_in(r: &Resource) -> Vec<Key> {
    let fields = r.key.kind.rules().placing_fields();
    r.spec
        .as_object()
        .map(|m| {
            fields
                .iter()
                .filter_map(|f| m.get(*f))
                .flat_map(crate::resource::refs_in)
                .collect()
        })
        .unwrap_or_default()
}

/// A spec field's JSON name, tied to the typed field: `field` must name it,
/// so renaming the field fails to compile where a rule reads it by name
/// (rules that edit a spec in place, or read one field of a spec that may
/// not parse whole).
pub(crate) const fn field_name<S, T>(_field: fn(&S) -> &T, name: &'static str) -> &'static str {
    name
}
