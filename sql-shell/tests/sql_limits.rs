//! Statement limits: long operator chains, deep nesting and huge
//! statements give clear errors (never a stack overflow, which aborts the
//! process), statements at the limits work, and none of it depends on the
//! caller's stack: every case runs on a thread with only 256 KiB of stack.

use sql_shell::{Output, Session, SqlError, Value};

fn session() -> Session {
    let mut s = Session::open(None).unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        .unwrap();
    s.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        .unwrap();
    s
}

fn rows(s: &mut Session, sql: &str) -> Result<Vec<Vec<Value>>, SqlError> {
    match s.execute(sql)? {
        Output::Rows(r) => r.collect(),
        Output::Explain(lines) => Ok(lines.into_iter().map(|l| vec![Value::Text(l)]).collect()),
        _ => Ok(Vec::new()),
    }
}

/// Run `f` on a thread with a small stack (the SQL layer must grow its own
/// stack where it needs more).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// The error of `sql`, checking the session still answers afterwards.
fn error_of(sql: String) -> String {
    on_small_stack(move || {
        let mut s = session();
        let e = rows(&mut s, &sql).expect_err("accepted");
        assert_eq!(
            rows(&mut s, "SELECT count(*) FROM t").unwrap(),
            vec![vec![Value::Integer(2)]]
        );
        e.to_string()
    })
}

fn value_of(sql: String) -> Value {
    on_small_stack(move || {
        let mut s = session();
        let r = rows(&mut s, &sql).unwrap();
        r[0][0].clone()
    })
}

#[test]
fn long_operator_chains_are_refused_with_sqlites_message() {
    for sql in [
        format!("SELECT 1{}", " + 1".repeat(100_000)),
        format!("SELECT 'a'{}", " || 'a'".repeat(100_000)),
        format!(
            "SELECT * FROM t WHERE id = 1{}",
            " OR id = 1".repeat(50_000)
        ),
        format!(
            "SELECT * FROM t WHERE id = 1{}",
            " AND id = 1".repeat(50_000)
        ),
        format!("SELECT 1{}", " IS NULL".repeat(20_000)),
        format!("SELECT 1{}", " BETWEEN 0 AND 2".repeat(20_000)),
        format!(
            "SELECT * FROM t WHERE id IN (SELECT id FROM t WHERE 1{} > 0)",
            " + 1".repeat(20_000)
        ),
        format!("UPDATE t SET name = 'x'{}", " || 'x'".repeat(20_000)),
    ] {
        let e = error_of(sql);
        assert!(
            e.contains("expression tree is too large (maximum depth 1000)"),
            "{e}"
        );
    }
}

#[test]
fn expressions_at_the_depth_limit_work_on_a_small_stack() {
    assert_eq!(
        value_of(format!("SELECT 1{}", " + 1".repeat(1000))),
        Value::Integer(1001)
    );
    assert_eq!(
        value_of(format!(
            "SELECT count(*) FROM t WHERE id = 1{}",
            " OR id = 2".repeat(998)
        )),
        Value::Integer(2)
    );
    // EXPLAIN renders the whole tree.
    let lines = on_small_stack(|| {
        let mut s = session();
        let sql = format!("EXPLAIN SELECT * FROM t WHERE id > 0{}", " + 1".repeat(990));
        rows(&mut s, &sql).unwrap().len()
    });
    assert!(lines > 0);
}

#[test]
fn deep_nesting_is_refused_and_moderate_nesting_works() {
    for sql in [
        format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("SELECT {}1", "NOT ".repeat(10_000)),
        format!("SELECT {}1{}", "(SELECT ".repeat(5_000), ")".repeat(5_000)),
        format!(
            "SELECT {}1{}",
            "CASE WHEN 1 THEN ".repeat(10_000),
            " END".repeat(10_000)
        ),
    ] {
        let e = error_of(sql);
        // sqlparser reports its limit inside `NOT` or `CASE` as a syntax
        // error (it tries another parse after the first fails).
        assert!(
            e.contains("nested too deeply") || e.starts_with("syntax error"),
            "{e}"
        );
    }
    assert_eq!(
        value_of(format!("SELECT {}1{}", "(".repeat(250), ")".repeat(250))),
        Value::Integer(1)
    );
    assert_eq!(
        value_of(format!(
            "SELECT {}7{}",
            "(SELECT ".repeat(120),
            ")".repeat(120)
        )),
        Value::Integer(7)
    );
    assert_eq!(
        value_of(format!("SELECT {}1", "- ".repeat(250))),
        Value::Integer(1)
    );
}

#[test]
fn a_statement_over_the_size_limit_is_refused_until_the_limit_is_raised() {
    let sql = format!("SELECT 1 -- {}", "x".repeat(1_000_000));
    let e = error_of(sql.clone());
    assert!(
        e.contains("statement too long") && e.contains("1000000"),
        "{e}"
    );
    let mut s = session();
    s.settings_mut().max_statement_bytes = 2_000_000;
    assert_eq!(rows(&mut s, &sql).unwrap(), vec![vec![Value::Integer(1)]]);
}

#[test]
fn long_compound_queries_are_refused() {
    let e = error_of(format!("SELECT 1{}", " UNION SELECT 1".repeat(50_000)));
    assert!(e.contains("compound SELECT"), "{e}");
    assert_eq!(
        value_of(format!(
            "SELECT count(*) FROM (SELECT 1{})",
            " UNION ALL SELECT 1".repeat(499)
        )),
        Value::Integer(500)
    );
}

#[test]
fn nested_between_and_is_true_bind_in_linear_time() {
    // Each level used to copy its operand: 2^64 nodes.
    assert_eq!(
        value_of(format!("SELECT 1{}", " BETWEEN 0 AND 2".repeat(64))),
        Value::Integer(1)
    );
    assert_eq!(
        value_of(format!("SELECT 1{}", " IS TRUE".repeat(64))),
        Value::Integer(1)
    );
    assert_eq!(
        value_of(format!("SELECT 1{}", " IS NOT FALSE".repeat(64))),
        Value::Integer(1)
    );
    // BETWEEN keeps SQL's three-valued logic.
    assert_eq!(
        value_of("SELECT (1+0) BETWEEN NULL AND 0".into()),
        Value::Integer(0)
    );
    assert_eq!(
        value_of("SELECT (1+0) BETWEEN NULL AND 2".into()),
        Value::Null
    );
    assert_eq!(
        value_of("SELECT (1+0) NOT BETWEEN 2 AND 3".into()),
        Value::Integer(1)
    );
}

#[test]
fn aliases_built_from_aliases_cannot_explode() {
    let mut items = vec!["id AS a0".to_string()];
    for i in 1..40 {
        items.push(format!("a{} + a{} AS a{i}", i - 1, i - 1));
    }
    let e = error_of(format!("SELECT {} FROM t", items.join(", ")));
    assert!(e.contains("aliases expand"), "{e}");
}
