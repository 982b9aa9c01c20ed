//! Caches between the read path and the disk: a sharded block cache with a
//! capacity in bytes ([`BlockCache`]) and a bounded cache of open tables
//! ([`TableCache`], each entry an open file with its index, filter and range
//! tombstones in memory).

pub mod lru;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kv_api::Result;

use crate::fs::FileSystem;
use crate::sstable::block::Block;
use crate::sstable::table::Table;
use lru::Lru;

/// Data blocks keyed by (table file number, block offset).
pub struct BlockCache {
    lru: Lru<(u64, u64), Arc<Block>>,
    /// Lookups that found the block.
    pub hits: AtomicU64,
    /// Lookups that had to read the file.
    pub misses: AtomicU64,
}

impl BlockCache {
    /// A cache holding up to `bytes` of blocks.
    pub fn new(bytes: usize) -> Self {
        BlockCache {
            lru: Lru::new(bytes, 16),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A cached block.
    pub fn get(&self, file: u64, offset: u64) -> Option<Arc<Block>> {
        let b = self.lru.get(&(file, offset));
        if b.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        b
    }

    /// Remember a block.
    pub fn insert(&self, file: u64, offset: u64, block: Arc<Block>) {
        let charge = block.size() + 64;
        self.lru.insert((file, offset), block, charge);
    }

    /// Bytes cached.
    pub fn used(&self) -> usize {
        self.lru.used()
    }
}

/// Open tables keyed by file number.
pub struct TableCache {
    lru: Lru<u64, Arc<Table>>,
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    blocks: Arc<BlockCache>,
}

impl TableCache {
    /// A cache of up to `max_open` tables in `dir`.
    pub fn new(
        fs: Arc<dyn FileSystem>,
        dir: &Path,
        max_open: usize,
        blocks: Arc<BlockCache>,
    ) -> Self {
        TableCache {
            lru: Lru::new(max_open.max(1), 4),
            fs,
            dir: dir.to_path_buf(),
            blocks,
        }
    }

    /// The open table with file number `number`, opening it if needed.
    pub fn get(&self, number: u64) -> Result<Arc<Table>> {
        if let Some(t) = self.lru.get(&number) {
            return Ok(t);
        }
        let path = crate::db::files::table_path(&self.dir, number);
        let t = Arc::new(Table::open(
            &*self.fs,
            &path,
            number,
            Arc::clone(&self.blocks),
        )?);
        self.lru.insert(number, Arc::clone(&t), 1);
        Ok(t)
    }

    /// Forget a table (its file is going away).
    pub fn evict(&self, number: u64) {
        self.lru.remove(&number);
    }

    /// The shared block cache.
    pub fn blocks(&self) -> &Arc<BlockCache> {
        &self.blocks
    }
}
