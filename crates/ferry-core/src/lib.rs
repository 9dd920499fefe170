//! ferry-core: the pure model of a migration. Kinds, resources and their typed
//! specs, references, the dependency graph, the plan, the ID mapping,
//! translation and rewriting, and the configuration schema.
//!
//! No I/O happens here (reading ferry.toml from disk is the one exception, in
//! [`config::Config::load`]), so most of ferry's logic is tested in
//! milliseconds, without AWS.

pub mod batch;
pub mod config;
pub mod diff;
pub mod graph;
pub mod kind;
pub mod mapping;
pub mod naming;
pub mod objects;
pub mod plan;
pub mod protocol;
pub mod render;
pub mod resource;
pub mod rewrite;
pub mod rules;
pub mod spec;
pub mod translate;
pub mod verify;

pub use kind::Kind;
pub use mapping::Mapping;
pub use plan::{Action, Node, Phase, Plan, PlanItem};
pub use resource::{Key, Ref, Resource, SideInfo, Snapshot};
