//! The seed, `lsm-db` 1.1 with its `durability` (write-ahead log) and
//! `bloom` features. Its log fsyncs every write and cannot be told not to,
//! and its scans copy the rest of the range into a `Vec` before returning.

use std::path::Path;

use lsm_db::{Batch, Lsm, LsmConfig};

use super::{CACHE_BYTES, Engine, Factory};

struct Seed {
    db: Lsm,
}

pub fn factory() -> Factory {
    Factory {
        id: "lsm-db",
        name: "lsm-db 1.1",
        settings: "64 MiB memtable and block cache, bloom on; WAL fsyncs on every write \
                   (not configurable), so fillseq/fillrandom/overwrite are fsync-bound",
        open: |dir: &Path| {
            let cfg = LsmConfig::new()
                .memtable_capacity(CACHE_BYTES)
                .block_cache_capacity(CACHE_BYTES);
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

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut b = Batch::new();
        for (k, v) in entries {
            b.put(*k, *v);
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
}
