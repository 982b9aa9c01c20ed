//! The read path at a snapshot sequence number.
//!
//! A point read visits sources newest first: the memtable, the frozen
//! memtables, then L0 tables newest first (skipping tables whose key range
//! or bloom filter rules the key out), then one table per deeper level. In
//! each source it finds the newest version of the key at the snapshot and
//! the newest covering range tombstone. Because every entry of a newer
//! source is newer than every entry of an older one, the first source that
//! has either decides: a version newer than the tombstone is the answer,
//! otherwise the key is deleted.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kv_api::{BatchOp, Direction, KeyRange, KvIterator, Result, WriteBatch};

use super::{Inner, SuperVersion};
use crate::iter::InternalIterator;
use crate::iter::db_iter::{DbIter, IterGuard};
use crate::iter::level::{LevelIter, TableOpener};
use crate::iter::merge::MergingIter;
use crate::key::{self, Kind};
use crate::memtable::{Hit, MemIter};
use crate::stats::Counters;
use crate::version::edit::FileMeta;
use crate::version::file_may_hold;

/// What one source says about a key.
enum Verdict {
    Found(Option<Vec<u8>>),
    NotHere,
}

fn decide(hit: Option<Hit>, tomb: u64) -> Verdict {
    match hit {
        Some(h) if h.seq > tomb => Verdict::Found(h.value),
        Some(_) => Verdict::Found(None),
        None if tomb > 0 => Verdict::Found(None),
        None => Verdict::NotHere,
    }
}

/// Tables that may hold `user`, newest first.
fn candidate_tables<'a>(
    levels: &'a [Vec<Arc<FileMeta>>],
    user: &'a [u8],
) -> impl Iterator<Item = &'a Arc<FileMeta>> + 'a {
    let l0 = levels[0].iter().filter(move |f| file_may_hold(f, user));
    let deeper = levels[1..].iter().filter_map(move |files| {
        let i = files.partition_point(|f| crate::version::ends_before(f, user));
        files.get(i).filter(|f| file_may_hold(f, user))
    });
    l0.chain(deeper)
}

/// What an unregistered read (a plain `get` or `iter`, no snapshot) reads:
/// the current sources and the last committed sequence, taken so that the
/// sources hold every version visible at that sequence.
///
/// The order matters. Flushes and compactions drop a version when a newer
/// one hides it from every *registered* snapshot; an unregistered read is
/// not in that list. Taking the sources first and the sequence second
/// makes every dropped version hidden by one at or below the sequence (it
/// was committed before the sources were taken), so the read still sees
/// the right value. The other hazard of that order, a memtable switched in
/// between (writes at or below the sequence in a memtable the sources do
/// not hold), is checked for and the pair taken again.
pub(crate) fn current_view(inner: &Inner) -> (Arc<SuperVersion>, u64) {
    loop {
        let sv = inner.super_version();
        let snap = inner.visible_seq.load(Ordering::Acquire);
        if Arc::ptr_eq(&sv.mem, &inner.sv.read().mem) {
            return (sv, snap);
        }
    }
}

/// The value of `user` at snapshot `snap` in `sv` (see [`current_view`]
/// for reads without a registered snapshot).
pub(crate) fn get(
    inner: &Inner,
    sv: &SuperVersion,
    user: &[u8],
    snap: u64,
) -> Result<Option<Vec<u8>>> {
    Counters::add(&inner.stats.gets, 1);
    if user.len() > inner.opts.limits.max_key_len {
        return Ok(None); // nothing that long was ever written
    }
    let hash = crate::hash::hash64(user);
    for mem in std::iter::once(&sv.mem).chain(sv.imms.iter()) {
        if mem.min_seq() > snap {
            continue;
        }
        let (hit, tomb) = mem.get_hashed(user, hash, snap);
        if let Verdict::Found(v) = decide(hit, tomb) {
            return Ok(v);
        }
    }
    for f in candidate_tables(&sv.version.levels, user) {
        if f.smallest_seq > snap {
            continue;
        }
        let t = inner.tables.get(f.number)?;
        let (hit, tomb) = t.get(user, hash, snap)?;
        if let Verdict::Found(v) = decide(hit, tomb) {
            return Ok(v);
        }
    }
    Ok(None)
}

struct Guard {
    inner: Arc<Inner>,
    _pin: Option<Arc<dyn Send + Sync>>,
}

impl IterGuard for Guard {
    fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Relaxed)
    }
}

fn overlaps(f: &FileMeta, range: &KeyRange) -> bool {
    let lo = key::user_key(&f.smallest);
    let hi = key::user_key(&f.largest);
    let below_end = match &range.end {
        Bound::Unbounded => true,
        Bound::Included(e) => lo <= e.as_slice(),
        Bound::Excluded(e) => lo < e.as_slice(),
    };
    let above_start = match &range.start {
        Bound::Unbounded => true,
        Bound::Included(s) | Bound::Excluded(s) => {
            hi > s.as_slice() || (hi == s.as_slice() && !key::is_range_end_bound(&f.largest))
        }
    };
    below_end && above_start
}

/// A streaming iterator over `range` at snapshot `snap`. `pin` keeps a
/// snapshot registration alive as long as the iterator.
pub(crate) fn iter(
    inner: &Arc<Inner>,
    sv: Arc<SuperVersion>,
    range: KeyRange,
    dir: Direction,
    snap: u64,
    pin: Option<Arc<dyn Send + Sync>>,
) -> Result<Box<dyn KvIterator>> {
    Counters::add(&inner.stats.iters, 1);
    let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
    let mut tombs = Vec::new();
    for mem in std::iter::once(&sv.mem).chain(sv.imms.iter()) {
        if mem.is_empty() || mem.min_seq() > snap {
            continue;
        }
        children.push(Box::new(MemIter::new(Arc::clone(mem), dir)));
        if let Some(f) = mem.fragments() {
            f.visible_into(snap, &mut tombs);
        }
    }
    // L0 tables overlap one another: one iterator each. Deeper levels are
    // sorted runs: one lazily opening iterator per level. Range tombstones
    // of every table in the range are gathered up front (they are in
    // memory while the table is in the table cache).
    for f in &sv.version.levels[0] {
        if f.smallest_seq > snap || !overlaps(f, &range) {
            continue;
        }
        let t = inner.tables.get(f.number)?;
        t.fragments().visible_into(snap, &mut tombs);
        children.push(Box::new(t.iter(dir)));
    }
    let mut opener: Option<TableOpener> = None;
    for files in &sv.version.levels[1..] {
        let files: Vec<_> = files
            .iter()
            .filter(|f| f.smallest_seq <= snap && overlaps(f, &range))
            .cloned()
            .collect();
        if files.is_empty() {
            continue;
        }
        for f in &files {
            let t = inner.tables.get(f.number)?;
            t.fragments().visible_into(snap, &mut tombs);
        }
        let open = opener
            .get_or_insert_with(|| {
                let inner = Arc::clone(inner);
                Arc::new(move |n| inner.tables.get(n))
            })
            .clone();
        children.push(Box::new(LevelIter::new(files, open, dir)));
    }
    let merge = MergingIter::new(children, dir);
    let tombs = crate::rangedel::Visible::new(tombs);
    let guard = Arc::new(Guard {
        inner: Arc::clone(inner),
        _pin: Some(Arc::new(PinSv {
            _sv: sv,
            _snap: pin,
        })),
    });
    Ok(Box::new(DbIter::new(merge, dir, snap, range, tombs, guard)))
}

struct PinSv {
    _sv: Arc<super::SuperVersion>,
    _snap: Option<Arc<dyn Send + Sync>>,
}

/// For a transaction commit: a key of `batch` written after `read_seq`, if
/// any. Runs in the commit leader, after every earlier commit is applied.
pub(crate) fn find_conflict(
    inner: &Inner,
    batch: &WriteBatch,
    read_seq: u64,
) -> Result<Option<Vec<u8>>> {
    let sv = inner.super_version();
    for op in batch.ops() {
        match op {
            BatchOp::Put { key, .. } | BatchOp::Delete { key } => {
                if newest_seq(inner, &sv, key, read_seq)? > read_seq {
                    return Ok(Some(key.clone()));
                }
            }
            BatchOp::DeleteRange { start, end } => {
                if start >= end {
                    continue;
                }
                if let Some(k) = range_written_after(inner, &sv, start, end, read_seq)? {
                    return Ok(Some(k));
                }
            }
        }
    }
    Ok(None)
}

/// The sequence of the newest write to `user`, looking only as deep as
/// needed to know whether it exceeds `read_seq`.
fn newest_seq(inner: &Inner, sv: &super::SuperVersion, user: &[u8], read_seq: u64) -> Result<u64> {
    for mem in std::iter::once(&sv.mem).chain(sv.imms.iter()) {
        if mem.is_empty() {
            continue;
        }
        if mem.max_seq() <= read_seq {
            return Ok(0); // this and every older source predate the snapshot
        }
        let s = mem.newest_seq(user);
        if s > 0 {
            return Ok(s);
        }
    }
    let hash = crate::hash::hash64(user);
    for f in candidate_tables(&sv.version.levels, user) {
        if f.largest_seq <= read_seq {
            return Ok(0);
        }
        let t = inner.tables.get(f.number)?;
        let (hit, tomb) = t.get(user, hash, u64::MAX)?;
        let s = hit.map_or(0, |h| h.seq).max(tomb);
        if s > 0 {
            return Ok(s);
        }
    }
    Ok(0)
}

fn range_written_after(
    inner: &Inner,
    sv: &super::SuperVersion,
    start: &[u8],
    end: &[u8],
    read_seq: u64,
) -> Result<Option<Vec<u8>>> {
    for mem in std::iter::once(&sv.mem).chain(sv.imms.iter()) {
        if mem.max_seq() <= read_seq {
            continue;
        }
        if let Some(k) = mem.written_in_range_after(start, end, read_seq) {
            return Ok(Some(k));
        }
    }
    let range = KeyRange::half_open(start.to_vec(), end.to_vec());
    for (_, f) in sv.version.files() {
        if f.largest_seq <= read_seq || !overlaps(f, &range) {
            continue;
        }
        let t = inner.tables.get(f.number)?;
        let mut tombs = Vec::new();
        t.fragments().visible_into(u64::MAX, &mut tombs);
        for tb in &tombs {
            if tb.seq > read_seq && tb.start.as_slice() < end && start < tb.end.as_slice() {
                return Ok(Some(tb.start.clone().max(start.to_vec())));
            }
        }
        let mut it = t.iter(Direction::Forward);
        it.seek(&key::encode(start, key::MAX_SEQUENCE, Kind::RangeDelete))?;
        while it.valid() {
            let user = key::user_key(it.key());
            if user >= end {
                break;
            }
            if key::seq_of(it.key()) > read_seq {
                return Ok(Some(user.to_vec()));
            }
            it.advance()?;
        }
    }
    Ok(None)
}
