//! Where the shell keeps things by default.
//!
//! | what | where | override |
//! |---|---|---|
//! | database | `$XDG_DATA_HOME/hive/default.db` (`~/.local/share/hive/default.db`) | the PATH argument, or `$HIVE_DB` |
//! | history | `$XDG_STATE_HOME/hive/history` (`~/.local/state/hive/history`) | `$HIVE_HISTORY` (empty: no history), `--no-history` |
//!
//! The default database lives in the user's data directory rather than the
//! current directory so that `sql-shell` opens the same database wherever
//! it is started, as psql connects to the same server.

use std::env;
use std::path::PathBuf;

/// A directory from an XDG variable, if it is set to an absolute path (the
/// specification says relative values are to be ignored).
fn xdg(var: &str, fallback: &[&str]) -> Option<PathBuf> {
    if let Some(v) = env::var_os(var) {
        let p = PathBuf::from(v);
        if p.is_absolute() {
            return Some(p);
        }
    }
    let home = env::var_os("HOME").filter(|h| !h.is_empty())?;
    let mut p = PathBuf::from(home);
    p.extend(fallback);
    Some(p)
}

/// The default database path; see the [module documentation](self).
pub fn default_database() -> Result<PathBuf, String> {
    if let Some(p) = env::var_os("HIVE_DB").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut p = xdg("XDG_DATA_HOME", &[".local", "share"]).ok_or(
        "no default database location: neither HOME nor XDG_DATA_HOME is set; \
         give a PATH (or :memory:) or set HIVE_DB",
    )?;
    p.push("hive");
    p.push("default.db");
    Ok(p)
}

/// The history file, `None` when history is turned off or there is no
/// home directory.
pub fn history_file() -> Option<PathBuf> {
    if let Some(p) = env::var_os("HIVE_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let mut p = xdg("XDG_STATE_HOME", &[".local", "state"])?;
    p.push("hive");
    p.push("history");
    Some(p)
}
