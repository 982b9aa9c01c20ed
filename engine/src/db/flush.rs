//! Flushing: frozen memtables become L0 tables, on a background thread.
//!
//! The thread takes the oldest frozen memtable, writes it as a table
//! (keeping, for each key, the newest version plus any older version that a
//! live snapshot still sees), fsyncs the table and the directory, appends a
//! version edit to the manifest (the new table, and the oldest log still
//! needed), installs the new version and deletes the logs that are no longer
//! needed. A failed table write is retried after a pause and reported in the
//! statistics and to `flush()` callers; a failed manifest write poisons the
//! handle (the manifest's state is then unknown).
//!
//! After each flush the compaction threads are woken (see
//! [`compact`](super::compact)): they install their edits through the same
//! manifest lock and consult the same snapshot list.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use kv_api::{Error, Result};

use super::{Inner, SuperVersion, files};
use crate::fs::FileSystem;
use crate::memtable::Memtable;
use crate::options::Options;
use crate::sstable::builder::TableBuilder;
use crate::stats::Counters;
use crate::version::edit::{FileMeta, VersionEdit};

/// Write `mem` as table `number` in `dir`. Returns `None` when nothing
/// needed writing. `snapshots` are the live snapshot sequences, ascending.
pub(crate) fn write_table(
    fs: &dyn FileSystem,
    dir: &Path,
    opts: &Options,
    mem: &Memtable,
    number: u64,
    snapshots: &[u64],
) -> Result<Option<FileMeta>> {
    let tombs: Vec<_> = mem
        .fragments()
        .map(|f| f.tombstones().collect())
        .unwrap_or_default();
    if mem.map().is_empty() && tombs.is_empty() {
        return Ok(None);
    }
    let path = files::table_path(dir, number);
    let file = fs
        .create(&path)
        .map_err(|e| Error::io("create table", &path, e))?;
    let mut b = TableBuilder::new(file, path.clone(), opts.table_options(0));
    let mut ikey = Vec::new();
    let mut prev_user: Vec<u8> = Vec::new();
    let mut prev_seq = 0u64;
    let mut first = true;
    let result = (|| {
        mem.for_each(|user, trailer, value| {
            let seq = trailer >> 8;
            if !first && user == prev_user.as_slice() {
                // An older version: keep it only if a snapshot sees it and
                // not the newer one (some s with seq <= s < prev_seq).
                let i = snapshots.partition_point(|&s| s < seq);
                let seen = snapshots.get(i).is_some_and(|&s| s < prev_seq);
                if !seen {
                    return Ok(());
                }
            } else {
                prev_user.clear();
                prev_user.extend_from_slice(user);
                first = false;
            }
            prev_seq = seq;
            ikey.clear();
            ikey.extend_from_slice(user);
            ikey.extend_from_slice(&trailer.to_le_bytes());
            b.add(&ikey, value)
        })?;
        b.finish(&tombs)
    })();
    match result {
        Ok(s) => Ok(Some(FileMeta {
            number,
            size: s.size,
            smallest: s.smallest,
            largest: s.largest,
            smallest_seq: s.smallest_seq,
            largest_seq: s.largest_seq,
        })),
        Err(e) => {
            let _ = fs.remove(&path);
            Err(e)
        }
    }
}

/// The background flush loop.
pub(crate) fn run(inner: Arc<Inner>) {
    loop {
        let imm = {
            let mut bg = inner.bg.lock();
            loop {
                if bg.stop {
                    return;
                }
                if let Some(m) = inner.sv.read().imms.last().cloned() {
                    break m;
                }
                inner.bg_cv.wait(&mut bg);
            }
        };
        let r = flush_one(&inner, &imm);
        let failed = r.is_err();
        {
            let mut bg = inner.bg.lock();
            bg.attempts += 1;
            match r {
                Ok(()) => bg.error = None,
                Err(e) => {
                    Counters::add(&inner.stats.flush_errors, 1);
                    inner.events.error(&format!(
                        "flush of a memtable failed (retry in 200 ms): {e}"
                    ));
                    bg.error = Some(e);
                }
            }
        }
        inner.done_cv.notify_all();
        if failed {
            let mut bg = inner.bg.lock();
            if !bg.stop {
                inner.bg_cv.wait_for(&mut bg, Duration::from_millis(200));
            }
        }
    }
}

fn flush_one(inner: &Arc<Inner>, imm: &Arc<Memtable>) -> Result<()> {
    if inner.poisoned.load(Ordering::Acquire) {
        return Err(Error::Poisoned("flush skipped on a poisoned handle".into()));
    }
    let number = inner.new_file_number();
    let snapshots: Vec<u64> = inner.snapshots.lock().keys().copied().collect();
    let meta = write_table(&*inner.fs, &inner.dir, &inner.opts, imm, number, &snapshots)?;
    if meta.is_some() {
        inner
            .fs
            .sync_dir(&inner.dir)
            .map_err(|e| Error::io("fsync database directory", &inner.dir, e))?;
    }
    let mut manifest = inner.manifest.lock();
    let cur = inner.super_version();
    let log_number = cur
        .imms
        .iter()
        .filter(|m| !Arc::ptr_eq(m, imm))
        .map(|m| m.log_number())
        .chain(std::iter::once(cur.mem.log_number()))
        .min()
        .unwrap_or(0);
    let mut edit = VersionEdit {
        log_number: Some(log_number),
        next_file: Some(inner.next_file.load(Ordering::Acquire)),
        last_sequence: Some(imm.max_seq()),
        ..VersionEdit::default()
    };
    if let Some(m) = &meta {
        edit.new_files.push((0, m.clone()));
        Counters::add(&inner.stats.flush_bytes, m.size);
    }
    if let Err(e) = manifest.append(&edit) {
        inner.poison(&e);
        return Err(e);
    }
    let version = {
        let mut sv = inner.sv.write();
        let version = Arc::new(sv.version.apply(&edit));
        let imms = sv
            .imms
            .iter()
            .filter(|m| !Arc::ptr_eq(m, imm))
            .cloned()
            .collect();
        *sv = Arc::new(SuperVersion {
            mem: Arc::clone(&sv.mem),
            imms,
            version: Arc::clone(&version),
        });
        version
    };
    super::compact::maybe_rollover(inner, &mut manifest, &version);
    drop(manifest);
    drop(version);
    Counters::add(&inner.stats.flushes, 1);
    // A new L0 table: a compaction may be due.
    inner.compact_cv.notify_all();
    // Logs older than the oldest unflushed memtable are no longer needed.
    if let Ok(names) = inner.fs.list(&inner.dir) {
        for name in names {
            if let Some(files::FileKind::Log(n)) = files::parse(&name) {
                if n < log_number {
                    let _ = inner.fs.remove(&inner.dir.join(&name));
                }
            }
        }
    }
    Ok(())
}

/// `KvStore::flush`: sync the log, freeze the memtable if it holds anything
/// and wait until every frozen memtable is in a table.
pub(crate) fn flush_now(inner: &Arc<Inner>) -> Result<()> {
    inner.check_writable()?;
    let targets: Vec<Arc<Memtable>> = {
        let mut ws = inner.write.lock();
        inner.check_writable()?;
        super::write::make_room(inner, &mut ws, true)?;
        ws.log.sync().inspect_err(|e| inner.poison(e))?;
        inner.super_version().imms.clone()
    };
    if targets.is_empty() {
        return Ok(());
    }
    let mut bg = inner.bg.lock();
    let start_attempts = bg.attempts;
    loop {
        let sv = inner.super_version();
        if !sv
            .imms
            .iter()
            .any(|m| targets.iter().any(|t| Arc::ptr_eq(m, t)))
        {
            return Ok(());
        }
        if bg.stop {
            return Err(Error::Closed);
        }
        if bg.attempts > start_attempts {
            if let Some(e) = &bg.error {
                return Err(super::write::share(e));
            }
        }
        inner.bg_cv.notify_all();
        inner.done_cv.wait_for(&mut bg, Duration::from_millis(50));
    }
}
