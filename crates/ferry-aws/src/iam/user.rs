//! Users: path, permissions boundary, group memberships, inline and attached
//! policies, tags. Never a password, access key or MFA device: discovery
//! notes which users had them, and the plan lists those for re-issue.

use super::principal::Principal;
use super::{policy_ref, resource};
use crate::adapter::{gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamUserSpec};
use ferry_core::{Kind, Ref, Resource};

pub struct IamUser;

/// Removes a user from a group; not a member (any more) is done.
pub(crate) async fn leave(cx: &Side, user: &str, group: &str) -> Result<()> {
    gone_ok(
        cx.iam(Class::IamMutate)
            .await
            .remove_user_from_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("RemoveUserFromGroup", e)),
    )
}

/// What the operator must re-issue in the destination.
async fn credentials(cx: &Side, name: &str) -> Result<Vec<String>> {
    let mut out = vec![];
    match cx
        .iam(Class::IamRead)
        .await
        .get_login_profile()
        .user_name(name)
        .send()
        .await
    {
        Ok(_) => out.push("a console password".to_string()),
        Err(e) => {
            let e = cx.err("GetLoginProfile", e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
    }
    let keys = cx
        .iam(Class::IamRead)
        .await
        .list_access_keys()
        .user_name(name)
        .send()
        .await
        .map_err(|e| cx.err("ListAccessKeys", e))?;
    let n = keys.access_key_metadata().len();
    if n > 0 {
        out.push(format!("{n} access key{}", if n == 1 { "" } else { "s" }));
    }
    let mfa = cx
        .iam(Class::IamRead)
        .await
        .list_mfa_devices()
        .user_name(name)
        .send()
        .await
        .map_err(|e| cx.err("ListMFADevices", e))?;
    if !mfa.mfa_devices().is_empty() {
        out.push("an MFA device".to_string());
    }
    Ok(out)
}

async fn read(cx: &Side, name: &str) -> Result<Resource> {
    let got = cx
        .iam(Class::IamRead)
        .await
        .get_user()
        .user_name(name)
        .send()
        .await
        .map_err(|e| cx.err("GetUser", e))?;
    let user = got
        .user()
        .ok_or_else(|| cx.invalid(format!("GetUser returned nothing for {name}")))?;
    let groups = cx
        .iam(Class::IamRead)
        .await
        .list_groups_for_user()
        .user_name(name)
        .send()
        .await
        .map_err(|e| cx.err("ListGroupsForUser", e))?;
    let mut groups: Vec<Ref> = groups
        .groups()
        .iter()
        .map(|g| Ref::new(Kind::IamGroup, g.group_name()))
        .collect();
    groups.sort();
    let policies = Principal::User(name).read(cx).await?;
    let s = IamUserSpec {
        path: user.path().to_string(),
        permissions_boundary: user
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(policy_ref),
        groups,
        inline_policies: policies.inline,
        managed_policies: policies.managed,
    };
    Ok(resource(
        Kind::IamUser,
        name,
        spec::to_value(&s),
        user.tags(),
    ))
}

#[async_trait]
impl KindAdapter for IamUser {
    fn kind(&self) -> Kind {
        Kind::IamUser
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let wanted = super::wanted(lookup);
        let client = cx.iam(Class::IamRead).await;
        let mut pages = client.list_users().max_items(100).into_paginator().send();
        let mut names = vec![];
        while let Some(page) = pages.next().await {
            for u in page.map_err(|e| cx.err("ListUsers", e))?.users() {
                names.push(u.user_name().to_string());
            }
        }
        let mut out = vec![];
        for name in names
            .into_iter()
            .filter(|n| wanted.as_ref().is_none_or(|w| w.contains(n)))
        {
            let mut r = read(cx, &name).await?;
            if !super::answers(lookup, &r) {
                continue;
            }
            let creds = credentials(cx, &name).await?;
            if !creds.is_empty() {
                r.notes.push(format!(
                    "had {}: not copied (secrets never move); issue new ones in the destination",
                    creds.join(", ")
                ));
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: IamUserSpec = parse(cx, Kind::IamUser, &want.spec)?;
        let boundary = super::optional_policy_arn(cx, &s.permissions_boundary).await?;
        cx.iam(Class::IamMutate)
            .await
            .create_user()
            .user_name(&want.source_id)
            .path(&s.path)
            .set_permissions_boundary(boundary)
            .set_tags(Some(super::tags(&want.tags)))
            .send()
            .await
            .map_err(|e| cx.err("CreateUser", e))?;
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
        let s: IamUserSpec = parse(cx, Kind::IamUser, &want.spec)?;
        let have_r = read(cx, id).await?;
        let have: IamUserSpec = parse(cx, Kind::IamUser, &have_r.spec)?;
        let mut changes = vec![];
        changes.extend(
            Principal::User(id)
                .converge_boundary(cx, &s.permissions_boundary, &have.permissions_boundary)
                .await?,
        );
        for g in s.groups.iter().filter(|g| !have.groups.contains(g)) {
            cx.iam(Class::IamMutate)
                .await
                .add_user_to_group()
                .user_name(id)
                .group_name(g.id())
                .send()
                .await
                .map_err(|e| cx.err("AddUserToGroup", e))?;
            changes.push(format!("added to group {}", g.id()));
        }
        for g in have.groups.iter().filter(|g| !s.groups.contains(g)) {
            leave(cx, id, g.id()).await?;
            changes.push(format!("removed from group {}", g.id()));
        }
        let current = super::principal::Policies {
            inline: have.inline_policies.clone(),
            managed: have.managed_policies.clone(),
        };
        changes.extend(
            Principal::User(id)
                .converge(cx, &s.inline_policies, &s.managed_policies, &current)
                .await?,
        );
        changes.extend(super::Tagged::User(id).converge(cx, want, &have_r).await?);
        Ok(changes)
    }

    /// Leaves its groups and drops its policies first. A user someone gave a
    /// password or keys since is refused by IAM (DeleteConflict) and reported.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let have = match read(cx, id).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let s: IamUserSpec = parse(cx, Kind::IamUser, &have.spec)?;
        for g in &s.groups {
            leave(cx, id, g.id()).await?;
        }
        Principal::User(id).strip(cx).await?;
        gone_ok(
            cx.iam(Class::IamMutate)
                .await
                .delete_user()
                .user_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteUser", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListUsers",
            "iam:GetUser",
            "iam:ListGroupsForUser",
            "iam:GetLoginProfile",
            "iam:ListAccessKeys",
            "iam:ListMFADevices",
            "iam:ListUserPolicies",
            "iam:GetUserPolicy",
            "iam:ListAttachedUserPolicies",
            "iam:ListPolicies",
            "iam:CreateUser",
            "iam:PutUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary",
            "iam:AddUserToGroup",
            "iam:RemoveUserFromGroup",
            "iam:PutUserPolicy",
            "iam:DeleteUserPolicy",
            "iam:AttachUserPolicy",
            "iam:DetachUserPolicy",
            "iam:TagUser",
            "iam:UntagUser",
            "iam:DeleteUser",
        ]
    }
}
