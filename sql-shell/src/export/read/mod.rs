//! Reading Parquet, Arrow IPC and CSV files as rows of a target table.
//!
//! ```text
//!   file ──► record batches (parquet / arrow_ipc readers)  ──┐
//!        └─► CSV records (csv.rs)                         ───┤ per row:
//!                                                            ▼
//!   Mapping: table column ◄── file column i, or its DEFAULT (NULL)
//!            value converted to the column's type, NULL checked
//!                                                            ▼
//!                                              full table row (Vec<Value>)
//! ```
//!
//! ## Which file column feeds which table column
//! 1. `COPY t (a, b) FROM ...` names the table columns: the file's columns
//!    feed them in order, and their number must match.
//! 2. Otherwise, when the file names its columns (Parquet, Arrow, CSV with
//!    a header), by name, ignoring case: every file column must exist in
//!    the table; table columns the file lacks get their DEFAULT or NULL.
//! 3. Otherwise (CSV without a header) by position: one field per table
//!    column.
//!
//! Types are checked once per column against the file's schema (Parquet,
//! Arrow) and then per value; the first value that does not fit stops the
//! load with its row number, column and value.
//!
//! Memory: Parquet is read one record batch at a time, but the reader holds
//! the compressed column chunks of one row group of the *input* file.

mod arrow;
mod csv;

use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use table_layer::{DataType, TableDef, Value};

pub(crate) use self::arrow::{compatible, value_at};
pub(crate) use self::csv::{CsvRecords, parse_field};
use super::error::{ExportError, Result};
use super::options::{Format, ImportOptions};

/// Where a table column's values come from.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// This column of the file.
    File(usize),
    /// Not in the file: this value (the column's DEFAULT or NULL).
    Default(Value),
}

/// A table column to fill.
#[derive(Clone, Debug)]
struct Target {
    name: String,
    data_type: DataType,
    nullable: bool,
    source: Source,
}

/// How file columns map onto the table's; see the module documentation.
#[derive(Clone, Debug)]
struct Mapping {
    targets: Vec<Target>,
    /// Number of columns the file must have.
    file_len: usize,
}

fn map_columns(
    table: &TableDef,
    file_names: Option<&[String]>,
    explicit: Option<&[String]>,
) -> Result<Mapping> {
    let cols = table.columns();
    let mut sources: Vec<Option<usize>> = vec![None; cols.len()];
    let file_len;
    if let Some(names) = explicit.filter(|n| !n.is_empty()) {
        for (i, n) in names.iter().enumerate() {
            let c = table.column_index(n).ok_or_else(|| {
                ExportError::schema(format!("table {} has no column {n}", table.name()))
            })?;
            if sources[c].is_some() {
                return Err(ExportError::schema(format!("column {n} is named twice")));
            }
            sources[c] = Some(i);
        }
        file_len = names.len();
        if let Some(f) = file_names {
            if f.len() != file_len {
                return Err(ExportError::schema(format!(
                    "the file has {} columns but {file_len} table columns were named",
                    f.len()
                )));
            }
        }
    } else if let Some(names) = file_names {
        for (i, n) in names.iter().enumerate() {
            let c = table.column_index(n).ok_or_else(|| {
                ExportError::schema(format!(
                    "the file's column {n} is not a column of table {} (columns: {}); \
                     name the target columns with COPY {} (col, ...) FROM to load by position",
                    table.name(),
                    cols.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    table.name()
                ))
            })?;
            if sources[c].is_some() {
                return Err(ExportError::schema(format!(
                    "the file has two columns named {n}"
                )));
            }
            sources[c] = Some(i);
        }
        file_len = names.len();
    } else {
        for (c, s) in sources.iter_mut().enumerate() {
            *s = Some(c);
        }
        file_len = cols.len();
    }
    let mut targets = Vec::with_capacity(cols.len());
    for (c, s) in cols.iter().zip(sources) {
        let source = match s {
            Some(i) => Source::File(i),
            None => {
                let d = c.default_or_null().clone();
                if d.is_null() && !c.nullable {
                    return Err(ExportError::schema(format!(
                        "column {} of table {} is NOT NULL without a default, and the file does not provide it",
                        c.name,
                        table.name()
                    )));
                }
                Source::Default(d)
            }
        };
        targets.push(Target {
            name: c.name.clone(),
            data_type: c.data_type,
            nullable: c.nullable,
            source,
        });
    }
    Ok(Mapping { targets, file_len })
}

impl Mapping {
    /// Check the file's Arrow types against the target columns.
    fn check_arrow_types(&self, schema: &SchemaRef) -> Result<()> {
        for t in &self.targets {
            if let Source::File(i) = t.source {
                let Some(f) = schema.fields().get(i) else {
                    return Err(ExportError::schema("internal: file column out of range"));
                };
                if !compatible(f.data_type(), t.data_type) {
                    return Err(ExportError::schema(format!(
                        "the file's column {} has type {} which cannot load into {} column {}",
                        f.name(),
                        f.data_type(),
                        t.data_type,
                        t.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// A converted value that is NULL must be allowed.
    fn check_null(&self, t: &Target, v: &Value, row: u64) -> Result<()> {
        if v.is_null() && !t.nullable {
            return Err(ExportError::null_in_not_null(row, &t.name));
        }
        Ok(())
    }
}

/// A stream of full table rows read from a file.
pub type RowReader = Box<dyn Iterator<Item = Result<Vec<Value>>>>;

/// Open `path` for loading into `table`: check the file's columns against
/// the table's (see the module documentation) and return its rows, typed
/// and in table column order.
///
/// ```
/// # use std::sync::Arc;
/// use sql_shell::export::{open_import, ImportOptions};
/// use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("n", DataType::Integer))
///     .column(ColumnDef::new("s", DataType::Text)))?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("in.csv");
/// std::fs::write(&path, "s,n\nhello,1\n,2\n")?;
/// let rows: Vec<_> = open_import(&*db.catalog().table("t")?, &path, None,
///                                &ImportOptions::default())?.collect::<Result<_, _>>()?;
/// assert_eq!(rows, vec![vec![Value::Integer(1), "hello".into()],
///                       vec![Value::Integer(2), Value::Null]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_import(
    table: &TableDef,
    path: &Path,
    columns: Option<&[String]>,
    opts: &ImportOptions,
) -> Result<RowReader> {
    let format = Format::resolve(opts.format, path)?;
    let file = File::open(path).map_err(|e| ExportError::io(path, "opening", e))?;
    match format {
        Format::Parquet => {
            let reader = guard(path, "reading the Parquet footer", || {
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .and_then(|b| b.with_batch_size(opts.batch_size).build())
                    .map_err(|e| e.to_string())
            })?;
            let schema = arrow_array::RecordBatchReader::schema(&reader);
            batch_rows(table, path, columns, schema, reader)
        }
        Format::Arrow => {
            let reader = guard(path, "reading the Arrow file footer", || {
                arrow_ipc::reader::FileReader::try_new(BufReader::new(file), None)
                    .map_err(|e| e.to_string())
            })?;
            let schema = reader.schema();
            batch_rows(table, path, columns, schema, reader)
        }
        Format::Csv => csv_rows(table, path, columns, opts.header, file),
    }
}

/// Run a reader operation, turning both its errors and a panic inside the
/// third-party reader (damaged input it did not anticipate) into a
/// [`ExportError::Format`] naming the file.
fn guard<T>(
    path: &Path,
    what: &str,
    f: impl FnOnce() -> std::result::Result<T, String>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ExportError::format(
            path,
            None,
            format!("{what}: {e} (is it a complete, undamaged file of this format?)"),
        )),
        Err(_) => Err(ExportError::format(
            path,
            None,
            format!("{what}: the reader failed on malformed data (damaged file?)"),
        )),
    }
}

fn batch_rows<B, E>(
    table: &TableDef,
    path: &Path,
    columns: Option<&[String]>,
    schema: SchemaRef,
    batches: B,
) -> Result<RowReader>
where
    B: Iterator<Item = std::result::Result<RecordBatch, E>> + 'static,
    E: std::fmt::Display,
{
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mapping = map_columns(table, Some(&names), columns)?;
    mapping.check_arrow_types(&schema)?;
    Ok(Box::new(BatchRows {
        batches,
        path: path.to_owned(),
        mapping,
        batch: None,
        pos: 0,
        row: 0,
        done: false,
    }))
}

/// Rows out of record batches.
struct BatchRows<B> {
    batches: B,
    path: PathBuf,
    mapping: Mapping,
    batch: Option<RecordBatch>,
    pos: usize,
    /// Rows produced so far.
    row: u64,
    done: bool,
}

impl<B, E> BatchRows<B>
where
    B: Iterator<Item = std::result::Result<RecordBatch, E>>,
    E: std::fmt::Display,
{
    fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        loop {
            if let Some(b) = &self.batch {
                if self.pos < b.num_rows() {
                    break;
                }
            }
            let row = self.row;
            let next = guard(&self.path, "reading", || match self.batches.next() {
                None => Ok(None),
                Some(Ok(b)) => Ok(Some(b)),
                Some(Err(e)) => Err(format!("after row {row}: {e}")),
            })?;
            match next {
                None => return Ok(None),
                Some(b) => {
                    if b.num_columns() != self.mapping.file_len {
                        return Err(ExportError::format(
                            &self.path,
                            None,
                            "a record batch does not match the file's schema",
                        ));
                    }
                    self.batch = Some(b);
                    self.pos = 0;
                }
            }
        }
        let Some(batch) = &self.batch else {
            return Ok(None);
        };
        self.row += 1;
        let mut out = Vec::with_capacity(self.mapping.targets.len());
        for t in &self.mapping.targets {
            let v = match &t.source {
                Source::Default(d) => d.clone(),
                Source::File(i) => {
                    let col = batch.column(*i);
                    value_at(col.as_ref(), self.pos, t.data_type).map_err(|(value, reason)| {
                        ExportError::BadValue {
                            row: self.row,
                            column: t.name.clone(),
                            value,
                            reason,
                        }
                    })?
                }
            };
            self.mapping.check_null(t, &v, self.row)?;
            out.push(v);
        }
        self.pos += 1;
        Ok(Some(out))
    }
}

impl<B, E> Iterator for BatchRows<B>
where
    B: Iterator<Item = std::result::Result<RecordBatch, E>>,
    E: std::fmt::Display,
{
    type Item = Result<Vec<Value>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_row();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}

fn csv_rows(
    table: &TableDef,
    path: &Path,
    columns: Option<&[String]>,
    header: bool,
    file: File,
) -> Result<RowReader> {
    let mut records = CsvRecords::new(BufReader::with_capacity(256 * 1024, file), path);
    let names = if header {
        if !records.next_record()? {
            return Err(ExportError::format(
                path,
                None,
                "the file is empty but HEADER is on (expected a line of column names)",
            ));
        }
        let mut names = Vec::with_capacity(records.len());
        for i in 0..records.len() {
            let (b, _) = records.field(i);
            let name = std::str::from_utf8(b).map_err(|_| {
                ExportError::format(path, Some("line 1".into()), "a column name is not UTF-8")
            })?;
            names.push(name.to_owned());
        }
        Some(names)
    } else {
        None
    };
    let mapping = map_columns(table, names.as_deref(), columns)?;
    Ok(Box::new(CsvRows {
        records,
        path: path.to_owned(),
        mapping,
        row: 0,
        done: false,
    }))
}

/// Rows out of CSV records.
struct CsvRows {
    records: CsvRecords<BufReader<File>>,
    path: PathBuf,
    mapping: Mapping,
    row: u64,
    done: bool,
}

impl CsvRows {
    fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        if !self.records.next_record()? {
            return Ok(None);
        }
        self.row += 1;
        let r = &self.records;
        if r.len() != self.mapping.file_len {
            return Err(ExportError::format(
                &self.path,
                Some(format!("line {}", r.record_line())),
                format!(
                    "{} fields where {} were expected",
                    r.len(),
                    self.mapping.file_len
                ),
            ));
        }
        let mut out = Vec::with_capacity(self.mapping.targets.len());
        for t in &self.mapping.targets {
            let v = match &t.source {
                Source::Default(d) => d.clone(),
                Source::File(i) => {
                    let (bytes, quoted) = r.field(*i);
                    parse_field(bytes, quoted, t.data_type).map_err(|reason| {
                        ExportError::BadValue {
                            row: self.row,
                            column: t.name.clone(),
                            value: shorten(bytes),
                            reason: format!("{reason} (line {})", r.record_line()),
                        }
                    })?
                }
            };
            self.mapping.check_null(t, &v, self.row)?;
            out.push(v);
        }
        Ok(Some(out))
    }
}

impl Iterator for CsvRows {
    type Item = Result<Vec<Value>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_row();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}

/// A field's bytes for an error message: quoted, at most 64 characters.
fn shorten(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let short: String = s.chars().take(64).collect();
    let more = if short.len() < s.len() { "..." } else { "" };
    format!("'{}{more}'", short.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use table_layer::{ColumnDef, Database, TableSpec};

    use super::*;

    fn table() -> Arc<TableDef> {
        let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
        db.create_table(
            TableSpec::new("t")
                .column(ColumnDef::new("id", DataType::Integer))
                .column(ColumnDef::new("name", DataType::Text))
                .column(ColumnDef::new("score", DataType::Real).default_value(Value::Real(1.5)))
                .primary_key(["id"]),
        )
        .unwrap();
        db.catalog().table("t").unwrap()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mapping_by_name_fills_defaults() {
        let m = map_columns(&table(), Some(&names(&["NAME", "id"])), None).unwrap();
        let s: Vec<_> = m.targets.iter().map(|t| t.source.clone()).collect();
        assert_eq!(
            s,
            vec![
                Source::File(1),
                Source::File(0),
                Source::Default(Value::Real(1.5))
            ]
        );
    }

    #[test]
    fn mapping_errors_are_explained() {
        let t = table();
        let e = map_columns(&t, Some(&names(&["id", "nope"])), None).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let e = map_columns(&t, Some(&names(&["name"])), None).unwrap_err();
        assert!(e.to_string().contains("NOT NULL"), "{e}");
        let e = map_columns(&t, Some(&names(&["id", "id"])), None).unwrap_err();
        assert!(e.to_string().contains("two columns"), "{e}");
        // Explicit target columns: positional.
        let m = map_columns(&t, Some(&names(&["x", "y"])), Some(&names(&["name", "id"]))).unwrap();
        assert_eq!(m.targets[0].source, Source::File(1));
        let e = map_columns(&t, Some(&names(&["x"])), Some(&names(&["name", "id"]))).unwrap_err();
        assert!(e.to_string().contains("2 table columns"), "{e}");
        // No names at all: by position.
        let m = map_columns(&t, None, None).unwrap();
        assert_eq!(m.file_len, 3);
    }
}
