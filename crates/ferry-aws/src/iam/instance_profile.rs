//! Instance profiles and their role (launch configurations and instances of
//! the compute layer use them).

use super::resource;
use crate::adapter::{duplicate_ok, gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamInstanceProfileSpec};
use ferry_core::{Kind, Ref, Resource};

pub struct IamInstanceProfile;

async fn read(cx: &Side, name: &str) -> Result<Resource> {
    let got = cx
        .iam(Class::IamRead)
        .await
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .map_err(|e| cx.err("GetInstanceProfile", e))?;
    let p = got
        .instance_profile()
        .ok_or_else(|| cx.invalid(format!("GetInstanceProfile returned nothing for {name}")))?;
    let mut roles: Vec<Ref> = p
        .roles()
        .iter()
        .map(|r| Ref::new(Kind::IamRole, r.role_name()))
        .collect();
    roles.sort();
    let s = IamInstanceProfileSpec {
        path: p.path().to_string(),
        roles,
    };
    Ok(resource(
        Kind::IamInstanceProfile,
        name,
        spec::to_value(&s),
        p.tags(),
    ))
}

pub(crate) async fn remove_role(cx: &Side, profile: &str, role: &str) -> Result<()> {
    gone_ok(
        cx.iam(Class::IamMutate)
            .await
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| cx.err("RemoveRoleFromInstanceProfile", e)),
    )
}

#[async_trait]
impl KindAdapter for IamInstanceProfile {
    fn kind(&self) -> Kind {
        Kind::IamInstanceProfile
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let wanted = super::wanted(lookup);
        let client = cx.iam(Class::IamRead).await;
        let mut pages = client
            .list_instance_profiles()
            .max_items(100)
            .into_paginator()
            .send();
        let mut names = vec![];
        while let Some(page) = pages.next().await {
            for p in page
                .map_err(|e| cx.err("ListInstanceProfiles", e))?
                .instance_profiles()
            {
                names.push(p.instance_profile_name().to_string());
            }
        }
        let mut out = vec![];
        for name in names
            .into_iter()
            .filter(|n| wanted.as_ref().is_none_or(|w| w.contains(n)))
        {
            let r = read(cx, &name).await?;
            if !super::answers(lookup, &r) {
                continue;
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: IamInstanceProfileSpec = parse(cx, Kind::IamInstanceProfile, &want.spec)?;
        cx.iam(Class::IamMutate)
            .await
            .create_instance_profile()
            .instance_profile_name(&want.source_id)
            .path(&s.path)
            .set_tags(Some(super::tags(&want.tags)))
            .send()
            .await
            .map_err(|e| cx.err("CreateInstanceProfile", e))?;
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
        let s: IamInstanceProfileSpec = parse(cx, Kind::IamInstanceProfile, &want.spec)?;
        let have_r = read(cx, id).await?;
        let have: IamInstanceProfileSpec = parse(cx, Kind::IamInstanceProfile, &have_r.spec)?;
        let mut changes = vec![];
        for r in have.roles.iter().filter(|r| !s.roles.contains(r)) {
            remove_role(cx, id, r.id()).await?;
            changes.push(format!("role {} removed", r.id()));
        }
        for r in s.roles.iter().filter(|r| !have.roles.contains(r)) {
            duplicate_ok(
                cx.iam(Class::IamMutate)
                    .await
                    .add_role_to_instance_profile()
                    .instance_profile_name(id)
                    .role_name(r.id())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| cx.err("AddRoleToInstanceProfile", e)),
            )?;
            changes.push(format!("role {} added", r.id()));
        }
        changes.extend(
            super::Tagged::InstanceProfile(id)
                .converge(cx, want, &have_r)
                .await?,
        );
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let have = match read(cx, id).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let s: IamInstanceProfileSpec = parse(cx, Kind::IamInstanceProfile, &have.spec)?;
        for r in &s.roles {
            remove_role(cx, id, r.id()).await?;
        }
        gone_ok(
            cx.iam(Class::IamMutate)
                .await
                .delete_instance_profile()
                .instance_profile_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteInstanceProfile", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListInstanceProfiles",
            "iam:GetInstanceProfile",
            "iam:CreateInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:TagInstanceProfile",
            "iam:UntagInstanceProfile",
            "iam:DeleteInstanceProfile",
        ]
    }
}
