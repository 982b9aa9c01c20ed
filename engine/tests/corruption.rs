//! Corruption: flip bytes in, and truncate, each kind of file (log, table,
//! manifest, CURRENT). Opening or reading must fail with
//! `Error::Corruption` naming the file, never panic and never return a
//! wrong value. The exception is a torn tail of the last log, which is cut
//! off at open (damage to anything but the end of the last log is not).

use std::path::{Path, PathBuf};

use engine::{Db, Options};
use kv_api::{Direction, Error, KeyRange, KvRead, KvStore, WriteBatch, WriteOptions};

fn opts() -> Options {
    let mut o = Options::with_write_buffer(1 << 20);
    o.block_size = 256;
    o
}

fn value(i: u32) -> Vec<u8> {
    format!("value-{i}-").repeat(3).into_bytes()
}

/// A database whose data is in a table (`flushed`) or only in its log.
fn build(dir: &Path, flushed: bool) -> Vec<PathBuf> {
    let db = Db::open(dir, opts()).unwrap();
    for i in 0..300u32 {
        let mut b = WriteBatch::new();
        b.put(format!("key{i:04}"), value(i));
        if i == 150 {
            b.delete_range("key0100", "key0110");
        }
        db.write(b, &WriteOptions::default()).unwrap();
    }
    if flushed {
        db.flush().unwrap();
        db.close().unwrap();
    } else {
        // Leave the writes in the log, as a crash would (close flushes).
        // The handle is leaked on purpose; tests only open copies.
        std::mem::forget(db);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Where a log's records end: logs are preallocated, so past this they
/// hold zeros (their own test: `preallocated_log.rs`).
fn written_len(log: &Path) -> u64 {
    engine::wal::record::end_of_nonzero(&std::fs::read(log).unwrap())
}

fn expected(i: u32) -> Option<Vec<u8>> {
    (!(100..110).contains(&i)).then(|| value(i))
}

/// Open and read everything; return the first error, checking that every
/// value that is returned is right.
fn open_and_read(dir: &Path, lenient: bool) -> Result<(), Error> {
    let db = Db::open(dir, opts())?;
    let mut first_err = None;
    for i in 0..300u32 {
        match db.get(format!("key{i:04}").as_bytes()) {
            Ok(v) => assert!(
                (lenient && v.is_none()) || v == expected(i),
                "wrong value for key{i:04}"
            ),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    for dir in [Direction::Forward, Direction::Reverse] {
        match db
            .iter(KeyRange::all(), dir)
            .and_then(kv_api::collect_entries)
        {
            Ok(all) => {
                if !lenient {
                    assert_eq!(all.len(), 290, "scan lost entries");
                }
                for (k, v) in all {
                    let i: u32 = std::str::from_utf8(&k[3..]).unwrap().parse().unwrap();
                    assert_eq!(Some(v), expected(i), "scan returned a wrong value");
                }
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn flip(path: &Path, offset: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[offset] ^= 0x20;
    std::fs::write(path, data).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

fn expect_corruption(r: Result<(), Error>, file: &Path, what: &str) {
    match r {
        Err(Error::Corruption { file: f, .. }) => {
            assert_eq!(
                f.file_name(),
                file.file_name(),
                "{what}: corruption names another file"
            );
        }
        Err(e) => panic!("{what}: expected Corruption, got {e}"),
        Ok(()) => panic!("{what}: expected Corruption, everything read fine"),
    }
}

fn with_kind(files: &[PathBuf], suffix: &str) -> PathBuf {
    files
        .iter()
        .find(|p| {
            p.to_string_lossy().ends_with(suffix)
                || p.file_name().unwrap().to_string_lossy().starts_with(suffix)
        })
        .unwrap_or_else(|| panic!("no {suffix} file"))
        .clone()
}

#[test]
fn every_flipped_byte_of_a_table_is_detected() {
    let base = tempfile::tempdir().unwrap();
    let files = build(base.path(), true);
    let table = with_kind(&files, ".sst");
    let len = std::fs::metadata(&table).unwrap().len() as usize;
    // Every byte near the ends (footer, index, filter, range-del), a stride
    // through the data blocks.
    let offsets: Vec<usize> = (0..len)
        .filter(|&o| (o % 5 == 0 && (o < 64 || o + 700 > len)) || o % 211 == 0 || o + 64 > len)
        .collect();
    for o in offsets {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let t = d.path().join(table.file_name().unwrap());
        flip(&t, o);
        expect_corruption(
            open_and_read(d.path(), false),
            &t,
            &format!("table byte {o} of {len}"),
        );
    }
}

#[test]
fn truncated_table_is_detected() {
    let base = tempfile::tempdir().unwrap();
    let files = build(base.path(), true);
    let table = with_kind(&files, ".sst");
    let len = std::fs::metadata(&table).unwrap().len();
    for cut in [0, 10, len / 2, len - 1] {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let t = d.path().join(table.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&t)
            .unwrap()
            .set_len(cut)
            .unwrap();
        expect_corruption(
            open_and_read(d.path(), false),
            &t,
            &format!("table cut to {cut}"),
        );
    }
}

#[test]
fn flipped_bytes_in_the_log_are_detected_unless_in_the_torn_tail() {
    let base = tempfile::tempdir().unwrap();
    let files = build(base.path(), false);
    let log = with_kind(&files, ".log");
    let len = written_len(&log) as usize;
    // Damage anywhere but the last record: corruption.
    for o in (0..len - 80).step_by(53) {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let l = d.path().join(log.file_name().unwrap());
        flip(&l, o);
        expect_corruption(
            open_and_read(d.path(), false),
            &l,
            &format!("log byte {o} of {len}"),
        );
    }
    // Damage in the last record: a torn tail, cut off; everything before it
    // is intact and nothing wrong is returned.
    let d = tempfile::tempdir().unwrap();
    copy_dir(base.path(), d.path());
    flip(&d.path().join(log.file_name().unwrap()), len - 3);
    open_and_read(d.path(), true).unwrap();
    let db = Db::open(d.path(), opts()).unwrap();
    assert_eq!(db.get(b"key0298").unwrap(), Some(value(298)));
    assert_eq!(
        db.get(b"key0299").unwrap(),
        None,
        "the damaged last record is dropped"
    );
}

#[test]
fn truncated_last_log_is_a_torn_tail_but_an_older_log_is_corrupt() {
    let base = tempfile::tempdir().unwrap();
    let files = build(base.path(), false);
    let log = with_kind(&files, ".log");
    let len = written_len(&log);
    for cut in [len - 1, len - 30, len / 2] {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let l = d.path().join(log.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&l)
            .unwrap()
            .set_len(cut)
            .unwrap();
        open_and_read(d.path(), true).unwrap();
        let db = Db::open(d.path(), opts()).unwrap();
        assert_eq!(db.get(b"key0000").unwrap(), Some(value(0)));
    }
    // The same log followed by a newer one: now the damage is in the middle
    // of the history, not at its end.
    let d = tempfile::tempdir().unwrap();
    copy_dir(base.path(), d.path());
    let l = d.path().join(log.file_name().unwrap());
    let n: u64 = log.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    std::fs::write(d.path().join(format!("{:06}.log", n + 50)), b"").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&l)
        .unwrap()
        .set_len(len - 30)
        .unwrap();
    expect_corruption(open_and_read(d.path(), false), &l, "older log cut short");
}

#[test]
fn every_flipped_byte_of_the_manifest_and_current_is_detected() {
    let base = tempfile::tempdir().unwrap();
    let files = build(base.path(), true);
    let manifest = with_kind(&files, "MANIFEST-");
    let len = std::fs::metadata(&manifest).unwrap().len() as usize;
    for o in (0..len).filter(|o| o % 3 == 0 || *o < 16 || o + 16 > len) {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let m = d.path().join(manifest.file_name().unwrap());
        flip(&m, o);
        expect_corruption(
            open_and_read(d.path(), false),
            &m,
            &format!("manifest byte {o} of {len}"),
        );
    }
    for cut in [0, 5, len / 2] {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        let m = d.path().join(manifest.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&m)
            .unwrap()
            .set_len(cut as u64)
            .unwrap();
        expect_corruption(
            open_and_read(d.path(), false),
            &m,
            &format!("manifest cut to {cut}"),
        );
    }
    let current_len = std::fs::metadata(base.path().join("CURRENT"))
        .unwrap()
        .len() as usize;
    for o in 0..current_len {
        let d = tempfile::tempdir().unwrap();
        copy_dir(base.path(), d.path());
        flip(&d.path().join("CURRENT"), o);
        match open_and_read(d.path(), false) {
            Err(Error::Corruption { .. }) => {}
            other => panic!("CURRENT byte {o}: expected Corruption, got {other:?}"),
        }
    }
}
