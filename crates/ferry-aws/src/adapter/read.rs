//! Reading: a spec into its typed form, one resource by ID, resources by a
//! list of IDs some of which may be gone, page sizes for listings, and the
//! small conversions every describe makes (an empty string is absent, an
//! empty ID is no reference).

use crate::{AwsError, KindAdapter, Lookup, Result, Side};
use ferry_core::{Kind, Ref, Resource};
use serde_json::Value;

/// Results per describe call. Listing goes page by page (ARCHITECTURE.md:
/// discovery lists in pages): without MaxResults many EC2 describes answer
/// with everything at once. 100 is within every range the network describes
/// accept (route tables and prefix lists stop at 100). `FERRY_PAGE_SIZE`
/// overrides it (5..=100), for tests and for tuning.
pub const PAGE_SIZE: i32 = 100;

/// The MaxResults to send: none when IDs are given explicitly, as AWS refuses
/// both together on several describes.
pub fn page_size(allowed: bool) -> Option<i32> {
    if !allowed {
        return None;
    }
    let n = std::env::var("FERRY_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| (5..=100).contains(n))
        .unwrap_or(PAGE_SIZE);
    Some(n)
}

/// [`page_size`] for APIs that stop below 100 (Auto Scaling's and
/// CloudWatch's MaxRecords: 1..=100, scaling policies 50).
pub fn capped_page_size(max: i32) -> Option<i32> {
    page_size(true).map(|n| n.min(max))
}

/// A spec in its typed form; a spec that does not fit is an invalid request.
pub fn parse<T: serde::de::DeserializeOwned>(cx: &Side, kind: Kind, v: &Value) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| cx.invalid(format!("bad {kind} spec: {e}")))
}

/// The single resource a describe by ID returns, or an error naming it.
pub async fn one(adapter: &dyn KindAdapter, cx: &Side, id: &str) -> Result<Resource> {
    adapter
        .describe(cx, &Lookup::Ids(vec![id.to_string()]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AwsError::not_found(
                cx.name,
                "Describe",
                &format!("{}.NotFound", adapter.kind()),
                id,
            )
        })
}

/// Lists through an API that takes IDs as a parameter (rather than an ID
/// filter, which the emulator lacks for some kinds). AWS fails such a call
/// whole when one ID is gone, so a NotFound is retried ID by ID, leaving the
/// missing ones out.
pub async fn by_ids<T, F, Fut>(ids: &[String], fetch: F) -> Result<Vec<T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>>>,
{
    if ids.is_empty() {
        return Ok(vec![]);
    }
    match fetch(ids.to_vec()).await {
        Err(e) if e.is_not_found() => {
            let mut out = vec![];
            for id in ids.iter().filter(|_| ids.len() > 1) {
                match fetch(vec![id.clone()]).await {
                    Err(e) if e.is_not_found() => {}
                    r => out.extend(r?),
                }
            }
            Ok(out)
        }
        r => r,
    }
}

/// A reference to `id` of `kind`; none when AWS reports no ID (or "").
pub fn reference(kind: Kind, id: Option<&str>) -> Option<Ref> {
    id.filter(|s| !s.is_empty()).map(|s| Ref::new(kind, s))
}

/// An optional string, with "" read as absent (AWS reports both).
pub fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn gone(id: &str) -> AwsError {
        AwsError::not_found("destination", "Describe", "X.NotFound", id)
    }

    #[tokio::test]
    async fn by_ids_leaves_out_the_ids_that_are_gone() {
        let calls = Mutex::new(vec![]);
        let found = by_ids(
            &["a".into(), "gone".into(), "b".into()],
            |ids: Vec<String>| {
                calls.lock().unwrap().push(ids.clone());
                async move {
                    match ids.iter().any(|i| i == "gone") {
                        true => Err(gone("gone")),
                        false => Ok(ids),
                    }
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(found, vec!["a".to_string(), "b".to_string()]);
        // One call for all, then one per ID.
        assert_eq!(calls.lock().unwrap().len(), 4);
        // A single ID that is gone is not asked for twice.
        calls.lock().unwrap().clear();
        let none: Vec<String> = by_ids(&["gone".into()], |ids: Vec<String>| {
            calls.lock().unwrap().push(ids);
            async { Err(gone("gone")) }
        })
        .await
        .unwrap();
        assert!(none.is_empty());
        assert_eq!(calls.lock().unwrap().len(), 1);
    }

    #[test]
    fn empty_strings_are_absent() {
        assert_eq!(text(Some("")), None);
        assert_eq!(text(Some("x")).as_deref(), Some("x"));
        assert_eq!(reference(Kind::Vpc, Some("")), None);
        assert_eq!(
            reference(Kind::Vpc, Some("vpc-1")),
            Some(Ref::new(Kind::Vpc, "vpc-1"))
        );
    }
}
