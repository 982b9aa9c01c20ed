//! The engines under test, behind one small trait. Each peer is a Cargo
//! feature so a run compiles only what it measures (and the root workspace's
//! CI never compiles any of them).

#[cfg(feature = "fjall")]
pub mod fjall;
pub mod ours;
#[cfg(feature = "redb")]
pub mod redb;
#[cfg(feature = "rocksdb")]
pub mod rocks;
#[cfg(feature = "lsm-db")]
pub mod seed;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::path::Path;

/// One storage engine, opened on a directory. Errors panic: this is a
/// benchmark, and a failed operation must stop the run loudly.
pub trait Engine: Send + Sync {
    /// Buffered put (write-ahead log on, no fsync).
    fn put(&self, key: &[u8], value: &[u8]);
    /// Put that is durable on return (one fsync, or a share of a group's).
    fn put_sync(&self, key: &[u8], value: &[u8]);
    /// Atomic batch of puts (buffered).
    fn put_batch(&self, entries: &[(&[u8], &[u8])]);
    /// Point read; returns whether the key was found (the value is fetched).
    fn get(&self, key: &[u8]) -> bool;
    /// Seek to `key` and read up to `n` entries; returns how many.
    fn seek_and_next(&self, key: &[u8], n: usize) -> usize;
    /// Read every entry in order; returns how many.
    fn read_all(&self) -> usize;
    /// Wait until background work the engine can be asked about settles.
    fn settle(&self) {}
    /// Statistics line, if the engine reports any.
    fn stats_line(&self) -> String {
        String::new()
    }
    /// Write amplification as the engine itself counts it (bytes written to
    /// log and tables / bytes of user data), with how it was computed.
    fn reported_write_amp(&self) -> Option<(f64, String)> {
        None
    }
}

/// How to open an engine.
pub struct Factory {
    /// Short name for `--engines` and directory names.
    pub id: &'static str,
    /// Column name, with the version.
    pub name: &'static str,
    /// Durability and settings note for the report.
    pub settings: &'static str,
    /// Open (creating if needed) on a directory.
    pub open: fn(&Path) -> Box<dyn Engine>,
}

/// Every engine compiled in, ours first.
pub fn all() -> Vec<Factory> {
    let mut v = vec![ours::factory()];
    #[cfg(feature = "lsm-db")]
    v.push(seed::factory());
    #[cfg(feature = "fjall")]
    v.push(fjall::factory());
    #[cfg(feature = "rocksdb")]
    v.push(rocks::factory());
    #[cfg(feature = "redb")]
    v.push(redb::factory());
    #[cfg(feature = "sqlite")]
    v.push(sqlite::factory());
    v
}

/// The 64 MiB block cache and write buffer every engine that has them gets.
pub const CACHE_BYTES: usize = 64 << 20;
