//! Record batches straight from a table scan, decoded field by field.
//!
//! ```text
//!   RowScan (transaction scan, or Database::snapshot_scan)
//!     │ next_fields: (column, FieldRef) per column, text and blobs
//!     │              borrowed from the store's block
//!     ▼
//!   slot of the column ──► BatchBuilder::put (type + NULL checks)
//!     ▼ every `batch_size` rows
//!   RecordBatch ──► the format writer
//! ```
//!
//! This is the export's fast path for whole tables and column subsets:
//! no `Vec<Value>` per row and no `String` per text value, which were half
//! the cost of the scan (docs/PERFORMANCE.md, Export). Query results keep
//! going through [`RecordBatches`](super::RecordBatches), since the
//! executor produces owned rows anyway.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use table_layer::{RowScan, RowVisitor};

use super::batch::{BatchBuilder, BatchSource};
use super::columns::{ColumnSpec, Resolved};
use super::error::{ExportError, Result};

/// Batches over a table scan; see the [module documentation](self).
pub(crate) struct ScanBatches {
    scan: RowScan,
    /// For each table column, its output column (`None`: not exported).
    slots: Vec<Option<usize>>,
    builder: BatchBuilder,
    /// Rows delivered in batches so far.
    delivered: u64,
    done: bool,
}

impl ScanBatches {
    /// Batches of `batch_size` rows of the table columns `picked` (positions
    /// in the table, in output order; each at most once).
    pub(crate) fn new(scan: RowScan, picked: &[usize], batch_size: usize) -> Result<ScanBatches> {
        let table = scan.table();
        let all = ColumnSpec::from_table(table);
        let mut slots = vec![None; all.len()];
        let mut columns = Vec::with_capacity(picked.len());
        for (slot, &c) in picked.iter().enumerate() {
            let spec = all.get(c).ok_or_else(|| {
                ExportError::schema(format!("table {} has no column {c}", table.name()))
            })?;
            if slots[c].replace(slot).is_some() {
                return Err(ExportError::schema(format!(
                    "column {} is exported twice",
                    spec.name
                )));
            }
            columns.push(Resolved {
                name: spec.name.clone(),
                data_type: spec.data_type.unwrap_or(table_layer::DataType::Text),
                nullable: spec.nullable,
                inferred: false,
            });
        }
        if columns.is_empty() {
            return Err(ExportError::schema("nothing to export: no columns"));
        }
        Ok(ScanBatches {
            scan,
            slots,
            builder: BatchBuilder::new(columns, batch_size.max(1)),
            delivered: 0,
            done: false,
        })
    }
}

/// Appends one row's fields to the builders: the [`RowVisitor`] the scan
/// calls per column.
struct Sink<'a> {
    builder: &'a mut BatchBuilder,
    slots: &'a [Option<usize>],
    /// 1-based number of the row being decoded.
    row: u64,
    /// Columns appended so far.
    filled: usize,
    /// The first value that did not fit.
    failed: Option<ExportError>,
}

impl Sink<'_> {
    /// The output column of table column `column`, if it is exported.
    #[inline]
    fn slot(&self, column: usize) -> Option<usize> {
        self.slots.get(column).copied().flatten()
    }

    #[inline]
    fn done(&mut self, r: Result<()>) {
        match r {
            Ok(()) => self.filled += 1,
            Err(e) => {
                self.failed.get_or_insert(e);
            }
        }
    }
}

impl RowVisitor for Sink<'_> {
    fn null(&mut self, column: usize) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_null(self.row, slot);
            self.done(r);
        }
    }
    fn integer(&mut self, column: usize, v: i64) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_integer(self.row, slot, v);
            self.done(r);
        }
    }
    fn real(&mut self, column: usize, v: f64) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_real(self.row, slot, v);
            self.done(r);
        }
    }
    fn boolean(&mut self, column: usize, v: bool) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_boolean(self.row, slot, v);
            self.done(r);
        }
    }
    fn text(&mut self, column: usize, v: &str) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_text(self.row, slot, v);
            self.done(r);
        }
    }
    fn blob(&mut self, column: usize, v: &[u8]) {
        if let Some(slot) = self.slot(column) {
            let r = self.builder.put_blob(self.row, slot, v);
            self.done(r);
        }
    }
}

impl BatchSource for ScanBatches {
    fn schema(&mut self) -> Result<SchemaRef> {
        Ok(SchemaRef::clone(self.builder.schema()))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            return Ok(None);
        }
        let width = self.builder.width();
        let mut row = self.delivered;
        while !self.builder.is_full() {
            row += 1;
            let mut sink = Sink {
                builder: &mut self.builder,
                slots: &self.slots,
                row,
                filled: 0,
                failed: None,
            };
            let step = self.scan.next_fields(&mut sink);
            let (filled, failed) = (sink.filled, sink.failed);
            match step {
                None => {
                    self.done = true;
                    break;
                }
                Some(Err(error)) => {
                    self.done = true;
                    return Err(ExportError::Table {
                        row: Some(row),
                        error,
                    });
                }
                Some(Ok(())) => {}
            }
            if let Some(e) = failed {
                self.done = true;
                return Err(e);
            }
            if filled != width {
                self.done = true;
                return Err(ExportError::schema(format!(
                    "internal: row {row} gave {filled} of {width} columns"
                )));
            }
            self.builder.end_row();
        }
        if self.builder.len() == 0 {
            self.done = true;
            return Ok(None);
        }
        let batch = self.builder.finish()?;
        self.delivered += batch.num_rows() as u64;
        Ok(Some(batch))
    }

    fn rows(&self) -> u64 {
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use table_layer::{ColumnDef, DataType, Database, Direction, ScanRange, TableSpec, Value};

    use super::*;

    fn db() -> Database {
        let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("a", DataType::Integer))
                .column(ColumnDef::new("b", DataType::Text))
                .column(ColumnDef::new("c", DataType::Real).not_null())
                .primary_key(["a"]),
        )
        .unwrap();
        db.run_with_retry(1, |t| {
            for i in 0..25i64 {
                let b = if i % 4 == 0 {
                    Value::Null
                } else {
                    Value::Text(format!("r{i}"))
                };
                t.insert("t", &[Value::Integer(i), b, Value::Real(i as f64 / 2.0)])?;
            }
            Ok(())
        })
        .unwrap();
        db
    }

    #[test]
    fn batches_hold_the_picked_columns_in_order() {
        let db = db();
        let scan = db
            .snapshot_scan("t", ScanRange::all(), Direction::Forward)
            .unwrap();
        let mut b = ScanBatches::new(scan, &[1, 0], 10).unwrap();
        let schema = b.schema().unwrap();
        assert_eq!(schema.field(0).name(), "b");
        assert!(!schema.field(1).is_nullable());
        let mut sizes = Vec::new();
        let mut first = None;
        while let Some(batch) = b.next_batch().unwrap() {
            sizes.push(batch.num_rows());
            first.get_or_insert(batch);
        }
        assert_eq!(sizes, [10, 10, 5]);
        assert_eq!(b.rows(), 25);
        let first = first.unwrap();
        let text = first.column(0).as_string::<i32>();
        assert!(text.is_null(0));
        assert_eq!(text.value(1), "r1");
        assert_eq!(first.column(1).as_primitive::<Int64Type>().value(9), 9);
        assert!(b.next_batch().unwrap().is_none());
    }

    #[test]
    fn bad_column_lists_are_refused() {
        let db = db();
        let scan = || {
            db.snapshot_scan("t", ScanRange::all(), Direction::Forward)
                .unwrap()
        };
        assert!(ScanBatches::new(scan(), &[0, 0], 10).is_err());
        assert!(ScanBatches::new(scan(), &[7], 10).is_err());
        assert!(ScanBatches::new(scan(), &[], 10).is_err());
    }
}
