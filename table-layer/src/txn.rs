//! [`Transaction`]: every table operation runs inside one.
//!
//! A table-layer transaction wraps a kv-api transaction (snapshot isolation,
//! buffered writes, first-committer-wins) and adds what the catalog needs:
//!
//! ```text
//!   begin ──► catalog snapshot (Arc) + kv snapshot
//!     │
//!     ├─ DML: reads/writes keys through the kv transaction; remembers the
//!     │       tables it wrote and their row-count deltas
//!     ├─ DDL: edits a private copy of the catalog and writes its entries
//!     │       through the same kv transaction (so DDL is atomic with DML)
//!     ├─ savepoints: kv savepoint + a copy of the above (O(1), Arcs)
//!     │
//!   commit ──► under the database's commit lock:
//!               DML only: each written table's definition must be unchanged
//!               DDL: no other DDL committed since begin, and no row of a table
//!                    whose index this transaction built was committed since
//!              then the kv commit (write-write conflicts -> Error::Conflict);
//!              a DDL commit publishes the new catalog under the catalog's
//!              write lock, and begin takes the catalog and the kv snapshot
//!              under its read lock, so they always match
//! ```
//!
//! The commit lock is a reader-writer lock: DML commits share it, DDL commits
//! and streaming index builds take it alone, so a schema change never slips
//! between another transaction's check and its kv commit. For simplicity the
//! catalog check is all-or-nothing per table (any DDL on a table fails
//! concurrent writers of that table with the retryable
//! [`Error::SchemaChanged`]); finer-grained rules would replace it. DDL in a
//! transaction is optimistic and can be starved by a stream of writers to its
//! table; [`Database::run_exclusive`](crate::Database::run_exclusive) (used by
//! the autocommit DDL methods) runs a transaction under the exclusive lock
//! instead, so it cannot fail that way.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use kv_api::{Direction, KeyRange, KvIterator};

use crate::catalog::Catalog;
use crate::database::DbInner;
use crate::{Error, Result, TableId};

type KvTxn = Box<dyn kv_api::Transaction>;

/// The kv transaction, shared with the scans that fetch rows while the
/// caller keeps writing. `None` once committed or rolled back.
#[derive(Clone)]
pub(crate) struct SharedKv(Arc<Mutex<Option<KvTxn>>>);

impl SharedKv {
    fn new(t: KvTxn) -> Self {
        SharedKv(Arc::new(Mutex::new(Some(t))))
    }

    fn lock(&self) -> MutexGuard<'_, Option<KvTxn>> {
        // The guarded value is a kv transaction whose own methods cannot leave
        // it half-updated on panic, so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut KvTxn) -> kv_api::Result<T>) -> Result<T> {
        let mut g = self.lock();
        let t = g.as_mut().ok_or_else(|| {
            Error::invalid("the transaction has already been committed or rolled back")
        })?;
        Ok(f(t)?)
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.with(|t| t.get(key))
    }

    pub(crate) fn iter(&self, range: KeyRange, dir: Direction) -> Result<Box<dyn KvIterator>> {
        self.with(|t| t.iter(range, dir))
    }

    pub(crate) fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.with(|t| t.put(key, value))
    }

    pub(crate) fn delete(&self, key: &[u8]) -> Result<()> {
        self.with(|t| t.delete(key))
    }

    pub(crate) fn delete_range(&self, start: &[u8], end: &[u8]) -> Result<()> {
        self.with(|t| t.delete_range(start, end))
    }

    fn take(&self) -> Option<KvTxn> {
        self.lock().take()
    }
}

/// What a savepoint restores besides the kv writes.
struct Saved {
    catalog: Arc<Catalog>,
    ddl: bool,
    ddl_tables: HashSet<TableId>,
    row_deltas: HashMap<TableId, i64>,
    dropped: usize,
}

/// A transaction over the tables: snapshot isolation, read-your-writes,
/// savepoints, and atomic commit of DML and DDL alike.
///
/// Created by [`Database::begin`](crate::Database::begin). Dropping it
/// without [`commit`](Self::commit) rolls it back.
///
/// ```
/// use std::sync::Arc;
/// use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t")
///     .column(ColumnDef::new("k", DataType::Integer))
///     .column(ColumnDef::new("v", DataType::Text))
///     .primary_key(["k"]))?;
///
/// let mut txn = db.begin()?;
/// txn.insert("t", &[Value::Integer(1), Value::Text("one".into())])?;
/// txn.set_savepoint();
/// // A failing statement: roll it back alone and go on.
/// let err = txn.insert("t", &[Value::Integer(1), Value::Text("dup".into())]).unwrap_err();
/// assert!(err.is_constraint_violation());
/// txn.rollback_to_savepoint()?;
/// txn.commit()?;
///
/// let txn = db.begin()?;
/// let row = txn.get("t", &[Value::Integer(1)])?.unwrap();
/// assert_eq!(row.values[1], Value::Text("one".into()));
/// # Ok::<(), table_layer::Error>(())
/// ```
pub struct Transaction {
    pub(crate) db: Arc<DbInner>,
    pub(crate) kv: SharedKv,
    pub(crate) catalog: Arc<Catalog>,
    /// The database's DML commit counter when the transaction began.
    begin_counter: u64,
    base_generation: u64,
    /// True once the transaction did any DDL.
    pub(crate) ddl: bool,
    /// Tables whose committed rows a DDL of this transaction read (index
    /// builds): a concurrent DML commit on them invalidates the DDL.
    pub(crate) ddl_tables: HashSet<TableId>,
    /// Tables this transaction wrote rows of.
    pub(crate) written: HashSet<TableId>,
    pub(crate) row_deltas: HashMap<TableId, i64>,
    pub(crate) dropped: Vec<TableId>,
    savepoints: Vec<Saved>,
    /// Set when a write failed half-way through an operation: the number of
    /// savepoints that existed then (rolling back to one of them heals it).
    poisoned: Option<(usize, String)>,
    // Scratch buffers reused across operations.
    pub(crate) key: Vec<u8>,
    pub(crate) val: Vec<u8>,
    pub(crate) entries: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) old_entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Transaction {
    pub(crate) fn begin(db: Arc<DbInner>) -> Result<Transaction> {
        // Read the counter before the kv snapshot is taken: a commit in
        // between can only make a later check stricter, never looser.
        let begin_counter = db.commit_counter();
        let (catalog, kv) = db.begin_kv()?;
        Ok(Transaction {
            base_generation: catalog.generation,
            catalog,
            db,
            kv: SharedKv::new(kv),
            begin_counter,
            ddl: false,
            ddl_tables: HashSet::new(),
            written: HashSet::new(),
            row_deltas: HashMap::new(),
            dropped: Vec::new(),
            savepoints: Vec::new(),
            poisoned: None,
            key: Vec::new(),
            val: Vec::new(),
            entries: Vec::new(),
            old_entries: Vec::new(),
        })
    }

    /// The catalog as this transaction sees it: the one committed when it
    /// began, plus its own DDL.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// let mut txn = db.begin()?;
    /// txn.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// assert!(txn.catalog().has_table("t"));
    /// assert!(!db.catalog().has_table("t")); // not committed yet
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Fail when an earlier write failed half-way.
    pub(crate) fn check_usable(&self) -> Result<()> {
        match &self.poisoned {
            None => Ok(()),
            Some((_, why)) => Err(Error::invalid(format!(
                "an earlier operation of this transaction failed while writing ({why}); roll back the transaction or to a savepoint set before it"
            ))),
        }
    }

    /// Run the write phase of an operation (after every check passed). A
    /// failure here may leave part of the operation buffered, so it poisons
    /// the transaction until a rollback.
    pub(crate) fn write_phase<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let r = f(self);
        if let Err(e) = &r {
            self.poisoned = Some((self.savepoints.len(), e.to_string()));
        }
        r
    }

    /// Remember the current state, so that
    /// [`rollback_to_savepoint`](Self::rollback_to_savepoint) can undo what
    /// follows: rows, index entries and DDL alike. The SQL layer sets one
    /// before each statement of an explicit transaction so that a failed
    /// statement rolls back alone. Savepoints nest; setting one is O(1).
    pub fn set_savepoint(&mut self) {
        // A finished transaction has nothing to save; later calls report it.
        let _ = self.kv.with(|t| {
            t.set_savepoint();
            Ok(())
        });
        self.savepoints.push(Saved {
            catalog: Arc::clone(&self.catalog),
            ddl: self.ddl,
            ddl_tables: self.ddl_tables.clone(),
            row_deltas: self.row_deltas.clone(),
            dropped: self.dropped.len(),
        });
    }

    /// Undo everything done since the most recent savepoint and remove it.
    /// Fails with [`Error::InvalidArgument`] when no savepoint is set.
    pub fn rollback_to_savepoint(&mut self) -> Result<()> {
        let saved = self.savepoints.pop().ok_or_else(|| {
            Error::invalid("rollback to savepoint: no savepoint is set in this transaction")
        })?;
        self.kv.with(|t| t.rollback_to_savepoint())?;
        self.catalog = saved.catalog;
        self.ddl = saved.ddl;
        self.ddl_tables = saved.ddl_tables;
        self.row_deltas = saved.row_deltas;
        self.dropped.truncate(saved.dropped);
        if let Some((depth, _)) = &self.poisoned {
            if self.savepoints.len() < *depth {
                self.poisoned = None;
            }
        }
        Ok(())
    }

    /// Forget the most recent savepoint, keeping what was done since (a
    /// no-op when none is set).
    pub fn release_savepoint(&mut self) {
        if self.savepoints.pop().is_some() {
            let _ = self.kv.with(|t| {
                t.release_savepoint();
                Ok(())
            });
        }
    }

    /// Number of savepoints currently set.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.set_savepoint();
    /// txn.set_savepoint();
    /// txn.release_savepoint();
    /// assert_eq!(txn.savepoint_depth(), 1);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn savepoint_depth(&self) -> usize {
        self.savepoints.len()
    }

    /// Commit atomically: every row, index entry and schema change of the
    /// transaction becomes visible at once, or nothing does.
    ///
    /// Fails with the retryable [`Error::Conflict`] when a concurrent
    /// transaction committed a write to a key this one writes (the same row,
    /// or the same unique index value), and with the retryable
    /// [`Error::SchemaChanged`] when a concurrent DDL changed a table this
    /// one wrote. Either way nothing was written: run the transaction again.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut t1 = db.begin()?;
    /// let mut t2 = db.begin()?;
    /// t1.insert("t", &[Value::Integer(1), "one".into()])?;
    /// t2.insert("t", &[Value::Integer(1), "uno".into()])?;
    /// t1.commit()?;
    /// let err = t2.commit().unwrap_err(); // first committer wins
    /// assert!(err.is_retryable());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn commit(self) -> Result<()> {
        self.commit_inner(false)
    }

    /// Commit; `exclusive` when the caller already holds the commit lock
    /// exclusively ([`Database::run_exclusive`](crate::Database::run_exclusive)).
    pub(crate) fn commit_inner(self, exclusive: bool) -> Result<()> {
        if let Some((_, why)) = &self.poisoned {
            return Err(Error::invalid(format!(
                "cannot commit: an operation of this transaction failed while writing ({why}); the transaction was rolled back"
            )));
        }
        let kv = self.kv.take().ok_or_else(|| {
            Error::invalid("the transaction has already been committed or rolled back")
        })?;
        let db = Arc::clone(&self.db);
        let opts = db.write_options;
        if self.ddl {
            let _guard = (!exclusive).then(|| db.commit_write());
            let current = db.current_catalog();
            if current.generation != self.base_generation {
                return Err(Error::SchemaChanged {
                    table: "the catalog".into(),
                });
            }
            for &tid in &self.ddl_tables {
                if db.last_commit(tid) > self.begin_counter {
                    let table = self
                        .catalog
                        .table_by_id(tid)
                        .map_or_else(|| format!("table #{tid}"), |t| t.name.clone());
                    return Err(Error::SchemaChanged { table });
                }
            }
            db.prepare_counts(&self.written)?;
            let mut cat = self.catalog;
            Arc::make_mut(&mut cat).generation = self.base_generation + 1;
            db.commit_schema(|| kv.commit(&opts), cat)?;
            db.after_commit(&self.written, &self.row_deltas, &self.dropped);
        } else if !self.written.is_empty() {
            let _guard = (!exclusive).then(|| db.commit_read());
            let current = db.current_catalog();
            for &tid in &self.written {
                let mine = self.catalog.table_by_id(tid).map(|t| t.generation);
                let now = current.table_by_id(tid).map(|t| t.generation);
                if mine != now {
                    let table = self
                        .catalog
                        .table_by_id(tid)
                        .map_or_else(|| format!("table #{tid}"), |t| t.name.clone());
                    return Err(Error::SchemaChanged { table });
                }
            }
            db.prepare_counts(&self.written)?;
            kv.commit(&opts)?;
            db.after_commit(&self.written, &self.row_deltas, &[]);
        } else {
            kv.commit(&opts)?;
        }
        Ok(())
    }

    /// Discard everything the transaction did (the same as dropping it).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Null])?;
    /// txn.rollback();
    /// assert!(db.begin()?.get("t", &[Value::Integer(1)])?.is_none());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn rollback(self) {
        if let Some(kv) = self.kv.take() {
            kv.rollback();
        }
    }
}
