//! Iterators: how a range scan streams over memtables and tables.
//!
//! ```text
//!   DbIter          user keys at one snapshot: hides old versions,
//!     │             point tombstones and range-deleted keys; bounds
//!   MergingIter     k-way merge by internal key (a binary heap)
//!     ├── MemIter   memtable, a page of entries at a time
//!     ├── MemIter   immutable memtables
//!     ├── TableIter one per L0 table, newest first (two-level: index → block)
//!     └── LevelIter one per level ≥ 1 (files in key order, opened lazily)
//! ```
//!
//! Every internal iterator has a fixed [`Direction`](kv_api::Direction),
//! chosen when it is built (the contract's iterators never switch): forward
//! ones visit internal keys in ascending order, reverse ones descending, and
//! `seek` goes to the first key at or after the target in that direction.
//! Keys and values are borrowed from the iterator's current block or page,
//! so no entry is allocated on the way through.

pub mod db_iter;
pub mod level;
pub mod merge;

use kv_api::Result;

/// A cursor over internal entries in a fixed direction.
pub trait InternalIterator: Send {
    /// True when positioned on an entry.
    fn valid(&self) -> bool;
    /// The current internal key (only when valid).
    fn key(&self) -> &[u8];
    /// The current value (only when valid).
    fn value(&self) -> &[u8];
    /// Move one entry in the iterator's direction.
    fn advance(&mut self) -> Result<()>;
    /// Position at the first entry at or after `target` (an internal key)
    /// in the iterator's direction: forward, the smallest key `>= target`;
    /// reverse, the largest key `<= target`.
    fn seek(&mut self, target: &[u8]) -> Result<()>;
    /// Position at the first entry in the iterator's direction.
    fn seek_to_first(&mut self) -> Result<()>;
}
