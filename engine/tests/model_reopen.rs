//! Model-based test: random puts, deletes, range deletes, batches,
//! snapshots, flushes, reopens and simulated power cuts, checked against a
//! `BTreeMap` after every step (gets, seeks and full scans both ways), with
//! live snapshots checked against copies of the model from their moment.
//!
//! Seeds: `ENGINE_MODEL_SEEDS=N` runs N seeds (default 6).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Model, Rng, assert_matches};
use engine::Db;
use engine::fs::FaultFs;
use kv_api::{Direction, KeyRange, KvRead, KvStore, Snapshot, WriteBatch, WriteOptions};

fn key(rng: &mut Rng) -> Vec<u8> {
    // A small key space so operations collide; some long keys.
    let n = rng.below(300);
    if rng.chance(5) {
        format!("long-{n:04}-{}", "x".repeat(200)).into_bytes()
    } else {
        format!("k{n:04}").into_bytes()
    }
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.chance(3) {
        3000
    } else {
        rng.below(40) as usize
    };
    let b = rng.next() as u8;
    vec![b; len]
}

fn del_range(model: &mut Model, a: &[u8], b: &[u8]) {
    model.retain(|k, _| !(k.as_slice() >= a && k.as_slice() < b));
}

/// Compaction work seen by one run, summed over its reopens.
#[derive(Default, Debug)]
struct Seen {
    compactions: u64,
    trivial_moves: u64,
    deep_levels: u64,
    dropped_tombstones: u64,
}

impl Seen {
    fn add(&mut self, db: &Db) {
        let s = db.engine_stats();
        self.compactions += s.compactions - s.trivial_moves.min(s.compactions);
        self.trivial_moves += s.trivial_moves;
        self.deep_levels = self
            .deep_levels
            .max(s.levels.iter().rposition(|l| l.files > 0).unwrap_or(0) as u64);
        self.dropped_tombstones += s.dropped_tombstones + s.dropped_range_tombstones;
    }
}

fn run(seed: u64, steps: usize) -> Seen {
    let mut seen = Seen::default();
    let mut rng = Rng::new(seed);
    let mut fs = Arc::new(FaultFs::new());
    let dir = Path::new("/model");
    let opts = |fs: &Arc<FaultFs>| common::small_options().fs(fs.clone());
    let mut db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    // The states since the last durable point (a sync write, flush or
    // close): a power cut must recover one of them, because buffered writes
    // reach the disk in order (the log is synced as a whole, also when a
    // memtable is switched).
    let mut history: Vec<Model> = vec![Model::new()];
    let mut snaps: Vec<(Box<dyn Snapshot>, Model)> = Vec::new();
    for step in 0..steps {
        let ctx = format!("seed {seed} step {step}");
        match rng.below(100) {
            0..=34 => {
                let (k, v) = (key(&mut rng), value(&mut rng));
                db.put(&k, &v).unwrap();
                model.insert(k, v);
            }
            35..=44 => {
                let k = key(&mut rng);
                db.delete(&k).unwrap();
                model.remove(&k);
            }
            45..=49 => {
                let (a, b) = (key(&mut rng), key(&mut rng));
                let mut batch = WriteBatch::new();
                batch.delete_range(a.clone(), b.clone());
                db.write(batch, &WriteOptions::default()).unwrap();
                del_range(&mut model, &a, &b);
            }
            50..=69 => {
                let mut batch = WriteBatch::new();
                for _ in 0..1 + rng.below(20) {
                    match rng.below(10) {
                        0..=6 => {
                            let (k, v) = (key(&mut rng), value(&mut rng));
                            batch.put(k.clone(), v.clone());
                            model.insert(k, v);
                        }
                        7..=8 => {
                            let k = key(&mut rng);
                            batch.delete(k.clone());
                            model.remove(&k);
                        }
                        _ => {
                            let (a, b) = (key(&mut rng), key(&mut rng));
                            batch.delete_range(a.clone(), b.clone());
                            del_range(&mut model, &a, &b);
                        }
                    }
                }
                let sync = rng.chance(30);
                db.write(batch, &WriteOptions { sync }).unwrap();
                if sync {
                    history.clear();
                }
            }
            70..=77 => {
                if snaps.len() >= 3 || (!snaps.is_empty() && rng.chance(40)) {
                    let i = rng.below(snaps.len() as u64) as usize;
                    snaps.swap_remove(i);
                } else {
                    snaps.push((db.snapshot().unwrap(), model.clone()));
                }
            }
            78..=83 => {
                db.flush().unwrap();
                history = vec![model.clone()];
            }
            84..=87 => {
                // Clean reopen.
                snaps.clear();
                seen.add(&db);
                db.close().unwrap();
                drop(db);
                db = Db::open(dir, opts(&fs)).unwrap();
                history = vec![model.clone()];
            }
            88..=90 => {
                // Power cut: only what was made durable survives.
                snaps.clear();
                seen.add(&db);
                let rebooted = Arc::new(fs.crash());
                drop(db);
                fs = rebooted;
                db = Db::open(dir, opts(&fs)).unwrap();
                let got: Model = common::scan_all(&db, Direction::Forward)
                    .unwrap()
                    .into_iter()
                    .collect();
                assert!(
                    history.contains(&got),
                    "{ctx}: after a power cut the state is not a prefix of the acknowledged writes at or after the last durable point"
                );
                model = got;
                history = vec![model.clone()];
            }
            91..=92 => {
                // A manual compaction down to (and of) the bottom level,
                // with whatever snapshots are live.
                db.compact().unwrap();
                history = vec![model.clone()];
            }
            _ => {}
        }
        if history.last() != Some(&model) {
            history.push(model.clone());
        }
        for _ in 0..3 {
            let k = key(&mut rng);
            assert_eq!(db.get(&k).unwrap(), model.get(&k).cloned(), "{ctx}: get");
        }
        if rng.chance(30) {
            let t = key(&mut rng);
            for dir in [Direction::Forward, Direction::Reverse] {
                let mut it = db.iter(KeyRange::all(), dir).unwrap();
                it.seek(&t).unwrap();
                let got = it.next().unwrap().map(|(k, v)| (k.to_vec(), v.to_vec()));
                let want = match dir {
                    Direction::Forward => model.range(t.clone()..).next(),
                    Direction::Reverse => model.range(..=t.clone()).next_back(),
                }
                .map(|(k, v)| (k.clone(), v.clone()));
                assert_eq!(got, want, "{ctx}: seek {dir:?}");
            }
        }
        if step % 10 == 0 {
            assert_matches(&db, &model, &ctx);
            for (i, (s, m)) in snaps.iter().enumerate() {
                assert_matches(&**s, m, &format!("{ctx} snapshot {i}"));
            }
        }
    }
    assert_matches(&db, &model, &format!("seed {seed} end"));
    snaps.clear();
    seen.add(&db);
    db.close().unwrap();
    let db = Db::open(dir, opts(&fs)).unwrap();
    assert_matches(&db, &model, &format!("seed {seed} after final reopen"));
    seen
}

#[test]
fn random_operations_with_reopens_and_power_cuts_match_a_model() {
    let seeds: u64 = std::env::var("ENGINE_MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let mut total = Seen::default();
    for seed in 1..=seeds {
        let s = run(seed, 600);
        total.compactions += s.compactions;
        total.trivial_moves += s.trivial_moves;
        total.deep_levels = total.deep_levels.max(s.deep_levels);
        total.dropped_tombstones += s.dropped_tombstones;
    }
    eprintln!("compaction work over {seeds} seeds: {total:?}");
    // The test is only worth something if compactions of every kind ran.
    assert!(total.compactions > 10, "{total:?}");
    assert!(total.trivial_moves > 0, "{total:?}");
    assert!(total.deep_levels >= 2, "{total:?}");
}
