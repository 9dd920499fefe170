//! KMS: customer-managed keys and what the data paths need of KMS.

pub mod key;
