//! db_bench-style workloads run against every engine compiled in, in one
//! process, one engine after another, printing a Markdown table of
//! operations per second (and ratios against the first engine).
//!
//! ```text
//! cargo run --release -- [--num N] [--reads N] [--seeks N] [--sync-ops N]
//!                        [--max-secs S] [--engines a,b] [--only w1,w2] [--dir PATH]
//! ```
//!
//! Keys are 16 bytes (`%016d` of the key number), values 100 bytes of
//! incompressible random bytes. Per engine:
//!
//! | workload | what |
//! |---|---|
//! | fillseq | N puts in key order into a fresh database |
//! | fillrandom | N puts in random order into a fresh database |
//! | fillbatch | N puts in random order, in batches of 1,000, into a fresh database: the database the read workloads use |
//! | overwrite | N puts of random existing keys (on the fillbatch database) |
//! | readrandom | point reads of random existing keys |
//! | readmissing | point reads of absent keys |
//! | readseq | one full forward scan |
//! | seekrandom | seek to a random key, then 100 nexts |
//! | fillsync | puts with an fsync each, 1 writer |
//! | fillsync4 | puts with an fsync each, 4 writers (group commit) |
//!
//! Every timed loop also stops after `--max-secs` (default 30) and reports
//! the rate of what it completed, so a slow engine cannot stall the run.

mod engines;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engines::{Engine, Factory};

struct Config {
    num: u64,
    reads: u64,
    seeks: u64,
    sync_ops: u64,
    max: Duration,
    engines: Option<Vec<String>>,
    only: Option<Vec<String>>,
    dir: PathBuf,
}

impl Config {
    fn wants(&self, wl: &str) -> bool {
        self.only.as_ref().is_none_or(|l| l.iter().any(|w| w == wl))
    }
}

fn parse_args() -> Config {
    let mut c = Config {
        num: 1_000_000,
        reads: 0,
        seeks: 10_000,
        sync_ops: 10_000,
        max: Duration::from_secs(30),
        engines: None,
        only: None,
        dir: PathBuf::from("target/bench-data"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        let num = || val.replace('_', "").parse::<u64>().expect("a number");
        match args[i].as_str() {
            "--num" => c.num = num(),
            "--reads" => c.reads = num(),
            "--seeks" => c.seeks = num(),
            "--sync-ops" => c.sync_ops = num(),
            "--max-secs" => c.max = Duration::from_secs(num()),
            "--engines" => c.engines = Some(val.split(',').map(str::to_string).collect()),
            "--dir" => c.dir = PathBuf::from(&val),
            "--only" => c.only = Some(val.split(',').map(str::to_string).collect()),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    if c.reads == 0 {
        c.reads = c.num;
    }
    c
}

/// xorshift64*: deterministic, fast, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `%016d` of `i` (the low 16 digits), without allocating.
fn key(mut i: u64) -> [u8; 16] {
    let mut k = [b'0'; 16];
    for d in k.iter_mut().rev() {
        *d = b'0' + (i % 10) as u8;
        i /= 10;
    }
    k
}

/// A key that sorts among the existing ones but is never written.
fn missing_key(i: u64) -> Vec<u8> {
    let mut k = key(i).to_vec();
    k.push(b'x');
    k
}

/// A pool of random bytes; values are 100-byte windows of it.
struct Values {
    pool: Vec<u8>,
}

impl Values {
    fn new() -> Self {
        let mut r = Rng(0x0123_4567_89AB_CDEF);
        Values {
            pool: (0..(1 << 20) + 100).map(|_| r.next() as u8).collect(),
        }
    }
    fn get(&self, i: u64) -> &[u8] {
        let off = (i.wrapping_mul(2_654_435_761) % (1 << 20)) as usize;
        &self.pool[off..off + 100]
    }
}

fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut r = Rng(seed | 1);
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

struct Outcome {
    ops: u64,
    secs: f64,
    /// CPU time of the benchmark thread (not background threads), which
    /// is steadier than wall time on a shared machine.
    cpu: f64,
    note: String,
}

/// CPU time of the calling thread in seconds (Linux; 0 elsewhere).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }
}

/// Run `op(i)` for i in 0..n, stopping early at the time limit.
fn timed(n: u64, max: Duration, mut op: impl FnMut(u64)) -> Outcome {
    let t = Instant::now();
    let c0 = thread_cpu();
    let mut done = 0;
    while done < n {
        op(done);
        done += 1;
        if done % 256 == 0 && t.elapsed() > max {
            break;
        }
    }
    Outcome {
        ops: done,
        secs: t.elapsed().as_secs_f64(),
        cpu: thread_cpu() - c0,
        note: if done < n {
            format!("stopped at {done} of {n} by the time limit")
        } else {
            String::new()
        },
    }
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn fresh(base: &Path, name: &str, wl: &str) -> PathBuf {
    let d = base.join(format!("{}-{wl}", name.replace([' ', '.'], "_")));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create bench dir");
    d
}

const WORKLOADS: [&str; 10] = [
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
];

/// Per-engine state carried between workloads.
struct State {
    main: Option<Box<dyn Engine>>,
    main_dir: PathBuf,
    bytes: u64,
    stats: String,
}

fn report(name: &str, wl: &str, o: &Outcome) {
    eprintln!(
        "  {:<12} {:<12} {:>12.0} ops/s  ({} ops in {:.2}s, {:.2} us CPU/op) {}",
        name,
        wl,
        o.rate(),
        o.ops,
        o.secs,
        o.cpu * 1e6 / o.ops.max(1) as f64,
        o.note
    );
}

/// Run one workload on one engine. The read workloads use the database
/// loaded by `fillbatch` (and changed by `overwrite`).
fn run_workload(wl: &str, f: &Factory, st: &mut State, c: &Config, vals: &Values) -> Outcome {
    let n = c.num;
    let o = match wl {
        "fillseq" => {
            let d = fresh(&c.dir, f.name, "fillseq");
            let e = (f.open)(&d);
            timed(n, c.max, |i| e.put(&key(i), vals.get(i)))
        }
        "fillrandom" => {
            let d = fresh(&c.dir, f.name, "fillrandom");
            let e = (f.open)(&d);
            let order = shuffled(n, 7);
            timed(n, c.max, |i| e.put(&key(order[i as usize]), vals.get(i)))
        }
        "fillbatch" => {
            st.main_dir = fresh(&c.dir, f.name, "main");
            let e = (f.open)(&st.main_dir);
            let order = shuffled(n, 11);
            let t = Instant::now();
            let c0 = thread_cpu();
            let mut batch = Vec::with_capacity(1000);
            for (j, &i) in order.iter().enumerate() {
                batch.push((key(i).to_vec(), vals.get(j as u64).to_vec()));
                if batch.len() == 1000 {
                    e.put_batch(&batch);
                    batch.clear();
                }
            }
            if !batch.is_empty() {
                e.put_batch(&batch);
            }
            st.main = Some(e);
            Outcome {
                ops: n,
                secs: t.elapsed().as_secs_f64(),
                cpu: thread_cpu() - c0,
                note: String::new(),
            }
        }
        "overwrite" => {
            let e = st.main.as_ref().expect("fillbatch first");
            let mut r = Rng(13);
            let o = timed(n, c.max, |i| e.put(&key(r.below(n)), vals.get(i + 7)));
            e.settle();
            st.bytes = dir_bytes(&st.main_dir);
            o
        }
        "readrandom" => {
            let e = st.main.as_ref().expect("fillbatch first");
            let mut r = Rng(17);
            let mut found = 0u64;
            let mut o = timed(c.reads, c.max, |_| found += e.get(&key(r.below(n))) as u64);
            if found != o.ops {
                o.note = format!("{found} of {} found!", o.ops);
            }
            o
        }
        "readmissing" => {
            let e = st.main.as_ref().expect("fillbatch first");
            let mut r = Rng(19);
            let mut found = 0u64;
            let mut o = timed(c.reads, c.max, |_| {
                found += e.get(&missing_key(r.below(n))) as u64
            });
            if found != 0 {
                o.note = format!("{found} absent keys found!");
            }
            o
        }
        "readseq" => {
            let e = st.main.as_ref().expect("fillbatch first");
            let t = Instant::now();
            let c0 = thread_cpu();
            let count = e.read_all() as u64;
            let mut o = Outcome {
                ops: count,
                secs: t.elapsed().as_secs_f64(),
                cpu: thread_cpu() - c0,
                note: String::new(),
            };
            if count != n {
                o.note = format!("scanned {count} of {n} keys!");
            }
            o
        }
        "seekrandom" => {
            let e = st.main.as_ref().expect("fillbatch first");
            let mut r = Rng(23);
            let mut entries = 0u64;
            let o = timed(c.seeks, c.max, |_| {
                entries += e.seek_and_next(&key(r.below(n)), 100) as u64
            });
            st.stats = e.stats_line();
            st.main = None;
            let _ = std::fs::remove_dir_all(&st.main_dir);
            o
        }
        "fillsync" => {
            let d = fresh(&c.dir, f.name, "fillsync");
            let e = (f.open)(&d);
            timed(c.sync_ops, c.max, |i| e.put_sync(&key(i), vals.get(i)))
        }
        "fillsync4" => {
            let d = fresh(&c.dir, f.name, "fillsync4");
            let e: Arc<dyn Engine> = Arc::from((f.open)(&d));
            let t = Instant::now();
            let per = c.sync_ops / 4;
            let max = c.max;
            let handles: Vec<_> = (0..4u64)
                .map(|w| {
                    let e = Arc::clone(&e);
                    std::thread::spawn(move || {
                        let vals = Values::new();
                        timed(per, max, |i| e.put_sync(&key(w * per + i), vals.get(i))).ops
                    })
                })
                .collect();
            let ops = handles.into_iter().map(|h| h.join().expect("writer")).sum();
            Outcome {
                ops,
                secs: t.elapsed().as_secs_f64(),
                cpu: 0.0,
                note: String::new(),
            }
        }
        other => panic!("unknown workload {other}"),
    };
    report(f.name, wl, &o);
    o
}

fn main() {
    let c = parse_args();
    std::fs::create_dir_all(&c.dir).expect("bench dir");
    let vals = Values::new();
    let factories: Vec<Factory> = engines::all()
        .into_iter()
        .filter(|f| {
            c.engines
                .as_ref()
                .is_none_or(|l| l.iter().any(|n| f.name.starts_with(n.as_str())))
        })
        .collect();
    // Workload by workload, every engine in turn, so that engines meet the
    // same machine conditions (this machine is shared).
    let mut states: Vec<State> = factories
        .iter()
        .map(|_| State {
            main: None,
            main_dir: PathBuf::new(),
            bytes: 0,
            stats: String::new(),
        })
        .collect();
    let mut outcomes: Vec<Vec<Outcome>> = factories.iter().map(|_| Vec::new()).collect();
    for wl in WORKLOADS {
        let needed = c.wants(wl)
            || (matches!(wl, "fillbatch") && WORKLOADS[3..8].iter().any(|w| c.wants(w)));
        for (i, f) in factories.iter().enumerate() {
            let o = if needed {
                run_workload(wl, f, &mut states[i], &c, &vals)
            } else {
                Outcome {
                    ops: 0,
                    secs: 0.0,
                    cpu: 0.0,
                    note: "skipped".into(),
                }
            };
            outcomes[i].push(o);
        }
    }
    let results: Vec<(Vec<Outcome>, u64, String)> = outcomes
        .into_iter()
        .zip(states)
        .map(|(o, s)| (o, s.bytes, s.stats))
        .collect();
    println!(
        "\n{} keys of 16 bytes, 100-byte values; {} reads, {} seeks (+100 next), {} sync writes; time limit {} s per workload\n",
        c.num,
        c.reads,
        c.seeks,
        c.sync_ops,
        c.max.as_secs()
    );
    print!("| workload |");
    for f in &factories {
        print!(" {} |", f.name);
    }
    if factories.len() > 1 {
        print!(" {} / {} |", factories[0].name, factories[1].name);
    }
    println!();
    print!("|---|");
    for _ in 0..factories.len() + usize::from(factories.len() > 1) {
        print!("---:|");
    }
    println!();
    for (w, wl) in WORKLOADS.iter().enumerate() {
        print!("| {wl} |");
        for (o, _, _) in &results {
            let r = &o[w];
            let star = if r.note.is_empty() { "" } else { " *" };
            print!(" {}{star} |", fmt_num(r.rate()));
        }
        if results.len() > 1 {
            print!(
                " {:.2}x |",
                results[0].0[w].rate() / results[1].0[w].rate().max(1e-9)
            );
        }
        println!();
    }
    println!();
    println!(
        "CPU time of the benchmark thread per operation, in microseconds (steadier than wall time on a shared machine; background flush/compaction threads not included):"
    );
    println!();
    print!("| workload |");
    for f in &factories {
        print!(" {} |", f.name);
    }
    println!();
    print!("|---|");
    for _ in 0..factories.len() {
        print!("---:|");
    }
    println!();
    for (w, wl) in WORKLOADS.iter().enumerate() {
        if *wl == "fillsync4" {
            continue;
        }
        print!("| {wl} |");
        for (o, _, _) in &results {
            let r = &o[w];
            print!(" {:.2} |", r.cpu * 1e6 / r.ops.max(1) as f64);
        }
        println!();
    }
    println!();
    print!("| bytes on disk after fillbatch + overwrite |");
    for (_, b, _) in &results {
        print!(" {} |", fmt_num(*b as f64));
    }
    println!();
    println!();
    for (f, (o, _, s)) in factories.iter().zip(&results) {
        println!("- {}: {}", f.name, f.durability);
        if !s.is_empty() {
            println!("  - {s}");
        }
        for (w, r) in o.iter().enumerate() {
            if !r.note.is_empty() {
                println!("  - * {}: {}", WORKLOADS[w], r.note);
            }
        }
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
