//! Preallocated logs: a log is grown in zero-filled chunks ahead of its
//! write position, so it ends in zeros. Recovery must take a header of zeros
//! as the end of the written data (after a power cut, in the newest and in
//! older logs) while still cutting torn records off the newest log and
//! refusing records lost in the middle of the history.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::fs::{FaultFs, FileSystem};
use engine::wal::{batch, record};
use engine::{Db, Options};
use kv_api::{Error, KvRead, KvStore, WriteBatch, WriteOptions};

fn opts(fs: &Arc<FaultFs>) -> Options {
    // 64 KiB memtables: logs are preallocated 16 KiB at a time.
    Options::with_write_buffer(64 << 10).fs(fs.clone())
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

fn value(i: u32) -> Vec<u8> {
    format!("value-{i}").into_bytes()
}

/// Write `n` synced puts and cut the power: the rebooted file system and the
/// newest log's path.
fn synced_then_power_cut(dir: &Path, n: u32) -> (Arc<FaultFs>, PathBuf) {
    let fs = Arc::new(FaultFs::new());
    let db = Db::open(dir, opts(&fs)).unwrap();
    for i in 0..n {
        let mut b = WriteBatch::new();
        b.put(key(i), value(i));
        db.write(b, &WriteOptions::SYNC).unwrap();
    }
    // Unsynced writes may or may not survive; these must not break recovery.
    for i in n..n + 5 {
        db.put(&key(i), &value(i)).unwrap();
    }
    let rebooted = Arc::new(fs.crash());
    std::mem::forget(db);
    let log = newest_log(&rebooted, dir);
    (rebooted, log)
}

fn newest_log(fs: &FaultFs, dir: &Path) -> PathBuf {
    let name = fs
        .files(dir)
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .max()
        .unwrap();
    dir.join(name)
}

fn torn_bytes(db: &Db) -> u64 {
    db.stats().get("recovery.torn_tail_bytes").unwrap_or(0)
}

fn check_prefix(db: &Db, n: u32) {
    for i in 0..n {
        assert_eq!(db.get(&key(i)).unwrap(), Some(value(i)), "key {i}");
    }
}

#[test]
fn power_cut_recovers_every_synced_write_and_the_zero_tail_is_a_clean_end() {
    let dir = Path::new("/prealloc1");
    let (fs, log) = synced_then_power_cut(dir, 200);
    let data = fs.read_all(&log).unwrap();
    let end = record::end_of_nonzero(&data) as usize;
    assert!(end > 0, "the synced records are in the log");
    assert!(
        data.len() >= end + 4096,
        "the log is preallocated past its records ({} bytes, data ends at {end})",
        data.len()
    );
    let db = Db::open(dir, opts(&fs)).unwrap();
    check_prefix(&db, 200);
    assert_eq!(torn_bytes(&db), 0, "a zero tail is not a torn record");
    // Writes go on in the new (preallocated) log and survive another cut.
    for i in 200..260 {
        let mut b = WriteBatch::new();
        b.put(key(i), value(i));
        db.write(b, &WriteOptions::SYNC).unwrap();
    }
    let fs2 = Arc::new(fs.crash());
    std::mem::forget(db);
    let db = Db::open(dir, opts(&fs2)).unwrap();
    check_prefix(&db, 260);
    assert_eq!(torn_bytes(&db), 0);
}

#[test]
fn torn_record_just_before_the_zero_tail_is_cut_off() {
    let dir = Path::new("/prealloc2");
    let (fs, log) = synced_then_power_cut(dir, 100);
    let data = fs.read_all(&log).unwrap();
    let end = record::end_of_nonzero(&data) as usize;
    // The last record's final bytes never landed: zeros, like the tail.
    fs.zero_range(&log, end - 4, 4).unwrap();
    let db = Db::open(dir, opts(&fs)).unwrap();
    check_prefix(&db, 99);
    assert_eq!(
        db.get(&key(99)).unwrap(),
        None,
        "the torn record is dropped"
    );
    assert!(torn_bytes(&db) > 0);
    db.put(&key(99), &value(99)).unwrap();
    db.close().unwrap();
    let db = Db::open(dir, opts(&fs)).unwrap();
    check_prefix(&db, 100);
}

#[test]
fn torn_header_just_before_the_zero_tail_is_cut_off() {
    let dir = Path::new("/prealloc3");
    let (fs, log) = synced_then_power_cut(dir, 100);
    let data = fs.read_all(&log).unwrap();
    // Walk the records to the last one; keep only 5 bytes of its header.
    let mut r = record::RecordReader::new(&data);
    let mut last = 0;
    while let Ok(Some((off, _))) = r.next_record() {
        last = off as usize;
    }
    let end = record::end_of_nonzero(&data) as usize;
    fs.zero_range(&log, last + 5, end - last - 5).unwrap();
    let db = Db::open(dir, opts(&fs)).unwrap();
    check_prefix(&db, 99);
    assert_eq!(db.get(&key(99)).unwrap(), None);
    assert!(torn_bytes(&db) > 0);
}

#[test]
fn bit_flips_in_the_zero_tail_of_the_newest_log_lose_nothing() {
    for delta in [0usize, 1, 11, 12, 500] {
        let dir = Path::new("/prealloc4");
        let (fs, log) = synced_then_power_cut(dir, 100);
        let data = fs.read_all(&log).unwrap();
        let end = record::end_of_nonzero(&data) as usize;
        fs.flip_bit(&log, end + delta, 3).unwrap();
        let db = Db::open(dir, opts(&fs)).unwrap();
        check_prefix(&db, 100);
        // Cut from the end of the data to the flipped byte.
        assert_eq!(torn_bytes(&db), delta as u64 + 1, "delta {delta}");
    }
}

/// A newer log after `log`, holding one batch with sequence `first_seq`:
/// `log` becomes an older log, which recovery reads strictly.
fn add_newer_log(fs: &FaultFs, log: &Path, first_seq: u64) -> PathBuf {
    let n: u64 = log.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let newer = log.with_file_name(format!("{:06}.log", n + 50));
    let mut b = WriteBatch::new();
    b.put("zz-newer", "v");
    let mut payload = Vec::new();
    batch::encode(&mut payload, &b, first_seq);
    let mut framed = Vec::new();
    record::encode(&mut framed, &payload);
    let mut f = fs.create(&newer).unwrap();
    f.append(&framed).unwrap();
    f.sync().unwrap();
    newer
}

/// The sequence number after the last batch of a log of single puts.
fn next_seq(data: &[u8]) -> u64 {
    let mut r = record::RecordReader::new(data);
    let mut next = 0;
    while let Ok(Some((_, payload))) = r.next_record() {
        let (first, ops) = batch::decode(payload).unwrap();
        next = first + ops.len() as u64;
    }
    next
}

#[test]
fn an_older_logs_zero_tail_ends_it_without_breaking_sequence_continuity() {
    let dir = Path::new("/prealloc5");
    let (fs, log) = synced_then_power_cut(dir, 100);
    let data = fs.read_all(&log).unwrap();
    let end = record::end_of_nonzero(&data) as usize;
    assert!(data.len() > end, "preallocated");
    add_newer_log(&fs, &log, next_seq(&data));
    // A flipped bit in the older log's unused tail holds no record.
    fs.flip_bit(&log, end + 40, 0).unwrap();
    let db = Db::open(dir, opts(&fs)).unwrap();
    check_prefix(&db, 100);
    assert_eq!(db.get(b"zz-newer").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn an_older_log_missing_its_last_record_is_still_corruption() {
    let dir = Path::new("/prealloc6");
    let (fs, log) = synced_then_power_cut(dir, 100);
    let data = fs.read_all(&log).unwrap();
    let next = next_seq(&data);
    // The newer log continues after all 100 batches, but the older log's
    // last record is zeroed away (it reads as a clean end): a sequence gap.
    let mut r = record::RecordReader::new(&data);
    let mut last = 0;
    while let Ok(Some((off, _))) = r.next_record() {
        last = off as usize;
    }
    let end = record::end_of_nonzero(&data) as usize;
    fs.zero_range(&log, last, end - last).unwrap();
    add_newer_log(&fs, &log, next);
    match Db::open(dir, opts(&fs)) {
        Err(Error::Corruption { file, detail, .. }) => {
            assert_eq!(file, log, "{detail}");
        }
        Err(e) => panic!("expected corruption, got {e}"),
        Ok(_) => panic!("expected corruption, the database opened"),
    }
}

#[test]
fn a_zeroed_header_before_valid_records_is_corruption() {
    let dir = Path::new("/prealloc7");
    let (fs, log) = synced_then_power_cut(dir, 100);
    // Zero the header of the first record: valid records follow it.
    fs.zero_range(&log, 0, record::HEADER_LEN).unwrap();
    match Db::open(dir, opts(&fs)) {
        Err(Error::Corruption { file, offset, .. }) => {
            assert_eq!((file, offset), (log, 0));
        }
        Err(e) => panic!("expected corruption, got {e}"),
        Ok(_) => panic!("expected corruption, the database opened"),
    }
}
