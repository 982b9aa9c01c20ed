//! redb 4 (copy-on-write B-tree, one file). redb has no write-ahead log:
//! the buffered workloads commit each transaction with `Durability::None`
//! (not durable until a later durable commit), fillsync with
//! `Durability::Immediate`. Each read opens a read transaction, as a reader
//! of the latest data must.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::{CACHE_BYTES, Engine, Factory};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");

struct Redb {
    db: Database,
}

pub fn factory() -> Factory {
    Factory {
        id: "redb",
        name: "redb 4.6",
        settings: "64 MiB cache; no WAL: one write transaction per put with Durability::None \
                   (not durable), fillsync*: Durability::Immediate; a read transaction per read",
        open: |dir: &Path| {
            let db = Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(dir.join("data.redb"))
                .expect("open redb");
            Box::new(Redb { db })
        },
    }
}

impl Redb {
    fn write(&self, durability: Durability, entries: &[(&[u8], &[u8])]) {
        let mut tx = self.db.begin_write().expect("begin write");
        tx.set_durability(durability).expect("durability");
        {
            let mut t = tx.open_table(TABLE).expect("open table");
            for (k, v) in entries {
                t.insert(*k, *v).expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
}

impl Engine for Redb {
    fn put(&self, key: &[u8], value: &[u8]) {
        self.write(Durability::None, &[(key, value)]);
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        self.write(Durability::Immediate, &[(key, value)]);
    }

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        self.write(Durability::None, entries);
    }

    fn get(&self, key: &[u8]) -> bool {
        let tx = self.db.begin_read().expect("begin read");
        let t = tx.open_table(TABLE).expect("open table");
        let v = t.get(key).expect("get");
        v.map(|g| g.value().len()).is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        let tx = self.db.begin_read().expect("begin read");
        let t = tx.open_table(TABLE).expect("open table");
        let mut c = 0;
        for e in t.range(key..).expect("range").take(n) {
            let (k, v) = e.expect("next");
            std::hint::black_box((k.value().len(), v.value().len()));
            c += 1;
        }
        c
    }

    fn read_all(&self) -> usize {
        let tx = self.db.begin_read().expect("begin read");
        let t = tx.open_table(TABLE).expect("open table");
        let mut c = 0;
        for e in t.iter().expect("iter") {
            let (k, v) = e.expect("next");
            std::hint::black_box((k.value().len(), v.value().len()));
            c += 1;
        }
        c
    }

    /// A last durable commit, so the file holds everything before it is
    /// measured and reopened.
    fn settle(&self) {
        self.write(Durability::Immediate, &[]);
    }
}
