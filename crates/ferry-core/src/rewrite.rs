//! Rewriting of free-form strings and documents (endpoint and, later, IAM and
//! bucket policies): account IDs, ARNs (account and region) and the IDs of
//! migrated resources. Conditions and anything else are left untouched unless
//! they contain one of those.

use crate::mapping::Mapping;
use crate::resource::Key;
use serde_json::Value;

/// What a document is rewritten from and to.
#[derive(Debug, Clone)]
pub struct Rewriter<'a> {
    pub source_account: &'a str,
    pub dest_account: &'a str,
    pub source_region: &'a str,
    pub dest_region: &'a str,
    pub mapping: &'a Mapping,
}

impl Rewriter<'_> {
    pub fn document(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.string(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.document(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.document(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Rewrites one string: a bare account ID, ARNs anywhere in it, and
    /// migrated resource IDs as whole tokens.
    pub fn string(&self, s: &str) -> String {
        if s == self.source_account {
            return self.dest_account.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(pos) = rest.find("arn:") {
            out.push_str(&self.ids(&rest[..pos]));
            let tail = &rest[pos..];
            let end = tail
                .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
                .unwrap_or(tail.len());
            out.push_str(&self.arn(&tail[..end]));
            rest = &tail[end..];
        }
        out.push_str(&self.ids(rest));
        out
    }

    fn arn(&self, arn: &str) -> String {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() < 6 {
            return arn.to_string();
        }
        let region = if parts[3] == self.source_region {
            self.dest_region
        } else {
            parts[3]
        };
        let account = if parts[4] == self.source_account {
            self.dest_account
        } else {
            parts[4]
        };
        format!(
            "{}:{}:{}:{}:{}:{}",
            parts[0],
            parts[1],
            parts[2],
            region,
            account,
            self.ids(parts[5])
        )
    }

    /// Replaces tokens that are mapped EC2 IDs (`vpc-0abc`, `sg-..`).
    fn ids(&self, s: &str) -> String {
        if self.mapping.is_empty() || !s.contains('-') {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut token = String::new();
        let flush = |token: &mut String, out: &mut String| {
            if let Some(kind) = crate::kind::Kind::from_id(token) {
                if let Some(d) = self.mapping.get(&Key::new(kind, token.clone())) {
                    out.push_str(d);
                    token.clear();
                    return;
                }
            }
            out.push_str(token);
            token.clear();
        };
        for c in s.chars() {
            if c.is_ascii_alphanumeric() || c == '-' {
                token.push(c);
            } else {
                flush(&mut token, &mut out);
                out.push(c);
            }
        }
        flush(&mut token, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use serde_json::json;

    fn mapping() -> Mapping {
        [(Key::new(Kind::Vpc, "vpc-111"), "vpc-999".to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn rewrites_accounts_regions_and_ids_in_policies() {
        let m = mapping();
        let r = Rewriter {
            source_account: "111111111111",
            dest_account: "222222222222",
            source_region: "us-east-1",
            dest_region: "eu-west-1",
            mapping: &m,
        };
        let policy = json!({
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": ["111111111111", "arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"]},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-111", "aws:SourceVpce": "vpce-unmapped"}}
            }]
        });
        let out = r.document(&policy);
        let s = &out["Statement"][0];
        assert_eq!(s["Principal"]["AWS"][0], "222222222222");
        assert_eq!(s["Principal"]["AWS"][1], "arn:aws:iam::222222222222:root");
        assert_eq!(
            s["Principal"]["AWS"][2], "arn:aws:iam::333333333333:root",
            "third accounts kept"
        );
        assert_eq!(s["Resource"], "arn:aws:s3:::bucket/*");
        assert_eq!(s["Condition"]["StringEquals"]["aws:SourceVpc"], "vpc-999");
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceVpce"],
            "vpce-unmapped"
        );
        assert_eq!(s["Action"], "s3:GetObject");
    }

    #[test]
    fn rewrites_region_and_ids_inside_arns() {
        let m = mapping();
        let r = Rewriter {
            source_account: "111111111111",
            dest_account: "222222222222",
            source_region: "us-east-1",
            dest_region: "eu-west-1",
            mapping: &m,
        };
        assert_eq!(
            r.string("arn:aws:ec2:us-east-1:111111111111:vpc/vpc-111"),
            "arn:aws:ec2:eu-west-1:222222222222:vpc/vpc-999"
        );
        assert_eq!(r.string("no arn here"), "no arn here");
        assert_eq!(r.string("arn:broken"), "arn:broken");
    }
}
