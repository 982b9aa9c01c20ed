//! This repository's engine, through the `KvStore` contract the SQL layer
//! uses (so the numbers include the trait's costs).

use std::path::Path;

use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

use super::{Engine, Factory};

struct Ours {
    db: engine::Db,
}

pub fn factory() -> Factory {
    Factory {
        name: "engine",
        durability: "WAL on, buffered (write per batch, no fsync); fillsync: fsync per write",
        open: |dir: &Path| {
            let db = engine::Db::open(dir, engine::Options::default()).expect("open engine");
            Box::new(Ours { db })
        },
    }
}

impl Engine for Ours {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.db.put(key, value).expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        let mut b = WriteBatch::with_capacity(1);
        b.put(key, value);
        self.db.write(b, &WriteOptions::SYNC).expect("put sync");
    }

    fn put_batch(&self, entries: &[(Vec<u8>, Vec<u8>)]) {
        let mut b = WriteBatch::with_capacity(entries.len());
        for (k, v) in entries {
            b.put(k.as_slice(), v.as_slice());
        }
        self.db.write(b, &WriteOptions::default()).expect("batch");
    }

    fn get(&self, key: &[u8]) -> bool {
        self.db.get(key).expect("get").is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        let mut it = self
            .db
            .iter(
                KeyRange::new(
                    std::ops::Bound::Included(key.to_vec()),
                    std::ops::Bound::Unbounded,
                ),
                Direction::Forward,
            )
            .expect("iter");
        let mut c = 0;
        while c < n {
            match it.next().expect("next") {
                Some(_) => c += 1,
                None => break,
            }
        }
        c
    }

    fn read_all(&self) -> usize {
        let mut it = self
            .db
            .iter(KeyRange::all(), Direction::Forward)
            .expect("iter");
        let mut c = 0;
        while it.next().expect("next").is_some() {
            c += 1;
        }
        c
    }

    fn settle(&self) {}

    fn stats_line(&self) -> String {
        let s = self.db.stats();
        let g = |n: &str| s.get(n).unwrap_or(0);
        format!(
            "L0 files {}, flushes {}, stall {} ms, write groups {} for {} batches, cache hits {} misses {}",
            g("level.0.files"),
            g("flush.count"),
            g("writes.stall_micros") / 1000,
            g("writes.groups"),
            g("writes.batches"),
            g("cache.block.hits"),
            g("cache.block.misses"),
        )
    }
}
