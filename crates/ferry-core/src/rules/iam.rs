//! Planning rules of the IAM kinds.

use super::KindRules;

pub struct Role;

impl KindRules for Role {
    /// IAM checks that trusted principals exist: roles trusting each other
    /// get their trust policies once both exist.
    fn content_fields(&self) -> &'static [&'static str] {
        &["trust_policy", "trusted_roles"]
    }
}
