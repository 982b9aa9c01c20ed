//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use engine::{Db, Options};
use kv_api::{Direction, KeyRange, KvRead};

/// A deterministic generator (SplitMix64), so failures replay from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Small options so tests cross memtables, flushes, many tables and
/// compactions (levels of a few KiB: trivial moves, multi-level merges,
/// tombstones dropped at the bottom).
pub fn small_options() -> Options {
    let mut o = Options::with_write_buffer(8 * 1024).tiny_levels();
    o.block_size = 512;
    o.block_cache_bytes = 256 * 1024;
    o
}

pub fn open(dir: &Path, opts: Options) -> Db {
    Db::open(dir, opts).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

pub fn scan_all(r: &dyn KvRead, dir: Direction) -> kv_api::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    kv_api::collect_entries(r.iter(KeyRange::all(), dir)?)
}

/// Compare a store with a model: full scans both ways.
pub fn assert_matches(r: &dyn KvRead, model: &Model, ctx: &str) {
    let fwd = scan_all(r, Direction::Forward).unwrap();
    let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(fwd.len(), want.len(), "{ctx}: forward scan length");
    assert!(fwd == want, "{ctx}: forward scan differs");
    let mut rev = scan_all(r, Direction::Reverse).unwrap();
    rev.reverse();
    assert!(rev == want, "{ctx}: reverse scan differs");
}

pub fn fault_fs() -> Arc<engine::fs::FaultFs> {
    Arc::new(engine::fs::FaultFs::new())
}
