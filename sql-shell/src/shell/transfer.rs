//! `.export` and `.import`: tables and query results to and from files,
//! through the export library (`sql_shell::export`).
//!
//! The export library is being built alongside the shell; until it is part
//! of this build both commands say so instead of pretending.

use super::runner::Shell;

/// `.export FILE TABLE|QUERY`.
pub fn export(_shell: &mut Shell, _args: &[String]) -> Result<(), String> {
    Err(not_available(".export"))
}

/// `.import FILE TABLE`.
pub fn import(_shell: &mut Shell, _args: &[String]) -> Result<(), String> {
    Err(not_available(".import"))
}

fn not_available(cmd: &str) -> String {
    format!("{cmd} is not available yet: this build has no export library (sql_shell::export)")
}
