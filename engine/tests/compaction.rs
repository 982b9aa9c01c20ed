//! Compaction scenarios: what it must drop, what it must keep, and what a
//! failure or a power cut in the middle of it leaves behind.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Model;
use engine::fs::{Fault, FaultFs, FileSystem};
use engine::{Db, Options};
use kv_api::{KvRead, KvStore, WriteBatch, WriteOptions};

fn opts(fs: &Arc<FaultFs>) -> Options {
    let mut o = Options::with_write_buffer(16 * 1024).tiny_levels();
    o.block_size = 512;
    o.fs(fs.clone())
}

fn val(i: u32, round: u32) -> Vec<u8> {
    format!("value-{i:06}-{round}-").repeat(4).into_bytes()
}

/// Load `n` keys `round` times (overwrites): plenty of compaction work.
fn load(db: &Db, model: &mut Model, n: u32, rounds: u32) {
    for round in 0..rounds {
        for i in 0..n {
            let j = (i * 7919 + round * 13) % n;
            let k = format!("key{j:06}").into_bytes();
            let v = val(j, round);
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
    }
}

fn table_bytes(fs: &FaultFs, dir: &Path) -> u64 {
    fs.files(dir)
        .iter()
        .filter(|n| n.ends_with(".sst"))
        .map(|n| fs.read_all(&dir.join(n)).unwrap().len() as u64)
        .sum()
}

#[test]
fn data_moves_down_several_levels_and_reads_stay_exact() {
    let fs = common::fault_fs();
    let dir = Path::new("/levels");
    let db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 3000, 3);
    // Flushed and settled: closing changes nothing, so the levels seen
    // here are the ones the manifest must restore.
    db.flush().unwrap();
    db.wait_for_compactions().unwrap();
    let s = db.engine_stats();
    let deepest = s.levels.iter().rposition(|l| l.files > 0).unwrap();
    assert!(deepest >= 3, "levels: {:?}", s.levels);
    assert!(s.levels[0].files < 8, "L0 stays small: {:?}", s.levels);
    assert!(
        s.compactions > 10 && s.compaction_bytes_written > 0,
        "{s:?}"
    );
    assert!(s.write_amplification() > 1.0, "{s:?}");
    assert!(s.compaction_bytes_read > 0, "{s:?}");
    common::assert_matches(&db, &model, "after compactions");
    for (k, v) in model.iter().step_by(97) {
        assert_eq!(db.get(k).unwrap().as_ref(), Some(v));
    }
    db.close().unwrap();
    // Reopen without compaction threads, so that the levels are exactly
    // what the manifest restored.
    let mut o = opts(&fs);
    o.max_background_compactions = 0;
    let db = Db::open(dir, o).unwrap();
    let again = db.engine_stats();
    // (close flushed the memtable: L0 may have gained a table)
    assert_eq!(
        again.levels[1..]
            .iter()
            .map(|l| l.files)
            .collect::<Vec<_>>(),
        s.levels[1..].iter().map(|l| l.files).collect::<Vec<_>>(),
        "levels restored from the manifest"
    );
    common::assert_matches(&db, &model, "after reopen");
}

#[test]
fn tombstones_are_dropped_at_the_bottom_and_space_is_reclaimed() {
    let fs = common::fault_fs();
    let dir = Path::new("/reclaim");
    let db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 2000, 1);
    db.compact().unwrap();
    let full = table_bytes(&fs, dir);
    // Delete nearly everything: points for half, one range for the rest.
    for i in (0..2000u32).step_by(2) {
        db.delete(format!("key{i:06}").as_bytes()).unwrap();
    }
    let mut b = WriteBatch::new();
    b.delete_range("key000000", "key001990");
    db.write(b, &WriteOptions::default()).unwrap();
    model.retain(|k, _| k.as_slice() >= b"key001990".as_slice() && k[8] % 2 == 1);
    db.compact().unwrap();
    let s = db.engine_stats();
    let left = table_bytes(&fs, dir);
    common::assert_matches(&db, &model, "after deleting");
    assert!(
        left * 20 < full,
        "space not reclaimed: {left} bytes of tables left of {full}"
    );
    assert!(s.dropped_tombstones > 0, "{s:?}");
    assert!(s.dropped_range_tombstones > 0, "{s:?}");
}

#[test]
fn tombstones_and_versions_a_snapshot_needs_survive_compaction() {
    let fs = common::fault_fs();
    let dir = Path::new("/keep");
    let db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 1000, 1);
    db.compact().unwrap();
    let before = model.clone();
    let snap = db.snapshot().unwrap();
    for i in 0..1000u32 {
        let k = format!("key{i:06}");
        match i % 3 {
            0 => {
                db.delete(k.as_bytes()).unwrap();
                model.remove(k.as_bytes());
            }
            1 => {
                db.put(k.as_bytes(), b"new").unwrap();
                model.insert(k.into_bytes(), b"new".to_vec());
            }
            _ => {}
        }
    }
    let mut b = WriteBatch::new();
    b.delete_range("key000500", "key000600");
    db.write(b, &WriteOptions::default()).unwrap();
    model.retain(|k, _| {
        !(k.as_slice() >= b"key000500".as_slice() && k.as_slice() < b"key000600".as_slice())
    });
    let snap2 = db.snapshot().unwrap();
    let mid = model.clone();
    // Several full compactions while the snapshots live.
    for _ in 0..3 {
        load(&db, &mut model, 50, 1);
        db.compact().unwrap();
    }
    common::assert_matches(&*snap, &before, "old snapshot after compactions");
    common::assert_matches(&*snap2, &mid, "newer snapshot after compactions");
    common::assert_matches(&db, &model, "head after compactions");
    // Once the snapshots are gone the next compaction drops what only they saw.
    let s1 = db.engine_stats();
    drop(snap);
    drop(snap2);
    db.compact().unwrap();
    let s2 = db.engine_stats();
    assert!(
        s2.dropped_tombstones > s1.dropped_tombstones,
        "{s1:?} {s2:?}"
    );
    assert!(s2.dropped_versions > s1.dropped_versions, "{s1:?} {s2:?}");
    common::assert_matches(&db, &model, "head after the snapshots went");
}

#[test]
fn a_compaction_that_cannot_write_is_counted_retried_and_harmless() {
    let fs = common::fault_fs();
    let dir = Path::new("/enospc");
    let db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 1000, 1);
    db.flush().unwrap();
    db.wait_for_compactions().unwrap();
    // From now on, table writes fail (a full disk). The memtable is empty,
    // so `compact` flushes nothing and the failure is the compaction's.
    for kind in [std::io::ErrorKind::StorageFull, std::io::ErrorKind::Other] {
        fs.set_write_fault(Some(Fault {
            after: 0,
            kind,
            torn: true,
            sticky: true,
            path_contains: ".sst".into(),
        }));
        let failures = db.engine_stats().compaction_failures;
        let r = db.compact();
        assert!(r.is_err(), "compaction reported success on a full disk");
        let s = db.engine_stats();
        assert!(s.compaction_failures > failures, "{s:?}");
        assert!(s.last_background_error.is_some());
        // Still readable and exact, no output left behind.
        common::assert_matches(&db, &model, "while compactions fail");
        let listed: u64 = s.levels.iter().map(|l| l.files).sum();
        let on_disk = fs.files(dir).iter().filter(|n| n.ends_with(".sst")).count() as u64;
        assert_eq!(listed, on_disk, "a failed compaction left files behind");
        fs.set_write_fault(None);
        // Retried (with back-off) once the disk has room again.
        db.compact().unwrap();
        common::assert_matches(&db, &model, "after the fault cleared");
    }
    let log = fs.read_all(&dir.join("LOG")).unwrap();
    assert!(
        String::from_utf8_lossy(&log).contains("failed"),
        "the failure is in the LOG"
    );
    // Background compactions recover by themselves too.
    fs.set_write_fault(Some(Fault {
        after: 0,
        kind: std::io::ErrorKind::StorageFull,
        torn: false,
        sticky: true,
        path_contains: ".sst".into(),
    }));
    let failures = db.engine_stats().compaction_failures;
    for i in 0..200u32 {
        // Writes go on (they land in memtables; flushes fail and retry).
        let _ = db.put(format!("more{i:04}").as_bytes(), b"x");
    }
    fs.set_write_fault(None);
    let t = Instant::now();
    loop {
        match db.wait_for_compactions() {
            Ok(()) => break,
            Err(_) if t.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("compactions never recovered: {e}"),
        }
    }
    for i in 0..200u32 {
        model.insert(format!("more{i:04}").into_bytes(), b"x".to_vec());
    }
    common::assert_matches(&db, &model, "after background recovery");
    let _ = failures;
}

#[test]
fn a_power_cut_during_compactions_recovers_a_consistent_state() {
    // Cut the power at many points of a run that compacts all the time;
    // every acknowledged sync write must be there, nothing else wrong.
    for cut_after in [3u32, 17, 40, 77, 120] {
        let fs = common::fault_fs();
        let dir = Path::new("/cut");
        let db = Db::open(dir, opts(&fs)).unwrap();
        let mut model = Model::new();
        for round in 0..cut_after {
            let mut b = WriteBatch::new();
            for i in 0..40u32 {
                let j = (i * 31 + round * 7) % 600;
                let k = format!("key{j:06}").into_bytes();
                b.put(k.clone(), val(j, round));
                model.insert(k, val(j, round));
            }
            if round % 9 == 4 {
                b.delete_range(
                    format!("key{:06}", round * 5),
                    format!("key{:06}", round * 5 + 40),
                );
                let (a, z) = (
                    format!("key{:06}", round * 5),
                    format!("key{:06}", round * 5 + 40),
                );
                model.retain(|k, _| !(k.as_slice() >= a.as_bytes() && k.as_slice() < z.as_bytes()));
                // The puts of this batch come before the range delete
                // (lower sequence numbers), so they are deleted too.
            }
            db.write(b, &WriteOptions::SYNC).unwrap();
        }
        // No waiting: compactions are likely in flight right now.
        let image = Arc::new(fs.crash());
        drop(db);
        let db = Db::open(dir, opts(&image)).unwrap();
        common::assert_matches(&db, &model, &format!("power cut after {cut_after} batches"));
        db.wait_for_compactions().unwrap();
        common::assert_matches(&db, &model, "after the compactions resumed");
        let s = db.engine_stats();
        let listed: u64 = s.levels.iter().map(|l| l.files).sum();
        db.close().unwrap();
        let on_disk = image
            .files(dir)
            .iter()
            .filter(|n| n.ends_with(".sst"))
            .count() as u64;
        assert_eq!(listed, on_disk, "orphan tables after recovery");
    }
}

#[test]
fn statistics_follow_what_happens() {
    let fs = common::fault_fs();
    let dir = Path::new("/stats");
    let db = Db::open(dir, opts(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 2000, 2);
    db.compact().unwrap();
    let a = db.engine_stats();
    assert!(a.user_bytes_written > 0 && a.log_bytes_written >= a.user_bytes_written);
    assert!(a.flush_bytes_written > 0 && a.compaction_bytes_written > 0);
    assert!(a.write_amplification() > 1.0, "{a:?}");
    assert!(a.write_amplification_with_log() > a.write_amplification());
    // Missing keys: the bloom filters answer without reading a block.
    for i in 0..500u32 {
        assert_eq!(db.get(format!("nope{i:05}").as_bytes()).unwrap(), None);
        assert_eq!(db.get(format!("key{i:06}x").as_bytes()).unwrap(), None);
    }
    let b = db.engine_stats();
    assert!(b.bloom_useful >= a.bloom_useful + 400, "{a:?} {b:?}");
    assert!(
        b.bloom_false_positives - a.bloom_false_positives < 50,
        "{b:?}"
    );
    // Present keys: blocks are read (misses, then hits).
    for (k, _) in model.iter().take(300) {
        db.get(k).unwrap().unwrap();
    }
    for (k, _) in model.iter().take(300) {
        db.get(k).unwrap().unwrap();
    }
    let c = db.engine_stats();
    assert!(c.bloom_true_positives >= b.bloom_true_positives + 600);
    assert!(c.block_cache_hits > b.block_cache_hits);
    assert!(c.user_bytes_read >= b.user_bytes_read);
    let snap = db.snapshot().unwrap();
    assert_eq!(db.engine_stats().live_snapshots, c.live_snapshots + 1);
    drop(snap);
    // The kv-api list carries the same figures.
    let kv = db.stats();
    let get = |name: &str| kv.get(name).unwrap_or_else(|| panic!("{name} missing"));
    assert_eq!(get("bloom.useful"), db.engine_stats().bloom_useful);
    assert!(get("write_amplification.x1000") > 1000);
    assert!(get("compaction.count") > 0);
    assert!(
        (0..7)
            .map(|l| get(&format!("level.{l}.files")))
            .sum::<u64>()
            > 0
    );
}

#[test]
fn the_manifest_is_rolled_over_and_survives_power_cuts() {
    let fs = common::fault_fs();
    let dir = Path::new("/roll");
    let o = |fs: &Arc<FaultFs>| {
        let mut o = opts(fs);
        o.max_manifest_bytes = 2048;
        o
    };
    let db = Db::open(dir, o(&fs)).unwrap();
    let mut model = Model::new();
    load(&db, &mut model, 1500, 2);
    db.write(WriteBatch::new(), &WriteOptions::SYNC).unwrap();
    db.wait_for_compactions().unwrap();
    let s = db.engine_stats();
    assert!(s.manifest_rollovers > 2, "{s:?}");
    let manifests = fs
        .files(dir)
        .iter()
        .filter(|n| n.starts_with("MANIFEST-"))
        .count();
    assert_eq!(manifests, 1, "old manifests are removed");
    let image = Arc::new(fs.crash());
    drop(db);
    let mut reopen = o(&image);
    reopen.max_background_compactions = 0;
    let db = Db::open(dir, reopen).unwrap();
    common::assert_matches(&db, &model, "after a power cut with rolled manifests");
    assert_eq!(
        db.engine_stats().levels[1..],
        s.levels[1..],
        "levels restored from the rolled manifest"
    );
}
