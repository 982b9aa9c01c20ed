//! [`MemIter`]: an internal iterator over a memtable.
//!
//! It copies a page of entries at a time (8 after a seek, doubling up to
//! 256) out of the skip list into one
//! reusable buffer, then serves them from there. A page costs one skip-list
//! search; entries cost a copy and no allocation. For simplicity this beats
//! holding a skip-list entry across calls, which would need the iterator to
//! borrow from the memtable it owns.

use std::ops::Bound;
use std::sync::Arc;

use kv_api::{Direction, Result};

use super::{MemKey, Memtable};
use crate::iter::InternalIterator;
use crate::key;

/// Entries in the first page after a seek; each further page doubles, up to
/// [`MAX_PAGE_ENTRIES`]. A seek followed by a few `next`s (the common case
/// of a SQL point range) copies little; a long scan soon copies in bulk.
const FIRST_PAGE_ENTRIES: usize = 8;
const MAX_PAGE_ENTRIES: usize = 256;
const PAGE_BYTES: usize = 128 * 1024;

/// An internal iterator over one memtable.
pub struct MemIter {
    mem: Arc<Memtable>,
    dir: Direction,
    buf: Vec<u8>,
    /// (key start, key end = value start, value end) in `buf`.
    entries: Vec<(usize, usize, usize)>,
    pos: usize,
    /// True when the skip list has nothing after the current page.
    last_page: bool,
    /// Entries to copy in the next page.
    page_entries: usize,
}

impl MemIter {
    /// An unpositioned iterator over `mem` (call a seek first).
    pub fn new(mem: Arc<Memtable>, dir: Direction) -> Self {
        MemIter {
            mem,
            dir,
            buf: Vec::new(),
            entries: Vec::new(),
            pos: 0,
            last_page: true,
            page_entries: FIRST_PAGE_ENTRIES,
        }
    }

    /// Fill a page starting at `from` (an internal key bound in the
    /// iterator's direction; `None` = the first entry).
    fn fill(&mut self, from: Option<(Vec<u8>, bool)>) {
        self.buf.clear();
        self.entries.clear();
        self.pos = 0;
        let probe;
        let bound: Bound<&MemKey> = match &from {
            None => Bound::Unbounded,
            Some((ik, inclusive)) => {
                probe = MemKey::lookup(key::user_key(ik), key::trailer_of(ik));
                if *inclusive {
                    Bound::Included(&probe)
                } else {
                    Bound::Excluded(&probe)
                }
            }
        };
        let limit = self.page_entries;
        let map = self.mem.map();
        let guard = crossbeam_epoch::pin();
        let mut take = |k: &MemKey, v: &[u8]| -> bool {
            let s = self.buf.len();
            self.buf.extend_from_slice(k.user());
            self.buf.extend_from_slice(&k.trailer().to_le_bytes());
            let ke = self.buf.len();
            self.buf.extend_from_slice(v);
            self.entries.push((s, ke, self.buf.len()));
            self.entries.len() < limit && self.buf.len() < PAGE_BYTES
        };
        let mut more = false;
        match self.dir {
            Direction::Forward => {
                for e in map.range((bound, Bound::Unbounded), &guard) {
                    if !take(e.key(), e.value()) {
                        more = true;
                        break;
                    }
                }
            }
            Direction::Reverse => {
                for e in map.range((Bound::Unbounded, bound), &guard).rev() {
                    if !take(e.key(), e.value()) {
                        more = true;
                        break;
                    }
                }
            }
        }
        // `more` is conservative: the page may have ended exactly at the
        // last entry; the next fill then simply finds nothing.
        self.last_page = !more;
    }
}

impl InternalIterator for MemIter {
    fn valid(&self) -> bool {
        self.pos < self.entries.len()
    }

    fn key(&self) -> &[u8] {
        let (s, k, _) = self.entries[self.pos];
        &self.buf[s..k]
    }

    fn value(&self) -> &[u8] {
        let (_, k, v) = self.entries[self.pos];
        &self.buf[k..v]
    }

    fn advance(&mut self) -> Result<()> {
        self.pos += 1;
        if self.pos >= self.entries.len() && !self.last_page && !self.entries.is_empty() {
            let (s, k, _) = self.entries[self.entries.len() - 1];
            let last = self.buf[s..k].to_vec();
            self.page_entries = (self.page_entries * 2).min(MAX_PAGE_ENTRIES);
            self.fill(Some((last, false)));
        }
        Ok(())
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.page_entries = FIRST_PAGE_ENTRIES;
        self.fill(Some((target.to_vec(), true)));
        Ok(())
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.page_entries = FIRST_PAGE_ENTRIES;
        self.fill(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kind;

    #[test]
    fn pages_through_both_directions() {
        let m = Arc::new(Memtable::new(1, 1 << 20));
        for i in 0..300u32 {
            m.add(u64::from(i) + 1, Kind::Put, &i.to_be_bytes(), b"v");
        }
        let mut it = MemIter::new(Arc::clone(&m), Direction::Forward);
        it.seek_to_first().unwrap();
        let mut n = 0u32;
        while it.valid() {
            assert_eq!(key::user_key(it.key()), n.to_be_bytes());
            n += 1;
            it.advance().unwrap();
        }
        assert_eq!(n, 300);
        let mut it = MemIter::new(m, Direction::Reverse);
        it.seek(&key::encode(&100u32.to_be_bytes(), 0, Kind::Delete))
            .unwrap();
        let mut n = 101u32;
        while it.valid() {
            n -= 1;
            assert_eq!(key::user_key(it.key()), n.to_be_bytes());
            it.advance().unwrap();
        }
        assert_eq!(n, 0);
    }
}
