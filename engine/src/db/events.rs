//! The info log: a text file `LOG` in the database directory where the
//! engine writes what happened in the background that an operator needs to
//! know — failed and retried compactions and flushes, a handle poisoned,
//! manifest rollovers, torn log tails cut at open. Like RocksDB's `LOG`,
//! one line per event:
//!
//! ```text
//!   1718031234.512 compaction L1->L2 failed (attempt 3, retry in 400 ms): I/O error ...
//! ```
//!
//! The file is opened on the first event (a database with nothing to say
//! writes no `LOG`), written through the engine's [`FileSystem`] and never
//! fsynced; a failure to write it is ignored (the event is also counted in
//! the statistics, and errors reach callers). At open, a `LOG` over 1 MiB
//! is renamed to `LOG.old`, so the pair stays bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::fs::{FileSystem, WritableFile};

/// Name of the info log.
pub const INFO_LOG: &str = "LOG";
/// Name of the previous info log.
pub const INFO_LOG_OLD: &str = "LOG.old";
const ROTATE_BYTES: u64 = 1 << 20;

/// Appends event lines to `LOG`.
pub(crate) struct EventLog {
    fs: Arc<dyn FileSystem>,
    path: PathBuf,
    file: Mutex<Option<Box<dyn WritableFile>>>,
    /// The last background error, for [`crate::db::Db::engine_stats`].
    pub last_error: Mutex<Option<String>>,
}

impl EventLog {
    /// The info log of the database in `dir`, rotated if large.
    pub fn new(fs: Arc<dyn FileSystem>, dir: &Path) -> EventLog {
        let path = dir.join(INFO_LOG);
        if let Ok(f) = fs.open_read(&path) {
            if f.len() > ROTATE_BYTES {
                let _ = fs.rename(&path, &dir.join(INFO_LOG_OLD));
            }
        }
        EventLog {
            fs,
            path,
            file: Mutex::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// Record an event.
    pub fn info(&self, msg: &str) {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let line = format!("{}.{:03} {msg}\n", t.as_secs(), t.subsec_millis());
        let mut f = self.file.lock();
        if f.is_none() {
            *f = if self.fs.exists(&self.path) {
                self.fs.open_append(&self.path).ok()
            } else {
                self.fs.create(&self.path).ok()
            };
        }
        if let Some(file) = f.as_mut() {
            if file.append(line.as_bytes()).is_err() {
                *f = None;
            }
        }
    }

    /// Record a background error (also kept as the last error).
    pub fn error(&self, msg: &str) {
        *self.last_error.lock() = Some(msg.to_string());
        self.info(msg);
    }
}
