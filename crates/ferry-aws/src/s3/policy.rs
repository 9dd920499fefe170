//! The temporary statement ferry adds to a source bucket's policy so the
//! destination account can read the objects it copies server-side, and its
//! removal. The statement carries its own `Sid`, so removing it leaves every
//! other statement (and their order) exactly as the owner wrote them.

use crate::ratelimit::Class;
use crate::{Result, Side};
use serde_json::{json, Value};

/// The `Sid` of ferry's statement for a destination account.
pub fn sid_for(dest_account: &str) -> String {
    format!("FerryTemporaryRead{dest_account}")
}

/// The statement granting `principal` (the destination account's root, or
/// the role ferry runs as there) read access to `bucket`.
pub fn statement(sid: &str, partition: &str, bucket: &str, principal: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging",
            "s3:ListBucket",
            "s3:ListBucketVersions"
        ],
        "Resource": [
            format!("arn:{partition}:s3:::{bucket}"),
            format!("arn:{partition}:s3:::{bucket}/*")
        ]
    })
}

/// `doc` with the statement of `sid` added (replacing one of that `Sid`).
pub fn with_statement(doc: Option<Value>, stmt: Value) -> Value {
    let sid = stmt["Sid"].clone();
    let mut doc = doc.unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
    let list = statements(&mut doc);
    list.retain(|s| s["Sid"] != sid);
    list.push(stmt);
    doc
}

/// `doc` without the statement of `sid`; `None` when nothing is left.
/// The second value says whether the statement was there.
pub fn without_statement(mut doc: Value, sid: &str) -> (Option<Value>, bool) {
    let list = statements(&mut doc);
    let before = list.len();
    list.retain(|s| s["Sid"] != sid);
    let removed = list.len() != before;
    if list.is_empty() {
        (None, removed)
    } else {
        (Some(doc), removed)
    }
}

/// The statement list of a policy (a single statement object becomes a list).
fn statements(doc: &mut Value) -> &mut Vec<Value> {
    let s = doc
        .as_object_mut()
        .expect("a bucket policy is a JSON object")
        .entry("Statement")
        .or_insert_with(|| json!([]));
    if !s.is_array() {
        *s = Value::Array(vec![s.take()]);
    }
    s.as_array_mut().expect("made an array above")
}

/// The bucket's policy document, if it has one.
pub async fn get(side: &Side, bucket: &str) -> Result<Option<Value>> {
    match side
        .s3(Class::S3Read)
        .await
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| side.err("GetBucketPolicy", e))
    {
        Ok(out) => {
            let text = out.policy().unwrap_or_default();
            if text.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(text)
                .map(Some)
                .map_err(|e| crate::AwsError::Invalid {
                    side: side.name,
                    message: format!("the policy of bucket {bucket} is not JSON: {e}"),
                })
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `doc` as the bucket's policy, or deletes the policy when `None`.
pub async fn put(side: &Side, bucket: &str, doc: Option<&Value>) -> Result<()> {
    let c = side.s3(Class::S3Write).await;
    match doc {
        Some(d) => c
            .put_bucket_policy()
            .bucket(bucket)
            .policy(d.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| side.err("PutBucketPolicy", e)),
        None => c
            .delete_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| side.err("DeleteBucketPolicy", e)),
    }
}

/// Adds ferry's read statement to the source bucket's policy.
pub async fn add_statement(side: &Side, bucket: &str, stmt: Value) -> Result<()> {
    let doc = with_statement(get(side, bucket).await?, stmt);
    put(side, bucket, Some(&doc)).await
}

/// Removes the statement of `sid`; a bucket, policy or statement already gone
/// counts as removed.
pub async fn remove_statement(side: &Side, bucket: &str, sid: &str) -> Result<()> {
    let doc = match get(side, bucket).await {
        Ok(Some(d)) => d,
        Ok(None) => return Ok(()),
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let (rest, removed) = without_statement(doc, sid);
    if !removed {
        return Ok(());
    }
    put(side, bucket, rest.as_ref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_is_added_once_and_removed_leaving_the_rest() {
        let owner = json!({"Version": "2012-10-17", "Statement": {"Sid": "Owner", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"}});
        let st = statement(&sid_for("222"), "aws", "b", "arn:aws:iam::222:root");
        let doc = with_statement(Some(owner.clone()), st.clone());
        let doc = with_statement(Some(doc), st);
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
        let (rest, removed) = without_statement(doc, &sid_for("222"));
        assert!(removed);
        let rest = rest.unwrap();
        assert_eq!(rest["Statement"], json!([owner["Statement"].clone()]));
        let (again, removed) = without_statement(rest, &sid_for("222"));
        assert!(!removed && again.is_some());
    }

    #[test]
    fn a_policy_that_was_only_ferrys_is_deleted() {
        let st = statement("S", "aws", "b", "arn:aws:iam::2:root");
        let (rest, removed) = without_statement(with_statement(None, st), "S");
        assert!(removed && rest.is_none());
        assert_eq!(
            statement("S", "aws", "b", "p")["Resource"][1],
            "arn:aws:s3:::b/*"
        );
    }
}
