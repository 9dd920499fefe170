//! CloudWatch metric alarms.
//!
//! Only metric alarms on one metric are migrated. Metric math alarms are
//! listed and skipped with a reason; composite alarms are not listed at all
//! (their rules name other alarms by name, and nothing ferry migrates
//! depends on them), so they appear neither in the plan nor in verify.

pub mod alarm;
