//! CloudWatch metric alarms.

pub mod alarm;
