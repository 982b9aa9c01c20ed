//! A snapshot-isolation transaction that any backend can reuse.
//!
//! [`BufferedTransaction`] reads through a [`Snapshot`] and buffers its writes
//! in an ordered map; reads and iterators merge the buffer over the snapshot
//! (read-your-writes). Commit hands the buffer to the backend as one
//! [`WriteBatch`] through [`CommitTarget::commit_if_unchanged`], which checks,
//! under the backend's write lock, that no key in the batch was written after
//! the transaction's snapshot, and applies the batch only then. That is
//! optimistic concurrency control with first-committer-wins, the rule of
//! snapshot isolation: two transactions conflict only when they write the same
//! key; read-only transactions never conflict.
//!
//! Range deletes inside a transaction remove buffered writes in the range and
//! hide the snapshot's keys in it; later puts into the range show again. On
//! commit the range deletes go first in the batch, then the point writes in key
//! order, which reproduces exactly that order of effects.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::{
    Direction, Error, KeyRange, KvIterator, KvRead, Limits, Result, Snapshot, Transaction,
    WriteBatch, WriteOptions,
};

/// The hook a backend offers to [`BufferedTransaction`] for commits.
pub trait CommitTarget: Send + Sync {
    /// Apply `batch` atomically if no key it writes (for a range delete: no key
    /// inside its range) has a version newer than `read_seq`; otherwise fail
    /// with [`Error::Conflict`] and write nothing. The check and the write must
    /// be atomic with respect to other commits.
    fn commit_if_unchanged(
        &self,
        batch: WriteBatch,
        read_seq: u64,
        opts: &WriteOptions,
    ) -> Result<()>;
}

type WriteBuffer = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A transaction over a [`Snapshot`] and a [`CommitTarget`]; see the module
/// documentation.
pub struct BufferedTransaction {
    snapshot: Box<dyn Snapshot>,
    target: Arc<dyn CommitTarget>,
    limits: Limits,
    // Shared with live iterators; copy-on-write when they are alive.
    writes: Arc<WriteBuffer>,
    range_deletes: Arc<Vec<(Vec<u8>, Vec<u8>)>>,
    payload: usize,
    // Each savepoint shares the buffers as they were; the first write after
    // it copies them (copy-on-write), so setting one is O(1).
    savepoints: Vec<Savepoint>,
}

struct Savepoint {
    writes: Arc<WriteBuffer>,
    range_deletes: Arc<Vec<(Vec<u8>, Vec<u8>)>>,
    payload: usize,
}

impl BufferedTransaction {
    /// A transaction reading at `snapshot` and committing into `target`.
    pub fn new(snapshot: Box<dyn Snapshot>, target: Arc<dyn CommitTarget>, limits: Limits) -> Self {
        BufferedTransaction {
            snapshot,
            target,
            limits,
            writes: Arc::new(BTreeMap::new()),
            range_deletes: Arc::new(Vec::new()),
            payload: 0,
            savepoints: Vec::new(),
        }
    }

    fn add_payload(&mut self, n: usize) -> Result<()> {
        let total = self.payload + n;
        if total > self.limits.max_batch_bytes {
            return Err(Error::invalid(format!(
                "transaction would hold {total} bytes of writes, over the limit of {} bytes; commit in smaller transactions",
                self.limits.max_batch_bytes
            )));
        }
        self.payload = total;
        Ok(())
    }

    fn range_deleted(&self, key: &[u8]) -> bool {
        covered(&self.range_deletes, key)
    }
}

fn covered(dels: &[(Vec<u8>, Vec<u8>)], key: &[u8]) -> bool {
    dels.iter()
        .any(|(s, e)| key >= s.as_slice() && key < e.as_slice())
}

impl KvRead for BufferedTransaction {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(w) = self.writes.get(key) {
            return Ok(w.clone());
        }
        if self.range_deleted(key) {
            return Ok(None);
        }
        self.snapshot.get(key)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        let base = self.snapshot.iter(range.clone(), direction)?;
        let wpos = match direction {
            Direction::Forward => range.start.clone(),
            Direction::Reverse => range.end.clone(),
        };
        Ok(Box::new(TxnIter {
            base,
            base_cur: None,
            base_done: false,
            writes: Arc::clone(&self.writes),
            dels: Arc::clone(&self.range_deletes),
            range,
            dir: direction,
            wpos,
            w_cur: None,
            out: (Vec::new(), Vec::new()),
        }))
    }
}

impl Transaction for BufferedTransaction {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.limits.check_key(key)?;
        self.limits.check_value(value)?;
        self.add_payload(key.len() + value.len())?;
        Arc::make_mut(&mut self.writes).insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.limits.check_key(key)?;
        self.add_payload(key.len())?;
        Arc::make_mut(&mut self.writes).insert(key.to_vec(), None);
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.limits.check_key(start)?;
        self.limits.check_key(end)?;
        if start >= end {
            return Ok(());
        }
        self.add_payload(start.len() + end.len())?;
        let writes = Arc::make_mut(&mut self.writes);
        let doomed: Vec<Vec<u8>> = writes
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            writes.remove(&k);
        }
        Arc::make_mut(&mut self.range_deletes).push((start.to_vec(), end.to_vec()));
        Ok(())
    }

    fn read_sequence(&self) -> u64 {
        self.snapshot.sequence()
    }

    fn set_savepoint(&mut self) {
        self.savepoints.push(Savepoint {
            writes: Arc::clone(&self.writes),
            range_deletes: Arc::clone(&self.range_deletes),
            payload: self.payload,
        });
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        let sp = self
            .savepoints
            .pop()
            .ok_or_else(|| Error::invalid("rollback to savepoint: no savepoint is set"))?;
        self.writes = sp.writes;
        self.range_deletes = sp.range_deletes;
        self.payload = sp.payload;
        Ok(())
    }

    fn release_savepoint(&mut self) {
        self.savepoints.pop();
    }

    fn commit(mut self: Box<Self>, opts: &WriteOptions) -> Result<()> {
        self.savepoints.clear(); // lets the buffer be taken without a copy
        if self.writes.is_empty() && self.range_deletes.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::with_capacity(self.writes.len() + self.range_deletes.len());
        for (s, e) in self.range_deletes.iter() {
            batch.delete_range(s.clone(), e.clone());
        }
        let writes = Arc::try_unwrap(self.writes).unwrap_or_else(|shared| (*shared).clone());
        for (k, v) in writes {
            match v {
                Some(v) => batch.put(k, v),
                None => batch.delete(k),
            };
        }
        let read_seq = self.snapshot.sequence();
        self.target.commit_if_unchanged(batch, read_seq, opts)
    }

    fn rollback(self: Box<Self>) {}
}

/// Merges the transaction's buffered writes over its snapshot's iterator.
struct TxnIter {
    base: Box<dyn KvIterator>,
    base_cur: Option<(Vec<u8>, Vec<u8>)>,
    base_done: bool,
    writes: Arc<WriteBuffer>,
    dels: Arc<Vec<(Vec<u8>, Vec<u8>)>>,
    range: KeyRange,
    dir: Direction,
    // Where the next buffered write is searched from (exclusive once used).
    wpos: Bound<Vec<u8>>,
    w_cur: Option<(Vec<u8>, Option<Vec<u8>>)>,
    out: (Vec<u8>, Vec<u8>),
}

impl TxnIter {
    fn fill_base(&mut self) -> Result<()> {
        while self.base_cur.is_none() && !self.base_done {
            match self.base.next()? {
                Some((k, v)) => {
                    if !covered(&self.dels, k) {
                        self.base_cur = Some((k.to_vec(), v.to_vec()));
                    }
                }
                None => self.base_done = true,
            }
        }
        Ok(())
    }

    fn fill_write(&mut self) {
        if self.w_cur.is_some() {
            return;
        }
        let window = match self.dir {
            Direction::Forward => KeyRange::new(self.wpos.clone(), self.range.end.clone()),
            Direction::Reverse => KeyRange::new(self.range.start.clone(), self.wpos.clone()),
        };
        if window.is_empty() {
            return;
        }
        let mut it = self.writes.range::<[u8], _>(window.as_slice_bounds());
        let found = match self.dir {
            Direction::Forward => it.next(),
            Direction::Reverse => it.next_back(),
        };
        if let Some((k, v)) = found {
            self.wpos = Bound::Excluded(k.clone());
            self.w_cur = Some((k.clone(), v.clone()));
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

impl KvIterator for TxnIter {
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
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
        self.wpos = match self.dir {
            Direction::Forward => self.range.clamp_start(target).start,
            Direction::Reverse => self.range.clamp_end(target).end,
        };
        Ok(())
    }
}
