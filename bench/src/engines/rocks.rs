//! RocksDB 7.8.3, Debian's prebuilt shared library, through the `rocksdb`
//! crate 0.20.1 (whose bindings are generated from the installed headers;
//! see `bench/.cargo/config.toml`). Settings follow db_bench's defaults where
//! the issue does not fix them: leveled compaction, 64 MiB write buffer and
//! LRU block cache, bloom filters of 10 bits per key, no compression,
//! background jobs = cores (2 here).
//!
//! Why not a current RocksDB: the crate's bundled C++ build did not finish
//! on this shared 2-core machine (over an hour); the system library links in
//! seconds. For simplicity the statistics come from RocksDB's text dump
//! (this crate version has no ticker API).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::{
    BlockBasedOptions, Cache, DB, DBCompressionType, IteratorMode, Options, WriteBatch,
    WriteOptions,
};

use super::{CACHE_BYTES, Engine, Factory};

struct Rocks {
    db: DB,
    /// Holds the statistics object the database shares.
    opts: Options,
    sync: WriteOptions,
    buffered: WriteOptions,
    /// Key + value bytes written through this handle: the denominator of
    /// the write amplification, counted the way the other engines count it.
    user_bytes: AtomicU64,
}

pub fn factory() -> Factory {
    Factory {
        id: "rocksdb",
        name: "RocksDB 7.8.3",
        settings: "Debian's librocksdb 7.8.3 via rocksdb 0.20.1; 64 MiB write buffer and LRU \
                   block cache, bloom 10 bits/key, no compression, leveled compaction, \
                   2 background jobs, statistics on; WAL on, sync=false (fillsync*: \
                   sync=true, RocksDB groups concurrent writers); closes without waiting \
                   for compactions",
        open: |dir: &Path| {
            let mut opts = Options::default();
            opts.create_if_missing(true);
            opts.set_write_buffer_size(CACHE_BYTES);
            opts.set_compression_type(DBCompressionType::None);
            opts.set_max_background_jobs(2);
            opts.enable_statistics();
            let mut table = BlockBasedOptions::default();
            let cache = Cache::new_lru_cache(CACHE_BYTES).expect("rocksdb block cache");
            table.set_block_cache(&cache);
            table.set_bloom_filter(10.0, false);
            opts.set_block_based_table_factory(&table);
            let db = DB::open(&opts, dir).expect("open rocksdb");
            let mut sync = WriteOptions::default();
            sync.set_sync(true);
            let buffered = WriteOptions::default();
            Box::new(Rocks {
                db,
                opts,
                sync,
                buffered,
                user_bytes: AtomicU64::new(0),
            })
        },
    }
}

impl Rocks {
    fn count(&self, key: &[u8], value: &[u8]) {
        self.user_bytes
            .fetch_add((key.len() + value.len()) as u64, Ordering::Relaxed);
    }

    /// The statistics dump's `COUNT` of each named ticker, in order (0 when
    /// absent). Lines look like `rocksdb.flush.write.bytes COUNT : 123`.
    fn tickers<const N: usize>(&self, names: [&str; N]) -> [u64; N] {
        let mut out = [0; N];
        let text = self.opts.get_statistics().unwrap_or_default();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(name), Some("COUNT"), Some(":"), Some(v)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Some(i) = names.iter().position(|n| *n == name) {
                out[i] = v.parse().unwrap_or(0);
            }
        }
        out
    }
}

impl Engine for Rocks {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.count(key, value);
        self.db.put_opt(key, value, &self.buffered).expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        self.count(key, value);
        self.db.put_opt(key, value, &self.sync).expect("put sync");
    }

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut b = WriteBatch::default();
        for (k, v) in entries {
            self.count(k, v);
            b.put(k, v);
        }
        self.db.write_opt(b, &self.buffered).expect("batch");
    }

    fn get(&self, key: &[u8]) -> bool {
        self.db.get_pinned(key).expect("get").is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        let mut it = self.db.raw_iterator();
        it.seek(key);
        let mut c = 0;
        while c < n && it.valid() {
            std::hint::black_box((it.key().map(<[u8]>::len), it.value().map(<[u8]>::len)));
            c += 1;
            it.next();
        }
        it.status().expect("iterator");
        c
    }

    fn read_all(&self) -> usize {
        let mut c = 0;
        for e in self.db.iterator(IteratorMode::Start) {
            let (k, v) = e.expect("next");
            std::hint::black_box((k.len(), v.len()));
            c += 1;
        }
        c
    }

    fn stats_line(&self) -> String {
        let p = |n: &str| self.db.property_int_value(n).ok().flatten().unwrap_or(0);
        let [flush, compact, wal, stall, hit, miss] = self.tickers([
            "rocksdb.flush.write.bytes",
            "rocksdb.compact.write.bytes",
            "rocksdb.wal.bytes",
            "rocksdb.stall.micros",
            "rocksdb.block.cache.hit",
            "rocksdb.block.cache.miss",
        ]);
        format!(
            "L0 files {}, L1 files {}, L2 files {}, live SST bytes {}, pending compaction \
             bytes {}, flush bytes {flush}, compaction bytes written {compact}, WAL bytes \
             {wal}, stall micros {stall}, block cache hits {hit} misses {miss}",
            p("rocksdb.num-files-at-level0"),
            p("rocksdb.num-files-at-level1"),
            p("rocksdb.num-files-at-level2"),
            p("rocksdb.live-sst-files-size"),
            p("rocksdb.estimate-pending-compaction-bytes"),
        )
    }

    fn reported_write_amp(&self) -> Option<(f64, String)> {
        let [wal, flush, compact] = self.tickers([
            "rocksdb.wal.bytes",
            "rocksdb.flush.write.bytes",
            "rocksdb.compact.write.bytes",
        ]);
        let user = self.user_bytes.load(Ordering::Relaxed);
        (user > 0).then(|| {
            (
                (wal + flush + compact) as f64 / user as f64,
                format!(
                    "(WAL {:.2} + flush {:.2} + compaction {:.2}) / user key+value bytes",
                    wal as f64 / user as f64,
                    flush as f64 / user as f64,
                    compact as f64 / user as f64
                ),
            )
        })
    }
}
