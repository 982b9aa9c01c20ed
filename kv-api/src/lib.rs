//! # kv-api: the contract between storage backends and the layers above
//!
//! A SQL layer needs more from its storage than `put` and `get`: ordered range
//! scans in both directions, atomic multi-key writes, stable read views and
//! transactions that detect write-write races. This crate states that contract
//! as object-safe traits, so the layer above can hold an `Arc<dyn KvStore>`
//! and pick the backend at run time:
//!
//! - [`KvStore`]: point reads, atomic [`WriteBatch`]es (put, delete,
//!   delete-range) with per-write [`WriteOptions`], streaming iterators,
//!   [`Snapshot`]s, [`Transaction`]s, flush, [`Stats`] and close;
//! - [`KvIterator`]: a lending cursor over a [`KeyRange`], forward or reverse,
//!   with seek, holding a page or block of memory at a time;
//! - [`Error`]: typed failures (I/O with the path, corruption with file and
//!   offset, invalid argument, retryable conflict, closed, locked).
//!
//! It also holds [`MemStore`], the in-memory reference implementation, the
//! reusable optimistic transaction [`txn::BufferedTransaction`], and the
//! [`conformance`] suite that every backend runs against itself with one
//! macro call:
//!
//! ```ignore
//! kv_api::conformance_suite!(|| kv_api::conformance::TestStore::new(open_my_store()));
//! ```
//!
//! ## Semantics in one place
//! - Keys and values are byte strings; the empty key is a valid key. Keys are
//!   ordered bytewise, a prefix before its extensions.
//! - Every committed write gets a sequence number; a snapshot, iterator or
//!   transaction reads the state as of one sequence number.
//! - Batches are atomic and ordered: their operations apply in sequence.
//! - Limits ([`Limits::DEFAULT`]: keys 64 KiB, values 64 MiB, batches 256 MiB)
//!   are checked before anything is written.
//! - No operation panics on any input; failures are [`Error`] values.

mod batch;
pub mod conformance;
mod error;
pub mod iter;
mod mem;
mod range;
mod store;
pub mod txn;

pub use batch::{BatchOp, WriteBatch, WriteOptions};
pub use error::{Error, Result};
pub use iter::{Entry, KvIterator, OwnedEntries, collect_entries};
pub use mem::MemStore;
pub use range::{Direction, KeyRange, prefix_successor};
pub use store::{KvRead, KvStore, Limits, Snapshot, Stats, Transaction};

/// Render a key for messages: printable ASCII as is, other bytes as `\xNN`,
/// long keys shortened.
pub fn display_key(key: &[u8]) -> String {
    const MAX: usize = 64;
    let mut s = String::new();
    for &b in key.iter().take(MAX) {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if key.len() > MAX {
        s.push_str(&format!("... ({} bytes)", key.len()));
    }
    format!("\"{s}\"")
}
