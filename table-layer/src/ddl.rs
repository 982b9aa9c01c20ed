//! Schema changes inside a [`Transaction`]: create and drop tables and
//! indexes, add columns.
//!
//! Each operation edits the transaction's private copy of the catalog and
//! writes the changed catalog entries (and, for drops, range deletes of the
//! data) through the transaction's kv writes, so DDL commits or rolls back
//! with everything else in the transaction, savepoints included.

use std::sync::Arc;

use crate::catalog::encode_table;
use crate::database::BuildProgress;
use crate::keys::{index_prefix, meta_key, prefix_range, table_data_range, table_def_key};
use crate::schema::check_default;
use crate::{ColumnDef, Error, IndexSpec, Result, TableDef, TableSpec, Transaction};

impl Transaction {
    /// Write a table's catalog entry and the meta entry.
    fn write_table_def(&mut self, t: &TableDef) -> Result<()> {
        let def = encode_table(t)?;
        let meta = self.catalog.meta_bytes()?;
        self.write_phase(|txn| {
            txn.kv.put(&table_def_key(t.id), &def)?;
            txn.kv.put(&meta_key(), &meta)
        })
    }

    /// `CREATE TABLE` in this transaction. Returns the new definition.
    ///
    /// Fails with [`Error::TableExists`], or [`Error::InvalidSchema`],
    /// [`Error::ColumnExists`], [`Error::NoSuchColumn`] for a bad spec.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use table_layer::{ColumnDef, DataType, Database, Error, TableSpec};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// let spec = TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer));
    /// let mut txn = db.begin()?;
    /// let t = txn.create_table(spec.clone())?;
    /// assert_eq!(t.columns().len(), 1);
    /// assert!(matches!(txn.create_table(spec), Err(Error::TableExists { .. })));
    /// txn.commit()?;
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn create_table(&mut self, spec: TableSpec) -> Result<Arc<TableDef>> {
        self.check_usable()?;
        if self.catalog.has_table(&spec.name) {
            return Err(Error::TableExists { table: spec.name });
        }
        let id = self.catalog.next_table_id;
        let t = TableDef::from_spec(id, &spec)?;
        let cat = Arc::make_mut(&mut self.catalog);
        cat.next_table_id = id
            .checked_add(1)
            .ok_or_else(|| Error::invalid("the database has used up every table id"))?;
        cat.put_table(t.clone());
        self.ddl = true;
        // Clear the id's key range: an id whose creation was rolled back can
        // be handed out again, and must start empty.
        let (start, end) = table_data_range(id);
        self.write_phase(|txn| txn.kv.delete_range(&start, &end))?;
        self.write_table_def(&t)?;
        self.catalog.table(&spec.name)
    }

    /// `DROP TABLE` in this transaction: the definition, every row and every
    /// index entry (two range deletes, whatever the table's size).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.drop_table("t")?;
    /// txn.rollback(); // DDL is transactional
    /// assert!(db.catalog().has_table("t"));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn drop_table(&mut self, name: &str) -> Result<()> {
        self.check_usable()?;
        let t = self.catalog.table(name)?;
        Arc::make_mut(&mut self.catalog).remove_table(t.id);
        self.ddl = true;
        self.dropped.push(t.id);
        self.row_deltas.remove(&t.id);
        self.written.remove(&t.id);
        let (start, end) = table_data_range(t.id);
        let meta = self.catalog.meta_bytes()?;
        self.write_phase(|txn| {
            txn.kv.delete_range(&start, &end)?;
            txn.kv.delete(&table_def_key(t.id))?;
            txn.kv.put(&meta_key(), &meta)
        })
    }

    /// `ALTER TABLE ... ADD COLUMN` in this transaction. Rows already stored
    /// are not rewritten: they read the column's default (or NULL). A
    /// `NOT NULL` column needs a non-NULL default.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// db.run_with_retry(1, |txn| txn.insert("t", &[Value::Integer(1)]))?;
    /// db.add_column("t", ColumnDef::new("b", DataType::Text).default_value("none"))?;
    /// let row = db.begin()?.get("t", &[Value::Integer(1)])?.unwrap();
    /// assert_eq!(row.values, [Value::Integer(1), Value::Text("none".into())]);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn add_column(&mut self, table: &str, column: ColumnDef) -> Result<()> {
        self.check_usable()?;
        let t = self.catalog.table(table)?;
        if t.column_index(&column.name).is_some() {
            return Err(Error::ColumnExists {
                table: t.name.clone(),
                column: column.name,
            });
        }
        if column.name.is_empty() {
            return Err(Error::InvalidSchema {
                object: format!("table {}", t.name),
                detail: "the new column's name is empty".into(),
            });
        }
        check_default(&t.name, &column)?;
        if !column.nullable && column.default_or_null().is_null() {
            return Err(Error::InvalidSchema {
                object: format!("table {}", t.name),
                detail: format!(
                    "cannot add NOT NULL column {} without a non-NULL default: existing rows would hold NULL",
                    column.name
                ),
            });
        }
        let mut nt = (*t).clone();
        nt.schema_version = nt.schema_version.checked_add(1).ok_or_else(|| {
            Error::invalid(format!(
                "table {} has reached its schema version limit",
                t.name
            ))
        })?;
        nt.since.push(nt.schema_version);
        nt.columns.push(column);
        nt.generation += 1;
        nt.derive();
        Arc::make_mut(&mut self.catalog).put_table(nt.clone());
        self.ddl = true;
        self.write_table_def(&nt)
    }

    /// `CREATE [UNIQUE] INDEX` in this transaction, backfilled from the
    /// table's rows as this transaction sees them. `progress` is called every
    /// few thousand rows and at the end.
    ///
    /// The rows are streamed, but the entries are buffered in the
    /// transaction until commit (kv-api transactions buffer their writes), so
    /// memory grows with the index size; outside an explicit transaction use
    /// [`Database::create_index`](crate::Database::create_index), which
    /// streams into the store in bounded batches.
    ///
    /// Fails with [`Error::IndexExists`], [`Error::NoSuchTable`],
    /// [`Error::NoSuchColumn`], or [`Error::UniqueViolation`] when a unique
    /// index meets duplicate values (nothing is left behind).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), "x".into()])?;
    /// txn.create_index(IndexSpec::new("t_b", "t").column("b", SortOrder::Asc), &mut |_| {})?;
    /// assert_eq!(txn.index_scan("t_b", ScanRange::all(), Direction::Forward)?.count(), 1);
    /// txn.commit()?;
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn create_index(
        &mut self,
        spec: IndexSpec,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<()> {
        self.check_usable()?;
        let spec = &spec;
        if self.catalog.has_index(&spec.name) {
            return Err(Error::IndexExists {
                index: spec.name.clone(),
            });
        }
        let t = self.catalog.table(&spec.table)?;
        let id = self.catalog.next_index_id;
        let idx = t.index_from_spec(id, spec)?;
        let next = id
            .checked_add(1)
            .ok_or_else(|| Error::invalid("the database has used up every index id"))?;
        let estimate = self.db.runtime(t.id).map_or(0, |r| r.rows_estimate());
        // Checks and entries go into a savepoint, so a unique violation
        // found half-way leaves nothing behind.
        self.set_savepoint();
        let r = (|| {
            let (start, end) = prefix_range(&index_prefix(t.id, id));
            self.write_phase(|txn| txn.kv.delete_range(&start, &end))?;
            crate::backfill::build_in_txn(self, &t, &idx, estimate, progress)
        })();
        if let Err(e) = r {
            self.rollback_to_savepoint()?;
            return Err(e);
        }
        self.release_savepoint();
        let mut nt = (*t).clone();
        nt.indexes.push(idx);
        nt.generation += 1;
        let cat = Arc::make_mut(&mut self.catalog);
        cat.next_index_id = next;
        cat.put_table(nt.clone());
        self.ddl = true;
        self.ddl_tables.insert(t.id);
        self.write_table_def(&nt)
    }

    /// `DROP INDEX` in this transaction: the definition and every entry (one
    /// range delete).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.create_index(IndexSpec::new("t_b", "t").column("b", SortOrder::Asc), &mut |_| {})?;
    /// let mut txn = db.begin()?;
    /// txn.drop_index("t_b")?;
    /// txn.commit()?;
    /// assert!(matches!(db.drop_index("t_b"), Err(Error::NoSuchIndex { .. })));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn drop_index(&mut self, name: &str) -> Result<()> {
        self.check_usable()?;
        let (t, idx) = self.catalog.index(name)?;
        let iid = idx.id;
        let mut nt = (*t).clone();
        nt.indexes.retain(|i| i.id != iid);
        nt.generation += 1;
        Arc::make_mut(&mut self.catalog).put_table(nt.clone());
        self.ddl = true;
        let (start, end) = prefix_range(&index_prefix(t.id, iid));
        self.write_phase(|txn| txn.kv.delete_range(&start, &end))?;
        self.write_table_def(&nt)
    }
}
