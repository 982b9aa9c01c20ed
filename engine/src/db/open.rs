//! Opening a database: lock, recover, clean up, start the flush thread.
//!
//! 1. Take `LOCK` (flock): a second opener, in this process or another,
//!    gets `Error::Locked`.
//! 2. Read `CURRENT` and replay its manifest (strict: see `manifest`).
//!    A directory with no `CURRENT` and no database files is a new database.
//! 3. Replay every log numbered at or above the manifest's log number, in
//!    order, into a memtable (written out as a table whenever it fills).
//!    A bad record in the *last* log with no valid record after it is a torn
//!    tail: the log is truncated there. Any other bad record is corruption.
//! 4. Write what was replayed as an L0 table, then a fresh manifest holding
//!    the whole state, and switch `CURRENT` to it; start a new log.
//! 5. Remove what the new state does not reference: older manifests and
//!    logs, tables no manifest lists (a flush cut short by a crash), temp
//!    files.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use kv_api::{Error, Result};
use parking_lot::{Condvar, Mutex, RwLock};

use super::files::{self, FileKind};
use super::{BgState, Inner, SuperVersion, WriteState};
use crate::cache::{BlockCache, TableCache};
use crate::key::Kind;
use crate::memtable::Memtable;
use crate::options::Options;
use crate::stats::Counters;
use crate::version::Version;
use crate::version::edit::VersionEdit;
use crate::version::manifest::{self, ManifestWriter, Recovered};
use crate::wal::record::{self, RecordReader, resync_finds_record};
use crate::wal::{LogWriter, batch};

pub(crate) fn open(dir: &Path, opts: Options) -> Result<Arc<Inner>> {
    let fs = Arc::clone(&opts.fs);
    fs.create_dir_all(dir)
        .map_err(|e| Error::io("create database directory", dir, e))?;
    let lock_path = dir.join(files::LOCK);
    let lock = fs.lock(&lock_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            Error::Locked {
                path: lock_path.clone(),
            }
        } else {
            Error::io("lock database", &lock_path, e)
        }
    })?;
    let names = fs
        .list(dir)
        .map_err(|e| Error::io("list database directory", dir, e))?;
    let kinds: Vec<(String, FileKind)> = names
        .iter()
        .filter_map(|n| files::parse(n).map(|k| (n.clone(), k)))
        .collect();
    let current = manifest::read_current(&*fs, dir)?;
    let had_manifest = current.is_some();
    let manifest_name = current.clone();
    let rec = match current {
        Some(name) => {
            let path = dir.join(name);
            let rec = manifest::replay(&*fs, &path)?;
            // Every edit names the oldest log still holding unflushed
            // writes, and logs are deleted only after an edit retiring them
            // was fsynced whole. So the log named by the last edit read
            // must exist: if it is gone, later edits (which retired it)
            // were lost, whether cut mid-record or exactly at a record
            // boundary, and opening would silently drop the tables they
            // added.
            let named = files::log_path(dir, rec.log_number);
            if rec.log_number > 0 && !fs.exists(&named) {
                let at = rec.torn_tail.unwrap_or(rec.size);
                return Err(Error::corruption(
                    &path,
                    at,
                    format!(
                        "the manifest's last edit names log {} as the oldest unflushed one, but it is gone: \
                         later edits (which retired it) are missing, so the manifest lost records \
                         (cut short or damaged); the tables those edits added would be lost. \
                         Restore the database directory from a backup",
                        named
                            .file_name()
                            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                    ),
                ));
            }
            rec
        }
        None => {
            // CURRENT is written last when a database is created and only
            // ever replaced by rename afterwards, so its absence means the
            // creation never finished. Nothing was acknowledged then: if no
            // table and no log record exists, start afresh (the leftovers
            // are removed below). Anything holding data is not ours to drop.
            for (name, kind) in &kinds {
                let holds_data = match kind {
                    FileKind::Table(_) => true,
                    // Nothing is logged before a creation finishes, so any
                    // non-zero byte in a log is data (zeros are a
                    // preallocated tail).
                    FileKind::Log(_) => {
                        let p = dir.join(name);
                        let data = fs
                            .read_all(&p)
                            .map_err(|e| Error::io("read write-ahead log", &p, e))?;
                        record::end_of_nonzero(&data) > 0
                    }
                    _ => false,
                };
                if holds_data {
                    return Err(Error::corruption(
                        dir.join(files::CURRENT),
                        0,
                        format!("CURRENT is missing but {name} holds data"),
                    ));
                }
            }
            Recovered {
                next_file: 1,
                ..Recovered::default()
            }
        }
    };
    let max_seen = kinds
        .iter()
        .filter_map(|(_, k)| match k {
            FileKind::Log(n) | FileKind::Table(n) | FileKind::Manifest(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let next_file = AtomicU64::new(rec.next_file.max(max_seen.saturating_add(1)).max(1));
    let alloc = || next_file.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    for (_, f) in rec.version.files() {
        let p = files::table_path(dir, f.number);
        if !fs.exists(&p) {
            return Err(Error::corruption(
                p,
                0,
                format!(
                    "table {} listed in the manifest {} is missing (deleted or lost; or the \
                     manifest lost the later edits that replaced it)",
                    f.number,
                    manifest_name.as_deref().unwrap_or("?")
                ),
            ));
        }
    }
    let mut version: Version = rec.version.clone();
    let mut last_seq = rec.last_sequence.max(version.max_seq());
    let stats = Counters::default();

    // Replay logs.
    let mut logs: Vec<u64> = kinds
        .iter()
        .filter_map(|(_, k)| match k {
            FileKind::Log(n) if *n >= rec.log_number => Some(*n),
            _ => None,
        })
        .collect();
    logs.sort_unstable();
    let mut mem = Memtable::new(0, opts.write_buffer_size);
    let mut new_files = Vec::new();
    // Sequence numbers run without a gap from one batch to the next, across
    // logs, starting right after the manifest's last sequence: a log older
    // than the newest is complete (it is fsynced before the next one is
    // started), so a gap means records were lost from it (a cut exactly at
    // a record boundary, or an emptied file), which no crash can cause.
    let mut expect_seq = had_manifest.then(|| rec.last_sequence + 1);
    // The log whose records precede the next one read (for the error).
    let mut prev_log: Option<(std::path::PathBuf, u64)> = None;
    for (i, &n) in logs.iter().enumerate() {
        let path = files::log_path(dir, n);
        let data = fs
            .read_all(&path)
            .map_err(|e| Error::io("read write-ahead log", &path, e))?;
        let mut r = RecordReader::new(&data);
        // Where the log's written data ends (before a preallocated tail).
        let end;
        loop {
            match r.next_record() {
                Ok(Some((off, payload))) => {
                    let (first, ops) =
                        batch::decode(payload).map_err(|d| Error::corruption(&path, off, d))?;
                    if let Some(want) = expect_seq {
                        if first != want {
                            let (blame, at) = match &prev_log {
                                Some((p, end)) if off == 0 => (p.clone(), *end),
                                _ => (path.clone(), off),
                            };
                            return Err(Error::corruption(
                                blame,
                                at,
                                format!(
                                    "write-ahead log records are missing: the batch at offset {off} of {} \
                                     starts at sequence {first}, expected {want} \
                                     (an older log was cut short or emptied); \
                                     committed writes would be lost. Restore the log from a backup",
                                    path.display()
                                ),
                            ));
                        }
                    }
                    expect_seq = Some(first + ops.len() as u64);
                    for op in ops {
                        if op.kind == Kind::RangeDelete && op.key >= op.value {
                            continue;
                        }
                        mem.add(op.seq, op.kind, op.key, op.value);
                        last_seq = last_seq.max(op.seq);
                    }
                    if mem.approx_bytes() >= opts.write_buffer_size {
                        let number = alloc();
                        if let Some(m) =
                            super::flush::write_table(&*fs, dir, &opts, &mem, number, &[])?
                        {
                            new_files.push(m);
                        }
                        mem = Memtable::new(0, opts.write_buffer_size);
                    }
                }
                Ok(None) => {
                    end = data.len() as u64;
                    break;
                }
                Err(bad) => {
                    let last = i + 1 == logs.len();
                    end = bad.offset;
                    if record::zero_header_at(&data, bad.offset) {
                        // The end of the written data: the rest is the
                        // preallocated tail, zeros unless a write was torn
                        // (its later pages landed, its first did not) or
                        // the unused space was damaged.
                        let junk_end = record::end_of_nonzero(&data);
                        if junk_end <= bad.offset {
                            break;
                        }
                        if resync_finds_record(&data, bad.offset) {
                            return Err(Error::corruption(
                                &path,
                                bad.offset,
                                "a record header of zeros (the end of a log's written data) \
                                 is followed by valid records: records were lost"
                                    .to_string(),
                            ));
                        }
                        if last {
                            fs.truncate(&path, bad.offset)
                                .map_err(|e| Error::io("truncate torn log tail", &path, e))?;
                            Counters::add(&stats.torn_tail_bytes, junk_end - bad.offset);
                        }
                        // In an older log such bytes hold no record (none
                        // checks out), and a record lost from its end would
                        // show as a sequence gap at the next log: nothing
                        // to recover or refuse.
                        break;
                    }
                    if last && !resync_finds_record(&data, bad.offset) {
                        // A torn tail: cut it off so the log ends cleanly.
                        fs.truncate(&path, bad.offset)
                            .map_err(|e| Error::io("truncate torn log tail", &path, e))?;
                        let junk_end = record::end_of_nonzero(&data).max(bad.offset);
                        Counters::add(&stats.torn_tail_bytes, junk_end - bad.offset);
                        break;
                    }
                    let detail = if last {
                        bad.detail
                    } else {
                        format!(
                            "{} in a log older than the newest (older logs are complete, so this is damage, not a torn write)",
                            bad.detail
                        )
                    };
                    return Err(Error::corruption(&path, bad.offset, detail));
                }
            }
        }
        prev_log = Some((path, end));
    }
    if !mem.is_empty() {
        let number = alloc();
        if let Some(m) = super::flush::write_table(&*fs, dir, &opts, &mem, number, &[])? {
            new_files.push(m);
        }
    }
    drop(mem);
    if !new_files.is_empty() {
        let edit = VersionEdit {
            new_files: new_files.into_iter().map(|m| (0, m)).collect(),
            ..VersionEdit::default()
        };
        version = version.apply(&edit);
    }

    // New log, new manifest, switch CURRENT.
    let log_number = alloc();
    let manifest_number = alloc();
    let mut snap = version.snapshot_edit();
    snap.log_number = Some(log_number);
    snap.next_file = Some(next_file.load(std::sync::atomic::Ordering::Acquire));
    snap.last_sequence = Some(last_seq);
    let log_path = files::log_path(dir, log_number);
    let log_file = fs
        .create(&log_path)
        .map_err(|e| Error::io("create write-ahead log", &log_path, e))?;
    // Creating CURRENT syncs the directory, which also makes the new log's
    // entry and any table written above durable.
    let manifest = ManifestWriter::create(&*fs, dir, manifest_number, &snap)?;

    // Remove what the new state does not reference.
    let live: std::collections::HashSet<u64> = version.files().map(|(_, f)| f.number).collect();
    for (name, kind) in &kinds {
        let doomed = match kind {
            FileKind::Log(n) => *n < log_number,
            FileKind::Table(n) => !live.contains(n),
            FileKind::Manifest(n) => *n != manifest_number,
            FileKind::Temp => true,
            FileKind::Current | FileKind::Lock => false,
        };
        if doomed {
            let _ = fs.remove(&dir.join(name));
        }
    }
    fs.sync_dir(dir)
        .map_err(|e| Error::io("fsync database directory", dir, e))?;

    let events = super::events::EventLog::new(Arc::clone(&fs), dir);
    let torn = Counters::get(&stats.torn_tail_bytes);
    if torn > 0 {
        events.info(&format!(
            "open: cut a torn tail of {torn} bytes from the newest write-ahead log"
        ));
    }
    let blocks = Arc::new(BlockCache::new(opts.block_cache_bytes));
    let tables = TableCache::new(Arc::clone(&fs), dir, opts.max_open_tables, blocks);
    let inner = Arc::new(Inner {
        dir: dir.to_path_buf(),
        fs,
        sv: RwLock::new(Arc::new(SuperVersion {
            mem: Arc::new(Memtable::new(log_number, opts.write_buffer_size)),
            imms: Vec::new(),
            version: Arc::new(version),
        })),
        visible_seq: AtomicU64::new(last_seq),
        queue: Mutex::new(VecDeque::new()),
        queue_cv: Condvar::new(),
        write: Mutex::new(WriteState {
            log: LogWriter::new(
                log_file,
                log_path,
                log_number,
                crate::wal::preallocate_chunk(opts.write_buffer_size),
            ),
            last_seq,
            buf: Vec::new(),
        }),
        manifest: Mutex::new(manifest),
        next_file,
        snapshots: Mutex::new(BTreeMap::new()),
        bg: Mutex::new(BgState {
            stop: false,
            error: None,
            attempts: 0,
        }),
        bg_cv: Condvar::new(),
        done_cv: Condvar::new(),
        closed: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
        poison_reason: Mutex::new(None),
        tables,
        stats,
        lock: Mutex::new(Some(lock)),
        thread: Mutex::new(None),
        compaction: Mutex::new(super::compact::CompactionState::new()),
        compact_cv: Condvar::new(),
        compactors: Mutex::new(Vec::new()),
        obsolete: Mutex::new(Vec::new()),
        closing: AtomicBool::new(false),
        events,
        opts,
    });
    let bg = Arc::clone(&inner);
    let handle = std::thread::Builder::new()
        .name("engine-flush".into())
        .spawn(move || super::flush::run(bg))
        .map_err(|e| Error::io("start flush thread", dir, e))?;
    *inner.thread.lock() = Some(handle);
    for i in 0..inner.opts.max_background_compactions {
        let bg = Arc::clone(&inner);
        match std::thread::Builder::new()
            .name(format!("engine-compact-{i}"))
            .spawn(move || super::compact::run(bg))
        {
            Ok(h) => inner.compactors.lock().push(h),
            Err(e) => {
                let _ = inner.close();
                return Err(Error::io("start compaction thread", dir, e));
            }
        }
    }
    Ok(inner)
}
