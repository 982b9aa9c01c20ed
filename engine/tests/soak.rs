//! Concurrency soak: writer threads move money between accounts while
//! reader threads check, through snapshots and iterators, that the total
//! never changes; a torn batch, a snapshot that sees half a commit or a
//! lost update would break it. Memtables are tiny, so flushes run all the
//! time underneath.
//!
//! Duration: `ENGINE_SOAK_SECS` (default 2 seconds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kv_api::{Error, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

const ACCOUNTS: u64 = 40;
const START: i64 = 1000;

fn acct(i: u64) -> Vec<u8> {
    format!("acct/{i:03}").into_bytes()
}

fn bal(v: &[u8]) -> i64 {
    i64::from_be_bytes(v.try_into().expect("8-byte balance"))
}

#[test]
fn balances_always_sum_to_the_total() {
    let secs: u64 = std::env::var("ENGINE_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let dir = tempfile::tempdir().unwrap();
    // Tiny levels: compactions run all the time under the readers.
    let mut o = engine::Options::with_write_buffer(16 * 1024).tiny_levels();
    o.block_size = 512;
    let db = Arc::new(engine::Db::open(dir.path(), o).unwrap());
    let mut b = WriteBatch::new();
    for i in 0..ACCOUNTS {
        b.put(acct(i), START.to_be_bytes());
    }
    db.write(b, &WriteOptions::SYNC).unwrap();
    let total = START * ACCOUNTS as i64;
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    // Transaction writers over all accounts (conflicts expected).
    for w in 0..3u64 {
        let (db, stop, commits, conflicts) =
            (db.clone(), stop.clone(), commits.clone(), conflicts.clone());
        handles.push(thread::spawn(move || {
            let mut n = w;
            while !stop.load(Ordering::Relaxed) {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (a, c) = ((n >> 20) % ACCOUNTS, (n >> 40) % ACCOUNTS);
                if a == c {
                    continue;
                }
                let mut t = db.begin().unwrap();
                let va = bal(&t.get(&acct(a)).unwrap().unwrap());
                let vc = bal(&t.get(&acct(c)).unwrap().unwrap());
                let amt = (n % 50) as i64;
                t.put(&acct(a), &(va - amt).to_be_bytes()).unwrap();
                t.put(&acct(c), &(vc + amt).to_be_bytes()).unwrap();
                match t.commit(&WriteOptions { sync: n % 16 == 0 }) {
                    Ok(()) => commits.fetch_add(1, Ordering::Relaxed),
                    Err(Error::Conflict { .. }) => conflicts.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("commit failed: {e}"),
                };
            }
        }));
    }
    // A batch writer rewriting two accounts with a range delete + puts in one
    // batch (the pair keeps its sum), racing the transactions through the
    // same commit queue: it uses a transaction too, so its read-modify-write
    // is safe, but commits range deletes.
    {
        let (db, stop) = (db.clone(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let a = i % (ACCOUNTS - 1);
                let mut t = db.begin().unwrap();
                let va = bal(&t.get(&acct(a)).unwrap().unwrap());
                let vb = bal(&t.get(&acct(a + 1)).unwrap().unwrap());
                t.delete_range(&acct(a), &acct(a + 2)).unwrap();
                t.put(&acct(a), &vb.to_be_bytes()).unwrap();
                t.put(&acct(a + 1), &va.to_be_bytes()).unwrap();
                let _ = t.commit(&WriteOptions::default());
                if i % 200 == 0 {
                    db.flush().unwrap();
                }
            }
        }));
    }
    // Readers.
    let checks = Arc::new(AtomicU64::new(0));
    for r in 0..2u64 {
        let (db, stop, checks) = (db.clone(), stop.clone(), checks.clone());
        handles.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let sum: i64 = if r == 0 {
                    let snap = db.snapshot().unwrap();
                    (0..ACCOUNTS)
                        .map(|i| bal(&snap.get(&acct(i)).unwrap().expect("account missing")))
                        .sum()
                } else {
                    let it = db.scan(KeyRange::prefix(b"acct/")).unwrap();
                    let all = kv_api::collect_entries(it).unwrap();
                    if all.len() as u64 != ACCOUNTS {
                        let have: std::collections::BTreeSet<Vec<u8>> =
                            all.iter().map(|(k, _)| k.clone()).collect();
                        let missing: Vec<String> = (0..ACCOUNTS)
                            .map(acct)
                            .filter(|k| !have.contains(k))
                            .map(|k| String::from_utf8_lossy(&k).into_owned())
                            .collect();
                        let gets: Vec<bool> = missing
                            .iter()
                            .map(|k| db.get(k.as_bytes()).unwrap().is_some())
                            .collect();
                        panic!(
                            "accounts missing from a scan: {missing:?} (get finds them: {gets:?}); levels {:?}",
                            db.level_file_counts()
                        );
                    }
                    all.iter().map(|(_, v)| bal(v)).sum()
                };
                assert_eq!(sum, total, "a reader saw money created or destroyed");
                checks.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("a soak thread panicked");
    }
    let sum: i64 = (0..ACCOUNTS)
        .map(|i| bal(&db.get(&acct(i)).unwrap().unwrap()))
        .sum();
    assert_eq!(sum, total);
    assert!(
        commits.load(Ordering::Relaxed) > 10,
        "too few commits to mean anything"
    );
    assert!(
        checks.load(Ordering::Relaxed) > 10,
        "too few checks to mean anything"
    );
    // And after a reopen.
    db.close().unwrap();
    drop(db);
    let db = engine::Db::open(dir.path(), engine::Options::default()).unwrap();
    let sum: i64 = (0..ACCOUNTS)
        .map(|i| bal(&db.get(&acct(i)).unwrap().unwrap()))
        .sum();
    assert_eq!(sum, total, "after reopen");
}
