//! Versions: which tables make up the database at one moment.
//!
//! ```text
//!   Version
//!   ├── L0: tables flushed from memtables, newest first; their key ranges
//!   │       may overlap, so a read checks each whose range holds the key
//!   ├── L1..L6: (filled by compaction, issue 4) sorted, non-overlapping
//!   │       tables; a read binary-searches the one table per level
//! ```
//!
//! A `Version` is immutable and shared (`Arc`): readers and iterators pin
//! the one they started with while flushes (and compactions) install new
//! ones. The [`manifest`] records every change as a
//! [`VersionEdit`](edit::VersionEdit).
//!
//! Invariant the read path relies on: every entry in a newer source (a
//! memtable, or an L0 table nearer the front, or a lower level) has a higher
//! sequence number than every entry of the same key in an older source.

pub mod edit;
pub mod manifest;

use std::sync::Arc;

use edit::{FileMeta, VersionEdit};

use crate::key;

/// Number of levels.
pub const NUM_LEVELS: usize = 7;

/// The live tables at one moment.
#[derive(Clone, Debug, Default)]
pub struct Version {
    /// Per level; L0 newest first, other levels by smallest key.
    pub levels: [Vec<Arc<FileMeta>>; NUM_LEVELS],
}

impl Version {
    /// A version with `edit` applied.
    pub fn apply(&self, edit: &VersionEdit) -> Version {
        let mut v = self.clone();
        for (level, n) in &edit.deleted_files {
            if let Some(files) = v.levels.get_mut(*level) {
                files.retain(|f| f.number != *n);
            }
        }
        for (level, f) in &edit.new_files {
            if let Some(files) = v.levels.get_mut(*level) {
                files.push(Arc::new(f.clone()));
            }
        }
        v.levels[0].sort_by(|a, b| {
            b.largest_seq
                .cmp(&a.largest_seq)
                .then(b.number.cmp(&a.number))
        });
        for files in v.levels.iter_mut().skip(1) {
            files.sort_by(|a, b| key::compare(&a.smallest, &b.smallest));
        }
        v
    }

    /// Every live table.
    pub fn files(&self) -> impl Iterator<Item = (usize, &Arc<FileMeta>)> {
        self.levels
            .iter()
            .enumerate()
            .flat_map(|(l, fs)| fs.iter().map(move |f| (l, f)))
    }

    /// An edit that recreates this version from nothing.
    pub fn snapshot_edit(&self) -> VersionEdit {
        VersionEdit {
            new_files: self.files().map(|(l, f)| (l, (**f).clone())).collect(),
            ..VersionEdit::default()
        }
    }

    /// Largest sequence number of any table (0 when none).
    pub fn max_seq(&self) -> u64 {
        self.files().map(|(_, f)| f.largest_seq).max().unwrap_or(0)
    }
}

/// True when user key `k` lies in the table's key range.
#[inline]
pub fn file_may_hold(f: &FileMeta, k: &[u8]) -> bool {
    key::user_key(&f.smallest) <= k && k <= key::user_key(&f.largest)
}
