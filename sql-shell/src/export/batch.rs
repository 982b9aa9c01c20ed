//! Rows to Arrow record batches, streaming.
//!
//! ```text
//!   rows: Iterator<Item = Result<Vec<Value>, E>>
//!     │  (one row at a time; the first batch is held back only while
//!     │   untyped columns need their type inferred)
//!     ▼
//!   ColumnBuilder per column ── append(value) checks type and NULL,
//!     │                          reports row number + column on a misfit
//!     ▼  every `batch_size` rows (default 8,192)
//!   RecordBatch ──► the format writer (Parquet, Arrow IPC, CSV)
//! ```
//!
//! Memory is one batch of column builders (plus the rows of the first batch
//! while inferring types), whatever the number of rows.
//!
//! ## Conversions
//! A value must be NULL or of its column's type, with two widenings that
//! lose nothing a SQL user would expect to keep: an INTEGER in a REAL column
//! becomes a double (as SQLite stores it), and a BOOLEAN in an INTEGER
//! column becomes 0 or 1 (SQL treats booleans as those integers). Anything
//! else is an [`ExportError::BadValue`] naming the row and column.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use table_layer::{DataType, FieldRef, Value};

use super::columns::{ColumnSpec, Resolved, infer_type, schema_of};
use super::error::{ExportError, Result};

/// The default number of rows per record batch.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// Average bytes reserved per TEXT/BLOB value for the first batch (later
/// batches reserve what the previous one used, so the builders rarely
/// grow by reallocation).
const VAR_BYTES_HINT: usize = 16;

/// One column's Arrow builder.
enum ColumnBuilder {
    Integer(Int64Builder),
    Real(Float64Builder),
    Text(StringBuilder),
    Blob(BinaryBuilder),
    Boolean(BooleanBuilder),
}

impl ColumnBuilder {
    fn new(t: DataType, capacity: usize, var_bytes: usize) -> ColumnBuilder {
        match t {
            DataType::Integer => ColumnBuilder::Integer(Int64Builder::with_capacity(capacity)),
            DataType::Real => ColumnBuilder::Real(Float64Builder::with_capacity(capacity)),
            DataType::Text => {
                ColumnBuilder::Text(StringBuilder::with_capacity(capacity, var_bytes))
            }
            DataType::Blob => {
                ColumnBuilder::Blob(BinaryBuilder::with_capacity(capacity, var_bytes))
            }
            DataType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
        }
    }

    /// Append a value; `false` when it does not fit the column's type
    /// (nothing is appended then).
    #[inline]
    fn append(&mut self, v: FieldRef<'_>) -> bool {
        match (self, v) {
            (ColumnBuilder::Integer(b), FieldRef::Null) => b.append_null(),
            (ColumnBuilder::Real(b), FieldRef::Null) => b.append_null(),
            (ColumnBuilder::Text(b), FieldRef::Null) => b.append_null(),
            (ColumnBuilder::Blob(b), FieldRef::Null) => b.append_null(),
            (ColumnBuilder::Boolean(b), FieldRef::Null) => b.append_null(),
            (ColumnBuilder::Integer(b), FieldRef::Integer(i)) => b.append_value(i),
            (ColumnBuilder::Integer(b), FieldRef::Boolean(x)) => b.append_value(i64::from(x)),
            (ColumnBuilder::Real(b), FieldRef::Real(r)) => b.append_value(r),
            (ColumnBuilder::Real(b), FieldRef::Integer(i)) => b.append_value(i as f64),
            (ColumnBuilder::Text(b), FieldRef::Text(s)) => b.append_value(s),
            (ColumnBuilder::Blob(b), FieldRef::Blob(x)) => b.append_value(x),
            (ColumnBuilder::Boolean(b), FieldRef::Boolean(x)) => b.append_value(x),
            _ => return false,
        }
        true
    }

    /// The array so far; the builder starts over with room for `capacity`
    /// values and, for TEXT/BLOB, as many bytes as this batch used (the
    /// finished buffers go to the writer thread, so they cannot be reused).
    fn finish(&mut self, capacity: usize) -> ArrayRef {
        match self {
            ColumnBuilder::Integer(b) => {
                let a = Arc::new(b.finish());
                *b = Int64Builder::with_capacity(capacity);
                a
            }
            ColumnBuilder::Real(b) => {
                let a = Arc::new(b.finish());
                *b = Float64Builder::with_capacity(capacity);
                a
            }
            ColumnBuilder::Text(b) => {
                let bytes = b.values_slice().len();
                let a = Arc::new(b.finish());
                *b = StringBuilder::with_capacity(capacity, bytes + bytes / 8);
                a
            }
            ColumnBuilder::Blob(b) => {
                let bytes = b.values_slice().len();
                let a = Arc::new(b.finish());
                *b = BinaryBuilder::with_capacity(capacity, bytes + bytes / 8);
                a
            }
            ColumnBuilder::Boolean(b) => {
                let a = Arc::new(b.finish());
                *b = BooleanBuilder::with_capacity(capacity);
                a
            }
        }
    }
}

/// Builds record batches from rows (whole rows of values, or field by
/// field); see the [module documentation](self).
pub(crate) struct BatchBuilder {
    columns: Vec<Resolved>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    batch_size: usize,
    /// Rows in the builders now.
    len: usize,
}

impl BatchBuilder {
    pub(crate) fn new(columns: Vec<Resolved>, batch_size: usize) -> BatchBuilder {
        let builders = columns
            .iter()
            .map(|c| ColumnBuilder::new(c.data_type, batch_size, batch_size * VAR_BYTES_HINT))
            .collect();
        BatchBuilder {
            schema: schema_of(&columns),
            columns,
            builders,
            batch_size,
            len: 0,
        }
    }

    /// The Arrow schema of the batches.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Number of columns.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// Append `v` to column `slot` of row `row` (1-based), checking its
    /// type and NULL. The row is complete once every column got a value and
    /// [`end_row`](Self::end_row) is called.
    #[inline]
    pub(crate) fn put(&mut self, row: u64, slot: usize, v: FieldRef<'_>) -> Result<()> {
        let (Some(b), Some(c)) = (self.builders.get_mut(slot), self.columns.get(slot)) else {
            return Err(no_slot(slot, self.columns.len()));
        };
        if v.is_null() && !c.nullable {
            return Err(ExportError::null_in_not_null(row, &c.name));
        }
        if b.append(v) {
            return Ok(());
        }
        Err(misfit(row, c, v))
    }

    /// [`put`](Self::put) of a NULL, without a type dispatch.
    #[inline]
    pub(crate) fn put_null(&mut self, row: u64, slot: usize) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(b) if self.columns[slot].nullable => {
                b.append(FieldRef::Null);
                Ok(())
            }
            _ => Err(self.refuse(row, slot, FieldRef::Null)),
        }
    }

    /// [`put`](Self::put) of an INTEGER, without a type dispatch.
    #[inline]
    pub(crate) fn put_integer(&mut self, row: u64, slot: usize, v: i64) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(ColumnBuilder::Integer(b)) => b.append_value(v),
            Some(ColumnBuilder::Real(b)) => b.append_value(v as f64),
            _ => return Err(self.refuse(row, slot, FieldRef::Integer(v))),
        }
        Ok(())
    }

    /// [`put`](Self::put) of a REAL, without a type dispatch.
    #[inline]
    pub(crate) fn put_real(&mut self, row: u64, slot: usize, v: f64) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(ColumnBuilder::Real(b)) => b.append_value(v),
            _ => return Err(self.refuse(row, slot, FieldRef::Real(v))),
        }
        Ok(())
    }

    /// [`put`](Self::put) of a BOOLEAN, without a type dispatch.
    #[inline]
    pub(crate) fn put_boolean(&mut self, row: u64, slot: usize, v: bool) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(ColumnBuilder::Boolean(b)) => b.append_value(v),
            Some(ColumnBuilder::Integer(b)) => b.append_value(i64::from(v)),
            _ => return Err(self.refuse(row, slot, FieldRef::Boolean(v))),
        }
        Ok(())
    }

    /// [`put`](Self::put) of a TEXT value, without a type dispatch.
    #[inline]
    pub(crate) fn put_text(&mut self, row: u64, slot: usize, v: &str) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(ColumnBuilder::Text(b)) => b.append_value(v),
            _ => return Err(self.refuse(row, slot, FieldRef::Text(v))),
        }
        Ok(())
    }

    /// [`put`](Self::put) of a BLOB value, without a type dispatch.
    #[inline]
    pub(crate) fn put_blob(&mut self, row: u64, slot: usize, v: &[u8]) -> Result<()> {
        match self.builders.get_mut(slot) {
            Some(ColumnBuilder::Blob(b)) => b.append_value(v),
            _ => return Err(self.refuse(row, slot, FieldRef::Blob(v))),
        }
        Ok(())
    }

    /// Why `v` cannot go into column `slot` (out of line: the typed puts
    /// stay small enough to inline).
    #[cold]
    #[inline(never)]
    fn refuse(&self, row: u64, slot: usize, v: FieldRef<'_>) -> ExportError {
        match self.columns.get(slot) {
            None => no_slot(slot, self.columns.len()),
            Some(c) if v.is_null() => ExportError::null_in_not_null(row, &c.name),
            Some(c) => misfit(row, c, v),
        }
    }

    /// Count a row whose every column got its value through
    /// [`put`](Self::put).
    #[inline]
    pub(crate) fn end_row(&mut self) {
        self.len += 1;
    }

    /// Append one row, checking arity, types and NULLs; `row` is its 1-based
    /// number. On an error the builders may hold part of the row, and the
    /// whole conversion is abandoned.
    fn push(&mut self, row: u64, values: &[Value]) -> Result<()> {
        if values.len() != self.columns.len() {
            return Err(ExportError::schema(format!(
                "row {row} has {} values for {} columns",
                values.len(),
                self.columns.len()
            )));
        }
        for (slot, v) in values.iter().enumerate() {
            self.put(row, slot, FieldRef::from(v))?;
        }
        self.end_row();
        Ok(())
    }

    /// Rows in the builders now.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True when the batch has its `batch_size` rows.
    pub(crate) fn is_full(&self) -> bool {
        self.len >= self.batch_size
    }

    /// The rows so far as a batch (the builders start over).
    pub(crate) fn finish(&mut self) -> Result<RecordBatch> {
        let cap = self.batch_size;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish(cap)).collect();
        self.len = 0;
        RecordBatch::try_new(Arc::clone(&self.schema), arrays)
            .map_err(|e| ExportError::schema(format!("building a record batch: {e}")))
    }
}

#[cold]
#[inline(never)]
fn no_slot(slot: usize, width: usize) -> ExportError {
    ExportError::schema(format!("internal: column {slot} of {width}"))
}

/// The error for a value that does not fit column `c` (out of line: the
/// append loop stays small).
#[cold]
#[inline(never)]
fn misfit(row: u64, c: &Resolved, v: FieldRef<'_>) -> ExportError {
    let value = v.to_value();
    let mut e = ExportError::wrong_type(row, &c.name, &value, c.data_type);
    if c.inferred {
        if let ExportError::BadValue { reason, .. } = &mut e {
            *reason = format!(
                "the column's type {} was inferred from the first batch of rows, \
                 but this value is {}; CAST the column to one type",
                c.data_type,
                value.data_type().map_or("NULL", |t| t.name())
            );
        }
    }
    e
}

/// A producer of record batches for the export pipeline: rows from any
/// iterator ([`RecordBatches`]) or a table scan decoded field by field
/// ([`ScanBatches`](super::scan::ScanBatches)).
pub(crate) trait BatchSource {
    /// The Arrow schema (may read ahead to infer column types).
    fn schema(&mut self) -> Result<SchemaRef>;
    /// The next batch, `None` at the end.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>>;
    /// Rows delivered in batches so far.
    fn rows(&self) -> u64;
}

/// A stream of record batches over a stream of rows; see the
/// [module documentation](self).
///
/// ```
/// use sql_shell::export::{ColumnSpec, RecordBatches};
/// use table_layer::{DataType, Value};
/// let rows = (0..20_000i64).map(|i| Ok::<_, std::convert::Infallible>(vec![Value::Integer(i)]));
/// let mut batches = RecordBatches::new(vec![ColumnSpec::new("n", DataType::Integer)], rows);
/// let sizes: Vec<usize> = batches.by_ref().map(|b| b.unwrap().num_rows()).collect();
/// assert_eq!(sizes, [8192, 8192, 3616]);
/// assert_eq!(batches.rows(), 20_000);
/// ```
pub struct RecordBatches<I> {
    specs: Vec<ColumnSpec>,
    rows: I,
    batch_size: usize,
    builder: Option<BatchBuilder>,
    /// Rows read while inferring types, not yet appended.
    held: Vec<Vec<Value>>,
    /// Rows taken from the source so far.
    taken: u64,
    /// Rows delivered in batches so far.
    delivered: u64,
    done: bool,
}

impl<I, E> RecordBatches<I>
where
    I: Iterator<Item = std::result::Result<Vec<Value>, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Batches of [`DEFAULT_BATCH_SIZE`] rows.
    pub fn new(columns: Vec<ColumnSpec>, rows: I) -> Self {
        RecordBatches::with_batch_size(columns, rows, DEFAULT_BATCH_SIZE)
    }

    /// Batches of `batch_size` rows (at least 1).
    pub fn with_batch_size(columns: Vec<ColumnSpec>, rows: I, batch_size: usize) -> Self {
        RecordBatches {
            specs: columns,
            rows,
            batch_size: batch_size.max(1),
            builder: None,
            held: Vec::new(),
            taken: 0,
            delivered: 0,
            done: false,
        }
    }

    /// Rows converted into delivered batches so far.
    pub fn rows(&self) -> u64 {
        self.delivered
    }

    /// The Arrow schema. When some columns are untyped this reads (and
    /// holds) the first batch of rows to infer their types.
    pub fn schema(&mut self) -> Result<SchemaRef> {
        self.start()?;
        match &self.builder {
            Some(b) => Ok(Arc::clone(&b.schema)),
            None => Err(ExportError::schema("internal: no batch builder")),
        }
    }

    fn next_source_row(&mut self) -> Result<Option<Vec<Value>>> {
        match self.rows.next() {
            None => Ok(None),
            Some(Ok(r)) => {
                self.taken += 1;
                Ok(Some(r))
            }
            Some(Err(e)) => Err(ExportError::Source {
                row: self.taken + 1,
                error: e.into(),
            }),
        }
    }

    /// Settle the column types (reading the first batch if some must be
    /// inferred) and create the builder.
    fn start(&mut self) -> Result<()> {
        if self.builder.is_some() {
            return Ok(());
        }
        if self.specs.iter().any(|c| c.data_type.is_none()) {
            while self.held.len() < self.batch_size {
                match self.next_source_row()? {
                    Some(r) => self.held.push(r),
                    None => break,
                }
            }
        }
        let mut resolved = Vec::with_capacity(self.specs.len());
        for (i, c) in self.specs.iter().enumerate() {
            let (data_type, inferred) = match c.data_type {
                Some(t) => (t, false),
                None => (
                    infer_type(&c.name, self.held.iter().filter_map(|r| r.get(i)))?,
                    true,
                ),
            };
            resolved.push(Resolved {
                name: c.name.clone(),
                data_type,
                nullable: c.nullable,
                inferred,
            });
        }
        self.builder = Some(BatchBuilder::new(resolved, self.batch_size));
        Ok(())
    }

    fn produce(&mut self) -> Result<Option<RecordBatch>> {
        self.start()?;
        let held = std::mem::take(&mut self.held);
        let Some(builder) = self.builder.as_mut() else {
            return Ok(None);
        };
        let mut row = self.delivered;
        for r in held {
            row += 1;
            builder.push(row, &r)?;
        }
        while !builder.is_full() {
            let r = match self.rows.next() {
                None => {
                    self.done = true;
                    break;
                }
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    return Err(ExportError::Source {
                        row: row + 1,
                        error: e.into(),
                    });
                }
            };
            self.taken += 1;
            row += 1;
            builder.push(row, &r)?;
        }
        if builder.len() == 0 {
            self.done = true;
            return Ok(None);
        }
        let batch = builder.finish()?;
        self.delivered = row;
        Ok(Some(batch))
    }
}

impl<I, E> Iterator for RecordBatches<I>
where
    I: Iterator<Item = std::result::Result<Vec<Value>, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.produce();
        if r.is_err() {
            self.done = true;
        }
        r.transpose()
    }
}

impl<I, E> BatchSource for RecordBatches<I>
where
    I: Iterator<Item = std::result::Result<Vec<Value>, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn schema(&mut self) -> Result<SchemaRef> {
        RecordBatches::schema(self)
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.next().transpose()
    }

    fn rows(&self) -> u64 {
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};

    use super::*;

    fn ok_rows(
        rows: Vec<Vec<Value>>,
    ) -> impl Iterator<Item = std::result::Result<Vec<Value>, Infallible>> {
        rows.into_iter().map(Ok)
    }

    #[test]
    fn every_type_and_nulls_convert() {
        let cols = vec![
            ColumnSpec::new("i", DataType::Integer),
            ColumnSpec::new("r", DataType::Real),
            ColumnSpec::new("t", DataType::Text),
            ColumnSpec::new("b", DataType::Blob),
            ColumnSpec::new("o", DataType::Boolean),
        ];
        let rows = vec![
            vec![
                Value::Integer(-7),
                Value::Real(2.5),
                Value::Text("héllo".into()),
                Value::Blob(vec![0, 255]),
                Value::Boolean(true),
            ],
            vec![Value::Null; 5],
        ];
        let batches: Vec<_> = RecordBatches::new(cols, ok_rows(rows))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), -7);
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 2.5);
        assert_eq!(b.column(2).as_string::<i32>().value(0), "héllo");
        assert_eq!(b.column(3).as_binary::<i32>().value(0), &[0, 255]);
        assert!(b.column(4).as_boolean().value(0));
        for c in b.columns() {
            assert!(c.is_null(1));
        }
    }

    #[test]
    fn type_error_names_row_and_column() {
        let cols = vec![ColumnSpec::new("n", DataType::Integer)];
        let mut rows: Vec<Vec<Value>> = (0..10_000).map(|i| vec![Value::Integer(i)]).collect();
        rows[9000] = vec![Value::Text("oops".into())];
        let err = RecordBatches::new(cols, ok_rows(rows))
            .collect::<Result<Vec<_>>>()
            .unwrap_err();
        assert_eq!(err.row(), Some(9001));
        let msg = err.to_string();
        assert!(
            msg.contains("row 9001, column n") && msg.contains("'oops'"),
            "{msg}"
        );
    }

    #[test]
    fn null_in_not_null_column_is_reported() {
        let cols = vec![ColumnSpec::new("n", DataType::Integer).not_null()];
        let rows = vec![vec![Value::Integer(1)], vec![Value::Null]];
        let err = RecordBatches::new(cols, ok_rows(rows))
            .collect::<Result<Vec<_>>>()
            .unwrap_err();
        assert!(err.to_string().contains("row 2, column n"), "{err}");
    }

    #[test]
    fn widenings_and_inference() {
        let cols = vec![
            ColumnSpec::new("r", DataType::Real),
            ColumnSpec::untyped("x"),
            ColumnSpec::untyped("nothing"),
        ];
        let rows = vec![
            vec![Value::Integer(3), Value::Integer(1), Value::Null],
            vec![Value::Real(0.5), Value::Real(1.5), Value::Null],
        ];
        let mut it = RecordBatches::new(cols, ok_rows(rows));
        let schema = it.schema().unwrap();
        assert_eq!(
            schema.field(1).data_type(),
            &arrow_schema::DataType::Float64
        );
        assert_eq!(schema.field(2).data_type(), &arrow_schema::DataType::Utf8);
        let b = it.next().unwrap().unwrap();
        assert_eq!(b.column(0).as_primitive::<Float64Type>().value(0), 3.0);
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 1.0);
        assert!(it.next().is_none());
    }

    #[test]
    fn inferred_type_violated_later_is_an_error_with_advice() {
        let cols = vec![ColumnSpec::untyped("x")];
        let mut rows: Vec<Vec<Value>> = (0..5).map(|i| vec![Value::Integer(i)]).collect();
        rows.push(vec![Value::Text("late".into())]);
        let err = RecordBatches::with_batch_size(cols, ok_rows(rows), 4)
            .collect::<Result<Vec<_>>>()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("row 6") && msg.contains("inferred"), "{msg}");
    }

    #[test]
    fn source_errors_carry_the_row_number() {
        let rows = (0..5).map(|i| {
            if i == 3 {
                Err("disk on fire")
            } else {
                Ok(vec![Value::Integer(i)])
            }
        });
        let err = RecordBatches::new(vec![ColumnSpec::new("n", DataType::Integer)], rows)
            .collect::<Result<Vec<_>>>()
            .unwrap_err();
        assert_eq!(err.row(), Some(4));
        assert!(err.to_string().contains("disk on fire"));
    }

    #[test]
    fn empty_input_gives_no_batch_but_a_schema() {
        let mut it = RecordBatches::new(vec![ColumnSpec::untyped("x")], ok_rows(Vec::new()));
        assert_eq!(it.schema().unwrap().fields().len(), 1);
        assert!(it.next().is_none());
        assert_eq!(it.rows(), 0);
    }

    #[test]
    fn typed_puts_check_like_put() {
        let col = |name: &str, t, nullable| Resolved {
            name: name.into(),
            data_type: t,
            nullable,
            inferred: false,
        };
        let mut b = BatchBuilder::new(
            vec![
                col("i", DataType::Integer, false),
                col("r", DataType::Real, true),
                col("t", DataType::Text, true),
                col("b", DataType::Blob, true),
                col("o", DataType::Boolean, true),
            ],
            4,
        );
        // The widenings of `put`: INTEGER into REAL, BOOLEAN into INTEGER.
        b.put_boolean(1, 0, true).unwrap();
        b.put_integer(1, 1, 3).unwrap();
        b.put_text(1, 2, "x").unwrap();
        b.put_blob(1, 3, &[1]).unwrap();
        b.put_null(1, 4).unwrap();
        b.end_row();
        let e = b.put_null(2, 0).unwrap_err().to_string();
        assert!(e.contains("row 2, column i") && e.contains("NULL"), "{e}");
        let e = b.put_text(2, 1, "no").unwrap_err().to_string();
        assert!(e.contains("row 2, column r") && e.contains("'no'"), "{e}");
        assert!(b.put_real(2, 0, 1.5).is_err());
        assert!(b.put_integer(2, 2, 1).is_err());
        assert!(b.put_blob(2, 4, &[]).is_err());
        assert!(b.put_boolean(2, 3, false).is_err());
        assert!(
            b.put_integer(2, 9, 1)
                .unwrap_err()
                .to_string()
                .contains("internal")
        );
        // Only the complete first row is in the batch; the failed puts
        // above appended nothing.
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).as_primitive::<Int64Type>().value(0), 1);
        assert_eq!(batch.column(1).as_primitive::<Float64Type>().value(0), 3.0);
        assert!(batch.column(4).is_null(0));
    }

    #[test]
    fn arity_mismatch_is_an_error() {
        let err = RecordBatches::new(
            vec![ColumnSpec::new("a", DataType::Integer)],
            ok_rows(vec![vec![Value::Integer(1), Value::Integer(2)]]),
        )
        .collect::<Result<Vec<_>>>()
        .unwrap_err();
        assert!(err.to_string().contains("2 values for 1 columns"));
    }
}
