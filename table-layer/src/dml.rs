//! Row operations of a [`Transaction`]: insert, get, update, delete, scans.
//!
//! Every write operation checks everything first (types, NOT NULL, primary
//! key and unique constraints, key sizes) and only then writes the row and
//! the index entries it affects, so a failed operation leaves nothing
//! behind and the transaction goes on. An update writes only the index
//! entries whose key or value changed.

use std::sync::Arc;

use kv_api::Direction;

use crate::codec::key::encode_value;
use crate::keys::{index_prefix, push_rows_prefix, rows_prefix_len};
use crate::rows::{
    check_pk, check_row, check_sizes, decode_row, index_entry, is_unique_entry, row_key, row_value,
};
use crate::scan::{IndexRowScan, IndexScan, RowScan};
use crate::{
    DataType, Error, IndexDef, Result, Row, ScanRange, SortOrder, TableDef, Transaction, Value,
};

/// The primary-key values of a row: the rowid, or the key columns.
fn pk_iter<'a>(
    t: &'a TableDef,
    row: &'a [Value],
    rowid: Option<&'a Value>,
) -> impl Iterator<Item = &'a Value> + Clone + 'a {
    rowid
        .into_iter()
        .chain(t.primary_key_columns().iter().map(move |&c| &row[c]))
}

impl Transaction {
    fn table(&self, name: &str) -> Result<Arc<TableDef>> {
        self.catalog.table(name)
    }

    /// Build the index entries of `row` into `out` (reusing its buffers).
    fn build_entries<'a>(
        t: &TableDef,
        row: &[Value],
        pk: impl Iterator<Item = &'a Value> + Clone,
        out: &mut Vec<(Vec<u8>, Vec<u8>)>,
    ) {
        out.resize_with(t.indexes.len(), Default::default);
        for (idx, (k, v)) in t.indexes.iter().zip(out.iter_mut()) {
            index_entry(k, v, t, idx, row, pk.clone());
        }
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

    /// Insert a full row (every column, in column order). Returns the new
    /// hidden rowid for a table without a declared primary key, else `None`.
    ///
    /// Fails, writing nothing, with [`Error::TypeMismatch`],
    /// [`Error::NotNullViolation`], [`Error::WrongArity`],
    /// [`Error::PrimaryKeyViolation`] or [`Error::UniqueViolation`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value, Error};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("log").column(ColumnDef::new("msg", DataType::Text)))?;
    /// let mut txn = db.begin()?;
    /// assert_eq!(txn.insert("log", &[Value::Text("hi".into())])?, Some(1));
    /// assert_eq!(txn.insert("log", &[Value::Null])?, Some(2));
    /// let err = txn.insert("log", &[Value::Integer(3)]).unwrap_err();
    /// assert!(matches!(err, Error::TypeMismatch { .. }));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn insert(&mut self, table: &str, row: &[Value]) -> Result<Option<i64>> {
        self.check_usable()?;
        let t = self.table(table)?;
        check_row(&t, row)?;
        let rowid = if t.has_rowid() {
            Some(Value::Integer(self.db.next_rowid(&t)?))
        } else {
            None
        };
        let pk = pk_iter(&t, row, rowid.as_ref());
        let mut key = std::mem::take(&mut self.key);
        let mut val = std::mem::take(&mut self.val);
        let mut entries = std::mem::take(&mut self.entries);
        let r = self.insert_checked(&t, row, pk, &mut key, &mut val, &mut entries);
        self.key = key;
        self.val = val;
        self.entries = entries;
        r?;
        Ok(rowid.map(|v| match v {
            Value::Integer(i) => i,
            _ => 0,
        }))
    }

    fn insert_checked<'a>(
        &mut self,
        t: &TableDef,
        row: &'a [Value],
        pk: impl Iterator<Item = &'a Value> + Clone,
        key: &mut Vec<u8>,
        val: &mut Vec<u8>,
        entries: &mut Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<()> {
        row_key(key, t, pk.clone());
        row_value(val, t, row);
        check_sizes(&self.db.limits, t, key, val)?;
        // A fresh rowid is never taken (one Database per store allocates
        // them), so only declared keys need the duplicate check.
        if !t.has_rowid() && self.kv.get(key)?.is_some() {
            return Err(Error::PrimaryKeyViolation {
                table: t.name.clone(),
                columns: t.primary_key_names(),
                key: pk.cloned().collect(),
            });
        }
        Self::build_entries(t, row, pk, entries);
        for (idx, (k, v)) in t.indexes.iter().zip(entries.iter()) {
            check_sizes(&self.db.limits, t, k, v)?;
            if is_unique_entry(idx, row) && self.kv.get(k)?.is_some() {
                return Err(Self::unique_violation(t, idx, row));
            }
        }
        self.write_phase(|txn| {
            txn.kv.put(key, val)?;
            for (k, v) in entries.iter() {
                txn.kv.put(k, v)?;
            }
            Ok(())
        })?;
        self.written.insert(t.id);
        *self.row_deltas.entry(t.id).or_insert(0) += 1;
        Ok(())
    }

    /// The row with primary key `pk` (`[Value::Integer(rowid)]` for a rowid
    /// table), or `None`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// let mut txn = db.begin()?;
    /// let id = txn.insert("t", &[Value::Integer(9)])?.unwrap();
    /// let row = txn.get("t", &[Value::Integer(id)])?.unwrap();
    /// assert_eq!((row.rowid, row.values), (Some(id), vec![Value::Integer(9)]));
    /// assert!(txn.get("t", &[Value::Integer(id + 1)])?.is_none());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn get(&self, table: &str, pk: &[Value]) -> Result<Option<Row>> {
        let t = self.table(table)?;
        self.get_row(&t, pk)
    }

    pub(crate) fn get_row(&self, t: &TableDef, pk: &[Value]) -> Result<Option<Row>> {
        check_pk(t, pk)?;
        let mut key = Vec::with_capacity(16);
        row_key(&mut key, t, pk.iter());
        match self.kv.get(&key)? {
            None => Ok(None),
            Some(v) => {
                let plen = rows_prefix_len(t.id);
                decode_row(t, &key[plen..], &v).map(Some)
            }
        }
    }

    /// Replace the row with primary key `pk` by `row` (a full new row).
    /// Returns `false` when there is no such row. Only the index entries
    /// whose values changed are rewritten; a changed primary key moves the
    /// row (a delete and an insert, checked like one). Fails like
    /// [`insert`](Self::insert), writing nothing.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("k", DataType::Integer))
    ///     .column(ColumnDef::new("v", DataType::Text)).primary_key(["k"]))?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Text("a".into())])?;
    /// assert!(txn.update("t", &[Value::Integer(1)], &[Value::Integer(2), Value::Text("b".into())])?);
    /// assert!(txn.get("t", &[Value::Integer(1)])?.is_none());
    /// assert_eq!(txn.get("t", &[Value::Integer(2)])?.unwrap().values[1], Value::Text("b".into()));
    /// assert!(!txn.update("t", &[Value::Integer(7)], &[Value::Integer(7), Value::Null])?);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn update(&mut self, table: &str, pk: &[Value], row: &[Value]) -> Result<bool> {
        self.check_usable()?;
        let t = self.table(table)?;
        check_pk(&t, pk)?;
        check_row(&t, row)?;
        let mut old_key = Vec::with_capacity(16);
        row_key(&mut old_key, &t, pk.iter());
        let Some(old_val) = self.kv.get(&old_key)? else {
            return Ok(false);
        };
        let plen = rows_prefix_len(t.id);
        let old = decode_row(&t, &old_key[plen..], &old_val)?;

        let rowid = old.rowid.map(Value::Integer);
        let new_pk = pk_iter(&t, row, rowid.as_ref());
        let mut key = std::mem::take(&mut self.key);
        let mut val = std::mem::take(&mut self.val);
        let mut entries = std::mem::take(&mut self.entries);
        let mut old_entries = std::mem::take(&mut self.old_entries);
        row_key(&mut key, &t, new_pk.clone());
        row_value(&mut val, &t, row);
        let r = (|| {
            check_sizes(&self.db.limits, &t, &key, &val)?;
            let pk_changed = key != old_key;
            if pk_changed && self.kv.get(&key)?.is_some() {
                return Err(Error::PrimaryKeyViolation {
                    table: t.name.clone(),
                    columns: t.primary_key_names(),
                    key: new_pk.clone().cloned().collect(),
                });
            }
            Self::build_entries(&t, row, new_pk.clone(), &mut entries);
            Self::build_entries(&t, &old.values, pk.iter(), &mut old_entries);
            for (i, idx) in t.indexes.iter().enumerate() {
                let (nk, nv) = &entries[i];
                let (ok, ov) = &old_entries[i];
                if nk == ok && nv == ov {
                    continue;
                }
                check_sizes(&self.db.limits, &t, nk, nv)?;
                // A unique key equal to the old one is this row's own entry.
                if nk != ok && is_unique_entry(idx, row) && self.kv.get(nk)?.is_some() {
                    return Err(Self::unique_violation(&t, idx, row));
                }
            }
            self.write_phase(|txn| {
                if pk_changed {
                    txn.kv.delete(&old_key)?;
                }
                if pk_changed || val != old_val {
                    txn.kv.put(&key, &val)?;
                }
                for ((nk, nv), (ok, ov)) in entries.iter().zip(old_entries.iter()) {
                    if nk == ok && nv == ov {
                        continue;
                    }
                    if nk != ok {
                        txn.kv.delete(ok)?;
                    }
                    txn.kv.put(nk, nv)?;
                }
                Ok(())
            })
        })();
        self.key = key;
        self.val = val;
        self.entries = entries;
        self.old_entries = old_entries;
        r?;
        self.written.insert(t.id);
        Ok(true)
    }

    /// Delete the row with primary key `pk` and its index entries. Returns
    /// `false` when there is no such row.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
    /// let mut txn = db.begin()?;
    /// let id = txn.insert("t", &[Value::Integer(9)])?.unwrap();
    /// assert!(txn.delete("t", &[Value::Integer(id)])?);
    /// assert!(!txn.delete("t", &[Value::Integer(id)])?);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn delete(&mut self, table: &str, pk: &[Value]) -> Result<bool> {
        self.check_usable()?;
        let t = self.table(table)?;
        check_pk(&t, pk)?;
        let mut key = Vec::with_capacity(16);
        row_key(&mut key, &t, pk.iter());
        let Some(old_val) = self.kv.get(&key)? else {
            return Ok(false);
        };
        let plen = rows_prefix_len(t.id);
        let old = decode_row(&t, &key[plen..], &old_val)?;
        let mut entries = std::mem::take(&mut self.old_entries);
        Self::build_entries(&t, &old.values, pk.iter(), &mut entries);
        let r = self.write_phase(|txn| {
            txn.kv.delete(&key)?;
            for (k, _) in entries.iter() {
                txn.kv.delete(k)?;
            }
            Ok(())
        });
        self.old_entries = entries;
        r?;
        self.written.insert(t.id);
        *self.row_deltas.entry(t.id).or_insert(0) -= 1;
        Ok(true)
    }

    /// The row whose values in a unique index equal `values` (one per index
    /// column, in index order), with two point reads and no iterator: the
    /// fast path for `WHERE email = ?` on a unique column. `None` when no row
    /// matches, and always when a value is NULL (NULL equals nothing in
    /// SQL). Fails with [`Error::InvalidArgument`] on a non-unique index and
    /// with [`Error::WrongArity`] / [`Error::TypeMismatch`] on bad values.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("u").column(ColumnDef::new("email", DataType::Text))
    ///     .column(ColumnDef::new("name", DataType::Text)))?;
    /// db.create_index(IndexSpec::new("u_email", "u").column("email", SortOrder::Asc).unique(), &mut |_| {})?;
    /// db.run_with_retry(1, |t| t.insert("u", &["a@x".into(), "Ann".into()]))?;
    /// let txn = db.begin()?;
    /// let row = txn.get_by_unique("u_email", &["a@x".into()])?.unwrap();
    /// assert_eq!(row.values[1], Value::Text("Ann".into()));
    /// assert!(txn.get_by_unique("u_email", &["b@x".into()])?.is_none());
    /// assert!(txn.get_by_unique("u_email", &[Value::Null])?.is_none());
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn get_by_unique(&self, index: &str, values: &[Value]) -> Result<Option<Row>> {
        let (t, idx) = self.catalog.index(index)?;
        if !idx.unique {
            return Err(Error::invalid(format!(
                "index {} is not unique; use index_scan_rows for lookups on it",
                idx.name
            )));
        }
        if values.len() != idx.columns.len() {
            return Err(Error::WrongArity {
                table: t.name.clone(),
                what: "unique index key",
                expected: idx.columns.len(),
                got: values.len(),
            });
        }
        let mut key = index_prefix(t.id, idx.id);
        for (c, v) in idx.columns.iter().zip(values) {
            let col = &t.columns[c.column];
            if !v.fits(col.data_type) {
                return Err(Error::TypeMismatch {
                    table: t.name.clone(),
                    column: col.name.clone(),
                    expected: col.data_type,
                    value: v.clone(),
                });
            }
            encode_value(&mut key, v, c.order);
        }
        if values.iter().any(Value::is_null) {
            return Ok(None);
        }
        let Some(pk) = self.kv.get(&key)? else {
            return Ok(None);
        };
        key.clear();
        push_rows_prefix(&mut key, t.id);
        key.extend_from_slice(&pk);
        match self.kv.get(&key)? {
            Some(v) => decode_row(&t, &key[rows_prefix_len(t.id)..], &v).map(Some),
            None => Err(Error::corrupt(
                format!("index {} of table {}", idx.name, t.name),
                "a unique entry points at a missing row",
            )),
        }
    }

    /// Stream the rows whose primary key is in `range` (bounds are prefixes
    /// of the primary key; see [`ScanRange`]), in key order or reverse.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::ops::Bound;
    /// # use table_layer::{ColumnDef, DataType, Database, Direction, ScanRange, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("k", DataType::Integer)).primary_key(["k"]))?;
    /// let mut txn = db.begin()?;
    /// for k in 1..=5 { txn.insert("t", &[Value::Integer(k)])?; }
    /// let range = ScanRange::new(Bound::Excluded(vec![Value::Integer(2)]), Bound::Included(vec![Value::Integer(4)]));
    /// let keys: Vec<Value> = txn.scan("t", range, Direction::Reverse)?
    ///     .map(|r| r.map(|r| r.values[0].clone())).collect::<Result<_, _>>()?;
    /// assert_eq!(keys, [Value::Integer(4), Value::Integer(3)]);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn scan(&self, table: &str, range: ScanRange, direction: Direction) -> Result<RowScan> {
        let t = self.table(table)?;
        let mut base = Vec::with_capacity(8);
        push_rows_prefix(&mut base, t.id);
        let kr = range.to_key_range(&base, &pk_orders(&t), &t.name)?;
        let iter = self.kv.iter(kr, direction)?;
        Ok(RowScan {
            prefix_len: base.len(),
            table: t,
            iter,
            done: false,
        })
    }

    fn open_index_scan(
        &self,
        index: &str,
        range: ScanRange,
        direction: Direction,
    ) -> Result<IndexScan> {
        let (t, idx) = self.catalog.index(index)?;
        let idx = idx.clone();
        let base = index_prefix(t.id, idx.id);
        let orders: Vec<(SortOrder, DataType, &str)> = idx
            .columns
            .iter()
            .map(|c| {
                let col = &t.columns[c.column];
                (c.order, col.data_type, col.name.as_str())
            })
            .collect();
        let kr = range.to_key_range(&base, &orders, &t.name)?;
        let iter = self.kv.iter(kr, direction)?;
        Ok(IndexScan {
            prefix_len: base.len(),
            table: t,
            index: idx,
            iter,
            done: false,
        })
    }

    /// Stream the entries of an index whose key is in `range` (bounds are
    /// prefixes of the index columns, in index order, see [`ScanRange`]):
    /// the indexed values and the primary key, without fetching rows.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, Direction, IndexSpec, ScanRange, SortOrder, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    ///     .column(ColumnDef::new("b", DataType::Text)))?;
    /// db.create_index(IndexSpec::new("t_ab", "t").column("a", SortOrder::Asc).column("b", SortOrder::Desc), &mut |_| {})?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Text("x".into())])?;
    /// txn.insert("t", &[Value::Integer(1), Value::Text("y".into())])?;
    /// txn.insert("t", &[Value::Integer(2), Value::Text("z".into())])?;
    /// let hits: Vec<_> = txn.index_scan("t_ab", ScanRange::prefix(vec![Value::Integer(1)]), Direction::Forward)?
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(hits.len(), 2);
    /// assert_eq!(hits[0].values, [Value::Integer(1), Value::Text("y".into())]); // b DESC
    /// assert_eq!(hits[0].primary_key, [Value::Integer(2)]); // the rowid
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn index_scan(
        &self,
        index: &str,
        range: ScanRange,
        direction: Direction,
    ) -> Result<IndexScan> {
        self.open_index_scan(index, range, direction)
    }

    /// Stream full rows in index order: an [`index_scan`](Self::index_scan)
    /// that fetches each entry's row.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, Direction, IndexSpec, ScanRange, SortOrder, TableSpec, Value};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    ///     .column(ColumnDef::new("b", DataType::Text)))?;
    /// db.create_index(IndexSpec::new("t_b", "t").column("b", SortOrder::Asc), &mut |_| {})?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Text("y".into())])?;
    /// txn.insert("t", &[Value::Integer(2), Value::Text("x".into())])?;
    /// let rows: Vec<_> = txn.index_scan_rows("t_b", ScanRange::all(), Direction::Forward)?
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(rows[0].values, [Value::Integer(2), Value::Text("x".into())]);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn index_scan_rows(
        &self,
        index: &str,
        range: ScanRange,
        direction: Direction,
    ) -> Result<IndexRowScan> {
        let entries = self.open_index_scan(index, range, direction)?;
        Ok(IndexRowScan {
            entries,
            kv: self.kv.clone(),
            key: Vec::new(),
        })
    }
}

/// Key columns of the primary key, for bound encoding (scans in
/// transactions and snapshot scans alike).
pub(crate) fn pk_orders(t: &TableDef) -> Vec<(SortOrder, DataType, &str)> {
    if t.has_rowid() {
        vec![(SortOrder::Asc, DataType::Integer, "rowid")]
    } else {
        t.primary_key_columns()
            .iter()
            .map(|&c| {
                let col = &t.columns[c];
                (SortOrder::Asc, col.data_type, col.name.as_str())
            })
            .collect()
    }
}
