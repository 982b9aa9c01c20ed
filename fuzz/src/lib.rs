//! Shared pieces of the fuzz targets: the SQL fixture and a small database
//! template on the engine's in-memory [`FaultFs`], whose files the
//! decoder targets replace with fuzzer bytes.
//!
//! ```text
//!   target        input                        entry point
//!   sql           SQL script (UTF-8)           Session (MemStore) parse/plan/execute
//!   key_codec     memcomparable key bytes      table_layer::codec::key::decode_value
//!   row_codec     row value bytes              table_layer::codec::row::decode_fields
//!   sstable       a table file                 engine::sstable::table::Table::open + iterators
//!   log_records   a log or manifest file       engine::wal::record::RecordReader + decoders
//!   log_replay    the newest log of a database engine::Db::open (recovery) + full scans
//!   manifest      the manifest of a database   engine::Db::open (manifest replay) + full scans
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use engine::fs::{FaultFs, FileSystem};
use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

/// Tables the SQL target's statements run against.
pub const SQL_FIXTURE: &[&str] = &[
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, data BLOB, flag BOOLEAN)",
    "CREATE INDEX t_score ON t (score)",
    "INSERT INTO t VALUES (1, 'one', 1.5, X'01', true), (2, 'two', NULL, NULL, false), (3, 'three', 3.25, X'0203', NULL)",
    "CREATE TABLE u (a INTEGER, b TEXT, PRIMARY KEY (a, b))",
    "INSERT INTO u VALUES (1, 'x'), (1, 'y'), (2, 'y')",
];

/// Directory of the template database inside its [`FaultFs`].
pub const DIR: &str = "/fuzz/db";

/// Engine options of the template (small, so it has several tables).
pub fn options(fs: &FaultFs) -> engine::Options {
    let mut o = engine::Options::with_write_buffer(4 * 1024);
    o.block_size = 256;
    o.block_cache_bytes = 64 * 1024;
    o.fs(Arc::new(fs.clone()))
}

/// A closed database with tables from two flushes, range tombstones, and
/// a log holding the newest writes. Built once per process.
pub fn template() -> &'static FaultFs {
    static T: OnceLock<FaultFs> = OnceLock::new();
    T.get_or_init(|| {
        let fs = FaultFs::new();
        let db = engine::Db::open(DIR, options(&fs)).expect("template open");
        for round in 0..3u32 {
            for i in 0..60u32 {
                let mut b = WriteBatch::new();
                b.put(format!("k{:04}", i * 7 % 97), format!("v{round}-{i}"));
                if i % 9 == 0 {
                    b.delete(format!("k{:04}", i % 13));
                }
                if i % 25 == 0 {
                    b.delete_range(format!("k{:04}", i), format!("k{:04}", i + 3));
                }
                db.write(b, &WriteOptions::SYNC).expect("template write");
            }
            if round < 2 {
                db.flush().expect("template flush");
            }
        }
        db.close().expect("template close");
        drop(db);
        fs.crash()
    })
}

/// Path of the first file in the template's directory whose name
/// satisfies `pick` (the last one in name order).
pub fn file_named(fs: &FaultFs, pick: impl Fn(&str) -> bool) -> Option<PathBuf> {
    fs.files(Path::new(DIR))
        .into_iter()
        .filter(|n| pick(n))
        .next_back()
        .map(|n| Path::new(DIR).join(n))
}

/// Replace the contents of `path` in `fs` with `data`.
pub fn replace(fs: &FaultFs, path: &Path, data: &[u8]) {
    let mut f = fs.create(path).expect("create in FaultFs");
    f.append(data).expect("append in FaultFs");
    f.sync().expect("sync in FaultFs");
}

/// Open the database in `fs` and read everything, both ways, plus point
/// reads. Errors are fine (they are the point); panics are not.
pub fn open_and_read_all(fs: &FaultFs) {
    let Ok(db) = engine::Db::open(DIR, options(fs)) else {
        return;
    };
    for dir in [Direction::Forward, Direction::Reverse] {
        if let Ok(mut it) = db.iter(KeyRange::all(), dir) {
            let mut n = 0;
            while let Ok(Some(_)) = it.next() {
                n += 1;
                if n > 100_000 {
                    break;
                }
            }
        }
    }
    for k in ["k0000", "k0042", "k0096", "zzz", ""] {
        let _ = db.get(k.as_bytes());
    }
    // Recovery may have written; a write now must not panic either.
    let _ = db.put(b"after", b"fuzz");
    let _ = db.close();
}
