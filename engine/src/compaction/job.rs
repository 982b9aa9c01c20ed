//! Running one compaction: merge the inputs, drop what no reader can see,
//! write the rest as new tables of the output level.
//!
//! ```text
//!   input tables ──► MergingIter ──► per user key, per snapshot stripe:
//!   (uncached reads)                   keep newest, drop shadowed/covered,
//!                                      drop bottom tombstones
//!                                             │
//!                                             ▼
//!                         Outputs: cut at target size / grandparent overlap
//!                         (only between user keys); range tombstones
//!                         clipped to each output's [lower, upper)
//! ```
//!
//! On any error every output written so far is removed and the error is
//! returned: the caller has not touched the manifest, so the database is
//! exactly as before.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kv_api::{Direction, Error, Result};

use super::Compaction;
use crate::cache::TableCache;
use crate::fs::FileSystem;
use crate::iter::InternalIterator;
use crate::iter::merge::MergingIter;
use crate::key::{self, Kind};
use crate::options::Options;
use crate::rangedel::{Fragments, Tombstone};
use crate::sstable::builder::TableBuilder;
use crate::version::edit::FileMeta;
use crate::version::{NUM_LEVELS, Version, ends_before, file_may_hold};

/// What a compaction needs from the database.
pub struct Env<'a> {
    /// File system.
    pub fs: &'a dyn FileSystem,
    /// Database directory.
    pub dir: &'a Path,
    /// Options (table format, sizes).
    pub opts: &'a Options,
    /// Open tables.
    pub tables: &'a TableCache,
    /// Live snapshot sequences, ascending.
    pub snapshots: &'a [u64],
    /// Allocates file numbers.
    pub new_file: &'a (dyn Fn() -> u64 + Sync),
    /// Set when the database is closing: the job stops early.
    pub abort: &'a AtomicBool,
}

/// What a finished compaction produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The new tables.
    pub outputs: Vec<FileMeta>,
    /// Entries read from the inputs.
    pub entries_in: u64,
    /// Entries written.
    pub entries_out: u64,
    /// Versions dropped because a newer one in the same stripe hides them.
    pub dropped_shadowed: u64,
    /// Versions dropped because a range tombstone of their stripe covers them.
    pub dropped_covered: u64,
    /// Point tombstones dropped at the bottom of their key's levels.
    pub dropped_tombstones: u64,
    /// Range tombstone fragments (per sequence) dropped.
    pub dropped_range_tombstones: u64,
}

/// Snapshot stripes: versions between two consecutive snapshots are seen by
/// the same readers.
struct Stripes<'a>(&'a [u64]);

impl Stripes<'_> {
    /// Index of the stripe holding sequence `seq` (0 = seen by every
    /// snapshot; `len` = newer than every snapshot).
    #[inline]
    fn of(&self, seq: u64) -> usize {
        self.0.partition_point(|&s| s < seq)
    }

    /// The largest sequence of stripe `i`.
    #[inline]
    fn upper(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(u64::MAX)
    }
}

/// Answers "does any level below the output hold user key k?" for keys
/// visited in ascending order, with one cursor per level (amortised O(1)).
struct Deeper<'a> {
    levels: Vec<(&'a [Arc<FileMeta>], usize)>,
}

impl<'a> Deeper<'a> {
    fn new(v: &'a Version, output_level: usize) -> Self {
        Deeper {
            levels: (output_level + 1..NUM_LEVELS)
                .map(|l| (v.levels[l].as_slice(), 0))
                .filter(|(f, _)| !f.is_empty())
                .collect(),
        }
    }

    fn may_hold(&mut self, user: &[u8]) -> bool {
        for (files, i) in &mut self.levels {
            while *i < files.len() && ends_before(&files[*i], user) {
                *i += 1;
            }
            if files.get(*i).is_some_and(|f| file_may_hold(f, user)) {
                return true;
            }
        }
        false
    }
}

/// Does any level below `output_level` overlap user keys `[start, end)`?
fn deeper_overlaps(v: &Version, output_level: usize, start: &[u8], end: &[u8]) -> bool {
    let lo = key::encode(start, key::MAX_SEQUENCE, Kind::Put);
    let hi = key::range_end_bound(end);
    (output_level + 1..NUM_LEVELS).any(|l| !v.overlapping(l, &lo, &hi).is_empty())
}

/// The output tables being written.
struct Outputs<'e, 'a> {
    env: &'e Env<'a>,
    c: &'e Compaction,
    current: Option<(TableBuilder, u64)>,
    /// Lower bound (inclusive user key) of the current output.
    lower: Option<Vec<u8>>,
    last_user: Vec<u8>,
    metas: Vec<FileMeta>,
    created: Vec<PathBuf>,
    gp_index: usize,
    gp_overlap: u64,
    gp_seen: bool,
    max_gp_overlap: u64,
    target_size: u64,
    dropped_range_tombstones: u64,
    /// Every range tombstone of the inputs, fragmented.
    frags: Fragments,
}

impl Outputs<'_, '_> {
    /// Before writing the first version of a new user key: cut here?
    fn should_cut_before(&mut self, user: &[u8]) -> bool {
        let gps = &self.c.grandparents;
        while self.gp_index < gps.len() && ends_before(&gps[self.gp_index], user) {
            if self.gp_seen {
                self.gp_overlap += gps[self.gp_index].size;
            }
            self.gp_index += 1;
        }
        self.gp_seen = true;
        let Some((b, _)) = &self.current else {
            return false;
        };
        b.file_size() >= self.target_size || self.gp_overlap > self.max_gp_overlap
    }

    fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        let user = key::user_key(ikey);
        if user != self.last_user.as_slice() || self.current.is_none() {
            if self.should_cut_before(user) {
                let upper = user.to_vec();
                self.finish(Some(upper))?;
                self.gp_overlap = 0;
            }
            self.last_user.clear();
            self.last_user.extend_from_slice(user);
        }
        if self.current.is_none() {
            self.open()?;
        }
        if let Some((b, _)) = &mut self.current {
            b.add(ikey, value)?;
        }
        Ok(())
    }

    fn open(&mut self) -> Result<()> {
        let number = (self.env.new_file)();
        let path = crate::db::files::table_path(self.env.dir, number);
        let file = self
            .env
            .fs
            .create(&path)
            .map_err(|e| Error::io("create compaction output", &path, e))?;
        self.created.push(path.clone());
        let b = TableBuilder::new(file, path, self.env.opts.table_options(self.c.output_level));
        self.current = Some((b, number));
        Ok(())
    }

    /// Finish the current output, with the inputs' range tombstones
    /// clipped to `[lower, upper)`.
    fn finish(&mut self, upper: Option<Vec<u8>>) -> Result<()> {
        let tombs = self.tombstones(upper.as_deref());
        if self.current.is_none() && !tombs.is_empty() {
            self.open()?;
        }
        if let Some((b, number)) = self.current.take() {
            let s = b.finish(&tombs)?;
            self.metas.push(FileMeta {
                number,
                size: s.size,
                smallest: s.smallest,
                largest: s.largest,
                smallest_seq: s.smallest_seq,
                largest_seq: s.largest_seq,
            });
        }
        self.lower = upper;
        Ok(())
    }

    /// The tombstones to write into the output covering `[lower, upper)`:
    /// clipped, one per snapshot stripe per fragment, and without those at
    /// the bottom of their range that every snapshot sees.
    fn tombstones(&mut self, upper: Option<&[u8]>) -> Vec<Tombstone> {
        let stripes = Stripes(self.env.snapshots);
        let mut out = Vec::new();
        for (start, end, seqs) in self.frags.iter() {
            let s = match &self.lower {
                Some(l) if l.as_slice() > start => l.as_slice(),
                _ => start,
            };
            let e = match upper {
                Some(u) if u < end => u,
                _ => end,
            };
            if s >= e {
                continue;
            }
            let mut last_stripe = None;
            let mut bottom: Option<bool> = None;
            for &seq in seqs {
                let st = stripes.of(seq);
                if last_stripe == Some(st) {
                    self.dropped_range_tombstones += 1;
                    continue;
                }
                last_stripe = Some(st);
                if st == 0
                    && !*bottom.get_or_insert_with(|| {
                        deeper_overlaps(&self.c.version, self.c.output_level, s, e)
                    })
                {
                    self.dropped_range_tombstones += 1;
                    continue;
                }
                out.push(Tombstone {
                    start: s.to_vec(),
                    end: e.to_vec(),
                    seq,
                });
            }
        }
        out
    }

    fn remove_all(&mut self) {
        self.current = None;
        for p in &self.created {
            let _ = self.env.fs.remove(p);
        }
    }
}

/// Run `c` (not a trivial move). On error nothing it wrote is left behind.
pub fn run(c: &Compaction, env: &Env<'_>) -> Result<Outcome> {
    let shape_target = env.opts.target_file_size.max(1);
    let mut outputs = Outputs {
        env,
        c,
        current: None,
        lower: None,
        last_user: Vec::new(),
        metas: Vec::new(),
        created: Vec::new(),
        gp_index: 0,
        gp_overlap: 0,
        gp_seen: false,
        max_gp_overlap: shape_target.saturating_mul(env.opts.max_grandparent_overlap_factor.max(1)),
        target_size: shape_target,
        dropped_range_tombstones: 0,
        frags: Fragments::default(),
    };
    let r = merge_into(c, env, &mut outputs);
    match r {
        Ok(mut o) => {
            o.outputs = std::mem::take(&mut outputs.metas);
            o.dropped_range_tombstones = outputs.dropped_range_tombstones;
            Ok(o)
        }
        Err(e) => {
            outputs.remove_all();
            Err(e)
        }
    }
}

fn merge_into(c: &Compaction, env: &Env<'_>, out: &mut Outputs<'_, '_>) -> Result<Outcome> {
    let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
    let mut tombs = Vec::new();
    for f in c.all_inputs() {
        let t = env.tables.get(f.number)?;
        tombs.extend(t.fragments().tombstones());
        children.push(Box::new(t.compaction_iter()));
    }
    out.frags = Fragments::build(tombs.iter());
    let mut merge = MergingIter::new(children, Direction::Forward);
    merge.seek_to_first()?;
    let stripes = Stripes(env.snapshots);
    let mut deeper = Deeper::new(&c.version, c.output_level);
    let mut o = Outcome::default();
    let mut cur_user: Vec<u8> = Vec::new();
    let mut last_stripe: Option<usize> = None;
    let mut first = true;
    while merge.valid() {
        if o.entries_in % 1024 == 0 && env.abort.load(Ordering::Relaxed) {
            return Err(Error::Closed);
        }
        o.entries_in += 1;
        let ik = merge.key();
        let user = key::user_key(ik);
        let tr = key::trailer_of(ik);
        let seq = tr >> 8;
        let kind = Kind::from_u8(tr as u8);
        if !matches!(kind, Some(Kind::Put | Kind::Delete)) || ik.len() < key::TRAILER_LEN {
            return Err(Error::corruption(
                env.dir,
                0,
                format!(
                    "compaction input holds an entry of kind {} in its point stream (tables {:?})",
                    tr as u8,
                    c.all_inputs().map(|f| f.number).collect::<Vec<_>>()
                ),
            ));
        }
        if first || user != cur_user.as_slice() {
            cur_user.clear();
            cur_user.extend_from_slice(user);
            last_stripe = None;
            first = false;
        }
        let stripe = stripes.of(seq);
        if last_stripe == Some(stripe) {
            o.dropped_shadowed += 1;
        } else {
            last_stripe = Some(stripe);
            if out.frags.covers_between(user, seq, stripes.upper(stripe)) {
                o.dropped_covered += 1;
            } else if kind == Some(Kind::Delete) && stripe == 0 && !deeper.may_hold(user) {
                o.dropped_tombstones += 1;
            } else {
                out.add(ik, merge.value())?;
                o.entries_out += 1;
            }
        }
        merge.advance()?;
    }
    out.finish(None)?;
    Ok(o)
}
