//! Tag reconciliation's one rule, shared by every service: which tags to
//! set and which to remove to bring what a resource carries to what it
//! should, and the change lines that say so. Each service only sends the
//! result through its own tag calls.
//!
//! The rule: `ferry:run` records the run that created the resource and is
//! set at creation only, never rewritten; `ferry:*` and `aws:*` tags are
//! never removed; every other tag the resource carries and `want` does not
//! is removed, and every wanted tag missing or with another value is set.

use crate::{Desired, Result};
use ferry_core::resource::{TAG_RUN, TAG_SOURCE};
use ferry_core::Resource;
use std::collections::BTreeMap;
use std::future::Future;

/// What to change to bring a resource's tags to the wanted ones. `V` is a
/// tag's value as the service compares it: a string, or (Auto Scaling) the
/// value with its propagate-at-launch flag.
#[derive(Debug, Clone, PartialEq)]
pub struct TagDiff<V = String> {
    /// The tags to set (missing, or with another value), by key.
    pub set: BTreeMap<String, V>,
    /// The keys to remove, in order.
    pub remove: Vec<String>,
}

impl<V> Default for TagDiff<V> {
    fn default() -> Self {
        TagDiff {
            set: BTreeMap::new(),
            remove: vec![],
        }
    }
}

impl<V> TagDiff<V> {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The keys of the tags to set, in order.
    pub fn set_keys(&self) -> Vec<&str> {
        self.set.keys().map(String::as_str).collect()
    }

    /// The change lines: "tags set: a, b" and "tags removed: c".
    pub fn lines(&self) -> Vec<String> {
        lines(&self.set_keys(), &self.remove)
    }
}

/// The rule itself (see the module's header), from the tags a resource
/// carries (`have`, as read back, `ferry:*` included where the service
/// reports them) to those it should (`want`).
pub fn diff<V: Clone + PartialEq>(
    want: &BTreeMap<String, V>,
    have: &BTreeMap<String, V>,
) -> TagDiff<V> {
    let set = want
        .iter()
        .filter(|(k, v)| k.as_str() != TAG_RUN && have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = have
        .keys()
        .filter(|k| !k.starts_with("ferry:") && !k.starts_with("aws:"))
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    TagDiff { set, remove }
}

/// The changes that bring a resource to `want`'s tags, from its user tags
/// and the `ferry:source` value read back (as a [`Resource`] holds them).
/// Nothing when `want` does not manage tags (AWS defaults keep theirs).
pub fn changes(
    want: &Desired,
    have: &BTreeMap<String, String>,
    have_source: Option<&str>,
) -> TagDiff {
    if !want.manage_tags {
        return TagDiff::default();
    }
    let mut current = have.clone();
    if let Some(s) = have_source {
        current.insert(TAG_SOURCE.into(), s.to_string());
    }
    diff(&want.tags, &current)
}

/// [`changes`] for a resource as a describe reported it.
pub fn changes_to(want: &Desired, have: &Resource) -> TagDiff {
    changes(want, &have.tags, have.ferry_source.as_deref())
}

/// Sends `diff` through a service's own tag calls: `set` with the tags to
/// set, then `remove` with the keys to remove, each only when there is
/// something to send; returns the change lines.
pub async fn send<V, S, R, A, B>(
    diff: &TagDiff<V>,
    set: impl FnOnce(BTreeMap<String, V>) -> S,
    remove: impl FnOnce(Vec<String>) -> R,
) -> Result<Vec<String>>
where
    V: Clone,
    S: Future<Output = Result<A>>,
    R: Future<Output = Result<B>>,
{
    if !diff.set.is_empty() {
        set(diff.set.clone()).await?;
    }
    if !diff.remove.is_empty() {
        remove(diff.remove.clone()).await?;
    }
    Ok(diff.lines())
}

/// The change lines for tags set and removed (what [`TagDiff::lines`]
/// says, for services that set more than the diff: S3 may add a late
/// `ferry:run`).
pub fn lines(set: &[&str], remove: &[String]) -> Vec<String> {
    let mut out = vec![];
    if !set.is_empty() {
        out.push(format!("tags set: {}", set.join(", ")));
    }
    if !remove.is_empty() {
        out.push(format!("tags removed: {}", remove.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{Key, Kind};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn desired(tags: &[(&str, &str)]) -> Desired {
        Desired {
            spec: serde_json::Value::Null,
            tags: map(tags),
            manage_tags: true,
            source_id: "web".into(),
            dest_name: None,
            copy: None,
        }
    }

    #[test]
    fn tags_reconcile_without_touching_ferry_or_aws_tags() {
        let want = desired(&[("team", "web"), (TAG_SOURCE, "arn:src"), (TAG_RUN, "7")]);
        let have = map(&[("team", "old"), ("stale", "x")]);
        let d = changes(&want, &have, Some("arn:src"));
        assert_eq!(d.set_keys(), vec!["team"]);
        assert_eq!(d.remove, vec!["stale".to_string()]);
        let d = changes(&want, &have, None);
        assert!(d.set.contains_key(TAG_SOURCE) && !d.set.contains_key(TAG_RUN));
        // Read back raw, ferry's and AWS's own tags are never removed.
        let raw = map(&[
            (TAG_RUN, "1"),
            ("ferry:scratch", "x"),
            ("aws:cloudformation", "y"),
        ]);
        assert!(diff(&want.tags, &raw).remove.is_empty());
    }

    #[test]
    fn tag_changes_keep_ferry_run_and_remove_stale_user_tags() {
        let have = Resource::with_tags(
            Key::new(Kind::KmsKey, "k1"),
            serde_json::json!({}),
            [
                ("team", "a"),
                ("old", "x"),
                (TAG_RUN, "1"),
                (TAG_SOURCE, "arn:s"),
            ],
        );
        let want = desired(&[("team", "b"), (TAG_SOURCE, "arn:s"), (TAG_RUN, "2")]);
        let d = changes_to(&want, &have);
        assert_eq!(
            d.set.into_iter().collect::<Vec<_>>(),
            vec![("team".to_string(), "b".to_string())]
        );
        assert_eq!(d.remove, vec!["old".to_string()]);
    }

    #[test]
    fn unmanaged_tags_are_left_alone() {
        let mut want = desired(&[("team", "web")]);
        want.manage_tags = false;
        assert!(changes(&want, &map(&[("stale", "x")]), None).is_empty());
    }

    #[test]
    fn values_compare_whole() {
        // Auto Scaling compares a value with its propagate-at-launch flag.
        let want: BTreeMap<String, (String, bool)> =
            [("team".to_string(), ("web".to_string(), true))].into();
        let have: BTreeMap<String, (String, bool)> =
            [("team".to_string(), ("web".to_string(), false))].into();
        assert_eq!(diff(&want, &have).set_keys(), vec!["team"]);
        assert!(diff(&want, &want).is_empty());
    }

    #[tokio::test]
    async fn send_calls_only_what_there_is_to_send() {
        let calls = std::sync::Mutex::new(vec![]);
        let record = |what: String| {
            calls.lock().unwrap().push(what);
            async { Ok::<_, crate::AwsError>(()) }
        };
        let d = changes(
            &desired(&[("a", "1")]),
            &map(&[("a", "1"), ("z", "1")]),
            None,
        );
        let lines = send(
            &d,
            |set| record(format!("set {set:?}")),
            |keys| record(format!("remove {keys:?}")),
        )
        .await
        .unwrap();
        assert_eq!(lines, vec!["tags removed: z"]);
        assert_eq!(*calls.lock().unwrap(), vec![r#"remove ["z"]"#.to_string()]);
    }

    #[test]
    fn lines_name_the_keys_in_order() {
        let want = desired(&[("b", "1"), ("a", "1")]);
        let d = changes(&want, &map(&[("z", "1"), ("y", "1")]), None);
        assert_eq!(d.lines(), vec!["tags set: a, b", "tags removed: y, z"]);
        assert!(TagDiff::<String>::default().lines().is_empty());
        assert_eq!(
            lines(&["team", TAG_RUN], &[]),
            vec!["tags set: team, ferry:run"]
        );
    }
}
