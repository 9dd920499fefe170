//! What roles, groups and users share: inline policies and attached managed
//! policies, read and reconciled through the call family of each.

use super::{document, policy_arn, policy_ref};
use crate::adapter::{duplicate_ok, gone_ok};
use crate::ratelimit::Class;
use crate::{Result, Side};
use ferry_core::spec::PolicyRef;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub enum Principal<'a> {
    Role(&'a str),
    Group(&'a str),
    User(&'a str),
}

/// Inline policies by name, and attached managed policies (sorted).
pub struct Policies {
    pub inline: BTreeMap<String, Value>,
    pub managed: Vec<PolicyRef>,
}

impl Principal<'_> {
    pub async fn read(self, cx: &Side) -> Result<Policies> {
        let iam = cx.iam(Class::IamRead).await;
        let names: Vec<String> = match self {
            Principal::Role(n) => iam
                .list_role_policies()
                .role_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListRolePolicies", e))?
                .policy_names()
                .to_vec(),
            Principal::Group(n) => iam
                .list_group_policies()
                .group_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListGroupPolicies", e))?
                .policy_names()
                .to_vec(),
            Principal::User(n) => iam
                .list_user_policies()
                .user_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListUserPolicies", e))?
                .policy_names()
                .to_vec(),
        };
        let mut inline = BTreeMap::new();
        for p in names {
            let iam = cx.iam(Class::IamRead).await;
            let raw = match self {
                Principal::Role(n) => iam
                    .get_role_policy()
                    .role_name(n)
                    .policy_name(&p)
                    .send()
                    .await
                    .map_err(|e| cx.err("GetRolePolicy", e))?
                    .policy_document()
                    .to_string(),
                Principal::Group(n) => iam
                    .get_group_policy()
                    .group_name(n)
                    .policy_name(&p)
                    .send()
                    .await
                    .map_err(|e| cx.err("GetGroupPolicy", e))?
                    .policy_document()
                    .to_string(),
                Principal::User(n) => iam
                    .get_user_policy()
                    .user_name(n)
                    .policy_name(&p)
                    .send()
                    .await
                    .map_err(|e| cx.err("GetUserPolicy", e))?
                    .policy_document()
                    .to_string(),
            };
            inline.insert(p, document(&raw));
        }
        let iam = cx.iam(Class::IamRead).await;
        let attached: Vec<String> = match self {
            Principal::Role(n) => iam
                .list_attached_role_policies()
                .role_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListAttachedRolePolicies", e))?
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(String::from))
                .collect(),
            Principal::Group(n) => iam
                .list_attached_group_policies()
                .group_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListAttachedGroupPolicies", e))?
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(String::from))
                .collect(),
            Principal::User(n) => iam
                .list_attached_user_policies()
                .user_name(n)
                .send()
                .await
                .map_err(|e| cx.err("ListAttachedUserPolicies", e))?
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(String::from))
                .collect(),
        };
        let mut managed: Vec<PolicyRef> = attached.iter().map(|a| policy_ref(a)).collect();
        managed.sort();
        Ok(Policies { inline, managed })
    }

    async fn put(self, cx: &Side, name: &str, doc: &Value) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        let doc = doc.to_string();
        match self {
            Principal::Role(n) => iam
                .put_role_policy()
                .role_name(n)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("PutRolePolicy", e)),
            Principal::Group(n) => iam
                .put_group_policy()
                .group_name(n)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("PutGroupPolicy", e)),
            Principal::User(n) => iam
                .put_user_policy()
                .user_name(n)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("PutUserPolicy", e)),
        }
    }

    async fn delete_inline(self, cx: &Side, name: &str) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        gone_ok(match self {
            Principal::Role(n) => iam
                .delete_role_policy()
                .role_name(n)
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteRolePolicy", e)),
            Principal::Group(n) => iam
                .delete_group_policy()
                .group_name(n)
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteGroupPolicy", e)),
            Principal::User(n) => iam
                .delete_user_policy()
                .user_name(n)
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteUserPolicy", e)),
        })
    }

    async fn attach(self, cx: &Side, arn: &str) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        match self {
            Principal::Role(n) => iam
                .attach_role_policy()
                .role_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("AttachRolePolicy", e)),
            Principal::Group(n) => iam
                .attach_group_policy()
                .group_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("AttachGroupPolicy", e)),
            Principal::User(n) => iam
                .attach_user_policy()
                .user_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("AttachUserPolicy", e)),
        }
    }

    /// Detaches a managed policy; already detached is done.
    pub async fn detach(self, cx: &Side, arn: &str) -> Result<()> {
        let iam = cx.iam(Class::IamMutate).await;
        gone_ok(match self {
            Principal::Role(n) => iam
                .detach_role_policy()
                .role_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DetachRolePolicy", e)),
            Principal::Group(n) => iam
                .detach_group_policy()
                .group_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DetachGroupPolicy", e)),
            Principal::User(n) => iam
                .detach_user_policy()
                .user_name(n)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DetachUserPolicy", e)),
        })
    }

    /// Sets or removes the permissions boundary (roles and users have one).
    pub async fn converge_boundary(
        self,
        cx: &Side,
        want: &Option<PolicyRef>,
        have: &Option<PolicyRef>,
    ) -> Result<Vec<String>> {
        if want == have {
            return Ok(vec![]);
        }
        let iam = cx.iam(Class::IamMutate).await;
        match super::optional_policy_arn(cx, want).await? {
            Some(arn) => {
                match self {
                    Principal::Role(n) => iam
                        .put_role_permissions_boundary()
                        .role_name(n)
                        .permissions_boundary(&arn)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| cx.err("PutRolePermissionsBoundary", e)),
                    Principal::User(n) => iam
                        .put_user_permissions_boundary()
                        .user_name(n)
                        .permissions_boundary(&arn)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| cx.err("PutUserPermissionsBoundary", e)),
                    Principal::Group(_) => Ok(()),
                }?;
                Ok(vec![format!("permissions boundary {arn} set")])
            }
            None => {
                match self {
                    Principal::Role(n) => iam
                        .delete_role_permissions_boundary()
                        .role_name(n)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| cx.err("DeleteRolePermissionsBoundary", e)),
                    Principal::User(n) => iam
                        .delete_user_permissions_boundary()
                        .user_name(n)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| cx.err("DeleteUserPermissionsBoundary", e)),
                    Principal::Group(_) => Ok(()),
                }?;
                Ok(vec!["permissions boundary removed".into()])
            }
        }
    }

    /// Brings inline and managed policies from `have` to the wanted ones.
    pub async fn converge(
        self,
        cx: &Side,
        inline: &BTreeMap<String, Value>,
        managed: &[PolicyRef],
        have: &Policies,
    ) -> Result<Vec<String>> {
        let mut changes = vec![];
        for (name, doc) in inline {
            if have.inline.get(name) != Some(doc) {
                self.put(cx, name, doc).await?;
                changes.push(format!("inline policy {name} put"));
            }
        }
        for name in have.inline.keys().filter(|n| !inline.contains_key(*n)) {
            self.delete_inline(cx, name).await?;
            changes.push(format!("inline policy {name} deleted"));
        }
        for p in managed.iter().filter(|p| !have.managed.contains(p)) {
            let arn = policy_arn(cx, p).await?;
            duplicate_ok(self.attach(cx, &arn).await)?;
            changes.push(format!("{arn} attached"));
        }
        for p in have.managed.iter().filter(|p| !managed.contains(p)) {
            let arn = policy_arn(cx, p).await?;
            self.detach(cx, &arn).await?;
            changes.push(format!("{arn} detached"));
        }
        Ok(changes)
    }

    /// Removes every policy: IAM refuses to delete a principal that has any.
    pub async fn strip(self, cx: &Side) -> Result<()> {
        let have = self.read(cx).await?;
        self.converge(cx, &BTreeMap::new(), &[], &have)
            .await
            .map(|_| ())
    }
}
