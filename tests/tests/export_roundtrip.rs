//! Export then import gives the same rows: every type, NULLs in every
//! nullable column, unicode and binary values, extreme numbers, empty
//! tables, tables larger than one row group and one batch, in every format
//! and Parquet compression, over MemStore and the LSM engine.

mod export_support;

use std::path::Path;
use std::sync::Arc;

use export_support::*;
use sql_shell::export::{
    ColumnSpec, Compression, ExportOptions, Format, ImportOptions, Progress, export_rows,
    export_table, import_file,
};
use table_layer::{DataType, Database, Value};

fn export(db: &Database, table: &str, path: &Path, opts: &ExportOptions) -> u64 {
    let txn = db.begin().unwrap();
    let s = export_table(&txn, table, path, opts, &mut Progress::none()).unwrap();
    assert_eq!(s.bytes, std::fs::metadata(path).unwrap().len());
    s.rows
}

/// Export `table` of `db` to `path`, load it into a fresh table and compare.
fn round_trip(
    db: &Database,
    want: &[Vec<Value>],
    path: &Path,
    e: &ExportOptions,
    i: &ImportOptions,
) {
    assert_eq!(export(db, "t", path, e), want.len() as u64);
    let back = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    back.create_table(spec("t")).unwrap();
    let s = import_file(&back, "t", path, None, i, &mut Progress::none()).unwrap();
    assert_eq!(s.rows, want.len() as u64);
    assert_same_rows(&scan(&back, "t"), want);
}

#[test]
fn every_format_round_trips_every_type() {
    let (db, rows) = filled("t", 3000, 1);
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, ExportOptions, ImportOptions)> = vec![
        (
            "snappy.parquet",
            ExportOptions::default(),
            ImportOptions::default(),
        ),
        (
            "zstd.parquet",
            ExportOptions {
                compression: Compression::Zstd,
                ..Default::default()
            },
            ImportOptions::default(),
        ),
        (
            "plain.parquet",
            ExportOptions {
                compression: Compression::None,
                ..Default::default()
            },
            ImportOptions::default(),
        ),
        (
            "t.arrow",
            ExportOptions::default(),
            ImportOptions::default(),
        ),
        ("t.csv", ExportOptions::default(), ImportOptions::default()),
        (
            "noheader.csv",
            ExportOptions {
                header: false,
                ..Default::default()
            },
            ImportOptions {
                header: false,
                ..Default::default()
            },
        ),
        (
            "named.data",
            ExportOptions {
                format: Some(Format::Parquet),
                ..Default::default()
            },
            ImportOptions {
                format: Some(Format::Parquet),
                ..Default::default()
            },
        ),
    ];
    for (name, e, i) in cases {
        round_trip(&db, &rows, &dir.path().join(name), &e, &i);
    }
}

#[test]
fn more_than_one_row_group_and_batch() {
    let (db, rows) = filled("t", 25_000, 2);
    let dir = tempfile::tempdir().unwrap();
    let e = ExportOptions {
        row_group_size: 4_000,
        batch_size: 1_000,
        ..Default::default()
    };
    let i = ImportOptions {
        batch_size: 777,
        ..Default::default()
    };
    for name in ["groups.parquet", "groups.arrow", "groups.csv"] {
        round_trip(&db, &rows, &dir.path().join(name), &e, &i);
    }
}

#[test]
fn empty_tables_round_trip() {
    let (db, rows) = filled("t", 0, 3);
    assert!(rows.is_empty());
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.parquet", "empty.arrow", "empty.csv"] {
        round_trip(
            &db,
            &rows,
            &dir.path().join(name),
            &ExportOptions::default(),
            &ImportOptions::default(),
        );
    }
    // A CSV export of an empty table is just the header line.
    let csv = std::fs::read_to_string(dir.path().join("empty.csv")).unwrap();
    assert_eq!(csv, "id,i,r,s,b,o,i_nn,s_nn\n");
}

#[test]
fn engine_backed_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = engine::Db::open(dir.path().join("db"), engine::Options::default()).unwrap();
    let db = Database::open(Arc::new(store)).unwrap();
    db.create_table(spec("t")).unwrap();
    let rows = fill(&db, "t", 10_000, 4);
    for name in ["e.parquet", "e.csv"] {
        round_trip(
            &db,
            &rows,
            &dir.path().join(name),
            &ExportOptions::default(),
            &ImportOptions::default(),
        );
    }
}

#[test]
fn import_by_name_in_any_column_order_fills_defaults() {
    // A file with the columns in another order and one missing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("subset.parquet");
    let cols = vec![
        ColumnSpec::new("s_nn", DataType::Text).not_null(),
        ColumnSpec::new("ID", DataType::Integer).not_null(),
        ColumnSpec::new("i_nn", DataType::Integer),
    ];
    let rows = (1..=3i64).map(|i| {
        Ok::<_, std::convert::Infallible>(vec![
            Value::Text(format!("n{i}")),
            Value::Integer(i),
            Value::Integer(i * 10),
        ])
    });
    export_rows(
        cols,
        rows,
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap();
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    db.create_table(spec("t")).unwrap();
    import_file(
        &db,
        "t",
        &path,
        None,
        &ImportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap();
    let got = scan(&db, "t");
    assert_eq!(got.len(), 3);
    assert_eq!(got[1][0], Value::Integer(2));
    assert_eq!(got[1][6], Value::Integer(20));
    assert_eq!(got[1][7], Value::Text("n2".into()));
    assert!(got[1][1..6].iter().all(Value::is_null));
}

#[test]
fn query_shaped_rows_with_inferred_types() {
    // What a query produces: untyped columns whose values follow SQLite's
    // rules (an INTEGER/REAL mix becomes REAL, booleans count as integers).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.parquet");
    let cols = vec![
        ColumnSpec::untyped("x"),
        ColumnSpec::untyped("y"),
        ColumnSpec::untyped("z"),
    ];
    let rows = vec![
        vec![Value::Integer(1), Value::Text("a".into()), Value::Null],
        vec![Value::Real(2.5), Value::Null, Value::Null],
        vec![Value::Null, Value::Text("c".into()), Value::Null],
    ];
    let s = export_rows(
        cols,
        rows.into_iter().map(Ok::<_, std::convert::Infallible>),
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap();
    assert_eq!(s.rows, 3);
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    db.create_table(
        table_layer::TableSpec::new("q")
            .column(table_layer::ColumnDef::new("x", DataType::Real))
            .column(table_layer::ColumnDef::new("y", DataType::Text))
            .column(table_layer::ColumnDef::new("z", DataType::Text)),
    )
    .unwrap();
    import_file(
        &db,
        "q",
        &path,
        None,
        &ImportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap();
    let got = scan(&db, "q");
    assert_eq!(got[0][0], Value::Real(1.0));
    assert_eq!(got[1][0], Value::Real(2.5));
    assert_eq!(got[2][1], Value::Text("c".into()));
}

#[test]
fn progress_callback_counts_rows() {
    let (db, rows) = filled("t", 20_000, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let mut cb = |n| seen.push(n);
    let txn = db.begin().unwrap();
    let mut p = Progress::none().with_callback(&mut cb);
    export_table(
        &txn,
        "t",
        &dir.path().join("p.parquet"),
        &ExportOptions::default(),
        &mut p,
    )
    .unwrap();
    drop(p);
    assert!(seen.len() >= 3, "one report per batch: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*seen.last().unwrap(), rows.len() as u64);
}
