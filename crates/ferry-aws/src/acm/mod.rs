//! AWS Certificate Manager.

pub mod certificate;
