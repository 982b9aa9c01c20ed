//! Index builds: filling a new index from the rows already in its table.
//!
//! Two modes, one per caller:
//!
//! - **streaming** ([`Database::create_index`](crate::Database::create_index)):
//!   under the commit lock (no other commit can change the table meanwhile),
//!   clear the new index's key range, stream the table from a snapshot and
//!   write entries straight into the store in batches of about
//!   [`BATCH_BYTES`], then publish the catalog entry in one last batch.
//!   Memory: one batch. A crash before the last batch leaves entries under an
//!   index id that the catalog never recorded; opening the database sweeps
//!   them, and a build clears its id's range before it starts.
//! - **in a transaction** ([`Transaction::create_index`]): the entries go
//!   through the transaction (atomic with the rest of it, savepoints
//!   included), so they are buffered until commit. Rows are read by one
//!   iterator over the transaction's view of the table (the first write after
//!   it opens copies the kv transaction's buffer, once).
//!
//! A unique index meeting two rows with the same non-NULL values fails with
//! [`Error::UniqueViolation`] and leaves nothing behind.

use std::collections::HashSet;
use std::sync::Arc;

use kv_api::{Direction, KeyRange, WriteBatch, WriteOptions};

use crate::catalog::encode_table;
use crate::database::{BuildProgress, DbInner};
use crate::keys::{index_prefix, meta_key, prefix_range, rows_prefix, table_def_key};
use crate::rows::{check_sizes, decode_row, index_entry, is_unique_entry};
use crate::{Error, IndexDef, IndexSpec, Result, Row, TableDef, Transaction, Value};

/// Target size of one batch of index entries in a streaming build.
pub const BATCH_BYTES: usize = 4 << 20;
/// Rows between two progress calls.
const PROGRESS_EVERY: u64 = 4096;

fn pk_values(t: &TableDef, row: &Row) -> Vec<Value> {
    t.primary_key_of(row)
}

fn unique_violation(t: &TableDef, idx: &IndexDef, row: &[Value]) -> Error {
    Error::UniqueViolation {
        table: t.name.clone(),
        index: idx.name.clone(),
        columns: idx
            .columns
            .iter()
            .map(|c| t.columns[c.column].name.clone())
            .collect(),
        values: idx.columns.iter().map(|c| row[c.column].clone()).collect(),
    }
}

/// Backfill `idx` inside `txn` from the rows it sees.
pub(crate) fn build_in_txn(
    txn: &mut Transaction,
    t: &TableDef,
    idx: &IndexDef,
    estimate: u64,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<()> {
    let prefix = rows_prefix(t.id);
    // One iterator for the whole table: it reads the transaction as it was
    // when opened, so the entries written meanwhile (under another prefix
    // anyway) do not disturb it, and the transaction's write buffer is
    // copied once, on the first write, not once per chunk.
    let mut it = txn.kv.iter(KeyRange::prefix(&prefix), Direction::Forward)?;
    let mut done = 0u64;
    let (mut k, mut v) = (Vec::new(), Vec::new());
    while let Some((key, val)) = it.next()? {
        let row = decode_row(t, &key[prefix.len()..], val)?;
        let pk = pk_values(t, &row);
        index_entry(&mut k, &mut v, t, idx, &row.values, pk.iter());
        check_sizes(&txn.db.limits, t, &k, &v)?;
        if is_unique_entry(idx, &row.values) && txn.kv.get(&k)?.is_some() {
            return Err(unique_violation(t, idx, &row.values));
        }
        txn.write_phase(|txn| txn.kv.put(&k, &v))?;
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress(BuildProgress {
                rows_done: done,
                rows_estimate: estimate.max(done),
                finished: false,
            });
        }
    }
    progress(BuildProgress {
        rows_done: done,
        rows_estimate: estimate.max(done),
        finished: true,
    });
    Ok(())
}

/// Build an index by streaming the table into the store in bounded batches
/// and publish it (see the module documentation).
pub(crate) fn build_streaming(
    db: &Arc<DbInner>,
    spec: &IndexSpec,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<()> {
    let _guard = db.commit_write();
    let cat = db.current_catalog();
    if cat.has_index(&spec.name) {
        return Err(Error::IndexExists {
            index: spec.name.clone(),
        });
    }
    let t = cat.table(&spec.table)?;
    let id = cat.next_index_id;
    let next = id
        .checked_add(1)
        .ok_or_else(|| Error::invalid("the database has used up every index id"))?;
    let idx = t.index_from_spec(id, spec)?;
    let (start, end) = prefix_range(&index_prefix(t.id, id));
    let clear = || {
        let mut b = WriteBatch::new();
        b.delete_range(start.clone(), end.clone());
        db.store.write(b, &WriteOptions::BUFFERED)
    };
    clear()?;
    let estimate = db.runtime(t.id).map_or(0, |r| r.rows_estimate());
    match fill_streaming(db, &t, &idx, estimate, progress) {
        Ok(()) => {}
        Err(e) => {
            let _ = clear(); // best effort; the id's range is cleared again on reuse
            return Err(e);
        }
    }
    let mut nt = (*t).clone();
    nt.indexes.push(idx);
    nt.generation += 1;
    let mut new_cat = (*cat).clone();
    new_cat.next_index_id = next;
    new_cat.put_table(nt.clone());
    new_cat.generation += 1;
    let mut b = WriteBatch::new();
    b.put(table_def_key(t.id), encode_table(&nt)?);
    b.put(meta_key(), new_cat.meta_bytes()?);
    if let Err(e) = db.commit_schema(|| db.store.write(b, &db.write_options), Arc::new(new_cat)) {
        let _ = clear();
        return Err(e);
    }
    Ok(())
}

fn fill_streaming(
    db: &DbInner,
    t: &TableDef,
    idx: &IndexDef,
    estimate: u64,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<()> {
    let prefix = rows_prefix(t.id);
    let snap = db.store.snapshot()?;
    let mut it = snap.iter(KeyRange::prefix(&prefix), Direction::Forward)?;
    let mut batch = WriteBatch::new();
    let mut pending_unique: HashSet<Vec<u8>> = HashSet::new();
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let mut done = 0u64;
    // Half the store's batch limit at most: a batch's size as the store
    // counts it includes per-entry overhead beyond the payload.
    let batch_bytes = BATCH_BYTES.min(db.limits.max_batch_bytes / 2).max(1);
    while let Some((key, val)) = it.next()? {
        let row = decode_row(t, &key[prefix.len()..], val)?;
        let pk = pk_values(t, &row);
        index_entry(&mut k, &mut v, t, idx, &row.values, pk.iter());
        check_sizes(&db.limits, t, &k, &v)?;
        if is_unique_entry(idx, &row.values) {
            if pending_unique.contains(&k) || db.store.get(&k)?.is_some() {
                return Err(unique_violation(t, idx, &row.values));
            }
            pending_unique.insert(k.clone());
        }
        batch.put(k.as_slice(), v.as_slice());
        if batch.payload_len() >= batch_bytes {
            db.store
                .write(std::mem::take(&mut batch), &WriteOptions::BUFFERED)?;
            pending_unique.clear();
        }
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress(BuildProgress {
                rows_done: done,
                rows_estimate: estimate.max(done),
                finished: false,
            });
        }
    }
    if !batch.is_empty() {
        db.store.write(batch, &WriteOptions::BUFFERED)?;
    }
    progress(BuildProgress {
        rows_done: done,
        rows_estimate: estimate.max(done),
        finished: true,
    });
    Ok(())
}
