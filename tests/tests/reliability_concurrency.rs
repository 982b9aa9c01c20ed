//! Campaign 6, concurrency: many threads, each with its own SQL `Session`
//! over one shared `table_layer::Database`, move amounts between a few hot
//! accounts in explicit transactions (read the balance, refuse to go
//! negative, debit, credit, commit), retrying on conflict; others read the
//! total in snapshots; one more creates and drops an index all along. On
//! `MemStore` and on the engine.
//!
//! What must hold:
//! - every snapshot read sees the same total, and so does the end state;
//! - no lost update: each account's final balance is its initial balance
//!   plus the sum of the transfers the writers saw commit, and its `ops`
//!   counter is exactly the number of committed transfers touching it
//!   (a lost update would drop one); no balance goes negative;
//! - conflicts are reported (as `ErrorKind::Conflict`) and counted;
//! - nothing deadlocks: a watchdog fails the test when no thread makes
//!   progress for 30 seconds;
//! - the integrity check passes at the end.
//!
//! Two deterministic tests pin the snapshot-isolation rules the soak relies
//! on: first committer wins, and a read-modify-write race loses no update.
//!
//! ```text
//! cargo test -p tests --test reliability_concurrency                  # CI: 3 s per store
//! RELIABILITY_LONG=1 cargo test --release -p tests --test reliability_concurrency -- --nocapture
//! RELIABILITY_CONCURRENCY_SECONDS=N ...                               # N seconds per store
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kv_api::KvStore;
use sql_shell::{ErrorKind, Session, SqlError, Value};
use table_layer::Database;
use tests::reliability::knobs::{knob, report};
use tests::reliability::rng::{Rng, campaign_seed};
use tests::reliability::workload::query;

const ACCOUNTS: usize = 12;
const INITIAL: i64 = 1000;

fn int(rows: &[Vec<Value>]) -> i64 {
    match rows {
        [r] => match r.as_slice() {
            [Value::Integer(i)] => *i,
            other => panic!("expected one integer, got {other:?}"),
        },
        other => panic!("expected one row, got {other:?}"),
    }
}

#[derive(Default)]
struct Counters {
    transfers: AtomicU64,
    conflicts: AtomicU64,
    refused: AtomicU64,
    reads: AtomicU64,
    ddl: AtomicU64,
    progress: AtomicU64,
}

/// One transfer attempt. `Ok(Some(amount))`: committed; `Ok(None)`:
/// refused (not enough money); `Err`: the error (a conflict to retry).
fn transfer(s: &mut Session, a: usize, b: usize, amount: i64) -> Result<Option<i64>, SqlError> {
    let r = (|| {
        query(s, "BEGIN")?;
        let bal = int(&query(
            s,
            &format!("SELECT balance FROM bank WHERE id = {a}"),
        )?);
        if bal < amount {
            query(s, "ROLLBACK")?;
            return Ok(None);
        }
        query(
            s,
            &format!("UPDATE bank SET balance = balance - {amount}, ops = ops + 1 WHERE id = {a}"),
        )?;
        query(
            s,
            &format!("UPDATE bank SET balance = balance + {amount}, ops = ops + 1 WHERE id = {b}"),
        )?;
        query(s, "COMMIT")?;
        Ok(Some(amount))
    })();
    if r.is_err() && s.in_transaction() {
        let _ = s.execute("ROLLBACK");
    }
    r
}

fn setup(db: &Database) {
    let mut s = Session::new(db.clone());
    query(
        &mut s,
        "CREATE TABLE bank (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, ops INTEGER NOT NULL)",
    )
    .unwrap();
    query(&mut s, "CREATE INDEX bank_balance ON bank (balance)").unwrap();
    let values: Vec<String> = (0..ACCOUNTS)
        .map(|i| format!("({i}, {INITIAL}, 0)"))
        .collect();
    query(
        &mut s,
        &format!("INSERT INTO bank VALUES {}", values.join(", ")),
    )
    .unwrap();
}

fn soak(label: &str, db: Database, seed: u64, seconds: u64) {
    setup(&db);
    let total = INITIAL * ACCOUNTS as i64;
    let c = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let writers = 4;
    let readers = 2;
    let mut handles = Vec::new();
    for w in 0..writers {
        let (db, c, stop) = (db.clone(), Arc::clone(&c), Arc::clone(&stop));
        handles.push(std::thread::spawn(
            move || -> Result<Vec<(i64, u64)>, String> {
                let mut s = Session::new(db);
                let mut rng = Rng::derive(seed, w);
                // Per account: net amount and committed transfers touching it.
                let mut seen = vec![(0i64, 0u64); ACCOUNTS];
                while !stop.load(Ordering::Acquire) {
                    let a = rng.index(ACCOUNTS);
                    let b = (a + 1 + rng.index(ACCOUNTS - 1)) % ACCOUNTS;
                    let amount = rng.range(1, 300) as i64;
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        match transfer(&mut s, a, b, amount) {
                            Ok(Some(x)) => {
                                seen[a].0 -= x;
                                seen[a].1 += 1;
                                seen[b].0 += x;
                                seen[b].1 += 1;
                                c.transfers.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Ok(None) => {
                                c.refused.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(e) if e.kind() == ErrorKind::Conflict => {
                                c.conflicts.fetch_add(1, Ordering::Relaxed);
                                if tries > 1000 {
                                    return Err(format!(
                                        "transfer starved after {tries} conflicts"
                                    ));
                                }
                            }
                            Err(e) => return Err(format!("writer {w}: {e}")),
                        }
                    }
                    c.progress.fetch_add(1, Ordering::Relaxed);
                }
                Ok(seen)
            },
        ));
    }
    for r in 0..readers {
        let (db, c, stop) = (db.clone(), Arc::clone(&c), Arc::clone(&stop));
        handles.push(std::thread::spawn(
            move || -> Result<Vec<(i64, u64)>, String> {
                let mut s = Session::new(db);
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    n += 1;
                    let sums = if n % 2 == 0 {
                        // Two reads in one snapshot (the second through the index).
                        query(&mut s, "BEGIN").map_err(|e| e.to_string())?;
                        let a = query(&mut s, "SELECT sum(balance) FROM bank");
                        let b = query(&mut s, "SELECT sum(balance) FROM bank WHERE balance >= 0");
                        query(&mut s, "COMMIT").map_err(|e| e.to_string())?;
                        vec![a, b]
                    } else {
                        vec![query(&mut s, "SELECT sum(balance) FROM bank")]
                    };
                    for got in sums {
                        let got = got.map_err(|e| format!("reader {r}: {e}"))?;
                        if int(&got) != total {
                            return Err(format!(
                                "reader {r}: snapshot total {} != {total}",
                                int(&got)
                            ));
                        }
                    }
                    c.reads.fetch_add(1, Ordering::Relaxed);
                    c.progress.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Vec::new())
            },
        ));
    }
    {
        let (db, c, stop) = (db.clone(), Arc::clone(&c), Arc::clone(&stop));
        handles.push(std::thread::spawn(
            move || -> Result<Vec<(i64, u64)>, String> {
                let mut s = Session::new(db);
                while !stop.load(Ordering::Acquire) {
                    for sql in [
                        "CREATE INDEX bank_ops ON bank (ops, balance)",
                        "DROP INDEX bank_ops",
                    ] {
                        loop {
                            match query(&mut s, sql) {
                                Ok(_) => break,
                                Err(e) if e.kind() == ErrorKind::Conflict => {
                                    c.conflicts.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => return Err(format!("ddl `{sql}`: {e}")),
                            }
                        }
                        c.ddl.fetch_add(1, Ordering::Relaxed);
                        c.progress.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(Vec::new())
            },
        ));
    }
    // Watchdog.
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut last = (0u64, Instant::now());
    while Instant::now() < end && !handles.iter().any(|h| h.is_finished()) {
        std::thread::sleep(Duration::from_millis(100));
        let p = c.progress.load(Ordering::Relaxed);
        if p != last.0 {
            last = (p, Instant::now());
        }
        assert!(
            last.1.elapsed() < Duration::from_secs(30),
            "{label} (seed {seed}): no progress for 30 s: deadlock?"
        );
    }
    stop.store(true, Ordering::Release);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !handles.iter().all(|h| h.is_finished()) {
        assert!(
            Instant::now() < deadline,
            "{label} (seed {seed}): threads did not stop within 60 s: deadlock?"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut expected = vec![(INITIAL, 0u64); ACCOUNTS];
    for h in handles {
        let seen = h
            .join()
            .expect("thread panicked")
            .unwrap_or_else(|e| panic!("{label} (seed {seed}): {e}"));
        for (i, (d, n)) in seen.into_iter().enumerate() {
            expected[i].0 += d;
            expected[i].1 += n;
        }
    }
    let mut s = Session::new(db.clone());
    let rows = query(&mut s, "SELECT id, balance, ops FROM bank ORDER BY id").unwrap();
    let got: Vec<(i64, u64)> = rows
        .iter()
        .map(|r| match r.as_slice() {
            [_, Value::Integer(b), Value::Integer(o)] => (*b, *o as u64),
            other => panic!("bad row {other:?}"),
        })
        .collect();
    assert_eq!(
        got, expected,
        "{label} (seed {seed}): final (balance, ops) per account differ from the committed transfers: a lost or phantom update"
    );
    assert!(got.iter().all(|(b, _)| *b >= 0), "a balance went negative");
    assert_eq!(got.iter().map(|(b, _)| b).sum::<i64>(), total);
    let report_ok = db.check_integrity(None).unwrap();
    assert!(report_ok.is_ok(), "{label}: integrity: {report_ok:?}");
    let transfers = c.transfers.load(Ordering::Relaxed);
    let conflicts = c.conflicts.load(Ordering::Relaxed);
    assert!(transfers > 0, "{label}: no transfer committed");
    assert!(
        conflicts > 0,
        "{label}: {transfers} transfers on {ACCOUNTS} hot accounts and not one conflict reported"
    );
    report(
        &format!("concurrency_{label}"),
        &[
            ("seed", seed.to_string()),
            ("seconds", started.elapsed().as_secs().to_string()),
            ("threads", format!("{writers}w+{readers}r+1ddl")),
            ("transfers_committed", transfers.to_string()),
            ("conflicts_reported", conflicts.to_string()),
            (
                "refused_insufficient",
                c.refused.load(Ordering::Relaxed).to_string(),
            ),
            (
                "snapshot_reads_checked",
                c.reads.load(Ordering::Relaxed).to_string(),
            ),
            (
                "index_create_drop",
                c.ddl.load(Ordering::Relaxed).to_string(),
            ),
            ("lost_updates", "0".into()),
        ],
    );
}

fn seconds() -> u64 {
    knob("CONCURRENCY_SECONDS", 3, 300)
}

#[test]
fn transfers_on_memstore_keep_the_total_and_lose_no_update() {
    let seed = campaign_seed("concurrency_memory");
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    soak("memory", db, seed, seconds());
}

#[test]
fn transfers_on_the_engine_keep_the_total_and_lose_no_update() {
    let seed = campaign_seed("concurrency_engine");
    let dir = tempfile::tempdir().unwrap();
    let mut o = engine::Options::with_write_buffer(64 * 1024);
    o.block_cache_bytes = 1 << 20;
    let store: Arc<dyn KvStore> = Arc::new(engine::Db::open(dir.path(), o).unwrap());
    let db = Database::open(store).unwrap();
    soak("engine", db, seed, seconds());
}

#[test]
fn first_committer_wins_and_the_loser_is_told() {
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    setup(&db);
    let mut a = Session::new(db.clone());
    let mut b = Session::new(db.clone());
    query(&mut a, "BEGIN").unwrap();
    query(&mut b, "BEGIN").unwrap();
    query(&mut a, "UPDATE bank SET balance = balance + 1 WHERE id = 0").unwrap();
    // b writes the same row from the same snapshot: b read 1000 too.
    let r = query(
        &mut b,
        "UPDATE bank SET balance = balance + 10 WHERE id = 0",
    );
    query(&mut a, "COMMIT").unwrap();
    let outcome = r.and_then(|_| query(&mut b, "COMMIT"));
    let e = outcome.expect_err("the second writer of a row must not commit");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.is_retryable());
    assert!(!b.in_transaction(), "a conflict rolls the transaction back");
    let mut c = Session::new(db);
    assert_eq!(
        int(&query(&mut c, "SELECT balance FROM bank WHERE id = 0").unwrap()),
        INITIAL + 1,
        "exactly the winner's update"
    );
}

#[test]
fn read_modify_write_race_loses_no_update() {
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    setup(&db);
    let mut a = Session::new(db.clone());
    let mut b = Session::new(db.clone());
    query(&mut a, "BEGIN").unwrap();
    query(&mut b, "BEGIN").unwrap();
    let va = int(&query(&mut a, "SELECT balance FROM bank WHERE id = 3").unwrap());
    let vb = int(&query(&mut b, "SELECT balance FROM bank WHERE id = 3").unwrap());
    query(
        &mut a,
        &format!("UPDATE bank SET balance = {} WHERE id = 3", va + 5),
    )
    .unwrap();
    query(&mut a, "COMMIT").unwrap();
    // b computed its new value from a stale read: it must not overwrite a's.
    let r = query(
        &mut b,
        &format!("UPDATE bank SET balance = {} WHERE id = 3", vb + 7),
    )
    .and_then(|_| query(&mut b, "COMMIT"));
    assert_eq!(r.expect_err("lost update").kind(), ErrorKind::Conflict);
    let mut c = Session::new(db);
    assert_eq!(
        int(&query(&mut c, "SELECT balance FROM bank WHERE id = 3").unwrap()),
        INITIAL + 5
    );
}
