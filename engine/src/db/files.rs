//! File naming inside a database directory.
//!
//! ```text
//!   000012.log        write-ahead log number 12
//!   000013.sst        table number 13
//!   MANIFEST-000011   manifest number 11
//!   CURRENT           names the live manifest ("MANIFEST-000011\n")
//!   LOCK              held (flock) by the process that has the database open
//!   *.dbtmp           temporary files, removed at open
//! ```
//!
//! Logs, tables and manifests share one counter of file numbers.

use std::path::{Path, PathBuf};

/// Name of the file naming the live manifest.
pub const CURRENT: &str = "CURRENT";
/// Name of the lock file.
pub const LOCK: &str = "LOCK";
/// Suffix of temporary files.
pub const TEMP_SUFFIX: &str = "dbtmp";

/// What a file in the directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A write-ahead log.
    Log(u64),
    /// A table.
    Table(u64),
    /// A manifest.
    Manifest(u64),
    /// `CURRENT`.
    Current,
    /// `LOCK`.
    Lock,
    /// A temporary file.
    Temp,
}

/// Classify a file name (None: not ours).
pub fn parse(name: &str) -> Option<FileKind> {
    if name == CURRENT {
        return Some(FileKind::Current);
    }
    if name == LOCK {
        return Some(FileKind::Lock);
    }
    if name.ends_with(&format!(".{TEMP_SUFFIX}")) {
        return Some(FileKind::Temp);
    }
    if let Some(n) = name.strip_prefix("MANIFEST-") {
        return number(n).map(FileKind::Manifest);
    }
    if let Some(n) = name.strip_suffix(".log") {
        return number(n).map(FileKind::Log);
    }
    if let Some(n) = name.strip_suffix(".sst") {
        return number(n).map(FileKind::Table);
    }
    None
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `MANIFEST-NNNNNN`.
pub fn manifest_name(n: u64) -> String {
    format!("MANIFEST-{n:06}")
}

/// Path of manifest `n`.
pub fn manifest_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(manifest_name(n))
}

/// Path of log `n`.
pub fn log_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:06}.log"))
}

/// Path of table `n`.
pub fn table_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:06}.sst"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse("000012.log"), Some(FileKind::Log(12)));
        assert_eq!(parse("1234567.sst"), Some(FileKind::Table(1234567)));
        assert_eq!(parse(&manifest_name(3)), Some(FileKind::Manifest(3)));
        assert_eq!(parse("CURRENT.dbtmp"), Some(FileKind::Temp));
        assert_eq!(parse("x.log"), None);
        assert_eq!(parse("notes.txt"), None);
    }
}
