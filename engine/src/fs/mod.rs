//! The file-system seam: every byte the engine reads or writes goes through
//! [`FileSystem`], so tests can swap the operating system for
//! [`FaultFs`], an in-memory file system that simulates
//! crashes (dropping whatever was not fsynced), failing writes and fsyncs,
//! torn writes and flipped bits.
//!
//! The interface is deliberately small (LevelDB's `Env` is the model):
//! append-only writable files, positional reads, whole-directory operations.
//! The engine never overwrites a file in place; it writes new files and
//! switches to them with a rename, which is all a crash-safe design needs.

pub mod fault;
pub mod os;

use std::fmt::Debug;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub use fault::{Fault, FaultFs};
pub use os::OsFs;

/// A file opened for appending.
pub trait WritableFile: Send + Sync {
    /// Append `data`; it reaches the operating system before this returns
    /// (no user-space buffering), so it survives a crash of the process.
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Make everything appended so far durable (fdatasync).
    fn sync(&mut self) -> io::Result<()>;
    /// Bytes appended so far: the write position (a preallocated tail past
    /// it is not counted).
    fn len(&self) -> u64;
    /// True when nothing was appended.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Grow the file to at least `size` bytes of zeros past the write
    /// position without moving it, so that later appends overwrite
    /// allocated space and an fdatasync of them need not commit a new file
    /// size (on ext4 that is a journal commit per sync). The new size is
    /// durable after the next [`sync`](WritableFile::sync). A reader of the
    /// file sees the zeros (the log format marks its end for that reason).
    /// Best effort: a file system without the call may do nothing.
    fn preallocate(&mut self, size: u64) -> io::Result<()>;
}

/// A file opened for positional reads.
pub trait RandomAccessFile: Send + Sync {
    /// Read exactly `buf.len()` bytes at `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Bytes in the file.
    fn len(&self) -> u64;
    /// True when the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A held exclusive lock; dropping it releases the lock.
pub trait FileLock: Send + Sync {}

/// The file-system operations the engine needs.
pub trait FileSystem: Send + Sync + Debug {
    /// Create (or truncate) a file for appending.
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;
    /// Open an existing file for appending at its end.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;
    /// Open an existing file for reading.
    fn open_read(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>>;
    /// Read a whole file.
    fn read_all(&self, path: &Path) -> io::Result<Vec<u8>> {
        let f = self.open_read(path)?;
        let mut buf = vec![0u8; f.len() as usize];
        f.read_exact_at(&mut buf, 0)?;
        Ok(buf)
    }
    /// Atomically rename `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Remove a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Cut a file to `len` bytes (and make that durable).
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// Names of the entries of a directory.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Create a directory and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Make the directory's entries (creates, renames, removes) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// True when the path exists.
    fn exists(&self, path: &Path) -> bool;
    /// Take an exclusive lock on `path` (creating it), or fail with
    /// `ErrorKind::WouldBlock` when another process or handle holds it.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>>;
}

/// The operating system's file system, shared.
pub fn default_fs() -> Arc<dyn FileSystem> {
    Arc::new(OsFs)
}
