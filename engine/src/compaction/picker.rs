//! Choosing the next compaction: level scores, compact pointers, trivial
//! moves, and the rules that let several compactions run at once.
//!
//! ```text
//!   score(L0) = L0 tables / level0_compaction_trigger
//!   score(Ln) = bytes of Ln not being compacted / target(n)     1 ≤ n < last
//!   pick the highest score ≥ 1 whose compaction does not conflict with a
//!   running one:
//!     - no input table is already an input of a running compaction;
//!     - its output range does not overlap the output range of a running
//!       compaction into the same level;
//!     - at most one L0 compaction at a time (it takes every L0 table).
//! ```
//!
//! The picker is a pure function of a [`Version`], the [`Running`] set and
//! the [`Shape`], so it is unit-tested without files.

use std::collections::HashSet;
use std::sync::Arc;

use super::Compaction;
use crate::key;
use crate::options::Options;
use crate::version::edit::FileMeta;
use crate::version::{NUM_LEVELS, Version, ends_before, overlaps_span};

/// The level shape the picker works towards.
#[derive(Clone, Debug)]
pub struct Shape {
    /// L0 tables that trigger an L0 compaction.
    pub l0_trigger: usize,
    /// Target bytes per level (index 0 unused).
    pub targets: [u64; NUM_LEVELS],
    /// Output tables are cut at about this size.
    pub target_file_size: u64,
    /// Most grandparent bytes an output (or a trivially moved table) may
    /// overlap.
    pub max_grandparent_overlap: u64,
}

impl Shape {
    /// The shape configured in `opts`.
    pub fn new(opts: &Options) -> Shape {
        let mut targets = [0u64; NUM_LEVELS];
        for (l, t) in targets.iter_mut().enumerate().skip(1) {
            *t = opts.level_target(l);
        }
        let target_file_size = opts.target_file_size.max(1);
        Shape {
            l0_trigger: opts.level0_compaction_trigger.max(1),
            targets,
            target_file_size,
            max_grandparent_overlap: target_file_size
                .saturating_mul(opts.max_grandparent_overlap_factor.max(1)),
        }
    }
}

/// Compactions in progress: what they hold and where they write.
#[derive(Default, Debug)]
pub struct Running {
    /// Input tables of running compactions.
    pub files: HashSet<u64>,
    /// (id, output level, smallest, largest) of each running compaction.
    outputs: Vec<(u64, usize, Vec<u8>, Vec<u8>)>,
    /// An L0 compaction is running.
    pub l0: bool,
    next_id: u64,
}

impl Running {
    /// True when `c` may not start now.
    pub fn conflicts(&self, c: &Compaction) -> bool {
        if c.level == 0 && self.l0 {
            return true;
        }
        if c.all_inputs().any(|f| self.files.contains(&f.number)) {
            return true;
        }
        self.outputs.iter().any(|(_, level, lo, hi)| {
            *level == c.output_level && spans_overlap(lo, hi, &c.smallest, &c.largest)
        })
    }

    /// Record `c` as running; returns the id to [`finish`](Self::finish) it with.
    pub fn start(&mut self, c: &Compaction) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.files.extend(c.all_inputs().map(|f| f.number));
        self.outputs
            .push((id, c.output_level, c.smallest.clone(), c.largest.clone()));
        if c.level == 0 {
            self.l0 = true;
        }
        id
    }

    /// Forget the running compaction `c` started as `id`.
    pub fn finish(&mut self, id: u64, c: &Compaction) {
        for f in c.all_inputs() {
            self.files.remove(&f.number);
        }
        self.outputs.retain(|(i, ..)| *i != id);
        if c.level == 0 {
            self.l0 = false;
        }
    }

    /// Number of compactions running.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// True when none runs.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }
}

/// True when two internal-key spans share a user key (`hi`s may be
/// exclusive bounds).
fn spans_overlap(lo1: &[u8], hi1: &[u8], lo2: &[u8], hi2: &[u8]) -> bool {
    let probe = |lo: &[u8], hi: &[u8]| FileMeta {
        number: 0,
        size: 0,
        smallest: lo.to_vec(),
        largest: hi.to_vec(),
        smallest_seq: 0,
        largest_seq: 0,
    };
    overlaps_span(&probe(lo1, hi1), lo2, hi2)
}

/// Level scores, highest first (only levels that can be compacted).
pub fn scores(v: &Version, running: &Running, shape: &Shape) -> Vec<(f64, usize)> {
    let mut out = Vec::new();
    if !running.l0 {
        out.push((v.levels[0].len() as f64 / shape.l0_trigger as f64, 0));
    }
    for l in 1..NUM_LEVELS - 1 {
        let bytes: u64 = v.levels[l]
            .iter()
            .filter(|f| !running.files.contains(&f.number))
            .map(|f| f.size)
            .sum();
        out.push((bytes as f64 / shape.targets[l].max(1) as f64, l));
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out
}

/// The compaction to run next, if any level needs one that can start now.
/// `pointers` are the per-level compact pointers (largest key of the last
/// table compacted there), advanced when a table is picked.
pub fn pick(
    v: &Arc<Version>,
    running: &Running,
    shape: &Shape,
    pointers: &mut [Vec<u8>],
) -> Option<Compaction> {
    for (score, level) in scores(v, running, shape) {
        if score < 1.0 {
            break;
        }
        let c = if level == 0 {
            pick_l0(v, running, shape)
        } else {
            pick_level(v, running, shape, level, pointers)
        };
        if let Some(mut c) = c {
            c.score = score;
            return Some(c);
        }
    }
    None
}

fn pick_l0(v: &Arc<Version>, running: &Running, shape: &Shape) -> Option<Compaction> {
    let inputs = v.levels[0].clone();
    let (lo, hi) = crate::version::span(&inputs)?;
    let next = v.overlapping(1, &lo, &hi);
    let mut c = Compaction::new(v, 0, 1, inputs, next)?;
    if running.conflicts(&c) {
        return None;
    }
    if c.next_inputs.is_empty() && pairwise_disjoint(&c.inputs) {
        c.trivial_move = grandparent_bytes(&c) <= shape.max_grandparent_overlap;
    }
    Some(c)
}

fn pick_level(
    v: &Arc<Version>,
    running: &Running,
    shape: &Shape,
    level: usize,
    pointers: &mut [Vec<u8>],
) -> Option<Compaction> {
    let files = &v.levels[level];
    let ptr = &pointers[level];
    // Round robin: start after the table compacted last at this level.
    let start = if ptr.is_empty() {
        0
    } else {
        files.partition_point(|f| key::compare(&f.largest, ptr).is_le())
    };
    for i in (start..files.len()).chain(0..start) {
        let f = &files[i];
        if running.files.contains(&f.number) {
            continue;
        }
        let next = v.overlapping(level + 1, &f.smallest, &f.largest);
        let Some(mut c) = Compaction::new(v, level, level + 1, vec![Arc::clone(f)], next) else {
            continue;
        };
        if running.conflicts(&c) {
            continue;
        }
        if c.next_inputs.is_empty() {
            c.trivial_move = grandparent_bytes(&c) <= shape.max_grandparent_overlap;
        }
        pointers[level] = f.largest.clone();
        return Some(c);
    }
    None
}

/// Every table of `level` with the tables they overlap in `output_level`
/// (`level + 1`, or `level` itself to rewrite a bottom level on its own):
/// a manual compaction step. `None` when the level is empty; `Err(())`
/// when a running compaction conflicts (wait and retry).
#[allow(clippy::result_unit_err)]
pub fn pick_whole_level(
    v: &Arc<Version>,
    running: &Running,
    level: usize,
    output_level: usize,
) -> Result<Option<Compaction>, ()> {
    let inputs = v.levels[level].clone();
    let Some((lo, hi)) = crate::version::span(&inputs) else {
        return Ok(None);
    };
    let next = if output_level == level {
        Vec::new()
    } else {
        v.overlapping(output_level, &lo, &hi)
    };
    let Some(c) = Compaction::new(v, level, output_level, inputs, next) else {
        return Ok(None);
    };
    if running.conflicts(&c) {
        return Err(());
    }
    Ok(Some(c))
}

fn pairwise_disjoint(files: &[Arc<FileMeta>]) -> bool {
    let mut sorted: Vec<&Arc<FileMeta>> = files.iter().collect();
    sorted.sort_by(|a, b| key::compare(&a.smallest, &b.smallest));
    sorted
        .windows(2)
        .all(|w| ends_before(w[0], key::user_key(&w[1].smallest)))
}

fn grandparent_bytes(c: &Compaction) -> u64 {
    c.grandparents.iter().map(|f| f.size).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kind;
    use crate::version::edit::VersionEdit;

    fn meta(number: u64, lo: &str, hi: &str, size: u64) -> FileMeta {
        FileMeta {
            number,
            size,
            smallest: key::encode(lo.as_bytes(), number, Kind::Put),
            largest: key::encode(hi.as_bytes(), number, Kind::Put),
            smallest_seq: number,
            largest_seq: number,
        }
    }

    fn version(files: &[(usize, FileMeta)]) -> Arc<Version> {
        Arc::new(Version::default().apply(&VersionEdit {
            new_files: files.to_vec(),
            ..VersionEdit::default()
        }))
    }

    fn shape() -> Shape {
        Shape {
            l0_trigger: 2,
            targets: [0, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000],
            target_file_size: 50,
            max_grandparent_overlap: 500,
        }
    }

    #[test]
    fn l0_takes_every_table_and_the_overlapped_l1() {
        let v = version(&[
            (0, meta(10, "c", "f", 10)),
            (0, meta(11, "a", "d", 10)),
            (1, meta(1, "a", "b", 10)),
            (1, meta(2, "e", "g", 10)),
            (1, meta(3, "x", "z", 10)),
        ]);
        let mut ptrs = vec![Vec::new(); NUM_LEVELS];
        let c = pick(&v, &Running::default(), &shape(), &mut ptrs).unwrap();
        assert_eq!(c.level, 0);
        assert_eq!(c.inputs.len(), 2);
        let next: Vec<u64> = c.next_inputs.iter().map(|f| f.number).collect();
        assert_eq!(next, [1, 2]);
        assert!(!c.trivial_move);
        // While it runs, neither L0 nor those L1 tables can be picked again.
        let mut r = Running::default();
        r.start(&c);
        assert!(pick(&v, &r, &shape(), &mut ptrs).is_none());
    }

    #[test]
    fn disjoint_l0_tables_over_an_empty_range_move_trivially() {
        let v = version(&[
            (0, meta(10, "a", "b", 10)),
            (0, meta(11, "c", "d", 10)),
            (1, meta(1, "x", "z", 10)),
        ]);
        let mut ptrs = vec![Vec::new(); NUM_LEVELS];
        let c = pick(&v, &Running::default(), &shape(), &mut ptrs).unwrap();
        assert!(c.trivial_move && c.next_inputs.is_empty());
        let e = c.edit(&[]);
        let v2 = v.apply(&e);
        assert_eq!(v2.levels[0].len(), 0);
        assert_eq!(v2.levels[1].len(), 3);
        v2.check().unwrap();
        // A moved table keeps its Arc: the count of Arcs is what says when
        // its file may be removed (an old version still reading it through
        // another Arc would otherwise lose the file under it).
        for old in &v.levels[0] {
            assert!(
                v2.levels[1].iter().any(|f| Arc::ptr_eq(f, old)),
                "table {} was re-allocated by the move",
                old.number
            );
        }
    }

    #[test]
    fn deeper_levels_go_round_robin_by_score() {
        // L1 over target (150 > 100): one table at a time, in key order.
        let v = version(&[
            (1, meta(1, "a", "b", 50)),
            (1, meta(2, "c", "d", 50)),
            (1, meta(3, "e", "f", 50)),
            (2, meta(4, "c", "c", 5)),
        ]);
        let mut ptrs = vec![Vec::new(); NUM_LEVELS];
        let s = shape();
        let r = Running::default();
        let picked: Vec<(u64, bool)> = (0..4)
            .map(|_| {
                let c = pick(&v, &r, &s, &mut ptrs).unwrap();
                assert_eq!((c.level, c.output_level), (1, 2));
                (c.inputs[0].number, c.trivial_move)
            })
            .collect();
        assert_eq!(picked, [(1, true), (2, false), (3, true), (1, true)]);
    }

    #[test]
    fn concurrent_compactions_never_share_inputs_or_output_ranges() {
        let v = version(&[
            (1, meta(1, "a", "c", 80)),
            (1, meta(2, "m", "p", 80)),
            (2, meta(3, "a", "z", 10)),
        ]);
        let mut ptrs = vec![Vec::new(); NUM_LEVELS];
        let s = shape();
        let mut r = Running::default();
        let c1 = pick(&v, &r, &s, &mut ptrs).unwrap();
        r.start(&c1);
        // Table 2 alone would overlap table 3, an input of c1 already.
        assert!(pick(&v, &r, &s, &mut ptrs).is_none());
    }

    #[test]
    fn an_exclusive_bound_does_not_overlap_the_next_table() {
        let mut a = meta(1, "a", "c", 10);
        a.largest = key::range_end_bound(b"m");
        let b = meta(2, "m", "p", 10);
        let v = version(&[(1, a.clone()), (1, b)]);
        v.check().unwrap();
        assert!(!overlaps_span(
            &a,
            &key::encode(b"m", 5, Kind::Put),
            &key::encode(b"z", 1, Kind::Put)
        ));
        assert_eq!(
            v.overlapping(
                1,
                &key::encode(b"m", 9, Kind::Put),
                &key::encode(b"m", 1, Kind::Put)
            )
            .len(),
            1
        );
    }
}
