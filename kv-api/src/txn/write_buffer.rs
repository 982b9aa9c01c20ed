//! The write buffer of a [`BufferedTransaction`](super::BufferedTransaction):
//! its puts, deletes and range deletes, versioned so that savepoints and live
//! iterators cost nothing until a write would disturb them.
//!
//! Every write gets the next buffer sequence number. A *view* is a sequence
//! number: the state "after the write numbered `v`". Savepoints and iterators
//! pin the view they were taken at; the transaction itself always reads the
//! newest view.
//!
//! ```text
//!   key "a": [ (3, Some("x")) , (7, None) ]      oldest .. newest version
//!   key "b": [ (5, Some("y")) ]
//!   range deletes: [ ("a".."c", 6) ]
//!   pins: savepoint at 4, iterator at 6
//!
//!   view 4 sees a = "x", b absent   view 6 sees a, b range-deleted
//!   view 7 (newest) sees a deleted
//! ```
//!
//! A write replaces a key's newest version in place unless some pin can still
//! see that version, in which case the new version is appended. So a
//! transaction without savepoints or iterators holds one version per key, and
//! one with them holds only the versions someone can see: setting a savepoint
//! is O(1), and a write after it is O(log n), never a copy of the buffer (the
//! copy-on-write buffer this replaces made long transactions with a savepoint
//! per statement quadratic).
//!
//! Rolling back to a savepoint at view `s` removes every version and range
//! delete numbered above `s`. To find them without a scan, writes made while
//! a savepoint exists are logged (key and number) in an undo list.

use std::collections::BTreeMap;
use std::ops::Bound;

/// One version of a buffered key: the write's number and its value (`None`
/// for a delete).
type Version = (u64, Option<Vec<u8>>);

/// Buffered writes in commit order: range deletes, then point writes.
pub(crate) type CommitOrder = (Vec<(Vec<u8>, Vec<u8>)>, Vec<(Vec<u8>, Option<Vec<u8>>)>);

/// The versions of one key, oldest first; never empty. The first version is
/// kept inline because most keys only ever have one.
#[derive(Debug)]
struct Versions {
    newest: Version,
    older: Vec<Version>,
}

impl Versions {
    /// The newest version that `view` sees.
    fn at(&self, view: u64, dead: &[Dead]) -> Option<&Version> {
        std::iter::once(&self.newest)
            .chain(self.older.iter().rev())
            .find(|v| sees(view, v.0, dead))
    }
}

/// Writes numbered in `(after, upto]` were rolled back by a rollback that
/// happened when `upto` was the newest number; views taken after it (numbered
/// above `upto`) do not see them, views taken before it still do.
#[derive(Clone, Copy, Debug)]
struct Dead {
    after: u64,
    upto: u64,
}

/// Whether `view` sees the write numbered `n`.
fn sees(view: u64, n: u64, dead: &[Dead]) -> bool {
    n <= view
        && !dead
            .iter()
            .any(|d| d.upto < view && d.after < n && n <= d.upto)
}

/// What a view sees of a key in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen<'a> {
    /// The buffer has a put (`Some`) or a delete (`None`) for the key.
    Written(Option<&'a [u8]>),
    /// A range delete newer than any buffered write covers the key.
    RangeDeleted,
    /// The buffer says nothing: read the snapshot.
    Untouched,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct WriteBuffer {
    keys: BTreeMap<Vec<u8>, Versions>,
    /// `(start, end, number)` in write order.
    range_deletes: Vec<(Vec<u8>, Vec<u8>, u64)>,
    /// Number of the newest write; the newest view.
    seq: u64,
    /// Views pinned by live iterators, with their counts.
    iterator_pins: BTreeMap<u64, usize>,
    /// Views of the savepoints, oldest first.
    savepoints: Vec<u64>,
    /// Keys written while a savepoint existed, with the write's number.
    undo: Vec<(u64, Vec<u8>)>,
    /// Rolled-back writes that a live iterator can still see.
    dead: Vec<Dead>,
}

impl WriteBuffer {
    /// The newest view.
    pub(crate) fn view(&self) -> u64 {
        self.seq
    }

    /// The newest view any savepoint or iterator still needs.
    fn newest_pin(&self) -> Option<u64> {
        let sp = self.savepoints.last().copied();
        let it = self.iterator_pins.keys().next_back().copied();
        sp.max(it)
    }

    /// Buffer a put (`Some`) or delete (`None`) of `key`.
    pub(crate) fn write(&mut self, key: &[u8], value: Option<Vec<u8>>) {
        self.seq += 1;
        let seq = self.seq;
        let pin = self.newest_pin();
        if !self.savepoints.is_empty() {
            self.undo.push((seq, key.to_vec()));
        }
        match self.keys.get_mut(key) {
            Some(versions) => {
                let visible_to_pin = pin.is_some_and(|p| p >= versions.newest.0);
                if visible_to_pin {
                    let old = std::mem::replace(&mut versions.newest, (seq, value));
                    versions.older.push(old);
                } else {
                    versions.newest = (seq, value);
                    if pin.is_none() {
                        // Nobody can see any older version any more.
                        versions.older.clear();
                    }
                }
            }
            None => {
                self.keys.insert(
                    key.to_vec(),
                    Versions {
                        newest: (seq, value),
                        older: Vec::new(),
                    },
                );
            }
        }
    }

    /// Buffer a delete of `[start, end)`; the caller checked `start < end`.
    pub(crate) fn delete_range(&mut self, start: &[u8], end: &[u8]) {
        self.seq += 1;
        let seq = self.seq;
        if self.newest_pin().is_none() {
            // No view can see the buffered writes in the range any more:
            // drop them rather than keep them shadowed.
            let doomed: Vec<Vec<u8>> = self
                .keys
                .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                self.keys.remove(&k);
            }
        }
        self.range_deletes.push((start.to_vec(), end.to_vec(), seq));
    }

    /// Number of the newest range delete visible at `view` that covers `key`.
    fn range_deleted_at(&self, key: &[u8], view: u64) -> Option<u64> {
        self.range_deletes
            .iter()
            .filter(|(s, e, n)| {
                sees(view, *n, &self.dead) && key >= s.as_slice() && key < e.as_slice()
            })
            .map(|(_, _, n)| *n)
            .max()
    }

    /// What `view` sees of `key`.
    pub(crate) fn seen(&self, key: &[u8], view: u64) -> Seen<'_> {
        let version = self.keys.get(key).and_then(|v| v.at(view, &self.dead));
        let deleted = self.range_deleted_at(key, view);
        match (version, deleted) {
            (Some((n, value)), d) if d.is_none_or(|d| d < *n) => Seen::Written(value.as_deref()),
            (_, Some(_)) => Seen::RangeDeleted,
            _ => Seen::Untouched,
        }
    }

    /// True when any range delete is visible at `view`.
    pub(crate) fn has_range_deletes_at(&self, view: u64) -> bool {
        (self.range_deletes.iter()).any(|(_, _, n)| sees(view, *n, &self.dead))
    }

    /// True when a range delete visible at `view` covers `key` (used for the
    /// snapshot's keys, which are older than every buffered write).
    pub(crate) fn hides_snapshot_key(&self, key: &[u8], view: u64) -> bool {
        self.range_deleted_at(key, view).is_some()
    }

    /// The first buffered key within `(lo, hi)` in the given direction
    /// (`reverse` = from the top) that `view` sees as written, with its value.
    /// Keys whose only visible state is "range-deleted" are returned as
    /// deletes so that they shadow the snapshot too.
    pub(crate) fn next_written(
        &self,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
        reverse: bool,
        view: u64,
    ) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        let mut range = self.keys.range::<[u8], _>(bounds);
        loop {
            let (k, versions) = if reverse {
                range.next_back()?
            } else {
                range.next()?
            };
            if versions.at(view, &self.dead).is_none() {
                continue; // written only after the view was taken
            }
            return match self.seen(k, view) {
                Seen::Written(v) => Some((k.clone(), v.map(<[u8]>::to_vec))),
                Seen::RangeDeleted => Some((k.clone(), None)),
                Seen::Untouched => continue,
            };
        }
    }

    /// Pin the newest view for an iterator; returns the view.
    pub(crate) fn pin_iterator(&mut self) -> u64 {
        *self.iterator_pins.entry(self.seq).or_insert(0) += 1;
        self.seq
    }

    /// Release a pin taken by [`pin_iterator`](Self::pin_iterator).
    pub(crate) fn unpin_iterator(&mut self, view: u64) {
        if let Some(count) = self.iterator_pins.get_mut(&view) {
            *count -= 1;
            if *count == 0 {
                self.iterator_pins.remove(&view);
            }
        }
    }

    /// Set a savepoint at the newest view.
    pub(crate) fn set_savepoint(&mut self) {
        self.savepoints.push(self.seq);
    }

    /// Forget the newest savepoint, keeping its writes. False when none.
    pub(crate) fn release_savepoint(&mut self) -> bool {
        let released = self.savepoints.pop().is_some();
        if self.savepoints.is_empty() {
            self.undo.clear();
        }
        released
    }

    /// Undo every write made after the newest savepoint and forget it.
    /// False when there is no savepoint.
    pub(crate) fn rollback_to_savepoint(&mut self) -> bool {
        let Some(view) = self.savepoints.pop() else {
            return false;
        };
        let seen_by_iterator = self.iterator_pins.range(view + 1..).next().is_some();
        if seen_by_iterator {
            // An iterator made after the savepoint must go on seeing the
            // writes it was made with: mark them dead for later views
            // instead of removing them. A fresh number keeps the views
            // before and after the rollback apart.
            self.dead.push(Dead {
                after: view,
                upto: self.seq,
            });
            self.seq += 1;
        } else {
            while self.undo.last().is_some_and(|(n, _)| *n > view) {
                let Some((_, key)) = self.undo.pop() else {
                    break;
                };
                let Some(versions) = self.keys.get_mut(&key) else {
                    continue; // already removed by an earlier entry for the key
                };
                while versions.newest.0 > view {
                    match versions.older.pop() {
                        Some(older) => versions.newest = older,
                        None => {
                            self.keys.remove(&key);
                            break;
                        }
                    }
                }
            }
            self.range_deletes.retain(|(_, _, n)| *n <= view);
        }
        self.undo.retain(|(n, _)| *n <= view);
        if self.savepoints.is_empty() {
            self.undo.clear();
        }
        true
    }

    /// A copy of the buffered writes (their newest versions), without pins.
    pub(crate) fn clone_writes(&self) -> WriteBuffer {
        let view = self.seq;
        WriteBuffer {
            keys: self
                .keys
                .iter()
                .filter_map(|(k, v)| {
                    let newest = v.at(view, &self.dead)?.clone();
                    let versions = Versions {
                        newest,
                        older: Vec::new(),
                    };
                    Some((k.clone(), versions))
                })
                .collect(),
            range_deletes: (self.range_deletes.iter())
                .filter(|(_, _, n)| sees(view, *n, &self.dead))
                .cloned()
                .collect(),
            seq: self.seq,
            ..WriteBuffer::default()
        }
    }

    /// The buffer's final state in commit order: range deletes first, then
    /// the point writes in key order, leaving out writes that a later range
    /// delete removed (the range delete in the batch covers them).
    pub(crate) fn into_commit_order(self) -> CommitOrder {
        let this = if self.dead.is_empty() {
            self
        } else {
            self.clone_writes() // leaves the rolled-back writes out
        };
        let WriteBuffer {
            keys,
            range_deletes,
            ..
        } = this;
        let mut writes = Vec::with_capacity(keys.len());
        for (k, versions) in keys {
            let (n, value) = versions.newest;
            let removed_later = range_deletes.iter().any(|(s, e, d)| {
                *d > n && k.as_slice() >= s.as_slice() && k.as_slice() < e.as_slice()
            });
            if !removed_later {
                writes.push((k, value));
            }
        }
        let ranges = range_deletes.into_iter().map(|(s, e, _)| (s, e)).collect();
        (ranges, writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_without_pins_replaces_in_place() {
        let mut b = WriteBuffer::default();
        b.write(b"k", Some(b"1".to_vec()));
        b.write(b"k", Some(b"2".to_vec()));
        assert!(b.keys[&b"k"[..]].older.is_empty());
        assert_eq!(b.seen(b"k", b.view()), Seen::Written(Some(&b"2"[..])));
    }

    #[test]
    fn a_pinned_version_survives_later_writes() {
        let mut b = WriteBuffer::default();
        b.write(b"k", Some(b"1".to_vec()));
        let view = b.pin_iterator();
        b.write(b"k", Some(b"2".to_vec()));
        b.write(b"k", Some(b"3".to_vec()));
        // Only the pinned version is kept besides the newest.
        assert_eq!(b.keys[&b"k"[..]].older.len(), 1);
        assert_eq!(b.seen(b"k", view), Seen::Written(Some(&b"1"[..])));
        assert_eq!(b.seen(b"k", b.view()), Seen::Written(Some(&b"3"[..])));
        b.unpin_iterator(view);
        b.write(b"k", None);
        assert!(b.keys[&b"k"[..]].older.is_empty());
    }

    #[test]
    fn rollback_restores_versions_and_range_deletes() {
        let mut b = WriteBuffer::default();
        b.write(b"a", Some(b"1".to_vec()));
        b.set_savepoint();
        b.write(b"a", Some(b"2".to_vec()));
        b.write(b"b", Some(b"3".to_vec()));
        b.delete_range(b"a", b"z");
        assert_eq!(b.seen(b"a", b.view()), Seen::RangeDeleted);
        assert!(b.rollback_to_savepoint());
        assert_eq!(b.seen(b"a", b.view()), Seen::Written(Some(&b"1"[..])));
        assert_eq!(b.seen(b"b", b.view()), Seen::Untouched);
        assert!(!b.rollback_to_savepoint());
    }

    #[test]
    fn commit_leaves_out_writes_a_later_range_delete_removed() {
        let mut b = WriteBuffer::default();
        let view = b.pin_iterator(); // keeps shadowed writes in the buffer
        b.write(b"b", Some(b"old".to_vec()));
        b.delete_range(b"a", b"c");
        b.write(b"x", Some(b"kept".to_vec()));
        b.unpin_iterator(view);
        let (ranges, writes) = b.into_commit_order();
        assert_eq!(ranges, vec![(b"a".to_vec(), b"c".to_vec())]);
        assert_eq!(writes, vec![(b"x".to_vec(), Some(b"kept".to_vec()))]);
    }
}
