//! Calls that make a new resource are not sent twice blind.
//!
//! When the response to a call is lost (the connection reset after the
//! request went out, a body cut midway, a timeout), AWS may well have run the
//! call. The SDK's standard retry would send it again, which for CreateVpc,
//! RunInstances, CopyImage, CreateKey ... makes a second resource (client
//! tokens do not save us: several of these calls take none, tokens expire,
//! and the emulator ignores them), and for name-unique calls (ImportKeyPair,
//! CreateLaunchTemplate) fails with a "duplicate" error about the very
//! resource the first attempt made.
//!
//! [`LostResponse`] stops that one retry for the calls in [`CREATES`]: it
//! turns such an attempt's error into [`ResponseLost`], which no retry
//! classifier retries, and `error::api` reports it with the code
//! [`RESPONSE_LOST`]. The engine then looks for the resource by its
//! `ferry:source` tag (the create call carried it) before it tries again, as
//! it does when it resumes a killed run. Throttling, 5xx answers and every
//! other call keep the SDK's retries.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The AwsError code of a create call whose response was lost.
pub const RESPONSE_LOST: &str = "ferry.ResponseLost";

/// Operations that make a resource each time they run. Calls that only
/// configure (CreateTags, CreateRoute, Authorize...) are left to the SDK:
/// a repeat is harmless or answered "already there", which converge treats
/// as done.
pub const CREATES: &[&str] = &[
    // EC2
    "AllocateAddress",
    "CopyImage",
    "CopySnapshot",
    "CreateDhcpOptions",
    "CreateImage",
    "CreateInternetGateway",
    "CreateKeyPair",
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "CreateManagedPrefixList",
    "CreateNatGateway",
    "CreateNetworkAcl",
    "CreateRouteTable",
    "CreateSecurityGroup",
    "CreateSnapshot",
    "CreateSubnet",
    "CreateVolume",
    "CreateVpc",
    "CreateVpcEndpoint",
    "CreateVpcPeeringConnection",
    "ImportKeyPair",
    "RunInstances",
    // KMS
    "CreateKey",
];

/// The error an attempt of a [`CREATES`] call ends with when its response
/// was lost; the original error is its source.
#[derive(Debug)]
pub struct ResponseLost {
    pub operation: String,
    source: BoxError,
}

impl std::fmt::Display for ResponseLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the response to {} was lost ({}); not retried blind, as the call may have run",
            self.operation,
            crate::error::root_cause(self.source.as_ref())
        )
    }
}

impl std::error::Error for ResponseLost {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// The interceptor, registered on the clients whose APIs hold [`CREATES`].
#[derive(Debug, Default)]
pub struct LostResponse;

impl Intercept for LostResponse {
    fn name(&self) -> &'static str {
        "ferry.LostResponse"
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(operation) = cfg.load::<Metadata>().map(|m| m.name().to_string()) else {
            return Ok(());
        };
        if !CREATES.contains(&operation.as_str()) {
            return Ok(());
        }
        let lost = match context.output_or_error() {
            Some(Err(e)) => {
                e.is_response_error()
                    || e.is_timeout_error()
                    || e.as_connector_error().is_some_and(|c| !c.is_user())
            }
            _ => false,
        };
        if !lost {
            return Ok(());
        }
        // Keep the original error as the source, for the message.
        let original = match context.output_or_error_mut() {
            Some(slot) => std::mem::replace(
                slot,
                Err(
                    aws_smithy_runtime_api::client::orchestrator::OrchestratorError::other(
                        "replaced by ferry.LostResponse",
                    ),
                ),
            ),
            None => return Ok(()),
        };
        let source: BoxError = match original {
            Err(e) => Box::new(e),
            Ok(_) => "no error".into(),
        };
        Err(Box::new(ResponseLost { operation, source }))
    }
}

/// The [`ResponseLost`] in an error's chain, as text, if there is one.
pub fn lost_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(lost) = err.downcast_ref::<ResponseLost>() {
            return Some(lost.to_string());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SDK-like layer around an error.
    #[derive(Debug)]
    struct Layer(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("dispatch failure")
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(self.0.as_ref())
        }
    }

    #[test]
    fn a_lost_response_is_found_under_the_sdks_layers() {
        let lost = ResponseLost {
            operation: "CreateVpc".into(),
            source: "connection closed before message completed".into(),
        };
        let wrapped = Layer(Box::new(Layer(Box::new(lost))));
        let text = lost_in(&wrapped).expect("found");
        assert!(
            text.contains("CreateVpc") && text.contains("connection closed"),
            "{text}"
        );
        assert_eq!(lost_in(&Layer("refused".into())), None);
    }

    #[test]
    fn only_calls_that_make_a_resource_are_guarded() {
        for op in [
            "CreateVpc",
            "RunInstances",
            "CopyImage",
            "ImportKeyPair",
            "CreateKey",
        ] {
            assert!(CREATES.contains(&op), "{op}");
        }
        for op in [
            "CreateTags",
            "CreateRoute",
            "AuthorizeSecurityGroupIngress",
            "CopyObject",
        ] {
            assert!(!CREATES.contains(&op), "{op}");
        }
    }
}
