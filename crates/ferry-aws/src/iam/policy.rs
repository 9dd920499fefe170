//! Customer-managed policies: path, description and the default version's
//! document (rewritten by the translator: accounts, ARNs, regions). A changed
//! document becomes a new default version, as IAM keeps at most five.

use super::{document, local_policies, resource};
use crate::adapter::{gone_ok, parse};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::{self, IamPolicySpec};
use ferry_core::{Kind, Resource};

pub struct IamPolicy;

/// The ARN of a customer-managed policy of that name, if it exists.
pub async fn arn_of(cx: &Side, name: &str) -> Result<Option<String>> {
    Ok(local_policies(cx)
        .await?
        .into_iter()
        .find(|p| p.policy_name() == Some(name))
        .and_then(|p| p.arn().map(String::from)))
}

async fn read(cx: &Side, arn: &str) -> Result<Resource> {
    let p = cx
        .iam(Class::IamRead)
        .await
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("GetPolicy", e))?;
    let p = p
        .policy()
        .ok_or_else(|| cx.invalid(format!("GetPolicy returned nothing for {arn}")))?;
    let version = cx
        .iam(Class::IamRead)
        .await
        .get_policy_version()
        .policy_arn(arn)
        .version_id(p.default_version_id().unwrap_or("v1"))
        .send()
        .await
        .map_err(|e| cx.err("GetPolicyVersion", e))?;
    let doc = version
        .policy_version()
        .and_then(|v| v.document())
        .map(document)
        .unwrap_or_default();
    let s = IamPolicySpec {
        path: p.path().unwrap_or("/").to_string(),
        description: p.description().filter(|d| !d.is_empty()).map(String::from),
        document: doc,
    };
    Ok(resource(
        Kind::IamPolicy,
        p.policy_name().unwrap_or_default(),
        spec::to_value(&s),
        p.tags(),
    ))
}

#[async_trait]
impl KindAdapter for IamPolicy {
    fn kind(&self) -> Kind {
        Kind::IamPolicy
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let names = super::wanted(lookup);
        let mut out = vec![];
        for p in local_policies(cx).await? {
            let name = p.policy_name().unwrap_or_default();
            if names.as_ref().is_some_and(|n| !n.iter().any(|x| x == name)) {
                continue;
            }
            let r = read(cx, p.arn().unwrap_or_default()).await?;
            if !super::answers(lookup, &r) {
                continue;
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let name = want.source_id.clone();
        let s: IamPolicySpec = parse(cx, Kind::IamPolicy, &want.spec)?;
        cx.iam(Class::IamMutate)
            .await
            .create_policy()
            .policy_name(&name)
            .path(&s.path)
            .set_description(s.description.clone())
            .policy_document(s.document.to_string())
            .set_tags(Some(super::tags(&want.tags)))
            .send()
            .await
            .map_err(|e| cx.err("CreatePolicy", e))?;
        Ok(name)
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
        let arn = arn_of(cx, id)
            .await?
            .ok_or_else(|| crate::AwsError::not_found(cx.name, "GetPolicy", "NoSuchEntity", id))?;
        let have = read(cx, &arn).await?;
        let s: IamPolicySpec = parse(cx, Kind::IamPolicy, &want.spec)?;
        let mut changes = vec![];
        if have.spec["document"] != s.document {
            make_room_for_a_version(cx, &arn).await?;
            cx.iam(Class::IamMutate)
                .await
                .create_policy_version()
                .policy_arn(&arn)
                .policy_document(s.document.to_string())
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| cx.err("CreatePolicyVersion", e))?;
            changes.push("new default version with the source document".into());
        }
        changes.extend(
            super::Tagged::Policy(&arn)
                .converge(cx, want, &have)
                .await?,
        );
        Ok(changes)
    }

    /// Detaches it from every role, user and group and deletes its old
    /// versions first: IAM refuses to delete an attached policy.
    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let Some(arn) = arn_of(cx, id).await? else {
            return Ok(());
        };
        let users = cx
            .iam(Class::IamRead)
            .await
            .list_entities_for_policy()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(|e| cx.err("ListEntitiesForPolicy", e))?;
        for r in users.policy_roles() {
            let role = r.role_name().unwrap_or_default();
            super::principal::Principal::Role(role)
                .detach(cx, &arn)
                .await?;
        }
        for u in users.policy_users() {
            cx.iam(Class::IamMutate)
                .await
                .detach_user_policy()
                .user_name(u.user_name().unwrap_or_default())
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| cx.err("DetachUserPolicy", e))?;
        }
        for g in users.policy_groups() {
            cx.iam(Class::IamMutate)
                .await
                .detach_group_policy()
                .group_name(g.group_name().unwrap_or_default())
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| cx.err("DetachGroupPolicy", e))?;
        }
        for v in versions(cx, &arn)
            .await?
            .iter()
            .filter(|v| !v.is_default_version())
        {
            delete_version(cx, &arn, v.version_id().unwrap_or_default()).await?;
        }
        gone_ok(
            cx.iam(Class::IamMutate)
                .await
                .delete_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeletePolicy", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "iam:ListPolicies",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:ListPolicyVersions",
            "iam:CreatePolicy",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:TagPolicy",
            "iam:UntagPolicy",
            "iam:ListEntitiesForPolicy",
            "iam:DetachRolePolicy",
            "iam:DetachUserPolicy",
            "iam:DetachGroupPolicy",
            "iam:DeletePolicy",
        ]
    }
}

async fn versions(cx: &Side, arn: &str) -> Result<Vec<aws_sdk_iam::types::PolicyVersion>> {
    let out = cx
        .iam(Class::IamRead)
        .await
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| cx.err("ListPolicyVersions", e))?;
    Ok(out.versions().to_vec())
}

async fn delete_version(cx: &Side, arn: &str, version: &str) -> Result<()> {
    cx.iam(Class::IamMutate)
        .await
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| cx.err("DeletePolicyVersion", e))
}

/// IAM keeps five versions at most: drop the oldest non-default one if full.
async fn make_room_for_a_version(cx: &Side, arn: &str) -> Result<()> {
    let mut all = versions(cx, arn).await?;
    if all.len() < 5 {
        return Ok(());
    }
    all.sort_by_key(|v| v.create_date().map(|d| d.secs()).unwrap_or_default());
    if let Some(oldest) = all.iter().find(|v| !v.is_default_version()) {
        delete_version(cx, arn, oldest.version_id().unwrap_or_default()).await?;
    }
    Ok(())
}
