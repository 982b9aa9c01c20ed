//! Leveled compaction: how tables move down the levels, and why reads and
//! space stay bounded while they do.
//!
//! ```text
//!   memtable ──flush──► L0   t7 t6 t5 t4        overlapping, newest first
//!                        │  (4 tables: L0 → L1, all of L0 at once)
//!                        ▼
//!                       L1   [a─c][d──h][k─p][q─z]        ≤ base bytes
//!                        │  (over target: one table, round-robin,
//!                        ▼   plus the L2 tables it overlaps)
//!                       L2   [a][b─c][d─f][g─j][k─m][n─r][s─z] ≤ base × 10
//!                        ▼
//!                       ...  each level 10× the one above; the last
//!                            level holds most of the data
//! ```
//!
//! **Shape.** L0 holds whole flushed memtables, whose key ranges overlap, so
//! a read may have to look into each of them: their number is what is
//! bounded (`level0_compaction_trigger`, default 4). Every deeper level is
//! one sorted run: its tables are ordered by key and no user key is in two
//! of them, so a read looks into at most one table per level (a binary
//! search on the tables' key ranges, then the bloom filter). Level `n` ≥ 1
//! targets `base × multiplier^(n-1)` bytes.
//!
//! **Picking** ([`picker`]). Every level gets a score: L0 its table count
//! over the trigger, deeper levels their bytes over their target. The
//! level with the highest score ≥ 1 is compacted first. An L0 compaction
//! takes *all* L0 tables (so every L0 table left behind is newer than
//! everything in L1) plus the L1 tables they overlap; a deeper compaction
//! takes one table, chosen round-robin after the last one compacted at that
//! level (a per-level *compact pointer*, as LevelDB does, so work spreads
//! over the key space) plus the tables it overlaps one level down.
//! Compactions run on background threads, several at once when their
//! inputs are disjoint and their output ranges in the same level do not
//! overlap (the rule RocksDB uses): then their results cannot interleave
//! wrongly whatever the order they finish in.
//!
//! **Trivial move.** A table that overlaps nothing in the next level (and
//! not too much in the one after) moves down by a manifest edit alone: no
//! byte is rewritten. Sequential loads therefore cost one write per level
//! reached, not one per compaction.
//!
//! **The merge** ([`job`]). The inputs are merged by internal key (newest
//! version of each user key first). With live snapshots `s1 < s2 < ...`, a
//! user key's versions fall into *stripes* — `(.., s1]`, `(s1, s2]`, ...,
//! `(s_last, now]` — and only the newest version of each stripe can be seen
//! by anyone, so the others are dropped:
//!
//! ```text
//!   versions of "k":  @90 @72 @55 @41 @12       snapshots: 50, 80
//!   stripes:          └(80,∞)┘└(50,80]┘└─(..,50]──┘
//!   kept:             @90     @72      @41        (@55 hidden by @72, @12 by @41)
//! ```
//!
//! A version covered by a range tombstone of the same stripe is dropped too.
//! A point tombstone in the oldest stripe is dropped when no deeper level
//! holds the key (nothing older is left for it to hide); a range tombstone
//! likewise when no deeper table overlaps its range. Otherwise tombstones
//! are carried down, range tombstones clipped to the output table they land
//! in.
//!
//! **Outputs** are cut at the user-key boundary after `target_file_size`
//! bytes, or earlier when the table would overlap more than
//! `max_grandparent_overlap_factor × target_file_size` of the level below
//! the output (which bounds what compacting that table later will cost).
//! A table whose range tombstone runs past its last entry ends at an
//! exclusive bound (see [`crate::key::range_end_bound`]), so the next table
//! of the level may start at the tombstone's end key.
//!
//! **Installing.** Outputs are fsynced, the directory is fsynced, then one
//! version edit (inputs deleted, outputs added) is appended to the manifest
//! and the new version is published. Readers never wait: a read or iterator
//! holds the version it started with (an `Arc`), and an input table's file
//! is removed only once no version references it. A failure before the
//! manifest edit removes the outputs and leaves the database as it was; it
//! is counted, logged to the `LOG` file and retried with a growing pause. A
//! failed manifest write poisons the handle (the manifest's state is then
//! unknown), as for flushes.
//!
//! For simplicity there are no subcompactions (one thread per compaction)
//! and level targets are static; RocksDB's dynamic level sizing would keep
//! the last level at 90% of the data for any database size.

pub mod job;
pub mod picker;

use std::sync::Arc;

use crate::version::edit::{FileMeta, VersionEdit};
use crate::version::{Version, span};

/// One compaction: its inputs and where its output goes.
#[derive(Debug, Clone)]
pub struct Compaction {
    /// Level of `inputs`.
    pub level: usize,
    /// Level of the outputs (and of `next_inputs`): `level + 1`, or
    /// `level` itself for a manual rewrite of the bottom level.
    pub output_level: usize,
    /// Tables taken from `level`.
    pub inputs: Vec<Arc<FileMeta>>,
    /// Tables of `output_level` that overlap `inputs`.
    pub next_inputs: Vec<Arc<FileMeta>>,
    /// Tables of `output_level + 1` that overlap the inputs (for cutting
    /// outputs).
    pub grandparents: Vec<Arc<FileMeta>>,
    /// Smallest internal key of all inputs.
    pub smallest: Vec<u8>,
    /// Largest internal key of all inputs.
    pub largest: Vec<u8>,
    /// Move `inputs` down by a manifest edit, without rewriting them.
    pub trivial_move: bool,
    /// The score that chose it (0 for a manual compaction).
    pub score: f64,
    /// The version it was picked from (for the deeper levels' key ranges).
    pub version: Arc<Version>,
}

impl Compaction {
    /// A compaction of `inputs` at `level` with the tables they overlap one
    /// level down.
    pub(crate) fn new(
        version: &Arc<Version>,
        level: usize,
        output_level: usize,
        inputs: Vec<Arc<FileMeta>>,
        next_inputs: Vec<Arc<FileMeta>>,
    ) -> Option<Compaction> {
        let (smallest, largest) = span(inputs.iter().chain(&next_inputs))?;
        let grandparents = if output_level + 1 < crate::version::NUM_LEVELS {
            version.overlapping(output_level + 1, &smallest, &largest)
        } else {
            Vec::new()
        };
        Some(Compaction {
            level,
            output_level,
            inputs,
            next_inputs,
            grandparents,
            smallest,
            largest,
            trivial_move: false,
            score: 0.0,
            version: Arc::clone(version),
        })
    }

    /// Every input table.
    pub fn all_inputs(&self) -> impl Iterator<Item = &Arc<FileMeta>> {
        self.inputs.iter().chain(&self.next_inputs)
    }

    /// Bytes of all inputs.
    pub fn input_bytes(&self) -> u64 {
        self.all_inputs().map(|f| f.size).sum()
    }

    /// The version edit that installs the compaction's result.
    pub fn edit(&self, outputs: &[FileMeta]) -> VersionEdit {
        let mut e = VersionEdit::default();
        for f in &self.inputs {
            e.deleted_files.push((self.level, f.number));
        }
        for f in &self.next_inputs {
            e.deleted_files.push((self.output_level, f.number));
        }
        if self.trivial_move {
            for f in &self.inputs {
                e.new_files.push((self.output_level, (**f).clone()));
            }
        }
        for f in outputs {
            e.new_files.push((self.output_level, f.clone()));
        }
        e
    }
}
