//! Typed specs of KMS keys, key pairs and launch templates.
