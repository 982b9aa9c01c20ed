//! Fault injection: failing writes and fsyncs (ENOSPC, EIO), torn writes.
//! A failed log write or fsync poisons the handle (never retried as if it
//! were safe); a failed table write during a flush is reported and retried;
//! reopening recovers every write acknowledged before the fault.

mod common;

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use engine::Db;
use engine::fs::{Fault, FaultFs};
use kv_api::{Error, KvRead, KvStore, WriteOptions};

fn fault(kind: ErrorKind, path: &str, torn: bool, sticky: bool) -> Option<Fault> {
    Some(Fault {
        after: 0,
        kind,
        torn,
        sticky,
        path_contains: path.into(),
    })
}

#[test]
fn failed_log_fsync_poisons_and_reopen_recovers_synced_writes() {
    let fs = Arc::new(FaultFs::new());
    let dir = Path::new("/f1");
    let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
    for i in 0..50u32 {
        db.write(
            {
                let mut b = kv_api::WriteBatch::new();
                b.put(format!("a{i:03}"), "v");
                b
            },
            &WriteOptions::SYNC,
        )
        .unwrap();
    }
    fs.set_sync_fault(fault(ErrorKind::Other, ".log", false, false));
    let mut b = kv_api::WriteBatch::new();
    b.put("doomed", "x");
    match db.write(b, &WriteOptions::SYNC) {
        Err(Error::Io { .. }) => {}
        other => panic!("expected an I/O error from the failed fsync, got {other:?}"),
    }
    // The handle refuses writes now, even though the fault is gone.
    assert!(matches!(db.put(b"later", b"v"), Err(Error::Poisoned(_))));
    assert!(matches!(db.flush(), Err(Error::Poisoned(_))));
    // Reads still work.
    assert_eq!(db.get(b"a000").unwrap(), Some(b"v".to_vec()));
    let fs2 = Arc::new(fs.crash());
    drop(db);
    let db = Db::open(dir, common::small_options().fs(fs2)).unwrap();
    for i in 0..50u32 {
        assert_eq!(
            db.get(format!("a{i:03}").as_bytes()).unwrap(),
            Some(b"v".to_vec())
        );
    }
    assert_eq!(db.get(b"later").unwrap(), None);
}

#[test]
fn torn_log_write_on_full_disk_poisons_and_the_tail_is_cut_on_reopen() {
    let fs = Arc::new(FaultFs::new());
    let dir = Path::new("/f2");
    let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
    for i in 0..20u32 {
        db.put(format!("b{i:03}").as_bytes(), b"v").unwrap();
    }
    fs.set_write_fault(fault(ErrorKind::StorageFull, ".log", true, true));
    let big = vec![7u8; 5000];
    match db.put(b"torn", &big) {
        Err(Error::Io { source, .. }) => assert_eq!(source.kind(), ErrorKind::StorageFull),
        other => panic!("expected ENOSPC, got {other:?}"),
    }
    assert!(matches!(db.put(b"x", b"y"), Err(Error::Poisoned(_))));
    fs.set_write_fault(None);
    // A process crash (not a power cut): everything written so far stays,
    // including the torn half record at the end of the log.
    drop(db);
    let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
    for i in 0..20u32 {
        assert_eq!(
            db.get(format!("b{i:03}").as_bytes()).unwrap(),
            Some(b"v".to_vec())
        );
    }
    assert_eq!(db.get(b"torn").unwrap(), None);
    let stats = db.stats();
    assert!(
        stats.get("recovery.torn_tail_bytes").unwrap_or(0) > 0,
        "{stats}"
    );
    db.put(b"after", b"ok").unwrap();
    db.close().unwrap();
    let db = Db::open(dir, common::small_options().fs(fs)).unwrap();
    assert_eq!(db.get(b"after").unwrap(), Some(b"ok".to_vec()));
}

#[test]
fn failed_table_write_is_reported_and_retried_without_losing_data() {
    let fs = Arc::new(FaultFs::new());
    let dir = Path::new("/f3");
    let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
    db.put(b"k", b"v1").unwrap();
    fs.set_write_fault(fault(ErrorKind::StorageFull, ".sst", false, true));
    match db.flush() {
        Err(Error::Io { .. }) => {}
        other => panic!("expected the flush to fail with ENOSPC, got {other:?}"),
    }
    assert!(db.stats().get("flush.errors").unwrap() >= 1);
    // Not poisoned: the log still holds the data.
    db.put(b"k2", b"v2").unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"v1".to_vec()));
    fs.set_write_fault(None);
    db.flush().unwrap();
    assert_eq!(
        db.level_file_counts().iter().sum::<usize>(),
        2,
        "the retried table and the later one (disjoint: compaction only moves them)"
    );
    let fs2 = Arc::new(fs.crash());
    drop(db);
    let db = Db::open(dir, common::small_options().fs(fs2)).unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"v1".to_vec()));
    assert_eq!(db.get(b"k2").unwrap(), Some(b"v2".to_vec()));
}

#[test]
fn failed_manifest_fsync_poisons() {
    let fs = Arc::new(FaultFs::new());
    let dir = Path::new("/f4");
    let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
    db.put(b"k", b"v").unwrap();
    fs.set_sync_fault(fault(ErrorKind::Other, "MANIFEST", false, false));
    assert!(db.flush().is_err());
    assert!(matches!(db.put(b"k", b"w"), Err(Error::Poisoned(_))));
    let fs2 = Arc::new(fs.crash());
    drop(db);
    let db = Db::open(dir, common::small_options().fs(fs2)).unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn faults_at_every_point_of_open_leave_a_database_that_opens() {
    // Fail the n-th sync (and separately the n-th write) during an open that
    // has data to recover: the open fails cleanly, and a later open works
    // and has all the data.
    for which in ["sync", "write"] {
        for n in 0..12u64 {
            let fs = Arc::new(FaultFs::new());
            let dir = Path::new("/f5");
            let db = Db::open(dir, common::small_options().fs(fs.clone())).unwrap();
            for i in 0..30u32 {
                db.put(format!("c{i:03}").as_bytes(), b"v").unwrap();
            }
            db.close().unwrap();
            drop(db);
            let f = Some(Fault {
                after: n,
                kind: ErrorKind::Other,
                torn: true,
                sticky: false,
                path_contains: String::new(),
            });
            if which == "sync" {
                fs.set_sync_fault(f);
            } else {
                fs.set_write_fault(f);
            }
            let first = Db::open(dir, common::small_options().fs(fs.clone()));
            drop(first);
            fs.set_sync_fault(None);
            fs.set_write_fault(None);
            let crashed = Arc::new(fs.crash());
            let db = Db::open(dir, common::small_options().fs(crashed))
                .unwrap_or_else(|e| panic!("{which} fault #{n}: reopen failed: {e}"));
            for i in 0..30u32 {
                assert_eq!(
                    db.get(format!("c{i:03}").as_bytes()).unwrap(),
                    Some(b"v".to_vec()),
                    "{which} fault #{n}: key {i}"
                );
            }
        }
    }
}

#[test]
fn a_creation_cut_short_can_be_retried() {
    // The first open of a new database fails (or the power goes) after its
    // log and manifest exist but before CURRENT names the manifest: nothing
    // was acknowledged, so a later open must start the database afresh.
    for (path, sync) in [("CURRENT", false), ("CURRENT", true), ("MANIFEST", true)] {
        let fs = Arc::new(FaultFs::new());
        let dir = Path::new("/f6");
        let f = fault(ErrorKind::StorageFull, path, false, false);
        if sync {
            fs.set_sync_fault(f);
        } else {
            fs.set_write_fault(f);
        }
        assert!(
            Db::open(dir, common::small_options().fs(fs.clone())).is_err(),
            "{path}: the fault should fail the open"
        );
        fs.set_sync_fault(None);
        fs.set_write_fault(None);
        for (label, fs) in [("power cut", Arc::new(fs.crash())), ("restart", fs.clone())] {
            let db = Db::open(dir, common::small_options().fs(fs)).unwrap_or_else(|e| {
                panic!("{path} ({label}): a cut-short creation is stranded: {e}")
            });
            db.put(b"k", b"v").unwrap();
            assert_eq!(db.get(b"k").unwrap(), Some(b"v".to_vec()));
            db.close().unwrap();
        }
    }
    // But a directory whose log holds data and whose CURRENT is gone is
    // damage, not an unfinished creation.
    let d = tempfile::tempdir().unwrap();
    let db = Db::open(d.path(), common::small_options()).unwrap();
    db.put(b"k", b"v").unwrap();
    std::mem::forget(db); // as a crash: the write stays in the log
    std::fs::remove_file(d.path().join("CURRENT")).unwrap();
    std::fs::remove_file(d.path().join("LOCK")).unwrap();
    match Db::open(d.path(), common::small_options()) {
        Err(Error::Corruption { detail, .. }) => assert!(detail.contains("holds data"), "{detail}"),
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(_) => panic!("expected Corruption, the open succeeded and would drop the logged write"),
    }
}
