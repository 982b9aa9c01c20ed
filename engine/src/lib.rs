//! The LSM storage engine behind the KvStore contract.
//!
//! This crate fills in with its own issue.
