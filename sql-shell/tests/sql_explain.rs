//! EXPLAIN and the planner: predicates the key ranges answer exactly are
//! not checked again, others stay in the filter, and results agree.

use sql_shell::{Output, Session};

fn session() -> Session {
    let mut s = Session::open(None).unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        .unwrap();
    s.execute("CREATE INDEX t_name ON t (name)").unwrap();
    s.execute("INSERT INTO t VALUES (1, 'a', 1.0), (2, 'b', 2.0), (3, 'c', 3.0), (4, NULL, 4.0)")
        .unwrap();
    s
}

fn explain(s: &mut Session, sql: &str) -> String {
    match s.execute(&format!("EXPLAIN {sql}")).unwrap() {
        Output::Explain(lines) => lines.join("\n"),
        other => panic!("{other:?}"),
    }
}

fn count(s: &mut Session, sql: &str) -> usize {
    match s.execute(sql).unwrap() {
        Output::Rows(r) => r.collect::<Result<Vec<_>, _>>().unwrap().len(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn key_ranges_that_answer_a_predicate_exactly_drop_it_from_the_filter() {
    let mut s = session();
    for (sql, rows) in [
        ("SELECT * FROM t WHERE id BETWEEN 2 AND 3", 2),
        ("SELECT * FROM t WHERE id = 2", 1),
        ("SELECT * FROM t WHERE id IN (1, 3)", 2),
        ("SELECT * FROM t WHERE id > 1 AND id <= 3", 2),
        ("SELECT * FROM t WHERE name = 'b'", 1),
        ("SELECT * FROM t WHERE name IS NULL", 1),
    ] {
        let plan = explain(&mut s, sql);
        assert!(plan.contains("Range"), "{sql}:\n{plan}");
        assert!(!plan.contains("filter"), "{sql}:\n{plan}");
        assert_eq!(count(&mut s, sql), rows, "{sql}");
    }
}

#[test]
fn predicates_the_range_only_approximates_stay_in_the_filter() {
    let mut s = session();
    for (sql, kept, rows) in [
        // A REAL bound on an INTEGER key is widened to whole numbers.
        ("SELECT * FROM t WHERE id > 2.5", "id > 2.5", 2),
        // Text compared with an INTEGER key converts.
        ("SELECT * FROM t WHERE id = '2'", "id = '2'", 1),
        // A second bound on the same column is not part of the range.
        ("SELECT * FROM t WHERE id > 1 AND id > 2", "id > 2", 2),
        // Other columns.
        (
            "SELECT * FROM t WHERE id >= 2 AND score < 3.5",
            "score < 3.5",
            2,
        ),
    ] {
        let plan = explain(&mut s, sql);
        assert!(plan.contains(&format!("filter: {kept}")), "{sql}:\n{plan}");
        assert_eq!(count(&mut s, sql), rows, "{sql}");
    }
}

#[test]
fn the_cost_model_uses_the_tables_row_counts() {
    let mut s = Session::open(None).unwrap();
    s.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, v INTEGER)")
        .unwrap();
    s.execute("CREATE INDEX small_v ON small (v)").unwrap();
    s.execute("INSERT INTO small VALUES (1, 5)").unwrap();
    // One row: reading it is cheaper than an index lookup plus a fetch.
    let plan = explain(&mut s, "SELECT * FROM small WHERE v = 5");
    assert!(plan.contains("FullScan"), "{plan}");
    let values: Vec<String> = (2..=5000).map(|i| format!("({i}, {})", i % 100)).collect();
    s.execute(&format!("INSERT INTO small VALUES {}", values.join(",")))
        .unwrap();
    // Five thousand rows: the index wins, and the estimate says how many.
    let plan = explain(&mut s, "SELECT * FROM small WHERE v = 5");
    assert!(plan.contains("IndexRange small_v"), "{plan}");
    assert!(plan.contains("~250 rows"), "{plan}");
    assert_eq!(count(&mut s, "SELECT * FROM small WHERE v = 5"), 51);
}
