//! Errors from AWS calls, classified the way the engine needs them:
//! not found (success for a delete), dependency violation (retry later in a
//! rollback), throttling, or anything else.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// AWS (or the network) refused a call, after the SDK's retries.
    #[error("{side}: {op} failed{}: {message}", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Api {
        side: &'static str,
        op: &'static str,
        code: Option<String>,
        message: String,
    },
    /// Could not obtain or use credentials (assume-role refused, no credentials).
    #[error("{side}: credentials: {message}")]
    Credentials { side: &'static str, message: String },
    /// A response lacked something ferry needs, or a spec could not be read.
    #[error("{side}: {message}")]
    Invalid { side: &'static str, message: String },
    /// Waited too long for a resource to reach a state.
    #[error("{side}: timed out waiting for {what}")]
    Timeout { side: &'static str, what: String },
}

impl AwsError {
    /// The error a describe by ID gives when the resource is gone.
    pub fn not_found(side: &'static str, op: &'static str, code: &str, id: &str) -> AwsError {
        AwsError::Api {
            side,
            op,
            code: Some(code.to_string()),
            message: format!("{id} does not exist"),
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Gone: not found, or (images) deregistered and no longer available.
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| {
            c.contains("NotFound")
                || c == "NoSuchEntity"
                || c == "InvalidAMIID.Unavailable"
                // S3: NoSuchBucket, NoSuchKey, NoSuchBucketPolicy, NoSuchTagSet ...
                || c.starts_with("NoSuch")
        })
    }

    pub fn is_dependency_violation(&self) -> bool {
        self.code().is_some_and(|c| {
            c == "DependencyViolation"
                || c == "DeleteConflict"
                || c == "InvalidIPAddress.InUse"
                || c == "AuthFailure.AddressInUse"
                || c == "InvalidNetworkAclEntry.InUse"
                || c == "Resource.AlreadyAssociated"
                || c == "IncorrectState"
                // Auto Scaling: a launch configuration a group still uses.
                || c == "ResourceInUse"
        })
    }

    /// A create call whose response was lost: it may have made the
    /// resource (see lost.rs).
    pub fn is_response_lost(&self) -> bool {
        self.code() == Some(crate::lost::RESPONSE_LOST)
    }

    /// A name-unique create refused because the name is taken: perhaps by
    /// the resource an earlier attempt made before its response was lost.
    pub fn is_already_exists(&self) -> bool {
        self.code().is_some_and(|c| {
            c.ends_with(".Duplicate")
                || c.contains("AlreadyExists")
                || c == "BucketAlreadyOwnedByYou"
                || c.starts_with("Duplicate")
        })
    }

    /// The rule, route or association is already there: converge treats it as done.
    pub fn is_duplicate(&self) -> bool {
        self.code().is_some_and(|c| {
            c.ends_with(".Duplicate")
                || c == "EntityAlreadyExists"
                || c == "RouteAlreadyExists"
                || c == "NetworkAclEntryAlreadyExists"
        })
    }
}

pub(crate) const NO_CREDENTIALS: &str = "no usable credentials: set up the standard AWS credential chain (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws profiles, `aws sso login`, an instance role), or set `profile` in ferry.toml";

/// Converts an SDK error, keeping the AWS error code and message and never
/// anything from the request (no credentials appear in either).
pub fn api<E, R>(side: &'static str, op: &'static str, e: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static + HttpStatus,
{
    if let Some(message) = crate::lost::lost_in(&e) {
        return AwsError::Api {
            side,
            op,
            code: Some(crate::lost::RESPONSE_LOST.into()),
            message,
        };
    }
    let code = e.code().map(str::to_string);
    let message = match (&e, e.message()) {
        (_, Some(m)) => m.to_string(),
        (SdkError::DispatchFailure(_), None) | (SdkError::TimeoutError(_), None) => {
            let full = DisplayErrorContext(&e).to_string();
            if full.contains("loading credentials") {
                return AwsError::Credentials {
                    side,
                    message: NO_CREDENTIALS.into(),
                };
            }
            format!("cannot reach the endpoint: {}", root_cause(&e))
        }
        // An answer that is not an AWS error document (a proxy's or an
        // emulator's HTML page, say): the status is what helps, not the body.
        (SdkError::ServiceError(se), None) => format!(
            "unexpected HTTP {} response that is not an AWS error",
            se.raw().status_code()
        ),
        (SdkError::ResponseError(re), None) => {
            format!("unreadable HTTP {} response", re.raw().status_code())
        }
        _ => DisplayErrorContext(&e).to_string(),
    };
    AwsError::Api {
        side,
        op,
        code,
        message,
    }
}

/// The innermost error's message ("Connection refused (os error 111)"):
/// what a person can act on, without the layers of wrapping around it.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    loop {
        // An AWS error document: its code and message are the whole story.
        if let Some(m) = cur.downcast_ref::<aws_smithy_types::error::ErrorMetadata>() {
            return match (m.code(), m.message()) {
                (Some(c), Some(msg)) => format!("{c}: {msg}"),
                (Some(c), None) => c.to_string(),
                (None, Some(msg)) => msg.to_string(),
                (None, None) => "unknown AWS error".into(),
            };
        }
        match cur.source() {
            Some(next) => cur = next,
            None => break,
        }
    }
    let text = cur.to_string();
    if text.is_empty() {
        DisplayErrorContext(e).to_string()
    } else {
        text
    }
}

pub type Result<T, E = AwsError> = std::result::Result<T, E>;

/// The HTTP status of a raw response, for messages about non-AWS answers.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_code(code: &str) -> AwsError {
        AwsError::Api {
            side: "source",
            op: "DeregisterImage",
            code: Some(code.into()),
            message: String::new(),
        }
    }

    #[test]
    fn a_taken_name_and_a_lost_response_are_told_apart() {
        for code in [
            "InvalidKeyPair.Duplicate",
            "InvalidGroup.Duplicate",
            "EntityAlreadyExists",
            "AlreadyExistsException",
            "InvalidLaunchTemplateName.AlreadyExistsException",
            "BucketAlreadyOwnedByYou",
            "DuplicateTargetGroupName",
        ] {
            assert!(with_code(code).is_already_exists(), "{code}");
        }
        assert!(!with_code("InvalidParameterValue").is_already_exists());
        assert!(with_code(crate::lost::RESPONSE_LOST).is_response_lost());
        assert!(!with_code("RequestLimitExceeded").is_response_lost());
    }

    #[test]
    fn gone_covers_deregistered_images() {
        assert!(with_code("InvalidAMIID.NotFound").is_not_found());
        assert!(with_code("InvalidAMIID.Unavailable").is_not_found());
        assert!(with_code("NoSuchEntity").is_not_found());
        assert!(!with_code("InvalidParameterValue").is_not_found());
    }
}
