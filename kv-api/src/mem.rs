//! `MemStore`: the in-memory reference implementation of the whole contract.
//!
//! It is the executable specification the conformance suite is checked
//! against first, the backend of `:memory:` databases, and the store the table
//! layer's tests run on while no engine is needed.
//!
//! Design, for simplicity over speed: one ordered map from key to its version
//! chain (oldest first), behind a reader-writer lock. Each batch takes the next
//! sequence number; a read at sequence `s` sees, per key, the newest version
//! with a sequence `<= s`. Range deletes are applied as point tombstones on
//! the keys present in the range, which gives the same answers as a range
//! tombstone because a key written later is not covered by it. Old versions
//! are dropped once no live snapshot, iterator or transaction can see them:
//! on every write for the keys it touches, plus a few keys of an incremental
//! sweep, so garbage does not accumulate on keys that are never written again.
//!
//! Iterators read in pages of [`PAGE_ENTRIES`] entries, taking the lock once per
//! page and pinning their sequence number as a snapshot does, so an iterator
//! over a million keys holds one page in memory and never blocks writers for
//! long.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::txn::{BufferedTransaction, CommitTarget};
use crate::{
    BatchOp, Direction, Error, KeyRange, KvIterator, KvRead, KvStore, Limits, Result, Snapshot,
    Stats, Transaction, WriteBatch, WriteOptions,
};

/// Entries an iterator copies out per lock acquisition.
pub const PAGE_ENTRIES: usize = 128;
/// Version chains an iterator examines per lock acquisition, visible or not,
/// so a long run of deleted keys cannot hold the lock for long.
const PAGE_SCAN_LIMIT: usize = 4096;
/// Keys the incremental garbage sweep examines per write.
const SWEEP_PER_WRITE: usize = 4;

/// An in-memory [`KvStore`]. Cloning gives another handle to the same data.
///
/// ```
/// use kv_api::{KvRead, KvStore, MemStore};
/// let store = MemStore::new();
/// store.put(b"hello", b"world")?;
/// assert_eq!(store.get(b"hello")?, Some(b"world".to_vec()));
/// # Ok::<(), kv_api::Error>(())
/// ```
#[derive(Clone)]
pub struct MemStore {
    inner: Arc<Inner>,
}

struct Inner {
    state: RwLock<State>,
    /// Live read sequence numbers (snapshots, iterators, transactions) with
    /// their counts. Lock order: `state` before `pins`.
    pins: Mutex<Pins>,
    closed: AtomicBool,
    limits: Limits,
    writes: AtomicU64,
    reads: AtomicU64,
    conflicts: AtomicU64,
}

#[derive(Default)]
struct State {
    map: BTreeMap<Vec<u8>, Vec<Version>>,
    seq: u64,
    sweep_from: Vec<u8>,
}

#[derive(Clone)]
struct Version {
    seq: u64,
    value: Option<Vec<u8>>,
}

fn visible(chain: &[Version], seq: u64) -> Option<&Vec<u8>> {
    chain
        .iter()
        .rev()
        .find(|v| v.seq <= seq)
        .and_then(|v| v.value.as_ref())
}

/// Live read sequence numbers and how many readers hold each.
type Pins = BTreeMap<u64, usize>;

/// Drop the versions of `chain` that no reader can see: a version survives
/// when it is the newest, or when some pinned reader's sequence falls between
/// it and the next version. Returns true when the chain can go altogether: a
/// lone tombstone that no pinned reader predates (a transaction pinned before
/// it still needs it to detect a conflict).
fn prune(chain: &mut Vec<Version>, pins: &Pins) -> bool {
    if chain.len() > 1 {
        let next_seqs: Vec<u64> = chain.iter().skip(1).map(|v| v.seq).collect();
        let mut i = 0;
        chain.retain(|v| {
            let keep = match next_seqs.get(i) {
                None => true,
                Some(&next) => pins.range(v.seq..next).next().is_some(),
            };
            i += 1;
            keep
        });
    }
    let oldest_pin = pins.keys().next().copied().unwrap_or(u64::MAX);
    chain.len() == 1 && chain[0].value.is_none() && oldest_pin >= chain[0].seq
}

impl Default for MemStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemStore {
    /// An empty store with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::DEFAULT)
    }

    /// An empty store enforcing `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        MemStore {
            inner: Arc::new(Inner {
                state: RwLock::new(State::default()),
                pins: Mutex::new(BTreeMap::new()),
                closed: AtomicBool::new(false),
                limits,
                writes: AtomicU64::new(0),
                reads: AtomicU64::new(0),
                conflicts: AtomicU64::new(0),
            }),
        }
    }
}

impl Inner {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    // A panic while holding a lock cannot leave the map half-updated (each
    // batch is applied only after validation, with no fallible step), so a
    // poisoned lock is still consistent and we keep serving.
    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn pins(&self) -> MutexGuard<'_, Pins> {
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pin the current sequence number; the state lock is held while pinning
    /// so no writer can prune what the pin protects in between.
    fn pin_current(self: &Arc<Self>) -> Result<Pin> {
        self.check_open()?;
        let state = self.read_state();
        let seq = state.seq;
        *self.pins().entry(seq).or_insert(0) += 1;
        drop(state);
        Ok(Pin {
            inner: Arc::clone(self),
            seq,
        })
    }

    fn get_at(&self, key: &[u8], seq: u64) -> Result<Option<Vec<u8>>> {
        self.check_open()?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        let state = self.read_state();
        Ok(state.map.get(key).and_then(|c| visible(c, seq)).cloned())
    }

    /// Apply a validated batch under the write lock, optionally checking for
    /// write-write conflicts against `read_seq` first.
    fn apply(&self, batch: WriteBatch, conflict_check: Option<u64>) -> Result<()> {
        batch.validate(&self.limits)?;
        self.check_open()?;
        let mut state = self.write_state();
        // Re-check under the lock: a close that raced us must win.
        self.check_open()?;
        if let Some(read_seq) = conflict_check {
            if let Some(key) = find_conflict(&state.map, &batch, read_seq) {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
                return Err(Error::Conflict { key });
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let seq = state.seq + 1;
        let pins = self.pins();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { key, value } => {
                    set_version(&mut state.map, key, seq, Some(value), &pins)
                }
                BatchOp::Delete { key } => {
                    if state.map.contains_key(&key) {
                        set_version(&mut state.map, key, seq, None, &pins);
                    }
                }
                BatchOp::DeleteRange { start, end } => {
                    if start >= end {
                        continue;
                    }
                    let live: Vec<Vec<u8>> = state
                        .map
                        .range::<[u8], _>((Bound::Included(&start[..]), Bound::Excluded(&end[..])))
                        .filter(|(_, c)| c.last().is_some_and(|v| v.value.is_some()))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for key in live {
                        set_version(&mut state.map, key, seq, None, &pins);
                    }
                }
            }
        }
        state.seq = seq;
        sweep(&mut state, &pins);
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn set_version(
    map: &mut BTreeMap<Vec<u8>, Vec<Version>>,
    key: Vec<u8>,
    seq: u64,
    value: Option<Vec<u8>>,
    pins: &Pins,
) {
    let chain = map.entry(key).or_default();
    match chain.last_mut() {
        // A later operation of the same batch replaces the earlier one.
        Some(last) if last.seq == seq => last.value = value,
        _ => chain.push(Version { seq, value }),
    }
    prune(chain, pins);
}

fn sweep(state: &mut State, pins: &Pins) {
    let start = std::mem::take(&mut state.sweep_from);
    let keys: Vec<Vec<u8>> = state
        .map
        .range::<[u8], _>((Bound::Included(&start[..]), Bound::Unbounded))
        .take(SWEEP_PER_WRITE)
        .map(|(k, _)| k.clone())
        .collect();
    for k in &keys {
        if let Some(chain) = state.map.get_mut(k) {
            if prune(chain, pins) {
                state.map.remove(k);
            }
        }
    }
    state.sweep_from = match keys.last() {
        Some(last) if keys.len() == SWEEP_PER_WRITE => {
            let mut next = last.clone();
            next.push(0);
            next
        }
        _ => Vec::new(), // wrap around
    };
}

fn find_conflict(
    map: &BTreeMap<Vec<u8>, Vec<Version>>,
    batch: &WriteBatch,
    read_seq: u64,
) -> Option<Vec<u8>> {
    let newer = |c: &Vec<Version>| c.last().is_some_and(|v| v.seq > read_seq);
    for op in batch.ops() {
        match op {
            BatchOp::Put { key, .. } | BatchOp::Delete { key } => {
                if map.get(key).is_some_and(newer) {
                    return Some(key.clone());
                }
            }
            BatchOp::DeleteRange { start, end } => {
                if start >= end {
                    continue;
                }
                if let Some((k, _)) = map
                    .range::<[u8], _>((Bound::Included(&start[..]), Bound::Excluded(&end[..])))
                    .find(|(_, c)| newer(c))
                {
                    return Some(k.clone());
                }
            }
        }
    }
    None
}

/// A registered read sequence; unregisters on drop.
struct Pin {
    inner: Arc<Inner>,
    seq: u64,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut pins = self.inner.pins();
        if let Some(n) = pins.get_mut(&self.seq) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.seq);
            }
        }
    }
}

fn new_iter(pin: Arc<Pin>, range: KeyRange, dir: Direction) -> Box<dyn KvIterator> {
    let resume = match dir {
        Direction::Forward => range.start.clone(),
        Direction::Reverse => range.end.clone(),
    };
    Box::new(MemIter {
        pin,
        range,
        dir,
        resume,
        exhausted: false,
        page: VecDeque::new(),
        cur: (Vec::new(), Vec::new()),
    })
}

struct MemIter {
    pin: Arc<Pin>,
    range: KeyRange,
    dir: Direction,
    /// Where the next page starts (a bound on the not-yet-read side).
    resume: Bound<Vec<u8>>,
    exhausted: bool,
    page: VecDeque<(Vec<u8>, Vec<u8>)>,
    cur: (Vec<u8>, Vec<u8>),
}

impl MemIter {
    fn refill(&mut self) -> Result<()> {
        let inner = &self.pin.inner;
        inner.check_open()?;
        let window = match self.dir {
            Direction::Forward => KeyRange::new(self.resume.clone(), self.range.end.clone()),
            Direction::Reverse => KeyRange::new(self.range.start.clone(), self.resume.clone()),
        };
        if window.is_empty() {
            self.exhausted = true;
            return Ok(());
        }
        let state = inner.read_state();
        let seq = self.pin.seq;
        let mut scanned = 0;
        let mut last: Option<&Vec<u8>> = None;
        let range = state.map.range::<[u8], _>(window.as_slice_bounds());
        let entries: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<Version>)>> = match self.dir {
            Direction::Forward => Box::new(range),
            Direction::Reverse => Box::new(range.rev()),
        };
        let mut completed = true;
        for (k, chain) in entries {
            scanned += 1;
            last = Some(k);
            if let Some(v) = visible(chain, seq) {
                self.page.push_back((k.clone(), v.clone()));
            }
            if self.page.len() >= PAGE_ENTRIES || scanned >= PAGE_SCAN_LIMIT {
                completed = false;
                break;
            }
        }
        match last {
            Some(k) if !completed => self.resume = Bound::Excluded(k.clone()),
            _ => self.exhausted = true,
        }
        Ok(())
    }
}

impl KvIterator for MemIter {
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        while self.page.is_empty() {
            if self.exhausted {
                return Ok(None);
            }
            self.refill()?;
        }
        match self.page.pop_front() {
            Some(e) => {
                self.cur = e;
                Ok(Some((&self.cur.0, &self.cur.1)))
            }
            None => Ok(None),
        }
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.page.clear();
        self.exhausted = false;
        self.resume = match self.dir {
            Direction::Forward => self.range.clamp_start(target).start,
            Direction::Reverse => self.range.clamp_end(target).end,
        };
        Ok(())
    }
}

struct MemSnapshot {
    pin: Arc<Pin>,
}

impl KvRead for MemSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.pin.inner.get_at(key, self.pin.seq)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        self.pin.inner.check_open()?;
        Ok(new_iter(Arc::clone(&self.pin), range, direction))
    }
}

impl Snapshot for MemSnapshot {
    fn sequence(&self) -> u64 {
        self.pin.seq
    }
}

impl CommitTarget for Inner {
    fn commit_if_unchanged(
        &self,
        batch: WriteBatch,
        read_seq: u64,
        _opts: &WriteOptions,
    ) -> Result<()> {
        self.apply(batch, Some(read_seq))
    }
}

impl KvRead for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get_at(key, u64::MAX)
    }

    fn iter(&self, range: KeyRange, direction: Direction) -> Result<Box<dyn KvIterator>> {
        let pin = Arc::new(self.inner.pin_current()?);
        Ok(new_iter(pin, range, direction))
    }
}

impl KvStore for MemStore {
    fn write(&self, batch: WriteBatch, _opts: &WriteOptions) -> Result<()> {
        self.inner.apply(batch, None)
    }

    fn snapshot(&self) -> Result<Box<dyn Snapshot>> {
        let pin = Arc::new(self.inner.pin_current()?);
        Ok(Box::new(MemSnapshot { pin }))
    }

    fn begin(&self) -> Result<Box<dyn Transaction>> {
        let snap = self.snapshot()?;
        let target: Arc<dyn CommitTarget> = self.inner.clone();
        Ok(Box::new(BufferedTransaction::new(
            snap,
            target,
            self.inner.limits,
        )))
    }

    fn flush(&self) -> Result<()> {
        self.inner.check_open()
    }

    fn stats(&self) -> Stats {
        let mut s = Stats::new("memory");
        let (keys, versions, bytes, seq) = {
            let state = self.inner.read_state();
            let versions: usize = state.map.values().map(Vec::len).sum();
            let bytes: usize = state
                .map
                .iter()
                .map(|(k, c)| {
                    k.len()
                        + c.iter()
                            .map(|v| v.value.as_ref().map_or(0, Vec::len))
                            .sum::<usize>()
                })
                .sum();
            (state.map.len(), versions, bytes, state.seq)
        };
        s.push("keys.with_versions", keys as u64);
        s.push("versions", versions as u64);
        s.push("bytes.live_estimate", bytes as u64);
        s.push("sequence", seq);
        s.push(
            "snapshots.live",
            self.inner.pins().values().sum::<usize>() as u64,
        );
        s.push("writes.batches", self.inner.writes.load(Ordering::Relaxed));
        s.push("reads.point", self.inner.reads.load(Ordering::Relaxed));
        s.push(
            "transactions.conflicts",
            self.inner.conflicts.load(Ordering::Relaxed),
        );
        s
    }

    fn limits(&self) -> Limits {
        self.inner.limits
    }

    fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::conformance_suite!(|| crate::conformance::TestStore::new(std::sync::Arc::new(
        MemStore::new()
    )));

    #[test]
    fn old_versions_are_collected_once_unpinned() {
        let store = MemStore::new();
        store.put(b"k", b"1").unwrap();
        let snap = store.snapshot().unwrap();
        for i in 0..10u8 {
            store.put(b"k", &[i]).unwrap();
        }
        // The snapshot's version and the newest one survive.
        assert_eq!(store.stats().get("versions"), Some(2));
        assert_eq!(snap.get(b"k").unwrap(), Some(b"1".to_vec()));
        drop(snap);
        store.put(b"k", b"x").unwrap();
        assert_eq!(store.stats().get("versions"), Some(1));
        store.delete(b"k").unwrap();
        store.put(b"other", b"y").unwrap(); // lets the sweep visit "k"
        store.put(b"other", b"z").unwrap();
        assert_eq!(store.stats().get("keys.with_versions"), Some(1));
    }

    #[test]
    fn iterators_page_through_large_ranges() {
        let store = MemStore::new();
        let mut b = WriteBatch::new();
        for i in 0..(PAGE_ENTRIES * 5 + 3) as u32 {
            b.put(i.to_be_bytes().to_vec(), b"v".to_vec());
        }
        store.write(b, &WriteOptions::default()).unwrap();
        for dir in [Direction::Forward, Direction::Reverse] {
            let all = crate::collect_entries(store.iter(KeyRange::all(), dir).unwrap()).unwrap();
            assert_eq!(all.len(), PAGE_ENTRIES * 5 + 3);
            assert!(all.windows(2).all(|w| match dir {
                Direction::Forward => w[0].0 < w[1].0,
                Direction::Reverse => w[0].0 > w[1].0,
            }));
        }
    }
}
