//! Auto Scaling: launch configurations, groups and scaling policies.

pub mod group;
pub mod launch_configuration;
pub mod policy;
