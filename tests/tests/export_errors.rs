//! Exports and imports that must fail fail cleanly: damaged or truncated
//! files give errors naming the file (never a panic), bad values name their
//! row, column and value with nothing loaded, an existing file is kept
//! unless OVERWRITE is asked, and a failed export leaves no file behind.

mod export_support;

use std::path::Path;
use std::sync::Arc;

use export_support::*;
use sql_shell::export::{
    ColumnSpec, ExportError, ExportOptions, ImportOptions, Progress, export_rows, export_table,
    import_file, open_import,
};
use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};

fn empty_db() -> Database {
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    db.create_table(spec("t")).unwrap();
    db
}

fn import(db: &Database, path: &Path, opts: &ImportOptions) -> Result<u64, ExportError> {
    import_file(db, "t", path, None, opts, &mut Progress::none()).map(|s| s.rows)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Read a possibly damaged file completely; the result must be an error
/// naming the file or (when the damage hit only data bytes) some rows.
fn read_all(path: &Path) -> Result<usize, String> {
    let db = empty_db();
    let def = db.catalog().table("t").unwrap();
    let rows =
        open_import(&def, path, None, &ImportOptions::default()).map_err(|e| e.to_string())?;
    let mut n = 0;
    for r in rows {
        r.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn truncated_and_damaged_files_are_errors_not_panics() {
    let (db, rows) = filled("t", 2000, 11);
    let dir = tempfile::tempdir().unwrap();
    for name in ["good.parquet", "good.arrow", "good.csv"] {
        let path = dir.path().join(name);
        let txn = db.begin().unwrap();
        export_table(
            &txn,
            "t",
            &path,
            &ExportOptions::default(),
            &mut Progress::none(),
        )
        .unwrap();
        assert_eq!(read_all(&path).unwrap(), rows.len());
        let bytes = std::fs::read(&path).unwrap();
        let bad = dir.path().join(format!("bad-{name}"));
        // Truncations at many lengths, including inside the footer.
        let mut cuts: Vec<usize> = (0..40).map(|k| bytes.len() * k / 40).collect();
        cuts.extend((1..64).map(|k| bytes.len().saturating_sub(k)));
        for cut in cuts {
            std::fs::write(&bad, &bytes[..cut]).unwrap();
            match read_all(&bad) {
                Err(msg) => assert!(
                    msg.contains("bad-") || msg.contains("row") || msg.contains("line"),
                    "{name} cut at {cut}: error does not say where: {msg}"
                ),
                // A CSV cut at a line end is a shorter valid file (or the
                // whole file, when only the last line break is cut).
                Ok(n) => assert!(
                    name.ends_with(".csv") && n <= rows.len(),
                    "{name} cut at {cut} of {} read as complete",
                    bytes.len()
                ),
            }
        }
        // Flipped bytes: any outcome but a panic (Parquet and Arrow data
        // pages carry no checksum, so some flips yield other values).
        let mut rng = Rng::new(name.len() as u64);
        for _ in 0..300 {
            let mut damaged = bytes.clone();
            let at = rng.below(damaged.len() as u64) as usize;
            damaged[at] ^= 1 << rng.below(8);
            std::fs::write(&bad, &damaged).unwrap();
            let _ = read_all(&bad);
        }
    }
    // Not a file of the format at all.
    for name in ["junk.parquet", "junk.arrow"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"this is not a columnar file at all").unwrap();
        let msg = read_all(&path).unwrap_err();
        assert!(msg.contains(name), "{msg}");
        std::fs::write(&path, b"").unwrap();
        assert!(read_all(&path).unwrap_err().contains(name));
    }
    let missing = dir.path().join("missing.parquet");
    let msg = read_all(&missing).unwrap_err();
    assert!(
        msg.contains("missing.parquet") && msg.contains("opening"),
        "{msg}"
    );
}

#[test]
fn bad_value_names_row_column_and_value_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    let mut text = String::from("id,i_nn,s_nn,r\n");
    for i in 1..=100 {
        text.push_str(&format!("{i},{i},x,{i}.5\n"));
    }
    text.push_str("101,101,x,twelve\n");
    std::fs::write(&path, &text).unwrap();
    let db = empty_db();
    let e = import(&db, &path, &ImportOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("row 101")
            && msg.contains("column r")
            && msg.contains("'twelve'")
            && msg.contains("line 102"),
        "{msg}"
    );
    assert_eq!(e.row(), Some(101));
    assert!(
        scan(&db, "t").is_empty(),
        "nothing of a failed load is committed"
    );
}

#[test]
fn null_in_not_null_column_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.csv");
    std::fs::write(&path, "id,i_nn,s_nn\n1,1,a\n2,,b\n").unwrap();
    let db = empty_db();
    let msg = import(&db, &path, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("row 2, column i_nn") && msg.contains("NOT NULL"),
        "{msg}"
    );
}

#[test]
fn constraint_violation_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.csv");
    std::fs::write(&path, "id,i_nn,s_nn\n1,1,a\n2,2,b\n1,3,c\n").unwrap();
    let db = empty_db();
    let e = import(&db, &path, &ImportOptions::default()).unwrap_err();
    assert_eq!(e.row(), Some(3), "{e}");
    assert!(scan(&db, "t").is_empty());
}

#[test]
fn batch_commits_keep_earlier_batches_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batches.csv");
    let mut text = String::from("id,i_nn,s_nn\n");
    for i in 1..=25 {
        text.push_str(&format!("{i},{i},s\n"));
    }
    text.push_str("26,oops,s\n");
    std::fs::write(&path, &text).unwrap();
    let db = empty_db();
    let opts = ImportOptions {
        commit_every: Some(10),
        ..Default::default()
    };
    let e = import(&db, &path, &opts).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("row 26") && msg.contains("20 rows were committed"),
        "{msg}"
    );
    assert_eq!(scan(&db, "t").len(), 20);

    // Without the bad row: everything, in three commits.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, text.lines().take(26).collect::<Vec<_>>().join("\n")).unwrap();
    let db = empty_db();
    let s = import_file(&db, "t", &good, None, &opts, &mut Progress::none()).unwrap();
    assert_eq!((s.rows, s.commits), (25, 3));
}

#[test]
fn file_columns_that_do_not_fit_are_refused_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.parquet");
    let cols = vec![
        ColumnSpec::new("id", DataType::Integer),
        ColumnSpec::new("i_nn", DataType::Text),
        ColumnSpec::new("s_nn", DataType::Text),
    ];
    let rows = std::iter::once(Ok::<_, std::convert::Infallible>(vec![
        Value::Integer(1),
        Value::Text("x".into()),
        Value::Text("y".into()),
    ]));
    export_rows(
        cols,
        rows,
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap();
    let msg = import(&empty_db(), &path, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("i_nn") && msg.contains("Utf8") && msg.contains("INTEGER"),
        "{msg}"
    );

    let extra = dir.path().join("extra.csv");
    std::fs::write(&extra, "id,i_nn,s_nn,colour\n1,1,a,red\n").unwrap();
    let msg = import(&empty_db(), &extra, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("colour"), "{msg}");

    let short = dir.path().join("short.csv");
    std::fs::write(&short, "1,1\n").unwrap();
    let opts = ImportOptions {
        header: false,
        ..Default::default()
    };
    let msg = import(&empty_db(), &short, &opts).unwrap_err().to_string();
    assert!(
        msg.contains("short.csv") && msg.contains("line 1") && msg.contains("2 fields"),
        "{msg}"
    );
}

#[test]
fn existing_targets_are_kept_unless_overwrite() {
    let (db, _) = filled("t", 10, 12);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.parquet");
    std::fs::write(&path, b"precious").unwrap();
    let txn = db.begin().unwrap();
    let e = export_table(
        &txn,
        "t",
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::Exists { .. }));
    assert!(e.to_string().contains("out.parquet"));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    let opts = ExportOptions {
        overwrite: true,
        ..Default::default()
    };
    export_table(&txn, "t", &path, &opts, &mut Progress::none()).unwrap();
    assert_eq!(read_all(&path).unwrap(), 12);
    assert_eq!(files_in(dir.path()), ["out.parquet"]);
}

#[test]
fn failed_export_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("half.parquet");
    // Fails on row 20,000, after two batches went to the writer.
    let rows = (0..30_000i64).map(|i| {
        if i == 19_999 {
            Ok::<_, std::convert::Infallible>(vec![Value::Text("not a number".into())])
        } else {
            Ok(vec![Value::Integer(i)])
        }
    });
    let e = export_rows(
        vec![ColumnSpec::new("n", DataType::Integer)],
        rows,
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("row 20000, column n"), "{e}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );

    // A query that fails half-way: the source error, with its row.
    let rows = (0..10i64).map(|i| {
        if i == 5 {
            Err("division by zero")
        } else {
            Ok(vec![Value::Integer(i)])
        }
    });
    let e = export_rows(
        vec![ColumnSpec::new("n", DataType::Integer)],
        rows,
        &path,
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("row 6") && e.to_string().contains("division by zero"),
        "{e}"
    );
    assert!(files_in(dir.path()).is_empty());

    // A directory that does not exist: named.
    let e = export_rows(
        vec![ColumnSpec::new("n", DataType::Integer)],
        std::iter::empty::<Result<Vec<Value>, std::convert::Infallible>>(),
        &dir.path().join("nowhere/x.csv"),
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("nowhere/x.csv"), "{e}");
}

#[test]
fn unknown_format_and_options_are_explained() {
    let (db, _) = filled("t", 1, 13);
    let dir = tempfile::tempdir().unwrap();
    let txn = db.begin().unwrap();
    let e = export_table(
        &txn,
        "t",
        &dir.path().join("t.xlsx"),
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("t.xlsx") && e.to_string().contains("FORMAT"),
        "{e}"
    );
    let e = export_table(
        &txn,
        "nope",
        &dir.path().join("t.csv"),
        &ExportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn malformed_csv_is_reported_with_its_line() {
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    db.create_table(TableSpec::new("c").column(ColumnDef::new("s", DataType::Text)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("s\nok\n\"never closed\nmore\n", "line 3"),
        ("s\n\"a\"b\n", "line 2"),
        ("s\nab\"c\n", "line 2"),
    ];
    for (i, (text, line)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("m{i}.csv"));
        std::fs::write(&path, text).unwrap();
        let msg = import_file(
            &db,
            "c",
            &path,
            None,
            &ImportOptions::default(),
            &mut Progress::none(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains(&format!("m{i}.csv")) && msg.contains(line),
            "{text:?}: {msg}"
        );
    }
    let path = dir.path().join("bytes.csv");
    std::fs::write(&path, b"s\n\xff\xfe\n").unwrap();
    let msg = import_file(
        &db,
        "c",
        &path,
        None,
        &ImportOptions::default(),
        &mut Progress::none(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("row 1, column s") && msg.contains("UTF-8"),
        "{msg}"
    );
}

#[test]
fn cancelled_work_leaves_nothing() {
    use std::sync::atomic::AtomicBool;
    let (db, _) = filled("t", 30_000, 14);
    let dir = tempfile::tempdir().unwrap();
    let flag = AtomicBool::new(true);
    let txn = db.begin().unwrap();
    let path = dir.path().join("c.parquet");
    let e = export_table(
        &txn,
        "t",
        &path,
        &ExportOptions::default(),
        &mut Progress::none().with_cancel(&flag),
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::Interrupted { rows: 8192 }), "{e}");
    assert!(files_in(dir.path()).is_empty());

    // A load: nothing committed in one transaction...
    let flag_off = AtomicBool::new(false);
    export_table(
        &txn,
        "t",
        &path,
        &ExportOptions::default(),
        &mut Progress::none().with_cancel(&flag_off),
    )
    .unwrap();
    let back = empty_db();
    let e = import_file(
        &back,
        "t",
        &path,
        None,
        &ImportOptions::default(),
        &mut Progress::none().with_cancel(&flag),
    )
    .unwrap_err();
    assert!(e.to_string().contains("interrupted"), "{e}");
    assert!(scan(&back, "t").is_empty());
    // ...the first batch in batch mode.
    let opts = ImportOptions {
        commit_every: Some(10_000),
        ..Default::default()
    };
    let e = import_file(
        &back,
        "t",
        &path,
        None,
        &opts,
        &mut Progress::none().with_cancel(&flag),
    )
    .unwrap_err();
    assert!(e.to_string().contains("10000 rows were committed"), "{e}");
    assert_eq!(scan(&back, "t").len(), 10_000);
}
