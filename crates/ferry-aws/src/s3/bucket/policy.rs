//! The bucket policy. Ferry's own temporary read statements (see
//! [`crate::s3::policy`]) are left out of what is read, so a killed run's
//! leftover is never migrated. Set in the contents phase, as it names
//! principals; written whole or removed through [`crate::s3::policy::put`].

use super::Change;
use crate::s3::policy as statement;
use crate::{Result, Side};
use ferry_core::spec::s3::BucketSpec;
use serde_json::Value;

/// Sids of ferry's temporary read statements start so.
const TEMPORARY_SID: &str = "FerryTemporaryRead";

/// The policy without ferry's temporary read statements; `None` when
/// nothing else is left.
pub fn without_temporaries(mut doc: Value) -> Option<Value> {
    let sids: Vec<String> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => vec![],
    }
    .into_iter()
    .filter_map(|s| s.get("Sid").and_then(Value::as_str))
    .filter(|sid| sid.starts_with(TEMPORARY_SID))
    .map(String::from)
    .collect();
    for sid in sids {
        doc = statement::without_statement(doc, &sid).0?;
    }
    Some(doc)
}

/// Sets `w`'s policy, or removes the bucket's, when they differ.
pub async fn converge(cx: &Side, id: &str, w: &BucketSpec, h: &BucketSpec) -> Result<Change> {
    if w.policy == h.policy {
        return Ok(None);
    }
    statement::put(cx, id, w.policy.as_ref()).await?;
    Ok(Some(
        if w.policy.is_some() {
            "bucket policy set"
        } else {
            "bucket policy removed"
        }
        .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ferrys_temporary_statement_is_not_part_of_the_policy() {
        let owner = json!({"Sid": "Owner", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"});
        let temp = statement::statement(
            &statement::sid_for("222222222222"),
            "aws",
            "b",
            "arn:aws:iam::222222222222:root",
        );
        let doc = json!({"Version": "2012-10-17", "Statement": [owner.clone(), temp.clone()]});
        assert_eq!(
            without_temporaries(doc).unwrap()["Statement"],
            json!([owner])
        );
        let only = json!({"Version": "2012-10-17", "Statement": temp});
        assert_eq!(without_temporaries(only), None);
        let plain = json!({"Version": "2012-10-17", "Statement": {"Sid": "X"}});
        assert_eq!(without_temporaries(plain.clone()), Some(plain));
    }
}
