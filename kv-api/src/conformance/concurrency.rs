//! Cases with threads: snapshots stay fixed while writers run, readers never
//! see half a batch, and concurrent transfers keep their total.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::{Factory, b, scan};
use crate::{Direction, Error, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

/// A snapshot keeps returning exactly its state (gets, scans both ways) while
/// another thread overwrites, deletes, range-deletes and flushes.
pub fn snapshot_isolation_while_writes_continue(f: Factory) {
    let s = f();
    for i in 0..300u32 {
        s.put(format!("k{i:03}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    let snap = s.snapshot().unwrap();
    let expect_fwd = scan(&*snap, KeyRange::all(), Direction::Forward);
    assert_eq!(expect_fwd.len(), 300);
    let mut expect_rev = expect_fwd.clone();
    expect_rev.reverse();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = Arc::clone(&s.store);
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut round = 0u32;
            while !stop.load(Ordering::Relaxed) && round < 2000 {
                let i = round % 300;
                let mut batch = WriteBatch::new();
                batch.put(format!("k{i:03}"), format!("round{round}"));
                batch.delete(format!("k{:03}", (i * 7) % 300));
                if round % 50 == 0 {
                    batch.delete_range(format!("k{:03}", i / 2), format!("k{:03}", i / 2 + 20));
                }
                batch.put(format!("new{round}"), "x");
                store.write(batch, &WriteOptions::default()).unwrap();
                if round % 400 == 0 {
                    store.flush().unwrap();
                }
                round += 1;
            }
        })
    };
    for check in 0..30 {
        assert_eq!(
            scan(&*snap, KeyRange::all(), Direction::Forward),
            expect_fwd,
            "forward scan changed (check {check})"
        );
        assert_eq!(
            scan(&*snap, KeyRange::all(), Direction::Reverse),
            expect_rev,
            "reverse scan changed"
        );
        for (k, v) in expect_fwd.iter().step_by(17) {
            assert_eq!(snap.get(k).unwrap().as_ref(), Some(v));
        }
        assert_eq!(snap.get(b"new0").unwrap(), None);
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer thread panicked");
    s.flush().unwrap();
    assert_eq!(
        scan(&*snap, KeyRange::all(), Direction::Forward),
        expect_fwd,
        "after the writer finished and a flush"
    );
}

const ACCOUNTS: u32 = 8;

fn acct(i: u32) -> Vec<u8> {
    format!("acct/{i}").into_bytes()
}

/// Readers never see part of a batch: a writer sets every account key to the
/// same round number in one batch (sometimes via range delete plus puts);
/// snapshots and iterators must always find all keys equal.
pub fn batch_atomicity_seen_by_concurrent_readers(f: Factory) {
    let s = f();
    let mut batch = WriteBatch::new();
    for i in 0..ACCOUNTS {
        batch.put(acct(i), 0u64.to_be_bytes());
    }
    s.write(batch, &WriteOptions::default()).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let store = Arc::clone(&s.store);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut checks = 0u32;
                while !done.load(Ordering::Relaxed) || checks < 10 {
                    let values: Vec<Vec<u8>> = if (checks + r) % 2 == 0 {
                        let snap = store.snapshot().unwrap();
                        (0..ACCOUNTS)
                            .map(|i| snap.get(&acct(i)).unwrap().expect("account missing"))
                            .collect()
                    } else {
                        scan(&*store, KeyRange::prefix(b"acct/"), Direction::Forward)
                            .into_iter()
                            .map(|(_, v)| v)
                            .collect()
                    };
                    assert_eq!(
                        values.len(),
                        ACCOUNTS as usize,
                        "a reader saw a torn batch (missing keys)"
                    );
                    assert!(
                        values.windows(2).all(|w| w[0] == w[1]),
                        "a reader saw a torn batch: {values:?}"
                    );
                    checks += 1;
                }
            })
        })
        .collect();
    for round in 1..=400u64 {
        let mut batch = WriteBatch::new();
        if round % 10 == 0 {
            batch.delete_range(b"acct/", b"acct0");
        }
        for i in 0..ACCOUNTS {
            batch.put(acct(i), round.to_be_bytes());
        }
        s.write(batch, &WriteOptions::default()).unwrap();
        if round % 100 == 0 {
            s.flush().unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("reader thread panicked");
    }
}

fn balance(r: &dyn KvRead, i: u32) -> i64 {
    let v = r.get(&acct(i)).unwrap().expect("account missing");
    i64::from_be_bytes(v.try_into().expect("balance is 8 bytes"))
}

/// Threads move amounts between accounts in transactions, retrying on
/// conflict; snapshots always see the same total and so does the end state.
pub fn concurrent_transfers_keep_total(f: Factory) {
    let s = f();
    let mut batch = WriteBatch::new();
    for i in 0..ACCOUNTS {
        batch.put(acct(i), 100i64.to_be_bytes());
    }
    s.write(batch, &WriteOptions::default()).unwrap();
    let total = 100 * ACCOUNTS as i64;

    let done = Arc::new(AtomicBool::new(false));
    let auditor = {
        let store = Arc::clone(&s.store);
        let done = Arc::clone(&done);
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let snap = store.snapshot().unwrap();
                let sum: i64 = (0..ACCOUNTS).map(|i| balance(&*snap, i)).sum();
                assert_eq!(sum, total, "a snapshot saw money created or destroyed");
            }
        })
    };
    let workers: Vec<_> = (0..4u32)
        .map(|w| {
            let store: Arc<dyn KvStore> = Arc::clone(&s.store);
            thread::spawn(move || {
                let mut conflicts = 0u32;
                for n in 0..150u32 {
                    let from = (w * 3 + n) % ACCOUNTS;
                    let to = (w + n * 5 + 1) % ACCOUNTS;
                    if from == to {
                        continue;
                    }
                    loop {
                        let mut t = store.begin().unwrap();
                        let a = balance(&*t, from);
                        let bal = balance(&*t, to);
                        t.put(&acct(from), &(a - 3).to_be_bytes()).unwrap();
                        t.put(&acct(to), &(bal + 3).to_be_bytes()).unwrap();
                        match t.commit(&WriteOptions::default()) {
                            Ok(()) => break,
                            Err(Error::Conflict { .. }) => conflicts += 1,
                            Err(e) => panic!("transfer failed: {e}"),
                        }
                    }
                    if n % 50 == 0 && w == 0 {
                        store.flush().unwrap();
                    }
                }
                conflicts
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    done.store(true, Ordering::Relaxed);
    auditor.join().expect("auditor panicked");
    let sum: i64 = (0..ACCOUNTS).map(|i| balance(&*s.store, i)).sum();
    assert_eq!(sum, total, "money created or destroyed");
    let all: BTreeMap<Vec<u8>, Vec<u8>> = scan(&*s.store, KeyRange::all(), Direction::Forward)
        .into_iter()
        .collect();
    assert_eq!(all.len(), ACCOUNTS as usize);
    assert!(all.contains_key(&b("acct/0")));
}
