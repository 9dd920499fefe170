//! `ferry bootstrap --apply`: the destination role ferry assumes, created
//! (or brought up to date) with the destination's own credentials.

use crate::ratelimit::Class;
use crate::{Result, Side};
use serde_json::Value;

/// The inline policy on the role that holds what ferry needs.
pub const POLICY_NAME: &str = "ferry";

/// Creates the role or updates its trust policy, then puts ferry's policy.
/// Returns a line per change.
pub async fn ensure_role(
    cx: &Side,
    path: &str,
    name: &str,
    trust: &Value,
    policy: &Value,
) -> Result<Vec<String>> {
    let mut changes = vec![];
    let existing = match cx
        .iam(Class::IamRead)
        .await
        .get_role()
        .role_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let e = cx.err("GetRole", e);
            if !e.is_not_found() {
                return Err(e);
            }
            false
        }
    };
    if existing {
        cx.iam(Class::IamMutate)
            .await
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| cx.err("UpdateAssumeRolePolicy", e))?;
        changes.push(format!("role {name}: trust policy updated"));
    } else {
        cx.iam(Class::IamMutate)
            .await
            .create_role()
            .role_name(name)
            .path(path)
            .description("assumed by ferry to replicate infrastructure into this account")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| cx.err("CreateRole", e))?;
        changes.push(format!("role {name} created"));
    }
    cx.iam(Class::IamMutate)
        .await
        .put_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .policy_document(policy.to_string())
        .send()
        .await
        .map_err(|e| cx.err("PutRolePolicy", e))?;
    changes.push(format!("role {name}: inline policy {POLICY_NAME} put"));
    Ok(changes)
}
