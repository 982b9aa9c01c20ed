//! Bad SQL never panics: every prefix of a set of valid statements, and
//! statements with tokens swapped, return a result or a typed error.

use sql_shell::{Output, Session};

const SETUP: &[&str] = &[
    "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL)",
    "CREATE INDEX t_a ON t (a DESC, b)",
    "INSERT INTO t VALUES (1, 2, 'x', 1.5), (2, NULL, 'y', NULL), (3, 9, NULL, -2.0)",
];

const SQL: &[&str] = &[
    "SELECT a, count(*), sum(c) FROM t WHERE a IN (1, 2, NULL) AND b LIKE 'x%' GROUP BY a HAVING count(*) > 0 ORDER BY 2 DESC LIMIT 5 OFFSET 1",
    "SELECT * FROM t AS x LEFT JOIN t AS y ON x.id = y.a WHERE x.c BETWEEN -1 AND 2.5",
    "SELECT (SELECT max(id) FROM t WHERE t.a < x.a), CAST(b AS INTEGER), coalesce(a, 0) || '!' FROM t x",
    "UPDATE t SET a = a + 1, b = upper(b) WHERE id IN (SELECT id FROM t WHERE c > 0)",
    "DELETE FROM t WHERE NOT EXISTS (SELECT 1 FROM t AS z WHERE z.id = t.id + 1)",
    "INSERT INTO t (id, a) SELECT id + 10, a * 2 FROM t WHERE a IS NOT NULL",
    "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END, abs(-a), round(c, 1), substr(b, 2) FROM t",
];

fn drain(s: &mut Session, sql: &str) {
    if let Ok(Output::Rows(rows)) = s.execute(sql) {
        for r in rows {
            if r.is_err() {
                break;
            }
        }
    }
}

#[test]
fn prefixes_and_mutations_do_not_panic() {
    let mut s = Session::open(None).unwrap();
    for q in SETUP {
        s.execute(q).unwrap();
    }
    for q in SQL {
        for end in 0..=q.len() {
            if q.is_char_boundary(end) {
                drain(&mut s, &q[..end]);
            }
        }
        let words: Vec<&str> = q.split(' ').collect();
        for i in 0..words.len() {
            for j in (i + 1)..words.len().min(i + 4) {
                let mut w = words.clone();
                w.swap(i, j);
                drain(&mut s, &w.join(" "));
            }
            let mut w = words.clone();
            w.remove(i);
            drain(&mut s, &w.join(" "));
        }
    }
    // The session still works.
    match s.execute("SELECT count(*) FROM t").unwrap() {
        Output::Rows(rows) => assert_eq!(rows.count(), 1),
        o => panic!("{o:?}"),
    }
}
