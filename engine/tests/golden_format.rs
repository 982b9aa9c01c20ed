//! Golden tests pinning the on-disk format. Each `fixtures/db-vN` is a
//! small database written by the engine at format version N (table format
//! and manifest format; see FORMAT.md). Every fixture must keep opening
//! with the same contents, and writing the operations of the newest one
//! again must produce the same bytes. A deliberate format change bumps the
//! format version, adds a fixture (old ones stay, to prove they are still
//! read) with
//! `cargo test -p engine --test golden_format -- --ignored regenerate`.
//!
//! - `db-v1`: a table with a range tombstone, a log of unflushed batches,
//!   a manifest, CURRENT (no compaction yet).
//! - `db-v2`: a compacted L1 table with Zstandard blocks (its tombstones
//!   dropped at the bottom), an L0 table with a range tombstone, a log.
//!
//! Log format 2 (preallocated logs) changed no byte of a record, only what
//! may follow the last one: zeros, as many as the preallocation chunk (a
//! tuning choice, not format). So the byte comparison strips a log's zero
//! tail, the `db-v2` log (no tail, log format 1) shows old logs still read,
//! and the same log with a zero tail appended must read the same.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kv_api::{Direction, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

fn fixture(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/db-v{version}"))
}

/// The operations the newest fixture (`db-v2`) was made from.
fn write_fixture(dir: &Path) {
    let mut o = engine::Options::with_write_buffer(1 << 20);
    o.block_size = 512;
    o.compression_per_level = vec![engine::Compression::None, engine::Compression::Zstd];
    o.max_background_compactions = 0;
    let db = engine::Db::open(dir, o).unwrap();
    let mut b = WriteBatch::new();
    for i in 0..N {
        b.put(format!("key{i:03}"), value(i));
    }
    b.delete("key005");
    b.delete_range("key010", "key015");
    db.write(b, &WriteOptions::SYNC).unwrap();
    db.compact().unwrap();
    let mut b = WriteBatch::new();
    b.put("key001", "updated").put("zzz", "").delete("key002");
    b.delete_range("key030", "key033");
    db.write(b, &WriteOptions::SYNC).unwrap();
    db.flush().unwrap();
    db.put(b"key031", b"back").unwrap();
    // Stop here as a crash would (no close, which would flush), so the
    // fixture keeps its last writes in the log and covers log replay. The
    // handle is leaked on purpose: this is the end of its test.
    std::mem::forget(db);
    let _ = std::fs::remove_file(dir.join("LOCK"));
}

const N: u32 = 120;

fn value(i: u32) -> String {
    format!("value-{i}-").repeat(4)
}

/// Contents of fixture `version`.
fn expected(version: u32) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let (n, val): (u32, fn(u32) -> String) = match version {
        1 => (40, |i| format!("value-{i}")),
        _ => (N, value),
    };
    let mut m = BTreeMap::new();
    for i in 0..n {
        m.insert(format!("key{i:03}").into_bytes(), val(i).into_bytes());
    }
    m.remove(b"key005".as_slice());
    for i in 10..15u32 {
        m.remove(format!("key{i:03}").as_bytes());
    }
    m.insert(b"key001".to_vec(), b"updated".to_vec());
    m.insert(b"zzz".to_vec(), b"".to_vec());
    m.remove(b"key002".as_slice());
    for i in 30..33u32 {
        m.remove(format!("key{i:03}").as_bytes());
    }
    m.insert(b"key031".to_vec(), b"back".to_vec());
    m
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
#[ignore = "rewrites the checked-in fixture"]
fn regenerate() {
    let dir = fixture(2);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    write_fixture(&dir);
}

fn opens_with_its_contents(version: u32) -> engine::Db {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&fixture(version), d.path());
    let db = engine::Db::open(d.path(), engine::Options::default()).unwrap();
    let got: BTreeMap<_, _> =
        kv_api::collect_entries(db.iter(KeyRange::all(), Direction::Forward).unwrap())
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(got, expected(version), "fixture v{version}");
    assert_eq!(db.get(b"key012").unwrap(), None);
    assert_eq!(db.get(b"key031").unwrap(), Some(b"back".to_vec()));
    // Keep the directory alive as long as the handle.
    std::mem::forget(d);
    db
}

#[test]
fn the_version_1_database_still_opens_with_its_contents() {
    opens_with_its_contents(1).close().unwrap();
}

#[test]
fn the_version_2_database_opens_with_its_contents_and_levels() {
    let db = opens_with_its_contents(2);
    let levels = db.level_file_counts();
    assert_eq!(levels[1], 1, "the compacted table is in L1: {levels:?}");
    db.close().unwrap();
}

#[test]
fn the_version_2_log_with_a_preallocated_zero_tail_reads_the_same() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&fixture(2), d.path());
    let log = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    let mut data = std::fs::read(&log).unwrap();
    data.resize(data.len() + 70_000, 0);
    std::fs::write(&log, &data).unwrap();
    let db = engine::Db::open(d.path(), engine::Options::default()).unwrap();
    let got: BTreeMap<_, _> =
        kv_api::collect_entries(db.iter(KeyRange::all(), Direction::Forward).unwrap())
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(got, expected(2));
    assert_eq!(
        db.stats().get("recovery.torn_tail_bytes").unwrap_or(0),
        0,
        "a zero tail is not torn"
    );
    db.close().unwrap();
}

#[test]
fn writing_the_same_operations_gives_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    write_fixture(d.path());
    let mut names: Vec<String> = std::fs::read_dir(fixture(2))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut mine: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    mine.sort();
    assert_eq!(mine, names, "the same operations made different files");
    for n in &names {
        let a = std::fs::read(fixture(2).join(n)).unwrap();
        let mut b = std::fs::read(d.path().join(n)).unwrap();
        if n.ends_with(".log") {
            // Preallocated: the records, then zeros.
            let end = engine::wal::record::end_of_nonzero(&b) as usize;
            assert!(end > 0 && end < b.len(), "{n} is preallocated");
            b.truncate(end);
        }
        assert!(
            a == b,
            "{n} differs from the fixture: the format changed (bump its version and add a fixture)"
        );
    }
}
