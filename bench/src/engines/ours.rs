//! This repository's engine, through the `KvStore` contract the SQL layer
//! uses (so the numbers include the trait's costs).

use std::path::Path;

use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

use super::{CACHE_BYTES, Engine, Factory};

struct Ours {
    db: engine::Db,
}

pub fn factory() -> Factory {
    Factory {
        id: "engine",
        name: "engine",
        settings: "Options::default() (leveled compaction, 2 compaction threads, L0 trigger 4, \
                   L1 256 MiB, x10 per level) with 64 MiB write buffer and block cache, no \
                   compression on any level, bloom 10 bits/key; WAL written before each call \
                   returns, no fsync; fillsync*: WriteOptions::SYNC (group commit); after each \
                   phase (untimed) waits for compactions before closing",
        open: |dir: &Path| {
            let o = engine::Options {
                write_buffer_size: CACHE_BYTES,
                block_cache_bytes: CACHE_BYTES,
                compression_per_level: vec![engine::Compression::None],
                ..Default::default()
            };
            let db = engine::Db::open(dir, o).expect("open engine");
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

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut b = WriteBatch::with_capacity(entries.len());
        for (k, v) in entries {
            b.put(*k, *v);
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

    fn settle(&self) {
        self.db.wait_for_compactions().expect("compactions");
    }

    /// The engine's statistics change as it grows (compaction is being
    /// added): print whatever it reports about files, bytes, stalls and the
    /// cache rather than a fixed list.
    fn stats_line(&self) -> String {
        let s = self.db.stats();
        let mut parts = Vec::new();
        for (name, value) in s.entries() {
            let value = *value;
            let interesting = [
                "bytes",
                "write_amp",
                "files",
                "stall",
                "cache",
                "compaction",
            ]
            .iter()
            .any(|w| name.contains(w));
            if interesting && value != 0 {
                parts.push(format!("{name}={value}"));
            }
        }
        parts.join(", ")
    }

    /// Every `bytes.written.*` counter but the user's, over the user's.
    fn reported_write_amp(&self) -> Option<(f64, String)> {
        let s = self.db.stats();
        let mut user = 0u64;
        let mut rest = 0u64;
        let mut names = Vec::new();
        for (name, value) in s.entries() {
            let value = *value;
            if let Some(what) = name.strip_prefix("bytes.written.") {
                if what == "user" {
                    user = value;
                } else {
                    rest += value;
                    names.push(what.to_string());
                }
            }
        }
        (user > 0).then(|| {
            (
                rest as f64 / user as f64,
                format!("({}) / user", names.join(" + ")),
            )
        })
    }
}
