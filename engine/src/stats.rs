//! Statistics: counters the engine keeps, as a typed [`EngineStats`]
//! ([`Db::engine_stats`](crate::Db::engine_stats)) and as the kv-api's
//! name/value list (`KvStore::stats`, backend name `"engine"`).
//!
//! | name | meaning |
//! |---|---|
//! | `sequence` | last committed sequence number |
//! | `bytes.written.user` | key and value bytes of committed batches |
//! | `bytes.written.log` | bytes appended to write-ahead logs |
//! | `bytes.written.flush` | bytes of tables written by flushes |
//! | `bytes.written.compaction` | bytes of tables written by compactions |
//! | `write_amplification.x1000` | 1000 × (flush + compaction bytes) / user bytes |
//! | `write_amplification_with_log.x1000` | the same with log bytes added |
//! | `bytes.read.user` | table bytes read (block cache misses) by gets and iterators |
//! | `bytes.read.compaction` | table bytes read by compactions |
//! | `writes.batches` / `writes.groups` | batches committed / log writes (group commit merges batches) |
//! | `writes.syncs` | log fsyncs |
//! | `writes.stall_micros` | time writers were held back (all causes) |
//! | `writes.slowdown_micros` / `writes.stop_micros` | of which delayed (1 ms per group) / stopped |
//! | `writes.slowdowns` / `writes.stops` | write groups delayed / stopped |
//! | `reads.point` / `reads.iterators` | gets / iterators created |
//! | `transactions.conflicts` | commits refused with `Conflict` |
//! | `flush.count` / `flush.errors` | memtables flushed / failed attempts |
//! | `compaction.count` / `compaction.failures` | compactions done (trivial moves included) / failed attempts |
//! | `compaction.trivial_moves` | tables moved down by a manifest edit alone |
//! | `compaction.running` | compactions in progress |
//! | `compaction.micros` | time spent compacting |
//! | `compaction.dropped.versions` | versions dropped (hidden by newer ones or by range tombstones) |
//! | `compaction.dropped.tombstones` | point tombstones dropped at the bottom |
//! | `compaction.dropped.range_tombstones` | range tombstone fragments dropped |
//! | `manifest.rollovers` | manifests rewritten as a snapshot |
//! | `cache.block.hits` / `cache.block.misses` / `cache.block.bytes` | block cache |
//! | `bloom.useful` | point reads a bloom filter answered without reading a block |
//! | `bloom.false_positives` / `bloom.true_positives` | point reads the filter let through that found nothing / something |
//! | `memtable.bytes` / `memtable.immutable` | active memtable size, frozen ones waiting |
//! | `level.N.files` / `level.N.bytes` | tables per level |
//! | `snapshots.live` | registered snapshots and transactions |
//! | `recovery.torn_tail_bytes` | bytes of a torn tail (to its last non-zero byte) cut from the last log at open |

use std::sync::atomic::{AtomicU64, Ordering};

use kv_api::Stats;

use crate::version::NUM_LEVELS;

/// The engine's counters.
#[derive(Default)]
pub struct Counters {
    pub(crate) user_bytes: AtomicU64,
    pub(crate) log_bytes: AtomicU64,
    pub(crate) flush_bytes: AtomicU64,
    pub(crate) compaction_bytes: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) groups: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) slowdown_micros: AtomicU64,
    pub(crate) stop_micros: AtomicU64,
    pub(crate) slowdowns: AtomicU64,
    pub(crate) stops: AtomicU64,
    pub(crate) gets: AtomicU64,
    pub(crate) iters: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) flush_errors: AtomicU64,
    pub(crate) compactions: AtomicU64,
    pub(crate) compaction_failures: AtomicU64,
    pub(crate) trivial_moves: AtomicU64,
    pub(crate) compaction_micros: AtomicU64,
    pub(crate) dropped_versions: AtomicU64,
    pub(crate) dropped_tombstones: AtomicU64,
    pub(crate) dropped_range_tombstones: AtomicU64,
    pub(crate) manifest_rollovers: AtomicU64,
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

/// Tables and bytes of one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelStats {
    /// Tables.
    pub files: u64,
    /// Bytes of those tables.
    pub bytes: u64,
}

/// A snapshot of the engine's statistics (see the module table for the
/// meaning of each field).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct EngineStats {
    /// Last committed sequence number.
    pub sequence: u64,
    /// Key and value bytes of committed batches.
    pub user_bytes_written: u64,
    /// Bytes appended to write-ahead logs.
    pub log_bytes_written: u64,
    /// Bytes of tables written by flushes.
    pub flush_bytes_written: u64,
    /// Bytes of tables written by compactions.
    pub compaction_bytes_written: u64,
    /// Table bytes read by gets and iterators (block cache misses).
    pub user_bytes_read: u64,
    /// Table bytes read by compactions.
    pub compaction_bytes_read: u64,
    /// Batches committed.
    pub batches: u64,
    /// Log writes (group commits).
    pub write_groups: u64,
    /// Log fsyncs.
    pub syncs: u64,
    /// Microseconds writers were delayed (slowdowns).
    pub slowdown_micros: u64,
    /// Microseconds writers were stopped.
    pub stop_micros: u64,
    /// Write groups delayed.
    pub slowdowns: u64,
    /// Write groups stopped.
    pub stops: u64,
    /// Point reads.
    pub gets: u64,
    /// Iterators created.
    pub iterators: u64,
    /// Transaction commits refused with `Conflict`.
    pub conflicts: u64,
    /// Memtables flushed.
    pub flushes: u64,
    /// Failed flush attempts.
    pub flush_errors: u64,
    /// Compactions done (trivial moves included).
    pub compactions: u64,
    /// Failed compaction attempts.
    pub compaction_failures: u64,
    /// Tables moved down without a rewrite.
    pub trivial_moves: u64,
    /// Compactions in progress.
    pub compactions_running: u64,
    /// Microseconds spent compacting.
    pub compaction_micros: u64,
    /// Versions dropped by compactions.
    pub dropped_versions: u64,
    /// Point tombstones dropped by compactions.
    pub dropped_tombstones: u64,
    /// Range tombstone fragments dropped by compactions.
    pub dropped_range_tombstones: u64,
    /// Manifests rewritten as a snapshot.
    pub manifest_rollovers: u64,
    /// Block cache hits.
    pub block_cache_hits: u64,
    /// Block cache misses.
    pub block_cache_misses: u64,
    /// Bytes in the block cache.
    pub block_cache_bytes: u64,
    /// Point reads a bloom filter answered without reading a block.
    pub bloom_useful: u64,
    /// Point reads a filter let through that found nothing in the table.
    pub bloom_false_positives: u64,
    /// Point reads a filter let through that found an entry.
    pub bloom_true_positives: u64,
    /// Bytes of the active memtable.
    pub memtable_bytes: u64,
    /// Frozen memtables waiting for their flush.
    pub immutable_memtables: u64,
    /// Tables and bytes per level.
    pub levels: [LevelStats; NUM_LEVELS],
    /// Registered snapshots and transactions.
    pub live_snapshots: u64,
    /// Bytes cut from the last log at open.
    pub torn_tail_bytes: u64,
    /// The last background (flush or compaction) error, if any.
    pub last_background_error: Option<String>,
}

impl EngineStats {
    /// (flush + compaction bytes) / user bytes: how many times each byte
    /// written by users was written to tables (0 before any write).
    pub fn write_amplification(&self) -> f64 {
        if self.user_bytes_written == 0 {
            return 0.0;
        }
        (self.flush_bytes_written + self.compaction_bytes_written) as f64
            / self.user_bytes_written as f64
    }

    /// [`write_amplification`](Self::write_amplification) with the log's
    /// bytes counted as well.
    pub fn write_amplification_with_log(&self) -> f64 {
        if self.user_bytes_written == 0 {
            return 0.0;
        }
        (self.flush_bytes_written + self.compaction_bytes_written + self.log_bytes_written) as f64
            / self.user_bytes_written as f64
    }

    /// Microseconds writers were held back, all causes.
    pub fn stall_micros(&self) -> u64 {
        self.slowdown_micros + self.stop_micros
    }

    /// The kv-api name/value list.
    pub fn to_kv_stats(&self) -> Stats {
        let mut s = Stats::new("engine");
        s.push("sequence", self.sequence);
        s.push("bytes.written.user", self.user_bytes_written);
        s.push("bytes.written.log", self.log_bytes_written);
        s.push("bytes.written.flush", self.flush_bytes_written);
        s.push("bytes.written.compaction", self.compaction_bytes_written);
        s.push(
            "write_amplification.x1000",
            (self.write_amplification() * 1000.0) as u64,
        );
        s.push(
            "write_amplification_with_log.x1000",
            (self.write_amplification_with_log() * 1000.0) as u64,
        );
        s.push("bytes.read.user", self.user_bytes_read);
        s.push("bytes.read.compaction", self.compaction_bytes_read);
        s.push("writes.batches", self.batches);
        s.push("writes.groups", self.write_groups);
        s.push("writes.syncs", self.syncs);
        s.push("writes.stall_micros", self.stall_micros());
        s.push("writes.slowdown_micros", self.slowdown_micros);
        s.push("writes.stop_micros", self.stop_micros);
        s.push("writes.slowdowns", self.slowdowns);
        s.push("writes.stops", self.stops);
        s.push("reads.point", self.gets);
        s.push("reads.iterators", self.iterators);
        s.push("transactions.conflicts", self.conflicts);
        s.push("flush.count", self.flushes);
        s.push("flush.errors", self.flush_errors);
        s.push("compaction.count", self.compactions);
        s.push("compaction.failures", self.compaction_failures);
        s.push("compaction.trivial_moves", self.trivial_moves);
        s.push("compaction.running", self.compactions_running);
        s.push("compaction.micros", self.compaction_micros);
        s.push("compaction.dropped.versions", self.dropped_versions);
        s.push("compaction.dropped.tombstones", self.dropped_tombstones);
        s.push(
            "compaction.dropped.range_tombstones",
            self.dropped_range_tombstones,
        );
        s.push("manifest.rollovers", self.manifest_rollovers);
        s.push("cache.block.hits", self.block_cache_hits);
        s.push("cache.block.misses", self.block_cache_misses);
        s.push("cache.block.bytes", self.block_cache_bytes);
        s.push("bloom.useful", self.bloom_useful);
        s.push("bloom.false_positives", self.bloom_false_positives);
        s.push("bloom.true_positives", self.bloom_true_positives);
        s.push("memtable.bytes", self.memtable_bytes);
        s.push("memtable.immutable", self.immutable_memtables);
        for (l, ls) in self.levels.iter().enumerate() {
            s.push(format!("level.{l}.files"), ls.files);
            s.push(format!("level.{l}.bytes"), ls.bytes);
        }
        s.push("snapshots.live", self.live_snapshots);
        s.push("recovery.torn_tail_bytes", self.torn_tail_bytes);
        s
    }
}
