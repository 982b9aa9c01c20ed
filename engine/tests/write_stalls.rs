//! Back-pressure: with a tiny write buffer and room for a single frozen
//! memtable, concurrent writers outrun the flush thread and must be slowed
//! and stopped (never deadlocked), every write must land, and the time spent
//! stalled must show in the statistics.

use std::sync::Arc;
use std::thread;

use kv_api::{KvRead, KvStore, WriteBatch, WriteOptions};

#[test]
fn writers_stall_while_flushes_catch_up_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = engine::Options::with_write_buffer(8 * 1024);
    o.max_immutable_memtables = 1;
    o.block_size = 512;
    let db = Arc::new(engine::Db::open(dir.path(), o).unwrap());
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let db = Arc::clone(&db);
            thread::spawn(move || {
                for i in 0..600u32 {
                    let mut b = WriteBatch::new();
                    b.put(format!("w{w}/{i:05}"), vec![w as u8; 200]);
                    db.write(b, &WriteOptions { sync: i % 100 == 0 }).unwrap();
                }
            })
        })
        .collect();
    for h in writers {
        h.join().expect("writer panicked");
    }
    let s = db.stats();
    assert!(s.get("flush.count").unwrap() > 10, "{s}");
    assert!(
        s.get("writes.stops").unwrap() + s.get("writes.slowdowns").unwrap() > 0,
        "writers were never held back: {s}"
    );
    for w in 0..4u32 {
        for i in (0..600u32).step_by(37) {
            assert_eq!(
                db.get(format!("w{w}/{i:05}").as_bytes()).unwrap(),
                Some(vec![w as u8; 200])
            );
        }
    }
    db.close().unwrap();
    let db = engine::Db::open(dir.path(), engine::Options::default()).unwrap();
    let n = kv_api::collect_entries(db.scan(kv_api::KeyRange::all()).unwrap())
        .unwrap()
        .len();
    assert_eq!(n, 2400);
}
