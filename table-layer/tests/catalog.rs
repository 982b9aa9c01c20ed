//! The catalog: persistence across reopen, introspection, DDL errors, and
//! refusal of stores that are not ours. Runs on every backend.

mod common;

use std::sync::Arc;

use common::{backends, open};
use kv_api::{Direction, KeyRange, KvStore};
use table_layer::{
    ColumnDef, DataType, Database, Error, IndexSpec, PrimaryKey, ScanRange, SortOrder, TableSpec,
    Value,
};

fn spec() -> TableSpec {
    TableSpec::new("Items")
        .column(ColumnDef::new("sku", DataType::Text))
        .column(
            ColumnDef::new("qty", DataType::Integer)
                .not_null()
                .default_value(0),
        )
        .column(ColumnDef::new("price", DataType::Real))
        .column(ColumnDef::new("img", DataType::Blob))
        .column(ColumnDef::new("live", DataType::Boolean))
        .primary_key(["sku"])
}

#[test]
fn the_catalog_survives_reopen_and_rowids_continue() {
    for mut b in backends() {
        let db = open(&*b);
        let items = db.create_table(spec()).unwrap();
        db.create_table(TableSpec::new("log").column(ColumnDef::new("m", DataType::Text)))
            .unwrap();
        db.create_index(
            IndexSpec::new("items_price_qty", "items")
                .column("price", SortOrder::Desc)
                .column("qty", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        db.add_column(
            "items",
            ColumnDef::new("note", DataType::Text).default_value("n/a"),
        )
        .unwrap();
        db.run_with_retry(1, |t| {
            t.insert("log", &["one".into()])?;
            t.insert("log", &["two".into()])
        })
        .unwrap();
        drop(db);
        b.reopen();
        let db = open(&*b);
        let cat = db.catalog();
        let t = cat.table("ITEMS").unwrap();
        assert_eq!(t.id(), items.id(), "{}: ids are stable", b.name());
        assert_eq!(t.name(), "Items");
        assert_eq!(t.primary_key(), &PrimaryKey::Columns(vec![0]));
        let cols: Vec<(&str, DataType, bool)> = t
            .columns()
            .iter()
            .map(|c| (c.name.as_str(), c.data_type, c.nullable))
            .collect();
        assert_eq!(
            cols,
            [
                ("sku", DataType::Text, false),
                ("qty", DataType::Integer, false),
                ("price", DataType::Real, true),
                ("img", DataType::Blob, true),
                ("live", DataType::Boolean, true),
                ("note", DataType::Text, true),
            ]
        );
        assert_eq!(t.columns()[1].default, Some(Value::Integer(0)));
        let (it, idx) = cat.index("items_price_qty").unwrap();
        assert_eq!(it.name(), "Items");
        assert_eq!(idx.columns()[0].order, SortOrder::Desc);
        assert!(!idx.is_unique());
        assert_eq!(db.approximate_row_count("log").unwrap(), 2);
        // Rowids continue after the largest stored one.
        let id = db
            .run_with_retry(1, |t| t.insert("log", &["three".into()]))
            .unwrap();
        assert_eq!(id, Some(3), "{}", b.name());
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn every_type_round_trips_through_rows_and_keys() {
    for b in backends() {
        let db = open(&*b);
        db.create_table(spec()).unwrap();
        db.create_index(
            IndexSpec::new("all_cols", "items")
                .column("price", SortOrder::Asc)
                .column("img", SortOrder::Desc)
                .column("live", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        let rows = vec![
            vec![
                "a\0b".into(),
                Value::Integer(i64::MIN),
                Value::Real(-0.0),
                Value::Blob(vec![0, 255, 0]),
                Value::Boolean(true),
            ],
            vec![
                "".into(),
                Value::Integer(i64::MAX),
                Value::Real(f64::NAN),
                Value::Blob(vec![]),
                Value::Boolean(false),
            ],
            vec![
                "\u{1F600}".into(),
                Value::Integer(0),
                Value::Real(f64::NEG_INFINITY),
                Value::Null,
                Value::Null,
            ],
        ];
        db.run_with_retry(1, |t| {
            for r in &rows {
                t.insert("items", r)?;
            }
            Ok(())
        })
        .unwrap();
        let txn = db.begin().unwrap();
        let mut got: Vec<Vec<Value>> = txn
            .scan("items", ScanRange::all(), table_layer::Direction::Forward)
            .unwrap()
            .map(|r| r.unwrap().values)
            .collect();
        let mut want = rows.clone();
        want.sort_by(|a, b| a[0].cmp(&b[0]));
        got.sort_by(|a, b| a[0].cmp(&b[0]));
        assert_eq!(got, want, "{}", b.name());
        // -0.0 keeps its sign in a non-key column.
        let r = txn.get("items", &["a\0b".into()]).unwrap().unwrap();
        assert!(matches!(r.values[2], Value::Real(x) if x == 0.0 && x.is_sign_negative()));
        let entries: Vec<Vec<Value>> = txn
            .index_scan(
                "all_cols",
                ScanRange::all(),
                table_layer::Direction::Forward,
            )
            .unwrap()
            .map(|e| e.unwrap().values)
            .collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0][0], Value::Real(f64::NEG_INFINITY));
        assert!(matches!(entries[2][0], Value::Real(x) if x.is_nan()));
    }
}

#[test]
fn ddl_errors_are_distinct_and_name_things() {
    for b in backends() {
        let db = open(&*b);
        db.create_table(spec()).unwrap();
        let e = db.create_table(spec()).unwrap_err();
        assert!(matches!(e, Error::TableExists { .. }) && e.to_string().contains("Items"));
        assert!(matches!(
            db.drop_table("nope"),
            Err(Error::NoSuchTable { .. })
        ));
        assert!(matches!(
            db.drop_index("nope"),
            Err(Error::NoSuchIndex { .. })
        ));
        let e = db
            .create_index(
                IndexSpec::new("i", "items").column("colour", SortOrder::Asc),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(
            matches!(e, Error::NoSuchColumn { ref column, .. } if column == "colour"),
            "{e}"
        );
        db.create_index(
            IndexSpec::new("i", "items").column("qty", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        let e = db
            .create_index(
                IndexSpec::new("I", "items").column("price", SortOrder::Asc),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(matches!(e, Error::IndexExists { .. }));
        let e = db
            .add_column("items", ColumnDef::new("QTY", DataType::Integer))
            .unwrap_err();
        assert!(matches!(e, Error::ColumnExists { .. }));
        let e = db
            .add_column("items", ColumnDef::new("x", DataType::Integer).not_null())
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidSchema { .. }) && e.to_string().contains("default"),
            "{e}"
        );
        let e = db
            .add_column(
                "items",
                ColumnDef::new("y", DataType::Integer).default_value("text"),
            )
            .unwrap_err();
        assert!(matches!(e, Error::InvalidSchema { .. }));
        let e = db.create_table(TableSpec::new("empty")).unwrap_err();
        assert!(matches!(e, Error::InvalidSchema { .. }));
        let e = db
            .create_table(
                TableSpec::new("pk")
                    .column(ColumnDef::new("a", DataType::Integer))
                    .primary_key(["b"]),
            )
            .unwrap_err();
        assert!(matches!(e, Error::NoSuchColumn { .. }));
        let e = db
            .create_table(
                TableSpec::new("dup")
                    .column(ColumnDef::new("a", DataType::Integer))
                    .column(ColumnDef::new("A", DataType::Text)),
            )
            .unwrap_err();
        assert!(matches!(e, Error::ColumnExists { .. }));
        let t = db.begin().unwrap();
        let e = t.get("items", &[Value::Integer(1)]).unwrap_err();
        assert!(
            matches!(e, Error::TypeMismatch { ref column, .. } if column == "sku"),
            "{e}"
        );
        let e = t.get("items", &[]).unwrap_err();
        assert!(matches!(e, Error::WrongArity { .. }));
        let e = t
            .scan(
                "items",
                ScanRange::prefix(vec![Value::Integer(3)]),
                table_layer::Direction::Forward,
            )
            .err()
            .unwrap();
        assert!(matches!(e, Error::TypeMismatch { .. }), "{e}");
    }
}

#[test]
fn dropping_removes_every_key() {
    for b in backends() {
        let db = open(&*b);
        db.create_table(spec()).unwrap();
        db.create_index(
            IndexSpec::new("q", "items").column("qty", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        db.run_with_retry(1, |t| {
            for i in 0..500 {
                t.insert(
                    "items",
                    &[
                        format!("sku{i}").into(),
                        Value::Integer(i),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                    ],
                )?;
            }
            Ok(())
        })
        .unwrap();
        let data_keys = |store: &Arc<dyn KvStore>| {
            let it = store
                .iter(
                    KeyRange::new(
                        std::ops::Bound::Included(vec![1]),
                        std::ops::Bound::Unbounded,
                    ),
                    Direction::Forward,
                )
                .unwrap();
            kv_api::collect_entries(it).unwrap().len()
        };
        assert_eq!(data_keys(db.store()), 1000);
        db.drop_index("q").unwrap();
        assert_eq!(data_keys(db.store()), 500, "{}", b.name());
        db.drop_table("items").unwrap();
        assert_eq!(data_keys(db.store()), 0);
        assert!(db.catalog().tables().next().is_none());
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn stores_that_are_not_ours_are_refused() {
    for b in backends() {
        b.store().put(b"someone else's key", b"v").unwrap();
        let e = Database::open(b.store()).unwrap_err();
        assert!(
            e.to_string().contains("no table-layer catalog"),
            "{}: {e}",
            b.name()
        );
    }
    for b in backends() {
        b.store().put(&[0, 1], &[7, 1, 1]).unwrap(); // meta of format version 7
        let e = Database::open(b.store()).unwrap_err();
        assert!(
            matches!(e, Error::Corrupt { .. }) && e.to_string().contains("format version 7"),
            "{e}"
        );
    }
    for b in backends() {
        b.store().put(&[0, 1], &[1, 2, 1]).unwrap();
        b.store().put(&[0, 2, 1], b"\x01garbage").unwrap();
        assert!(matches!(
            Database::open(b.store()),
            Err(Error::Corrupt { .. })
        ));
    }
}

#[test]
fn one_database_per_store() {
    for b in backends() {
        let store: Arc<dyn KvStore> = b.store();
        let db = Database::open(store.clone()).unwrap();
        assert!(Database::open(store.clone()).is_err());
        let clone = db.clone();
        drop(db);
        assert!(
            Database::open(store.clone()).is_err(),
            "a clone keeps it open"
        );
        drop(clone);
        Database::open(store).unwrap();
    }
}

#[test]
fn integrity_check_finds_damage() {
    for b in backends() {
        integrity_damage(b.store());
    }
}

fn integrity_damage(store: Arc<dyn KvStore>) {
    let db = Database::open(store.clone()).unwrap();
    db.create_table(spec()).unwrap();
    db.create_index(
        IndexSpec::new("q", "items").column("qty", SortOrder::Asc),
        &mut |_| {},
    )
    .unwrap();
    db.run_with_retry(1, |t| {
        t.insert(
            "items",
            &[
                "a".into(),
                Value::Integer(1),
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        )?;
        t.insert(
            "items",
            &[
                "b".into(),
                Value::Integer(2),
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        )
    })
    .unwrap();
    assert!(db.check_integrity(Some("items")).unwrap().is_ok());
    let entries = kv_api::collect_entries(
        store
            .iter(KeyRange::prefix(&[1, 2]), Direction::Forward)
            .unwrap(),
    )
    .unwrap();
    // Remove one entry, add a stale one, add a stray index and stray table.
    store.delete(&entries[0].0).unwrap();
    let mut stale = entries[1].0.clone();
    stale[3] = 0x2b; // qty 2 -> a different two-byte tag
    store.put(&stale, b"").unwrap();
    store.put(&[1, 2, 9, 0x29], b"").unwrap();
    store.put(&[7, 1, 0x29], b"").unwrap();
    let report = db.check_integrity(None).unwrap();
    let text = report.to_string();
    assert!(!report.is_ok());
    assert!(text.contains("row has no index entry"), "{text}");
    assert!(text.contains("unknown index #9"), "{text}");
    assert!(text.contains("does not know"), "{text}");
    assert!(report.problem_count >= 4, "{text}");
}
