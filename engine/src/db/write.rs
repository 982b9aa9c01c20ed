//! The write path: validation, group commit, memtable switches and stalls.
//!
//! Every writer enqueues itself. The writer at the front of the queue is the
//! *leader*: it takes a group of queued batches (up to 4 MiB, stopping
//! before any transaction commit that needs a conflict check, which always
//! leads its own group so it sees every earlier write applied), appends them
//! to the log with one `write`, fsyncs once if any of them asked for `sync`,
//! inserts them into the memtable, publishes the new sequence number and
//! wakes the followers. A lone writer is its own leader: no thread hop, two
//! short lock acquisitions.
//!
//! A failed log write or fsync poisons the handle: the log may now end in a
//! partial record, and an fsync error may have dropped dirty pages, so
//! nothing further can be promised (reopening recovers the durable prefix).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kv_api::{Error, Result, WriteBatch};
use parking_lot::Mutex;

use super::{Inner, SuperVersion, WriteState};
use crate::memtable::Memtable;
use crate::stats::Counters;
use crate::wal::{LogWriter, batch, record};

const MAX_GROUP_BYTES: usize = 4 << 20;

/// A queued write.
pub(crate) struct Writer {
    batch: WriteBatch,
    sync: bool,
    check: Option<u64>,
    result: Mutex<Option<Result<()>>>,
}

/// Commit `batch`; with `check = Some(read_seq)`, only if no key it writes
/// changed after `read_seq` (transactions).
pub(crate) fn write(
    inner: &Arc<Inner>,
    batch: WriteBatch,
    sync: bool,
    check: Option<u64>,
) -> Result<()> {
    batch.validate(&inner.opts.limits)?;
    inner.check_writable()?;
    if batch.is_empty() && check.is_none() {
        if sync {
            let mut ws = inner.write.lock();
            inner.check_writable()?;
            sync_log(inner, &mut ws)?;
        }
        return Ok(());
    }
    let w = Arc::new(Writer {
        batch,
        sync,
        check,
        result: Mutex::new(None),
    });
    let mut q = inner.queue.lock();
    q.push_back(Arc::clone(&w));
    loop {
        if let Some(r) = w.result.lock().take() {
            return r;
        }
        if q.front().is_some_and(|f| Arc::ptr_eq(f, &w)) {
            break;
        }
        inner.queue_cv.wait(&mut q);
    }
    // Leader: take a group from the front.
    let mut group: Vec<Arc<Writer>> = Vec::new();
    let mut bytes = 0usize;
    for x in q.iter() {
        if !group.is_empty()
            && (x.check.is_some() || bytes + x.batch.payload_len() > MAX_GROUP_BYTES)
        {
            break;
        }
        bytes += x.batch.payload_len();
        group.push(Arc::clone(x));
    }
    drop(q);
    let results = commit_group(inner, &group);
    let mut q = inner.queue.lock();
    let mut own = None;
    for (x, r) in group.iter().zip(results) {
        q.pop_front();
        if Arc::ptr_eq(x, &w) {
            own = Some(r);
        } else {
            *x.result.lock() = Some(r);
        }
    }
    inner.queue_cv.notify_all();
    drop(q);
    own.unwrap_or(Err(Error::Closed))
}

fn sync_log(inner: &Inner, ws: &mut WriteState) -> Result<()> {
    ws.log.sync().inspect_err(|e| inner.poison(e))?;
    Counters::add(&inner.stats.syncs, 1);
    Ok(())
}

/// Clone an error for each member of a failed group.
pub(crate) fn share(e: &Error) -> Error {
    match e {
        Error::Io { op, path, source } => Error::Io {
            op,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Corruption {
            file,
            offset,
            detail,
        } => Error::corruption(file.clone(), *offset, detail.clone()),
        Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
        Error::Conflict { key } => Error::Conflict { key: key.clone() },
        Error::Closed => Error::Closed,
        Error::Locked { path } => Error::Locked { path: path.clone() },
        Error::Poisoned(m) => Error::Poisoned(m.clone()),
        other => Error::Poisoned(other.to_string()),
    }
}

fn commit_group(inner: &Arc<Inner>, group: &[Arc<Writer>]) -> Vec<Result<()>> {
    let n = group.len();
    let fail_all = |e: Error| (0..n).map(|_| Err(share(&e))).collect::<Vec<_>>();
    let mut ws = inner.write.lock();
    if let Err(e) = inner.check_writable() {
        return fail_all(e);
    }
    if let Err(e) = make_room(inner, &mut ws, false) {
        return fail_all(e);
    }
    let mut results: Vec<Result<()>> = (0..n).map(|_| Ok(())).collect();
    if let Some(read_seq) = group[0].check {
        match super::read::find_conflict(inner, &group[0].batch, read_seq) {
            Ok(None) => {}
            Ok(Some(key)) => {
                Counters::add(&inner.stats.conflicts, 1);
                results[0] = Err(Error::Conflict { key });
            }
            Err(e) => results[0] = Err(e),
        }
    }
    // Encode every accepted batch as one record each, in one buffer.
    let mut buf = std::mem::take(&mut ws.buf);
    buf.clear();
    let mut seq = ws.last_seq + 1;
    let mut firsts = vec![0u64; n];
    let mut sync = false;
    let mut user_bytes = 0u64;
    for (i, w) in group.iter().enumerate() {
        if results[i].is_err() || w.batch.is_empty() {
            continue;
        }
        let at = record::begin_in_place(&mut buf);
        batch::encode(&mut buf, &w.batch, seq);
        record::finish_in_place(&mut buf, at);
        firsts[i] = seq;
        seq += w.batch.len() as u64;
        sync |= w.sync;
        user_bytes += w.batch.payload_len() as u64;
    }
    if !buf.is_empty() {
        if let Err(e) = ws.log.append(&buf) {
            inner.poison(&e);
            ws.buf = buf;
            return fail_all(e);
        }
        Counters::add(&inner.stats.log_bytes, buf.len() as u64);
    }
    if sync || group.iter().any(|w| w.sync) {
        if let Err(e) = sync_log(inner, &mut ws) {
            ws.buf = buf;
            return fail_all(e);
        }
    }
    if buf.capacity() <= 8 << 20 {
        ws.buf = buf;
    }
    let mem = Arc::clone(&inner.sv.read().mem);
    let mut batches = 0;
    for (i, w) in group.iter().enumerate() {
        if results[i].is_err() || w.batch.is_empty() {
            continue;
        }
        mem.add_batch(&w.batch, firsts[i]);
        batches += 1;
    }
    ws.last_seq = seq - 1;
    inner.visible_seq.store(ws.last_seq, Ordering::Release);
    Counters::add(&inner.stats.batches, batches);
    Counters::add(&inner.stats.groups, 1);
    Counters::add(&inner.stats.user_bytes, user_bytes);
    results
}

/// Make sure the memtable has room: switch it when full (or when `force`
/// and it is not empty), slowing or stopping while flushes are behind.
pub(crate) fn make_room(inner: &Arc<Inner>, ws: &mut WriteState, force: bool) -> Result<()> {
    let mut slowed = false;
    if !force {
        l0_backpressure(inner)?;
    }
    loop {
        let sv = inner.super_version();
        let full = sv.mem.approx_bytes() >= inner.opts.write_buffer_size;
        if !(full || (force && !sv.mem.is_empty())) {
            return Ok(());
        }
        let max_imm = inner.opts.max_immutable_memtables.max(1);
        if !force
            && !slowed
            && max_imm > 1
            && sv.imms.len() + 1 >= max_imm
            && sv.imms.len() < max_imm
        {
            // Nearly out of room: give the flush a millisecond per group.
            let t = Instant::now();
            std::thread::sleep(Duration::from_millis(1));
            Counters::add(&inner.stats.slowdown_micros, t.elapsed().as_micros() as u64);
            Counters::add(&inner.stats.slowdowns, 1);
            slowed = true;
            continue;
        }
        if sv.imms.len() >= max_imm {
            let t = Instant::now();
            Counters::add(&inner.stats.stops, 1);
            let mut bg = inner.bg.lock();
            while inner.sv.read().imms.len() >= max_imm {
                if bg.stop {
                    return Err(Error::Closed);
                }
                if let Some(e) = &bg.error {
                    let e = share(e);
                    drop(bg);
                    Counters::add(&inner.stats.stop_micros, t.elapsed().as_micros() as u64);
                    return Err(e);
                }
                inner.bg_cv.notify_all();
                inner.done_cv.wait_for(&mut bg, Duration::from_millis(100));
            }
            drop(bg);
            Counters::add(&inner.stats.stop_micros, t.elapsed().as_micros() as u64);
            continue;
        }
        switch_memtable(inner, ws)?;
        return Ok(());
    }
}

/// Hold writers back while L0 has too many tables (compactions are behind):
/// at the slowdown trigger each write group waits 1 ms, giving compaction
/// threads CPU and disk; at the stop trigger writers wait until a
/// compaction brings L0 back under it, or fail with the compaction error
/// if compactions are failing (rather than wait for ever).
fn l0_backpressure(inner: &Arc<Inner>) -> Result<()> {
    let o = &inner.opts;
    if o.max_background_compactions == 0 {
        return Ok(());
    }
    let l0 = |inner: &Inner| inner.sv.read().version.levels[0].len();
    let n = l0(inner);
    if n >= o.level0_stop_trigger.max(1) {
        let t = Instant::now();
        Counters::add(&inner.stats.stops, 1);
        let mut st = inner.compaction.lock();
        let r = loop {
            if l0(inner) < o.level0_stop_trigger.max(1) {
                break Ok(());
            }
            if inner.closing.load(Ordering::Acquire) || st.stop {
                break Err(Error::Closed);
            }
            if let Some(e) = &st.last_error {
                break Err(share(e));
            }
            if let Err(e) = inner.check_writable() {
                break Err(e);
            }
            inner.compact_cv.notify_all();
            inner
                .compact_cv
                .wait_for(&mut st, Duration::from_millis(100));
        };
        drop(st);
        Counters::add(&inner.stats.stop_micros, t.elapsed().as_micros() as u64);
        return r;
    }
    if n >= o.level0_slowdown_trigger.max(1) {
        let t = Instant::now();
        std::thread::sleep(Duration::from_millis(1));
        Counters::add(&inner.stats.slowdown_micros, t.elapsed().as_micros() as u64);
        Counters::add(&inner.stats.slowdowns, 1);
    }
    Ok(())
}

/// Freeze the memtable and start a new log; the flush thread takes it.
fn switch_memtable(inner: &Arc<Inner>, ws: &mut WriteState) -> Result<()> {
    // The old log must be complete on disk before records go to a new one,
    // or a power cut could keep the new log and lose the old log's tail.
    sync_log(inner, ws)?;
    let number = inner.new_file_number();
    let path = super::files::log_path(&inner.dir, number);
    let file = inner
        .fs
        .create(&path)
        .map_err(|e| Error::io("create write-ahead log", &path, e))
        .inspect_err(|e| inner.poison(e))?;
    inner
        .fs
        .sync_dir(&inner.dir)
        .map_err(|e| Error::io("fsync database directory", &inner.dir, e))
        .inspect_err(|e| inner.poison(e))?;
    ws.log = LogWriter::new(
        file,
        path,
        number,
        crate::wal::preallocate_chunk(inner.opts.write_buffer_size),
    );
    {
        let mut cur = inner.sv.write();
        let mut imms = Vec::with_capacity(cur.imms.len() + 1);
        imms.push(Arc::clone(&cur.mem));
        imms.extend(cur.imms.iter().cloned());
        *cur = Arc::new(SuperVersion {
            mem: Arc::new(Memtable::new(number, inner.opts.write_buffer_size)),
            imms,
            version: Arc::clone(&cur.version),
        });
    }
    inner.bg_cv.notify_all();
    Ok(())
}
