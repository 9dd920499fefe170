//! Roles: path, description, maximum session duration, permissions
//! boundary, trust policy (the source account rewritten; third accounts kept
//! and reported by the plan; set in the contents phase, since IAM checks that
//! trusted roles exist and roles may trust each other), inline policies and attached managed policies
//! (AWS-managed by ARN, customer-managed migrated first). Service-linked
//! roles and AWS-reserved paths are skipped with a reason.

use super::principal::Principal;
use super::{document, policy_ref, resource, RESERVED_PATHS};
use crate::adapter::{gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamRoleSpec};
use ferry_core::{Kind, Resource};

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
    let policies = Principal::Role(name).read(cx).await?;
    let trust = role
        .assume_role_policy_document()
        .map(document)
        .unwrap_or_default();
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
        trusted_roles: trusted_roles(&trust, &cx.info.account),
        trust_policy: trust,
        inline_policies: policies.inline,
        managed_policies: policies.managed,
    };
    Ok(resource(
        Kind::IamRole,
        name,
        spec::to_value(&s),
        role.tags(),
    ))
}

/// Roles of `account` named as principals in a trust policy.
fn trusted_roles(trust: &serde_json::Value, account: &str) -> Vec<ferry_core::Ref> {
    let prefix = format!(":iam::{account}:role/");
    let mut out = vec![];
    let mut stack = vec![trust];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) if s.contains(&prefix) && !s.contains('*') => {
                out.push(ferry_core::Ref::new(
                    Kind::IamRole,
                    super::name_in_source_arn(s),
                ));
            }
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Trusts nobody: what a role holds until its real trust policy can be set.
fn placeholder_trust(account: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]
    })
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
        let s: IamRoleSpec = parse(cx, Kind::IamRole, &want.spec)?;
        let boundary = super::optional_policy_arn(cx, &s.permissions_boundary).await?;
        cx.iam(Class::IamMutate)
            .await
            .create_role()
            .role_name(&want.source_id)
            .path(&s.path)
            .assume_role_policy_document(placeholder_trust(&cx.info.account).to_string())
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
        let s: IamRoleSpec = parse(cx, Kind::IamRole, &want.spec)?;
        let have_r = read(cx, id).await?;
        let have: IamRoleSpec = parse(cx, Kind::IamRole, &have_r.spec)?;
        let mut changes = vec![];
        if phase == Phase::Contents {
            if s.trust_policy != have.trust_policy {
                cx.iam(Class::IamMutate)
                    .await
                    .update_assume_role_policy()
                    .role_name(id)
                    .policy_document(s.trust_policy.to_string())
                    .send()
                    .await
                    .map_err(|e| cx.err("UpdateAssumeRolePolicy", e))?;
                changes.push("trust policy set".into());
            }
            return Ok(changes);
        }
        let iam = |c| cx.iam(c);
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
        changes.extend(
            Principal::Role(id)
                .converge_boundary(cx, &s.permissions_boundary, &have.permissions_boundary)
                .await?,
        );
        let current = crate::iam::principal::Policies {
            inline: have.inline_policies.clone(),
            managed: have.managed_policies.clone(),
        };
        changes.extend(
            Principal::Role(id)
                .converge(cx, &s.inline_policies, &s.managed_policies, &current)
                .await?,
        );
        changes.extend(super::Tagged::Role(id).converge(cx, want, &have_r).await?);
        Ok(changes)
    }

    /// Takes the role out of its instance profiles and strips its policies
    /// first: IAM refuses to delete a role that still has any.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let profiles = match cx
            .iam(Class::IamRead)
            .await
            .list_instance_profiles_for_role()
            .role_name(id)
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let e = cx.err("ListInstanceProfilesForRole", e);
                return if e.is_not_found() { Ok(()) } else { Err(e) };
            }
        };
        for p in profiles.instance_profiles() {
            super::instance_profile::remove_role(cx, p.instance_profile_name(), id).await?;
        }
        Principal::Role(id).strip(cx).await?;
        gone_ok(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trusted_roles_are_same_account_role_principals() {
        let trust = json!({"Statement": [
            {"Principal": {"AWS": ["arn:aws:iam::111111111111:role/b", "arn:aws:iam::111111111111:role/path/a", "arn:aws:iam::222222222222:role/x", "arn:aws:iam::111111111111:root"]}},
            {"Principal": {"Service": "ec2.amazonaws.com"}},
            {"Principal": {"AWS": "arn:aws:iam::111111111111:role/app-*"}}
        ]});
        let got = trusted_roles(&trust, "111111111111");
        assert_eq!(
            got,
            vec![
                ferry_core::Ref::new(Kind::IamRole, "a"),
                ferry_core::Ref::new(Kind::IamRole, "b")
            ]
        );
    }
}
