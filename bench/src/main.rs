//! db_bench-style workloads run against every engine compiled in, printing
//! Markdown tables of operations per second, ratios against our engine,
//! bytes on disk and write amplification.
//!
//! ```text
//! cargo run --release --features quick-peers -- [--num N] [--reads N] [--seeks N]
//!     [--sync-ops N] [--max-secs S] [--engines a,b] [--only w1,w2] [--dir PATH]
//!     [--drop-caches] [--writeamp [--wa-batch B]]
//! ```
//!
//! Keys are 16 bytes (`%016d` of the key number), values 100 bytes of
//! incompressible random bytes.
//!
//! | workload | what |
//! |---|---|
//! | fillseq | N puts in key order into a fresh database |
//! | fillrandom | N puts in random order into a fresh database |
//! | fillbatch | N puts in random order, in batches of 1,000, into a fresh database: the database the later workloads use |
//! | overwrite | N puts of random existing keys |
//! | readrandom | point reads of random existing keys |
//! | readmissing | point reads of absent keys |
//! | readseq | one full forward scan |
//! | seekrandom | seek to a random key, then 100 nexts |
//! | fillsync | puts with an fsync each, 1 writer (`--sync-ops`, default N/100) |
//! | fillsync4 | puts with an fsync each, 4 writers (group commit) |
//! | readwhilewriting | 1 thread doing readrandom while 1 thread overwrites without pause; reader and writer rates |
//!
//! # How a run is organised
//!
//! ```text
//!  parent ──for each phase──for each engine──▶ child process (--child ID --phase P)
//!     │                                          opens the engine, runs the phase's
//!     │◀──── "@R workload ops secs cpu note" ─── workloads, closes it, reports its
//!     │◀──── "@X name value" (io, stats) ─────── own /proc/self/io counters
//!     └─ measures the directory, prints the tables
//! ```
//!
//! Phases: fillseq, fillrandom, fillbatch (the load), overwrite, reads
//! (readrandom, readmissing, readseq, seekrandom on the reopened database),
//! readwhilewriting, fillsync, fillsync4. Every phase runs on every engine
//! before the next phase starts, so engines meet the same machine
//! conditions (this machine is shared), and each runs in a process of its
//! own: `/proc/self/io` then counts one engine's writes only (an
//! engine-independent write amplification), and the read phase starts with
//! a cold block cache. `--drop-caches` also empties the OS page cache
//! before the read phase (needs root; skipped with a note otherwise).
//!
//! `--writeamp` instead loads N keys in random order (batches of
//! `--wa-batch`, default 100, because the seed fsyncs every write) and
//! reports bytes written by the process over user bytes.
//!
//! Every timed loop also stops after `--max-secs` (default 30) and reports
//! the rate of what it completed (marked `*`), so a slow engine cannot stall
//! the run; fillbatch always completes, as later phases read its database.

mod data;
mod engines;
mod procfs;
mod workloads;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use engines::Factory;

/// Parsed command line (shared by parent and children).
pub struct Config {
    num: u64,
    reads: u64,
    seeks: u64,
    sync_ops: u64,
    max: Duration,
    engines: Option<Vec<String>>,
    only: Option<Vec<String>>,
    dir: PathBuf,
    drop_caches: bool,
    writeamp: bool,
    wa_batch: usize,
    child: Option<(String, String)>,
    /// Arguments to pass on to children.
    raw: Vec<String>,
}

impl Config {
    fn wants(&self, wl: &str) -> bool {
        self.only.as_ref().is_none_or(|l| l.iter().any(|w| w == wl))
    }
}

fn parse_args() -> Config {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut c = Config {
        num: 1_000_000,
        reads: 0,
        seeks: 10_000,
        sync_ops: 0,
        max: Duration::from_secs(30),
        engines: None,
        only: None,
        dir: PathBuf::from("target/bench-data"),
        drop_caches: false,
        writeamp: false,
        wa_batch: 100,
        child: None,
        raw: Vec::new(),
    };
    let mut child_id = None;
    let mut phase = None;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if matches!(flag, "--drop-caches" | "--writeamp") {
            match flag {
                "--drop-caches" => c.drop_caches = true,
                _ => c.writeamp = true,
            }
            c.raw.push(args[i].clone());
            i += 1;
            continue;
        }
        let val = args.get(i + 1).cloned().unwrap_or_default();
        let num = || {
            val.replace('_', "")
                .parse::<u64>()
                .unwrap_or_else(|_| usage(&format!("{flag} wants a number, not {val:?}")))
        };
        match flag {
            "--num" => c.num = num(),
            "--reads" => c.reads = num(),
            "--seeks" => c.seeks = num(),
            "--sync-ops" => c.sync_ops = num(),
            "--max-secs" => c.max = Duration::from_secs(num()),
            "--wa-batch" => c.wa_batch = num().max(1) as usize,
            "--engines" => c.engines = Some(val.split(',').map(str::to_string).collect()),
            "--dir" => c.dir = PathBuf::from(&val),
            "--only" => c.only = Some(val.split(',').map(str::to_string).collect()),
            "--child" => child_id = Some(val.clone()),
            "--phase" => phase = Some(val.clone()),
            other => usage(&format!("unknown argument {other}")),
        }
        if !matches!(flag, "--child" | "--phase") {
            c.raw.push(args[i].clone());
            c.raw.push(val);
        }
        i += 2;
    }
    if c.reads == 0 {
        c.reads = c.num;
    }
    if c.sync_ops == 0 {
        c.sync_ops = (c.num / 100).max(100);
    }
    c.child = child_id.zip(phase);
    c
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\nsee the top of bench/src/main.rs for the flags");
    std::process::exit(2)
}

/// Result rows, in table order.
const ROWS: [&str; 12] = [
    "fillseq",
    "fillrandom",
    "fillbatch",
    "overwrite",
    "readrandom",
    "readmissing",
    "readseq",
    "seekrandom",
    "fillsync",
    "fillsync4",
    "readwhilewriting",
    "readwhilewriting.writer",
];

/// Phases (one child process each) and the rows they produce.
const PHASES: [(&str, &[&str]); 8] = [
    ("fillseq", &["fillseq"]),
    ("fillrandom", &["fillrandom"]),
    ("fillbatch", &["fillbatch"]),
    ("overwrite", &["overwrite"]),
    (
        "reads",
        &["readrandom", "readmissing", "readseq", "seekrandom"],
    ),
    (
        "readwhilewriting",
        &["readwhilewriting", "readwhilewriting.writer"],
    ),
    ("fillsync", &["fillsync"]),
    ("fillsync4", &["fillsync4"]),
];

/// One measured loop.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    ops: u64,
    secs: f64,
    /// CPU time of the benchmark thread (not background threads), which
    /// is steadier than wall time on a shared machine.
    cpu: f64,
    note: String,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }
}

/// What the parent learns about one engine.
#[derive(Default)]
struct EngineResults {
    rows: HashMap<String, Outcome>,
    extras: HashMap<String, String>,
}

fn main() {
    let c = parse_args();
    if let Some((id, phase)) = &c.child {
        workloads::child(&c, id, phase);
        return;
    }
    std::fs::create_dir_all(&c.dir).expect("create the bench directory");
    let factories: Vec<Factory> = engines::all()
        .into_iter()
        .filter(|f| {
            c.engines
                .as_ref()
                .is_none_or(|l| l.iter().any(|n| f.id == n.as_str()))
        })
        .collect();
    if factories.is_empty() {
        usage("no engine selected (compiled in: see --features)");
    }
    let mut results: Vec<EngineResults> = factories.iter().map(|_| Default::default()).collect();
    let mut loads = vec![format!("start {}", procfs::loadavg())];
    let phases: Vec<(&str, &[&str])> = if c.writeamp {
        vec![("writeamp", &["writeamp"][..])]
    } else {
        PHASES
            .iter()
            .copied()
            .filter(|(p, rows)| {
                rows.iter()
                    .any(|r| c.wants(r.split('.').next().unwrap_or(r)))
                    || (*p == "fillbatch"
                        && ["overwrite", "readrandom", "readmissing", "readseq"]
                            .iter()
                            .chain(&["seekrandom", "readwhilewriting"])
                            .any(|w| c.wants(w)))
            })
            .collect()
    };
    for (phase, _) in &phases {
        if *phase == "reads" && c.drop_caches {
            drop_page_cache();
        }
        for (f, r) in factories.iter().zip(results.iter_mut()) {
            run_child(&c, f, phase, r);
            let main = c.dir.join(format!("{}-main", f.id));
            match *phase {
                "fillbatch" => {
                    let b = procfs::dir_bytes(&main);
                    r.extras.insert("disk.load".into(), b.to_string());
                }
                "overwrite" => {
                    let b = procfs::dir_bytes(&main);
                    r.extras.insert("disk.overwrite".into(), b.to_string());
                }
                _ => {}
            }
        }
        loads.push(format!("after {phase} {}", procfs::loadavg()));
    }
    for f in &factories {
        let _ = std::fs::remove_dir_all(c.dir.join(format!("{}-main", f.id)));
    }
    if c.writeamp {
        print_writeamp(&c, &factories, &results, &loads);
    } else {
        print_tables(&c, &factories, &results, &loads);
    }
}

/// Empty the OS page cache (root only), so that the read phase starts cold.
fn drop_page_cache() {
    let _ = Command::new("sync").status();
    match std::fs::write("/proc/sys/vm/drop_caches", "3") {
        Ok(()) => eprintln!("dropped the OS page cache before the read phase"),
        Err(e) => {
            eprintln!("could not drop the page cache ({e}); reads start with a warm OS cache")
        }
    }
}

/// Run one phase of one engine in a child process and collect its lines.
fn run_child(c: &Config, f: &Factory, phase: &str, r: &mut EngineResults) {
    let exe = std::env::current_exe().expect("own executable");
    let mut child = Command::new(exe)
        .args(&c.raw)
        .args(["--child", f.id, "--phase", phase])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a child process");
    let out = child.stdout.take().expect("child stdout");
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let parts: Vec<&str> = line.split('\t').collect();
        match parts.as_slice() {
            ["@R", wl, ops, secs, cpu, note] => {
                let o = Outcome {
                    ops: ops.parse().unwrap_or(0),
                    secs: secs.parse().unwrap_or(0.0),
                    cpu: cpu.parse().unwrap_or(0.0),
                    note: note.to_string(),
                };
                r.rows.insert(wl.to_string(), o);
            }
            ["@X", name, value] => {
                r.extras.insert(name.to_string(), value.to_string());
            }
            _ => println!("{line}"),
        }
    }
    let status = child.wait().expect("wait for the child");
    if !status.success() {
        eprintln!("!! {} {phase}: child failed ({status})", f.name);
        r.extras
            .insert(format!("failed.{phase}"), status.to_string());
    }
}

fn print_header(factories: &[Factory], extra: &[String]) {
    print!("| workload |");
    for f in factories {
        print!(" {} |", f.name);
    }
    for e in extra {
        print!(" {e} |");
    }
    println!();
    print!("|---|");
    for _ in 0..factories.len() + extra.len() {
        print!("---:|");
    }
    println!();
}

fn print_tables(c: &Config, factories: &[Factory], results: &[EngineResults], loads: &[String]) {
    println!(
        "\n{} keys of 16 bytes, 100-byte values; {} reads, {} seeks (+100 next), {} sync writes; \
         time limit {} s per workload\n",
        c.num,
        c.reads,
        c.seeks,
        c.sync_ops,
        c.max.as_secs()
    );
    println!("Operations per second (`*`: stopped by the time limit, see notes):\n");
    print_header(factories, &[]);
    for row in ROWS {
        print!("| {row} |");
        for r in results {
            match r.rows.get(row) {
                Some(o) => {
                    let star = if o.note.is_empty() { "" } else { " *" };
                    print!(" {}{star} |", fmt_num(o.rate()));
                }
                None => print!(" - |"),
            }
        }
        println!();
    }
    if factories.len() > 1 {
        println!("\nOur engine's rate over each peer's (above 1: the engine is faster):\n");
        let names: Vec<&Factory> = factories[1..].iter().collect();
        print!("| workload |");
        for f in &names {
            print!(" engine / {} |", f.name);
        }
        println!();
        print!("|---|");
        for _ in &names {
            print!("---:|");
        }
        println!();
        for row in ROWS {
            let Some(ours) = results[0].rows.get(row) else {
                continue;
            };
            print!("| {row} |");
            for r in &results[1..] {
                match r.rows.get(row) {
                    Some(o) if o.ops > 0 => print!(" {:.2}x |", ours.rate() / o.rate()),
                    _ => print!(" - |"),
                }
            }
            println!();
        }
    }
    println!(
        "\nCPU time of the benchmark thread per operation, in microseconds (background \
         threads not included):\n"
    );
    print_header(factories, &[]);
    for row in ROWS {
        if row.starts_with("fillsync4") || row.starts_with("readwhilewriting") {
            continue;
        }
        print!("| {row} |");
        for r in results {
            match r.rows.get(row) {
                Some(o) => print!(" {:.2} |", o.cpu * 1e6 / o.ops.max(1) as f64),
                None => print!(" - |"),
            }
        }
        println!();
    }
    println!("\nDisk and writes:\n");
    print_header(factories, &[]);
    let user = |phase: &str, r: &EngineResults| {
        r.rows
            .get(phase)
            .map(|o| o.ops * (data::KEY_LEN + data::VALUE_LEN) as u64)
            .unwrap_or(0)
    };
    let extra_row = |label: &str, f: &dyn Fn(&EngineResults) -> String| {
        print!("| {label} |");
        for r in results {
            print!(" {} |", f(r));
        }
        println!();
    };
    let bytes = |key: &'static str| {
        move |r: &EngineResults| {
            r.extras
                .get(key)
                .and_then(|v| v.parse::<f64>().ok())
                .map_or("-".to_string(), fmt_num)
        }
    };
    extra_row("bytes on disk after fillbatch (load)", &bytes("disk.load"));
    extra_row("bytes on disk after overwrite", &bytes("disk.overwrite"));
    for phase in ["fillrandom", "fillbatch", "overwrite"] {
        extra_row(
            &format!("{phase}: process write_bytes / user bytes"),
            &|r: &EngineResults| {
                let w = r.extras.get(&format!("io.{phase}.write_bytes"));
                match (w.and_then(|w| w.parse::<f64>().ok()), user(phase, r)) {
                    (Some(w), u) if u > 0 => format!("{:.2}", w / u as f64),
                    _ => "-".into(),
                }
            },
        );
        extra_row(
            &format!("{phase}: write amplification the engine reports"),
            &|r: &EngineResults| {
                r.extras
                    .get(&format!("wa.{phase}"))
                    .cloned()
                    .unwrap_or_else(|| "n/a".into())
            },
        );
    }
    println!();
    println!(
        "User bytes = operations completed x 116 (16-byte key + 100-byte value). write_bytes is \
         /proc/self/io of the engine's own process over the whole phase (open to close): bytes \
         of page-cache pages it dirtied, i.e. what goes to the device, for every engine alike.\n"
    );
    for (f, r) in factories.iter().zip(results) {
        println!("- {}: {}", f.name, f.settings);
        let mut keys: Vec<&String> = r.extras.keys().collect();
        keys.sort();
        let mut shown: Vec<&String> = Vec::new();
        for k in keys {
            let v = &r.extras[k];
            if (k.starts_with("stats.") || k.starts_with("failed.")) && !shown.contains(&v) {
                println!("  - {k}: {v}");
                shown.push(v);
            }
        }
        for row in ROWS {
            if let Some(o) = r.rows.get(row)
                && !o.note.is_empty()
            {
                println!("  - * {row}: {}", o.note);
            }
        }
    }
    println!("\nLoad average (1, 5, 15 min): {}", loads.join("; "));
}

fn print_writeamp(c: &Config, factories: &[Factory], results: &[EngineResults], loads: &[String]) {
    println!(
        "\nWrite amplification: {} keys in random order, batches of {}, 16-byte keys and \
         100-byte values (user bytes = keys x 116)\n",
        c.num, c.wa_batch
    );
    print_header(factories, &[]);
    let row = |label: &str, f: &dyn Fn(&EngineResults) -> String| {
        print!("| {label} |");
        for r in results {
            print!(" {} |", f(r));
        }
        println!();
    };
    let get = |r: &EngineResults, k: &str| r.extras.get(k).and_then(|v| v.parse::<f64>().ok());
    let user = |r: &EngineResults| {
        r.rows.get("writeamp").map_or(0.0, |o| {
            (o.ops * (data::KEY_LEN + data::VALUE_LEN) as u64) as f64
        })
    };
    row("keys written per second", &|r: &EngineResults| {
        r.rows.get("writeamp").map_or("-".into(), |o| {
            let star = if o.note.is_empty() { "" } else { " *" };
            format!("{}{star}", fmt_num(o.rate()))
        })
    });
    row("user bytes", &|r: &EngineResults| fmt_num(user(r)));
    row("process write_bytes", &|r: &EngineResults| {
        get(r, "io.writeamp.write_bytes").map_or("-".into(), fmt_num)
    });
    row(
        "write amplification (write_bytes / user bytes)",
        &|r: &EngineResults| match get(r, "io.writeamp.write_bytes") {
            Some(w) if user(r) > 0.0 => format!("{:.2}", w / user(r)),
            _ => "-".into(),
        },
    );
    row(
        "process wchar / user bytes",
        &|r: &EngineResults| match get(r, "io.writeamp.wchar") {
            Some(w) if user(r) > 0.0 => format!("{:.2}", w / user(r)),
            _ => "-".into(),
        },
    );
    row(
        "write amplification the engine reports",
        &|r: &EngineResults| {
            r.extras
                .get("wa.writeamp")
                .cloned()
                .unwrap_or_else(|| "n/a".into())
        },
    );
    row("bytes on disk at the end", &|r: &EngineResults| {
        get(r, "disk.writeamp").map_or("-".into(), fmt_num)
    });
    println!();
    for (f, r) in factories.iter().zip(results) {
        println!("- {}: {}", f.name, f.settings);
        for (k, v) in &r.extras {
            if k.starts_with("stats.") || k.starts_with("failed.") {
                println!("  - {k}: {v}");
            }
        }
        if let Some(o) = r.rows.get("writeamp")
            && !o.note.is_empty()
        {
            println!("  - * {}", o.note);
        }
    }
    println!("\nLoad average (1, 5, 15 min): {}", loads.join("; "));
}

/// `1234567.8` as `1,234,568`.
pub fn fmt_num(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && ch != '-' && (s.len() - i) % 3 == 0 && !out.ends_with('-') {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
