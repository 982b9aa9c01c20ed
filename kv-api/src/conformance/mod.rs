//! The conformance suite: the contract's behaviour, as tests any backend runs
//! against itself.
//!
//! A backend's test module calls [`conformance_suite!`](crate::conformance_suite)
//! with a factory that opens a fresh, empty store; the macro expands to one
//! `#[test]` per case, so a failure names the case. The cases are also plain
//! functions taking the factory, for backends that want to run them with
//! special set-up (for example a tiny memtable so data crosses flushes).
//!
//! ```ignore
//! #[cfg(test)]
//! mod conformance {
//!     use super::*;
//!     kv_api::conformance_suite!(|| {
//!         let dir = tempfile::tempdir().unwrap();
//!         let db = MyEngine::open(dir.path()).unwrap();
//!         kv_api::conformance::TestStore::new(std::sync::Arc::new(db)).keep_alive(dir)
//!     });
//! }
//! ```
//!
//! The suite calls `flush` at points in the middle of its cases, so an engine
//! configured with a small write buffer has its data cross memtables, table
//! files and (with compaction) levels while the checks run.
//!
//! The cases use assertions (this is test code); the backend under test must
//! not panic, and the suite treats an unexpected `Err` as a failure.

mod basic;
mod concurrency;
mod model;
mod rng;
mod txn;
mod txn_model;

use std::any::Any;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

pub use basic::*;
pub use concurrency::*;
pub use model::*;
pub use txn::*;
pub use txn_model::*;

use crate::{Direction, Entry, KeyRange, KvRead, KvStore, collect_entries};

/// A store under test, plus whatever must outlive it (a temporary directory).
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn KvStore>,
    keep: Vec<Box<dyn Any + Send + Sync>>,
}

impl TestStore {
    /// Wrap a freshly opened, empty store.
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        TestStore {
            store,
            keep: Vec::new(),
        }
    }

    /// Keep `guard` alive as long as the store (dropped after it).
    pub fn keep_alive(mut self, guard: impl Any + Send + Sync) -> Self {
        self.keep.push(Box::new(guard));
        self
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // Close the store before its directory goes away.
        let _ = self.store.close();
        self.keep.clear();
    }
}

impl Deref for TestStore {
    type Target = dyn KvStore;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

/// Opens a fresh, empty store for one case.
pub type Factory<'a> = &'a dyn Fn() -> TestStore;

/// Expand to one `#[test]` per conformance case, each opening its store with
/// the given factory expression (of type `Fn() -> TestStore`).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {
        $crate::__conformance_cases!($factory;
            binary_key_ordering,
            point_reads_and_overwrites,
            every_bound_combination,
            reverse_iteration_and_seek,
            delete_range_semantics,
            large_values,
            size_limits_reject_before_writing,
            iterator_sees_state_at_creation,
            snapshot_isolation_while_writes_continue,
            batch_atomicity_seen_by_concurrent_readers,
            transaction_read_your_writes,
            transaction_conflicts_first_committer_wins,
            transaction_rollback_and_drop_discard,
            model_based_transactions,
            concurrent_transfers_keep_total,
            model_based_random_operations,
            close_makes_handles_fail,
            stats_are_reported,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let factory = $factory;
                $crate::conformance::$case(&factory);
            }
        )*
    };
}

/// Run every case in turn (for harnesses that do not use `#[test]`).
pub fn run_all(f: Factory) {
    binary_key_ordering(f);
    point_reads_and_overwrites(f);
    every_bound_combination(f);
    reverse_iteration_and_seek(f);
    delete_range_semantics(f);
    large_values(f);
    size_limits_reject_before_writing(f);
    iterator_sees_state_at_creation(f);
    snapshot_isolation_while_writes_continue(f);
    batch_atomicity_seen_by_concurrent_readers(f);
    transaction_read_your_writes(f);
    transaction_conflicts_first_committer_wins(f);
    transaction_rollback_and_drop_discard(f);
    model_based_transactions(f);
    concurrent_transfers_keep_total(f);
    model_based_random_operations(f);
    close_makes_handles_fail(f);
    stats_are_reported(f);
}

/// Every entry of `range` read through `r` in `dir`.
pub(crate) fn scan(r: &dyn KvRead, range: KeyRange, dir: Direction) -> Vec<Entry> {
    let it = r
        .iter(range.clone(), dir)
        .unwrap_or_else(|e| panic!("iter({range:?}, {dir:?}) failed: {e}"));
    collect_entries(it).unwrap_or_else(|e| panic!("scan of {range:?} {dir:?} failed: {e}"))
}

/// What a scan of `range` in `dir` must return, from a model map.
pub(crate) fn model_scan(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    range: &KeyRange,
    dir: Direction,
) -> Vec<Entry> {
    let mut v: Vec<Entry> = model
        .iter()
        .filter(|(k, _)| range.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if dir == Direction::Reverse {
        v.reverse();
    }
    v
}

/// Shorthand for owned byte strings in tests.
pub(crate) fn b(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

/// Render entries compactly for assertion messages.
pub(crate) fn show(entries: &[Entry]) -> String {
    let keys: Vec<String> = entries.iter().map(|(k, _)| crate::display_key(k)).collect();
    format!("[{}]", keys.join(", "))
}
