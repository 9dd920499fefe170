//! S3: buckets with their configuration ([`bucket`]), their objects
//! ([`objects`]: listing, comparison, server-side copy, verification), the
//! temporary source-policy statement that lets the destination read
//! ([`policy`]), and S3 Batch Operations for buckets too large for one
//! machine ([`batch`]). Source listings kept from the plan for the copy
//! are in [`spill`].

pub mod batch;
pub mod bucket;
pub mod objects;
pub mod policy;
pub mod spill;
