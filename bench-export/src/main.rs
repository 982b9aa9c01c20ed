//! Export benchmark: a 1M-row table of mixed types exported to Parquet by
//! sql-shell's export library, against DuckDB's own COPY TO Parquet of the
//! same rows, in one run.
//!
//! ```text
//!   driver:  build the table on the engine (once) ──► close
//!            for each mode: run `bench-export child MODE` (a fresh process)
//!              scan      table-layer scan in a transaction, owned rows
//!              fields    snapshot scan decoded field by field (borrowed), no Arrow
//!              convert   scan + Arrow RecordBatches from owned rows (no file)
//!              memory    export_rows from rows already in memory (no scan)
//!              parquet   export_table to Parquet (snappy), in a transaction
//!              copy      SQL `COPY t TO '...parquet'` through a Session: a
//!                        snapshot scan decoded straight into Arrow builders
//!            duckdb_copy.py: the same rows in a DuckDB table, then
//!              COPY (SELECT * FROM t) TO '...parquet', 1 and 2 threads
//! ```
//!
//! Every child prints `RESULT mode rows seconds rss_before_kb peak_kb bytes
//! cpu_seconds` (seconds: best wall time of three; cpu: user+system of the
//! cheapest run, 10 ms resolution);
//! peak is the process's VmHWM (or ru_maxrss for Python), so it includes
//! opening the store. Each timed run is the best of three.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use sql_shell::export::{ColumnSpec, ExportOptions, Progress, RecordBatches, export_table};
use table_layer::{ColumnDef, DataType, Database, Direction, ScanRange, TableSpec, Value};

const RUNS: usize = 3;

fn open(dir: &Path) -> Database {
    let store = engine::Db::open(dir, engine::Options::default()).expect("open engine");
    Database::open(Arc::new(store)).expect("open table layer")
}

/// CPU time (user + system) of this process so far, in seconds, from
/// /proc/self/stat (clock ticks of 1/100 s on Linux).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Deterministic mixed rows: id, an integer, a real, a short text, a
/// boolean, and a nullable text (10% NULL), like a typical fact table.
fn build(dir: &Path, rows: i64) {
    let db = open(dir);
    db.create_table(
        TableSpec::new("t")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("qty", DataType::Integer).not_null())
            .column(ColumnDef::new("price", DataType::Real).not_null())
            .column(ColumnDef::new("name", DataType::Text).not_null())
            .column(ColumnDef::new("active", DataType::Boolean))
            .column(ColumnDef::new("note", DataType::Text))
            .primary_key(["id"]),
    )
    .expect("create");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let start = Instant::now();
    for chunk in (1..=rows).collect::<Vec<_>>().chunks(10_000) {
        db.run_with_retry(1, |txn| {
            for &id in chunk {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let note = if x % 10 == 0 {
                    Value::Null
                } else {
                    Value::Text(format!("note {} for customer {}", x % 977, x % 10_007))
                };
                txn.insert(
                    "t",
                    &[
                        Value::Integer(id),
                        Value::Integer((x % 1000) as i64),
                        Value::Real((x % 100_000) as f64 / 100.0),
                        Value::Text(format!("item-{:06}", x % 50_000)),
                        Value::Boolean(x % 3 == 0),
                        note,
                    ],
                )?;
            }
            Ok(())
        })
        .expect("insert");
    }
    db.close().expect("close");
    eprintln!(
        "built {rows} rows in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

fn child(mode: &str, dir: &Path, out: &Path) {
    let db = open(dir);
    let before = status_kb("VmRSS");
    let mut best = f64::MAX;
    let mut cpu = f64::MAX;
    let mut rows = 0u64;
    let mut bytes = 0u64;
    for run in 0..RUNS {
        let target = out.join(format!("{mode}-{run}.parquet"));
        let t0 = Instant::now();
        let c0 = cpu_secs();
        match mode {
            "scan" => {
                let txn = db.begin().expect("begin");
                rows = 0;
                for r in txn
                    .scan("t", ScanRange::all(), Direction::Forward)
                    .expect("scan")
                {
                    std::hint::black_box(r.expect("row"));
                    rows += 1;
                }
            }
            "fields" => {
                let mut scan = db
                    .snapshot_scan("t", ScanRange::all(), Direction::Forward)
                    .expect("scan");
                rows = 0;
                let mut sum = 0usize;
                while let Some(r) =
                    scan.next_fields(&mut |c: usize, f: table_layer::FieldRef<'_>| {
                        sum += c + usize::from(!f.is_null());
                    })
                {
                    r.expect("row");
                    rows += 1;
                }
                std::hint::black_box(sum);
            }
            "convert" => {
                let txn = db.begin().expect("begin");
                let def = txn.catalog().table("t").expect("table");
                let scan = txn
                    .scan("t", ScanRange::all(), Direction::Forward)
                    .expect("scan");
                let batches = RecordBatches::new(
                    ColumnSpec::from_table(&def),
                    scan.map(|r| r.map(|r| r.values)),
                );
                rows = 0;
                for b in batches {
                    rows += b.expect("batch").num_rows() as u64;
                }
            }
            "memory" => {
                // The same export from rows already in memory: no scan.
                let txn = db.begin().expect("begin");
                let def = txn.catalog().table("t").expect("table");
                let all: Vec<Vec<Value>> = txn
                    .scan("t", ScanRange::all(), Direction::Forward)
                    .expect("scan")
                    .map(|r| r.expect("row").values)
                    .collect();
                let t1 = Instant::now();
                let c1 = cpu_secs();
                let s = sql_shell::export::export_rows(
                    ColumnSpec::from_table(&def),
                    all.into_iter().map(Ok::<_, std::convert::Infallible>),
                    &target,
                    &ExportOptions::default(),
                    &mut Progress::none(),
                )
                .expect("export");
                rows = s.rows;
                bytes = s.bytes;
                best = best.min(t1.elapsed().as_secs_f64());
                cpu = cpu.min(cpu_secs() - c1);
                let _ = std::fs::remove_file(&target);
                continue;
            }
            "parquet" => {
                let txn = db.begin().expect("begin");
                let s = export_table(
                    &txn,
                    "t",
                    &target,
                    &ExportOptions::default(),
                    &mut Progress::none(),
                )
                .expect("export");
                rows = s.rows;
                bytes = s.bytes;
            }
            "copy" => {
                let mut session = sql_shell::Session::new(db.clone());
                let sql = format!("COPY t TO '{}'", target.display());
                match session.execute(&sql).expect("copy") {
                    sql_shell::Output::Message(m) => {
                        rows = m
                            .split_whitespace()
                            .nth(1)
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0);
                    }
                    other => panic!("{other:?}"),
                }
                bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
            }
            other => panic!("unknown mode {other}"),
        }
        best = best.min(t0.elapsed().as_secs_f64());
        cpu = cpu.min(cpu_secs() - c0);
        let _ = std::fs::remove_file(&target);
    }
    println!(
        "RESULT {mode} {rows} {best:.6} {before} {} {bytes} {cpu:.2}",
        status_kb("VmHWM")
    );
}

struct Result {
    mode: String,
    rows: u64,
    secs: f64,
    before_kb: u64,
    peak_kb: u64,
    bytes: u64,
    cpu: f64,
}

fn parse(stdout: &str) -> Vec<Result> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(Result {
                mode: f.first()?.to_string(),
                rows: f.get(1)?.parse().ok()?,
                secs: f.get(2)?.parse().ok()?,
                before_kb: f.get(3)?.parse().ok()?,
                peak_kb: f.get(4)?.parse().ok()?,
                bytes: f.get(5)?.parse().ok()?,
                cpu: f.get(6)?.parse().ok()?,
            })
        })
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run child");
    if !out.status.success() {
        panic!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    for l in s.lines().filter(|l| l.starts_with("INFO")) {
        println!("{l}");
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(&args[2], Path::new(&args[3]), Path::new(&args[4]));
        return;
    }
    let mut rows: i64 = 1_000_000;
    let mut keep: Option<PathBuf> = None;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--rows" => rows = args[i + 1].parse().expect("--rows N"),
            "--dir" => keep = Some(PathBuf::from(&args[i + 1])),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = keep.unwrap_or_else(|| tmp.path().to_owned());
    let db_dir = base.join("db");
    let out = base.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    if !db_dir.exists() {
        build(&db_dir, rows);
    }
    let exe = std::env::current_exe().expect("exe");
    let mut results = Vec::new();
    for mode in ["scan", "fields", "convert", "memory", "parquet", "copy"] {
        let s = run(Command::new(&exe)
            .args(["child", mode])
            .arg(&db_dir)
            .arg(&out));
        results.extend(parse(&s));
    }
    // DuckDB reads our Parquet file into its own table, then writes it.
    let source = out.join("source.parquet");
    let _ = std::fs::remove_file(&source);
    {
        let db = open(&db_dir);
        let txn = db.begin().expect("begin");
        export_table(
            &txn,
            "t",
            &source,
            &ExportOptions::default(),
            &mut Progress::none(),
        )
        .expect("source export");
    }
    let script = out.join("duckdb_copy.py");
    std::fs::write(&script, include_str!("duckdb_copy.py")).expect("script");
    for threads in ["1", "2"] {
        let s = run(Command::new("python3")
            .arg(&script)
            .arg(&source)
            .arg(&out)
            .arg(threads));
        results.extend(parse(&s));
    }

    println!();
    println!(
        "{:<20} {:>9} {:>9} {:>8} {:>12} {:>10} {:>10} {:>9}",
        "mode", "rows", "seconds", "cpu s", "rows/s", "rss0 MB", "peak MB", "file MB"
    );
    for r in &results {
        println!(
            "{:<20} {:>9} {:>9.3} {:>8.2} {:>12.0} {:>10.1} {:>10.1} {:>9.1}",
            r.mode,
            r.rows,
            r.secs,
            r.cpu,
            r.rows as f64 / r.secs,
            r.before_kb as f64 / 1024.0,
            r.peak_kb as f64 / 1024.0,
            r.bytes as f64 / 1e6
        );
    }
    let rate = |m: &str| {
        results
            .iter()
            .find(|r| r.mode == m)
            .map(|r| r.rows as f64 / r.secs)
    };
    let cpu = |m: &str| results.iter().find(|r| r.mode == m).map(|r| r.cpu);
    println!();
    for mine in ["copy", "parquet"] {
        if let (Some(ours), Some(d1), Some(d2)) = (
            rate(mine),
            rate("duckdb-threads-1"),
            rate("duckdb-threads-2"),
        ) {
            println!(
                "{mine}/duckdb rows/s: {:.2} (1 thread), {:.2} (2 threads)",
                ours / d1,
                ours / d2
            );
        }
        if let (Some(ours), Some(d1)) = (cpu(mine), cpu("duckdb-threads-1")) {
            println!(
                "{mine}/duckdb CPU per row: {:.2} (DuckDB 1 thread; lower is better)",
                ours / d1
            );
        }
    }
}
