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

use std::sync::{Arc, Mutex, MutexGuard};

use crate::{
    Direction, Error, KeyRange, KvIterator, KvRead, Limits, Result, Snapshot, Transaction,
    WriteBatch, WriteOptions,
};

mod iter;
mod write_buffer;

use iter::TxnIter;
use write_buffer::{Seen, WriteBuffer};

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

/// The buffer, shared with the transaction's live iterators (each reads the
/// view it pinned; see [`write_buffer`]).
type SharedBuffer = Arc<Mutex<WriteBuffer>>;

fn lock(buffer: &SharedBuffer) -> MutexGuard<'_, WriteBuffer> {
    // A panic while holding the lock cannot leave the buffer half-updated in
    // a way later reads would misread (each method finishes its change or
    // makes none that matter), so a poisoned lock is taken as is.
    buffer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A transaction over a [`Snapshot`] and a [`CommitTarget`]; see the module
/// documentation.
pub struct BufferedTransaction {
    snapshot: Box<dyn Snapshot>,
    target: Arc<dyn CommitTarget>,
    limits: Limits,
    buffer: SharedBuffer,
    payload: usize,
    /// Payload at each savepoint, oldest first.
    savepoint_payloads: Vec<usize>,
}

impl BufferedTransaction {
    /// A transaction reading at `snapshot` and committing into `target`.
    pub fn new(snapshot: Box<dyn Snapshot>, target: Arc<dyn CommitTarget>, limits: Limits) -> Self {
        BufferedTransaction {
            snapshot,
            target,
            limits,
            buffer: Arc::new(Mutex::new(WriteBuffer::default())),
            payload: 0,
            savepoint_payloads: Vec::new(),
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
}

impl KvRead for BufferedTransaction {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        {
            let buffer = lock(&self.buffer);
            match buffer.seen(key, buffer.view()) {
                Seen::Written(v) => return Ok(v.map(<[u8]>::to_vec)),
                Seen::RangeDeleted => return Ok(None),
                Seen::Untouched => {}
            }
        }
        self.snapshot.get(key)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        let base = self.snapshot.iter(range.clone(), direction)?;
        Ok(Box::new(TxnIter::new(
            base,
            Arc::clone(&self.buffer),
            range,
            direction,
        )))
    }
}

impl Transaction for BufferedTransaction {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.limits.check_key(key)?;
        self.limits.check_value(value)?;
        self.add_payload(key.len() + value.len())?;
        lock(&self.buffer).write(key, Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.limits.check_key(key)?;
        self.add_payload(key.len())?;
        lock(&self.buffer).write(key, None);
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.limits.check_key(start)?;
        self.limits.check_key(end)?;
        if start >= end {
            return Ok(());
        }
        self.add_payload(start.len() + end.len())?;
        lock(&self.buffer).delete_range(start, end);
        Ok(())
    }

    fn read_sequence(&self) -> u64 {
        self.snapshot.sequence()
    }

    fn set_savepoint(&mut self) {
        lock(&self.buffer).set_savepoint();
        self.savepoint_payloads.push(self.payload);
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        let payload = self
            .savepoint_payloads
            .pop()
            .ok_or_else(|| Error::invalid("rollback to savepoint: no savepoint is set"))?;
        lock(&self.buffer).rollback_to_savepoint();
        self.payload = payload;
        Ok(())
    }

    fn release_savepoint(&mut self) {
        if self.savepoint_payloads.pop().is_some() {
            lock(&self.buffer).release_savepoint();
        }
    }

    fn commit(self: Box<Self>, opts: &WriteOptions) -> Result<()> {
        // A live iterator keeps reading the buffer after the commit, so the
        // writes are copied out then, and moved out otherwise.
        let (ranges, writes) = match Arc::try_unwrap(self.buffer) {
            Ok(only) => only
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .into_commit_order(),
            Err(shared) => lock(&shared).clone_writes().into_commit_order(),
        };
        if ranges.is_empty() && writes.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::with_capacity(ranges.len() + writes.len());
        for (s, e) in ranges {
            batch.delete_range(s, e);
        }
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
