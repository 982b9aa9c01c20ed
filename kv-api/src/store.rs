//! The traits a backend implements: [`KvRead`], [`KvStore`], [`Snapshot`] and
//! [`Transaction`], plus the plain data types that go with them.
//!
//! ```text
//!            KvRead  (get, iter)
//!        ┌──────┼───────────┐
//!    KvStore  Snapshot   Transaction
//!   (write, snapshot,     (put/delete buffered,
//!    begin, flush,         read-your-writes,
//!    stats, close)         commit/rollback)
//! ```
//!
//! All traits are object safe: a SQL layer holds an `Arc<dyn KvStore>` chosen
//! at run time and never names the backend type. Iterators, snapshots and
//! transactions are `'static` (they keep the store's state alive through
//! reference counts), so they can be stored in structs and sent to threads.

use std::fmt;

use crate::{Direction, KeyRange, KvIterator, Result, WriteBatch, WriteOptions};

/// Point reads and range scans: what a store, a snapshot and a transaction
/// have in common.
pub trait KvRead {
    /// The value stored under `key`, or `None`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// A streaming iterator over `range` in `direction`. It reads one
    /// consistent state (see the [`iter`](crate::iter) module) and holds
    /// memory bounded by a block or page, not by the size of the range.
    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>>;

    /// Shorthand for a forward [`iter`](KvRead::iter).
    fn scan(&self, range: KeyRange) -> Result<Box<dyn KvIterator>> {
        self.iter(range, Direction::Forward)
    }
}

/// A read view pinned at one point in time. Every read through it sees
/// exactly the state at the moment it was taken, whatever is written,
/// flushed or compacted afterwards. Dropping it releases the versions it
/// pinned.
pub trait Snapshot: KvRead + Send + Sync {
    /// The sequence number of the last write the snapshot sees. Sequence
    /// numbers grow with every committed write; they order snapshots.
    fn sequence(&self) -> u64;
}

/// A snapshot-isolation transaction: reads see the snapshot taken at
/// [`KvStore::begin`] plus the transaction's own writes; writes are buffered
/// until [`commit`](Transaction::commit), which applies them atomically or
/// fails with [`Error::Conflict`](crate::Error::Conflict) when another writer
/// committed a write to one of the same keys after the transaction began
/// (first committer wins). Dropping an uncommitted transaction rolls it back.
pub trait Transaction: KvRead + Send {
    /// Buffer a put. Size limits are checked here, so an oversized key fails
    /// at once and the transaction can go on.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// Buffer a point delete.
    fn delete(&mut self, key: &[u8]) -> Result<()>;

    /// Buffer a delete of `[start, end)`.
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()>;

    /// The snapshot sequence number the transaction reads at.
    fn read_sequence(&self) -> u64;

    /// Remember the current set of buffered writes, so that
    /// [`rollback_to_savepoint`](Transaction::rollback_to_savepoint) can undo
    /// what follows (a SQL layer sets one before each statement of an explicit
    /// transaction, so a failed statement leaves the earlier ones in place).
    /// Savepoints nest.
    fn set_savepoint(&mut self);

    /// Undo every write made since the most recent savepoint and remove that
    /// savepoint. Fails with `InvalidArgument` when no savepoint is set.
    fn rollback_to_savepoint(&mut self) -> Result<()>;

    /// Forget the most recent savepoint, keeping the writes made since
    /// (a no-op when none is set).
    fn release_savepoint(&mut self);

    /// Apply every buffered write atomically, or fail with a conflict (nothing
    /// written) if a key this transaction writes changed since it began.
    fn commit(self: Box<Self>, opts: &WriteOptions) -> Result<()>;

    /// Discard every buffered write.
    fn rollback(self: Box<Self>);
}

/// An ordered key-value store: the contract every backend implements.
///
/// Keys and values are arbitrary byte strings (the empty key included),
/// ordered bytewise. Size limits are reported by [`limits`](KvStore::limits)
/// and enforced before anything is written.
///
/// ```
/// use std::sync::Arc;
/// use kv_api::{KvRead, KvStore, MemStore, WriteOptions};
/// let store: Arc<dyn KvStore> = Arc::new(MemStore::new());
/// store.put(b"k", b"v1")?;
/// let snap = store.snapshot()?;
/// store.put(b"k", b"v2")?;
/// assert_eq!(snap.get(b"k")?, Some(b"v1".to_vec()));
///
/// let mut txn = store.begin()?;
/// txn.put(b"k", b"v3")?;
/// assert_eq!(txn.get(b"k")?, Some(b"v3".to_vec()));
/// txn.commit(&WriteOptions::default())?;
/// assert_eq!(store.get(b"k")?, Some(b"v3".to_vec()));
/// # Ok::<(), kv_api::Error>(())
/// ```
pub trait KvStore: KvRead + Send + Sync {
    /// Apply `batch` atomically.
    fn write(&self, batch: WriteBatch, opts: &WriteOptions) -> Result<()>;

    /// A pinned read view of the current state.
    fn snapshot(&self) -> Result<Box<dyn Snapshot>>;

    /// Start a transaction reading at the current state.
    fn begin(&self) -> Result<Box<dyn Transaction>>;

    /// Make everything written so far durable and move buffered state to its
    /// long-term home (an LSM engine writes its memtable to a table file).
    fn flush(&self) -> Result<()>;

    /// Counters describing the store, as name/value pairs.
    fn stats(&self) -> Stats;

    /// The size limits this store enforces.
    fn limits(&self) -> Limits;

    /// Flush and release resources. Later calls on this handle (and on its
    /// snapshots, iterators and transactions) return
    /// [`Error::Closed`](crate::Error::Closed). Closing twice is harmless.
    /// Dropping the last handle closes the store too, ignoring errors; call
    /// `close` to see them.
    fn close(&self) -> Result<()>;

    /// Put one key (buffered durability).
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut b = WriteBatch::with_capacity(1);
        b.put(key, value);
        self.write(b, &WriteOptions::default())
    }

    /// Delete one key (buffered durability).
    fn delete(&self, key: &[u8]) -> Result<()> {
        let mut b = WriteBatch::with_capacity(1);
        b.delete(key);
        self.write(b, &WriteOptions::default())
    }
}

/// Size limits enforced by a store before it writes anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest key, in bytes.
    pub max_key_len: usize,
    /// Longest value, in bytes.
    pub max_value_len: usize,
    /// Largest total of key and value bytes in one batch or transaction.
    pub max_batch_bytes: usize,
}

impl Limits {
    /// The limits every backend in this workspace documents: keys up to 64 KiB,
    /// values up to 64 MiB, batches up to 256 MiB.
    pub const DEFAULT: Limits = Limits {
        max_key_len: 64 * 1024,
        max_value_len: 64 * 1024 * 1024,
        max_batch_bytes: 256 * 1024 * 1024,
    };

    /// Reject a key over the limit.
    pub fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() > self.max_key_len {
            return Err(crate::Error::invalid(format!(
                "key of {} bytes exceeds the limit of {} bytes",
                key.len(),
                self.max_key_len
            )));
        }
        Ok(())
    }

    /// Reject a value over the limit.
    pub fn check_value(&self, value: &[u8]) -> Result<()> {
        if value.len() > self.max_value_len {
            return Err(crate::Error::invalid(format!(
                "value of {} bytes exceeds the limit of {} bytes",
                value.len(),
                self.max_value_len
            )));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Statistics as an ordered list of named counters. Names are dotted paths
/// such as `bytes.written.user` or `level.1.files`; each backend documents the
/// names it reports.
///
/// ```
/// let mut s = kv_api::Stats::new("mem");
/// s.push("keys", 3);
/// assert_eq!(s.get("keys"), Some(3));
/// assert_eq!(s.backend(), "mem");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    backend: String,
    entries: Vec<(String, u64)>,
}

impl Stats {
    /// Empty statistics for the named backend.
    pub fn new(backend: impl Into<String>) -> Self {
        Stats {
            backend: backend.into(),
            entries: Vec::new(),
        }
    }

    /// The backend's name.
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// Append a counter.
    pub fn push(&mut self, name: impl Into<String>, value: u64) {
        self.entries.push((name.into(), value));
    }

    /// Look a counter up by name.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// Every counter in order.
    pub fn entries(&self) -> &[(String, u64)] {
        &self.entries
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "backend: {}", self.backend)?;
        for (n, v) in &self.entries {
            writeln!(f, "{n}: {v}")?;
        }
        Ok(())
    }
}
