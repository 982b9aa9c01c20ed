//! Caches between the read path and the disk: a sharded CLOCK block cache with a
//! capacity in bytes ([`BlockCache`]) and a bounded cache of open tables
//! ([`TableCache`], each entry an open file with its index, filter and range
//! tombstones in memory).

pub mod clock;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kv_api::Result;
use parking_lot::RwLock;

use crate::fs::FileSystem;
use crate::sstable::block::Block;
use crate::sstable::table::Table;
use clock::Clock;

/// Counters of table reads, kept beside the block cache because every open
/// table shares it.
#[derive(Default, Debug)]
pub struct ReadStats {
    /// Bytes of data blocks read from table files by gets and iterators
    /// (cache misses).
    pub bytes_read: AtomicU64,
    /// Bytes of data blocks read from table files by compactions.
    pub compaction_bytes_read: AtomicU64,
    /// Point reads a bloom filter answered "not here" (a block read saved).
    pub bloom_useful: AtomicU64,
    /// Point reads the filter let through that found no entry in the table.
    pub bloom_false_positive: AtomicU64,
    /// Point reads the filter let through that found an entry.
    pub bloom_true_positive: AtomicU64,
}

/// Data blocks keyed by (table file number, block offset).
pub struct BlockCache {
    store: Clock<(u64, u64), Arc<Block>>,
    /// Lookups that found the block.
    pub hits: AtomicU64,
    /// Lookups that had to read the file.
    pub misses: AtomicU64,
    /// Table read counters.
    pub reads: ReadStats,
}

impl BlockCache {
    /// A cache holding up to `bytes` of blocks.
    pub fn new(bytes: usize) -> Self {
        BlockCache {
            store: Clock::new(bytes, 16),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            reads: ReadStats::default(),
        }
    }

    /// A cached block, without counting a hit or miss (compactions).
    pub fn peek(&self, file: u64, offset: u64) -> Option<Arc<Block>> {
        self.store.get(&(file, offset))
    }

    /// A cached block.
    pub fn get(&self, file: u64, offset: u64) -> Option<Arc<Block>> {
        let b = self.store.get(&(file, offset));
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
        self.store.insert((file, offset), block, charge);
    }

    /// Bytes cached.
    pub fn used(&self) -> usize {
        self.store.used()
    }
}

/// Open tables with the tick of their last use.
type OpenTables = HashMap<u64, (Arc<Table>, AtomicU64), BuildHasherDefault<clock::FastHasher>>;

/// Open tables keyed by file number, at most `max_open` of them.
///
/// Every point read probes several tables, so the hit path matters more
/// than exact LRU order: a hit takes a shared read lock and stamps the
/// entry with a tick (a relaxed store), and only opening a table beyond the
/// limit takes the write lock and evicts the entry with the oldest stamp
/// (a scan of at most `max_open` entries, paid once per table open).
pub struct TableCache {
    open: RwLock<OpenTables>,
    tick: AtomicU64,
    max_open: usize,
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
            open: RwLock::new(HashMap::default()),
            tick: AtomicU64::new(0),
            max_open: max_open.max(1),
            fs,
            dir: dir.to_path_buf(),
            blocks,
        }
    }

    /// The open table with file number `number`, opening it if needed.
    pub fn get(&self, number: u64) -> Result<Arc<Table>> {
        let now = self.tick.fetch_add(1, Ordering::Relaxed);
        if let Some((t, used)) = self.open.read().get(&number) {
            used.store(now, Ordering::Relaxed);
            return Ok(Arc::clone(t));
        }
        let path = crate::db::files::table_path(&self.dir, number);
        let t = Arc::new(Table::open(
            &*self.fs,
            &path,
            number,
            Arc::clone(&self.blocks),
        )?);
        let mut open = self.open.write();
        if open.len() >= self.max_open && !open.contains_key(&number) {
            let oldest = open
                .iter()
                .min_by_key(|(_, (_, used))| used.load(Ordering::Relaxed))
                .map(|(n, _)| *n);
            if let Some(n) = oldest {
                open.remove(&n);
            }
        }
        let entry = open
            .entry(number)
            .or_insert_with(|| (Arc::clone(&t), AtomicU64::new(now)));
        Ok(Arc::clone(&entry.0))
    }

    /// Forget a table (its file is going away).
    pub fn evict(&self, number: u64) {
        self.open.write().remove(&number);
    }

    /// Tables open.
    pub fn len(&self) -> usize {
        self.open.read().len()
    }

    /// True when no table is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shared block cache.
    pub fn blocks(&self) -> &Arc<BlockCache> {
        &self.blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FaultFs;
    use crate::sstable::builder::{TableBuilder, TableOptions};

    #[test]
    fn table_cache_stays_within_its_limit_and_evicts_the_least_recent() {
        let fs = Arc::new(FaultFs::new());
        let dir = Path::new("/tc");
        for n in 1..=4u64 {
            let p = crate::db::files::table_path(dir, n);
            let f = fs.create(&p).unwrap();
            let mut b = TableBuilder::new(
                f,
                p,
                TableOptions {
                    block_size: 4096,
                    restart_interval: 16,
                    bloom_bits_per_key: 10,
                    compression: crate::Compression::None,
                },
            );
            b.add(&crate::key::encode(b"k", n, crate::key::Kind::Put), b"v")
                .unwrap();
            b.finish(&[]).unwrap();
        }
        let tc = TableCache::new(fs, dir, 2, Arc::new(BlockCache::new(1 << 20)));
        tc.get(1).unwrap();
        tc.get(2).unwrap();
        tc.get(1).unwrap(); // 2 is now the least recent
        tc.get(3).unwrap();
        assert_eq!(tc.len(), 2);
        assert!(tc.open.read().contains_key(&1));
        assert!(!tc.open.read().contains_key(&2));
        assert!(tc.get(9).is_err(), "a missing table is an error");
    }
}
