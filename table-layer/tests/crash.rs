//! Power cuts under the table layer: random transactions committed with
//! `sync` on the engine over a fault-injecting file system, a simulated power
//! cut at a random moment, reopen. Every committed transaction must be there
//! in full, nothing else, and rows and indexes must agree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use engine::fs::FaultFs;
use kv_api::{KvStore, MemStore, WriteOptions};
use table_layer::{
    ColumnDef, DataType, Database, Direction, IndexSpec, ScanRange, SortOrder, TableSpec, Value,
};

mod common;
use common::Rng;

fn open(fs: &Arc<FaultFs>) -> Database {
    let opts = engine::Options::with_write_buffer(16 << 10).fs(fs.clone());
    let store: Arc<dyn KvStore> = Arc::new(engine::Db::open(Path::new("/db"), opts).unwrap());
    Database::open_with(store, WriteOptions::SYNC).unwrap()
}

fn contents(db: &Database) -> BTreeMap<i64, Vec<Value>> {
    let txn = db.begin().unwrap();
    txn.scan("t", ScanRange::all(), Direction::Forward)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            let Value::Integer(k) = r.values[0] else {
                panic!("key")
            };
            (k, r.values)
        })
        .collect()
}

#[test]
fn committed_transactions_survive_power_cuts() {
    for seed in 0..4 {
        let mut rng = Rng::new(seed);
        let mut fs = Arc::new(FaultFs::new());
        let mut db = open(&fs);
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("k", DataType::Integer))
                .column(ColumnDef::new("u", DataType::Text))
                .column(ColumnDef::new("g", DataType::Integer))
                .primary_key(["k"]),
        )
        .unwrap();
        db.create_index(
            IndexSpec::new("t_u", "t")
                .column("u", SortOrder::Asc)
                .unique(),
            &mut |_| {},
        )
        .unwrap();
        let mut model: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
        let mut built = false;
        for round in 0..6 {
            let commits = 5 + rng.below(20);
            for _ in 0..commits {
                let mut txn = db.begin().unwrap();
                let mut next = model.clone();
                for _ in 0..1 + rng.below(30) {
                    let k = rng.below(300) as i64;
                    let row = vec![
                        Value::Integer(k),
                        if rng.chance(20) {
                            Value::Null
                        } else {
                            Value::Text(format!("u{}", rng.below(400)))
                        },
                        Value::Integer(rng.below(10) as i64),
                    ];
                    let exists = next.contains_key(&k);
                    if exists && rng.chance(50) {
                        assert!(txn.delete("t", &[Value::Integer(k)]).unwrap());
                        next.remove(&k);
                        continue;
                    }
                    let r = if exists {
                        txn.update("t", &[Value::Integer(k)], &row).map(|_| ())
                    } else {
                        txn.insert("t", &row).map(|_| ())
                    };
                    match r {
                        Ok(()) => {
                            next.insert(k, row);
                        }
                        // A duplicate `u`: the statement failed alone.
                        Err(e) => assert!(e.is_constraint_violation(), "{e}"),
                    }
                }
                txn.commit().unwrap();
                model = next;
            }
            if !built && round == 2 {
                db.create_index(
                    IndexSpec::new("t_g", "t").column("g", SortOrder::Desc),
                    &mut |_| {},
                )
                .unwrap();
                built = true;
            }
            // Power cut: only what was synced survives.
            let after = Arc::new(fs.crash());
            drop(db);
            fs = after;
            db = open(&fs);
            assert_eq!(contents(&db), model, "seed {seed} round {round}");
            // The saved counts cannot be trusted after a crash: recounted.
            assert_eq!(db.approximate_row_count("t").unwrap() as usize, model.len());
            let report = db.check_integrity(None).unwrap();
            assert!(report.is_ok(), "seed {seed} round {round}: {report}");
            assert_eq!(db.catalog().has_index("t_g"), built);
        }
    }
}

#[test]
fn entries_of_an_unfinished_index_build_are_swept_on_open() {
    let store: Arc<dyn KvStore> = Arc::new(MemStore::new());
    let db = Database::open(store.clone()).unwrap();
    db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))
        .unwrap();
    db.run_with_retry(1, |t| t.insert("t", &[Value::Integer(1)]))
        .unwrap();
    drop(db);
    // What a build of index 1 that died before its catalog entry leaves:
    // entries under table 1, index space, index id 1 (the next free id).
    store
        .put(&[0x01, 0x02, 0x01, 0x2a, 0x01, 0x2a, 0x01], b"")
        .unwrap();
    let db = Database::open(store).unwrap();
    let report = db.check_integrity(None).unwrap();
    assert!(report.is_ok(), "{report}");
    db.create_index(
        IndexSpec::new("t_a", "t").column("a", SortOrder::Asc),
        &mut |_| {},
    )
    .unwrap();
    assert!(db.check_integrity(None).unwrap().is_ok());
}
