//! [`LevelIter`]: one iterator over a whole sorted level (L1 and deeper),
//! opening its tables one at a time as the cursor reaches them.
//!
//! ```text
//!   level  [a ── f] [g ── m] [n ── t] [u ── z]     sorted, disjoint
//!   seek("h")          ▲ binary search on the tables' key ranges,
//!                        open that one table, seek inside it;
//!                        at its end, open the next
//! ```
//!
//! A merge over memtables, L0 tables and one `LevelIter` per level has a
//! few children instead of one per table, so a seek costs a few block
//! reads however many tables the database has, and an iterator holds at
//! most one block per level.

use std::sync::Arc;

use kv_api::{Direction, Result};

use super::InternalIterator;
use crate::key;
use crate::sstable::table::{Table, TableIter};
use crate::version::edit::FileMeta;

/// Opens a table by file number (the table cache).
pub type TableOpener = Arc<dyn Fn(u64) -> Result<Arc<Table>> + Send + Sync>;

/// An internal iterator over the tables of one sorted level.
pub struct LevelIter {
    files: Vec<Arc<FileMeta>>,
    open: TableOpener,
    dir: Direction,
    /// Index of the table `cur` iterates.
    idx: usize,
    cur: Option<TableIter>,
}

impl LevelIter {
    /// Iterate `files` (sorted by key, disjoint) in `dir`.
    pub fn new(files: Vec<Arc<FileMeta>>, open: TableOpener, dir: Direction) -> Self {
        LevelIter {
            files,
            open,
            dir,
            idx: 0,
            cur: None,
        }
    }

    fn load(&mut self, i: usize) -> Result<&mut TableIter> {
        self.idx = i;
        let t = (self.open)(self.files[i].number)?;
        Ok(self.cur.insert(t.iter(self.dir)))
    }

    /// Move to the next table while the current one is exhausted.
    fn skip_exhausted(&mut self) -> Result<()> {
        while self.cur.as_ref().is_some_and(|c| !c.valid()) {
            let next = match self.dir {
                Direction::Forward if self.idx + 1 < self.files.len() => self.idx + 1,
                Direction::Reverse if self.idx > 0 => self.idx - 1,
                _ => {
                    self.cur = None;
                    return Ok(());
                }
            };
            self.load(next)?.seek_to_first()?;
        }
        Ok(())
    }
}

impl InternalIterator for LevelIter {
    #[inline]
    fn valid(&self) -> bool {
        self.cur.as_ref().is_some_and(TableIter::valid)
    }

    #[inline]
    fn key(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[][..], |c| c.key())
    }

    #[inline]
    fn value(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[][..], |c| c.value())
    }

    fn advance(&mut self) -> Result<()> {
        if let Some(c) = &mut self.cur {
            c.advance()?;
        }
        self.skip_exhausted()
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        let n = self.files.len();
        match self.dir {
            Direction::Forward => {
                // The first table whose largest key is at or after target.
                let i = self
                    .files
                    .partition_point(|f| key::compare(&f.largest, target).is_lt());
                if i >= n {
                    self.cur = None;
                    return Ok(());
                }
                self.load(i)?.seek(target)?;
            }
            Direction::Reverse => {
                // The last table whose smallest key is at or before target.
                let i = self
                    .files
                    .partition_point(|f| key::compare(&f.smallest, target).is_le());
                if i == 0 {
                    self.cur = None;
                    return Ok(());
                }
                self.load(i - 1)?.seek(target)?;
            }
        }
        self.skip_exhausted()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        let n = self.files.len();
        if n == 0 {
            self.cur = None;
            return Ok(());
        }
        let i = match self.dir {
            Direction::Forward => 0,
            Direction::Reverse => n - 1,
        };
        self.load(i)?.seek_to_first()?;
        self.skip_exhausted()
    }
}
