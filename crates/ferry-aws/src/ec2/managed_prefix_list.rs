//! Customer-managed prefix lists and their entries (the kind
//! `prefix_list`). Only the lists the side's own account owns: AWS-managed
//! lists travel by name (prefix_list.rs) and lists shared from another
//! account are that account's to move. A list changes by versions:
//! ModifyManagedPrefixList names the version it starts from, and entries and
//! size are changed by separate calls, as AWS requires.

use super::{converge_tags, filter, lookup_filters, resource};
use crate::adapter::{gone_ok, page_size, parse, wait_for};
use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AddPrefixListEntry, ManagedPrefixList, PrefixListState, RemovePrefixListEntry, ResourceType,
};
use ferry_core::spec::prefix_list::{PrefixListEntry, PrefixListSpec};
use ferry_core::spec::to_value;
use ferry_core::{Kind, Resource};
use std::time::Duration;

pub struct PrefixList;

type Modify =
    aws_sdk_ec2::operation::modify_managed_prefix_list::builders::ModifyManagedPrefixListFluentBuilder;

/// How long a create or modify may stay in progress.
const SETTLE: Duration = Duration::from_secs(300);

/// The account's own lists for a lookup, without deleted ones (AWS and the
/// emulator report a deleted list for a while).
async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<ManagedPrefixList>> {
    let mut filters = lookup_filters(lookup, "prefix-list-id");
    filters.push(filter("owner-id", [cx.info.account.clone()]));
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .describe_managed_prefix_lists()
        .set_filters(Some(filters))
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("DescribeManagedPrefixLists", e))?
                .prefix_lists()
                .iter()
                .filter(|p| !deleted(p.state()))
                .cloned(),
        );
    }
    Ok(out)
}

fn deleted(state: Option<&PrefixListState>) -> bool {
    matches!(
        state,
        Some(PrefixListState::DeleteComplete | PrefixListState::DeleteInProgress)
    )
}

fn in_progress(state: Option<&PrefixListState>) -> bool {
    matches!(
        state,
        Some(
            PrefixListState::CreateInProgress
                | PrefixListState::ModifyInProgress
                | PrefixListState::RestoreInProgress
        )
    )
}

/// The list's current entries, page by page.
async fn entries(cx: &Side, id: &str) -> Result<Vec<aws_sdk_ec2::types::PrefixListEntry>> {
    let mut out = vec![];
    let client = cx.ec2(Class::Read).await;
    let mut pages = client
        .get_managed_prefix_list_entries()
        .prefix_list_id(id)
        .set_max_results(page_size(true))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.map_err(|e| cx.err("GetManagedPrefixListEntries", e))?
                .entries()
                .iter()
                .cloned(),
        );
    }
    Ok(out)
}

fn to_spec(
    p: &ManagedPrefixList,
    entries: &[aws_sdk_ec2::types::PrefixListEntry],
) -> PrefixListSpec {
    PrefixListSpec::new(
        p.prefix_list_name().unwrap_or_default(),
        p.address_family().unwrap_or_default(),
        p.max_entries().unwrap_or_default(),
        entries.iter().map(|e| PrefixListEntry {
            cidr: e.cidr().unwrap_or_default().to_string(),
            description: e.description().filter(|d| !d.is_empty()).map(String::from),
        }),
    )
}

async fn to_resource(cx: &Side, p: &ManagedPrefixList) -> Result<Resource> {
    let id = p.prefix_list_id().unwrap_or_default();
    let s = to_spec(p, &entries(cx, id).await?);
    Ok(resource(Kind::PrefixList, id, to_value(&s), p.tags()))
}

fn additions(entries: &[PrefixListEntry]) -> Option<Vec<AddPrefixListEntry>> {
    let out: Vec<AddPrefixListEntry> = entries
        .iter()
        .map(|e| {
            AddPrefixListEntry::builder()
                .cidr(&e.cidr)
                .set_description(e.description.clone())
                .build()
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

fn removals(cidrs: &[String]) -> Option<Vec<RemovePrefixListEntry>> {
    let out: Vec<RemovePrefixListEntry> = cidrs
        .iter()
        .map(|c| RemovePrefixListEntry::builder().cidr(c).build())
        .collect();
    (!out.is_empty()).then_some(out)
}

/// The list once no create or modify is in progress; an error if the last
/// one failed.
async fn settled(cx: &Side, id: &str) -> Result<ManagedPrefixList> {
    wait_for(
        cx,
        format!("prefix list {id} to settle"),
        SETTLE,
        || async move {
            let Some(p) = list(cx, &Lookup::Ids(vec![id.to_string()]))
                .await?
                .into_iter()
                .next()
            else {
                return Err(crate::AwsError::not_found(
                    cx.name,
                    "DescribeManagedPrefixLists",
                    "InvalidPrefixListID.NotFound",
                    id,
                ));
            };
            if in_progress(p.state()) {
                return Ok(None);
            }
            if p.state().is_some_and(|s| s.as_str().ends_with("-failed")) {
                return Err(cx.invalid(format!(
                    "prefix list {id} is {}: {}",
                    p.state().map(|s| s.as_str()).unwrap_or_default(),
                    p.state_message().unwrap_or_default()
                )));
            }
            Ok(Some(p))
        },
    )
    .await
}

/// One ModifyManagedPrefixList from the list's current version. The name is
/// always sent: it is the list's desired name, and an omitted one must not
/// read as "no name".
async fn modify(
    cx: &Side,
    id: &str,
    name: &str,
    version: Option<i64>,
    change: impl FnOnce(Modify) -> Modify,
) -> Result<()> {
    let call = cx
        .ec2(Class::Mutate)
        .await
        .modify_managed_prefix_list()
        .prefix_list_id(id)
        .prefix_list_name(name)
        .set_current_version(version);
    change(call)
        .send()
        .await
        .map_err(|e| cx.err("ModifyManagedPrefixList", e))?;
    settled(cx, id).await.map(|_| ())
}

#[async_trait]
impl KindAdapter for PrefixList {
    fn kind(&self) -> Kind {
        Kind::PrefixList
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let mut out = vec![];
        for p in list(cx, lookup).await? {
            out.push(to_resource(cx, &p).await?);
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: PrefixListSpec = parse(cx, Kind::PrefixList, &want.spec)?;
        let out = cx
            .ec2(Class::Mutate)
            .await
            .create_managed_prefix_list()
            .prefix_list_name(&s.name)
            .address_family(&s.address_family)
            .max_entries(s.max_entries)
            .set_entries(additions(&s.entries))
            .set_tag_specifications(
                super::tag_spec(ResourceType::PrefixList, want).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cx.err("CreateManagedPrefixList", e))?;
        let id = out
            .prefix_list()
            .and_then(|p| p.prefix_list_id())
            .map(String::from)
            .ok_or_else(|| cx.invalid("CreateManagedPrefixList returned no id"))?;
        // Routes and rules cannot name the list before it is complete.
        settled(cx, &id).await?;
        Ok(id)
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
        let s: PrefixListSpec = parse(cx, Kind::PrefixList, &want.spec)?;
        let raw = settled(cx, id).await?;
        let have_r = to_resource(cx, &raw).await?;
        let have: PrefixListSpec = parse(cx, Kind::PrefixList, &have_r.spec)?;
        let mut changes = converge_tags(cx, id, want, &have_r).await?;
        let resize = |n: i32| move |c: Modify| c.max_entries(n);
        // Grow before adding entries, shrink after removing them.
        let grow = s.max_entries > have.max_entries;
        if grow {
            modify(cx, id, &s.name, None, resize(s.max_entries)).await?;
            changes.push(format!(
                "max entries {} -> {}",
                have.max_entries, s.max_entries
            ));
        }
        let (add, remove) = s.entry_changes(&have);
        if !add.is_empty() || !remove.is_empty() || s.name != have.name {
            let version = if grow {
                settled(cx, id).await?.version()
            } else {
                raw.version()
            };
            let (adds, removes) = (additions(&add), removals(&remove));
            modify(cx, id, &s.name, version, |c| {
                c.set_add_entries(adds).set_remove_entries(removes)
            })
            .await?;
            if s.name != have.name {
                changes.push(format!("renamed {:?} -> {:?}", have.name, s.name));
            }
            if !add.is_empty() {
                let cidrs: Vec<&str> = add.iter().map(|e| e.cidr.as_str()).collect();
                changes.push(format!("entries set: {}", cidrs.join(", ")));
            }
            if !remove.is_empty() {
                changes.push(format!("entries removed: {}", remove.join(", ")));
            }
        }
        if s.max_entries < have.max_entries {
            modify(cx, id, &s.name, None, resize(s.max_entries)).await?;
            changes.push(format!(
                "max entries {} -> {}",
                have.max_entries, s.max_entries
            ));
        }
        Ok(changes)
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        // Gone already (or being deleted): done. Checked first because a
        // deleted list keeps answering describes for a while.
        if list(cx, &Lookup::Ids(vec![id.to_string()]))
            .await?
            .is_empty()
        {
            return Ok(());
        }
        gone_ok(
            cx.ec2(Class::Mutate)
                .await
                .delete_managed_prefix_list()
                .prefix_list_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| cx.err("DeleteManagedPrefixList", e)),
        )
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeManagedPrefixLists",
            "ec2:GetManagedPrefixListEntries",
            "ec2:CreateManagedPrefixList",
            "ec2:ModifyManagedPrefixList",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteManagedPrefixList",
        ]
    }

    // `lists_in_pages` stays false: describing reads each list's entries,
    // one call per list.
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::Tag;

    fn aws_entry(cidr: &str, description: Option<&str>) -> aws_sdk_ec2::types::PrefixListEntry {
        aws_sdk_ec2::types::PrefixListEntry::builder()
            .cidr(cidr)
            .set_description(description.map(String::from))
            .build()
    }

    #[test]
    fn a_list_and_its_entries_read_into_a_sorted_spec() {
        let p = ManagedPrefixList::builder()
            .prefix_list_id("pl-0abc")
            .prefix_list_name("office")
            .address_family("IPv4")
            .max_entries(5)
            .version(3)
            .state(PrefixListState::ModifyComplete)
            .owner_id("111122223333")
            .tags(Tag::builder().key("team").value("net").build())
            .build();
        let entries = [
            aws_entry("192.168.1.0/24", Some("branch")),
            aws_entry("10.0.0.0/16", Some("hq")),
            aws_entry("172.16.0.0/12", Some("")),
        ];
        let s = to_spec(&p, &entries);
        assert_eq!(s.name, "office");
        assert_eq!((s.address_family.as_str(), s.max_entries), ("IPv4", 5));
        let cidrs: Vec<(&str, Option<&str>)> = s
            .entries
            .iter()
            .map(|e| (e.cidr.as_str(), e.description.as_deref()))
            .collect();
        assert_eq!(
            cidrs,
            [
                ("10.0.0.0/16", Some("hq")),
                ("172.16.0.0/12", None),
                ("192.168.1.0/24", Some("branch"))
            ]
        );
        let r = resource(Kind::PrefixList, "pl-0abc", to_value(&s), p.tags());
        assert_eq!(r.key.kind, Kind::PrefixList);
        assert_eq!(r.spec["entries"][0]["cidr"], "10.0.0.0/16");
        assert_eq!(r.tags.get("team").map(String::as_str), Some("net"));
    }

    #[test]
    fn deleted_lists_are_not_listed_and_pending_ones_are_waited_for() {
        assert!(deleted(Some(&PrefixListState::DeleteComplete)));
        assert!(deleted(Some(&PrefixListState::DeleteInProgress)));
        assert!(!deleted(Some(&PrefixListState::DeleteFailed)));
        assert!(in_progress(Some(&PrefixListState::ModifyInProgress)));
        assert!(!in_progress(Some(&PrefixListState::CreateComplete)));
    }

    #[test]
    fn entry_changes_become_request_entries() {
        let add = additions(&[PrefixListEntry {
            cidr: "10.0.0.0/16".into(),
            description: Some("hq".into()),
        }])
        .unwrap();
        assert_eq!(add[0].cidr(), Some("10.0.0.0/16"));
        assert_eq!(add[0].description(), Some("hq"));
        assert!(additions(&[]).is_none());
        assert!(removals(&[]).is_none());
        assert_eq!(
            removals(&["10.1.0.0/16".into()]).unwrap()[0].cidr(),
            Some("10.1.0.0/16")
        );
    }
}
