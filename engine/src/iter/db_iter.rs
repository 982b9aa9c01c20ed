//! [`DbIter`]: the contract's iterator, over a merge of every source at one
//! snapshot.
//!
//! Going forward, the merge yields each user key's versions newest first:
//! the first version with a sequence `<= snapshot` decides the key (a value
//! is returned unless a range tombstone newer than it covers the key; a point
//! tombstone hides it), and the older versions are skipped. Going in reverse
//! the versions come oldest first, so the iterator reads all of a key's
//! versions and keeps the newest visible one (its value copied into a
//! reusable buffer, as LevelDB does).
//!
//! The iterator holds `Arc`s to the memtables and the version it reads, so
//! flushes (and compactions) that happen meanwhile do not disturb it.

use std::ops::Bound;
use std::sync::Arc;

use kv_api::{Direction, Error, KeyRange, KvIterator, Result};

use super::InternalIterator;
use super::merge::MergingIter;
use crate::key::{self, Kind};
use crate::rangedel::Visible;

/// Something the iterator keeps alive and asks whether the store is open.
pub trait IterGuard: Send + Sync {
    /// True once the store was closed.
    fn is_closed(&self) -> bool;
}

/// A user-level iterator at one snapshot.
pub struct DbIter {
    merge: MergingIter,
    dir: Direction,
    snap: u64,
    range: KeyRange,
    /// The range narrowed by the last seek.
    eff: KeyRange,
    tombs: Visible,
    skip: Vec<u8>,
    has_skip: bool,
    pending_advance: bool,
    started: bool,
    done: bool,
    failed: bool,
    saved_key: Vec<u8>,
    saved_val: Vec<u8>,
    guard: Arc<dyn IterGuard>,
}

impl DbIter {
    /// Iterate `range` in `dir` over `merge` at snapshot `snap`, with the
    /// visible range tombstones `tombs`.
    pub fn new(
        merge: MergingIter,
        dir: Direction,
        snap: u64,
        range: KeyRange,
        tombs: Visible,
        guard: Arc<dyn IterGuard>,
    ) -> Self {
        DbIter {
            merge,
            dir,
            snap,
            eff: range.clone(),
            range,
            tombs,
            skip: Vec::new(),
            has_skip: false,
            pending_advance: false,
            started: false,
            done: false,
            failed: false,
            saved_key: Vec::new(),
            saved_val: Vec::new(),
            guard,
        }
    }

    /// Position the merge at the start of `self.eff`.
    fn position(&mut self) -> Result<()> {
        self.started = true;
        self.pending_advance = false;
        self.has_skip = false;
        self.done = self.eff.is_empty();
        if self.done {
            return Ok(());
        }
        match self.dir {
            Direction::Forward => match &self.eff.start {
                Bound::Unbounded => self.merge.seek_to_first(),
                Bound::Included(s) => {
                    self.merge
                        .seek(&key::encode(s, key::MAX_SEQUENCE, Kind::RangeDelete))
                }
                Bound::Excluded(s) => {
                    self.skip.clear();
                    self.skip.extend_from_slice(s);
                    self.has_skip = true;
                    self.merge
                        .seek(&key::encode(s, key::MAX_SEQUENCE, Kind::RangeDelete))
                }
            },
            Direction::Reverse => match &self.eff.end {
                Bound::Unbounded => self.merge.seek_to_first(),
                Bound::Included(e) | Bound::Excluded(e) => {
                    self.merge.seek(&key::encode(e, 0, Kind::Delete))
                }
            },
        }
    }

    fn next_forward(&mut self) -> Result<bool> {
        if self.pending_advance {
            self.pending_advance = false;
            self.merge.advance()?;
        }
        loop {
            if !self.merge.valid() {
                return Ok(false);
            }
            let ik = self.merge.key();
            let user = key::user_key(ik);
            let tr = key::trailer_of(ik);
            let seq = tr >> 8;
            if seq > self.snap || (self.has_skip && user == self.skip.as_slice()) {
                self.merge.advance()?;
                continue;
            }
            if !self.eff.before_end(user) {
                return Ok(false);
            }
            self.skip.clear();
            self.skip.extend_from_slice(user);
            self.has_skip = true;
            if tr as u8 == Kind::Put as u8 && self.tombs.covering(user) <= seq {
                self.pending_advance = true;
                return Ok(true);
            }
            self.merge.advance()?;
        }
    }

    fn next_reverse(&mut self) -> Result<bool> {
        loop {
            if !self.merge.valid() {
                return Ok(false);
            }
            let user = key::user_key(self.merge.key());
            if !self.eff.after_start(user) {
                return Ok(false);
            }
            if !self.eff.before_end(user) {
                self.merge.advance()?;
                continue;
            }
            self.saved_key.clear();
            self.saved_key.extend_from_slice(user);
            let mut best: Option<(u64, bool)> = None;
            while self.merge.valid() && key::user_key(self.merge.key()) == self.saved_key.as_slice()
            {
                let tr = key::trailer_of(self.merge.key());
                let seq = tr >> 8;
                if seq <= self.snap {
                    let is_put = tr as u8 == Kind::Put as u8;
                    if is_put {
                        self.saved_val.clear();
                        self.saved_val.extend_from_slice(self.merge.value());
                    }
                    best = Some((seq, is_put));
                }
                self.merge.advance()?;
            }
            if let Some((seq, true)) = best {
                if self.tombs.covering(&self.saved_key) <= seq {
                    return Ok(true);
                }
            }
        }
    }
}

impl KvIterator for DbIter {
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        if self.failed || self.done {
            return Ok(None);
        }
        if self.guard.is_closed() {
            self.failed = true;
            return Err(Error::Closed);
        }
        let step = (|| {
            if !self.started {
                self.position()?;
                if self.done {
                    return Ok(false);
                }
            }
            match self.dir {
                Direction::Forward => self.next_forward(),
                Direction::Reverse => self.next_reverse(),
            }
        })();
        match step {
            Ok(true) => match self.dir {
                Direction::Forward => {
                    Ok(Some((key::user_key(self.merge.key()), self.merge.value())))
                }
                Direction::Reverse => Ok(Some((&self.saved_key, &self.saved_val))),
            },
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        if self.failed {
            return Err(Error::invalid("seek on an iterator that already failed"));
        }
        self.eff = match self.dir {
            Direction::Forward => self.range.clamp_start(target),
            Direction::Reverse => self.range.clamp_end(target),
        };
        self.done = false;
        self.started = false;
        Ok(())
    }
}
