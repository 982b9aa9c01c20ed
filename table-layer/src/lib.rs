//! Rows and secondary indexes as ordered keys over any KvStore.
//!
//! This crate fills in with its own issue.
