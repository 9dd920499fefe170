//! Roles: path, description, maximum session duration, permissions
//! boundary, trust policy (the source account rewritten; third accounts kept
//! and reported by the plan), inline policies and attached managed policies
//! (AWS-managed by ARN, customer-managed migrated first). Service-linked
//! roles and AWS-reserved paths are skipped with a reason.

use super::{
    describe_tags, document, policy_arn, policy_ref, resource, tag_changes, RESERVED_PATHS,
};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamRoleSpec};
use ferry_core::{Kind, Resource};
use std::collections::BTreeMap;

pub struct IamRole;

async fn names(cx: &Side) -> Result<Vec<(String, String)>> {
    let client = cx.iam(Class::IamRead).await;
    let mut pages = client.list_roles().max_items(100).into_paginator().send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        for r in page.map_err(|e| cx.err("ListRoles", e))?.roles() {
            out.push((r.role_name().to_string(), r.path().to_string()));
        }
    }
    Ok(out)
}

async fn read(cx: &Side, name: &str) -> Result<Resource> {
    let got = cx
        .iam(Class::IamRead)
        .await
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| cx.err("GetRole", e))?;
    let role = got
        .role()
        .ok_or_else(|| cx.invalid(format!("GetRole returned nothing for {name}")))?;
    let inline_names = cx
        .iam(Class::IamRead)
        .await
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| cx.err("ListRolePolicies", e))?;
    let mut inline_policies = BTreeMap::new();
    for p in inline_names.policy_names() {
        let doc = cx
            .iam(Class::IamRead)
            .await
            .get_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| cx.err("GetRolePolicy", e))?;
        inline_policies.insert(p.clone(), document(doc.policy_document()));
    }
    let attached = cx
        .iam(Class::IamRead)
        .await
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| cx.err("ListAttachedRolePolicies", e))?;
    let mut managed_policies: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .map(policy_ref)
        .collect();
    managed_policies.sort();
    let s = IamRoleSpec {
        path: role.path().to_string(),
        description: role
            .description()
            .filter(|d| !d.is_empty())
            .map(String::from),
        max_session_duration: role.max_session_duration().unwrap_or(3600),
        permissions_boundary: role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(policy_ref),
        trust_policy: role
            .assume_role_policy_document()
            .map(document)
            .unwrap_or_default(),
        inline_policies,
        managed_policies,
    };
    Ok(resource(
        Kind::IamRole,
        name,
        spec::to_value(&s),
        role.tags(),
    ))
}

/// Detaches a managed policy from a role (also used when deleting a policy).
pub(crate) async fn detach(cx: &Side, role: &str, arn: &str) -> Result<()> {
    crate::ec2::gone_ok(
        cx.iam(Class::IamMutate)
            .await
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("DetachRolePolicy", e)),
    )
}

#[async_trait]
impl KindAdapter for IamRole {
    fn kind(&self) -> Kind {
        Kind::IamRole
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let wanted = super::wanted(lookup);
        let mut out = vec![];
        for (name, path) in names(cx).await? {
            if wanted.as_ref().is_some_and(|w| !w.contains(&name)) {
                continue;
            }
            if let Some(reserved) = RESERVED_PATHS.iter().find(|p| path.starts_with(*p)) {
                // Service-linked and AWS-reserved roles: AWS makes them.
                let mut r = resource(Kind::IamRole, &name, serde_json::json!({"path": path}), &[]);
                r.skip = Some(format!("AWS-managed role (path {reserved}): the service creates it in the destination when needed"));
                out.push(r);
                continue;
            }
            let r = read(cx, &name).await?;
            if !super::answers(lookup, &r) {
                continue;
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: IamRoleSpec = crate::ec2::parse(cx, Kind::IamRole, &want.spec)?;
        let boundary = match &s.permissions_boundary {
            Some(b) => Some(policy_arn(cx, b).await?),
            None => None,
        };
        cx.iam(Class::IamMutate)
            .await
            .create_role()
            .role_name(&want.source_id)
            .path(&s.path)
            .assume_role_policy_document(s.trust_policy.to_string())
            .set_description(s.description.clone())
            .max_session_duration(s.max_session_duration)
            .set_permissions_boundary(boundary)
            .set_tags(Some(super::tags(&want.tags)))
            .send()
            .await
            .map_err(|e| cx.err("CreateRole", e))?;
        Ok(want.source_id.clone())
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        if phase != Phase::Create {
            return Ok(vec![]);
        }
        let s: IamRoleSpec = crate::ec2::parse(cx, Kind::IamRole, &want.spec)?;
        let have_r = read(cx, id).await?;
        let have: IamRoleSpec = crate::ec2::parse(cx, Kind::IamRole, &have_r.spec)?;
        let mut changes = vec![];
        let iam = |c| cx.iam(c);
        if s.trust_policy != have.trust_policy {
            iam(Class::IamMutate)
                .await
                .update_assume_role_policy()
                .role_name(id)
                .policy_document(s.trust_policy.to_string())
                .send()
                .await
                .map_err(|e| cx.err("UpdateAssumeRolePolicy", e))?;
            changes.push("trust policy updated".into());
        }
        if s.description != have.description || s.max_session_duration != have.max_session_duration
        {
            iam(Class::IamMutate)
                .await
                .update_role()
                .role_name(id)
                .description(s.description.clone().unwrap_or_default())
                .max_session_duration(s.max_session_duration)
                .send()
                .await
                .map_err(|e| cx.err("UpdateRole", e))?;
            changes.push("description / max session duration updated".into());
        }
        if s.permissions_boundary != have.permissions_boundary {
            match &s.permissions_boundary {
                Some(b) => {
                    let arn = policy_arn(cx, b).await?;
                    iam(Class::IamMutate)
                        .await
                        .put_role_permissions_boundary()
                        .role_name(id)
                        .permissions_boundary(&arn)
                        .send()
                        .await
                        .map_err(|e| cx.err("PutRolePermissionsBoundary", e))?;
                    changes.push(format!("permissions boundary {arn} set"));
                }
                None => {
                    iam(Class::IamMutate)
                        .await
                        .delete_role_permissions_boundary()
                        .role_name(id)
                        .send()
                        .await
                        .map_err(|e| cx.err("DeleteRolePermissionsBoundary", e))?;
                    changes.push("permissions boundary removed".into());
                }
            }
        }
        for (name, doc) in &s.inline_policies {
            if have.inline_policies.get(name) != Some(doc) {
                iam(Class::IamMutate)
                    .await
                    .put_role_policy()
                    .role_name(id)
                    .policy_name(name)
                    .policy_document(doc.to_string())
                    .send()
                    .await
                    .map_err(|e| cx.err("PutRolePolicy", e))?;
                changes.push(format!("inline policy {name} put"));
            }
        }
        for name in have
            .inline_policies
            .keys()
            .filter(|n| !s.inline_policies.contains_key(*n))
        {
            iam(Class::IamMutate)
                .await
                .delete_role_policy()
                .role_name(id)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| cx.err("DeleteRolePolicy", e))?;
            changes.push(format!("inline policy {name} deleted"));
        }
        for p in s
            .managed_policies
            .iter()
            .filter(|p| !have.managed_policies.contains(p))
        {
            let arn = policy_arn(cx, p).await?;
            iam(Class::IamMutate)
                .await
                .attach_role_policy()
                .role_name(id)
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| cx.err("AttachRolePolicy", e))?;
            changes.push(format!("{arn} attached"));
        }
        for p in have
            .managed_policies
            .iter()
            .filter(|p| !s.managed_policies.contains(p))
        {
            let arn = policy_arn(cx, p).await?;
            detach(cx, id, &arn).await?;
            changes.push(format!("{arn} detached"));
        }
        let (add, remove) = tag_changes(want, &have_r);
        if !add.is_empty() {
            iam(Class::IamMutate)
                .await
                .tag_role()
                .role_name(id)
                .set_tags(Some(add.clone()))
                .send()
                .await
                .map_err(|e| cx.err("TagRole", e))?;
        }
        if !remove.is_empty() {
            iam(Class::IamMutate)
                .await
                .untag_role()
                .role_name(id)
                .set_tag_keys(Some(remove.clone()))
                .send()
                .await
                .map_err(|e| cx.err("UntagRole", e))?;
        }
        changes.extend(describe_tags(&add, &remove));
        Ok(changes)
    }

    /// Takes the role out of its instance profiles and strips its policies
    /// first: IAM refuses to delete a role that still has any.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let have = match read(cx, id).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let profiles = cx
            .iam(Class::IamRead)
            .await
            .list_instance_profiles_for_role()
            .role_name(id)
            .send()
            .await
            .map_err(|e| cx.err("ListInstanceProfilesForRole", e))?;
        for p in profiles.instance_profiles() {
            super::instance_profile::remove_role(cx, p.instance_profile_name(), id).await?;
        }
        let s: IamRoleSpec = crate::ec2::parse(cx, Kind::IamRole, &have.spec)?;
        for name in s.inline_policies.keys() {
            cx.iam(Class::IamMutate)
                .await
                .delete_role_policy()
                .role_name(id)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| cx.err("DeleteRolePolicy", e))?;
        }
        for p in &s.managed_policies {
            if let Ok(arn) = policy_arn(cx, p).await {
                detach(cx, id, &arn).await?;
            }
        }
        crate::ec2::gone_ok(
            cx.iam(Class::IamMutate)
                .await
                .delete_role()
                .role_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteRole", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListRoles",
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListPolicies",
            "iam:CreateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:UpdateRole",
            "iam:PutRolePermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:ListInstanceProfilesForRole",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:DeleteRole",
        ]
    }
}
