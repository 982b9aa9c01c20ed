//! [`Options`]: how a database is configured when it is opened.

use std::sync::Arc;

use kv_api::Limits;

use crate::fs::{FileSystem, default_fs};
use crate::sstable::Compression;

/// Settings for [`Db::open`](crate::Db::open). `Options::default()` suits
/// most uses; tests shrink the write buffer and inject a
/// [`FaultFs`](crate::fs::FaultFs).
#[derive(Clone, Debug)]
pub struct Options {
    /// Where files are read and written (default: the operating system).
    pub fs: Arc<dyn FileSystem>,
    /// Bytes of writes a memtable collects before it is frozen and flushed
    /// to a table (default 64 MiB).
    pub write_buffer_size: usize,
    /// Frozen memtables waiting for their flush before writers stop; one
    /// fewer slows each write group by a millisecond (default 4).
    pub max_immutable_memtables: usize,
    /// Target size of a table's data blocks (default 4 KiB).
    pub block_size: usize,
    /// Entries between full keys inside a block (default 16).
    pub block_restart_interval: usize,
    /// Bloom filter bits per key; 0 disables filters (default 10, under 1%
    /// false positives).
    pub bloom_bits_per_key: u32,
    /// Capacity of the block cache in bytes (default 64 MiB).
    pub block_cache_bytes: usize,
    /// Open tables kept in the table cache (default 1000).
    pub max_open_tables: usize,
    /// Block compression per level: entry `n` applies to level `n`, the
    /// last entry to every deeper level (empty: none anywhere). Default:
    /// none for L0 and L1 (they are rewritten soon and read most), LZ4
    /// below (most of the data, written once per level). A block is kept
    /// compressed only when that saves 1/8, so incompressible data costs
    /// a compression attempt at write time and nothing at read time.
    pub compression_per_level: Vec<Compression>,
    /// L0 tables that trigger an L0 → L1 compaction (default 4).
    pub level0_compaction_trigger: usize,
    /// L0 tables at which each write group is delayed by 1 ms (default 20).
    pub level0_slowdown_trigger: usize,
    /// L0 tables at which writers wait for compactions (default 36).
    pub level0_stop_trigger: usize,
    /// Target bytes of L1 (default 256 MiB); level `n` targets
    /// `base × multiplier^(n-1)`.
    pub max_bytes_for_level_base: u64,
    /// Growth factor between levels (default 10).
    pub max_bytes_for_level_multiplier: u64,
    /// Compaction output tables are cut at about this size (default 32 MiB).
    pub target_file_size: u64,
    /// An output table is also cut before it would overlap more than this
    /// many times `target_file_size` of the level below its own, bounding
    /// the cost of compacting it later (default 10).
    pub max_grandparent_overlap_factor: u64,
    /// Background compaction threads (default 2; flushes have their own
    /// thread). 0 disables automatic compaction ([`Db::compact`](crate::Db::compact)
    /// still works).
    pub max_background_compactions: usize,
    /// The manifest is rewritten as a snapshot when it grows past this many
    /// bytes (default 4 MiB).
    pub max_manifest_bytes: u64,
    /// Size limits enforced before anything is written.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fs: default_fs(),
            write_buffer_size: 64 << 20,
            max_immutable_memtables: 4,
            block_size: 4096,
            block_restart_interval: 16,
            bloom_bits_per_key: 10,
            block_cache_bytes: 64 << 20,
            max_open_tables: 1000,
            compression_per_level: vec![Compression::None, Compression::None, Compression::Lz4],
            level0_compaction_trigger: 4,
            level0_slowdown_trigger: 20,
            level0_stop_trigger: 36,
            max_bytes_for_level_base: 256 << 20,
            max_bytes_for_level_multiplier: 10,
            target_file_size: 32 << 20,
            max_grandparent_overlap_factor: 10,
            max_background_compactions: 2,
            max_manifest_bytes: 4 << 20,
            limits: Limits::DEFAULT,
        }
    }
}

impl Options {
    /// Default options with a different write buffer size.
    pub fn with_write_buffer(bytes: usize) -> Self {
        Options {
            write_buffer_size: bytes,
            ..Options::default()
        }
    }

    /// These options with another file system.
    pub fn fs(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.fs = fs;
        self
    }

    /// These options with one compression for every level.
    pub fn compression(mut self, c: Compression) -> Self {
        self.compression_per_level = vec![c];
        self
    }

    /// Options for tiny databases in tests: levels of a few KiB, so that
    /// compactions (trivial moves, multi-level, tombstone drops) happen
    /// within a few hundred writes.
    pub fn tiny_levels(mut self) -> Self {
        self.level0_compaction_trigger = 2;
        self.level0_slowdown_trigger = 8;
        self.level0_stop_trigger = 12;
        self.max_bytes_for_level_base = 16 << 10;
        self.max_bytes_for_level_multiplier = 4;
        self.target_file_size = 4 << 10;
        self
    }

    /// The compression of tables written to `level`.
    pub fn compression_for(&self, level: usize) -> Compression {
        let c = &self.compression_per_level;
        c.get(level).or(c.last()).copied().unwrap_or_default()
    }

    pub(crate) fn table_options(&self, level: usize) -> crate::sstable::builder::TableOptions {
        crate::sstable::builder::TableOptions {
            block_size: self.block_size.max(64),
            restart_interval: self.block_restart_interval.max(1),
            bloom_bits_per_key: self.bloom_bits_per_key,
            compression: self.compression_for(level),
        }
    }

    /// Target bytes of `level` (n >= 1).
    pub fn level_target(&self, level: usize) -> u64 {
        let mut t = self.max_bytes_for_level_base.max(1);
        for _ in 1..level {
            t = t.saturating_mul(self.max_bytes_for_level_multiplier.max(2));
        }
        t
    }
}
