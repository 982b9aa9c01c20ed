//! Integer edge cases and value-size limits: SQLite's answers where it has
//! one, a clear error otherwise, never a panic.

use sql_shell::{ErrorKind, Output, Session, SqlError, Value};

fn one(s: &mut Session, sql: &str) -> Result<Value, SqlError> {
    match s.execute(sql)? {
        Output::Rows(r) => {
            let rows: Vec<_> = r.collect::<Result<_, _>>()?;
            Ok(rows[0][0].clone())
        }
        other => panic!("{sql}: {other:?}"),
    }
}

fn session() -> Session {
    let mut s = Session::open(None).unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        .unwrap();
    s.execute("INSERT INTO t VALUES (1), (2), (3)").unwrap();
    s
}

#[test]
fn the_smallest_integer_literal_is_an_integer() {
    let mut s = session();
    let min = Value::Integer(i64::MIN);
    assert_eq!(one(&mut s, "SELECT -9223372036854775808").unwrap(), min);
    assert_eq!(one(&mut s, "SELECT - 9223372036854775808").unwrap(), min);
    assert_eq!(
        one(&mut s, "SELECT typeof(-9223372036854775808)").unwrap(),
        Value::Text("integer".into())
    );
    assert_eq!(
        one(&mut s, "SELECT -9223372036854775808 % -1").unwrap(),
        Value::Integer(0)
    );
    assert_eq!(
        one(&mut s, "SELECT -9223372036854775809").unwrap(),
        Value::Real(-9223372036854775809.0)
    );
    let e = one(&mut s, "SELECT abs(-9223372036854775808)").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Runtime, "{e}");
    assert!(e.to_string().contains("integer overflow"), "{e}");
    // Division overflow becomes REAL, as in SQLite.
    assert_eq!(
        one(&mut s, "SELECT -9223372036854775808 / -1").unwrap(),
        Value::Real(9223372036854775808.0)
    );
}

#[test]
fn substr_with_extreme_arguments_follows_sqlite() {
    let mut s = session();
    let text = |v: &str| Value::Text(v.into());
    for (sql, want) in [
        (
            "SELECT substr('abc', -9223372036854775808, -9223372036854775808)",
            "",
        ),
        ("SELECT substr('abc', 2, -9223372036854775808)", "a"),
        (
            "SELECT substr('abc', 9223372036854775807, 9223372036854775807)",
            "",
        ),
        (
            "SELECT substr('abc', -9223372036854775808, 9223372036854775807)",
            "ab",
        ),
        ("SELECT substr('abc', 0, 9223372036854775807)", "abc"),
        ("SELECT substr('abc', -1, -9223372036854775808)", "ab"),
        ("SELECT substr('hello', -3)", "llo"),
    ] {
        assert_eq!(one(&mut s, sql).unwrap(), text(want), "{sql}");
    }
}

#[test]
fn limit_and_offset_must_be_integers() {
    let mut s = session();
    for sql in [
        "SELECT * FROM t LIMIT 'x'",
        "SELECT * FROM t LIMIT 1 OFFSET 'a'",
        "SELECT * FROM t LIMIT NULL",
        "SELECT * FROM t LIMIT 1.5",
        "SELECT * FROM t LIMIT x'01'",
    ] {
        let e = match s.execute(sql) {
            Ok(Output::Rows(r)) => r.collect::<Result<Vec<_>, _>>().unwrap_err(),
            Ok(other) => panic!("{sql}: {other:?}"),
            Err(e) => e,
        };
        assert_eq!(e.kind(), ErrorKind::Type, "{sql}: {e}");
        assert!(e.to_string().contains("datatype mismatch"), "{e}");
    }
    for (sql, n) in [
        ("SELECT count(*) FROM (SELECT * FROM t LIMIT '2')", 2),
        ("SELECT count(*) FROM (SELECT * FROM t LIMIT 2.0)", 2),
        (
            "SELECT count(*) FROM (SELECT * FROM t LIMIT -1 OFFSET ' 1 ')",
            2,
        ),
        (
            "SELECT count(*) FROM (SELECT * FROM t LIMIT 5 OFFSET -9223372036854775808)",
            3,
        ),
    ] {
        assert_eq!(one(&mut s, sql).unwrap(), Value::Integer(n), "{sql}");
    }
}

#[test]
fn values_cannot_grow_past_the_size_limit() {
    let mut s = session();
    let a = "a".repeat(1000);
    // 1000^3 bytes: refused before it is built.
    let sql = format!(
        "SELECT length(replace(replace(replace('{a}', 'a', '{a}'), 'a', '{a}'), 'a', '{a}'))"
    );
    let e = one(&mut s, &sql).unwrap_err();
    assert!(e.to_string().contains("string or blob too big"), "{e}");
    // Below the limit it works.
    let sql = format!("SELECT length(replace(replace('{a}', 'a', '{a}'), 'a', 'bb'))");
    assert_eq!(one(&mut s, &sql).unwrap(), Value::Integer(2_000_000));
    // group_concat over a cross join that would pass the limit.
    s.execute("CREATE TABLE big (v TEXT)").unwrap();
    let row = "x".repeat(900_000);
    for _ in 0..7 {
        s.execute(&format!("INSERT INTO big VALUES ('{row}')"))
            .unwrap();
    }
    let e = one(
        &mut s,
        "SELECT length(group_concat(a.v || b.v || c.v)) FROM big a, big b, big c",
    )
    .unwrap_err();
    assert!(e.to_string().contains("string or blob too big"), "{e}");
}

#[test]
fn store_limits_are_reported_as_limits_not_storage_failures() {
    let limits = kv_api::Limits {
        max_key_len: 256,
        max_value_len: 1024,
        max_batch_bytes: 8 * 1024,
    };
    let store = std::sync::Arc::new(kv_api::MemStore::with_limits(limits));
    let mut s = Session::new(table_layer::Database::open(store).unwrap());
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    for (sql, what) in [
        (
            format!("INSERT INTO t VALUES (1, '{}')", "x".repeat(2000)),
            "value",
        ),
        (
            format!(
                "INSERT INTO t VALUES {}",
                (0..100)
                    .map(|i| format!("({i}, '{}')", "y".repeat(500)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "batch",
        ),
    ] {
        let e = s.execute(&sql).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Runtime, "{what}: {e}");
    }
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t").unwrap(),
        Value::Integer(0)
    );
}

#[test]
fn a_statement_that_ends_too_early_points_past_its_end() {
    let mut s = session();
    for (sql, line, column) in [("SELECT 1 +", 1, 11), ("SELECT (1,\n  2", 2, 4)] {
        let e = s.execute(sql).unwrap_err();
        let p = e.position().expect("a position");
        assert_eq!((p.line, p.column), (line, column), "{sql}: {e}");
    }
}
