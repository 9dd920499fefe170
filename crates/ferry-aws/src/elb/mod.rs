//! Classic Elastic Load Balancing.

pub mod classic_load_balancer;
