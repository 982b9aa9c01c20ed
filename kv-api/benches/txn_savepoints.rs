//! A long transaction with a savepoint per statement, as the table layer and
//! the SQL shell run one: each "statement" sets a savepoint, writes a row and
//! releases it; a scan iterator is alive for part of the run. Prints the cost
//! per statement at growing transaction sizes: flat means linear in total,
//! growing means quadratic. `NO_ITER=1` leaves the scan out.
//!
//! Run: `cargo bench -p kv-api --bench txn_savepoints`

use std::time::Instant;

use kv_api::{KeyRange, KvStore, MemStore, WriteOptions};

fn run(statements: u64) -> f64 {
    let store = MemStore::new();
    let mut t = store.begin().expect("begin");
    let start = Instant::now();
    let mut live = None;
    for i in 0..statements {
        t.set_savepoint();
        let key = format!("row{i:012}");
        t.put(key.as_bytes(), &[7u8; 100]).expect("put");
        if i % 3 == 0 {
            t.delete(format!("row{:012}", i / 2).as_bytes())
                .expect("delete");
        }
        t.release_savepoint();
        if i == statements / 2 && std::env::var_os("NO_ITER").is_none() {
            // An UPDATE-style scan that stays open while writes go on.
            live = Some(t.scan(KeyRange::all()).expect("scan"));
        }
        if let Some(it) = live.as_mut() {
            let _ = it.next().expect("next");
        }
    }
    drop(live);
    t.commit(&WriteOptions::default()).expect("commit");
    start.elapsed().as_secs_f64() * 1e9 / statements as f64
}

fn main() {
    println!("statements  ns/statement");
    for n in [5_000u64, 20_000, 80_000] {
        println!("{n:>10}  {:>12.0}", run(n));
    }
}
