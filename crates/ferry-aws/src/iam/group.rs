//! Groups and their policies. IAM groups take no tags, so a group is known
//! by its name (kept across accounts): the plan refuses a name already taken
//! in the destination, and a group found under its name during a resumed run
//! is the one that run made.

use super::principal::Principal;
use super::resource;
use crate::adapter::{gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamGroupSpec};
use ferry_core::{Kind, Resource};

pub struct IamGroup;

async fn read(cx: &Side, name: &str, path: &str) -> Result<Resource> {
    let p = Principal::Group(name).read(cx).await?;
    let s = IamGroupSpec {
        path: path.to_string(),
        inline_policies: p.inline,
        managed_policies: p.managed,
    };
    Ok(resource(Kind::IamGroup, name, spec::to_value(&s), &[]))
}

async fn list(cx: &Side) -> Result<Vec<(String, String)>> {
    let client = cx.iam(Class::IamRead).await;
    let mut pages = client.list_groups().max_items(100).into_paginator().send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        for g in page.map_err(|e| cx.err("ListGroups", e))?.groups() {
            out.push((g.group_name().to_string(), g.path().to_string()));
        }
    }
    Ok(out)
}

#[async_trait]
impl KindAdapter for IamGroup {
    fn kind(&self) -> Kind {
        Kind::IamGroup
    }

    /// A SourceTag lookup finds the group by the name in the tag value (no tags here).
    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let wanted = super::wanted(lookup);
        let mut out = vec![];
        for (name, path) in list(cx).await? {
            if wanted.as_ref().is_none_or(|w| w.contains(&name)) {
                out.push(read(cx, &name, &path).await?);
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: IamGroupSpec = parse(cx, Kind::IamGroup, &want.spec)?;
        cx.iam(Class::IamMutate)
            .await
            .create_group()
            .group_name(&want.source_id)
            .path(&s.path)
            .send()
            .await
            .map_err(|e| cx.err("CreateGroup", e))?;
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
        let s: IamGroupSpec = parse(cx, Kind::IamGroup, &want.spec)?;
        let have = Principal::Group(id).read(cx).await?;
        Principal::Group(id)
            .converge(cx, &s.inline_policies, &s.managed_policies, &have)
            .await
    }

    /// Empties the group (members, policies) first: IAM refuses otherwise.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let members = match cx
            .iam(Class::IamRead)
            .await
            .get_group()
            .group_name(id)
            .send()
            .await
        {
            Ok(g) => g
                .users()
                .iter()
                .map(|u| u.user_name().to_string())
                .collect::<Vec<_>>(),
            Err(e) => {
                let e = cx.err("GetGroup", e);
                return if e.is_not_found() { Ok(()) } else { Err(e) };
            }
        };
        for user in members {
            super::user::leave(cx, &user, id).await?;
        }
        Principal::Group(id).strip(cx).await?;
        gone_ok(
            cx.iam(Class::IamMutate)
                .await
                .delete_group()
                .group_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteGroup", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListGroups",
            "iam:GetGroup",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
            "iam:ListAttachedGroupPolicies",
            "iam:ListPolicies",
            "iam:CreateGroup",
            "iam:PutGroupPolicy",
            "iam:DeleteGroupPolicy",
            "iam:AttachGroupPolicy",
            "iam:DetachGroupPolicy",
            "iam:RemoveUserFromGroup",
            "iam:DeleteGroup",
        ]
    }
}
