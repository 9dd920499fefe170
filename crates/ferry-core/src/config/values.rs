//! Value checks shared by several tables: regions and availability zones,
//! partitions, the common parts of ARNs, and URLs. Each returns what is
//! wrong, phrased to follow a colon; the table's checker adds the key and the
//! position.

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

const DIRECTIONS: &[&str] = &[
    "north",
    "south",
    "east",
    "west",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
];

/// `Err(hint)` on failure; the message itself is fixed by the caller.
pub(super) fn check_region(region: &str) -> Result<(), Option<String>> {
    if is_region(region) {
        return Ok(());
    }
    if is_region(&region.to_ascii_lowercase()) {
        return Err(Some("region codes are lowercase".to_string()));
    }
    if let Some(r) = zone_region(region) {
        return Err(Some(format!(
            "{region} is an availability zone; its region is {r}"
        )));
    }
    Err(None)
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let (geo, rest) = match parts.as_slice() {
        [geo, "gov", rest @ ..] | [geo, rest @ ..] => (geo, rest),
        [] => return false,
    };
    let [direction, number] = rest else {
        return false;
    };
    geo.len() == 2
        && geo.chars().all(|c| c.is_ascii_lowercase())
        && DIRECTIONS.contains(direction)
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
        && !number.starts_with('0')
}

/// The region of an availability zone name, if it is one.
pub(super) fn zone_region(zone: &str) -> Option<&str> {
    let last = zone.chars().last()?;
    let region = &zone[..zone.len() - last.len_utf8()];
    (last.is_ascii_lowercase() && is_region(region)).then_some(region)
}

/// The partition a (valid) region belongs to.
pub(super) fn region_partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The `arn:<partition>:` start every ARN ferry reads shares.
pub(super) fn check_arn_head(
    prefix: &str,
    partition: &str,
    shape: impl Fn() -> Option<String>,
) -> Result<(), (String, Option<String>)> {
    if prefix != "arn" {
        return Err(("an ARN starts with `arn:`".to_string(), shape()));
    }
    if !PARTITIONS.contains(&partition) {
        return Err((
            format!(
                "unknown partition {partition:?}: expected {}",
                PARTITIONS.join(", ")
            ),
            None,
        ));
    }
    Ok(())
}

/// The account part of an ARN.
pub(super) fn check_account_id(
    account: &str,
    shape: impl Fn() -> Option<String>,
) -> Result<(), (String, Option<String>)> {
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(("account id must be 12 digits".to_string(), shape()));
    }
    Ok(())
}

/// The `host[:port]` (and any user info) after a URL's `scheme://`: up to
/// the first `/`, `?` or `#`.
pub(super) fn url_authority(rest: &str) -> &str {
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// An absolute http(s) URL with a plausible host and port, and no user
/// info (which may carry a password).
pub(super) fn check_url(url: &str) -> Result<(), String> {
    if url.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".to_string());
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err("expected an absolute URL starting with http:// or https://".to_string());
    };
    let authority = url_authority(rest);
    if authority.contains('@') {
        return Err("must not contain a user name or password".to_string());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err("unclosed `[` in the host".to_string());
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("invalid IPv6 host".to_string());
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 host".to_string()),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".to_string());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' || c == ':')
    {
        return Err("the host may only contain letters, digits, '-' and '.'".to_string());
    }
    if let Some(port) = port {
        if port.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
            return Err(format!("invalid port {port:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_regions() {
        for r in [
            "us-east-1",
            "eu-west-2",
            "ap-southeast-1",
            "us-gov-west-1",
            "cn-north-1",
            "il-central-1",
            "ca-west-1",
            "mx-central-1",
            "ap-northeast-3",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "us-east",
            "us-east-01",
            "useast-1",
            "us-up-1",
            "US-EAST-1",
            "us-east-1a",
            "",
        ] {
            assert!(!is_region(r), "{r}");
        }
    }
}
