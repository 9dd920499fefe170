//! `[source]` and `[destination]`: how ferry reaches each account (region,
//! profile, role to assume, endpoints), and the refusal of credentials, which
//! ferry takes only from the standard AWS chain.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::{did_you_mean, Locator};
use super::values::{check_account_id, check_arn_head, check_region, check_url, region_partition};
use super::{Checker, ConfigError};

/// Service ids accepted as keys of `[*.endpoints]` and as the `<service>` part of
/// `[apply.rate_limits]` keys. Both the SDK names and the signing names are
/// accepted (`elbv2`/`elasticloadbalancing`, `cloudwatch`/`monitoring`), since
/// users copy whichever their VPC endpoint or AWS documentation shows.
pub const ENDPOINT_SERVICES: &[&str] = &[
    "ec2",
    "sts",
    "iam",
    "s3",
    "elasticloadbalancing",
    "elbv2",
    "autoscaling",
    "cloudwatch",
    "monitoring",
    "kms",
    "acm",
    "sns",
    "sqs",
    "s3control",
    "ssm",
    "logs",
];

/// Key names that would hold credentials. Matched case-insensitively and with
/// `-` read as `_`, anywhere in the document, before any other check, so the
/// refusal wins over "unknown key" messages that might show surrounding text.
const SECRET_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "access_key_id",
    "access_key",
    "secret_access_key",
    "secret_key",
    "session_token",
];

/// The keys of a side's table; named in the hint for one written outside it.
pub(super) const SIDE_KEYS: &[&str] = &[
    "region",
    "profile",
    "role_arn",
    "external_id",
    "session_name",
    "endpoint_url",
    "endpoints",
];

/// How to reach one account: base credentials come from the standard chain
/// (optionally a named profile), then `role_arn` is assumed if set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideConfig {
    pub region: String,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    /// Only meaningful with `role_arn`; rejected without it rather than ignored.
    pub external_id: Option<String>,
    /// Only meaningful with `role_arn`; shows up in CloudTrail.
    pub session_name: Option<String>,
    /// One URL for every service (emulators).
    pub endpoint_url: Option<String>,
    /// Per-service URLs (VPC interface endpoints); win over `endpoint_url`.
    pub endpoints: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawSide {
    region: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    role_arn: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    session_name: Option<Spanned<String>>,
    endpoint_url: Option<Spanned<String>>,
    endpoints: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

pub(super) struct CheckedSide {
    pub(super) config: SideConfig,
    /// Zone checks compare against the region only when it is itself valid,
    /// so one typo does not produce a cascade of errors.
    pub(super) region_ok: bool,
}

impl Checker<'_> {
    pub(super) fn side(&mut self, name: &str, raw: Option<Spanned<RawSide>>) -> CheckedSide {
        let mut config = SideConfig {
            region: String::new(),
            profile: None,
            role_arn: None,
            external_id: None,
            session_name: None,
            endpoint_url: None,
            endpoints: BTreeMap::new(),
        };
        let Some(raw) = raw else {
            let example = if name == "source" {
                "us-east-1"
            } else {
                "eu-west-1"
            };
            self.error_nowhere(
                format!("missing [{name}] table"),
                Some(format!(
                    "add `[{name}]` with at least `region = \"{example}\"` \
                     (`ferry init` writes a commented skeleton)"
                )),
            );
            return CheckedSide {
                config,
                region_ok: false,
            };
        };
        let table_span = raw.span();
        let raw = raw.into_inner();

        let mut region_ok = false;
        match raw.region {
            None => self.error_at(
                table_span.start,
                format!("[{name}] has no `region`"),
                Some("add e.g. `region = \"us-east-1\"`".to_string()),
            ),
            Some(region) => {
                match check_region(region.get_ref()) {
                    Ok(()) => region_ok = true,
                    Err(hint) => self.error_at(
                        region.span().start,
                        format!(
                            "invalid region {:?}: expected a name like us-east-1 or eu-west-2",
                            region.get_ref()
                        ),
                        hint,
                    ),
                }
                config.region = region.into_inner();
            }
        }

        if let Some(profile) = raw.profile {
            if profile.get_ref().trim().is_empty() {
                self.error_at(
                    profile.span().start,
                    "profile must not be empty".to_string(),
                    Some("remove the key to use the default credential chain".to_string()),
                );
            }
            config.profile = Some(profile.into_inner());
        }

        if let Some(arn) = &raw.role_arn {
            match check_role_arn(arn.get_ref()) {
                Err((problem, hint)) => self.error_at(
                    arn.span().start,
                    format!("invalid role_arn {:?}: {problem}", arn.get_ref()),
                    hint,
                ),
                Ok(partition) if region_ok => {
                    let expected = region_partition(&config.region);
                    if partition != expected {
                        self.error_at(
                            arn.span().start,
                            format!(
                                "role_arn is in partition {partition} but region {} is in {expected}",
                                config.region
                            ),
                            Some("a role can only be assumed inside its own partition".to_string()),
                        );
                    }
                }
                Ok(_) => {}
            }
        }
        let has_role = raw.role_arn.is_some();

        if let Some(id) = raw.external_id {
            if self.role_only(name, "external_id", &id, has_role) {
                if let Err(problem) = check_external_id(id.get_ref()) {
                    // The value is not repeated: some teams treat external ids
                    // as shared secrets even though AWS does not.
                    self.error_at(
                        id.span().start,
                        format!("invalid external_id: {problem}"),
                        None,
                    );
                }
            }
            config.external_id = Some(id.into_inner());
        }

        if let Some(session) = raw.session_name {
            if self.role_only(name, "session_name", &session, has_role) {
                if let Err(problem) = check_session_name(session.get_ref()) {
                    self.error_at(
                        session.span().start,
                        format!("invalid session_name {:?}: {problem}", session.get_ref()),
                        None,
                    );
                }
            }
            config.session_name = Some(session.into_inner());
        }
        config.role_arn = raw.role_arn.map(Spanned::into_inner);

        if let Some(url) = raw.endpoint_url {
            self.url("endpoint_url", &url);
            config.endpoint_url = Some(url.into_inner());
        }

        for (service, url) in raw.endpoints.unwrap_or_default() {
            if let Err(hint) = check_service(service.get_ref()) {
                self.error_at(
                    service.span().start,
                    format!(
                        "unknown service {:?} in [{name}.endpoints]: {}",
                        service.get_ref(),
                        accepted_services()
                    ),
                    hint,
                );
            }
            self.url(&format!("endpoint for {}", service.get_ref()), &url);
            config
                .endpoints
                .insert(service.into_inner(), url.into_inner());
        }

        CheckedSide { config, region_ok }
    }

    /// Whether `key`, which only matters when assuming a role, can be
    /// checked further; reports it when the side has no `role_arn`.
    fn role_only(
        &mut self,
        side: &str,
        key: &str,
        value: &Spanned<String>,
        has_role: bool,
    ) -> bool {
        if !has_role {
            self.error_at(
                value.span().start,
                format!("{key} is only used when assuming a role, and [{side}] has no role_arn"),
                Some(format!("set role_arn in [{side}], or remove {key}")),
            );
        }
        has_role
    }

    fn url(&mut self, what: &str, url: &Spanned<String>) {
        if let Err(problem) = check_url(url.get_ref()) {
            // A URL with user info may carry a password: do not repeat it.
            let message = if url.get_ref().contains('@') {
                format!("invalid {what}: {problem}")
            } else {
                format!("invalid {what} {:?}: {problem}", url.get_ref())
            };
            self.error_at(url.span().start, message, None);
        }
    }
}

/// `Err(hint)` when `service` is not one ferry talks to (a near miss gets a
/// "did you mean").
pub(super) fn check_service(service: &str) -> Result<(), Option<String>> {
    if ENDPOINT_SERVICES.contains(&service) {
        Ok(())
    } else {
        Err(did_you_mean(service, ENDPOINT_SERVICES))
    }
}

/// Follows "unknown service ...: " in messages.
pub(super) fn accepted_services() -> String {
    format!("accepted services are {}", ENDPOINT_SERVICES.join(", "))
}

pub(super) fn is_secret_key(key: &str) -> bool {
    let normalised = key.trim().to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.contains(&normalised.as_str())
}

/// The refusal of a credential key found at `offset`. Only the key is
/// named: the value is never repeated.
pub(super) fn credentials_refused(loc: &Locator<'_>, offset: usize, key: &str) -> ConfigError {
    loc.at(
        offset,
        format!(
            "`{key}`: access keys are not accepted in ferry.toml; \
             ferry uses the standard AWS credential chain"
        ),
        Some(
            "remove this line (and rotate the key if the file was shared); provide \
             credentials through the environment, ~/.aws profiles, SSO or an instance \
             role, and select them with `profile` or `role_arn`"
                .to_string(),
        ),
    )
}

fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// Returns the partition on success.
fn check_role_arn(arn: &str) -> Result<&str, (String, Option<String>)> {
    let shape = || Some("expected arn:aws:iam::<12-digit account id>:role/<name>".to_string());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(("not an ARN".to_string(), shape()));
    };
    check_arn_head(prefix, partition, shape)?;
    if *service != "iam" {
        let hint = if *service == "sts" {
            Some(
                "that looks like an assumed-role session ARN; use the role's own ARN, \
                 arn:aws:iam::<account id>:role/<name>"
                    .to_string(),
            )
        } else {
            shape()
        };
        return Err((format!("service must be iam (got {service:?})"), hint));
    }
    if !region.is_empty() {
        return Err((format!("IAM ARNs have no region (got {region:?})"), shape()));
    }
    check_account_id(account, shape)?;
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err((
            "resource must be role/<name>".to_string(),
            Some("only roles can be assumed; users and groups cannot".to_string()),
        ));
    };
    let segments: Vec<&str> = path_and_name.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    if name.is_empty() {
        return Err(("role name is missing after role/".to_string(), shape()));
    }
    if name.len() > 64 {
        return Err(("role name is longer than 64 characters".to_string(), None));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err(("role path has an empty segment (`//`)".to_string(), None));
    }
    if let Some(bad) = path_and_name
        .chars()
        .find(|c| *c != '/' && !is_iam_name_char(*c))
    {
        return Err((
            format!("character {bad:?} is not allowed in a role path or name"),
            Some("role names use letters, digits and +=,.@_-".to_string()),
        ));
    }
    Ok(partition)
}

fn check_external_id(id: &str) -> Result<(), String> {
    let len = id.chars().count();
    if !(2..=1224).contains(&len) {
        return Err("must be 2 to 1224 characters long".to_string());
    }
    if !id
        .chars()
        .all(|c| is_iam_name_char(c) || c == ':' || c == '/')
    {
        return Err("may only contain letters, digits and +=,.@:/_-".to_string());
    }
    Ok(())
}

fn check_session_name(name: &str) -> Result<(), String> {
    if !(2..=64).contains(&name.len()) {
        return Err("must be 2 to 64 characters long".to_string());
    }
    if !name.chars().all(is_iam_name_char) {
        return Err("may only contain letters, digits and +=,.@_-".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn sides_and_regions_are_required() {
        let e = err("[destination]\nregion = \"eu-west-1\"\n");
        assert_eq!((e.line, e.column), (None, None));
        assert_eq!(e.message, "missing [source] table");
        assert!(e.hint.as_deref().unwrap().contains("ferry init"));
        assert_eq!(
            e.to_string().lines().next(),
            Some("ferry.toml: missing [source] table")
        );

        let e = err("[source]\nregion = \"us-east-1\"\n");
        assert_eq!(e.message, "missing [destination] table");

        assert_err(
            "[source]\nprofile = \"p\"\n[destination]\nregion = \"eu-west-1\"\n",
            1,
            1,
            "[source] has no `region`",
        );
        assert_err(
            "[source]\nregion = \"us-east-1\"\n\n[destination]\n",
            4,
            1,
            "[destination] has no `region`",
        );
        // A located error wins over one without a position.
        assert_err("[source]\nregion = \"nowhere\"\n", 2, 10, "invalid region");
    }

    #[test]
    fn invalid_regions() {
        let e = assert_err(
            "[source]\nregion = \"us-east-1a\"\n[destination]\nregion = \"eu-west-1\"\n",
            2,
            10,
            "invalid region \"us-east-1a\"",
        );
        assert!(e.hint.unwrap().contains("its region is us-east-1"));
        let e = assert_err(
            "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"EU-WEST-1\"\n",
            4,
            10,
            "invalid region",
        );
        assert!(e.hint.unwrap().contains("lowercase"));
        let e = assert_err(
            "[source]\nregion = \"us-east-1\"\n[destination]\n  region   =   'moon'\n",
            4,
            16,
            "invalid region \"moon\": expected a name like us-east-1 or eu-west-2",
        );
        assert_eq!(e.hint, None);
    }

    #[test]
    fn role_arn_problems_are_explained() {
        let cases = [
            (
                "arn:aws:iam::12345678901:role/ferry",
                "account id must be 12 digits",
            ),
            (
                "arn:aws:iam::1234567890ab:role/ferry",
                "account id must be 12 digits",
            ),
            (
                "arn:azure:iam::111111111111:role/ferry",
                "unknown partition \"azure\"",
            ),
            ("arn:aws:s3::111111111111:role/ferry", "service must be iam"),
            (
                "arn:aws:iam:us-east-1:111111111111:role/ferry",
                "IAM ARNs have no region",
            ),
            (
                "arn:aws:iam::111111111111:user/ferry",
                "resource must be role/<name>",
            ),
            ("arn:aws:iam::111111111111:role/", "role name is missing"),
            ("arn:aws:iam::111111111111:role/a//b", "empty segment"),
            ("arn:aws:iam::111111111111:role/fer ry", "not allowed"),
            ("aws:iam::111111111111:role/ferry", "not an ARN"),
            (
                "ARN:aws:iam::111111111111:role/ferry:x",
                "starts with `arn:`",
            ),
        ];
        for (arn, needle) in cases {
            let e = assert_err(&side_with(&format!("role_arn = {arn:?}")), 3, 12, needle);
            assert!(e.message.starts_with("invalid role_arn"), "{e}");
        }
        let e = assert_err(
            &side_with("role_arn = \"arn:aws:sts::111111111111:assumed-role/ferry/me\""),
            3,
            12,
            "service must be iam",
        );
        assert!(e.hint.unwrap().contains("assumed-role"));
    }

    #[test]
    fn role_arn_partition_must_match_region() {
        let e = assert_err(
            "[source]\nregion = \"cn-north-1\"\nrole_arn = \"arn:aws:iam::111111111111:role/f\"\n[destination]\nregion = \"eu-west-1\"\n",
            3,
            12,
            "partition aws but region cn-north-1 is in aws-cn",
        );
        assert!(e.hint.is_some());
        parse("[source]\nregion = \"cn-north-1\"\nrole_arn = \"arn:aws-cn:iam::111111111111:role/f\"\n[destination]\nregion = \"eu-west-1\"\n").unwrap();
    }

    #[test]
    fn urls_must_be_absolute_http() {
        let cases = [
            ("ftp://host", "http:// or https://"),
            ("127.0.0.1:5000", "http:// or https://"),
            ("http://", "has no host"),
            ("http:///path", "has no host"),
            ("http://host:99999", "invalid port"),
            ("http://host:", "invalid port"),
            ("http://ho st", "spaces"),
            ("http://[::1", "unclosed"),
            ("http://h*st", "host may only contain"),
        ];
        for (url, needle) in cases {
            let e = assert_err(
                &side_with(&format!("endpoint_url = {url:?}")),
                3,
                16,
                needle,
            );
            assert!(e.message.starts_with("invalid endpoint_url"), "{e}");
        }
        for url in [
            "http://localhost",
            "https://a.b.c:443/x?y#z",
            "http://[::1]:80",
        ] {
            parse(&side_with(&format!("endpoint_url = {url:?}"))).unwrap();
        }
    }

    #[test]
    fn url_with_credentials_is_refused_without_echo() {
        let e = assert_err(
            &side_with("endpoint_url = \"http://user:hunter2@host\""),
            3,
            16,
            "user name or password",
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn endpoints_need_known_services_and_urls() {
        let text = "[source]\nregion = \"us-east-1\"\n[source.endpoints]\nec2 = \"https://x\"\nec3 = \"https://y\"\n[destination]\nregion = \"eu-west-1\"\n";
        let e = assert_err(text, 5, 1, "unknown service \"ec3\" in [source.endpoints]");
        assert!(e.message.contains("ec2, sts, iam, s3"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `ec2`?"));

        let text = "[source]\nregion = \"us-east-1\"\n[destination]\nregion = \"eu-west-1\"\nendpoints = { s3 = \"s3.local\" }\n";
        assert_err(text, 5, 20, "invalid endpoint for s3 \"s3.local\"");
    }

    #[test]
    fn profile_external_id_and_session_name() {
        assert_err(
            &side_with("profile = \"  \""),
            3,
            11,
            "profile must not be empty",
        );
        let e = assert_err(
            &side_with("external_id = \"abc\""),
            3,
            15,
            "external_id is only used when assuming a role",
        );
        assert!(!e.to_string().contains("abc"));
        assert_err(
            &side_with("session_name = \"abc\""),
            3,
            16,
            "session_name is only used when assuming a role",
        );
        let role = "role_arn = \"arn:aws:iam::111111111111:role/f\"";
        let e = assert_err(
            &side_with(&format!("{role}\nexternal_id = \"x y\"")),
            4,
            15,
            "invalid external_id: may only contain",
        );
        assert!(!e.to_string().contains("x y"));
        assert_err(
            &side_with(&format!("{role}\nsession_name = \"x\"")),
            4,
            16,
            "invalid session_name",
        );
    }

    #[test]
    fn secret_keys_are_refused_without_echoing_the_value() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let cases = [
            (
                format!("aws_secret_access_key = \"{secret}\"\n{MINIMAL}"),
                1,
                1,
            ),
            (
                side_with(&format!("aws_access_key_id = \"{secret}\"")),
                3,
                1,
            ),
            (side_with(&format!("  Secret-Key = \"{secret}\"")), 3, 3),
            (
                with(&format!(
                    "[scope]\nexclude_tags = {{ session_token = \"{secret}\" }}\n"
                )),
                6,
                18,
            ),
            (
                with(&format!("[zones]\n\"aws_session_token\" = \"{secret}\"\n")),
                6,
                1,
            ),
            (
                format!("[source]\nregion = \"bad\"\nsecret_key = \"{secret}\"\n"),
                3,
                1,
            ),
            (format!("secret_key = {{ nested = \"{secret}\" }}\n"), 1, 1),
            (
                with(&format!("[naming.buckets]\nsecret_key = \"{secret}\"\n")),
                6,
                1,
            ),
            (with(&format!("[s3]\naccess_key = \"{secret}\"\n")), 6, 1),
        ];
        for (text, line, column) in cases {
            let e = err(&text);
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(secret), "value leaked: {shown}");
            assert!(e.message.contains("not accepted in ferry.toml"), "{e}");
            assert!(e.message.contains("credential chain"), "{e}");
            assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
        }
        // A syntax error on the secret's own line does not echo it either.
        let e = err(&format!("aws_secret_access_key = \"{secret}\n"));
        assert!(!format!("{e} {e:?}").contains(secret));
    }
}
