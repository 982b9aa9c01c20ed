//! fjall 3 (pure-Rust LSM tree), one keyspace, built without its `lz4`
//! feature so blocks are stored uncompressed.

use std::path::Path;

use fjall::{Database, KeyspaceCreateOptions, PersistMode};

use super::{CACHE_BYTES, Engine, Factory};

struct Fjall {
    db: Database,
    ks: fjall::Keyspace,
}

pub fn factory() -> Factory {
    Factory {
        id: "fjall",
        name: "fjall 3.1",
        settings: "64 MiB block cache and memtable, no compression (built without lz4), \
                   default leveled compaction; journal written to the OS per write, no fsync; \
                   fillsync*: a batch committed with PersistMode::SyncData",
        open: |dir: &Path| {
            let db = Database::builder(dir)
                .cache_size(CACHE_BYTES as u64)
                .open()
                .expect("open fjall");
            let ks = db
                .keyspace("kv", || {
                    KeyspaceCreateOptions::default().max_memtable_size(CACHE_BYTES as u64)
                })
                .expect("fjall keyspace");
            Box::new(Fjall { db, ks })
        },
    }
}

impl Engine for Fjall {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.ks.insert(key, value).expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        let mut b = self.db.batch().durability(Some(PersistMode::SyncData));
        b.insert(&self.ks, key, value);
        b.commit().expect("put sync");
    }

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut b = self.db.batch();
        for (k, v) in entries {
            b.insert(&self.ks, *k, *v);
        }
        b.commit().expect("batch");
    }

    fn get(&self, key: &[u8]) -> bool {
        self.ks.get(key).expect("get").is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        let mut c = 0;
        for g in self.ks.range(key..).take(n) {
            g.into_inner().expect("next");
            c += 1;
        }
        c
    }

    fn read_all(&self) -> usize {
        let mut c = 0;
        for g in self.ks.iter() {
            g.into_inner().expect("next");
            c += 1;
        }
        c
    }

    fn stats_line(&self) -> String {
        format!(
            "tables {}, L0 tables {}, compactions {}, time compacting {:.1}s, disk {} bytes",
            self.ks.table_count(),
            self.ks.l0_table_count(),
            self.db.compactions_completed(),
            self.db.time_compacting().as_secs_f64(),
            self.db.disk_space().unwrap_or(0)
        )
    }
}
