//! Crash test (b): with the fault-injecting file system, cut the power at
//! random moments (dropping everything not fsynced, files and directory
//! entries alike) and check that the recovered state is exactly some prefix
//! of the acknowledged writes, and at least every write acknowledged with
//! `sync` (or covered by a flush) before the cut.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Model, Rng};
use engine::Db;
use engine::fs::FaultFs;
use kv_api::{Direction, KvStore, WriteBatch, WriteOptions};

#[test]
fn recovered_state_is_a_prefix_of_acknowledged_writes() {
    let dir = Path::new("/prefix");
    for seed in 1..=12u64 {
        let mut rng = Rng::new(seed);
        let mut fs = Arc::new(FaultFs::new());
        // Several power cuts per seed, each followed by more writes.
        for round in 0..4 {
            let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
            let start: Model = common::scan_all(&db, Direction::Forward)
                .unwrap()
                .into_iter()
                .collect();
            // states[i] = state after i acknowledged batches of this round.
            let mut states = vec![start];
            let mut durable_at = 0usize;
            let n = 20 + rng.below(150) as usize;
            for i in 0..n {
                let mut m = states.last().unwrap().clone();
                let mut b = WriteBatch::new();
                for _ in 0..1 + rng.below(6) {
                    let k = format!("k{:03}", rng.below(200)).into_bytes();
                    if rng.chance(80) {
                        let v = format!("r{round}b{i}")
                            .repeat(1 + rng.below(30) as usize)
                            .into_bytes();
                        b.put(k.clone(), v.clone());
                        m.insert(k, v);
                    } else if rng.chance(50) {
                        b.delete(k.clone());
                        m.remove(&k);
                    } else {
                        let e = format!("k{:03}", rng.below(200)).into_bytes();
                        b.delete_range(k.clone(), e.clone());
                        m.retain(|x, _| !(x >= &k && x < &e));
                    }
                }
                let sync = rng.chance(15);
                db.write(b, &WriteOptions { sync }).unwrap();
                states.push(m);
                if sync {
                    durable_at = states.len() - 1;
                }
                if rng.chance(3) {
                    db.flush().unwrap();
                    durable_at = states.len() - 1;
                }
            }
            let rebooted = Arc::new(fs.crash());
            drop(db);
            fs = rebooted;
            let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
            let got: Model = common::scan_all(&db, Direction::Forward)
                .unwrap()
                .into_iter()
                .collect();
            let at = states.iter().rposition(|s| *s == got);
            match at {
                Some(i) => assert!(
                    i >= durable_at,
                    "seed {seed} round {round}: recovered the state after {i} batches, but {durable_at} were durable"
                ),
                None => panic!(
                    "seed {seed} round {round}: recovered state is no prefix of the acknowledged writes"
                ),
            }
            db.close().unwrap();
        }
    }
}
