//! Independent readers agree with us: a table with every type and NULLs in
//! every nullable column is exported with `COPY` to Parquet, Arrow IPC and
//! CSV, and `tests/python/check_export.py` reads the files with pyarrow,
//! DuckDB and Python's csv module, comparing schema, types, nullability,
//! every value, NULL positions, row counts and aggregates computed by
//! DuckDB with our own SQL query results.
//!
//! Needs `python3` with `pyarrow` and `duckdb` (`.ci/run` installs them;
//! locally: `python3 -m pip install pyarrow duckdb`). Without them this
//! test fails and says how to install them: a check that silently skips
//! would be no check.

mod export_support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use export_support::*;
use sql_shell::{Output, Session};
use table_layer::Value;

/// Our SQL aggregate and DuckDB's spelling of the same.
const AGGREGATES: &[(&str, &str, &str)] = &[
    ("rows", "count(*)", "count(*)"),
    ("count_i", "count(i)", "count(i)"),
    ("count_r", "count(r)", "count(r)"),
    ("count_s", "count(s)", "count(s)"),
    ("count_b", "count(b)", "count(b)"),
    ("count_o", "count(o)", "count(o)"),
    ("sum_id", "sum(id)", "sum(id)"),
    ("max_i_nn", "max(i_nn)", "max(i_nn)"),
    ("min_i", "min(i)", "min(i)"),
    ("max_i", "max(i)", "max(i)"),
    ("min_s_nn", "min(s_nn)", "min(s_nn)"),
    ("max_s_nn", "max(s_nn)", "max(s_nn)"),
    ("true_count", "sum(o)", "sum(o::INTEGER)"),
    ("blob_bytes", "sum(length(b))", "sum(octet_length(b))"),
];

fn query(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    match s.execute(sql).unwrap() {
        Output::Rows(rows) => rows.collect::<Result<_, _>>().unwrap(),
        other => panic!("{sql}: {other:?}"),
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value as tagged JSON: reals and blobs as hex (exact), the rest plain.
fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Real(r) => {
            out.push('"');
            for b in r.to_le_bytes() {
                let _ = write!(out, "{b:02x}");
            }
            out.push('"');
        }
        Value::Text(s) => json_string(out, s),
        Value::Blob(b) => {
            out.push('"');
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
            out.push('"');
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn run_checker(spec: &Path) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/check_export.py");
    let advice = "this test needs python3 with pyarrow and duckdb: run \
                  `python3 -m pip install pyarrow duckdb` (.ci/run does this before the tests)";
    let out = Command::new("python3")
        .arg(&script)
        .arg(spec)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {advice}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) && stderr.contains("MISSING-MODULE") {
        panic!("{}; {advice}", stderr.trim());
    }
    out
}

#[test]
fn pyarrow_and_duckdb_read_what_we_wrote() {
    let (db, inserted) = filled("t", 3000, 21);
    let mut session = Session::new(db.clone());

    // Our own query results: the rows and the aggregates.
    let ours = query(&mut session, "SELECT * FROM t ORDER BY id");
    assert_same_rows(&ours, &inserted);
    let sql = format!(
        "SELECT {} FROM t",
        AGGREGATES
            .iter()
            .map(|a| a.1)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let agg = query(&mut session, &sql).remove(0);

    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("t.parquet");
    let arrow = dir.path().join("t.arrow");
    let csv = dir.path().join("t.csv");
    // Exported through the SQL path, as a user would.
    for p in [&parquet, &arrow, &csv] {
        let sql = format!("COPY t TO '{}' (ROW_GROUP_SIZE 1000)", p.display());
        match session.execute(&sql).unwrap() {
            Output::Message(m) => assert!(m.starts_with("COPY 3002 rows"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    let def = db.catalog().table("t").unwrap();
    let mut j = String::from("{");
    for (key, p) in [("parquet", &parquet), ("arrow", &arrow), ("csv", &csv)] {
        let _ = write!(j, "\"{key}\": ");
        json_string(&mut j, &p.to_string_lossy());
        j.push_str(", ");
    }
    j.push_str("\"min_row_groups\": 3, \"columns\": [");
    for (i, c) in def.columns().iter().enumerate() {
        if i > 0 {
            j.push_str(", ");
        }
        let _ = write!(
            j,
            "{{\"name\": \"{}\", \"type\": \"{}\", \"nullable\": {}}}",
            c.name, c.data_type, c.nullable
        );
    }
    j.push_str("], \"rows\": [");
    for (n, row) in ours.iter().enumerate() {
        if n > 0 {
            j.push_str(",\n");
        }
        j.push('[');
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                j.push_str(", ");
            }
            json_value(&mut j, v);
        }
        j.push(']');
    }
    j.push_str("], \"aggregates\": {");
    for (i, ((name, _, duck), v)) in AGGREGATES.iter().zip(&agg).enumerate() {
        if i > 0 {
            j.push_str(", ");
        }
        let _ = write!(j, "\"{name}\": {{\"duckdb\": \"{duck}\", \"value\": ");
        json_value(&mut j, v);
        j.push('}');
    }
    j.push_str("}}");
    let spec = dir.path().join("expected.json");
    std::fs::write(&spec, j).unwrap();

    let out = run_checker(&spec);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the independent readers disagree:\n{stdout}"
    );
    assert!(stdout.contains("all readers agree"));
}
