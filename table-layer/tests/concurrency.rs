//! Threads writing, reading and changing the schema at once. Readers must
//! always see a catalog that matches their snapshot (an index holds exactly
//! one entry per row they see, every row decodes); writers only ever fail
//! with retryable errors; at the end rows and indexes agree.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Rng, backends, open};
use table_layer::{
    ColumnDef, DataType, Database, Direction, Error, IndexSpec, ScanRange, SortOrder, TableSpec,
    Value,
};

fn writer(db: &Database, seed: u64, stop: &AtomicBool) {
    let mut rng = Rng::new(seed);
    while !stop.load(Ordering::Relaxed) {
        let k = rng.below(400) as i64;
        let v = rng.below(50) as i64;
        let r = db.run_with_retry(50, |txn| {
            let ncols = txn.catalog().table("t")?.columns().len();
            let mut row = vec![Value::Integer(k), Value::Integer(v)];
            row.resize(ncols, Value::Null);
            if txn.get("t", &[Value::Integer(k)])?.is_some() {
                if v % 5 == 0 {
                    txn.delete("t", &[Value::Integer(k)])?;
                } else {
                    txn.update("t", &[Value::Integer(k)], &row)?;
                }
            } else {
                txn.insert("t", &row)?;
            }
            Ok(())
        });
        match r {
            Ok(()) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => panic!("writer: {e}"),
        }
    }
}

fn reader(db: &Database, stop: &AtomicBool) -> usize {
    let mut checks = 0;
    while !stop.load(Ordering::Relaxed) {
        let txn = db.begin().unwrap();
        let t = txn.catalog().table("t").unwrap();
        let rows = txn
            .scan("t", ScanRange::all(), Direction::Forward)
            .unwrap()
            .map(|r| r.map(|r| assert_eq!(r.values.len(), t.columns().len())))
            .collect::<Result<Vec<()>, Error>>()
            .unwrap()
            .len();
        for idx in t.indexes() {
            let entries = txn
                .index_scan(idx.name(), ScanRange::all(), Direction::Forward)
                .unwrap()
                .count();
            assert_eq!(
                entries,
                rows,
                "index {} disagrees with its snapshot",
                idx.name()
            );
        }
        checks += 1;
    }
    checks
}

#[test]
fn schema_changes_under_concurrent_readers_and_writers() {
    for b in backends() {
        let db = open(&*b);
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("k", DataType::Integer))
                .column(ColumnDef::new("v", DataType::Integer))
                .primary_key(["k"]),
        )
        .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for seed in 0..2 {
            let (db, stop) = (db.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                writer(&db, seed, &stop);
                0
            }));
        }
        {
            let (db, stop) = (db.clone(), stop.clone());
            threads.push(std::thread::spawn(move || reader(&db, &stop)));
        }
        for round in 0..12 {
            let name = format!("i{round}");
            let spec = IndexSpec::new(name.clone(), "t").column("v", SortOrder::Asc);
            if round % 2 == 0 {
                db.create_index(spec, &mut |_| {}).unwrap();
            } else {
                db.run_exclusive(|txn| txn.create_index(spec, &mut |_| {}))
                    .unwrap();
            }
            db.add_column("t", ColumnDef::new(format!("c{round}"), DataType::Text))
                .unwrap();
            if round >= 2 {
                db.drop_index(&format!("i{}", round - 2)).unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        let checks: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert!(checks > 0);
        let report = db.check_integrity(None).unwrap();
        assert!(report.is_ok(), "{}: {report}", b.name());
    }
}
