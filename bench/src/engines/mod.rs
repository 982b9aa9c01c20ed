//! The engines under test, behind one small trait. Each peer is a Cargo
//! feature so a run compiles only what it measures; issue 4 adds fjall,
//! RocksDB, redb and SQLite as more implementations of [`Engine`].

pub mod ours;
#[cfg(feature = "lsm-db")]
pub mod seed;

use std::path::Path;

/// One storage engine, opened on a directory.
pub trait Engine: Send + Sync {
    /// Buffered put (write-ahead log on, no fsync).
    fn put(&self, key: &[u8], value: &[u8]);
    /// Put that is durable on return (one fsync).
    fn put_sync(&self, key: &[u8], value: &[u8]);
    /// Atomic batch of puts (buffered).
    fn put_batch(&self, entries: &[(Vec<u8>, Vec<u8>)]);
    /// Point read; returns whether the key was found.
    fn get(&self, key: &[u8]) -> bool;
    /// Seek to `key` and read up to `n` entries; returns how many.
    fn seek_and_next(&self, key: &[u8], n: usize) -> usize;
    /// Read every entry in order; returns how many.
    fn read_all(&self) -> usize;
    /// Wait until background work settles (flushes).
    fn settle(&self);
    /// Statistics line, if the engine reports any.
    fn stats_line(&self) -> String {
        String::new()
    }
}

/// How to open an engine.
pub struct Factory {
    /// Column name.
    pub name: &'static str,
    /// Durability note for the report.
    pub durability: &'static str,
    /// Open on a fresh directory.
    pub open: fn(&Path) -> Box<dyn Engine>,
}

/// Every engine compiled in.
pub fn all() -> Vec<Factory> {
    let mut v = vec![ours::factory()];
    #[cfg(feature = "lsm-db")]
    v.push(seed::factory());
    v
}
