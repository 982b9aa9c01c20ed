//! Snapshots and transactions.
//!
//! A snapshot is a sequence number registered in the live-snapshot list
//! (a count per sequence): reads through it pass that number down the read
//! path, and flushes (and later compactions) keep every version some
//! registered snapshot can see. Registration happens under the same lock
//! that flushes read the list with, after reading the visible sequence, so a
//! flush can never miss a snapshot that needs one of its versions.
//!
//! Transactions are `kv_api`'s [`BufferedTransaction`] over a snapshot, with
//! [`DbCommit`] as the commit hook: the commit goes through the group-commit
//! queue as the leader of its own group, after every earlier write, where
//! the conflict check sees everything committed (see `read::find_conflict`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kv_api::txn::{BufferedTransaction, CommitTarget};
use kv_api::{
    Direction, KeyRange, KvIterator, KvRead, Result, Snapshot, Transaction, WriteBatch,
    WriteOptions,
};

use super::Inner;

/// A registered snapshot sequence; unregisters on drop.
pub(crate) struct Registration {
    inner: Arc<Inner>,
    seq: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut s = self.inner.snapshots.lock();
        if let Some(n) = s.get_mut(&self.seq) {
            *n -= 1;
            if *n == 0 {
                s.remove(&self.seq);
            }
        }
    }
}

/// A read view at one sequence number.
pub(crate) struct DbSnapshot {
    reg: Arc<Registration>,
}

impl DbSnapshot {
    pub fn new(inner: &Arc<Inner>) -> Result<DbSnapshot> {
        inner.check_open()?;
        let seq = {
            let mut s = inner.snapshots.lock();
            let seq = inner.visible_seq.load(Ordering::Acquire);
            *s.entry(seq).or_insert(0) += 1;
            seq
        };
        Ok(DbSnapshot {
            reg: Arc::new(Registration {
                inner: Arc::clone(inner),
                seq,
            }),
        })
    }
}

impl KvRead for DbSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.reg.inner.check_open()?;
        // A registered sequence: flushes and compactions keep what it sees,
        // so any current sources will do.
        let sv = self.reg.inner.super_version();
        super::read::get(&self.reg.inner, &sv, key, self.reg.seq)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        self.reg.inner.check_open()?;
        let pin: Arc<dyn Send + Sync> = self.reg.clone();
        let sv = self.reg.inner.super_version();
        super::read::iter(
            &self.reg.inner,
            sv,
            range,
            direction,
            self.reg.seq,
            Some(pin),
        )
    }
}

impl Snapshot for DbSnapshot {
    fn sequence(&self) -> u64 {
        self.reg.seq
    }
}

/// The commit hook of transactions.
pub(crate) struct DbCommit {
    inner: Arc<Inner>,
}

impl CommitTarget for DbCommit {
    fn commit_if_unchanged(
        &self,
        batch: WriteBatch,
        read_seq: u64,
        opts: &WriteOptions,
    ) -> Result<()> {
        super::write::write(&self.inner, batch, opts.sync, Some(read_seq))
    }
}

/// Start a transaction.
pub(crate) fn begin(inner: &Arc<Inner>) -> Result<Box<dyn Transaction>> {
    let snap = DbSnapshot::new(inner)?;
    let target: Arc<dyn CommitTarget> = Arc::new(DbCommit {
        inner: Arc::clone(inner),
    });
    Ok(Box::new(BufferedTransaction::new(
        Box::new(snap),
        target,
        inner.opts.limits,
    )))
}
