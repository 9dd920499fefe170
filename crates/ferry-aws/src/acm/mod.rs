//! AWS Certificate Manager: certificates, which ferry maps to the
//! destination's own and never creates (private keys never move), and what
//! IAM server certificates share with them.

pub mod certificate;

use crate::{AwsError, Desired, Side};

/// The answer to creating a certificate (ACM or IAM), which the plan never
/// asks for: each is mapped to the destination's certificate for the same
/// names, as its private key never leaves the source.
pub(crate) fn never_created(cx: &Side, want: &Desired) -> AwsError {
    cx.invalid(format!(
        "certificate {} cannot be created: ferry never moves private keys; the plan maps each certificate to the destination's certificate for the same names",
        want.source_id
    ))
}
