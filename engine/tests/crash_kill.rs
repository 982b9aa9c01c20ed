//! Crash test (a): a child process writes batches (most with `sync`) and is
//! killed with SIGKILL at random moments, many times over the same
//! database. After every kill the parent reopens the database and checks:
//! every acknowledged batch is present, batches are all-or-nothing, and the
//! batches present are exactly a prefix (nothing unacknowledged appears half
//! applied).
//!
//! The child is this test binary re-invoked with `ENGINE_CRASH_CHILD` set.
//! Rounds: `ENGINE_CRASH_ROUNDS` (default 25; the long run uses hundreds).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

const KEYS_PER_BATCH: u64 = 5;

/// Tiny memtables and levels: the child is flushing and compacting
/// (trivial moves, multi-level merges) whenever it is killed.
fn options() -> engine::Options {
    let mut o = engine::Options::with_write_buffer(32 * 1024).tiny_levels();
    o.block_size = 1024;
    o
}

fn batch_key(i: u64, j: u64) -> Vec<u8> {
    format!("b{i:08}/{j}").into_bytes()
}

fn counter(db: &engine::Db) -> Option<u64> {
    db.get(b"counter")
        .unwrap()
        .map(|v| u64::from_be_bytes(v.try_into().expect("counter is 8 bytes")))
}

/// The child: resume after the last batch and write until killed.
fn child(dir: &str) {
    let db = engine::Db::open(dir, options()).expect("child open");
    let mut i = counter(&db).map_or(0, |c| c + 1);
    let mut out = std::io::stdout().lock();
    loop {
        let mut b = WriteBatch::new();
        for j in 0..KEYS_PER_BATCH {
            b.put(
                batch_key(i, j),
                i.to_be_bytes().repeat(1 + (i % 7) as usize),
            );
        }
        b.put("counter", i.to_be_bytes());
        if i % 37 == 0 && i >= 100 {
            // Range deletes of old batches, in the same atomic batch.
            b.delete_range(batch_key(i - 100, 0), batch_key(i - 90, 0));
        }
        let sync = i % 4 != 0; // buffered writes must survive a process kill too
        db.write(b, &WriteOptions { sync }).expect("child write");
        writeln!(out, "ack {i}").unwrap();
        out.flush().unwrap();
        i += 1;
    }
}

fn verify(dir: &std::path::Path, max_acked: Option<u64>, round: u32) -> u64 {
    let db = engine::Db::open(dir, options())
        .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
    let c = counter(&db);
    if let Some(a) = max_acked {
        assert!(
            c.is_some_and(|c| c >= a),
            "round {round}: acknowledged batch {a} lost (counter {c:?})"
        );
    }
    let Some(c) = c else { return 0 };
    let it = db.iter(KeyRange::prefix(b"b"), Direction::Forward).unwrap();
    let mut seen = std::collections::BTreeMap::<u64, u64>::new();
    for e in kv_api::OwnedEntries::new(it) {
        let (k, v) = e.unwrap();
        let s = std::str::from_utf8(&k).unwrap();
        let i: u64 = s[1..9].parse().unwrap();
        assert!(
            i <= c,
            "round {round}: batch {i} present beyond the counter {c}"
        );
        assert_eq!(&v[..8], &i.to_be_bytes(), "round {round}: value of {s}");
        *seen.entry(i).or_default() += 1;
    }
    for i in 0..=c {
        let deleted = (100..=c)
            .filter(|x| x % 37 == 0)
            .any(|x| i >= x - 100 && i < x - 90);
        let n = seen.get(&i).copied().unwrap_or(0);
        let want = if deleted { 0 } else { KEYS_PER_BATCH };
        assert_eq!(
            n, want,
            "round {round}: batch {i} has {n} of {want} keys (counter {c})"
        );
    }
    db.close().unwrap();
    c
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_batch() {
    if let Ok(dir) = std::env::var("ENGINE_CRASH_CHILD") {
        child(&dir);
        return;
    }
    let rounds: u32 = std::env::var("ENGINE_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed = 0x1234_5678u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut last = None;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sigkill_at_random_moments_loses_no_acknowledged_batch",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ENGINE_CRASH_CHILD", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let target_acks = 1 + rand() % 400;
        let deadline = Instant::now() + Duration::from_millis(50 + rand() % 400);
        let mut max_acked = last;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let mut acks = 0;
        while acks < target_acks && Instant::now() < deadline {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(n) = line.trim().strip_prefix("ack ") {
                max_acked = Some(n.parse().unwrap());
                acks += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        // Acks printed before the kill landed count too.
        for l in reader.lines() {
            if let Some(n) = l.unwrap().trim().strip_prefix("ack ") {
                max_acked = Some(n.parse().unwrap());
            }
        }
        child.wait().unwrap();
        let c = verify(dir.path(), max_acked, round);
        last = Some(c);
    }
    assert!(last.unwrap_or(0) > 0, "the child never committed anything");
}
