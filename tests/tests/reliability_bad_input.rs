//! Campaign 7, bad input: every case of the catalogue
//! `tests/reliability/bad_inputs.txt` (syntax errors, unknown names, type
//! mismatches, constraint violations, huge literals, deep nesting, oversized
//! keys and values, division by zero, integer overflow, unwritable export
//! paths, ...) runs through a SQL session on the engine, and:
//!
//! - gives the error class or the SQLite-compatible result the catalogue
//!   names (an error has a non-empty message);
//! - ends within a time budget, without a panic or a stack overflow (the
//!   session runs on a thread with the 8 MiB stack of a main thread);
//! - leaves the session usable and outside any transaction;
//! - leaves the database unchanged: a checksum of the schema and every row
//!   (and of every raw key and value of the store) is the same before and
//!   after.
//!
//! The cases whose error leaves the statement undone alone also run inside
//! an explicit transaction holding an uncommitted row, which must survive
//! each of them.
//!
//! ```text
//! cargo test -p tests --test reliability_bad_input
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kv_api::{KvStore, Limits};
use sql_shell::{ErrorKind, Output, Session, SqlError, Value};
use table_layer::Database;
use tests::reliability::digest::{self, DbDigest};
use tests::reliability::knobs::report;
use tests::reliability::workload::short;

const CATALOGUE: &str = include_str!("../reliability/bad_inputs.txt");
const BUGS: &str = include_str!("../reliability/bad_inputs_bugs.txt");
const CASE_BUDGET: Duration = Duration::from_secs(20);

const FIXTURE: &[&str] = &[
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, data BLOB, flag BOOLEAN)",
    "CREATE INDEX t_score ON t (score)",
    "INSERT INTO t VALUES (1, 'one', 1.5, X'01', true), (2, 'two', NULL, NULL, false), (3, 'three', 3.25, X'0203', NULL)",
    "CREATE TABLE u (a INTEGER, b TEXT, PRIMARY KEY (a, b))",
    "INSERT INTO u VALUES (1, 'x'), (1, 'y'), (2, 'y')",
    "CREATE TABLE n (k INTEGER PRIMARY KEY, v INTEGER)",
    "INSERT INTO n VALUES (1, 9223372036854775807), (2, 1), (3, -9223372036854775808)",
];

#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Kind(ErrorKind),
    AnyError,
    Value(Value),
    Ok,
    Any,
}

#[derive(Clone, Debug)]
struct Case {
    line: usize,
    expect: Expect,
    sql: String,
}

fn parse_expect(s: &str) -> Result<Expect, String> {
    Ok(match s {
        "parse" => Expect::Kind(ErrorKind::Parse),
        "unsupported" => Expect::Kind(ErrorKind::Unsupported),
        "name" => Expect::Kind(ErrorKind::Name),
        "type" => Expect::Kind(ErrorKind::Type),
        "constraint" => Expect::Kind(ErrorKind::Constraint),
        "transaction" => Expect::Kind(ErrorKind::Transaction),
        "runtime" => Expect::Kind(ErrorKind::Runtime),
        "storage" => Expect::Kind(ErrorKind::Storage),
        "error" => Expect::AnyError,
        "ok" => Expect::Ok,
        "any" => Expect::Any,
        v if v.starts_with('=') => Expect::Value(parse_value(&v[1..])?),
        other => return Err(format!("unknown expectation {other:?}")),
    })
}

fn parse_value(v: &str) -> Result<Value, String> {
    if v == "NULL" {
        return Ok(Value::Null);
    }
    if let Some(t) = v.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Ok(Value::Text(t.replace("''", "'")));
    }
    if let Ok(i) = v.parse::<i64>() {
        return Ok(Value::Integer(i));
    }
    v.parse::<f64>()
        .map(Value::Real)
        .map_err(|_| format!("bad value {v:?}"))
}

/// Expand `{{repeat N TEXT}}`.
fn expand(sql: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find("{{repeat ") {
        out.push_str(&rest[..i]);
        let body = &rest[i + "{{repeat ".len()..];
        let end = body.find("}}").ok_or("unclosed {{repeat")?;
        let (n, text) = body[..end].split_once(' ').ok_or("{{repeat N TEXT}}")?;
        let n: usize = n.parse().map_err(|_| format!("bad count {n:?}"))?;
        out.push_str(&text.repeat(n));
        rest = &body[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn catalogue(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (e, sql) = line
            .split_once('|')
            .unwrap_or_else(|| panic!("line {}: no `|`", i + 1));
        let sql = sql.strip_prefix(' ').unwrap_or(sql);
        cases.push(Case {
            line: i + 1,
            expect: parse_expect(e.trim()).unwrap_or_else(|m| panic!("line {}: {m}", i + 1)),
            sql: expand(sql).unwrap_or_else(|m| panic!("line {}: {m}", i + 1)),
        });
    }
    cases
}

/// What a statement gave, its rows drained.
fn outcome(s: &mut Session, sql: &str) -> Result<Vec<Vec<Value>>, SqlError> {
    match s.execute(sql)? {
        Output::Rows(rows) => rows.collect(),
        _ => Ok(Vec::new()),
    }
}

/// [`outcome`], with a panic turned into a failure message.
fn guarded(s: &mut Session, sql: &str) -> Result<Result<Vec<Vec<Value>>, SqlError>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome(s, sql))).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|m| m.to_string()))
            .unwrap_or_default();
        format!("PANIC: {msg}")
    })
}

fn judge(case: &Case, got: &Result<Vec<Vec<Value>>, SqlError>) -> Result<(), String> {
    if let Err(e) = got {
        if e.to_string().trim().is_empty() {
            return Err("an error with an empty message".into());
        }
    }
    let ok = match (&case.expect, got) {
        (Expect::Any, _) => true,
        (Expect::AnyError, Err(_)) => true,
        (Expect::Kind(k), Err(e)) => e.kind() == *k,
        (Expect::Ok, Ok(_)) => true,
        (Expect::Value(v), Ok(rows)) => match rows.as_slice() {
            [r] if r.len() == 1 => match (&r[0], v) {
                (Value::Real(a), Value::Real(b)) => a == b || (a - b).abs() <= b.abs() * 1e-15,
                (a, b) => a == b,
            },
            _ => false,
        },
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {:?}, got {}",
            case.expect,
            match got {
                Ok(rows) => format!("rows {:?}", rows.iter().take(3).collect::<Vec<_>>()),
                Err(e) => format!("{:?} error: {e}", e.kind()),
            }
        ))
    }
}

fn open(dir: &Path) -> Session {
    let mut o = engine::Options::with_write_buffer(64 * 1024);
    o.limits = Limits {
        max_key_len: 1024,
        max_value_len: 64 * 1024,
        max_batch_bytes: 128 * 1024,
    };
    let store: Arc<dyn KvStore> = Arc::new(engine::Db::open(dir, o).unwrap());
    Session::new(Database::open(store).unwrap())
}

struct State {
    logical: DbDigest,
    raw: DbDigest,
}

fn state(s: &Session) -> State {
    State {
        logical: digest::logical(s.database()).unwrap(),
        raw: digest::raw(&**s.store()).unwrap(),
    }
}

fn run_catalogue(text: &str) -> Result<String, Vec<String>> {
    let mut cases = catalogue(text);
    // RELIABILITY_LINE=N runs only the case on line N (to replay one).
    if let Some(line) = std::env::var("RELIABILITY_LINE")
        .ok()
        .and_then(|l| l.parse().ok())
    {
        cases.retain(|c: &Case| c.line == line);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    for f in FIXTURE {
        outcome(&mut s, f).unwrap_or_else(|e| panic!("fixture `{f}`: {e}"));
    }
    let before = state(&s);
    // RELIABILITY_TRACE=1 names each case before it runs (to find one that
    // aborts the process).
    let trace = std::env::var_os("RELIABILITY_TRACE").is_some();
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, 0usize);
    let mut errors = 0;
    for case in &cases {
        let what = format!("line {}: `{}`", case.line, short(&case.sql));
        if trace {
            eprintln!("running {what}");
        }
        let t = Instant::now();
        let got = match guarded(&mut s, &case.sql) {
            Ok(g) => g,
            Err(p) => {
                failures.push(format!("{what}: {p}"));
                continue;
            }
        };
        let took = t.elapsed();
        slowest = slowest.max((took, case.line));
        errors += usize::from(got.is_err());
        if let Err(m) = judge(case, &got) {
            failures.push(format!("{what}: {m}"));
        }
        if took > CASE_BUDGET {
            failures.push(format!("{what}: took {took:?}"));
        }
        if s.in_transaction() {
            failures.push(format!("{what}: left a transaction open"));
            let _ = s.execute("ROLLBACK");
        }
        match outcome(&mut s, "SELECT count(*) FROM t") {
            Ok(r) if r == [vec![Value::Integer(3)]] => {}
            other => failures.push(format!("{what}: the session no longer answers: {other:?}")),
        }
        let after = state(&s);
        if after.logical != before.logical {
            failures.push(format!(
                "{what}: the database changed ({:?} -> {:?})",
                before.logical, after.logical
            ));
        } else if after.raw != before.raw {
            failures.push(format!(
                "{what}: the store's keys changed ({} -> {} pairs)",
                before.raw.rows, after.raw.rows
            ));
        }
    }
    // Inside a transaction: a failed statement is undone alone.
    let mut in_txn = 0;
    outcome(&mut s, "BEGIN").unwrap();
    outcome(&mut s, "INSERT INTO t VALUES (4, 'four', NULL, NULL, NULL)").unwrap();
    for case in &cases {
        let Expect::Kind(k) = case.expect else {
            continue;
        };
        if matches!(k, ErrorKind::Transaction | ErrorKind::Storage) {
            continue;
        }
        in_txn += 1;
        let what = format!(
            "in a transaction, line {}: `{}`",
            case.line,
            short(&case.sql)
        );
        let got = match guarded(&mut s, &case.sql) {
            Ok(g) => g,
            Err(p) => {
                failures.push(format!("{what}: {p}"));
                continue;
            }
        };
        if let Err(m) = judge(case, &got) {
            failures.push(format!("{what}: {m}"));
        }
        if !s.in_transaction() {
            failures.push(format!("{what}: the transaction was lost"));
            break;
        }
        match outcome(&mut s, "SELECT count(*) FROM t") {
            Ok(r) if r == [vec![Value::Integer(4)]] => {}
            other => failures.push(format!("{what}: the transaction's row: {other:?}")),
        }
    }
    outcome(&mut s, "ROLLBACK").unwrap();
    let after = state(&s);
    if after.logical != before.logical || after.raw != before.raw {
        failures.push("after the transaction pass: the database changed".into());
    }
    let check = s.database().check_integrity(None).unwrap();
    if !check.is_ok() {
        failures.push(format!("integrity: {check:?}"));
    }
    if failures.is_empty() {
        Ok(format!(
            "cases={} errors={errors} in_transaction={in_txn} slowest_ms={} (line {})",
            cases.len(),
            slowest.0.as_millis(),
            slowest.1
        ))
    } else {
        Err(failures)
    }
}

/// Run a catalogue on a thread with a main thread's 8 MiB of stack.
fn run_on_big_stack(label: &str, text: &'static str) {
    let r = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || run_catalogue(text))
        .unwrap()
        .join()
        .expect("the catalogue run panicked");
    match r {
        Ok(figures) => report(label, &[("result", figures)]),
        Err(f) => panic!("{} bad-input cases failed:\n{}", f.len(), f.join("\n")),
    }
}

#[test]
fn every_bad_input_gives_a_clear_answer_and_changes_nothing() {
    let n = catalogue(CATALOGUE).len();
    assert!(n >= 100, "the catalogue holds {n} cases");
    run_on_big_stack("bad_input", CATALOGUE);
}

/// The cases of `tests/reliability/bad_inputs_bugs.txt`: bad inputs that
/// break a promise (each described there; none today). While one is
/// pinned there this test is `#[ignore]`d; run one case at a time with
/// RELIABILITY_LINE=N.
#[test]
fn known_bad_inputs_that_break_a_promise() {
    run_on_big_stack("bad_input_bugs", BUGS);
}
