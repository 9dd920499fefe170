//! Errors that mean a step is already done. Apply and rollback repeat steps
//! a killed run may have made (ARCHITECTURE.md: resuming and rolling back),
//! so "already gone" ends a delete and "already there" ends an add.

use crate::{AwsError, Result};

/// Treats the errors `done` recognises as success.
pub fn ok_when(r: Result<()>, done: impl FnOnce(&AwsError) -> bool) -> Result<()> {
    match r {
        Err(e) if done(&e) => Ok(()),
        other => other,
    }
}

/// Treats NotFound as done: deleting something already gone succeeds.
pub fn gone_ok(r: Result<()>) -> Result<()> {
    ok_when(r, AwsError::is_not_found)
}

/// Treats "already there" as done: converge may repeat a step a killed run
/// already made.
pub fn duplicate_ok(r: Result<()>) -> Result<()> {
    ok_when(r, AwsError::is_duplicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> Result<()> {
        Err(AwsError::Api {
            side: "destination",
            op: "Delete",
            code: Some(code.into()),
            message: "m".into(),
        })
    }

    #[test]
    fn only_the_recognised_errors_are_done() {
        assert!(gone_ok(api("InvalidVpcID.NotFound")).is_ok());
        assert!(gone_ok(api("DependencyViolation")).is_err());
        assert!(duplicate_ok(api("InvalidPermission.Duplicate")).is_ok());
        assert!(duplicate_ok(api("InvalidVpcID.NotFound")).is_err());
        assert!(ok_when(api("Custom"), |e| e.code() == Some("Custom")).is_ok());
        assert!(gone_ok(Ok(())).is_ok());
    }
}
