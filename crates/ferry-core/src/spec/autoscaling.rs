//! Typed specs of Auto Scaling (launch configurations, groups, scaling
//! policies) and CloudWatch metric alarms.
