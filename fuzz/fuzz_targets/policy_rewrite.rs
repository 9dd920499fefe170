//! The policy-document rewriter (`ferry_core::rewrite`) and the spec
//! translator that applies it (`ferry_core::translate`), with properties:
//!
//! - the output is JSON that reads back equal, and every finding has a path
//!   into the document (`$...`);
//! - rewriting onto the same account and region, with every mapped ID and
//!   bucket mapped to itself, changes nothing (the rewriter and the
//!   translator);
//! - rewriting source -> destination, then destination -> source with the
//!   inverse mappings, gives the original back, wherever that is well
//!   defined: the document names nothing of the destination's (account,
//!   region, mapped ID, bucket name) that differs from the source's.
//!
//! Input: text starting with `{` or `[` is a JSON document (the seeds are
//! real policies), rewritten under three fixed setups; anything else drives a
//! generator of setups and documents made of the pieces that matter (accounts,
//! regions, ARNs, IDs, bucket names, policy keys, policy variables, host
//! names).
#![no_main]

use arbitrary::{Result, Unstructured};
use ferry_core::rewrite::Rewriter;
use ferry_core::translate::Translator;
use ferry_core::{Key, Kind, Mapping, SideInfo};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const ACCOUNTS: &[&str] = &["111111111111", "222222222222", "333333333333"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "us-west-2", "cn-north-1"];
const ID_PREFIXES: &[&str] = &["vpc-", "vpce-", "sg-", "subnet-", "i-", "ami-", "rtb-"];
const BUCKETS: &[(&str, &str)] = &[
    ("app-data", "app-data-eu"),
    ("logs-a", "archive-a"),
    ("assets.example.com", "assets.example.org"),
];
const KEYS: &[&str] = &[
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "StringEquals",
    "ArnLike",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:RequestedRegion",
    "kms:ViaService",
    "aws:SourceVpce",
];
const PIECES: &[&str] = &[
    "arn:",
    "arn:aws:",
    "arn:aws-cn:",
    "iam",
    "s3",
    "ec2",
    "sns",
    "kms",
    "logs",
    ":",
    "::",
    ":::",
    "/",
    "*",
    "?",
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "${",
    "}",
    "role/",
    "root",
    "key/",
    "AWSLogs/",
    ".",
    ".amazonaws.com",
    ".amazonaws.com.cn",
    "com.amazonaws.",
    "ec2.",
    "logs.",
    "-",
    " ",
    ",",
    "\"",
    "learn:",
    "0",
    "1",
    "a",
];

/// Who is rewritten to whom, and through what.
#[derive(Debug, Clone)]
struct Setup {
    source_account: String,
    dest_account: String,
    source_region: String,
    dest_region: String,
    /// Source ID -> destination ID.
    ids: Vec<(String, String)>,
    buckets: BTreeMap<String, String>,
}

impl Setup {
    fn fixed(
        source_account: &str,
        dest_account: &str,
        source_region: &str,
        dest_region: &str,
    ) -> Setup {
        Setup {
            source_account: source_account.into(),
            dest_account: dest_account.into(),
            source_region: source_region.into(),
            dest_region: dest_region.into(),
            ids: ID_PREFIXES
                .iter()
                .map(|p| (format!("{p}0a1"), format!("{p}0b1")))
                .collect(),
            buckets: BUCKETS
                .iter()
                .map(|(s, d)| (s.to_string(), d.to_string()))
                .collect(),
        }
    }

    fn arbitrary(u: &mut Unstructured) -> Result<Setup> {
        let mut ids = vec![];
        for (n, p) in ID_PREFIXES.iter().enumerate() {
            if u.arbitrary()? {
                ids.push((format!("{p}0a{n}"), format!("{p}0b{n}")));
            }
        }
        let mut buckets = BTreeMap::new();
        for (s, d) in BUCKETS {
            match u.int_in_range(0..=2)? {
                0 => {}
                1 => {
                    buckets.insert(s.to_string(), d.to_string());
                }
                _ => {
                    buckets.insert(s.to_string(), s.to_string());
                }
            }
        }
        Ok(Setup {
            source_account: u.choose(ACCOUNTS)?.to_string(),
            dest_account: u.choose(ACCOUNTS)?.to_string(),
            source_region: u.choose(REGIONS)?.to_string(),
            dest_region: u.choose(REGIONS)?.to_string(),
            ids,
            buckets,
        })
    }

    fn mapping(&self) -> Mapping {
        self.ids
            .iter()
            .map(|(s, d)| {
                (
                    Key::new(Kind::from_id(s).expect("id prefix"), s.clone()),
                    d.clone(),
                )
            })
            .collect()
    }

    fn inverse(&self) -> Setup {
        Setup {
            source_account: self.dest_account.clone(),
            dest_account: self.source_account.clone(),
            source_region: self.dest_region.clone(),
            dest_region: self.source_region.clone(),
            ids: self
                .ids
                .iter()
                .map(|(s, d)| (d.clone(), s.clone()))
                .collect(),
            buckets: self
                .buckets
                .iter()
                .map(|(s, d)| (d.clone(), s.clone()))
                .collect(),
        }
    }

    /// The source onto itself: same account and region, everything mapped
    /// to itself.
    fn identity(&self) -> Setup {
        Setup {
            dest_account: self.source_account.clone(),
            dest_region: self.source_region.clone(),
            ids: self
                .ids
                .iter()
                .map(|(s, _)| (s.clone(), s.clone()))
                .collect(),
            buckets: self
                .buckets
                .keys()
                .map(|s| (s.clone(), s.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// What of the destination's differs from the source's: a document
    /// naming any of it cannot be rewritten back unambiguously.
    fn destination_only(&self) -> Vec<&str> {
        let mut out = vec![];
        if self.dest_account != self.source_account {
            out.push(self.dest_account.as_str());
        }
        if self.dest_region != self.source_region {
            out.push(self.dest_region.as_str());
        }
        out.extend(
            self.ids
                .iter()
                .filter(|(s, d)| s != d)
                .map(|(_, d)| d.as_str()),
        );
        out.extend(
            self.buckets
                .iter()
                .filter(|(s, d)| s != d)
                .map(|(_, d)| d.as_str()),
        );
        out
    }

    fn rewrite(&self, doc: &Value) -> (Value, Vec<ferry_core::rewrite::Finding>) {
        let mapping = self.mapping();
        Rewriter {
            source_account: &self.source_account,
            dest_account: &self.dest_account,
            source_region: &self.source_region,
            dest_region: &self.dest_region,
            mapping: &mapping,
        }
        .with_buckets(&self.buckets)
        .rewrite(doc)
    }

    fn translate(&self, spec: &Value) -> Value {
        let side = |account: &str, region: &str| SideInfo {
            account: account.into(),
            region: region.into(),
            partition: "aws".into(),
        };
        let (source, dest) = (
            side(&self.source_account, &self.source_region),
            side(&self.dest_account, &self.dest_region),
        );
        let mapping = self.mapping();
        Translator {
            source: &source,
            dest: &dest,
            zones: &BTreeMap::new(),
            dest_zones: &[],
            mapping: &mapping,
            buckets: &self.buckets,
        }
        .spec(spec)
        .value
    }
}

/// Every string in `v`, object keys included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

fn check(setup: &Setup, doc: &Value) {
    // Valid JSON, findings with paths.
    let (out, findings) = setup.rewrite(doc);
    let text = serde_json::to_string(&out).expect("serialises");
    let back: Value = serde_json::from_str(&text).expect("the output is valid JSON");
    assert_eq!(back, out, "the output reads back equal");
    for f in &findings {
        assert!(f.path.starts_with('$'), "finding without a path: {f:?}");
    }

    // Identity.
    let id = setup.identity();
    assert_eq!(
        id.rewrite(doc).0,
        *doc,
        "rewriting onto itself changed the document"
    );
    assert_eq!(
        id.translate(doc),
        *doc,
        "translating onto itself changed the spec"
    );

    // There and back.
    let mut all = vec![];
    strings(doc, &mut all);
    let theirs = setup.destination_only();
    if !all.iter().any(|s| theirs.iter().any(|t| s.contains(t))) {
        let again = setup.inverse().rewrite(&out).0;
        assert_eq!(
            again, *doc,
            "rewritten there and back differs (there: {out})"
        );
    }
}

fn string(u: &mut Unstructured, setup: &Setup) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=8)? {
        match u.int_in_range(0..=9)? {
            0 => s.push_str(u.choose(ACCOUNTS)?),
            1 => s.push_str(&setup.source_account),
            2 => s.push_str(u.choose(REGIONS)?),
            3 => s.push_str(&setup.source_region),
            4 => {
                if let Ok((a, b)) = u.choose(&setup.ids) {
                    s.push_str(if u.arbitrary()? { a } else { b });
                }
            }
            5 => {
                let (a, b) = u.choose(BUCKETS)?;
                s.push_str(if u.arbitrary()? { a } else { b });
            }
            6 => s.push_str(&format!(
                "arn:aws:{}:{}:{}:{}",
                u.choose(&["s3", "iam", "ec2", "sns", "logs"])?,
                u.choose(&["", setup.source_region.as_str(), "*", "eu-west-1"])?,
                u.choose(&["", setup.source_account.as_str(), "*", "333333333333"])?,
                u.choose(&[
                    "root",
                    "role/app",
                    "*",
                    "vpc/",
                    "app-data/AWSLogs/",
                    "key/${aws:username}"
                ])?,
            )),
            7 => s.push_str(&format!(
                "{}.{}.amazonaws.com",
                u.choose(&["ec2", "logs", "s3"])?,
                u.choose(REGIONS)?
            )),
            8 => s.push_str(u.arbitrary::<&str>()?),
            _ => s.push_str(u.choose(PIECES)?),
        }
    }
    Ok(s)
}

fn value(u: &mut Unstructured, setup: &Setup, depth: u32) -> Result<Value> {
    let pick = if depth >= 4 {
        u.int_in_range(0..=3)?
    } else {
        u.int_in_range(0..=7)?
    };
    Ok(match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i32>()?),
        3 | 4 => Value::String(string(u, setup)?),
        5 => Value::Array(
            (0..u.int_in_range(0..=4)?)
                .map(|_| value(u, setup, depth + 1))
                .collect::<Result<_>>()?,
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=5)? {
                let key = if u.ratio(3, 4)? {
                    u.choose(KEYS)?.to_string()
                } else {
                    string(u, setup)?
                };
                m.insert(key, value(u, setup, depth + 1)?);
            }
            Value::Object(m)
        }
    })
}

fn generated(data: &[u8]) -> Result<(Setup, Value)> {
    let mut u = Unstructured::new(data);
    let setup = Setup::arbitrary(&mut u)?;
    let doc = value(&mut u, &setup, 0)?;
    Ok((setup, doc))
}

fuzz_target!(|data: &[u8]| {
    let trimmed = data.trim_ascii_start();
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        let Ok(doc) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        for setup in [
            Setup::fixed("111111111111", "222222222222", "us-east-1", "eu-west-1"),
            Setup::fixed("111111111111", "111111111111", "us-east-1", "eu-west-1"),
            Setup::fixed("111111111111", "222222222222", "us-east-1", "us-east-1"),
        ] {
            check(&setup, &doc);
        }
    } else if let Ok((setup, doc)) = generated(data) {
        check(&setup, &doc);
    }
});
