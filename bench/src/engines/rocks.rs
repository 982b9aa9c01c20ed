//! RocksDB through the `rocksdb` crate, built without any compression
//! library. Settings follow db_bench's defaults where the issue does not
//! fix them: leveled compaction, 64 MiB write buffer and LRU block cache,
//! bloom filters of 10 bits per key, background jobs = cores (2 here).

use std::path::Path;

use rocksdb::statistics::Ticker;
use rocksdb::{
    BlockBasedOptions, Cache, DB, DBCompressionType, IteratorMode, Options, WriteBatch,
    WriteOptions,
};

use super::{CACHE_BYTES, Engine, Factory};

struct Rocks {
    db: DB,
    opts: Options,
    sync: WriteOptions,
    buffered: WriteOptions,
}

pub fn factory() -> Factory {
    Factory {
        id: "rocksdb",
        name: "RocksDB (rocksdb 0.25)",
        settings: "64 MiB write buffer and LRU block cache, bloom 10 bits/key, no compression, \
                   leveled compaction, 2 background jobs; WAL on, sync=false (fillsync*: \
                   sync=true, RocksDB groups concurrent writers)",
        open: |dir: &Path| {
            let mut opts = Options::default();
            opts.create_if_missing(true);
            opts.set_write_buffer_size(CACHE_BYTES);
            opts.set_compression_type(DBCompressionType::None);
            opts.set_max_background_jobs(2);
            opts.enable_statistics();
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&Cache::new_lru_cache(CACHE_BYTES));
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
            })
        },
    }
}

impl Engine for Rocks {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.db.put_opt(key, value, &self.buffered).expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        self.db.put_opt(key, value, &self.sync).expect("put sync");
    }

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut b = WriteBatch::default();
        for (k, v) in entries {
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
        for e in self
            .db
            .iterator(IteratorMode::From(&[], Direction::Forward))
        {
            let (k, v) = e.expect("next");
            std::hint::black_box((k.len(), v.len()));
            c += 1;
        }
        c
    }

    fn stats_line(&self) -> String {
        let p = |n: &str| self.db.property_int_value(n).ok().flatten().unwrap_or(0);
        let t = |x: Ticker| self.opts.get_ticker_count(x);
        format!(
            "L0 files {}, live SST bytes {}, flush bytes {}, compaction bytes written {}, \
             WAL bytes {}, stall micros {}, block cache hits {} misses {}",
            p("rocksdb.num-files-at-level0"),
            p("rocksdb.live-sst-files-size"),
            t(Ticker::FlushWriteBytes),
            t(Ticker::CompactWriteBytes),
            t(Ticker::WalFileBytes),
            t(Ticker::StallMicros),
            t(Ticker::BlockCacheHit),
            t(Ticker::BlockCacheMiss),
        )
    }

    fn reported_write_amp(&self) -> Option<(f64, String)> {
        let t = |x: Ticker| self.opts.get_ticker_count(x);
        let user = t(Ticker::BytesWritten);
        let rest =
            t(Ticker::WalFileBytes) + t(Ticker::FlushWriteBytes) + t(Ticker::CompactWriteBytes);
        (user > 0).then(|| {
            (
                rest as f64 / user as f64,
                "(WAL + flush + compaction bytes) / rocksdb.bytes.written".to_string(),
            )
        })
    }
}
