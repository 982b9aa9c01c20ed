//! [`TxnIter`]: a transaction's iterator, merging the write buffer (at the
//! view pinned when the iterator was made) over the snapshot's iterator.
//!
//! The buffer is shared with the transaction, which may keep writing while the
//! iterator is alive; the pinned view keeps those later writes out of sight
//! (an iterator sees the transaction as it was when the iterator was made).
//! The iterator re-finds its place in the buffer by key for every step, under
//! the buffer's lock for that step only.

use std::ops::Bound;

use super::{SharedBuffer, lock};
use crate::{Direction, KeyRange, KvIterator, Result};

pub(super) struct TxnIter {
    base: Box<dyn KvIterator>,
    base_cur: Option<(Vec<u8>, Vec<u8>)>,
    base_done: bool,
    buffer: SharedBuffer,
    view: u64,
    // Whether any range delete is visible at `view` (fixed for the
    // iterator's life: later range deletes are numbered above the view), so
    // that snapshot keys are checked against them only when needed.
    range_deleted: bool,
    range: KeyRange,
    dir: Direction,
    // Where the next buffered write is searched from (exclusive once used).
    wpos: Bound<Vec<u8>>,
    w_cur: Option<(Vec<u8>, Option<Vec<u8>>)>,
    // Nothing the view sees is left in the buffer's window: later searches
    // would only skip keys written after the view, again and again.
    w_done: bool,
    out: (Vec<u8>, Vec<u8>),
}

impl TxnIter {
    pub(super) fn new(
        base: Box<dyn KvIterator>,
        buffer: SharedBuffer,
        range: KeyRange,
        dir: Direction,
    ) -> Self {
        let (view, range_deleted) = {
            let mut b = lock(&buffer);
            let view = b.pin_iterator();
            (view, b.has_range_deletes_at(view))
        };
        let wpos = match dir {
            Direction::Forward => range.start.clone(),
            Direction::Reverse => range.end.clone(),
        };
        TxnIter {
            base,
            base_cur: None,
            base_done: false,
            buffer,
            view,
            range_deleted,
            range,
            dir,
            wpos,
            w_cur: None,
            w_done: false,
            out: (Vec::new(), Vec::new()),
        }
    }

    fn fill_base(&mut self) -> Result<()> {
        while self.base_cur.is_none() && !self.base_done {
            match self.base.next()? {
                Some((k, v)) => {
                    if !self.range_deleted || !lock(&self.buffer).hides_snapshot_key(k, self.view) {
                        self.base_cur = Some((k.to_vec(), v.to_vec()));
                    }
                }
                None => self.base_done = true,
            }
        }
        Ok(())
    }

    fn fill_write(&mut self) {
        if self.w_cur.is_some() || self.w_done {
            return;
        }
        let window = match self.dir {
            Direction::Forward => KeyRange::new(self.wpos.clone(), self.range.end.clone()),
            Direction::Reverse => KeyRange::new(self.range.start.clone(), self.wpos.clone()),
        };
        if window.is_empty() {
            self.w_done = true;
            return;
        }
        let found = lock(&self.buffer).next_written(
            window.as_slice_bounds(),
            self.dir == Direction::Reverse,
            self.view,
        );
        match found {
            Some((k, v)) => {
                self.wpos = Bound::Excluded(k.clone());
                self.w_cur = Some((k, v));
            }
            None => self.w_done = true,
        }
    }

    /// True when `a` comes before `b` in the iteration direction.
    fn before(&self, a: &[u8], b: &[u8]) -> bool {
        match self.dir {
            Direction::Forward => a < b,
            Direction::Reverse => a > b,
        }
    }
}

impl Drop for TxnIter {
    fn drop(&mut self) {
        lock(&self.buffer).unpin_iterator(self.view);
    }
}

impl KvIterator for TxnIter {
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        // Past the last buffered write this view sees, with no range delete
        // to apply: the snapshot's entries pass through without a copy.
        if self.w_done && self.w_cur.is_none() && self.base_cur.is_none() && !self.range_deleted {
            if self.base_done {
                return Ok(None);
            }
            let entry = self.base.next()?;
            if entry.is_none() {
                self.base_done = true;
            }
            return Ok(entry);
        }
        loop {
            self.fill_base()?;
            self.fill_write();
            let take_write = match (&self.base_cur, &self.w_cur) {
                (None, None) => return Ok(None),
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((bk, _)), Some((wk, _))) => {
                    if bk == wk {
                        self.base_cur = None; // shadowed by the buffered write
                        true
                    } else {
                        self.before(wk, bk)
                    }
                }
            };
            if take_write {
                let (k, v) = self.w_cur.take().unwrap_or_default();
                if let Some(v) = v {
                    self.out = (k, v);
                    return Ok(Some((&self.out.0, &self.out.1)));
                }
            } else if let Some(entry) = self.base_cur.take() {
                self.out = entry;
                return Ok(Some((&self.out.0, &self.out.1)));
            }
        }
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.base.seek(target)?;
        self.base_cur = None;
        self.base_done = false;
        self.w_cur = None;
        self.w_done = false;
        self.wpos = match self.dir {
            Direction::Forward => self.range.clamp_start(target).start,
            Direction::Reverse => self.range.clamp_end(target).end,
        };
        Ok(())
    }
}
