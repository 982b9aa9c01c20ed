//! Campaign 2, simulated power loss: the ledger workload runs through a SQL
//! session on the engine over the fault-injecting file system
//! ([`FaultFs`]), on its own thread, while this thread cuts the power at a
//! random moment: [`FaultFs::crash`] keeps only what was fsynced (file
//! bytes up to their last sync, directory entries up to their directory's
//! last sync), exactly as a machine that lost power would. The database is
//! then recovered from that image and checked, and the workload goes on
//! from there, round after round on the same evolving image.
//!
//! With `sync` commits, the recovered database must be exactly the model
//! after some commit `c` with `acked_before_cut <= c <= acked_after_cut + 1`:
//! a prefix of the commits that contains every acknowledged one. With
//! buffered commits, the recovered database must still be exactly some
//! prefix (nothing torn, nothing reordered), never going back behind a
//! state that recovery already showed. Cuts fall anywhere: in the middle of
//! a log append, a table being flushed, a manifest edit, an index build.
//!
//! ```text
//! cargo test -p tests --test reliability_power_loss                    # CI: 30 cuts each
//! RELIABILITY_LONG=1 cargo test --release -p tests --test reliability_power_loss -- --nocapture
//! RELIABILITY_POWER_ROUNDS=N ...                                       # exactly N cuts
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engine::fs::FaultFs;
use tests::reliability::knobs::{knob, report};
use tests::reliability::rng::{Rng, campaign_seed};
use tests::reliability::stack::open_session;
use tests::reliability::workload::{self, Model, RunError};

const WRITE_BUFFER: usize = 32 * 1024;

fn campaign(name: &str, sync: bool) {
    let seed = campaign_seed(name);
    let rounds = knob("POWER_ROUNDS", 30, 400) as u32;
    let mut rng = Rng::new(seed);
    let dir = Path::new("/power/db");
    let mut fs = FaultFs::new();
    let mut model = Model::new(seed);
    // Bounds on the commit the next recovery must show.
    let (mut low, mut high) = (0u64, 0u64);
    let mut cuts_with_loss = 0u32;
    let mut lost_buffered = 0u64;
    let started = Instant::now();
    for round in 0..=rounds {
        let mut session = open_session(Arc::new(fs.clone()), dir, WRITE_BUFFER, sync)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): recovery failed: {e}"));
        let c = workload::verify(&mut session, &mut model)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): {e}"));
        assert!(
            c >= low && c <= high + 1,
            "round {round} (seed {seed}): recovered commit {c}, expected {low}..={}",
            high + 1
        );
        if !sync && c < high {
            // Buffered commits acknowledged but not yet synced at the cut.
            cuts_with_loss += 1;
            lost_buffered += high - c;
        }
        if round == rounds {
            break;
        }
        workload::create_schema(&mut session).unwrap();
        let acked = Arc::new(AtomicU64::new(c));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            let mut gen_model = model.clone();
            std::thread::spawn(move || -> Result<(), String> {
                while !stop.load(Ordering::Acquire) {
                    let plan = gen_model.plan();
                    match workload::run_plan(&mut session, &plan) {
                        Ok(()) => acked.store(plan.id, Ordering::Release),
                        Err(RunError::Mismatch(m)) => return Err(m),
                        Err(RunError::Storage(e)) => return Err(format!("storage: {e}")),
                    }
                }
                Ok(())
            })
        };
        // Cut after some commits, at a moment that lands anywhere inside
        // the next one (or a flush behind it).
        let want = c + rng.range(1, 80);
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::Acquire) < want && !worker.is_finished() {
            assert!(Instant::now() < deadline, "workload made no progress");
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros(rng.below(2000)));
        let before = acked.load(Ordering::Acquire);
        let image = fs.crash();
        let after = acked.load(Ordering::Acquire);
        stop.store(true, Ordering::Release);
        worker
            .join()
            .expect("worker thread")
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): workload: {e}"));
        fs = image;
        low = if sync { before } else { c };
        high = after;
    }
    report(
        name,
        &[
            ("seed", seed.to_string()),
            ("power_cuts", rounds.to_string()),
            ("commits_recovered", model.last.to_string()),
            ("rows_at_end", model.rows.len().to_string()),
            ("acked_before_cut_lost", "0".into()),
            ("cuts_losing_buffered_commits", cuts_with_loss.to_string()),
            ("buffered_commits_lost", lost_buffered.to_string()),
            ("seconds", started.elapsed().as_secs().to_string()),
        ],
    );
}

#[test]
fn power_cut_recovers_a_prefix_holding_every_synced_commit() {
    campaign("power_loss_sync", true);
}

#[test]
fn power_cut_with_buffered_commits_recovers_a_prefix() {
    campaign("power_loss_buffered", false);
}
