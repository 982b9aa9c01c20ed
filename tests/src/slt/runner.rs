//! Running sqllogictest records against a [`Session`].
//!
//! Values are rendered as SQLite's reference runner (`slt_sqlite.c`) does:
//! by the column's type letter, not the value's type: `I` as `%d` of the
//! integer value, `R` as `%.3f` (with SQLite's 16 significant digits), `T`
//! as text with the empty string shown as `(empty)` and bytes outside
//! printable ASCII as `@`; NULL is `NULL` whatever the letter.
//!
//! A query that fails at run time is compared with the rows it produced
//! before the error, as the reference runner does (the corpus relies on it:
//! `SELECT sum(x)` overflowing expects no rows). A statement or query whose
//! error is [`ErrorKind::Unsupported`] counts as unsupported, not failed.

use std::collections::HashMap;

use md5::{Digest, Md5};
use sql_shell::{ErrorKind, Output, Session, Value, split_statements};

use super::parser::{Expected, Kind, Record, SortMode, parse};

/// The label this runner answers to in `skipif`/`onlyif`.
pub const LABEL: &str = "sqlite";

/// Outcome of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ran and matched.
    Passed,
    /// Ran and did not match, with why.
    Failed(String),
    /// Uses a feature the engine does not support, with which.
    Unsupported(String),
    /// Conditioned out (`onlyif mysql`, ...).
    Skipped,
}

/// Totals of one file (or several).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Records that passed.
    pub passed: usize,
    /// Records that failed.
    pub failed: usize,
    /// Records using unsupported features.
    pub unsupported: usize,
    /// Records for other engines.
    pub skipped: usize,
    /// The first failures and unsupported records: (line, message).
    pub problems: Vec<(usize, String)>,
}

impl Report {
    /// Add another report's counts.
    pub fn add(&mut self, o: &Report) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.unsupported += o.unsupported;
        self.skipped += o.skipped;
    }

    /// Records that ran (passed, failed or unsupported).
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.unsupported
    }
}

/// Render a value for a column of type letter `ty`.
pub fn render(v: &Value, ty: char) -> String {
    if v.is_null() {
        return "NULL".into();
    }
    match ty {
        'I' => sql_shell::to_i64(v).to_string(),
        'R' => sql_shell::real_fixed(sql_shell::to_f64(v), 3),
        _ => {
            let s = sql_shell::to_text(v);
            if s.is_empty() {
                "(empty)".into()
            } else {
                s.bytes()
                    .map(|b| {
                        if (b' '..=b'~').contains(&b) {
                            b as char
                        } else {
                            '@'
                        }
                    })
                    .collect()
            }
        }
    }
}

/// MD5 of values, each followed by a newline, in lower-case hex.
pub fn hash_values(values: &[String]) -> String {
    let mut h = Md5::new();
    for v in values {
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the records of one file in a fresh in-memory session.
pub struct Runner {
    session: Session,
    /// The current `hash-threshold` (8 unless the file sets one).
    pub hash_threshold: usize,
    labels: HashMap<String, String>,
    /// Keep at most this many problem messages.
    pub max_problems: usize,
}

fn is_unsupported(e: &sql_shell::SqlError) -> bool {
    e.kind() == ErrorKind::Unsupported
}

impl Runner {
    /// A runner over a new in-memory database.
    pub fn new() -> Result<Runner, sql_shell::SqlError> {
        Ok(Runner::with_session(Session::open(None)?))
    }

    /// A runner over an open session (for example on the engine).
    pub fn with_session(session: Session) -> Runner {
        Runner {
            session,
            hash_threshold: 8,
            labels: HashMap::new(),
            max_problems: 20,
        }
    }

    /// Run a whole file's text.
    pub fn run_text(&mut self, text: &str) -> Report {
        let mut report = Report::default();
        for rec in parse(text) {
            if rec.kind == Kind::Halt && rec.applies(&[LABEL]) {
                break;
            }
            let outcome = self.run_record(&rec);
            match outcome {
                Outcome::Passed => report.passed += 1,
                Outcome::Skipped => report.skipped += 1,
                Outcome::Failed(m) => {
                    report.failed += 1;
                    if report.problems.len() < self.max_problems {
                        report.problems.push((rec.line, format!("FAILED: {m}")));
                    }
                }
                Outcome::Unsupported(m) => {
                    report.unsupported += 1;
                    if report.problems.len() < self.max_problems {
                        report
                            .problems
                            .push((rec.line, format!("UNSUPPORTED: {m}")));
                    }
                }
            }
        }
        report
    }

    /// Run one record.
    pub fn run_record(&mut self, rec: &Record) -> Outcome {
        if !rec.applies(&[LABEL]) {
            return Outcome::Skipped;
        }
        match &rec.kind {
            // The expected output already says whether it is hashed; the
            // threshold is kept for reporting only.
            Kind::HashThreshold(n) => {
                self.hash_threshold = *n;
                Outcome::Passed
            }
            Kind::Halt => Outcome::Passed,
            Kind::Unsupported(what) => Outcome::Unsupported(what.clone()),
            Kind::Statement {
                sql,
                expect_error,
                error_contains,
            } => self.statement(sql, *expect_error, error_contains.as_deref()),
            Kind::Query {
                sql,
                types,
                sort,
                label,
                expected,
            } => self.query(sql, types, *sort, label.as_deref(), expected),
        }
    }

    fn statement(
        &mut self,
        sql: &str,
        expect_error: bool,
        error_contains: Option<&str>,
    ) -> Outcome {
        let mut error = None;
        for stmt in split_statements(sql) {
            let r = match self.session.execute(stmt.text) {
                Ok(Output::Rows(rows)) => {
                    let mut r = Ok(());
                    for row in rows {
                        if let Err(e) = row {
                            r = Err(e);
                            break;
                        }
                    }
                    r
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                error = Some(e);
                break;
            }
        }
        match (error, expect_error) {
            (Some(e), true) => match error_contains {
                Some(want) if !e.to_string().contains(want) => Outcome::Failed(format!(
                    "error message {:?} does not contain {want:?}: {sql}",
                    e.to_string()
                )),
                _ => Outcome::Passed,
            },
            (None, false) => Outcome::Passed,
            (None, true) => {
                Outcome::Failed(format!("statement succeeded, an error was expected: {sql}"))
            }
            (Some(e), false) if is_unsupported(&e) => Outcome::Unsupported(format!("{e}: {sql}")),
            (Some(e), false) => Outcome::Failed(format!("statement failed: {e}: {sql}")),
        }
    }

    fn query(
        &mut self,
        sql: &str,
        types: &str,
        sort: SortMode,
        label: Option<&str>,
        expected: &Expected,
    ) -> Outcome {
        let type_chars: Vec<char> = types.chars().collect();
        let mut rows: Vec<Vec<String>> = Vec::new();
        match self.session.execute(sql) {
            Err(e) if is_unsupported(&e) => return Outcome::Unsupported(format!("{e}: {sql}")),
            Err(e) => return Outcome::Failed(format!("query failed: {e}: {sql}")),
            Ok(Output::Rows(result)) => {
                for row in result {
                    match row {
                        Ok(r) => rows.push(
                            r.iter()
                                .enumerate()
                                .map(|(i, v)| render(v, type_chars.get(i).copied().unwrap_or('T')))
                                .collect(),
                        ),
                        // As the reference runner: compare the rows so far.
                        Err(_) => break,
                    }
                }
            }
            // EXPLAIN: one text row per line.
            Ok(Output::Explain(lines)) => rows.extend(lines.into_iter().map(|l| vec![l])),
            Ok(other) => {
                return Outcome::Failed(format!("query returned {other:?}, not rows: {sql}"));
            }
        }
        if let Some(first) = rows.first() {
            if !type_chars.is_empty() && first.len() != type_chars.len() {
                return Outcome::Failed(format!(
                    "query returned {} columns, expected {}: {sql}",
                    first.len(),
                    type_chars.len()
                ));
            }
        }
        let mut values: Vec<String> = match sort {
            SortMode::NoSort => rows.iter().flatten().cloned().collect(),
            SortMode::RowSort => {
                let mut r = rows.clone();
                r.sort();
                r.into_iter().flatten().collect()
            }
            SortMode::ValueSort => {
                let mut v: Vec<String> = rows.iter().flatten().cloned().collect();
                v.sort();
                v
            }
        };
        let hash = hash_values(&values);
        if let Some(l) = label {
            if let Some(prev) = self.labels.get(l) {
                if *prev != hash {
                    return Outcome::Failed(format!(
                        "result differs from the earlier query labelled {l}: {sql}"
                    ));
                }
            } else {
                self.labels.insert(l.to_string(), hash.clone());
            }
        }
        let ok = match expected {
            Expected::Hash { count, hash: h } => *count == values.len() && *h == hash,
            Expected::Lines(lines) => {
                if *lines == values {
                    true
                } else if lines.len() == rows.len() {
                    // Row per line (sqllogictest-rs / DuckDB layout).
                    let mut got: Vec<Vec<String>> = rows.clone();
                    let mut want: Vec<Vec<String>> = lines
                        .iter()
                        .map(|l| {
                            if l.contains('\t') {
                                l.split('\t').map(str::to_string).collect()
                            } else {
                                l.split_whitespace().map(str::to_string).collect()
                            }
                        })
                        .collect();
                    if sort != SortMode::NoSort {
                        got.sort();
                        want.sort();
                    }
                    got == want
                } else {
                    false
                }
            }
        };
        if ok {
            Outcome::Passed
        } else {
            values.truncate(12);
            Outcome::Failed(format!(
                "wrong result for: {sql}\n    expected: {}\n    got {} values: {}",
                match expected {
                    Expected::Hash { count, hash } => format!("{count} values hashing to {hash}"),
                    Expected::Lines(l) =>
                        l.iter().take(12).cloned().collect::<Vec<_>>().join(" | "),
                },
                rows.iter().map(Vec::len).sum::<usize>(),
                values.join(" | ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_follows_the_reference_runner() {
        assert_eq!(render(&Value::Real(2.5), 'I'), "2");
        assert_eq!(render(&Value::Text("12abc".into()), 'I'), "12");
        assert_eq!(render(&Value::Integer(3), 'R'), "3.000");
        assert_eq!(render(&Value::Text(String::new()), 'T'), "(empty)");
        assert_eq!(render(&Value::Text("a\tb".into()), 'T'), "a@b");
        assert_eq!(render(&Value::Null, 'I'), "NULL");
        assert_eq!(hash_values(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn a_small_file_passes() {
        let mut r = Runner::new().unwrap();
        let rep = r.run_text(
            "statement ok\nCREATE TABLE t(a INTEGER, b TEXT)\n\nstatement ok\nINSERT INTO t VALUES(1,'x'),(2,NULL)\n\n\
             query IT rowsort\nSELECT a, b FROM t\n----\n1\nx\n2\nNULL\n\nstatement error\nSELECT nope FROM t\n\n\
             onlyif mysql\nquery I\nSELECT 1 DIV 2\n----\n0\n",
        );
        assert_eq!(
            (rep.passed, rep.failed, rep.skipped),
            (4, 0, 1),
            "{:?}",
            rep.problems
        );
    }
}
