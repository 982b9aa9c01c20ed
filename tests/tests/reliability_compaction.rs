//! Compaction under the whole stack: the ledger workload runs through SQL
//! on an engine whose levels are a few KiB (`Options::tiny_levels`), so
//! flushes, trivial moves and multi-level compactions (with range and point
//! tombstones from index maintenance) run all the time, while this thread
//! cuts the power at random moments ([`FaultFs::crash`]). After every cut
//! the database must recover exactly a prefix of the commits holding every
//! acknowledged (sync) one, with every row and index consistent, and the
//! compactions must have really happened.
//!
//! ```text
//! cargo test -p tests --test reliability_compaction                  # CI: 20 cuts
//! RELIABILITY_LONG=1 cargo test --release -p tests --test reliability_compaction -- --nocapture
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engine::fs::FaultFs;
use kv_api::{KvStore, WriteOptions};
use sql_shell::Session;
use table_layer::Database;
use tests::reliability::knobs::{knob, report};
use tests::reliability::rng::{Rng, campaign_seed};
use tests::reliability::stack::small_options;
use tests::reliability::workload::{self, Model, RunError};

const WRITE_BUFFER: usize = 16 * 1024;

fn open(fs: &FaultFs, dir: &Path) -> (engine::Db, Session) {
    let opts = small_options(WRITE_BUFFER)
        .tiny_levels()
        .fs(Arc::new(fs.clone()));
    let db = engine::Db::open(dir, opts).unwrap_or_else(|e| panic!("recovery failed: {e}"));
    let store: Arc<dyn KvStore> = Arc::new(db.clone());
    let database = Database::open_with(store, WriteOptions::SYNC)
        .unwrap_or_else(|e| panic!("table layer: {e}"));
    (db, Session::new(database))
}

#[test]
fn power_cuts_while_compacting_recover_a_prefix_with_every_synced_commit() {
    let seed = campaign_seed("compaction_power_loss");
    let rounds = knob("COMPACTION_ROUNDS", 20, 300) as u32;
    let mut rng = Rng::new(seed);
    let dir = Path::new("/compaction/db");
    let mut fs = FaultFs::new();
    let mut model = Model::new(seed);
    let (mut low, mut high) = (0u64, 0u64);
    let (mut compactions, mut moves, mut deepest) = (0u64, 0u64, 0usize);
    let started = Instant::now();
    for round in 0..=rounds {
        let (db, mut session) = open(&fs, dir);
        let c = workload::verify(&mut session, &mut model)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): {e}"));
        assert!(
            c >= low && c <= high + 1,
            "round {round} (seed {seed}): recovered commit {c}, expected {low}..={}",
            high + 1
        );
        if round == rounds {
            // Let the compactions finish, then check everything again.
            db.wait_for_compactions().unwrap();
            let c2 = workload::verify(&mut session, &mut model).unwrap();
            assert_eq!(c2, c, "compaction changed the data");
            break;
        }
        workload::create_schema(&mut session).unwrap();
        let acked = Arc::new(AtomicU64::new(c));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            let mut gen_model = model.clone();
            std::thread::spawn(move || -> Result<Session, String> {
                while !stop.load(Ordering::Acquire) {
                    let plan = gen_model.plan();
                    match workload::run_plan(&mut session, &plan) {
                        Ok(()) => acked.store(plan.id, Ordering::Release),
                        Err(RunError::Mismatch(m)) => return Err(m),
                        Err(RunError::Storage(e)) => return Err(format!("storage: {e}")),
                    }
                }
                Ok(session)
            })
        };
        let want = c + rng.range(20, 120);
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked.load(Ordering::Acquire) < want && !worker.is_finished() {
            assert!(Instant::now() < deadline, "workload made no progress");
            std::thread::sleep(Duration::from_micros(300));
        }
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        let before = acked.load(Ordering::Acquire);
        let image = fs.crash();
        let after = acked.load(Ordering::Acquire);
        stop.store(true, Ordering::Release);
        let session = worker
            .join()
            .expect("worker thread")
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): workload: {e}"));
        let s = db.engine_stats();
        compactions += s.compactions;
        moves += s.trivial_moves;
        deepest = deepest.max(s.levels.iter().rposition(|l| l.files > 0).unwrap_or(0));
        drop(session);
        drop(db);
        fs = image;
        low = before;
        high = after;
    }
    report(
        "compaction_power_loss",
        &[
            ("seed", seed.to_string()),
            ("power_cuts", rounds.to_string()),
            ("commits_recovered", model.last.to_string()),
            ("compactions", compactions.to_string()),
            ("trivial_moves", moves.to_string()),
            ("deepest_level", deepest.to_string()),
            ("seconds", started.elapsed().as_secs().to_string()),
        ],
    );
    assert!(
        compactions > 0,
        "no compaction ran: the test proves nothing"
    );
    assert!(deepest >= 2, "data never went below L1");
}
