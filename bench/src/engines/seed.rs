//! The seed, `lsm-db` 1.1 with its `durability` (write-ahead log) and
//! `bloom` features. Its log fsyncs every write and cannot be told not to,
//! and its scans copy the rest of the range into a `Vec` before returning.

use std::path::Path;

use lsm_db::{Batch, Lsm, LsmConfig};

use super::{Engine, Factory};

struct Seed {
    db: Lsm,
}

pub fn factory() -> Factory {
    Factory {
        name: "lsm-db 1.1",
        durability: "WAL on, fsync on every write (not configurable)",
        open: |dir: &Path| {
            let cfg = LsmConfig::new()
                .memtable_capacity(64 << 20)
                .block_cache_capacity(64 << 20);
            Box::new(Seed {
                db: Lsm::open_with(dir, cfg).expect("open lsm-db"),
            })
        },
    }
}

impl Engine for Seed {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.db.put(key, value).expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        self.db.put(key, value).expect("put");
    }

    fn put_batch(&self, entries: &[(Vec<u8>, Vec<u8>)]) {
        let mut b = Batch::new();
        for (k, v) in entries {
            b.put(k, v);
        }
        self.db.write(b).expect("batch");
    }

    fn get(&self, key: &[u8]) -> bool {
        self.db.get(key).expect("get").is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        self.db.scan(key.to_vec()..).expect("scan").take(n).count()
    }

    fn read_all(&self) -> usize {
        self.db.scan(..).expect("scan").count()
    }

    fn settle(&self) {}
}
