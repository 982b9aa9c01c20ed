//! Streaming scans: rows by primary-key range, index entries by index range,
//! and rows by index range.
//!
//! A scan is a lazy [`Iterator`] that owns a store iterator: it holds one
//! page or block of entries at a time, whatever the size of the range, and
//! does not borrow the [`Transaction`](crate::Transaction), so the caller may
//! write in the same transaction while it runs.
//!
//! ## What a scan sees
//! A scan reads the transaction as it was when the scan was opened: its own
//! writes up to then included, later ones not. That is what protects an
//! `UPDATE` that streams and writes at once from the Halloween problem (a row
//! moved forward in scan order is not visited twice). [`IndexRowScan`] reads
//! the index that way but fetches each row as it is *now* in the
//! transaction, skipping entries whose row the caller has deleted since.
//! (Cost note: with kv-api's buffered transactions, the first write after a
//! scan opens copies the transaction's write buffer, once per scan, which is
//! what keeps the scan's view stable.)
//!
//! ## Bounds
//! A [`ScanRange`] bound is a *prefix* of the key columns (primary key, or
//! index columns), compared in the key's order:
//!
//! ```text
//!  key (a, b)      start                     end
//!  Included([5])   first key with a >= 5     last key with a <= 5
//!  Excluded([5])   first key with a > 5      last key with a < 5
//!  Included([5,2]) first key >= (5,2)        last key <= (5,2) (and its extensions)
//!  Unbounded       the first key             the last key
//! ```
//!
//! For an index column declared `DESC` the key order is the reverse of the
//! value order, so `start` is the *larger* value: `a DESC, a <= 5` is
//! `start = Included([5])`. Bound values must be NULL or of the column's
//! type (NULL sorts first in ascending columns, last in descending ones).

use std::ops::Bound;
use std::sync::Arc;

use kv_api::{KeyRange, KvIterator};

use crate::codec::key::encode_value;
use crate::keys::{push_rows_prefix, rows_prefix_len};
use crate::rows::{decode_index_entry, decode_row, index_entry_pk};
use crate::txn::SharedKv;
use crate::{Error, IndexDef, Result, SortOrder, TableDef, Value};

/// A decoded table row.
///
/// ```
/// use table_layer::{Row, Value};
/// let r = Row { rowid: Some(1), values: vec![Value::Text("x".into())] };
/// assert_eq!(r.values[0], Value::Text("x".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The hidden rowid for tables without a declared primary key, else
    /// `None`.
    pub rowid: Option<i64>,
    /// Every column's value, in column order.
    pub values: Vec<Value>,
}

/// One entry of an index scan: the indexed values and the row's primary key,
/// without fetching the row (a covering scan).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    /// The indexed columns' values, in index order.
    pub values: Vec<Value>,
    /// The primary key of the row (`[Integer(rowid)]` for a rowid table).
    pub primary_key: Vec<Value>,
}

/// The bounds of a scan: each bound is a *prefix* of the key columns
/// (primary key, or index columns), compared in the key's order:
///
/// ```text
///  key (a, b)      start                     end
///  Included([5])   first key with a >= 5     last key with a <= 5
///  Excluded([5])   first key with a > 5      last key with a < 5
///  Included([5,2]) first key >= (5,2)        last key <= (5,2) (and its extensions)
///  Unbounded       the first key             the last key
/// ```
///
/// For an index column declared `DESC` the key order is the reverse of the
/// value order, so `start` holds the *larger* value: on `a DESC`, `a <= 5`
/// is `start = Included([5])`. Bound values must be NULL or of the column's
/// type (the SQL layer converts `a > 2.5` on an INTEGER column to `a >= 3`);
/// NULL sorts first in ascending columns and last in descending ones.
///
/// ```
/// use std::ops::Bound;
/// use table_layer::{ScanRange, Value};
/// let all = ScanRange::all();
/// let eq = ScanRange::prefix(vec![Value::Integer(5)]);
/// let gt = ScanRange::new(Bound::Excluded(vec![Value::Integer(5)]), Bound::Unbounded);
/// assert_eq!(eq.start, Bound::Included(vec![Value::Integer(5)]));
/// # let _ = (all, gt);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScanRange {
    /// Lower bound in key order.
    pub start: Bound<Vec<Value>>,
    /// Upper bound in key order.
    pub end: Bound<Vec<Value>>,
}

impl Default for ScanRange {
    fn default() -> Self {
        ScanRange::all()
    }
}

impl ScanRange {
    /// Every key.
    pub fn all() -> Self {
        ScanRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }

    /// A range from two bounds.
    pub fn new(start: Bound<Vec<Value>>, end: Bound<Vec<Value>>) -> Self {
        ScanRange { start, end }
    }

    /// Every key whose leading columns equal `prefix` (an equality lookup on
    /// a prefix of the key; the whole key for a point lookup).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.run_with_retry(1, |t| { t.insert("t", &[Value::Integer(1), Value::Null])?; t.insert("t", &[Value::Integer(2), Value::Null]) })?;
    /// let txn = db.begin()?;
    /// let n = txn.scan("t", ScanRange::prefix(vec![Value::Integer(2)]), Direction::Forward)?.count();
    /// assert_eq!(n, 1);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn prefix(prefix: Vec<Value>) -> Self {
        ScanRange {
            start: Bound::Included(prefix.clone()),
            end: Bound::Included(prefix),
        }
    }

    /// The range for `prefix` (equalities on the leading key columns) and a
    /// condition on the next column, given in *value* order with SQL
    /// semantics, whatever that column's [`SortOrder`]: `lower`/`upper` bound
    /// its values, and NULL never satisfies a bounded side (as `x > 5` or
    /// `x < 5` is never true for a NULL `x`). With both sides unbounded the
    /// range is the plain prefix, NULLs included.
    ///
    /// This is the common planner case (`a = 1 AND b > 5`) without having to
    /// think about descending columns.
    ///
    /// ```
    /// use std::ops::Bound;
    /// # use std::sync::Arc;
    /// use table_layer::*;
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    ///     .column(ColumnDef::new("b", DataType::Integer)))?;
    /// db.create_index(IndexSpec::new("t_ab", "t").column("a", SortOrder::Asc)
    ///     .column("b", SortOrder::Desc), &mut |_| {})?;
    /// db.run_with_retry(1, |t| {
    ///     for b in [Value::Null, 1.into(), 5.into(), 6.into(), 9.into()] {
    ///         t.insert("t", &[1.into(), b])?;
    ///     }
    ///     Ok(())
    /// })?;
    /// // a = 1 AND b < 6, on an index where b is DESC:
    /// let range = ScanRange::value_range(vec![1.into()], Bound::Unbounded,
    ///     Bound::Excluded(6.into()), SortOrder::Desc);
    /// let bs: Vec<Value> = db.begin()?.index_scan("t_ab", range, Direction::Forward)?
    ///     .map(|e| e.map(|e| e.values[1].clone())).collect::<Result<_, _>>()?;
    /// assert_eq!(bs, [Value::Integer(5), Value::Integer(1)]); // no NULL
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn value_range(
        prefix: Vec<Value>,
        lower: Bound<Value>,
        upper: Bound<Value>,
        order: SortOrder,
    ) -> Self {
        if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
            return ScanRange::prefix(prefix);
        }
        let with = |v: Value| {
            let mut p = prefix.clone();
            p.push(v);
            p
        };
        // An unbounded side stops short of the NULLs, which sort at the low
        // end of an ascending column and the high end of a descending one.
        let side = |b: Bound<Value>, null_side: bool| match b {
            Bound::Included(v) => Bound::Included(with(v)),
            Bound::Excluded(v) => Bound::Excluded(with(v)),
            Bound::Unbounded if null_side => Bound::Excluded(with(Value::Null)),
            Bound::Unbounded => Bound::Included(prefix.clone()),
        };
        match order {
            SortOrder::Asc => ScanRange {
                start: side(lower, true),
                end: side(upper, false),
            },
            SortOrder::Desc => ScanRange {
                start: side(upper, false),
                end: side(lower, true),
            },
        }
    }

    /// The byte range for key columns with `orders`, under `base`.
    pub(crate) fn to_key_range(
        &self,
        base: &[u8],
        orders: &[(SortOrder, crate::DataType, &str)],
        table: &str,
    ) -> Result<KeyRange> {
        let enc = |vals: &[Value]| -> Result<Vec<u8>> {
            if vals.len() > orders.len() {
                return Err(Error::invalid(format!(
                    "a scan bound on table {table} has {} values but the key has only {} columns",
                    vals.len(),
                    orders.len()
                )));
            }
            let mut k = base.to_vec();
            for (v, (o, ty, col)) in vals.iter().zip(orders) {
                if !v.fits(*ty) {
                    return Err(Error::TypeMismatch {
                        table: table.to_owned(),
                        column: (*col).to_owned(),
                        expected: *ty,
                        value: v.clone(),
                    });
                }
                encode_value(&mut k, v, *o);
            }
            Ok(k)
        };
        let succ = |k: Vec<u8>| -> Vec<u8> {
            kv_api::prefix_successor(&k).unwrap_or(k) // never all 0xFF: base starts with an id
        };
        let start = match &self.start {
            Bound::Unbounded => Bound::Included(base.to_vec()),
            Bound::Included(v) => Bound::Included(enc(v)?),
            Bound::Excluded(v) => Bound::Included(succ(enc(v)?)),
        };
        let end = match &self.end {
            Bound::Unbounded => Bound::Excluded(succ(base.to_vec())),
            Bound::Included(v) => Bound::Excluded(succ(enc(v)?)),
            Bound::Excluded(v) => Bound::Excluded(enc(v)?),
        };
        Ok(KeyRange::new(start, end))
    }
}

/// Rows in primary-key order (or reverse), decoded lazily. Created by
/// [`Transaction::scan`](crate::Transaction::scan).
pub struct RowScan {
    pub(crate) table: Arc<TableDef>,
    pub(crate) iter: Box<dyn KvIterator>,
    pub(crate) prefix_len: usize,
    pub(crate) done: bool,
}

impl RowScan {
    /// The table being scanned.
    pub fn table(&self) -> &Arc<TableDef> {
        &self.table
    }

    /// Step the store iterator and hand the next row's key (without the
    /// table prefix) and value to `decode`; `None` at the end. After an
    /// error the scan ends. Shared by the owned ([`Iterator`]) and the
    /// borrowed ([`RowScan::next_fields`]) decoders.
    pub(crate) fn next_with<T>(
        &mut self,
        decode: impl FnOnce(&TableDef, &[u8], &[u8]) -> Result<T>,
    ) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        let r = match self.iter.next() {
            Ok(Some((k, v))) => match k.get(self.prefix_len..) {
                Some(rest) => decode(&self.table, rest, v),
                None => Err(Error::corrupt(
                    format!("table {}", self.table.name),
                    "short row key",
                )),
            },
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e.into()),
        };
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

impl Iterator for RowScan {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(decode_row)
    }
}

/// Index entries in index order (or reverse): a covering scan that never
/// fetches rows. Created by
/// [`Transaction::index_scan`](crate::Transaction::index_scan).
pub struct IndexScan {
    pub(crate) table: Arc<TableDef>,
    pub(crate) index: IndexDef,
    pub(crate) iter: Box<dyn KvIterator>,
    pub(crate) prefix_len: usize,
    pub(crate) done: bool,
}

impl IndexScan {
    /// The indexed table.
    pub fn table(&self) -> &Arc<TableDef> {
        &self.table
    }

    /// The index being scanned.
    pub fn index(&self) -> &IndexDef {
        &self.index
    }
}

impl Iterator for IndexScan {
    type Item = Result<IndexEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = match self.iter.next() {
            Ok(Some((k, v))) => match k.get(self.prefix_len..) {
                Some(rest) => decode_index_entry(&self.table, &self.index, rest, v).map(
                    |(values, primary_key)| IndexEntry {
                        values,
                        primary_key,
                    },
                ),
                None => Err(Error::corrupt(
                    format!("index {}", self.index.name),
                    "short index key",
                )),
            },
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e.into()),
        };
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// Rows in index order (or reverse): each index entry's row fetched by its
/// primary key. Created by
/// [`Transaction::index_scan_rows`](crate::Transaction::index_scan_rows).
pub struct IndexRowScan {
    pub(crate) entries: IndexScan,
    pub(crate) kv: SharedKv,
    pub(crate) key: Vec<u8>,
}

impl IndexRowScan {
    /// The indexed table.
    pub fn table(&self) -> &Arc<TableDef> {
        &self.entries.table
    }
}

impl Iterator for IndexRowScan {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        let e = &mut self.entries;
        loop {
            if e.done {
                return None;
            }
            let t = &e.table;
            // Build the row key from the entry's encoded primary key: no
            // decoding of the indexed values or the key itself.
            let r = match e.iter.next() {
                Ok(Some((k, v))) => match k.get(e.prefix_len..) {
                    Some(rest) => index_entry_pk(&e.index, rest, v).map(|pk| {
                        self.key.clear();
                        push_rows_prefix(&mut self.key, t.id);
                        self.key.extend_from_slice(pk);
                    }),
                    None => Err(Error::corrupt(
                        format!("index {}", e.index.name),
                        "short index key",
                    )),
                },
                Ok(None) => {
                    e.done = true;
                    return None;
                }
                Err(err) => Err(err.into()),
            };
            let r = r.and_then(|()| match self.kv.get(&self.key)? {
                Some(v) => decode_row(t, &self.key[rows_prefix_len(t.id)..], &v).map(Some),
                // The caller deleted the row after the scan opened.
                None => Ok(None),
            });
            match r {
                Ok(Some(row)) => return Some(Ok(row)),
                Ok(None) => continue,
                Err(err) => {
                    e.done = true;
                    return Some(Err(err));
                }
            }
        }
    }
}
