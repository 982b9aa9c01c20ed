//! Cross-crate integration tests: end-to-end SQL, crash and fault tests, sqllogictest.
//!
//! - [`slt`]: the sqllogictest runner (library, `slt` binary, corpus test).

pub mod reliability;
pub mod slt;
