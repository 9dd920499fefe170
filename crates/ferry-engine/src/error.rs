//! Engine errors, each with the exit code the CLI uses (README, "Exit codes": 0 success,
//! 1 a finding, 2 bad input or configuration, 3 an AWS/API failure).

use ferry_aws::AwsError;
use ferry_core::config::ConfigError;
use ferry_state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// Bad input that is not the config file: a plan file, a run number.
    #[error("{0}")]
    Input(String),
    /// The plan has conflicts and apply was not told to skip them.
    #[error("{0}")]
    Conflicts(String),
    /// Some resources failed; the run can be resumed with apply.
    #[error("{0}")]
    Failed(String),
}

impl EngineError {
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Conflicts(_) => 1,
            EngineError::Config(_) | EngineError::State(_) | EngineError::Input(_) => 2,
            EngineError::Aws(AwsError::Invalid { .. }) => 2,
            EngineError::Aws(_) | EngineError::Failed(_) => 3,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
