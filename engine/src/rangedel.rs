//! Range tombstones: how `delete_range` stays O(1) writes instead of one
//! tombstone per key, and still answers reads exactly.
//!
//! A range tombstone `[start, end) @ seq` deletes every version of every key
//! in the range with a sequence number below `seq`. Memtables and tables keep
//! their tombstones in a list; readers use them *fragmented* (the technique
//! of Pebble and RocksDB): cut at every start and end point into
//! non-overlapping fragments, each carrying the sequence numbers of all
//! tombstones covering it, newest first.
//!
//! ```text
//!   tombstones   [a ─────── e)@5        [c ── g)@9
//!   fragments    [a,c)@{5}  [c,e)@{9,5}  [e,g)@{9}
//! ```
//!
//! A read at snapshot `s` of key `k` asks for the newest covering sequence
//! `<= s` ([`Fragments::max_covering`]); a version of `k` with a lower
//! sequence is deleted. Iterators flatten the fragments of every source into
//! one list at their snapshot ([`Visible`]), so each key costs one binary
//! search when there are tombstones and nothing when there are none.
//!
//! For simplicity the fragments of a memtable are rebuilt on the first read
//! after a range delete (O(t log t) for t tombstones); an interval tree would
//! replace it if workloads with thousands of range deletes per memtable
//! appear.

use std::sync::Arc;

/// One range tombstone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// Inclusive start.
    pub start: Vec<u8>,
    /// Exclusive end.
    pub end: Vec<u8>,
    /// Sequence number of the delete.
    pub seq: u64,
}

/// Non-overlapping fragments sorted by start.
#[derive(Debug, Default)]
pub struct Fragments {
    frags: Vec<Fragment>,
}

#[derive(Debug)]
struct Fragment {
    start: Vec<u8>,
    end: Vec<u8>,
    /// Descending.
    seqs: Vec<u64>,
}

impl Fragments {
    /// Fragment a set of tombstones (empty ranges are ignored).
    pub fn build<'a>(tombs: impl IntoIterator<Item = &'a Tombstone>) -> Fragments {
        let tombs: Vec<&Tombstone> = tombs.into_iter().filter(|t| t.start < t.end).collect();
        if tombs.is_empty() {
            return Fragments::default();
        }
        let mut points: Vec<&[u8]> = tombs
            .iter()
            .flat_map(|t| [t.start.as_slice(), t.end.as_slice()])
            .collect();
        points.sort_unstable();
        points.dedup();
        let mut seqs: Vec<Vec<u64>> = vec![Vec::new(); points.len() - 1];
        for t in &tombs {
            let from = points.partition_point(|p| *p < t.start.as_slice());
            let to = points.partition_point(|p| *p < t.end.as_slice());
            for s in &mut seqs[from..to] {
                s.push(t.seq);
            }
        }
        let mut frags = Vec::new();
        for (i, mut s) in seqs.into_iter().enumerate() {
            if s.is_empty() {
                continue;
            }
            s.sort_unstable_by(|a, b| b.cmp(a));
            s.dedup();
            frags.push(Fragment {
                start: points[i].to_vec(),
                end: points[i + 1].to_vec(),
                seqs: s,
            });
        }
        Fragments { frags }
    }

    /// True when there is no tombstone.
    pub fn is_empty(&self) -> bool {
        self.frags.is_empty()
    }

    /// The newest sequence `<= snap` of a tombstone covering `key`, or 0.
    pub fn max_covering(&self, key: &[u8], snap: u64) -> u64 {
        if self.frags.is_empty() {
            return 0;
        }
        let i = self.frags.partition_point(|f| f.start.as_slice() <= key);
        if i == 0 {
            return 0;
        }
        let f = &self.frags[i - 1];
        if key >= f.end.as_slice() {
            return 0;
        }
        f.seqs.iter().copied().find(|&s| s <= snap).unwrap_or(0)
    }

    /// True when a tombstone covering `key` has a sequence in
    /// `(above, upto]` (a newer delete of the key within one snapshot
    /// stripe).
    pub fn covers_between(&self, key: &[u8], above: u64, upto: u64) -> bool {
        if self.frags.is_empty() {
            return false;
        }
        let i = self.frags.partition_point(|f| f.start.as_slice() <= key);
        let Some(f) = i.checked_sub(1).map(|j| &self.frags[j]) else {
            return false;
        };
        key < f.end.as_slice() && f.seqs.iter().any(|&s| s > above && s <= upto)
    }

    /// The fragments: `(start, end, sequences newest first)`, by start.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8], &[u64])> + '_ {
        self.frags
            .iter()
            .map(|f| (f.start.as_slice(), f.end.as_slice(), f.seqs.as_slice()))
    }

    /// Every (fragment, sequence) pair as a tombstone, ordered by start then
    /// sequence descending: an equivalent tombstone set, for writing tables.
    pub fn tombstones(&self) -> impl Iterator<Item = Tombstone> + '_ {
        self.frags.iter().flat_map(|f| {
            f.seqs.iter().map(|&seq| Tombstone {
                start: f.start.clone(),
                end: f.end.clone(),
                seq,
            })
        })
    }

    /// Fragments overlapping `[lo, hi]` (bounds optional) with their newest
    /// sequence `<= snap`, appended to `out` as tombstones.
    pub fn visible_into(&self, snap: u64, out: &mut Vec<Tombstone>) {
        for f in &self.frags {
            if let Some(&seq) = f.seqs.iter().find(|&&s| s <= snap) {
                out.push(Tombstone {
                    start: f.start.clone(),
                    end: f.end.clone(),
                    seq,
                });
            }
        }
    }
}

/// The tombstones visible to one reader, flattened across sources: disjoint
/// fragments, each with the newest sequence that covers it.
#[derive(Debug, Default)]
pub struct Visible {
    frags: Vec<(Vec<u8>, Vec<u8>, u64)>,
}

impl Visible {
    /// Combine tombstones (already filtered to the reader's snapshot).
    pub fn new(tombs: Vec<Tombstone>) -> Visible {
        if tombs.is_empty() {
            return Visible::default();
        }
        let f = Fragments::build(tombs.iter());
        Visible {
            frags: f
                .frags
                .into_iter()
                .map(|fr| (fr.start, fr.end, fr.seqs[0]))
                .collect(),
        }
    }

    /// True when nothing is deleted by range.
    pub fn is_empty(&self) -> bool {
        self.frags.is_empty()
    }

    /// The newest sequence of a tombstone covering `key`, or 0.
    #[inline]
    pub fn covering(&self, key: &[u8]) -> u64 {
        if self.frags.is_empty() {
            return 0;
        }
        let i = self.frags.partition_point(|f| f.0.as_slice() <= key);
        match i.checked_sub(1).map(|j| &self.frags[j]) {
            Some((_, end, seq)) if key < end.as_slice() => *seq,
            _ => 0,
        }
    }
}

/// Shared, immutable fragments.
pub type SharedFragments = Arc<Fragments>;

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, e: &str, seq: u64) -> Tombstone {
        Tombstone {
            start: s.into(),
            end: e.into(),
            seq,
        }
    }

    #[test]
    fn fragments_answer_by_snapshot() {
        let f = Fragments::build(&[t("a", "e", 5), t("c", "g", 9), t("x", "x", 3)]);
        assert_eq!(f.max_covering(b"b", 100), 5);
        assert_eq!(f.max_covering(b"d", 100), 9);
        assert_eq!(f.max_covering(b"d", 8), 5);
        assert_eq!(f.max_covering(b"d", 4), 0);
        assert_eq!(f.max_covering(b"g", 100), 0);
        assert_eq!(f.max_covering(b"", 100), 0);
        assert_eq!(f.tombstones().count(), 4);
        let v = Visible::new(vec![t("a", "e", 5), t("c", "g", 9)]);
        assert_eq!(v.covering(b"a"), 5);
        assert_eq!(v.covering(b"c"), 9);
        assert_eq!(v.covering(b"f"), 9);
        assert_eq!(v.covering(b"g"), 0);
    }
}
