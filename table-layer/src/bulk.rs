//! # Bulk reads: snapshot scans and borrowed, field-by-field row decoding
//!
//! An export (Parquet, Arrow, CSV) reads every row of a table once and
//! turns each column into an array. The general-purpose read path pays for
//! things such a reader does not need:
//!
//! ```text
//!   Transaction::scan ─► kv transaction iterator ─► Row { values: Vec<Value> }
//!                        (merges the transaction's    (one Vec per row, one
//!                         writes; copies each entry)   String/Vec per text/blob)
//!
//!   Database::snapshot_scan ─► the store's own iterator ─► RowScan::next_fields
//!                              (one consistent state,      (column index + borrowed
//!                               entries borrowed)            FieldRef per column)
//! ```
//!
//! - [`Database::snapshot_scan`] opens a [`RowScan`] on the store's own
//!   iterator, outside any transaction: it sees what was committed when it
//!   opened, with the catalog of that moment (checked, see below), and
//!   there are no buffered writes to merge, so nothing is copied per entry.
//! - [`RowScan::next_fields`] decodes the next row column by column into a
//!   callback: integers, reals and booleans by value, text and blobs
//!   borrowed from the store's buffer. Key columns are decoded from the key
//!   (they are few and short); columns added after a row was written give
//!   their default, exactly as [`RowScan`]'s `next` does.
//!
//! Both work on any scan: `next_fields` on a transaction's scan too, and a
//! snapshot scan also yields owned [`Row`](crate::Row)s through `next`.
//!
//! ## Catalog and snapshot agree
//! A schema change publishes its catalog under the catalog lock after its
//! kv commit. The snapshot scan reads the catalog, opens the store
//! iterator, and reads the catalog again: if its generation moved, a
//! schema change may have landed in between and the scan starts over
//! (bounded retries). An unchanged generation means the iterator's state
//! and the catalog belong together (a change committing meanwhile would
//! hold the lock, and the second read waits for it to publish).

use kv_api::Direction;

use crate::codec::key::decode_value;
use crate::codec::row::get_varint;
use crate::keys::push_rows_prefix;
use crate::schema::PrimaryKey;
use crate::{DataType, Database, Error, Result, RowScan, ScanRange, SortOrder, TableDef, Value};

/// How often a snapshot scan starts over when schema changes keep landing
/// while it opens.
const SNAPSHOT_ATTEMPTS: usize = 8;

/// One column value of a row, borrowed from the scan's buffer where it is
/// text or bytes. See the [module documentation](self).
///
/// ```
/// use table_layer::{FieldRef, Value};
/// let v = Value::Text("hi".into());
/// assert_eq!(FieldRef::from(&v), FieldRef::Text("hi"));
/// assert_eq!(FieldRef::Text("hi").to_value(), v);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldRef<'a> {
    /// SQL NULL.
    Null,
    /// An INTEGER.
    Integer(i64),
    /// A REAL.
    Real(f64),
    /// A BOOLEAN.
    Boolean(bool),
    /// A TEXT value.
    Text(&'a str),
    /// A BLOB value.
    Blob(&'a [u8]),
}

impl FieldRef<'_> {
    /// The owned value.
    pub fn to_value(&self) -> Value {
        match *self {
            FieldRef::Null => Value::Null,
            FieldRef::Integer(i) => Value::Integer(i),
            FieldRef::Real(r) => Value::Real(r),
            FieldRef::Boolean(b) => Value::Boolean(b),
            FieldRef::Text(s) => Value::Text(s.to_owned()),
            FieldRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, FieldRef::Null)
    }
}

impl<'a> From<&'a Value> for FieldRef<'a> {
    fn from(v: &'a Value) -> FieldRef<'a> {
        match v {
            Value::Null => FieldRef::Null,
            Value::Integer(i) => FieldRef::Integer(*i),
            Value::Real(r) => FieldRef::Real(*r),
            Value::Boolean(b) => FieldRef::Boolean(*b),
            Value::Text(s) => FieldRef::Text(s),
            Value::Blob(b) => FieldRef::Blob(b),
        }
    }
}

/// Receives the columns of a row from [`RowScan::next_fields`], one typed
/// call per column (`column` is the position in
/// [`TableDef::columns`]). Typed methods rather than one method taking a
/// [`FieldRef`] let a consumer that appends to typed builders skip a
/// type dispatch per value: the decoder already knows the type. Every
/// `FnMut(usize, FieldRef)` closure is a visitor.
pub trait RowVisitor {
    /// A NULL.
    fn null(&mut self, column: usize);
    /// An INTEGER.
    fn integer(&mut self, column: usize, v: i64);
    /// A REAL.
    fn real(&mut self, column: usize, v: f64);
    /// A BOOLEAN.
    fn boolean(&mut self, column: usize, v: bool);
    /// A TEXT value, borrowed.
    fn text(&mut self, column: usize, v: &str);
    /// A BLOB value, borrowed.
    fn blob(&mut self, column: usize, v: &[u8]);

    /// Any value: calls the typed method.
    fn field(&mut self, column: usize, v: FieldRef<'_>) {
        match v {
            FieldRef::Null => self.null(column),
            FieldRef::Integer(i) => self.integer(column, i),
            FieldRef::Real(r) => self.real(column, r),
            FieldRef::Boolean(b) => self.boolean(column, b),
            FieldRef::Text(t) => self.text(column, t),
            FieldRef::Blob(b) => self.blob(column, b),
        }
    }
}

impl<F: FnMut(usize, FieldRef<'_>)> RowVisitor for F {
    fn null(&mut self, column: usize) {
        self(column, FieldRef::Null)
    }
    fn integer(&mut self, column: usize, v: i64) {
        self(column, FieldRef::Integer(v))
    }
    fn real(&mut self, column: usize, v: f64) {
        self(column, FieldRef::Real(v))
    }
    fn boolean(&mut self, column: usize, v: bool) {
        self(column, FieldRef::Boolean(v))
    }
    fn text(&mut self, column: usize, v: &str) {
        self(column, FieldRef::Text(v))
    }
    fn blob(&mut self, column: usize, v: &[u8]) {
        self(column, FieldRef::Blob(v))
    }
    fn field(&mut self, column: usize, v: FieldRef<'_>) {
        self(column, v)
    }
}

impl Database {
    /// Stream the rows of `table` whose primary key is in `range`, from the
    /// store's committed state when the scan opens, outside any
    /// transaction. See the [module documentation](self).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use table_layer::*;
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    ///     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// db.run_with_retry(1, |t| t.insert("t", &[1.into(), "one".into()]))?;
    /// let mut scan = db.snapshot_scan("t", ScanRange::all(), Direction::Forward)?;
    /// db.run_with_retry(1, |t| t.insert("t", &[2.into(), "two".into()]))?; // not seen
    /// let mut seen = Vec::new();
    /// while let Some(r) = scan.next_fields(&mut |col: usize, f: FieldRef<'_>| seen.push((col, f.to_value()))) {
    ///     r?;
    /// }
    /// seen.sort_by_key(|(col, _)| *col); // columns come in storage order
    /// assert_eq!(seen, [(0, Value::Integer(1)), (1, Value::Text("one".into()))]);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn snapshot_scan(
        &self,
        table: &str,
        range: ScanRange,
        direction: Direction,
    ) -> Result<RowScan> {
        for _ in 0..SNAPSHOT_ATTEMPTS {
            let catalog = self.catalog();
            let t = catalog.table(table)?;
            let mut base = Vec::with_capacity(8);
            push_rows_prefix(&mut base, t.id);
            let kr = range.to_key_range(&base, &crate::dml::pk_orders(&t), &t.name)?;
            let iter = self.store().iter(kr, direction)?;
            if self.catalog().generation() == catalog.generation() {
                return Ok(RowScan {
                    prefix_len: base.len(),
                    table: t,
                    iter,
                    done: false,
                });
            }
        }
        Err(Error::invalid(format!(
            "cannot open a snapshot scan of {table}: its schema keeps changing; try again"
        )))
    }
}

impl RowScan {
    /// Decode the next row field by field: `visit` (a [`RowVisitor`], such
    /// as a `|column, value|` closure) is called once for every column of
    /// the table (by its position in
    /// [`TableDef::columns`], in no particular order), with text and blobs
    /// borrowed. `None` at the end; after an error the scan ends.
    ///
    /// The hidden rowid of a table without a primary key is not visited.
    /// See the [module documentation](self) and [`Database::snapshot_scan`]
    /// for an example.
    ///
    /// The visitor is generic so that it is compiled into the decoding
    /// loop (a `dyn` callback with a [`FieldRef`] cost an indirect call and
    /// a type dispatch per field, ~10% of an export's CPU).
    pub fn next_fields<V: RowVisitor>(&mut self, visit: &mut V) -> Option<Result<()>> {
        self.next_with(|table, key, value| visit_row(table, key, value, visit))
    }
}

fn bad(t: &TableDef, detail: &str) -> Error {
    Error::corrupt(format!("row value of table {}", t.name), detail)
}

/// The field-by-field twin of `rows::decode_row` (same format: see
/// [`codec::row`](crate::codec::row)).
#[inline]
fn visit_row<V: RowVisitor>(
    t: &TableDef,
    mut key_rest: &[u8],
    value: &[u8],
    visit: &mut V,
) -> Result<()> {
    let mut input = value;
    let version = u32::try_from(get_varint(&mut input).map_err(|e| at(t, e))?)
        .map_err(|_| bad(t, "schema version out of range"))?;
    let types = t
        .stored_types(version)
        .ok_or_else(|| bad(t, "row has an unknown schema version"))?;
    let n = types.len();
    let nb = n.div_ceil(8);
    if input.len() < nb {
        return Err(bad(t, "value ends inside the null bitmap"));
    }
    let (bitmap, mut input) = input.split_at(nb);
    for (i, (ty, &col)) in types.iter().zip(&t.value_columns).enumerate() {
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            visit.null(col);
            continue;
        }
        match ty {
            DataType::Integer => {
                let u = get_varint(&mut input).map_err(|e| at(t, e))?;
                visit.integer(col, ((u >> 1) as i64) ^ -((u & 1) as i64));
            }
            DataType::Real => {
                let (b, rest) = input
                    .split_first_chunk::<8>()
                    .ok_or_else(|| bad(t, "value ends inside a real"))?;
                input = rest;
                visit.real(col, f64::from_le_bytes(*b));
            }
            DataType::Boolean => {
                let (&b, rest) = input
                    .split_first()
                    .ok_or_else(|| bad(t, "value ends inside a boolean"))?;
                input = rest;
                match b {
                    0 => visit.boolean(col, false),
                    1 => visit.boolean(col, true),
                    _ => return Err(bad(t, "boolean is neither 0 nor 1")),
                }
            }
            DataType::Text => {
                let b = take_len_prefixed(t, &mut input)?;
                let s = std::str::from_utf8(b).map_err(|_| bad(t, "text is not valid UTF-8"))?;
                visit.text(col, s);
            }
            DataType::Blob => visit.blob(col, take_len_prefixed(t, &mut input)?),
        }
    }
    if !input.is_empty() {
        return Err(bad(t, "trailing bytes after the last column"));
    }
    for &col in &t.value_columns[n..] {
        visit.field(col, FieldRef::from(t.columns[col].default_or_null()));
    }
    match &t.primary_key {
        PrimaryKey::Rowid => {
            decode_value(&mut key_rest, SortOrder::Asc).map_err(|e| at(t, e))?;
        }
        PrimaryKey::Columns(pk) => {
            for &col in pk {
                let v = decode_value(&mut key_rest, SortOrder::Asc).map_err(|e| at(t, e))?;
                visit.field(col, FieldRef::from(&v));
            }
        }
    }
    if !key_rest.is_empty() {
        return Err(Error::corrupt(
            format!("table {}", t.name),
            "trailing bytes after the primary key",
        ));
    }
    Ok(())
}

fn take_len_prefixed<'a>(t: &TableDef, input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = get_varint(input).map_err(|e| at(t, e))?;
    let len = usize::try_from(len).map_err(|_| bad(t, "length out of range"))?;
    if input.len() < len {
        return Err(bad(t, "value ends inside a text or blob"));
    }
    let (b, rest) = input.split_at(len);
    *input = rest;
    Ok(b)
}

/// Name the table in a codec's corruption error.
fn at(t: &TableDef, e: Error) -> Error {
    match e {
        Error::Corrupt { location, detail } => Error::Corrupt {
            location: format!("{location} of table {}", t.name),
            detail,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::{ColumnDef, TableSpec};

    fn fields(scan: &mut RowScan, ncols: usize) -> Vec<Result<Vec<Value>>> {
        let mut out = Vec::new();
        loop {
            let mut row = vec![None; ncols];
            match scan.next_fields(&mut |c: usize, f: FieldRef<'_>| {
                assert!(row[c].is_none(), "column {c} visited twice");
                row[c] = Some(f.to_value());
            }) {
                None => return out,
                Some(Ok(())) => out.push(Ok(row
                    .into_iter()
                    .map(|v| v.expect("every column visited"))
                    .collect())),
                Some(Err(e)) => out.push(Err(e)),
            }
        }
    }

    /// A value of `ty` from a seed; NULL for one seed in five unless
    /// `not_null`.
    fn value(ty: DataType, seed: u16, not_null: bool) -> Value {
        if seed % 5 == 0 && !not_null {
            return Value::Null;
        }
        let s = i64::from(seed);
        match ty {
            DataType::Integer => Value::Integer(s * 7919 - 300_000),
            DataType::Real => Value::Real(s as f64 / 3.0 - 100.0),
            DataType::Boolean => Value::Boolean(seed % 2 == 0),
            DataType::Text => Value::Text(format!("t{seed}é€")),
            DataType::Blob => Value::Blob(seed.to_le_bytes().to_vec()),
        }
    }

    const TYPES: [DataType; 5] = [
        DataType::Integer,
        DataType::Real,
        DataType::Boolean,
        DataType::Text,
        DataType::Blob,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Field-by-field decoding gives exactly what the owned decoder
        /// gives, for every column type, NULLs, composite and rowid keys,
        /// and rows written before an ADD COLUMN (defaults).
        #[test]
        fn next_fields_agrees_with_next(
            types in proptest::collection::vec(0..5usize, 1..6),
            pk_kind in 0..3usize,
            rows in proptest::collection::vec(proptest::collection::vec(any::<u16>(), 8), 0..20),
            added in proptest::option::of(0..5usize),
        ) {
            let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
            let mut spec = TableSpec::new("t").column(ColumnDef::new("k", DataType::Integer));
            for (i, &ty) in types.iter().enumerate() {
                spec = spec.column(ColumnDef::new(format!("c{i}"), TYPES[ty]));
            }
            spec = match pk_kind {
                0 => spec,
                1 => spec.primary_key(["k"]),
                _ => spec.primary_key(["c0", "k"]),
            };
            db.create_table(spec).unwrap();
            let insert = |db: &Database, k: usize, seeds: &[u16]| {
                db.run_with_retry(1, |txn| {
                    let def = txn.catalog().table("t")?;
                    let row: Vec<Value> = def
                        .columns()
                        .iter()
                        .enumerate()
                        .map(|(i, c)| match i {
                            0 => Value::Integer(k as i64),
                            _ => value(c.data_type, seeds[i], pk_kind == 2 && i == 1),
                        })
                        .collect();
                    txn.insert("t", &row)
                })
                .unwrap();
            };
            let half = rows.len() / 2;
            for (k, r) in rows[..half].iter().enumerate() {
                insert(&db, k, r);
            }
            if let Some(ty) = added {
                db.add_column(
                    "t",
                    ColumnDef::new("late", TYPES[ty]).default_value(value(TYPES[ty], 1, true)),
                )
                .unwrap();
            }
            for (k, r) in rows.iter().enumerate().skip(half) {
                insert(&db, k, r);
            }
            let ncols = db.catalog().table("t").unwrap().columns().len();
            let txn = db.begin().unwrap();
            let want: Vec<Vec<Value>> = txn
                .scan("t", ScanRange::all(), Direction::Forward)
                .unwrap()
                .map(|r| r.unwrap().values)
                .collect();
            prop_assert_eq!(want.len(), rows.len());
            let mut scan = txn.scan("t", ScanRange::all(), Direction::Forward).unwrap();
            let got: Vec<Vec<Value>> =
                fields(&mut scan, ncols).into_iter().map(|r| r.unwrap()).collect();
            prop_assert_eq!(&got, &want);
            let mut snap = db.snapshot_scan("t", ScanRange::all(), Direction::Reverse).unwrap();
            let mut got: Vec<Vec<Value>> =
                fields(&mut snap, ncols).into_iter().map(|r| r.unwrap()).collect();
            got.reverse();
            prop_assert_eq!(&got, &want);
        }
    }

    #[test]
    fn snapshot_scan_sees_committed_state_and_ranges() {
        let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("a", DataType::Integer))
                .column(ColumnDef::new("b", DataType::Text))
                .primary_key(["a"]),
        )
        .unwrap();
        db.run_with_retry(1, |t| {
            for i in 0..10 {
                t.insert("t", &[Value::Integer(i), Value::Text(format!("v{i}"))])?;
            }
            Ok(())
        })
        .unwrap();
        let mut open = db.begin().unwrap();
        open.insert("t", &[Value::Integer(100), Value::Null])
            .unwrap();
        let range = ScanRange::new(
            std::ops::Bound::Included(vec![Value::Integer(3)]),
            std::ops::Bound::Excluded(vec![Value::Integer(6)]),
        );
        let scan = db.snapshot_scan("t", range, Direction::Forward).unwrap();
        // Later commits are not seen; the open transaction's writes never.
        db.run_with_retry(1, |t| t.delete("t", &[Value::Integer(4)]).map(|_| ()))
            .unwrap();
        let keys: Vec<Value> = scan.map(|r| r.unwrap().values[0].clone()).collect();
        assert_eq!(keys, [3.into(), 4.into(), 5.into()] as [Value; 3]);
        assert!(matches!(
            db.snapshot_scan("nope", ScanRange::all(), Direction::Forward),
            Err(Error::NoSuchTable { .. })
        ));
    }

    #[test]
    fn corrupt_rows_are_errors_that_end_the_scan() {
        let store = Arc::new(kv_api::MemStore::new());
        let db = Database::open(store.clone()).unwrap();
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("a", DataType::Integer))
                .column(ColumnDef::new("b", DataType::Text))
                .primary_key(["a"]),
        )
        .unwrap();
        db.run_with_retry(1, |t| t.insert("t", &[1.into(), "x".into()]).map(|_| ()))
            .unwrap();
        // Overwrite the row's value with garbage (bad UTF-8 in the text).
        let def = db.catalog().table("t").unwrap();
        let mut key = Vec::new();
        push_rows_prefix(&mut key, def.id());
        crate::codec::key::encode_value(&mut key, &Value::Integer(1), SortOrder::Asc);
        kv_api::KvStore::put(&*store, &key, &[0, 0, 2, 0xff, 0xfe]).unwrap();
        let mut scan = db
            .snapshot_scan("t", ScanRange::all(), Direction::Forward)
            .unwrap();
        let r = scan.next_fields(&mut |_: usize, _: FieldRef<'_>| {});
        let e = r.unwrap().unwrap_err().to_string();
        assert!(e.contains("table t") && e.contains("UTF-8"), "{e}");
        assert!(
            scan.next_fields(&mut |_: usize, _: FieldRef<'_>| {})
                .is_none()
        );
    }
}
