//! The write-ahead log: every batch is appended here before it reaches the
//! memtable, so a crash loses nothing that was acknowledged.
//!
//! ```text
//!   log file 000007.log
//!   ┌────────────┬────────────┬─────┐
//!   │ record     │ record     │ ... │   one record per batch (recovered
//!   └────────────┴────────────┴─────┘   atomically), appended in commit order
//!   record = header (12 bytes) ++ payload (an encoded batch, see `batch`)
//! ```
//!
//! A group commit appends the records of several batches with one `write`
//! and at most one fsync. A new log is started whenever the memtable is
//! switched (the old log is fsynced first), and a log is deleted once the
//! memtables it fed are flushed to tables: the manifest's log number says
//! which logs recovery must replay.
//!
//! The same record framing (in [`record`]) is used by the manifest.

pub mod batch;
pub mod record;

use std::path::{Path, PathBuf};

use kv_api::{Error, Result};

use crate::fs::WritableFile;

/// An open log file being appended to.
pub struct LogWriter {
    file: Box<dyn WritableFile>,
    path: PathBuf,
    number: u64,
}

impl LogWriter {
    /// Wrap a freshly created log file.
    pub fn new(file: Box<dyn WritableFile>, path: PathBuf, number: u64) -> Self {
        LogWriter { file, path, number }
    }

    /// The file number of this log.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append already framed records (one write).
    pub fn append(&mut self, framed: &[u8]) -> Result<()> {
        self.file
            .append(framed)
            .map_err(|e| Error::io("append to write-ahead log", &self.path, e))
    }

    /// Make the log durable.
    pub fn sync(&mut self) -> Result<()> {
        self.file
            .sync()
            .map_err(|e| Error::io("fsync write-ahead log", &self.path, e))
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.file.len()
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }
}
