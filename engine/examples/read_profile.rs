//! A small driver for profiling the read path (`perf record`): loads N
//! keys in random order (16-byte keys, 100-byte values, batches of 1,000),
//! reopens, then runs readrandom, readmissing, seekrandom (+100 next) and
//! readseq, printing the rate of each. Not a benchmark against peers (that
//! is `bench/`); a quick loop for the engine's own hot paths.
//!
//! ```text
//! cargo run --release -p engine --example read_profile -- [N] [DIR] [reuse]
//! ```
//!
//! With `reuse`, the database already in DIR is read (no load), so that a
//! profile shows the reads alone.

use std::time::Instant;

use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

fn key(i: u64) -> Vec<u8> {
    format!("{i:016}").into_bytes()
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn rate(name: &str, n: u64, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!("{name:12} {:>12.0} ops/s  ({n} in {s:.2} s)", n as f64 / s);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("engine-read-profile"));
    let reuse = args.get(3).is_some_and(|a| a == "reuse");
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let opts = || engine::Options {
        write_buffer_size: 64 << 20,
        block_cache_bytes: 64 << 20,
        compression_per_level: vec![engine::Compression::None],
        ..Default::default()
    };
    let db = engine::Db::open(&dir, opts())?;
    let t = Instant::now();
    let mut b = WriteBatch::new();
    let n_load = if reuse { 0 } else { n };
    for i in 0..n_load {
        let k = mix(i) % n;
        let v: Vec<u8> = (0..100).map(|j| mix(i * 131 + j) as u8).collect();
        b.put(key(k), v);
        if b.len() == 1000 {
            db.write(std::mem::take(&mut b), &WriteOptions::default())?;
        }
    }
    db.write(b, &WriteOptions::default())?;
    rate("fillbatch", n, t);
    db.wait_for_compactions()?;
    db.close()?;
    drop(db);
    let db = engine::Db::open(&dir, opts())?;
    println!("levels: {:?}", db.level_file_counts());
    let t = Instant::now();
    let mut found = 0;
    for i in 0..n {
        found += db.get(&key(mix(i + 7) % n))?.is_some() as u64;
    }
    rate("readrandom", n, t);
    let t = Instant::now();
    for i in 0..n {
        let mut k = key(mix(i + 9) % n);
        k.push(b'x');
        found += db.get(&k)?.is_some() as u64;
    }
    rate("readmissing", n, t);
    let seeks = n / 100;
    let t = Instant::now();
    for i in 0..seeks {
        let mut it = db.iter(
            KeyRange::new(
                std::ops::Bound::Included(key(mix(i + 11) % n)),
                std::ops::Bound::Unbounded,
            ),
            Direction::Forward,
        )?;
        for _ in 0..100 {
            if it.next()?.is_none() {
                break;
            }
        }
    }
    rate("seekrandom", seeks, t);
    let t = Instant::now();
    let mut it = db.iter(KeyRange::all(), Direction::Forward)?;
    let mut c = 0u64;
    while it.next()?.is_some() {
        c += 1;
    }
    rate("readseq", c, t);
    println!("found {found}; {}", db.stats());
    db.close()?;
    Ok(())
}
