//! Compaction in the running database: the background threads, installing
//! results, removing obsolete tables, manual compaction, and manifest
//! rollover. The design (what is picked, what is dropped) is in
//! [`crate::compaction`]; this module is the plumbing.
//!
//! ```text
//!   flush installs L0 table ──notify──► compaction thread(s)
//!                                        │ lock `compaction`: pick a
//!                                        │ compaction that conflicts with
//!                                        │ no running one, mark it running
//!                                        ▼
//!                                  job::run (no lock held; readers and
//!                                  writers go on)
//!                                        │ fsync outputs + directory
//!                                        ▼
//!                           lock `manifest`: append the edit, publish the
//!                           new version, roll the manifest over if large
//!                                        │
//!                                        ▼
//!          inputs join `obsolete`; their files are removed once no
//!          version (reader, iterator, snapshot) holds them any more
//! ```
//!
//! A failed compaction (an I/O error, a full disk) removes its outputs,
//! counts the failure, writes it to the `LOG` and pauses every compaction
//! thread for 100 ms, doubling with each consecutive failure up to ~13 s;
//! the next success clears it. Writers held back at the L0 stop trigger
//! get the error instead of waiting for ever. A failed manifest write
//! poisons the handle, as for flushes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kv_api::{Error, Result};

use super::{Inner, SuperVersion, files, flush};
use crate::compaction::picker::{self, Running, Shape};
use crate::compaction::{Compaction, job};
use crate::stats::Counters;
use crate::version::edit::{FileMeta, VersionEdit};
use crate::version::manifest::{ManifestWriter, RolloverError};
use crate::version::{NUM_LEVELS, Version};

/// Shared state of the compaction threads.
pub(crate) struct CompactionState {
    pub running: Running,
    /// Per-level compact pointers (round robin).
    pub pointers: Vec<Vec<u8>>,
    pub stop: bool,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// No automatic compaction starts before this instant (back-off).
    pub retry_at: Option<Instant>,
    /// The last failure, cleared by the next success.
    pub last_error: Option<Error>,
}

impl CompactionState {
    pub fn new() -> Self {
        CompactionState {
            running: Running::default(),
            pointers: vec![Vec::new(); NUM_LEVELS],
            stop: false,
            failures: 0,
            retry_at: None,
            last_error: None,
        }
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// A compaction thread's loop.
pub(crate) fn run(inner: Arc<Inner>) {
    let shape = Shape::new(&inner.opts);
    loop {
        let (c, id) = {
            let mut st = inner.compaction.lock();
            loop {
                if st.stop {
                    return;
                }
                let now = Instant::now();
                let ready =
                    !inner.poisoned.load(Ordering::Acquire) && st.retry_at.is_none_or(|t| now >= t);
                if ready {
                    let v = Arc::clone(&inner.super_version().version);
                    let CompactionState {
                        running, pointers, ..
                    } = &mut *st;
                    if let Some(c) = picker::pick(&v, running, &shape, pointers) {
                        let id = st.running.start(&c);
                        break (c, id);
                    }
                }
                let wait = st.retry_at.map_or(Duration::from_secs(1), |t| {
                    t.saturating_duration_since(now)
                        .max(Duration::from_millis(1))
                });
                inner.compact_cv.wait_for(&mut st, wait);
                // Tables whose last reader has gone since the last check.
                purge_obsolete(&inner);
            }
        };
        let r = execute(&inner, &c);
        finish(&inner, id, &c, r, "");
        drop(c);
        purge_obsolete(&inner);
        inner.compact_cv.notify_all();
        inner.done_cv.notify_all();
    }
}

/// Record the end of compaction `id`: clear or count its failure.
fn finish(inner: &Inner, id: u64, c: &Compaction, r: Result<()>, what: &str) -> Option<Error> {
    let mut st = inner.compaction.lock();
    st.running.finish(id, c);
    match r {
        Ok(()) => {
            if st.failures > 0 {
                inner.events.info(&format!(
                    "compaction L{}->L{} succeeded after {} failed attempts",
                    c.level, c.output_level, st.failures
                ));
            }
            st.failures = 0;
            st.retry_at = None;
            st.last_error = None;
            None
        }
        Err(Error::Closed) if inner.closing.load(Ordering::Acquire) => None,
        Err(e) => {
            st.failures += 1;
            let pause = FIRST_BACKOFF * (1u32 << (st.failures - 1).min(7));
            st.retry_at = Some(Instant::now() + pause);
            Counters::add(&inner.stats.compaction_failures, 1);
            inner.events.error(&format!(
                "{what}compaction L{}->L{} of tables {:?} failed (attempt {}, retry in {} ms): {e}",
                c.level,
                c.output_level,
                c.all_inputs().map(|f| f.number).collect::<Vec<_>>(),
                st.failures,
                pause.as_millis()
            ));
            let shared = super::write::share(&e);
            st.last_error = Some(e);
            Some(shared)
        }
    }
}

/// Run `c` and install its result.
fn execute(inner: &Arc<Inner>, c: &Compaction) -> Result<()> {
    let t = Instant::now();
    if inner.poisoned.load(Ordering::Acquire) {
        return Err(Error::Poisoned(
            "compaction skipped on a poisoned handle".into(),
        ));
    }
    if c.trivial_move {
        install(inner, c.edit(&[]))?;
        Counters::add(&inner.stats.trivial_moves, c.inputs.len() as u64);
        Counters::add(&inner.stats.compactions, 1);
        return Ok(());
    }
    let snapshots: Vec<u64> = inner.snapshots.lock().keys().copied().collect();
    let alloc = || inner.new_file_number();
    let env = job::Env {
        fs: &*inner.fs,
        dir: &inner.dir,
        opts: &inner.opts,
        tables: &inner.tables,
        snapshots: &snapshots,
        new_file: &alloc,
        abort: &inner.closing,
    };
    let out = job::run(c, &env)?;
    let remove_outputs = || {
        for m in &out.outputs {
            let _ = inner.fs.remove(&files::table_path(&inner.dir, m.number));
        }
    };
    if !out.outputs.is_empty() {
        if let Err(e) = inner.fs.sync_dir(&inner.dir) {
            remove_outputs();
            return Err(Error::io("fsync database directory", &inner.dir, e));
        }
    }
    if let Err(e) = inner.check_writable() {
        remove_outputs();
        return Err(e);
    }
    // A failed manifest write poisons the handle; the outputs stay (the
    // edit may have reached the disk) and the next open sorts them out.
    install(inner, c.edit(&out.outputs))?;
    let s = &inner.stats;
    Counters::add(&s.compactions, 1);
    Counters::add(
        &s.compaction_bytes,
        out.outputs.iter().map(|m| m.size).sum(),
    );
    Counters::add(
        &s.dropped_versions,
        out.dropped_shadowed + out.dropped_covered,
    );
    Counters::add(&s.dropped_tombstones, out.dropped_tombstones);
    Counters::add(&s.dropped_range_tombstones, out.dropped_range_tombstones);
    Counters::add(&s.compaction_micros, t.elapsed().as_micros() as u64);
    inner.obsolete.lock().extend(c.all_inputs().cloned());
    Ok(())
}

/// Append `edit` to the manifest and publish the version it makes.
fn install(inner: &Inner, mut edit: VersionEdit) -> Result<()> {
    let mut m = inner.manifest.lock();
    edit.next_file = Some(inner.next_file.load(Ordering::Acquire));
    if let Err(e) = m.append(&edit) {
        inner.poison(&e);
        inner
            .events
            .error(&format!("manifest write failed, writes refused: {e}"));
        return Err(e);
    }
    let version = {
        let mut sv = inner.sv.write();
        let v = Arc::new(sv.version.apply(&edit));
        *sv = Arc::new(SuperVersion {
            mem: Arc::clone(&sv.mem),
            imms: sv.imms.clone(),
            version: Arc::clone(&v),
        });
        v
    };
    debug_assert!(version.check().is_ok(), "{:?}", version.check());
    maybe_rollover(inner, &mut m, &version);
    Ok(())
}

/// Rewrite the manifest as a snapshot of `version` when it has grown past
/// `max_manifest_bytes`. Called with the manifest lock held, right after
/// an edit that made `version`.
pub(crate) fn maybe_rollover(inner: &Inner, m: &mut ManifestWriter, version: &Version) {
    if m.size() < inner.opts.max_manifest_bytes.max(1) {
        return;
    }
    let number = inner.new_file_number();
    let next = inner.next_file.load(Ordering::Acquire);
    match m.rollover(&*inner.fs, &inner.dir, number, version, next) {
        Ok(()) => {
            Counters::add(&inner.stats.manifest_rollovers, 1);
            inner.events.info(&format!(
                "manifest rewritten as {}",
                files::manifest_name(number)
            ));
        }
        // Still on the old manifest: tried again after the next edit.
        Err(RolloverError::Abandoned(e)) => inner
            .events
            .error(&format!("manifest rollover failed (will retry): {e}")),
        Err(RolloverError::Fatal(e)) => {
            inner.poison(&e);
            inner.events.error(&format!(
                "manifest rollover failed after switching CURRENT, writes refused: {e}"
            ));
        }
    }
}

/// Remove the files of obsolete tables no version references any more.
pub(crate) fn purge_obsolete(inner: &Inner) {
    let doomed: Vec<Arc<FileMeta>> = {
        let mut o = inner.obsolete.lock();
        let (gone, keep): (Vec<_>, Vec<_>) = o.drain(..).partition(|f| Arc::strong_count(f) == 1);
        *o = keep;
        gone
    };
    for f in doomed {
        inner.tables.evict(f.number);
        let _ = inner.fs.remove(&files::table_path(&inner.dir, f.number));
    }
}

/// `Db::compact`: flush, then compact level by level down to the deepest
/// level that holds data, then rewrite that level on its own, so that
/// everything ends up there and versions no snapshot needs and tombstones
/// with nothing below them are dropped.
pub(crate) fn compact_all(inner: &Arc<Inner>) -> Result<()> {
    flush::flush_now(inner)?;
    let mut level = 0;
    loop {
        let deepest = {
            let v = &inner.super_version().version;
            (0..NUM_LEVELS).rev().find(|&l| !v.levels[l].is_empty())
        };
        let Some(deepest) = deepest else {
            return Ok(());
        };
        let bottom = deepest.max(1);
        if level > bottom {
            return Ok(());
        }
        // Down to the bottom level, then the bottom level on its own, so
        // that its tombstones and old versions go too.
        let output_level = (level + 1).min(bottom);
        let job = {
            let mut st = inner.compaction.lock();
            loop {
                if st.stop || inner.closing.load(Ordering::Acquire) {
                    return Err(Error::Closed);
                }
                inner.check_writable()?;
                let v = Arc::clone(&inner.super_version().version);
                match picker::pick_whole_level(&v, &st.running, level, output_level) {
                    Ok(None) => break None,
                    Ok(Some(c)) => {
                        let id = st.running.start(&c);
                        break Some((c, id));
                    }
                    Err(()) => {
                        inner
                            .compact_cv
                            .wait_for(&mut st, Duration::from_millis(50));
                    }
                }
            }
        };
        if let Some((c, id)) = job {
            let r = execute(inner, &c);
            let failed = finish(inner, id, &c, r, "manual ");
            drop(c);
            purge_obsolete(inner);
            inner.compact_cv.notify_all();
            inner.done_cv.notify_all();
            if let Some(e) = failed {
                return Err(e);
            }
        }
        level += 1;
    }
}

/// `Db::wait_for_compactions`: until no compaction runs and no level needs
/// one (or the last attempt failed: its error).
pub(crate) fn wait_idle(inner: &Arc<Inner>) -> Result<()> {
    if inner.opts.max_background_compactions == 0 {
        return Ok(());
    }
    let shape = Shape::new(&inner.opts);
    let mut st = inner.compaction.lock();
    loop {
        inner.check_open()?;
        if let Some(e) = &st.last_error {
            return Err(super::write::share(e));
        }
        let sv = inner.super_version();
        let pending = picker::scores(&sv.version, &st.running, &shape)
            .first()
            .is_some_and(|(s, _)| *s >= 1.0);
        if st.running.is_empty() && !pending && sv.imms.is_empty() {
            return Ok(());
        }
        if inner.poisoned.load(Ordering::Acquire) {
            inner.check_writable()?;
        }
        inner.compact_cv.notify_all();
        inner
            .compact_cv
            .wait_for(&mut st, Duration::from_millis(20));
    }
}

/// Stop the compaction threads (aborting running compactions) and wait
/// for them.
pub(crate) fn shutdown(inner: &Arc<Inner>) {
    inner.closing.store(true, Ordering::Release);
    inner.compaction.lock().stop = true;
    inner.compact_cv.notify_all();
    let handles = std::mem::take(&mut *inner.compactors.lock());
    for h in handles {
        if h.thread().id() != std::thread::current().id() {
            let _ = h.join();
        }
    }
    purge_obsolete(inner);
}
