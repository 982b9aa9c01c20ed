//! The Session API a shell builds on: interrupting a running statement
//! (its writes undone), the progress hook, `close()`, the transaction
//! accessor, messages without positions, and CREATE INDEX outside a
//! transaction building in batches.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sql_shell::{ErrorKind, Output, Session, SqlError, Value};

fn count(s: &mut Session, table: &str) -> i64 {
    match s.execute(&format!("SELECT count(*) FROM {table}")).unwrap() {
        Output::Rows(r) => match r.collect::<Result<Vec<_>, _>>().unwrap()[0][0] {
            Value::Integer(n) => n,
            ref v => panic!("{v:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn filled(rows: i64) -> Session {
    let mut s = Session::open(None).unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    let values: Vec<String> = (0..rows).map(|i| format!("({i}, 'v{i}')")).collect();
    s.execute(&format!("INSERT INTO t VALUES {}", values.join(",")))
        .unwrap();
    s
}

#[test]
fn an_interrupted_statement_is_undone() {
    let mut s = filled(5000);
    let flag = s.interrupt_flag();
    // The hook raises the flag as Ctrl-C would, part-way through.
    let raise = Arc::clone(&flag);
    s.set_progress_handler(
        1000,
        Box::new(move |_| {
            raise.store(true, Ordering::Relaxed);
            true
        }),
    );
    for sql in [
        "DELETE FROM t",
        "UPDATE t SET v = 'x'",
        "INSERT INTO t SELECT id + 10000, v FROM t",
    ] {
        let e = s.execute(sql).unwrap_err();
        assert_eq!(e, SqlError::Interrupted, "{sql}");
        assert_eq!(e.kind(), ErrorKind::Interrupted);
        assert_eq!(e.to_string(), "interrupted");
    }
    // A query stops too; the flag set between statements is cleared.
    let Output::Rows(rows) = s.execute("SELECT * FROM t ORDER BY v").unwrap() else {
        panic!()
    };
    assert_eq!(
        rows.collect::<Result<Vec<_>, _>>(),
        Err(SqlError::Interrupted)
    );
    s.set_progress_handler(0, Box::new(|_| true));
    assert_eq!(count(&mut s, "t"), 5000);
    assert_eq!(count(&mut s, "t WHERE v = 'x'"), 0);
    // Inside a transaction only the statement is undone.
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO t VALUES (-1, 'kept')").unwrap();
    let raise = Arc::clone(&flag);
    s.set_progress_handler(
        100,
        Box::new(move |_| {
            raise.store(true, Ordering::Relaxed);
            true
        }),
    );
    assert_eq!(
        s.execute("DELETE FROM t").unwrap_err(),
        SqlError::Interrupted
    );
    s.set_progress_handler(0, Box::new(|_| true));
    assert!(s.in_transaction());
    s.execute("COMMIT").unwrap();
    assert!(!s.in_transaction());
    assert_eq!(count(&mut s, "t"), 5001);
}

#[test]
fn the_progress_hook_sees_rows_and_can_stop_a_cross_join() {
    let mut s = filled(300);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    s.set_progress_handler(
        10_000,
        Box::new(move |n| {
            log.lock().unwrap().push(n);
            n < 50_000
        }),
    );
    // 27 million rows; the held right sides are counted, not only scans.
    let e = match s.execute("SELECT count(*) FROM t a, t b, t c").unwrap() {
        Output::Rows(r) => r.collect::<Result<Vec<_>, _>>().unwrap_err(),
        other => panic!("{other:?}"),
    };
    assert_eq!(e, SqlError::Interrupted);
    assert_eq!(
        *seen.lock().unwrap(),
        [10_000, 20_000, 30_000, 40_000, 50_000]
    );
}

#[test]
fn messages_come_without_the_position_when_asked() {
    let mut s = filled(1);
    let e = s.execute("SELECT nosuch FROM t").unwrap_err();
    assert_eq!(e.message(), "no such column: nosuch");
    assert_eq!(e.to_string(), "no such column: nosuch at line 1, column 8");
}

#[test]
fn close_flushes_and_releases_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::open(Some(dir.path())).unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        .unwrap();
    s.execute("INSERT INTO t VALUES (1), (2)").unwrap();
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO t VALUES (3)").unwrap();
    s.close().unwrap();
    // The lock is released: the same directory opens again at once.
    let mut s = Session::open(Some(dir.path())).unwrap();
    assert_eq!(count(&mut s, "t"), 2);
}

#[test]
fn create_index_outside_a_transaction_builds_in_batches() {
    // A store whose transactions hold at most 64 KiB: building the index
    // in one transaction (as inside BEGIN) is too large, the streaming
    // build is not.
    let limits = kv_api::Limits {
        max_key_len: 1024,
        max_value_len: 16 * 1024,
        max_batch_bytes: 64 * 1024,
    };
    let store = Arc::new(kv_api::MemStore::with_limits(limits));
    let mut s = Session::new(table_layer::Database::open(store).unwrap());
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    for chunk in 0..100 {
        let values: Vec<String> = (0..20)
            .map(|i| format!("({}, '{}')", chunk * 20 + i, "v".repeat(40)))
            .collect();
        s.execute(&format!("INSERT INTO t VALUES {}", values.join(",")))
            .unwrap();
    }
    s.execute("BEGIN").unwrap();
    let e = s.execute("CREATE INDEX t_v ON t (v, id)").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Runtime, "{e}");
    s.execute("ROLLBACK").ok();
    s.execute("CREATE INDEX t_v ON t (v, id)").unwrap();
    assert!(s.database().check_integrity(None).unwrap().is_ok());
    let plan = match s.execute("EXPLAIN SELECT id FROM t WHERE v = 'x'").unwrap() {
        Output::Explain(l) => l.join("\n"),
        other => panic!("{other:?}"),
    };
    assert!(plan.contains("IndexRange t_v"), "{plan}");
    assert!(s.execute("CREATE INDEX t_v ON t (v)").is_err());
    s.execute("CREATE INDEX IF NOT EXISTS t_v ON t (v)")
        .unwrap();
}
