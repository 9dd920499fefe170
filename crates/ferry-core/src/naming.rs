//! Destination bucket names: the `[naming]` policy applied to one source
//! bucket, and the S3 bucket naming rules both this and the config check use.
//!
//! S3 bucket names are global within a partition, so a bucket cannot keep its
//! name in another account. The name is computed at plan time from the source
//! bucket alone (never from what exists in the destination), so a re-run after
//! a crash computes the same name and finds the bucket it already created.

use sha2::{Digest, Sha256};

use crate::config::NamingConfig;
use crate::resource::SideInfo;

/// The longest bucket name S3 accepts.
pub const MAX_BUCKET_NAME: usize = 63;

/// Prefixes S3 reserves for itself (punycode, its own configurators, the names
/// used in its documentation).
const RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes S3 reserves for access point aliases, Object Lambda aliases,
/// Multi-Region Access Points, directory buckets and table buckets.
const RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// The destination name of the source bucket `source_name`.
///
/// An explicit rename in `[naming.buckets]` wins. Otherwise the template's
/// placeholders are filled in; if that makes the name longer than 63
/// characters, the `{name}` part is shortened (never the hash, which is what
/// keeps shortened names of similar buckets apart) without comment. Any other
/// invalid result is an error naming the source bucket and the result, since
/// only the user can choose a better name.
pub fn bucket_name(
    naming: &NamingConfig,
    source_name: &str,
    source: &SideInfo,
    dest: &SideInfo,
) -> Result<String, String> {
    if let Some(renamed) = naming.buckets.get(source_name) {
        return valid_bucket_name(renamed)
            .map(|()| renamed.clone())
            .map_err(|problem| {
                format!(
                    "[naming.buckets] maps source bucket {source_name:?} to {renamed:?}, \
                 which is not a valid bucket name: {problem}"
                )
            });
    }
    let hash = hash6(&source.account, source_name);
    let mut fixed = Vec::new();
    let mut name_slots = 0;
    for piece in pieces(&naming.bucket) {
        match piece {
            Piece::Literal(text) => fixed.push(Some(text.to_string())),
            Piece::Placeholder("name") => {
                name_slots += 1;
                fixed.push(None);
            }
            Piece::Placeholder(p) => fixed.push(Some(match p {
                "hash6" => hash.clone(),
                "account" => source.account.clone(),
                "region" => source.region.clone(),
                "dest_account" => dest.account.clone(),
                "dest_region" => dest.region.clone(),
                // Unknown placeholders are refused by the config check; kept
                // literally here, the braces then fail validation below.
                other => format!("{{{other}}}"),
            })),
        }
    }
    let fixed_len: usize = fixed.iter().flatten().map(String::len).sum();
    let full_len = fixed_len + name_slots * source_name.len();
    let name_part = if full_len > MAX_BUCKET_NAME && name_slots > 0 {
        let budget = MAX_BUCKET_NAME.saturating_sub(fixed_len) / name_slots;
        shorten(source_name, budget)
    } else {
        source_name
    };
    let result: String = fixed
        .iter()
        .map(|p| p.as_deref().unwrap_or(name_part))
        .collect();
    let checked = if name_slots > 0 && name_part.is_empty() {
        Err("the template leaves no room for the source name".to_string())
    } else {
        valid_bucket_name(&result)
    };
    match checked {
        Ok(()) => Ok(result),
        Err(problem) => Err(format!(
            "the destination name of source bucket {source_name:?} would be {result:?}, \
             which is not a valid bucket name: {problem}; choose one in [naming.buckets], \
             e.g. \"{source_name}\" = \"{}\"",
            example_name(source_name, &hash)
        )),
    }
}

/// Checks a name against S3's rules for general purpose buckets. The error
/// says what is wrong, phrased to follow a colon.
pub fn valid_bucket_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=MAX_BUCKET_NAME).contains(&len) {
        return Err(format!(
            "must be 3 to {MAX_BUCKET_NAME} characters long (got {len})"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        let why = if bad.is_ascii_uppercase() {
            "bucket names are lowercase"
        } else {
            "bucket names may only contain lowercase letters, digits, '.' and '-'"
        };
        return Err(format!("character {bad:?} is not allowed ({why})"));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(name.chars().next()) {
        return Err("must start with a lowercase letter or a digit".to_string());
    }
    if !alnum(name.chars().last()) {
        return Err("must end with a lowercase letter or a digit".to_string());
    }
    if name.contains("..") {
        return Err("must not contain two adjacent periods".to_string());
    }
    if is_ipv4_shaped(name) {
        return Err("must not be formatted as an IP address".to_string());
    }
    if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        return Err(format!("must not start with {prefix:?} (reserved by S3)"));
    }
    if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(**s)) {
        return Err(format!("must not end with {suffix:?} (reserved by S3)"));
    }
    Ok(())
}

/// First 6 hex digits of SHA-256 over `<source account>/<source bucket>`: the
/// account is included so that same-named buckets of two source accounts
/// migrated into one destination get different names.
pub fn hash6(source_account: &str, source_name: &str) -> String {
    let digest = Sha256::digest(format!("{source_account}/{source_name}").as_bytes());
    hex::encode(digest)[..6].to_string()
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into literal text and `{placeholder}`s. An unclosed `{`
/// stays literal (and then fails validation).
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.push(Piece::Literal(&rest[..open]));
        }
        out.push(Piece::Placeholder(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    out
}

/// The first `budget` bytes of `name` (on a character boundary), without
/// trailing '.' or '-' so the cut does not create ".." or a dangling
/// separator next to the template's own.
fn shorten(name: &str, budget: usize) -> &str {
    let mut end = budget.min(name.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].trim_end_matches(['.', '-'])
}

/// A valid name to suggest in an error: the source name reduced to legal
/// characters, shortened, with the hash.
fn example_name(source_name: &str, hash: &str) -> String {
    let cleaned: String = source_name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = shorten(cleaned.trim_matches('-'), MAX_BUCKET_NAME - 1 - hash.len());
    let candidate = if base.is_empty() {
        format!("bucket-{hash}")
    } else {
        format!("{base}-{hash}")
    };
    match valid_bucket_name(&candidate) {
        Ok(()) => candidate,
        Err(_) => format!("copy-{hash}"),
    }
}

/// Four dot-separated groups of 1 to 3 digits, the shape S3 refuses.
fn is_ipv4_shaped(name: &str) -> bool {
    let groups: Vec<&str> = name.split('.').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| (1..=3).contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn side(account: &str, region: &str) -> SideInfo {
        SideInfo {
            account: account.to_string(),
            region: region.to_string(),
            partition: "aws".to_string(),
        }
    }

    fn src() -> SideInfo {
        side("111111111111", "us-east-1")
    }

    fn dst() -> SideInfo {
        side("222222222222", "eu-west-1")
    }

    fn template(t: &str) -> NamingConfig {
        NamingConfig {
            bucket: t.to_string(),
            buckets: BTreeMap::new(),
        }
    }

    fn name(naming: &NamingConfig, source_name: &str) -> Result<String, String> {
        bucket_name(naming, source_name, &src(), &dst())
    }

    #[test]
    fn hash6_is_sha256_of_account_and_name() {
        // printf '111111111111/logs' | sha256sum: pinned, since changing it
        // would rename every bucket of a migration that is being resumed.
        assert_eq!(hash6("111111111111", "logs"), "f108c1");
        assert_ne!(hash6("111111111111", "logs"), hash6("333333333333", "logs"));
        assert_ne!(
            hash6("111111111111", "logs"),
            hash6("111111111111", "logs2")
        );
    }

    #[test]
    fn default_template_is_deterministic() {
        let naming = NamingConfig::default();
        let a = name(&naming, "logs").unwrap();
        assert_eq!(a, format!("logs-{}", hash6("111111111111", "logs")));
        assert_eq!(name(&naming, "logs").unwrap(), a);
        // The hash depends on the source, not on the destination.
        let elsewhere = bucket_name(&naming, "logs", &src(), &side("444444444444", "ap-south-1"));
        assert_eq!(elsewhere.unwrap(), a);
        let other_source = bucket_name(&naming, "logs", &side("333333333333", "us-east-1"), &dst());
        assert_ne!(other_source.unwrap(), a);
    }

    #[test]
    fn every_placeholder_is_filled() {
        let naming = template("{name}.{hash6}.{account}.{region}.{dest_account}.{dest_region}");
        assert_eq!(
            name(&naming, "data").unwrap(),
            format!(
                "data.{}.111111111111.us-east-1.222222222222.eu-west-1",
                hash6("111111111111", "data")
            )
        );
        assert_eq!(
            name(&template("copy-of-{name}"), "data").unwrap(),
            "copy-of-data"
        );
        assert_eq!(
            name(&template("{hash6}"), "data").unwrap(),
            hash6("111111111111", "data")
        );
    }

    #[test]
    fn explicit_rename_wins() {
        let mut naming = NamingConfig::default();
        naming.buckets.insert(
            "legacy-assets".to_string(),
            "assets.example.com".to_string(),
        );
        assert_eq!(
            name(&naming, "legacy-assets").unwrap(),
            "assets.example.com"
        );
        // Others still follow the template.
        assert!(name(&naming, "other").unwrap().starts_with("other-"));
        // A rename is used as written, even for a source name the template
        // could not handle.
        naming
            .buckets
            .insert("Old_Bucket".to_string(), "old-bucket".to_string());
        assert_eq!(name(&naming, "Old_Bucket").unwrap(), "old-bucket");
    }

    #[test]
    fn invalid_rename_is_an_error() {
        let mut naming = NamingConfig::default();
        naming
            .buckets
            .insert("src".to_string(), "Bad_Name".to_string());
        let e = name(&naming, "src").unwrap_err();
        assert!(e.contains("\"src\"") && e.contains("\"Bad_Name\""), "{e}");
        assert!(e.contains("character 'B' is not allowed"), "{e}");
    }

    #[test]
    fn long_names_are_shortened_keeping_the_hash() {
        let long = "a".repeat(63);
        let n = name(&NamingConfig::default(), &long).unwrap();
        assert_eq!(n.len(), 63);
        let hash = hash6("111111111111", &long);
        assert_eq!(n, format!("{}-{hash}", "a".repeat(56)));
        // Deterministic, and two long names sharing a prefix stay apart.
        assert_eq!(name(&NamingConfig::default(), &long).unwrap(), n);
        let long2 = format!("{}b", "a".repeat(62));
        let n2 = name(&NamingConfig::default(), &long2).unwrap();
        assert_eq!(n2.len(), 63);
        assert_ne!(n, n2);
        // Exactly 63 is left alone.
        let fits = "c".repeat(56);
        assert_eq!(
            name(&NamingConfig::default(), &fits).unwrap(),
            format!("{fits}-{}", hash6("111111111111", &fits))
        );
    }

    #[test]
    fn shortening_shares_the_room_between_name_slots() {
        let long = "x".repeat(40);
        let n = name(&template("{name}-{name}-{hash6}"), &long).unwrap();
        // 63 - 2 separators - 6 hash = 55, 27 per slot.
        assert_eq!(
            n,
            format!("{0}-{0}-{1}", "x".repeat(27), hash6("111111111111", &long))
        );
        assert!(n.len() <= 63);
    }

    #[test]
    fn shortening_does_not_leave_separators_at_the_cut() {
        // The cut falls right after a '.', which would give ".." before ".x".
        let source = format!("{}.{}", "a".repeat(55), "b".repeat(20));
        let n = name(&template("{name}.{hash6}"), &source).unwrap();
        assert_eq!(
            n,
            format!("{}.{}", "a".repeat(55), hash6("111111111111", &source))
        );
        valid_bucket_name(&n).unwrap();
        let source = format!("{}-{}", "a".repeat(55), "b".repeat(20));
        let n = name(&NamingConfig::default(), &source).unwrap();
        assert_eq!(
            n,
            format!("{}-{}", "a".repeat(55), hash6("111111111111", &source))
        );
    }

    #[test]
    fn dotted_names_keep_their_dots() {
        let n = name(&NamingConfig::default(), "assets.example.com").unwrap();
        assert_eq!(
            n,
            format!(
                "assets.example.com-{}",
                hash6("111111111111", "assets.example.com")
            )
        );
        valid_bucket_name(&n).unwrap();
    }

    #[test]
    fn invalid_template_results_name_the_source_and_suggest_a_rename() {
        // A legacy us-east-1 name with capitals and underscores.
        let e = name(&NamingConfig::default(), "My_Bucket").unwrap_err();
        assert!(e.contains("source bucket \"My_Bucket\""), "{e}");
        assert!(
            e.contains(&format!(
                "\"My_Bucket-{}\"",
                hash6("111111111111", "My_Bucket")
            )),
            "{e}"
        );
        assert!(e.contains("character 'M' is not allowed"), "{e}");
        assert!(e.contains("[naming.buckets]"), "{e}");
        // The suggested rename is itself valid.
        let suggested = e.rsplit("= \"").next().unwrap().trim_end_matches('"');
        valid_bucket_name(suggested).unwrap();
        assert!(suggested.starts_with("my-bucket-"), "{suggested}");

        // A reserved prefix the source name brings with it.
        let e = name(&template("{name}"), "xn--abc").unwrap_err();
        assert!(e.contains("must not start with \"xn--\""), "{e}");
        // Too long without a {name} to shorten.
        let long = format!("{}-{{hash6}}", "p".repeat(60));
        let e = name(&template(&long), "data").unwrap_err();
        assert!(
            e.contains("must be 3 to 63 characters long (got 67)"),
            "{e}"
        );
        // A template that leaves no room for any of the name.
        let long = format!("{}-{{name}}", "p".repeat(62));
        let e = name(&template(&long), "data").unwrap_err();
        assert!(e.contains("no room for the source name"), "{e}");
        // Too short.
        let e = name(&template("{name}"), "ab").unwrap_err();
        assert!(e.contains("(got 2)"), "{e}");
    }

    #[test]
    fn valid_names() {
        for n in [
            "abc",
            "my-bucket",
            "my.bucket.example.com",
            "0bucket9",
            "a-b.c-d",
            "192.168.5",
            "1.2.3.4.5",
            &"a".repeat(63),
            "xn-abc",
            "bucket-s3alias-x",
        ] {
            assert_eq!(valid_bucket_name(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn every_invalid_shape_is_refused() {
        let cases: &[(&str, &str)] = &[
            ("ab", "3 to 63 characters long (got 2)"),
            ("", "(got 0)"),
            (&"a".repeat(64), "(got 64)"),
            (
                "My-bucket",
                "character 'M' is not allowed (bucket names are lowercase)",
            ),
            (
                "my_bucket",
                "character '_' is not allowed (bucket names may only",
            ),
            ("my bucket", "character ' ' is not allowed"),
            ("bücket", "character 'ü' is not allowed"),
            ("-bucket", "must start with a lowercase letter or a digit"),
            (".bucket", "must start with"),
            ("bucket-", "must end with a lowercase letter or a digit"),
            ("bucket.", "must end with"),
            ("my..bucket", "two adjacent periods"),
            ("192.168.5.4", "formatted as an IP address"),
            ("1.1.1.1", "formatted as an IP address"),
            ("xn--bucket", "must not start with \"xn--\""),
            ("sthree-bucket", "must not start with \"sthree-\""),
            ("sthree-configurator", "must not start with \"sthree-\""),
            (
                "amzn-s3-demo-bucket",
                "must not start with \"amzn-s3-demo-\"",
            ),
            ("bucket-s3alias", "must not end with \"-s3alias\""),
            ("bucket--ol-s3", "must not end with \"--ol-s3\""),
            ("bucket.mrap", "must not end with \".mrap\""),
            ("bucket--x-s3", "must not end with \"--x-s3\""),
            ("bucket--table-s3", "must not end with \"--table-s3\""),
        ];
        for (n, needle) in cases {
            let e = valid_bucket_name(n).unwrap_err();
            assert!(e.contains(needle), "{n:?}: {needle:?} not in {e:?}");
        }
    }
}
