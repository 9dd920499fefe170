//! S3: buckets with their configuration ([`bucket`]), their objects
//! ([`objects`]: listing, comparison, server-side copy, verification), the
//! temporary source-policy statement that lets the destination read
//! ([`policy`]), and S3 Batch Operations for buckets too large for one
//! machine ([`batch`]).

pub mod batch;
pub mod bucket;
pub mod objects;
pub mod policy;
