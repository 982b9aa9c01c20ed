//! The child side: one engine, one phase. Opens the engine on its
//! directory, runs the phase's workloads, closes it, and reports on stdout
//! (`@R` lines for measured loops, `@X` lines for counters) what the parent
//! turns into tables. Progress goes to stderr.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::data::{KEY_LEN, Rng, Values, key, missing_key, shuffled};
use crate::engines::{self, Engine, Factory};
use crate::procfs::{Io, dir_bytes, thread_cpu};
use crate::{Config, Outcome};

/// Run `op(i)` for i in 0..n, stopping early at the time limit.
fn timed(n: u64, max: Duration, op: impl FnMut(u64)) -> Outcome {
    timed_every(n, max, 256, op)
}

/// [`timed`] checking the clock every `stride` operations (1 for slow
/// operations, so that the limit holds; 256 where a clock read would show).
fn timed_every(n: u64, max: Duration, stride: u64, mut op: impl FnMut(u64)) -> Outcome {
    let t = Instant::now();
    let c0 = thread_cpu();
    let mut done = 0;
    while done < n {
        op(done);
        done += 1;
        if done % stride == 0 && t.elapsed() > max {
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

/// Load `order` in batches of `size` (no time limit: later phases need all
/// of it).
fn load_batches(e: &dyn Engine, order: &[u64], size: usize, vals: &Values) -> Outcome {
    let t = Instant::now();
    let c0 = thread_cpu();
    let keys: Vec<[u8; KEY_LEN]> = order.iter().map(|&i| key(i)).collect();
    for (chunk_no, chunk) in keys.chunks(size).enumerate() {
        let base = (chunk_no * size) as u64;
        let batch: Vec<(&[u8], &[u8])> = chunk
            .iter()
            .enumerate()
            .map(|(j, k)| (&k[..], vals.get(base + j as u64)))
            .collect();
        e.put_batch(&batch);
    }
    Outcome {
        ops: order.len() as u64,
        secs: t.elapsed().as_secs_f64(),
        cpu: thread_cpu() - c0,
        note: String::new(),
    }
}

fn report(f: &Factory, wl: &str, o: &Outcome) {
    eprintln!(
        "  {:<22} {:<24} {:>12.0} ops/s  ({} ops in {:.2}s, {:.2} us CPU/op) {}",
        f.name,
        wl,
        o.rate(),
        o.ops,
        o.secs,
        o.cpu * 1e6 / o.ops.max(1) as f64,
        o.note
    );
    println!(
        "@R\t{wl}\t{}\t{}\t{}\t{}",
        o.ops,
        o.secs,
        o.cpu,
        o.note.replace(['\t', '\n'], " ")
    );
}

fn extra(name: &str, value: impl std::fmt::Display) {
    println!(
        "@X\t{name}\t{}",
        value.to_string().replace(['\t', '\n'], " ")
    );
}

fn fresh(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the engine's directory");
    dir.to_path_buf()
}

/// Run `phase` of engine `id`.
pub fn child(c: &Config, id: &str, phase: &str) {
    let Some(f) = engines::all().into_iter().find(|f| f.id == id) else {
        eprintln!("engine {id} is not compiled in");
        std::process::exit(2)
    };
    let vals = Values::new();
    let n = c.num;
    let main = c.dir.join(format!("{id}-main"));
    let own = c.dir.join(format!("{id}-{phase}"));
    let io0 = Io::now();
    let dir = match phase {
        "fillseq" | "fillrandom" | "fillsync" | "fillsync4" | "writeamp" => fresh(&own),
        "fillbatch" => fresh(&main),
        _ => main.clone(),
    };
    let e: Arc<dyn Engine> = Arc::from((f.open)(&dir));
    let wants = |w: &str| c.only.as_ref().is_none_or(|l| l.iter().any(|x| x == w));
    match phase {
        "fillseq" => {
            let o = timed(n, c.max, |i| e.put(&key(i), vals.get(i)));
            report(&f, phase, &o);
        }
        "fillrandom" => {
            let order = shuffled(n, 7);
            let o = timed(n, c.max, |i| e.put(&key(order[i as usize]), vals.get(i)));
            report(&f, phase, &o);
        }
        "fillbatch" => {
            let o = load_batches(&*e, &shuffled(n, 11), 1000, &vals);
            report(&f, phase, &o);
        }
        "writeamp" => {
            // Fresh random order, same for every engine.
            let o = load_batches(&*e, &shuffled(n, 29), c.wa_batch, &vals);
            report(&f, phase, &o);
        }
        "overwrite" => {
            let mut r = Rng(13);
            let o = timed(n, c.max, |i| e.put(&key(r.below(n)), vals.get(i + 7)));
            report(&f, phase, &o);
        }
        "reads" => reads(c, &f, &*e, &wants),
        "readwhilewriting" => read_while_writing(c, &f, &e),
        "fillsync" => {
            let o = timed_every(c.sync_ops, c.max, 1, |i| e.put_sync(&key(i), vals.get(i)));
            report(&f, phase, &o);
        }
        "fillsync4" => {
            let t = Instant::now();
            let per = c.sync_ops / 4;
            let max = c.max;
            let handles: Vec<_> = (0..4u64)
                .map(|w| {
                    let e = Arc::clone(&e);
                    std::thread::spawn(move || {
                        let vals = Values::new();
                        timed_every(per, max, 1, |i| e.put_sync(&key(w * per + i), vals.get(i)))
                    })
                })
                .collect();
            let outs: Vec<Outcome> = handles
                .into_iter()
                .map(|h| h.join().expect("writer thread"))
                .collect();
            let o = Outcome {
                ops: outs.iter().map(|o| o.ops).sum(),
                secs: t.elapsed().as_secs_f64(),
                cpu: outs.iter().map(|o| o.cpu).sum(),
                note: outs
                    .iter()
                    .find(|o| !o.note.is_empty())
                    .map(|o| o.note.clone())
                    .unwrap_or_default(),
            };
            report(&f, phase, &o);
        }
        other => {
            eprintln!("unknown phase {other}");
            std::process::exit(2)
        }
    }
    // Untimed: let the engine finish what it can be asked about, then
    // record what it reports before closing.
    e.settle();
    let stats = e.stats_line();
    if !stats.is_empty() {
        extra(&format!("stats.{phase}"), stats);
    }
    if let Some((wa, how)) = e.reported_write_amp() {
        extra(&format!("wa.{phase}"), format!("{wa:.2} {how}"));
    }
    drop(e);
    let io = Io::now().since(io0);
    extra(&format!("io.{phase}.write_bytes"), io.write_bytes);
    extra(&format!("io.{phase}.wchar"), io.wchar);
    extra(&format!("io.{phase}.cancelled"), io.cancelled_write_bytes);
    extra(&format!("disk.{phase}"), dir_bytes(&dir));
    if dir != main {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn reads(c: &Config, f: &Factory, e: &dyn Engine, wants: &dyn Fn(&str) -> bool) {
    let n = c.num;
    if wants("readrandom") {
        let mut r = Rng(17);
        let mut found = 0u64;
        let mut o = timed(c.reads, c.max, |_| found += e.get(&key(r.below(n))) as u64);
        if found != o.ops {
            o.note = format!("{found} of {} found!", o.ops);
        }
        report(f, "readrandom", &o);
    }
    if wants("readmissing") {
        let mut r = Rng(19);
        let mut found = 0u64;
        let mut o = timed(c.reads, c.max, |_| {
            found += e.get(&missing_key(r.below(n))) as u64
        });
        if found != 0 {
            o.note = format!("{found} absent keys found!");
        }
        report(f, "readmissing", &o);
    }
    if wants("readseq") {
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
        report(f, "readseq", &o);
    }
    if wants("seekrandom") {
        let mut r = Rng(23);
        let mut entries = 0u64;
        let o = timed_every(c.seeks, c.max, 1, |_| {
            entries += e.seek_and_next(&key(r.below(n)), 100) as u64
        });
        report(f, "seekrandom", &o);
    }
}

/// One writer overwriting random keys without pause while this thread
/// reads random keys; the reader's count decides the duration.
fn read_while_writing(c: &Config, f: &Factory, e: &Arc<dyn Engine>) {
    let n = c.num;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (e, stop, written) = (Arc::clone(e), Arc::clone(&stop), Arc::clone(&written));
        std::thread::spawn(move || {
            let vals = Values::new();
            let mut r = Rng(31);
            let t = Instant::now();
            let c0 = thread_cpu();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                e.put(&key(r.below(n)), vals.get(i + 3));
                i += 1;
                written.store(i, Ordering::Relaxed);
            }
            Outcome {
                ops: i,
                secs: t.elapsed().as_secs_f64(),
                cpu: thread_cpu() - c0,
                note: String::new(),
            }
        })
    };
    let mut r = Rng(37);
    let mut found = 0u64;
    let mut o = timed(c.reads, c.max, |_| found += e.get(&key(r.below(n))) as u64);
    stop.store(true, Ordering::Relaxed);
    let w = writer.join().expect("writer thread");
    if found != o.ops {
        o.note = format!("{found} of {} found!", o.ops);
    }
    report(f, "readwhilewriting", &o);
    report(f, "readwhilewriting.writer", &w);
}
