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
//! A log is preallocated in chunks ahead of the write position
//! ([`WritableFile::preallocate`]), so the fdatasync of an appended record
//! does not also commit a new file size (on ext4 a journal commit: a loop of
//! writes and fdatasyncs measured 1,200-2,000 syncs/s on a growing file
//! against 9,600-14,000/s on a preallocated one). A log therefore ends in
//! zeros; a record header of zeros marks the end of the written data (see
//! [`record::zero_header_at`] and FORMAT.md).
//!
//! ```text
//!   ┌────────┬────────┬─────────────────────────┐
//!   │ record │ record │ 00 00 00 ... (prealloc) │  grown by `chunk` when an
//!   └────────┴────────┴─────────────────────────┘  append would reach the end
//!                     ^ write position (len)
//! ```
//!
//! The same record framing (in [`record`]) is used by the manifest (which
//! is not preallocated).

pub mod batch;
pub mod record;

use std::path::{Path, PathBuf};

use kv_api::{Error, Result};

use crate::fs::WritableFile;

/// The most a log is preallocated ahead of its write position.
pub const MAX_PREALLOCATE: u64 = 1 << 20;

/// The preallocation chunk for logs feeding memtables of `write_buffer_size`
/// bytes: a quarter of it, between 4 KiB and [`MAX_PREALLOCATE`] (small
/// memtables, as tests use, keep their logs small).
pub fn preallocate_chunk(write_buffer_size: usize) -> u64 {
    (write_buffer_size as u64 / 4).clamp(4 << 10, MAX_PREALLOCATE)
}

/// An open log file being appended to.
pub struct LogWriter {
    file: Box<dyn WritableFile>,
    path: PathBuf,
    number: u64,
    /// Grow the file by this much when an append would pass `allocated`.
    chunk: u64,
    /// The file size preallocation asked for so far.
    allocated: u64,
}

impl LogWriter {
    /// Wrap a freshly created log file, preallocating `chunk` bytes at a
    /// time (0: never).
    pub fn new(file: Box<dyn WritableFile>, path: PathBuf, number: u64, chunk: u64) -> Self {
        LogWriter {
            file,
            path,
            number,
            chunk,
            allocated: 0,
        }
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
        let end = self.file.len() + framed.len() as u64;
        if self.chunk > 0 && end > self.allocated {
            let want = end
                .div_ceil(self.chunk)
                .saturating_add(1)
                .saturating_mul(self.chunk);
            // Best effort: without the space (a full disk) or the call, the
            // append below still works or fails on its own.
            if self.file.preallocate(want).is_ok() {
                self.allocated = want;
            } else {
                self.chunk = 0;
            }
        }
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

    /// Bytes of records written so far (the preallocated tail excluded).
    pub fn len(&self) -> u64 {
        self.file.len()
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }
}
