//! The database: how the pieces are wired together.
//!
//! ```text
//!            write(batch)                         get / iter / snapshot
//!                 │                                        │
//!        ┌────────▼─────────┐                     ┌────────▼────────┐
//!        │ commit queue     │ leader appends the   │ SuperVersion    │ Arc, swapped
//!        │ (group commit)   │ group to the log,    │  mem, imms,     │ on memtable
//!        └────────┬─────────┘ fsyncs once if asked │  version        │ switch/flush
//!                 │           inserts into mem,    └────────┬────────┘
//!                 ▼           publishes sequence            │
//!    log ◄── memtable ──(full)──► immutable ──flush thread──► L0 table + manifest edit
//!                                                                  │
//!                                  compaction threads ◄──(notify)──┘
//!                                  L0 → L1 → ... → L6, manifest edits,
//!                                  obsolete tables removed when unreferenced
//! ```
//!
//! - [`write`]: validation, the commit queue, memtable switches, stalls.
//! - [`read`]: point reads and iterator construction at a snapshot; the
//!   conflict check of transactions.
//! - [`flush`]: the background thread that turns frozen memtables into L0
//!   tables, keeping versions that live snapshots can see.
//! - [`compact`]: the compaction threads, installing their results,
//!   removing obsolete tables, manual compaction, manifest rollover (the
//!   design is in [`crate::compaction`]).
//! - [`events`]: the `LOG` file of background events.
//! - [`open`]: recovery (manifest, log replay, torn tails, orphans) and the
//!   lock file.
//! - [`snapshot`]: snapshots and the transaction commit hook.
//!
//! Locks, in the order they may be taken: `queue` (briefly) → `write` (held
//! by the commit leader) → `compaction` (a leader waiting at the L0 stop
//! trigger) → `sv` (briefly, to swap); `manifest` → `sv` (a flush or
//! compaction appending its edit and installing the version);
//! `compaction` → `obsolete`; `snapshots` alone.

mod compact;
pub mod events;
pub mod files;
mod flush;
mod open;
mod read;
mod snapshot;
mod write;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use kv_api::{
    Direction, Error, KeyRange, KvIterator, KvRead, KvStore, Limits, Result, Snapshot, Stats,
    Transaction, WriteBatch, WriteOptions,
};
use parking_lot::{Condvar, Mutex, RwLock};

use crate::cache::TableCache;
use crate::fs::{FileLock, FileSystem};
use crate::memtable::Memtable;
use crate::options::Options;
use crate::stats::{Counters, EngineStats, LevelStats};
use crate::version::Version;
use crate::version::edit::FileMeta;
use crate::version::manifest::ManifestWriter;
use crate::wal::LogWriter;

/// What readers need, swapped as one `Arc` when memtables or tables change.
pub(crate) struct SuperVersion {
    pub mem: Arc<Memtable>,
    /// Frozen memtables, newest first.
    pub imms: Vec<Arc<Memtable>>,
    pub version: Arc<Version>,
}

/// State owned by the commit leader.
pub(crate) struct WriteState {
    pub log: LogWriter,
    pub last_seq: u64,
    pub buf: Vec<u8>,
}

pub(crate) struct BgState {
    pub stop: bool,
    /// The last flush failure, cleared by the next success.
    pub error: Option<Error>,
    /// Incremented after every flush attempt (success or failure).
    pub attempts: u64,
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub opts: Options,
    pub fs: Arc<dyn FileSystem>,
    pub sv: RwLock<Arc<SuperVersion>>,
    pub visible_seq: AtomicU64,
    pub queue: Mutex<VecDeque<Arc<write::Writer>>>,
    pub queue_cv: Condvar,
    pub write: Mutex<WriteState>,
    pub manifest: Mutex<ManifestWriter>,
    pub next_file: AtomicU64,
    pub snapshots: Mutex<BTreeMap<u64, usize>>,
    pub bg: Mutex<BgState>,
    pub bg_cv: Condvar,
    pub done_cv: Condvar,
    pub closed: AtomicBool,
    pub poisoned: AtomicBool,
    pub poison_reason: Mutex<Option<String>>,
    pub tables: TableCache,
    pub stats: Counters,
    pub lock: Mutex<Option<Box<dyn FileLock>>>,
    pub thread: Mutex<Option<JoinHandle<()>>>,
    /// Compaction threads' shared state (see `compact`).
    pub compaction: Mutex<compact::CompactionState>,
    /// Wakes compaction threads (new tables, finished compactions) and
    /// writers waiting at the L0 stop trigger.
    pub compact_cv: Condvar,
    pub compactors: Mutex<Vec<JoinHandle<()>>>,
    /// Tables replaced by compactions, removed once unreferenced.
    pub obsolete: Mutex<Vec<Arc<FileMeta>>>,
    /// Set at close: running compactions stop early.
    pub closing: AtomicBool,
    pub events: events::EventLog,
}

impl Inner {
    pub fn super_version(&self) -> Arc<SuperVersion> {
        Arc::clone(&self.sv.read())
    }

    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    pub fn check_writable(&self) -> Result<()> {
        self.check_open()?;
        if self.poisoned.load(Ordering::Acquire) {
            let why = self
                .poison_reason
                .lock()
                .clone()
                .unwrap_or_else(|| "an earlier failure".into());
            return Err(Error::Poisoned(why));
        }
        Ok(())
    }

    /// Refuse further writes: durability can no longer be promised.
    pub fn poison(&self, why: &Error) {
        let mut r = self.poison_reason.lock();
        if r.is_none() {
            *r = Some(why.to_string());
        }
        self.poisoned.store(true, Ordering::Release);
    }

    pub fn new_file_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::AcqRel)
    }

    /// Close: flush the memtables to tables (so the next open replays
    /// nothing), sync the log, stop the flush thread, release the lock. On
    /// a poisoned handle nothing is flushed; the next open recovers the
    /// durable state from the log.
    fn close(self: &Arc<Self>) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        let flushed = if self.poisoned.load(Ordering::Acquire) {
            Ok(())
        } else {
            flush::flush_now(self)
        };
        if self.closed.swap(true, Ordering::AcqRel) {
            return flushed;
        }
        let sync_result = {
            let mut ws = self.write.lock();
            if self.poisoned.load(Ordering::Acquire) {
                Ok(())
            } else {
                ws.log.sync()
            }
        };
        {
            let mut bg = self.bg.lock();
            bg.stop = true;
        }
        self.bg_cv.notify_all();
        self.done_cv.notify_all();
        let handle = self.thread.lock().take();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        compact::shutdown(self);
        // Wake writers still queued; they see `closed`.
        self.queue_cv.notify_all();
        self.lock.lock().take();
        flushed.and(sync_result)
    }
}

/// Keeps the database open while any [`Db`] clone exists; closes it when
/// the last one is dropped.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.inner.close();
    }
}

/// An open database: the LSM engine behind [`KvStore`]. Cloning is cheap
/// and shares the database; dropping the last clone closes it.
///
/// ```
/// use kv_api::{KvRead, KvStore};
/// let dir = tempfile::tempdir()?;
/// let db = engine::Db::open(dir.path(), engine::Options::default())?;
/// db.put(b"hello", b"world")?;
/// assert_eq!(db.get(b"hello")?, Some(b"world".to_vec()));
/// db.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Db {
    handle: Arc<Handle>,
}

impl Db {
    /// Open (or create) the database in directory `path`.
    ///
    /// Fails with `Error::Locked` when another process or handle has it
    /// open, and with `Error::Corruption` (naming file and offset) when its
    /// files are damaged beyond a torn tail of the last log.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Db> {
        let inner = open::open(path.as_ref(), options)?;
        Ok(Db {
            handle: Arc::new(Handle { inner }),
        })
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// The directory holding the database.
    pub fn path(&self) -> &Path {
        &self.inner().dir
    }

    /// The last committed sequence number.
    pub fn sequence(&self) -> u64 {
        self.inner().visible_seq.load(Ordering::Acquire)
    }

    /// Compact the whole database: flush, then merge level by level down
    /// to the deepest level holding data. Versions no snapshot needs and
    /// tombstones with nothing older below them are dropped, so the space
    /// they took is reclaimed. Runs in the caller's thread, alongside the
    /// background compactions.
    pub fn compact(&self) -> Result<()> {
        self.inner().check_writable()?;
        compact::compact_all(self.inner())
    }

    /// Wait until no compaction is running and no level needs one (or
    /// return the error of the last failed attempt).
    pub fn wait_for_compactions(&self) -> Result<()> {
        compact::wait_idle(self.inner())
    }

    /// The engine's statistics, typed (the same figures as
    /// [`KvStore::stats`]).
    pub fn engine_stats(&self) -> EngineStats {
        engine_stats(self.inner())
    }

    /// Number of tables per level (for tests and tools).
    pub fn level_file_counts(&self) -> Vec<usize> {
        self.inner()
            .super_version()
            .version
            .levels
            .iter()
            .map(Vec::len)
            .collect()
    }
}

impl KvRead for Db {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let inner = self.inner();
        inner.check_open()?;
        let (sv, snap) = read::current_view(inner);
        read::get(inner, &sv, key, snap)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        let inner = self.inner();
        inner.check_open()?;
        let (sv, snap) = read::current_view(inner);
        read::iter(inner, sv, range, direction, snap, None)
    }
}

impl KvStore for Db {
    fn write(&self, batch: WriteBatch, opts: &WriteOptions) -> Result<()> {
        write::write(self.inner(), batch, opts.sync, None)
    }

    fn snapshot(&self) -> Result<Box<dyn Snapshot>> {
        Ok(Box::new(snapshot::DbSnapshot::new(self.inner())?))
    }

    fn begin(&self) -> Result<Box<dyn Transaction>> {
        snapshot::begin(self.inner())
    }

    fn flush(&self) -> Result<()> {
        flush::flush_now(self.inner())
    }

    fn stats(&self) -> Stats {
        stats(self.inner())
    }

    fn limits(&self) -> Limits {
        self.inner().opts.limits
    }

    fn close(&self) -> Result<()> {
        self.inner().close()
    }
}

fn stats(inner: &Inner) -> Stats {
    engine_stats(inner).to_kv_stats()
}

fn engine_stats(inner: &Inner) -> EngineStats {
    let c = &inner.stats;
    let g = Counters::get;
    let blocks = inner.tables.blocks();
    let reads = &blocks.reads;
    let sv = inner.super_version();
    let mut levels = [LevelStats::default(); crate::version::NUM_LEVELS];
    for (l, files) in sv.version.levels.iter().enumerate() {
        levels[l] = LevelStats {
            files: files.len() as u64,
            bytes: files.iter().map(|f| f.size).sum(),
        };
    }
    EngineStats {
        sequence: inner.visible_seq.load(Ordering::Acquire),
        user_bytes_written: g(&c.user_bytes),
        log_bytes_written: g(&c.log_bytes),
        flush_bytes_written: g(&c.flush_bytes),
        compaction_bytes_written: g(&c.compaction_bytes),
        user_bytes_read: g(&reads.bytes_read),
        compaction_bytes_read: g(&reads.compaction_bytes_read),
        batches: g(&c.batches),
        write_groups: g(&c.groups),
        syncs: g(&c.syncs),
        slowdown_micros: g(&c.slowdown_micros),
        stop_micros: g(&c.stop_micros),
        slowdowns: g(&c.slowdowns),
        stops: g(&c.stops),
        gets: g(&c.gets),
        iterators: g(&c.iters),
        conflicts: g(&c.conflicts),
        flushes: g(&c.flushes),
        flush_errors: g(&c.flush_errors),
        compactions: g(&c.compactions),
        compaction_failures: g(&c.compaction_failures),
        trivial_moves: g(&c.trivial_moves),
        compactions_running: inner.compaction.lock().running.len() as u64,
        compaction_micros: g(&c.compaction_micros),
        dropped_versions: g(&c.dropped_versions),
        dropped_tombstones: g(&c.dropped_tombstones),
        dropped_range_tombstones: g(&c.dropped_range_tombstones),
        manifest_rollovers: g(&c.manifest_rollovers),
        block_cache_hits: blocks.hits.load(Ordering::Relaxed),
        block_cache_misses: blocks.misses.load(Ordering::Relaxed),
        block_cache_bytes: blocks.used() as u64,
        bloom_useful: g(&reads.bloom_useful),
        bloom_false_positives: g(&reads.bloom_false_positive),
        bloom_true_positives: g(&reads.bloom_true_positive),
        memtable_bytes: sv.mem.approx_bytes() as u64,
        immutable_memtables: sv.imms.len() as u64,
        levels,
        live_snapshots: inner.snapshots.lock().values().sum::<usize>() as u64,
        torn_tail_bytes: g(&c.torn_tail_bytes),
        last_background_error: inner.events.last_error.lock().clone(),
    }
}
