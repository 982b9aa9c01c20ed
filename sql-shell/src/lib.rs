//! SQL planning and execution over the table layer, and the interactive shell.
//!
//! This crate fills in with its own issue.
