//! Exporting rows to a file: the driver and one writer per format.
//!
//! ```text
//!   caller's thread                               writer thread
//!   query rows ─► RecordBatches (batch.rs) ┐
//!   table scan ─► ScanBatches (scan.rs) ───┴► batch ──channel(4)──► FormatWriter
//!                                                   (parquet.rs, ipc.rs, csv.rs)
//!                                                      │ TargetWriter (temp file)
//!   progress.update(rows)                              ▼
//!                                 Target::commit: fsync, rename/link into place
//! ```
//!
//! Producing rows (a table scan or a query) and encoding them (Parquet
//! dictionaries, statistics, compression) are both CPU work, so they run
//! on two threads joined by a channel of at most [`PIPELINE_DEPTH`]
//! batches: memory stays bounded by a few batches plus one row group. The
//! rows iterator never leaves the caller's thread (a query cursor borrows
//! its session), only finished record batches cross over.

mod csv;
mod ipc;
mod parquet;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
#[cfg(doc)]
use table_layer::Database;
use table_layer::{Direction, RowScan, ScanRange, Transaction, Value};

use super::batch::{BatchSource, RecordBatches};
use super::columns::ColumnSpec;
use super::error::{ExportError, Result};
use super::options::{ExportOptions, Format};
use super::progress::Progress;
use super::scan::ScanBatches;
use super::target::{Target, TargetWriter};

/// Batches in flight between the converting and the writing thread: a
/// little slack for the writer's pauses (page compression, row-group
/// flushes) at a cost of a few batches of memory.
pub const PIPELINE_DEPTH: usize = 4;

/// One output format: takes record batches, gives back the file writer
/// when the file is complete (footer written).
pub(crate) trait FormatWriter: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<TargetWriter>;
}

fn open_writer(
    format: Format,
    schema: SchemaRef,
    out: TargetWriter,
    opts: &ExportOptions,
    path: &Path,
) -> Result<Box<dyn FormatWriter>> {
    Ok(match format {
        Format::Parquet => Box::new(parquet::ParquetWriter::new(out, schema, opts, path)?),
        Format::Arrow => Box::new(ipc::IpcWriter::new(out, schema, path)?),
        Format::Csv => Box::new(csv::CsvWriter::new(out, schema, opts.header, path)?),
    })
}

/// What an export did.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportSummary {
    /// The file written.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Rows written.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Time from start to the file being in place.
    pub elapsed: Duration,
}

impl std::fmt::Display for ExportSummary {
    /// `COPY 1000000 rows to t.parquet (parquet, 12.4 MB) in 0.81 s`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "COPY {} rows to {} ({}, {}) in {}",
            self.rows,
            self.path.display(),
            self.format.name(),
            human_bytes(self.bytes),
            human_duration(self.elapsed)
        )
    }
}

/// `12.4 MB`, `512 B`.
pub(crate) fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// `0.81 s`, `12 ms`.
pub(crate) fn human_duration(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Export a stream of rows with the given columns to `path`.
///
/// The format comes from `opts.format` or the extension. The file appears
/// only when complete; an existing file is kept unless `opts.overwrite`.
/// Errors name the path, or the row and column of a value that does not
/// fit (see [`ExportError`]).
///
/// ```
/// use sql_shell::export::{export_rows, ColumnSpec, ExportOptions, Progress};
/// use table_layer::{DataType, Value};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("squares.parquet");
/// let rows = (1..=100i64).map(|i| Ok::<_, std::convert::Infallible>(
///     vec![Value::Integer(i), Value::Integer(i * i)]));
/// let cols = vec![ColumnSpec::new("n", DataType::Integer).not_null(),
///                 ColumnSpec::new("sq", DataType::Integer)];
/// let s = export_rows(cols, rows, &path, &ExportOptions::default(), &mut Progress::none())?;
/// assert_eq!(s.rows, 100);
/// assert_eq!(s.bytes, std::fs::metadata(&path)?.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_rows<I, E>(
    columns: Vec<ColumnSpec>,
    rows: I,
    path: &Path,
    opts: &ExportOptions,
    progress: &mut Progress<'_>,
) -> Result<ExportSummary>
where
    I: Iterator<Item = std::result::Result<Vec<Value>, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let start = Instant::now();
    if columns.is_empty() {
        return Err(ExportError::schema("nothing to export: no columns"));
    }
    let mut batches = RecordBatches::with_batch_size(columns, rows, opts.batch_size);
    export_batches(&mut batches, start, path, opts, progress)
}

/// Export the rows of a table scan (a transaction's
/// [`scan`](Transaction::scan) or a [`Database::snapshot_scan`]): the
/// table columns at positions `columns` (all when empty), in that order,
/// with their declared types and nullability. Rows are decoded field by
/// field straight into the Arrow builders (see [`scan`](super::scan)).
///
/// ```
/// # use std::sync::Arc;
/// use sql_shell::export::{export_scan, ExportOptions, Progress};
/// use table_layer::{ColumnDef, DataType, Database, Direction, ScanRange, TableSpec};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Text))
///     .column(ColumnDef::new("b", DataType::Integer)))?;
/// db.run_with_retry(1, |t| t.insert("t", &["x".into(), 1.into()]).map(|_| ()))?;
/// let dir = tempfile::tempdir()?;
/// let scan = db.snapshot_scan("t", ScanRange::all(), Direction::Forward)?;
/// let s = export_scan(scan, &[1], &dir.path().join("t.csv"), &ExportOptions::default(),
///                     &mut Progress::none())?;
/// assert_eq!(std::fs::read_to_string(dir.path().join("t.csv"))?, "b\n1\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_scan(
    scan: RowScan,
    columns: &[usize],
    path: &Path,
    opts: &ExportOptions,
    progress: &mut Progress<'_>,
) -> Result<ExportSummary> {
    let start = Instant::now();
    let all: Vec<usize>;
    let picked = if columns.is_empty() {
        all = (0..scan.table().columns().len()).collect();
        &all[..]
    } else {
        columns
    };
    let mut batches = ScanBatches::new(scan, picked, opts.batch_size)?;
    export_batches(&mut batches, start, path, opts, progress)
}

/// The export proper: temp file, schema, format writer, pipeline, commit.
fn export_batches<S: BatchSource>(
    batches: &mut S,
    start: Instant,
    path: &Path,
    opts: &ExportOptions,
    progress: &mut Progress<'_>,
) -> Result<ExportSummary> {
    let format = Format::resolve(opts.format, path)?;
    let (target, out) = Target::create(path, opts.overwrite)?;
    let schema = batches.schema()?;
    let writer = open_writer(format, schema, out, opts, target.path())?;
    let out = pipeline(batches, writer, progress)?;
    let rows = batches.rows();
    let bytes = target.commit(out)?;
    progress.finish();
    Ok(ExportSummary {
        path: path.to_owned(),
        format,
        rows,
        bytes,
        elapsed: start.elapsed(),
    })
}

/// Convert on this thread, write on another (see the module documentation).
fn pipeline<S: BatchSource>(
    batches: &mut S,
    mut writer: Box<dyn FormatWriter>,
    progress: &mut Progress<'_>,
) -> Result<TargetWriter> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<RecordBatch>(PIPELINE_DEPTH);
        let handle = scope.spawn(move || -> Result<TargetWriter> {
            for batch in rx {
                writer.write(&batch)?;
            }
            writer.finish()
        });
        let mut produced: Result<()> = Ok(());
        let mut sent = 0u64;
        loop {
            match batches.next_batch() {
                Ok(None) => break,
                Ok(Some(b)) => {
                    sent += b.num_rows() as u64;
                    if tx.send(b).is_err() {
                        // The writer stopped: its error is the one to report.
                        break;
                    }
                    progress.update(sent);
                    if progress.cancelled() {
                        produced = Err(ExportError::Interrupted { rows: sent });
                        break;
                    }
                }
                Err(e) => {
                    produced = Err(e);
                    break;
                }
            }
        }
        drop(tx);
        let written = handle
            .join()
            .unwrap_or_else(|_| Err(ExportError::schema("internal: the writer thread panicked")));
        // A conversion error explains the failure better than the writer's
        // reaction to the early end.
        produced?;
        written
    })
}

/// Export a whole table, read in primary-key order inside `txn` (so the
/// file is one consistent snapshot, including the transaction's own
/// writes).
///
/// ```
/// # use std::sync::Arc;
/// use sql_shell::export::{export_table, ExportOptions, Progress};
/// use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Text)))?;
/// db.run_with_retry(1, |t| t.insert("t", &["x".into()]).map(|_| ()))?;
/// let dir = tempfile::tempdir()?;
/// let txn = db.begin()?;
/// let s = export_table(&txn, "t", &dir.path().join("t.arrow"), &ExportOptions::default(),
///                      &mut Progress::none())?;
/// assert_eq!(s.rows, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_table(
    txn: &Transaction,
    table: &str,
    path: &Path,
    opts: &ExportOptions,
    progress: &mut Progress<'_>,
) -> Result<ExportSummary> {
    let def = txn
        .catalog()
        .table(table)
        .map_err(|error| ExportError::Table { row: None, error })?;
    let scan = txn
        .scan(def.name(), ScanRange::all(), Direction::Forward)
        .map_err(|error| ExportError::Table { row: None, error })?;
    export_scan(scan, &[], path, opts, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_forms() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
        assert_eq!(human_duration(Duration::from_millis(810)), "810 ms");
        assert_eq!(human_duration(Duration::from_secs(2)), "2.00 s");
    }
}
