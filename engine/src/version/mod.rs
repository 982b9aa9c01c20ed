//! Versions: which tables make up the database at one moment.
//!
//! ```text
//!   Version
//!   ├── L0: tables flushed from memtables, newest first; their key ranges
//!   │       may overlap, so a read checks each whose range holds the key
//!   ├── L1..L6: filled by compaction: sorted, non-overlapping tables (no
//!   │       user key in two tables of one level); a read binary-searches
//!   │       the one table per level that may hold its key
//! ```
//!
//! A `Version` is immutable and shared (`Arc`): readers and iterators pin
//! the one they started with while flushes (and compactions) install new
//! ones. The [`manifest`] records every change as a
//! [`VersionEdit`].
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
    ///
    /// A table deleted and added by the same edit (a trivial move to the
    /// next level) keeps its `Arc`: the number of `Arc`s of a table is
    /// what tells when no version uses its file any more, so one file must
    /// never be counted under two.
    pub fn apply(&self, edit: &VersionEdit) -> Version {
        let mut v = self.clone();
        let mut moved: Vec<Arc<FileMeta>> = Vec::new();
        for (level, n) in &edit.deleted_files {
            if let Some(files) = v.levels.get_mut(*level) {
                files.retain(|f| {
                    if f.number == *n {
                        moved.push(Arc::clone(f));
                        false
                    } else {
                        true
                    }
                });
            }
        }
        for (level, f) in &edit.new_files {
            if let Some(files) = v.levels.get_mut(*level) {
                let same = moved.iter().find(|m| m.number == f.number && ***m == *f);
                files.push(same.map_or_else(|| Arc::new(f.clone()), Arc::clone));
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

/// True when the table ends before user key `k`: its largest key is below
/// every version of `k` (a largest key made by
/// [`key::range_end_bound`] is exclusive).
#[inline]
pub fn ends_before(f: &FileMeta, k: &[u8]) -> bool {
    let u = key::user_key(&f.largest);
    u < k || (u == k && key::is_range_end_bound(&f.largest))
}

/// True when user key `k` lies in the table's key range.
#[inline]
pub fn file_may_hold(f: &FileMeta, k: &[u8]) -> bool {
    key::user_key(&f.smallest) <= k && !ends_before(f, k)
}

/// True when the table's range and the internal-key span `[lo, hi]` share
/// a user key (`hi` may be an exclusive bound).
pub fn overlaps_span(f: &FileMeta, lo: &[u8], hi: &[u8]) -> bool {
    if ends_before(f, key::user_key(lo)) {
        return false;
    }
    let s = key::user_key(&f.smallest);
    let h = key::user_key(hi);
    !(s > h || (s == h && key::is_range_end_bound(hi)))
}

/// The smallest and largest internal keys of a set of tables.
pub fn span<'a>(files: impl IntoIterator<Item = &'a Arc<FileMeta>>) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut out: Option<(&[u8], &[u8])> = None;
    for f in files {
        out = Some(match out {
            None => (&f.smallest, &f.largest),
            Some((lo, hi)) => (
                if key::compare(&f.smallest, lo).is_lt() {
                    &f.smallest
                } else {
                    lo
                },
                if key::compare(&f.largest, hi).is_gt() {
                    &f.largest
                } else {
                    hi
                },
            ),
        });
    }
    out.map(|(a, b)| (a.to_vec(), b.to_vec()))
}

impl Version {
    /// Tables of `level` sharing a user key with `[lo, hi]`, in level order.
    pub fn overlapping(&self, level: usize, lo: &[u8], hi: &[u8]) -> Vec<Arc<FileMeta>> {
        let files = &self.levels[level];
        if level == 0 {
            return files
                .iter()
                .filter(|f| overlaps_span(f, lo, hi))
                .cloned()
                .collect();
        }
        let lo_user = key::user_key(lo);
        let start = files.partition_point(|f| ends_before(f, lo_user));
        files[start..]
            .iter()
            .take_while(|f| overlaps_span(f, lo, hi))
            .cloned()
            .collect()
    }

    /// Bytes of the tables of `level`.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.levels[level].iter().map(|f| f.size).sum()
    }

    /// Check the level invariants: levels 1 and deeper sorted by key with
    /// no user key in two tables. Returns what is wrong (for tests and
    /// debug assertions).
    pub fn check(&self) -> Result<(), String> {
        for (l, files) in self.levels.iter().enumerate().skip(1) {
            for w in files.windows(2) {
                if !ends_before(&w[0], key::user_key(&w[1].smallest)) {
                    return Err(format!(
                        "level {l}: tables {} and {} overlap",
                        w[0].number, w[1].number
                    ));
                }
            }
        }
        Ok(())
    }
}
