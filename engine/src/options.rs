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
    /// Block compression (default none; see [`Compression`]).
    pub compression: Compression,
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
            compression: Compression::None,
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

    pub(crate) fn table_options(&self) -> crate::sstable::builder::TableOptions {
        crate::sstable::builder::TableOptions {
            block_size: self.block_size.max(64),
            restart_interval: self.block_restart_interval.max(1),
            bloom_bits_per_key: self.bloom_bits_per_key,
            compression: self.compression,
        }
    }
}
