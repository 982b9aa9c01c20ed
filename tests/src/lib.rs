//! Cross-crate integration tests: end-to-end SQL, crash and fault tests, sqllogictest.
//!
//! This crate fills in with its own issue.
