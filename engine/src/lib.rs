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
//!   ├── compaction/ leveled compaction: picking (scores, trivial moves),
//!   │              the merge job (snapshot stripes, tombstone drops)
//!   ├── iter/      merging iterator, the user-facing DB iterator
//!   ├── cache/     sharded CLOCK block cache, table cache
//!   ├── fs/        the file-system trait, the OS one and a fault injector
//!   ├── rangedel.rs range tombstones, fragmented
//!   ├── key.rs     internal keys (user key + sequence + kind)
//!   └── options.rs, stats.rs, coding.rs, hash.rs
//! ```
//!
//! Byte layouts of every file are in `engine/FORMAT.md`.
//!
//! ## Tests (`engine/tests/`, one scenario per file)
//!
//! | file | what it checks | longer run |
//! |---|---|---|
//! | `conformance.rs` | the kv-api suite, with 4 KiB and 16 KiB memtables (data crosses flushes) and with defaults | |
//! | `model_reopen.rs` | random operations, snapshots, flushes, reopens and power cuts against a `BTreeMap` | `ENGINE_MODEL_SEEDS=200` |
//! | `crash_kill.rs` | a child process SIGKILLed at random moments: acknowledged batches survive, all-or-nothing | `ENGINE_CRASH_ROUNDS=500` |
//! | `power_cut_prefix.rs` | `FaultFs` power cuts: the recovered state is a prefix of the acknowledged writes | |
//! | `faults.rs` | ENOSPC, EIO, torn writes on logs, tables, manifest, and at every point of an open | |
//! | `corruption.rs` | flipped and truncated bytes in tables, logs, manifest, `CURRENT` | |
//! | `decoders_never_panic.rs` | random and mutated input to every decoder | `ENGINE_FUZZ_ITERS=1000000` |
//! | `golden_format.rs` | a checked-in database still opens; same operations, same bytes | |
//! | `soak.rs` | transfers by transactions and range deletes vs. snapshot readers: the total never changes | `ENGINE_SOAK_SECS=300` |
//! | `write_stalls.rs` | writers outrunning flushes are slowed and stopped, never deadlocked | |
//! | `compaction.rs` | multi-level compaction, tombstones dropped at the bottom (space reclaimed) and kept for snapshots, ENOSPC/EIO in outputs, power cuts mid-compaction, statistics | |
//! | `lost_records.rs` | a manifest cut at a record boundary, an older log cut or emptied: corruption, not silent loss | |
//! | `lock.rs` | a second open gets `Error::Locked` | |
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
pub mod compaction;
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
pub use stats::{EngineStats, LevelStats};
