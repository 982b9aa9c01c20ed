//! Two sessions on one database: a write-write conflict is reported as
//! retryable, the losing transaction is rolled back, and data survives a
//! reopen on the engine.

use sql_shell::{Output, Session, SqlError, Value};
use table_layer::Database;

fn count(s: &mut Session, sql: &str) -> i64 {
    match s.execute(sql).expect("query") {
        Output::Rows(rows) => {
            let rows: Vec<_> = rows.collect::<Result<_, SqlError>>().expect("rows");
            match rows[0][0] {
                Value::Integer(n) => n,
                ref v => panic!("{v:?}"),
            }
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn conflicting_transactions() {
    let db = Database::open(std::sync::Arc::new(kv_api::MemStore::new())).expect("open");
    let mut a = Session::new(db.clone());
    let mut b = Session::new(db);
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        .unwrap();
    a.execute("INSERT INTO t VALUES (1, 0)").unwrap();
    a.execute("BEGIN").unwrap();
    b.execute("BEGIN").unwrap();
    a.execute("UPDATE t SET v = v + 1 WHERE id = 1").unwrap();
    b.execute("UPDATE t SET v = v + 10 WHERE id = 1").unwrap();
    a.execute("COMMIT").unwrap();
    let err = b.execute("COMMIT").unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!b.in_transaction());
    assert_eq!(count(&mut b, "SELECT v FROM t"), 1);
}

#[test]
fn data_survives_reopen_on_the_engine() {
    let dir = std::env::temp_dir().join(format!("sql-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut s = Session::open(Some(&dir)).unwrap();
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        s.execute("CREATE INDEX t_v ON t (v)").unwrap();
        s.execute("BEGIN").unwrap();
        for i in 0..2000 {
            s.execute(&format!("INSERT INTO t VALUES ({i}, 'v{}')", i % 10))
                .unwrap();
        }
        s.execute("COMMIT").unwrap();
        s.store().close().unwrap();
    }
    let mut s = Session::open(Some(&dir)).unwrap();
    assert_eq!(count(&mut s, "SELECT count(*) FROM t"), 2000);
    assert_eq!(count(&mut s, "SELECT count(*) FROM t WHERE v = 'v3'"), 200);
    match s
        .execute("EXPLAIN SELECT id FROM t WHERE v = 'v3'")
        .unwrap()
    {
        Output::Explain(lines) => assert!(
            lines.iter().any(|l| l.contains("IndexRange t_v")),
            "{lines:?}"
        ),
        o => panic!("{o:?}"),
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
