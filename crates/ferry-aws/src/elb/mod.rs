//! Classic Elastic Load Balancing: classic load balancers, keyed by the
//! name the destination keeps.

pub mod classic_load_balancer;
