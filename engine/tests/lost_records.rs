//! Damage that leaves a file looking valid: a manifest or an older log cut
//! exactly at a record boundary (or emptied). Each reads as a shorter but
//! well-formed file, so only cross-checks catch it: the log named by the
//! manifest's last edit must exist, and batch sequence numbers must run on
//! without a gap across logs. Expected: `Error::Corruption` naming the
//! damaged file, or (when nothing acknowledged is lost) the full state.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::Model;
use engine::Db;
use engine::files::{self, FileKind};
use engine::fs::{Fault, FaultFs, FileSystem};
use engine::wal::record::{RecordReader, end_of_nonzero};
use kv_api::{Error, KvStore, WriteOptions};

const DIR: &str = "/lost";

fn record_ends(data: &[u8]) -> Vec<usize> {
    let mut r = RecordReader::new(data);
    let mut out = vec![0];
    while let Ok(Some((off, payload))) = r.next_record() {
        out.push(off as usize + 12 + payload.len());
    }
    out
}

fn names(fs: &FaultFs, kind: fn(FileKind) -> bool) -> Vec<String> {
    let mut v: Vec<String> = fs
        .files(Path::new(DIR))
        .into_iter()
        .filter(|n| files::parse(n).is_some_and(kind))
        .collect();
    v.sort();
    v
}

/// Open the image with `file` cut to `len`: either an exact model or a
/// corruption error naming `file`.
fn check(image: &FaultFs, model: &Model, file: &str, len: usize) {
    let fs = image.crash();
    fs.set_len(&Path::new(DIR).join(file), len).unwrap();
    match Db::open(Path::new(DIR), common::small_options().fs(Arc::new(fs))) {
        Ok(db) => common::assert_matches(&db, model, &format!("{file} cut at {len}")),
        Err(e @ Error::Corruption { .. }) => {
            assert!(e.to_string().contains(file), "{file} cut at {len}: {e}")
        }
        Err(e) => panic!("{file} cut at {len}: not a corruption error: {e}"),
    }
}

#[test]
fn a_manifest_cut_at_any_record_boundary_is_detected_or_harmless() {
    let fs = FaultFs::new();
    let db = Db::open(
        Path::new(DIR),
        common::small_options().fs(Arc::new(fs.clone())),
    )
    .unwrap();
    let mut model = Model::new();
    for i in 0..3000u32 {
        let (k, v) = (format!("k{:05}", i * 7 % 3001), format!("v{i}"));
        db.put(k.as_bytes(), v.as_bytes()).unwrap();
        model.insert(k.into_bytes(), v.into_bytes());
    }
    db.write(kv_api::WriteBatch::new(), &WriteOptions::SYNC)
        .unwrap();
    let image = fs.crash();
    drop(db);
    let manifest = names(&image, |k| matches!(k, FileKind::Manifest(_)))
        .pop()
        .unwrap();
    let data = image.read_all(&Path::new(DIR).join(&manifest)).unwrap();
    let ends = record_ends(&data);
    assert!(ends.len() > 4, "the workload made too few manifest edits");
    for &end in ends.iter().filter(|&&e| e < data.len()) {
        check(&image, &model, &manifest, end);
    }
}

#[test]
fn an_older_log_cut_or_emptied_is_corruption() {
    let fs = FaultFs::new();
    let db = Db::open(
        Path::new(DIR),
        common::small_options().fs(Arc::new(fs.clone())),
    )
    .unwrap();
    let mut model = Model::new();
    let mut i = 0u32;
    let mut put = |db: &Db, model: &mut Model| {
        let (k, v) = (format!("k{i:05}"), format!("value-{i}"));
        db.write(
            {
                let mut b = kv_api::WriteBatch::new();
                b.put(k.clone(), v.clone());
                b
            },
            &WriteOptions::SYNC,
        )
        .unwrap();
        model.insert(k.into_bytes(), v.into_bytes());
        i += 1;
    };
    for _ in 0..20 {
        put(&db, &mut model);
    }
    // Table writes fail from now on, so frozen memtables keep their logs.
    fs.set_write_fault(Some(Fault {
        after: 0,
        kind: std::io::ErrorKind::StorageFull,
        torn: false,
        sticky: true,
        path_contains: ".sst".into(),
    }));
    while names(&fs, |k| matches!(k, FileKind::Log(_))).len() < 3 {
        put(&db, &mut model);
    }
    put(&db, &mut model);
    let image = fs.crash();
    drop(db);
    let logs = names(&image, |k| matches!(k, FileKind::Log(_)));
    for older in &logs[..logs.len() - 1] {
        let data = image.read_all(&Path::new(DIR).join(older)).unwrap();
        let ends = record_ends(&data);
        // Logs are preallocated: their records end before the file does.
        let written = end_of_nonzero(&data) as usize;
        assert_eq!(ends.last().copied(), Some(written), "{older}");
        // Cutting only the zero tail loses nothing.
        check(&image, &model, older, written);
        for len in ends.iter().copied().chain([written / 2, written - 1]) {
            if len < written {
                let fs = image.crash();
                fs.set_len(&Path::new(DIR).join(older), len).unwrap();
                let r = Db::open(Path::new(DIR), common::small_options().fs(Arc::new(fs)));
                match r {
                    Err(e @ Error::Corruption { .. }) => {
                        assert!(e.to_string().contains(older.as_str()), "{e}")
                    }
                    Err(e) => panic!("{older} cut at {len}: {e}"),
                    Ok(_) => panic!("{older} cut at {len} of {} opened", data.len()),
                }
            }
        }
    }
    // The newest log may lose a tail (a torn write): a prefix, no error.
    let newest = logs.last().unwrap();
    let data = image.read_all(&Path::new(DIR).join(newest)).unwrap();
    let written = end_of_nonzero(&data) as usize;
    let fs = image.crash();
    fs.set_len(&Path::new(DIR).join(newest), written - 1)
        .unwrap();
    let db = Db::open(Path::new(DIR), common::small_options().fs(Arc::new(fs))).unwrap();
    let mut shorter = model.clone();
    shorter.pop_last();
    common::assert_matches(&db, &shorter, "newest log torn");
    db.close().unwrap();
    // Untouched: everything is there.
    check(&image, &model, newest, data.len());
}
