//! # engine: an LSM storage engine behind the `KvStore` contract
//!
//! Writes go to a write-ahead log (one record per batch, group commit) and
//! a lock-free memtable; full memtables are flushed by a background thread
//! to sorted tables (prefix-compressed blocks with restart points, a bloom
//! filter, checksums everywhere), recorded in a manifest. Reads merge the
//! memtables and tables at a snapshot sequence number.
//!
//! ```text
//!   src/
//!   ├── db/        open + recovery, write path (group commit), read path,
//!   │              flush thread, snapshots and transactions
//!   ├── wal/       log record framing, batch encoding
//!   ├── memtable/  skip-list memtable and its iterator
//!   ├── sstable/   blocks, bloom filter, table builder and reader
//!   ├── version/   version edits, manifest, the set of live tables
//!   ├── iter/      merging iterator, the user-facing DB iterator
//!   ├── cache/     sharded LRU: block cache and table cache
//!   ├── fs/        the file-system trait, the OS one and a fault injector
//!   ├── rangedel.rs range tombstones, fragmented
//!   ├── key.rs     internal keys (user key + sequence + kind)
//!   └── options.rs, stats.rs, coding.rs, hash.rs
//! ```
//!
//! Byte layouts of every file are in `engine/FORMAT.md`.
//!
//! ```
//! use kv_api::{KvRead, KvStore, WriteBatch, WriteOptions};
//! let dir = tempfile::tempdir()?;
//! let db = engine::Db::open(dir.path(), engine::Options::default())?;
//! let mut batch = WriteBatch::new();
//! batch.put("a", "1").put("b", "2").delete_range("a", "b");
//! db.write(batch, &WriteOptions::SYNC)?; // durable on return
//! assert_eq!(db.get(b"a")?, None);
//! assert_eq!(db.get(b"b")?, Some(b"2".to_vec()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cache;
pub mod coding;
mod db;
pub mod fs;
pub mod hash;
pub mod iter;
pub mod key;
pub mod memtable;
mod options;
pub mod rangedel;
pub mod sstable;
mod stats;
pub mod version;
pub mod wal;

pub use db::Db;
pub use db::files;
pub use options::Options;
pub use sstable::Compression;
