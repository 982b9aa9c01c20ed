//! Counters the engine keeps, reported through `KvStore::stats` under the
//! backend name `"engine"`.
//!
//! | name | meaning |
//! |---|---|
//! | `sequence` | last committed sequence number |
//! | `bytes.written.user` | key and value bytes of committed batches |
//! | `bytes.written.log` | bytes appended to write-ahead logs |
//! | `bytes.written.flush` | bytes of tables written by flushes |
//! | `writes.batches` / `writes.groups` | batches committed / log writes (group commit merges batches) |
//! | `writes.syncs` | log fsyncs |
//! | `writes.stall_micros` | time writers waited for flushes (slowdowns and stops) |
//! | `writes.slowdowns` / `writes.stops` | write groups delayed / stopped |
//! | `reads.point` / `reads.iterators` | gets / iterators created |
//! | `transactions.conflicts` | commits refused with `Conflict` |
//! | `flush.count` / `flush.errors` | memtables flushed / failed attempts |
//! | `cache.block.hits` / `cache.block.misses` / `cache.block.bytes` | block cache |
//! | `memtable.bytes` / `memtable.immutable` | active memtable size, frozen ones waiting |
//! | `level.N.files` / `level.N.bytes` | tables per level |
//! | `snapshots.live` | registered snapshots and transactions |
//! | `recovery.torn_tail_bytes` | bytes cut from the last log at open |

use std::sync::atomic::{AtomicU64, Ordering};

/// The engine's counters.
#[derive(Default)]
pub struct Counters {
    pub(crate) user_bytes: AtomicU64,
    pub(crate) log_bytes: AtomicU64,
    pub(crate) flush_bytes: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) groups: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) stall_micros: AtomicU64,
    pub(crate) slowdowns: AtomicU64,
    pub(crate) stops: AtomicU64,
    pub(crate) gets: AtomicU64,
    pub(crate) iters: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) flush_errors: AtomicU64,
    pub(crate) torn_tail_bytes: AtomicU64,
}

impl Counters {
    #[inline]
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}
