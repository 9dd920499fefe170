//! Where buckets are and whose their names are: the account's buckets of
//! the side's region (ListBuckets is account-wide; a bucket's region is its
//! BucketRegion when reported, else GetBucketLocation), and whether a
//! destination name is free, already ours, or another account's.

use crate::ratelimit::Class;
use crate::{Lookup, Result, Side};
use aws_sdk_s3::types::BucketLocationConstraint;
use ferry_core::spec;
use ferry_core::{Key, Kind, Resource};
use futures::StreamExt;

/// Buckets per ListBuckets page: AWS's maximum. (The emulator returns no
/// continuation token and cuts the list at MaxBuckets, so a small page
/// would lose buckets there.)
const MAX_BUCKETS: i32 = 10_000;
/// Whether a bucket name can be used in the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStatus {
    /// Nobody has it.
    Free,
    /// A bucket of this side's account (a re-run finds what it made).
    Ours,
    /// Another account's bucket: names are global, so it cannot be used.
    Taken,
}

/// Whether each of `names` is free, ours, or another account's. The
/// account's buckets are listed once; HeadBucket then answers 404 for a free
/// name and 200, 301 (another region) or 403 (another account) for a taken
/// one; AWS also documents a bare 400 for the latter.
pub async fn name_statuses(cx: &Side, names: &[&str]) -> Result<Vec<NameStatus>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    let ours = owned(cx).await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if ours.iter().any(|(n, _)| n == name) {
            out.push(NameStatus::Ours);
            continue;
        }
        let head = cx
            .s3(Class::S3Read)
            .await
            .head_bucket()
            .bucket(*name)
            .send()
            .await;
        out.push(match head {
            Ok(_) => NameStatus::Taken,
            Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
                Some(404) => NameStatus::Free,
                Some(301 | 400 | 403) => NameStatus::Taken,
                _ => return Err(cx.err("HeadBucket", e)),
            },
        });
    }
    Ok(out)
}

/// The region a GetBucketLocation answer means: none (or empty) is
/// us-east-1, and the legacy "EU" is eu-west-1.
pub fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(r) => r.to_string(),
    }
}

/// Every bucket of the side's account, with its region when ListBuckets
/// reports it.
async fn owned(cx: &Side) -> Result<Vec<(String, Option<String>)>> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = cx
            .s3(Class::S3Read)
            .await
            .list_buckets()
            .max_buckets(MAX_BUCKETS)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| cx.err("ListBuckets", e))?;
        out.extend(page.buckets().iter().filter_map(|b| {
            b.name()
                .map(|n| (n.to_string(), b.bucket_region().map(String::from)))
        }));
        match page.continuation_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

pub async fn region_of(cx: &Side, name: &str) -> Result<String> {
    let out = cx
        .s3(Class::S3Read)
        .await
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
        .map_err(|e| cx.err("GetBucketLocation", e))?;
    Ok(location_region(
        out.location_constraint()
            .map(BucketLocationConstraint::as_str),
    ))
}

/// The names of this side's buckets in its region that `lookup` selects,
/// and resources for those whose region cannot be read.
pub async fn in_region(cx: &Side, lookup: &Lookup) -> Result<(Vec<String>, Vec<Resource>)> {
    let mut all = owned(cx).await?;
    if let Lookup::Ids(ids) = lookup {
        all.retain(|(n, _)| ids.contains(n));
    }
    let regions: Vec<(String, Result<String>)> = futures::stream::iter(all)
        .map(|(name, region)| async move {
            let r = match region {
                Some(r) if !r.is_empty() => Ok(r),
                _ => region_of(cx, &name).await,
            };
            (name, r)
        })
        .buffered(super::READ_CONCURRENCY)
        .collect()
        .await;
    let mut names = vec![];
    let mut unreadable = vec![];
    for (name, region) in regions {
        match region {
            Ok(r) if r == cx.info.region => names.push(name),
            Ok(_) => {}
            Err(e) if super::raw::bucket_gone(&e) => {}
            Err(e) => {
                let mut res = Resource::with_tags(
                    Key::new(Kind::Bucket, &name),
                    spec::to_value(&super::unread()),
                    [],
                );
                res.skip = Some(format!("its region cannot be read: {e}"));
                unreadable.push(res);
            }
        }
    }
    Ok((names, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_bucket_location_answers_name_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-south-1")), "ap-south-1");
        // The SDK's enum hands back what the answer said.
        assert_eq!(
            location_region(Some(BucketLocationConstraint::from("EU").as_str())),
            "eu-west-1"
        );
    }
}
