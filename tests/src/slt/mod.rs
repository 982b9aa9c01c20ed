//! A sqllogictest runner for the SQL engine.
//!
//! [`parser`] reads the SQLite and sqllogictest-rs/DuckDB file dialects;
//! [`runner`] runs records against a fresh in-memory [`sql_shell::Session`]
//! per file and counts passed, failed, unsupported and skipped records. The
//! `slt` binary (`cargo run --release -p tests --bin slt -- PATH...`) runs
//! files or folders and prints the counts; `tests/slt_corpus.rs` checks the
//! corpus against the recorded baseline `slt-baseline.tsv`.

pub mod parser;
pub mod runner;

use std::path::{Path, PathBuf};

pub use runner::{Outcome, Report, Runner};

/// Every `.test` / `.slt` file under `path` (or `path` itself), sorted.
pub fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                out.extend(collect_files(&e)?);
            } else if e.extension().is_some_and(|x| x == "test" || x == "slt") {
                out.push(e);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(out)
}

/// Run one file.
pub fn run_file(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runner = Runner::new().map_err(|e| e.to_string())?;
    Ok(runner.run_text(&text))
}
