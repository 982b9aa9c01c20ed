//! `COPY` through the SQL session: tables and queries to Parquet, Arrow
//! and CSV with options, loads back with COPY FROM, the result line, and
//! the errors a user meets (existing file, unknown format or option,
//! COPY FROM inside a transaction, a bad row).

use std::path::Path;

use sql_shell::{ErrorKind, Output, Session, Value};

fn run(s: &mut Session, sql: &str) -> String {
    match s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")) {
        Output::Message(m) => m,
        Output::Affected { verb, count } => format!("{verb} {count}"),
        other => format!("{other:?}"),
    }
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    match s.execute(sql).unwrap() {
        Output::Rows(r) => r.collect::<Result<_, _>>().unwrap(),
        other => panic!("{other:?}"),
    }
}

fn q(p: &Path) -> String {
    p.display().to_string().replace('\'', "''")
}

fn setup() -> Session {
    let mut s = Session::open(None).unwrap();
    run(
        &mut s,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT NOT NULL, b BLOB, o BOOLEAN)",
    );
    run(
        &mut s,
        "INSERT INTO t VALUES \
         (1, 10, 1.5, 'one', x'00ff', TRUE), \
         (2, NULL, NULL, '', NULL, NULL), \
         (3, -7, -0.25, 'ünï, \"quoted\"\nline', x'', FALSE), \
         (4, 9223372036854775807, 1e300, '日本', x'deadbeef', TRUE)",
    );
    s
}

#[test]
fn copy_table_out_and_back_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    let want = rows(&mut s, "SELECT * FROM t ORDER BY id");
    for (name, opts) in [
        ("t.parquet", ""),
        ("z.parquet", " (COMPRESSION zstd, ROW_GROUP_SIZE 2)"),
        ("n.parquet", " WITH (FORMAT 'parquet', COMPRESSION 'none')"),
        ("t.arrow", ""),
        ("t.csv", " (HEADER true)"),
        ("t.data", " (FORMAT csv)"),
    ] {
        let path = dir.path().join(name);
        let msg = run(&mut s, &format!("COPY t TO '{}'{opts}", q(&path)));
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            msg.starts_with(&format!("COPY 4 rows to {}", path.display())) && msg.contains(" in "),
            "{msg}"
        );
        assert!(size > 0);
        run(&mut s, "DROP TABLE IF EXISTS u");
        run(
            &mut s,
            "CREATE TABLE u (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT NOT NULL, b BLOB, o BOOLEAN)",
        );
        let fmt = if name.ends_with(".data") {
            " (FORMAT csv)"
        } else {
            ""
        };
        let msg = run(&mut s, &format!("COPY u FROM '{}'{fmt}", q(&path)));
        assert!(msg.starts_with("COPY 4 rows from"), "{msg}");
        assert_eq!(rows(&mut s, "SELECT * FROM u ORDER BY id"), want, "{name}");
    }
}

#[test]
fn copy_query_result_with_computed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    let path = dir.path().join("q.csv");
    run(
        &mut s,
        &format!(
            "COPY (SELECT id, i * 2 AS twice, s || '!' AS bang, r FROM t WHERE id <> 2 ORDER BY id DESC) \
             TO '{}' (HEADER)",
            q(&path)
        ),
    );
    // i * 2 overflows for id 4, which SQLite's rules turn into a REAL:
    // the untyped column mixes INTEGER and REAL and is exported as REAL.
    assert_eq!(
        rows(&mut s, "SELECT i * 2 FROM t WHERE id = 4")[0][0],
        Value::Real(1.8446744073709552e19)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "id,twice,bang,r\n\
         4,1.8446744073709552e19,日本!,1e300\n\
         3,-14.0,\"ünï, \"\"quoted\"\"\nline!\",-0.25\n\
         1,20.0,one!,1.5\n"
    );
}

#[test]
fn existing_files_need_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    let path = dir.path().join("t.parquet");
    run(&mut s, &format!("COPY t TO '{}'", q(&path)));
    let e = s.execute(&format!("COPY t TO '{}'", q(&path))).unwrap_err();
    assert!(
        e.to_string().contains("already exists") && e.to_string().contains("OVERWRITE"),
        "{e}"
    );
    run(&mut s, &format!("COPY t TO '{}' (OVERWRITE)", q(&path)));
    run(
        &mut s,
        &format!("COPY t TO '{}' (OVERWRITE true)", q(&path)),
    );
}

#[test]
fn copy_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    let p = |n: &str| q(&dir.path().join(n));
    let e = s
        .execute(&format!("COPY t TO '{}'", p("t.xlsx")))
        .unwrap_err();
    assert!(e.to_string().contains("FORMAT"), "{e}");
    let e = s
        .execute(&format!("COPY nope TO '{}'", p("x.csv")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Name, "{e}");
    let e = s
        .execute(&format!("COPY t TO '{}' (COLOUR red)", p("x.csv")))
        .unwrap_err();
    assert!(
        e.to_string().contains("COLOUR") || e.to_string().contains("colour"),
        "{e}"
    );
    let e = s.execute("COPY t TO STDOUT").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let e = s
        .execute(&format!(
            "COPY (SELECT 1, 'x' UNION ALL SELECT 'y', 2) TO '{}'",
            p("mix.parquet")
        ))
        .unwrap_err();
    assert!(e.to_string().contains("mixes"), "{e}");
    assert!(!dir.path().join("mix.parquet").exists());

    // COPY FROM inside a transaction is refused, the transaction goes on.
    run(&mut s, &format!("COPY t TO '{}'", p("t.csv")));
    run(&mut s, "BEGIN");
    let e = s
        .execute(&format!("COPY t FROM '{}'", p("t.csv")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transaction, "{e}");
    run(&mut s, "COMMIT");

    // A bad row: named, and nothing of the load committed.
    std::fs::write(dir.path().join("bad.csv"), "id,s\n10,ok\n11,\n").unwrap();
    let e = s
        .execute(&format!("COPY t FROM '{}'", p("bad.csv")))
        .unwrap_err();
    assert!(e.to_string().contains("row 2, column s"), "{e}");
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t")[0][0],
        Value::Integer(4)
    );

    // Duplicate key: a constraint error with the row.
    std::fs::write(dir.path().join("dup.csv"), "id,s\n10,ok\n1,dup\n").unwrap();
    let e = s
        .execute(&format!("COPY t FROM '{}'", p("dup.csv")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Constraint, "{e}");
    assert!(e.to_string().contains("row 2"), "{e}");
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t")[0][0],
        Value::Integer(4)
    );

    // Named target columns, batches.
    std::fs::write(dir.path().join("cols.csv"), "20,a\n21,b\n22,c\n").unwrap();
    let msg = run(
        &mut s,
        &format!(
            "COPY t (id, s) FROM '{}' (HEADER false, COMMIT_EVERY 2)",
            p("cols.csv")
        ),
    );
    assert!(msg.starts_with("COPY 3 rows"), "{msg}");
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t")[0][0],
        Value::Integer(7)
    );
}

#[test]
fn copy_to_inside_a_transaction_sees_its_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    run(&mut s, "BEGIN");
    run(&mut s, "INSERT INTO t (id, s) VALUES (99, 'uncommitted')");
    let path = dir.path().join("tx.csv");
    let msg = run(&mut s, &format!("COPY t (id, s) TO '{}'", q(&path)));
    assert!(msg.starts_with("COPY 5 rows"), "{msg}");
    run(&mut s, "ROLLBACK");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("99,uncommitted")
    );
}

#[test]
fn copy_some_columns_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup();
    let path = dir.path().join("sub.csv");
    let msg = run(&mut s, &format!("COPY t (o, ID) TO '{}'", q(&path)));
    assert!(msg.starts_with("COPY 4 rows"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "o,id\ntrue,1\n,2\nfalse,3\ntrue,4\n"
    );
    let e = s
        .execute(&format!(
            "COPY t (nope) TO '{}'",
            q(&dir.path().join("x.csv"))
        ))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Name, "{e}");
}
