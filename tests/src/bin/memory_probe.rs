//! `memory_probe`: the child process of the resource-bounds campaign
//! (`tests/tests/reliability_resources.rs`), so that each measurement is the
//! resident memory of a process doing one thing.
//!
//! ```text
//!   memory_probe DIR load ROWS PAD_BYTES   create table `big` and fill it
//!   memory_probe DIR query SQL             run one statement, drain its rows
//! ```
//!
//! Both open the engine with small memory settings: a 1 MiB block cache, a
//! 1 MiB write buffer (2 frozen memtables at most), 64 open tables. `query`
//! prints one line:
//!
//! ```text
//!   start_kb=<VmRSS before opening> open_kb=<VmRSS after> peak_kb=<VmHWM> rows=<n> err=<message or ->
//! ```
//!
//! VmHWM is the process's peak resident set, read from `/proc/self/status`
//! (Linux).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use kv_api::KvStore;
use sql_shell::{Output, Session};
use table_layer::Database;

/// Block cache bytes used by the probe.
const CACHE: usize = 1 << 20;
/// Write buffer bytes used by the probe.
const WRITE_BUFFER: usize = 1 << 20;

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn open(dir: &PathBuf) -> Result<Session, String> {
    let mut o = engine::Options::with_write_buffer(WRITE_BUFFER);
    o.block_cache_bytes = CACHE;
    o.max_immutable_memtables = 2;
    o.max_open_tables = 64;
    // Each open table keeps its index and bloom filter in memory outside
    // the block cache (about 2% of the table), so the memory of open tables
    // is max_open_tables x target_file_size x 2%: 2 MiB tables keep that
    // under 3 MiB (with the default 32 MiB tables it reached 20 MiB at 1 GB
    // of data).
    o.target_file_size = 2 << 20;
    o.max_bytes_for_level_base = 16 << 20;
    let store: Arc<dyn KvStore> =
        Arc::new(engine::Db::open(dir, o).map_err(|e| format!("open: {e}"))?);
    Ok(Session::new(
        Database::open(store).map_err(|e| format!("open: {e}"))?,
    ))
}

fn load(dir: &PathBuf, rows: u64, pad: usize) -> Result<(), String> {
    let mut s = open(dir)?;
    let e = |e: sql_shell::SqlError| e.to_string();
    s.execute(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, k2 INTEGER NOT NULL, pad TEXT NOT NULL)",
    )
    .map_err(e)?;
    s.execute("CREATE INDEX big_grp ON big (grp)").map_err(e)?;
    let per = 200;
    let mut id = 0u64;
    while id < rows {
        let mut sql = String::from("INSERT INTO big VALUES ");
        for j in 0..per.min(rows - id) {
            let i = id + j;
            if j > 0 {
                sql.push_str(", ");
            }
            let k2 = (i.wrapping_mul(2_654_435_761)) % 1_000_003;
            let c = char::from(b'a' + (i % 26) as u8);
            sql.push_str(&format!("({i}, {}, {k2}, '", i % 100));
            sql.extend(std::iter::repeat_n(c, pad));
            sql.push_str("')");
        }
        s.execute(&sql).map_err(e)?;
        id += per.min(rows - id);
    }
    s.database().close().map_err(|e| e.to_string())?;
    println!("loaded rows={rows} pad={pad}");
    Ok(())
}

fn query(dir: &PathBuf, sql: &str) -> Result<(), String> {
    let start = status_kb("VmRSS:");
    let mut s = open(dir)?;
    let opened = status_kb("VmRSS:");
    let mut rows = 0u64;
    let err = match s.execute(sql) {
        Ok(Output::Rows(mut r)) => loop {
            match r.next_row() {
                Ok(Some(_)) => rows += 1,
                Ok(None) => break "-".to_string(),
                Err(e) => break e.to_string(),
            }
        },
        Ok(Output::Affected { count, .. }) => {
            rows = count;
            "-".into()
        }
        Ok(_) => "-".into(),
        Err(e) => e.to_string(),
    };
    let peak = status_kb("VmHWM:");
    println!(
        "start_kb={start} open_kb={opened} peak_kb={peak} rows={rows} err={}",
        err.replace('\n', " ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.as_slice() {
        [dir, cmd, rows, pad] if cmd == "load" => match (rows.parse(), pad.parse()) {
            (Ok(r), Ok(p)) => load(&PathBuf::from(dir), r, p),
            _ => Err("ROWS and PAD_BYTES must be numbers".into()),
        },
        [dir, cmd, sql] if cmd == "query" => query(&PathBuf::from(dir), sql),
        _ => Err("usage: memory_probe DIR load ROWS PAD_BYTES | memory_probe DIR query SQL".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("memory_probe: {m}");
            ExitCode::FAILURE
        }
    }
}
