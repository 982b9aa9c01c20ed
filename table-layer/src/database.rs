//! [`Database`]: the catalog over a store, the entry point of the crate.
//!
//! A `Database` owns the store's whole key space (see `KEYS.md`). It keeps
//! the committed [`Catalog`] in memory, hands out [`Transaction`]s, runs
//! autocommit DDL, and keeps per-table runtime state that is cheaper in
//! memory than in the store:
//!
//! - the next hidden rowid of each rowid table, found on first use from the
//!   largest stored rowid, then allocated from an in-memory counter (so
//!   concurrent inserters never conflict on a counter key; rowids of
//!   rolled-back inserts are skipped, as with SQLite's `AUTOINCREMENT`);
//! - an approximate row count per table, updated at each commit and saved
//!   now and then under `00 03 <tid>`; a clean close saves them all and
//!   leaves a marker, and an open without the marker (after a crash) counts
//!   each table again on first use, so the counts stay exact up to a cap;
//! - the DML commit counter used to validate concurrent DDL.
//!
//! Only one `Database` may be open over a store at a time (clone the handle
//! to share it between threads): the rowid counters and the catalog cache
//! live here, not in the store. Opening a second one over the same store
//! fails with [`Error::InvalidArgument`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use kv_api::{Direction, KeyRange, KvStore, Limits, WriteBatch, WriteOptions};

use crate::catalog::Catalog;
use crate::codec::key::decode_value;
use crate::keys::{self, rows_prefix, table_defs_prefix};
use crate::{
    ColumnDef, Error, IndexSpec, IntegrityReport, Result, SortOrder, TableDef, TableId, TableSpec,
    Transaction, Value,
};

/// Row-count changes after which a table's count is saved to the store.
const STATS_SAVE_EVERY: i64 = 4096;
/// Rows counted at most when a table's saved count cannot be trusted.
const COUNT_CAP: i64 = 1_000_000;

/// Progress of an index build, passed to the callback of
/// [`Database::create_index`] and [`Transaction::create_index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildProgress {
    /// Rows indexed so far.
    pub rows_done: u64,
    /// Approximate number of rows in the table.
    pub rows_estimate: u64,
    /// True on the last call, once the build is complete.
    pub finished: bool,
}

pub(crate) struct TableRuntime {
    /// Next rowid to hand out; 0 until loaded from the store.
    next_rowid: Mutex<i64>,
    rows: AtomicI64,
    unsaved: AtomicI64,
    last_commit: AtomicU64,
}

impl TableRuntime {
    /// The approximate row count, never negative.
    pub(crate) fn rows_estimate(&self) -> u64 {
        self.rows.load(Ordering::Relaxed).max(0) as u64
    }
}

pub(crate) struct DbInner {
    pub(crate) store: Arc<dyn KvStore>,
    pub(crate) limits: Limits,
    pub(crate) write_options: WriteOptions,
    catalog: RwLock<Arc<Catalog>>,
    commit_lock: RwLock<()>,
    commits: AtomicU64,
    runtime: Mutex<HashMap<TableId, Arc<TableRuntime>>>,
    /// True when the last `Database` over the store closed cleanly, so the
    /// saved row counts are exact; otherwise each table is counted on first
    /// use.
    stats_trusted: bool,
}

/// Databases open in this process, by store address, to refuse a second
/// `Database` over the same store.
static OPEN: Mutex<Vec<(usize, Weak<DbInner>)>> = Mutex::new(Vec::new());

fn store_addr(store: &Arc<dyn KvStore>) -> usize {
    Arc::as_ptr(store) as *const () as usize
}

/// A database of tables and indexes over any [`KvStore`]. Cloning gives
/// another handle to the same database.
///
/// ```
/// use std::sync::Arc;
/// use table_layer::{ColumnDef, DataType, Database, Direction, IndexSpec, ScanRange, SortOrder,
///     TableSpec, Value};
///
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("users")
///     .column(ColumnDef::new("id", DataType::Integer))
///     .column(ColumnDef::new("name", DataType::Text).not_null())
///     .primary_key(["id"]))?;
/// db.create_index(IndexSpec::new("users_name", "users").column("name", SortOrder::Asc), &mut |_| {})?;
///
/// let mut txn = db.begin()?;
/// txn.insert("users", &[Value::Integer(1), Value::Text("bob".into())])?;
/// txn.insert("users", &[Value::Integer(2), Value::Text("alice".into())])?;
/// txn.commit()?;
///
/// let txn = db.begin()?;
/// let names: Vec<Value> = txn
///     .index_scan("users_name", ScanRange::all(), Direction::Forward)?
///     .map(|e| e.map(|e| e.values[0].clone()))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(names, [Value::Text("alice".into()), Value::Text("bob".into())]);
/// # Ok::<(), table_layer::Error>(())
/// ```
#[derive(Clone)]
pub struct Database {
    inner: Arc<DbInner>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("tables", &self.catalog().tables().count())
            .finish()
    }
}

impl Database {
    /// Open the database stored in `store`, creating an empty catalog in an
    /// empty store. Commits are buffered ([`WriteOptions::BUFFERED`]).
    ///
    /// Fails when the store holds keys but no catalog (it is not a table-layer
    /// database), when its catalog has another format version, or when
    /// another `Database` is open over the same store in this process.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use table_layer::Database;
    /// let store: Arc<dyn kv_api::KvStore> = Arc::new(kv_api::MemStore::new());
    /// let db = Database::open(store.clone())?;
    /// assert!(db.catalog().tables().next().is_none());
    /// assert!(Database::open(store).is_err()); // one Database per store: clone `db` instead
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn open(store: Arc<dyn KvStore>) -> Result<Database> {
        Self::open_with(store, WriteOptions::BUFFERED)
    }

    /// Like [`open`](Self::open), with the write options every commit uses
    /// ([`WriteOptions::SYNC`] for durability against power loss).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let db = table_layer::Database::open_with(Arc::new(kv_api::MemStore::new()), kv_api::WriteOptions::SYNC)?;
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn open_with(store: Arc<dyn KvStore>, write_options: WriteOptions) -> Result<Database> {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(_, w)| w.strong_count() > 0);
        let addr = store_addr(&store);
        if open.iter().any(|(a, _)| *a == addr) {
            return Err(Error::invalid(
                "a Database is already open over this store; clone that handle instead of opening a second one",
            ));
        }
        let catalog = load_or_init(&*store)?;
        // Consume the clean-shutdown marker: if this process dies, the next
        // open finds none and recounts instead of trusting stale counts.
        let stats_trusted = store.get(&keys::clean_key())?.is_some();
        if stats_trusted {
            let mut b = WriteBatch::new();
            b.delete(keys::clean_key());
            store.write(b, &WriteOptions::SYNC)?;
        }
        let inner = Arc::new(DbInner {
            limits: store.limits(),
            store,
            write_options,
            catalog: RwLock::new(Arc::new(catalog)),
            commit_lock: RwLock::new(()),
            commits: AtomicU64::new(0),
            runtime: Mutex::new(HashMap::new()),
            stats_trusted,
        });
        open.push((addr, Arc::downgrade(&inner)));
        Ok(Database { inner })
    }

    /// The committed catalog (a cheap `Arc` clone; it never changes under
    /// you: DDL publishes a new one).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let cat = db.catalog();
    /// assert_eq!(cat.table("t")?.columns().len(), 2);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.current_catalog()
    }

    /// The underlying store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// assert_eq!(db.store().stats().backend(), "memory");
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.inner.store
    }

    /// Start a transaction.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Null])?;
    /// txn.commit()?;
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn begin(&self) -> Result<Transaction> {
        Transaction::begin(Arc::clone(&self.inner))
    }

    /// Run `f` in a transaction and commit it, running everything again (up
    /// to `attempts` times in all) when the commit or an operation fails with
    /// a retryable error ([`Error::is_retryable`]).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// let rowid = db.run_with_retry(5, |txn| txn.insert("t", &[Value::Integer(1)]))?;
    /// assert_eq!(rowid, Some(1));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn run_with_retry<T>(
        &self,
        attempts: usize,
        mut f: impl FnMut(&mut Transaction) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut txn = self.begin()?;
            let r = f(&mut txn).and_then(|v| txn.commit().map(|()| v));
            match r {
                Err(e) if e.is_retryable() && attempt < attempts.max(1) => continue,
                other => return other,
            }
        }
    }

    /// Run `f` in a transaction that no other commit can interleave with,
    /// and commit it: it never fails with a conflict or a schema change, so
    /// schema changes and bulk statements cannot be starved by a stream of
    /// small writers. Other transactions keep reading and writing meanwhile;
    /// their commits wait until this one is done. If `f` fails, nothing is
    /// committed.
    ///
    /// Inside `f`, do not commit another transaction or call this
    /// database's DDL methods (they would wait for the lock `f` holds).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// db.run_exclusive(|txn| {
    ///     txn.insert("t", &[Value::Integer(1)])?;
    ///     txn.create_index(IndexSpec::new("t_a", "t").column("a", SortOrder::Asc), &mut |_| {})
    /// })?;
    /// assert!(db.catalog().has_index("t_a"));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn run_exclusive<T>(&self, f: impl FnOnce(&mut Transaction) -> Result<T>) -> Result<T> {
        let _guard = self.inner.commit_write();
        let mut txn = self.begin()?;
        let v = f(&mut txn)?;
        txn.commit_inner(true)?;
        Ok(v)
    }

    /// `CREATE TABLE` in its own transaction (exclusive, see
    /// [`run_exclusive`](Self::run_exclusive)). Returns the new definition.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// let t = db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// assert!(t.has_rowid());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn create_table(&self, spec: TableSpec) -> Result<Arc<TableDef>> {
        self.run_exclusive(|t| t.create_table(spec.clone()))
    }

    /// `DROP TABLE` in its own transaction: removes the definition, every
    /// row and every index entry (range deletes).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.drop_table("t")?;
    /// assert!(matches!(db.drop_table("t"), Err(Error::NoSuchTable { .. })));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn drop_table(&self, name: &str) -> Result<()> {
        self.run_exclusive(|t| t.drop_table(name))
    }

    /// `ALTER TABLE ... ADD COLUMN` in its own transaction. Existing rows are
    /// not rewritten: they read the column's default.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.add_column("t", ColumnDef::new("c", DataType::Real).default_value(1.5))?;
    /// assert_eq!(db.catalog().table("t")?.schema_version(), 1);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn add_column(&self, table: &str, column: ColumnDef) -> Result<()> {
        self.run_exclusive(|t| t.add_column(table, column.clone()))
    }

    /// `DROP INDEX` in its own transaction.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.create_index(IndexSpec::new("t_b", "t").column("b", SortOrder::Asc), &mut |_| {})?;
    /// db.drop_index("t_b")?;
    /// assert!(!db.catalog().has_index("t_b"));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn drop_index(&self, name: &str) -> Result<()> {
        self.run_exclusive(|t| t.drop_index(name))
    }

    /// `CREATE [UNIQUE] INDEX`, built by streaming the table: memory stays
    /// bounded by a batch of entries whatever the table's size, and
    /// `progress` is called every few thousand rows and once at the end.
    ///
    /// The build holds the database's commit lock: other transactions keep
    /// reading and writing, but their commits wait until the index is
    /// published (for simplicity; an online build would replace it), and
    /// those that wrote the table meanwhile fail with the retryable
    /// [`Error::SchemaChanged`]. A unique index over duplicate values fails
    /// with [`Error::UniqueViolation`] and leaves nothing behind. Use
    /// [`Transaction::create_index`] instead inside an explicit transaction.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut last = None;
    /// db.create_index(IndexSpec::new("t_b", "t").column("b", SortOrder::Asc).unique(), &mut |p| last = Some(p))?;
    /// assert!(last.unwrap().finished);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn create_index(
        &self,
        spec: IndexSpec,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<()> {
        crate::backfill::build_streaming(&self.inner, &spec, progress)
    }

    /// Check every table (or the one named) in a fresh transaction: every
    /// row decodes and has its index entries, every index entry points at a
    /// row with those values. See [`Transaction::check_integrity`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// assert!(db.check_integrity(Some("t"))?.is_ok());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn check_integrity(&self, table: Option<&str>) -> Result<IntegrityReport> {
        self.begin()?.check_integrity(table)
    }

    /// The approximate number of rows in a table (see the module
    /// documentation for how approximate).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// db.run_with_retry(1, |txn| { txn.insert("t", &[Value::Integer(1)])?; txn.insert("t", &[Value::Null]) })?;
    /// assert_eq!(db.approximate_row_count("t")?, 2);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn approximate_row_count(&self, table: &str) -> Result<u64> {
        let t = self.catalog().table(table)?;
        Ok(self
            .inner
            .runtime(t.id)?
            .rows
            .load(Ordering::Relaxed)
            .max(0) as u64)
    }

    /// Save the row-count statistics and flush the store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.flush()?;
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        self.inner.save_stats(true)?;
        Ok(self.inner.store.flush()?)
    }

    /// Save the statistics and close the store. Later operations fail with a
    /// storage error ([`kv_api::Error::Closed`]).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.close()?;
    /// assert!(db.begin().is_err());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.inner.save_stats_and_mark_clean()?;
        Ok(self.inner.store.close()?)
    }
}

fn load_or_init(store: &dyn KvStore) -> Result<Catalog> {
    match store.get(&keys::meta_key())? {
        Some(meta) => {
            let mut it = store.iter(KeyRange::prefix(&table_defs_prefix()), Direction::Forward)?;
            let mut entries = Vec::new();
            while let Some((k, v)) = it.next()? {
                entries.push(Ok((k.to_vec(), v.to_vec())));
            }
            let cat = Catalog::load(&meta, entries.into_iter())?;
            sweep_unfinished_builds(store, &cat)?;
            Ok(cat)
        }
        None => {
            let mut it = store.iter(KeyRange::all(), Direction::Forward)?;
            if let Some((k, _)) = it.next()? {
                return Err(Error::invalid(format!(
                    "the store holds keys (first: {}) but no table-layer catalog; open an empty store or one written by this table layer",
                    kv_api::display_key(k)
                )));
            }
            let cat = Catalog::empty();
            store.put(&keys::meta_key(), &cat.meta_bytes()?)?;
            Ok(cat)
        }
    }
}

/// Remove index entries left by a streaming index build that did not finish
/// (the process died before the catalog entry was written): they sit under
/// index ids at or above the catalog's next index id. One range delete per
/// table that has any.
fn sweep_unfinished_builds(store: &dyn KvStore, cat: &Catalog) -> Result<()> {
    let mut batch = WriteBatch::new();
    for t in cat.tables() {
        let start = keys::index_prefix(t.id, cat.next_index_id);
        let (_, end) = keys::table_data_range(t.id);
        let mut it = store.iter(
            KeyRange::half_open(start.clone(), end.clone()),
            Direction::Forward,
        )?;
        if it.next()?.is_some() {
            batch.delete_range(start, end);
        }
    }
    if !batch.is_empty() {
        store.write(batch, &WriteOptions::SYNC)?;
    }
    Ok(())
}

impl DbInner {
    pub(crate) fn current_catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Run `write` (the kv commit of a schema change) and publish `cat` if
    /// it succeeds, both under the catalog's write lock: a transaction
    /// begins under the read lock, so it sees either the old catalog with a
    /// snapshot from before the change, or the new catalog with one from
    /// after, never a mix.
    pub(crate) fn commit_schema(
        &self,
        write: impl FnOnce() -> kv_api::Result<()>,
        cat: Arc<Catalog>,
    ) -> Result<()> {
        let mut g = self.catalog.write().unwrap_or_else(|p| p.into_inner());
        write()?;
        *g = cat;
        Ok(())
    }

    /// The current catalog and a kv transaction whose snapshot matches it
    /// (see [`commit_schema`](Self::commit_schema)).
    pub(crate) fn begin_kv(&self) -> Result<(Arc<Catalog>, Box<dyn kv_api::Transaction>)> {
        let g = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        let kv = self.store.begin()?;
        Ok((Arc::clone(&g), kv))
    }

    pub(crate) fn commit_read(&self) -> RwLockReadGuard<'_, ()> {
        self.commit_lock.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn commit_write(&self) -> RwLockWriteGuard<'_, ()> {
        self.commit_lock.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn commit_counter(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// The counter value of the last DML commit that wrote `tid` (0 if none
    /// since the database was opened).
    pub(crate) fn last_commit(&self, tid: TableId) -> u64 {
        let rt = self.runtime.lock().unwrap_or_else(|p| p.into_inner());
        rt.get(&tid)
            .map_or(0, |r| r.last_commit.load(Ordering::SeqCst))
    }

    /// The runtime state of a table, created (and its saved row count read)
    /// on first use.
    pub(crate) fn runtime(&self, tid: TableId) -> Result<Arc<TableRuntime>> {
        let mut rt = self.runtime.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = rt.get(&tid) {
            return Ok(Arc::clone(r));
        }
        let saved = match self.store.get(&keys::table_stats_key(tid))? {
            Some(b) if self.stats_trusted => b
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_le_bytes),
            _ => None,
        };
        let (rows, unsaved) = match saved {
            Some(n) => (n, 0),
            None => {
                let n = self.count_rows(tid)?;
                (n, STATS_SAVE_EVERY) // save the fresh count soon
            }
        };
        let r = Arc::new(TableRuntime {
            next_rowid: Mutex::new(0),
            rows: AtomicI64::new(rows),
            unsaved: AtomicI64::new(unsaved),
            last_commit: AtomicU64::new(0),
        });
        rt.insert(tid, Arc::clone(&r));
        Ok(r)
    }

    /// Count a table's committed rows, up to [`COUNT_CAP`] (beyond that the
    /// cap stands in: the count is an estimate for a planner).
    fn count_rows(&self, tid: TableId) -> Result<i64> {
        let mut it = self
            .store
            .iter(KeyRange::prefix(&rows_prefix(tid)), Direction::Forward)?;
        let mut n = 0;
        while n < COUNT_CAP && it.next()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Allocate the next rowid of a rowid table.
    pub(crate) fn next_rowid(&self, t: &TableDef) -> Result<i64> {
        let rt = self.runtime(t.id)?;
        let mut next = rt.next_rowid.lock().unwrap_or_else(|p| p.into_inner());
        if *next == 0 {
            let prefix = rows_prefix(t.id);
            let mut it = self
                .store
                .iter(KeyRange::prefix(&prefix), Direction::Reverse)?;
            *next = match it.next()? {
                Some((k, _)) => {
                    let mut rest = &k[prefix.len()..];
                    match decode_value(&mut rest, SortOrder::Asc) {
                        Ok(Value::Integer(max)) => max.checked_add(1).ok_or_else(|| {
                            Error::invalid(format!("table {} has used up every rowid", t.name))
                        })?,
                        _ => {
                            return Err(Error::corrupt(
                                format!("table {}", t.name),
                                "the last row key does not hold a rowid",
                            ));
                        }
                    }
                }
                None => 1,
            };
        }
        let id = *next;
        *next = id
            .checked_add(1)
            .ok_or_else(|| Error::invalid(format!("table {} has used up every rowid", t.name)))?;
        Ok(id)
    }

    /// Make sure the written tables' row counts are loaded (or counted)
    /// before a commit adds its changes to them: counted after the commit,
    /// its rows would be counted twice. Called under the commit lock.
    pub(crate) fn prepare_counts(&self, written: &HashSet<TableId>) -> Result<()> {
        for &tid in written {
            self.runtime(tid)?;
        }
        Ok(())
    }

    /// Book-keeping after a successful kv commit (called under the commit
    /// lock).
    pub(crate) fn after_commit(
        &self,
        written: &HashSet<TableId>,
        deltas: &HashMap<TableId, i64>,
        dropped: &[TableId],
    ) {
        let c = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        let mut save = false;
        for &tid in written {
            if let Ok(r) = self.runtime(tid) {
                r.last_commit.fetch_max(c, Ordering::SeqCst);
            }
        }
        for (&tid, &d) in deltas {
            if d != 0 {
                if let Ok(r) = self.runtime(tid) {
                    r.rows.fetch_add(d, Ordering::Relaxed);
                    let u = r.unsaved.fetch_add(d.abs(), Ordering::Relaxed) + d.abs();
                    save |= u >= STATS_SAVE_EVERY;
                }
            }
        }
        if !dropped.is_empty() {
            let mut rt = self.runtime.lock().unwrap_or_else(|p| p.into_inner());
            let mut b = WriteBatch::new();
            for tid in dropped {
                rt.remove(tid);
                b.delete(keys::table_stats_key(*tid));
            }
            drop(rt);
            // Statistics are advisory: losing this write costs nothing.
            let _ = self.store.write(b, &WriteOptions::BUFFERED);
        }
        if save {
            let _ = self.save_stats(false);
        }
    }

    /// Save every row count, then the clean-shutdown marker that lets the
    /// next open trust them.
    fn save_stats_and_mark_clean(&self) -> Result<()> {
        self.save_stats(true)?;
        let mut b = WriteBatch::new();
        b.put(keys::clean_key(), Vec::new());
        Ok(self.store.write(b, &WriteOptions::SYNC)?)
    }

    /// Save row counts that changed (all of them when `all`) to the store,
    /// outside any transaction (no transaction ever writes these keys, so
    /// this never causes a conflict).
    pub(crate) fn save_stats(&self, all: bool) -> Result<()> {
        let cat = self.current_catalog();
        let rt = self.runtime.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = WriteBatch::new();
        for (&tid, r) in rt.iter() {
            if cat.table_by_id(tid).is_none() {
                continue;
            }
            let u = r.unsaved.load(Ordering::Relaxed);
            if u == 0 || (!all && u < STATS_SAVE_EVERY) {
                continue;
            }
            r.unsaved.fetch_sub(u, Ordering::Relaxed);
            let rows = r.rows.load(Ordering::Relaxed);
            b.put(keys::table_stats_key(tid), rows.to_le_bytes().to_vec());
        }
        drop(rt);
        if !b.is_empty() {
            self.store.write(b, &WriteOptions::BUFFERED)?;
        }
        Ok(())
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        // Best effort: the counts are advisory (a failure here only means
        // the next open counts the tables again).
        let _ = self.save_stats_and_mark_clean();
    }
}
