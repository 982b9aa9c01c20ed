//! Loading a file into a table: `COPY t FROM 'file'`.
//!
//! Two ways, chosen by [`ImportOptions::commit_every`]:
//!
//! ```text
//!   one transaction (default)           batches (COMMIT_EVERY n)
//!   begin                               repeat: read n rows; begin;
//!   insert every row                            insert them; commit
//!   commit       ─ on any error:        on an error: the batches committed
//!                  nothing is loaded      before stay, the error says how
//!                                         many rows that is
//! ```
//!
//! In one transaction the whole load is buffered by the store's
//! transaction until it commits (kv-api transactions buffer their writes),
//! so a load larger than memory wants batches. A lost write-write race
//! (another writer touched the same keys) is retried up to three times:
//! the file is read again for a single transaction, the buffered batch is
//! inserted again in batch mode.
//!
//! [`import_into`] loads inside a transaction the caller owns (a session's
//! open BEGIN ... COMMIT): under a savepoint, so a failed load leaves the
//! transaction as it was.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use table_layer::{Database, Transaction, Value};

use super::error::{ExportError, Result};
use super::options::{Format, ImportOptions};
use super::progress::Progress;
use super::read::open_import;
use super::write::human_duration;

/// Conflicts retried before giving up.
const ATTEMPTS: usize = 3;

/// Progress is reported every this many rows.
const PROGRESS_EVERY: u64 = 8192;

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    /// The file read.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The table loaded.
    pub table: String,
    /// Rows inserted (and committed, unless loaded into a caller's
    /// transaction).
    pub rows: u64,
    /// Transactions committed (0 when loaded into a caller's transaction).
    pub commits: u64,
    /// Time taken.
    pub elapsed: Duration,
}

impl std::fmt::Display for ImportSummary {
    /// `COPY 1000 rows from in.csv (csv) into t in 12 ms`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "COPY {} rows from {} ({}) into {} in {}",
            self.rows,
            self.path.display(),
            self.format.name(),
            self.table,
            human_duration(self.elapsed)
        )
    }
}

fn table_error(row: Option<u64>, error: table_layer::Error) -> ExportError {
    ExportError::Table { row, error }
}

/// Insert every row of the file into `table` inside `txn`, which the
/// caller commits. On an error the rows inserted by this call are rolled
/// back (to a savepoint) and `txn` can go on.
///
/// ```
/// # use std::sync::Arc;
/// use sql_shell::export::{import_into, ImportOptions, Progress};
/// use table_layer::{ColumnDef, DataType, Database, TableSpec};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("n", DataType::Integer)))?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("n.csv");
/// std::fs::write(&path, "n\n1\n2\n")?;
/// let mut txn = db.begin()?;
/// let s = import_into(&mut txn, "t", &path, None, &ImportOptions::default(), &mut Progress::none())?;
/// txn.commit()?;
/// assert_eq!(s.rows, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn import_into(
    txn: &mut Transaction,
    table: &str,
    path: &Path,
    columns: Option<&[String]>,
    opts: &ImportOptions,
    progress: &mut Progress<'_>,
) -> Result<ImportSummary> {
    let start = Instant::now();
    let format = Format::resolve(opts.format, path)?;
    let def = txn
        .catalog()
        .table(table)
        .map_err(|e| table_error(None, e))?;
    let rows = open_import(&def, path, columns, opts)?;
    txn.set_savepoint();
    let loaded = insert_all(txn, def.name(), rows, 0, progress);
    match loaded {
        Ok(n) => {
            txn.release_savepoint();
            progress.finish();
            Ok(ImportSummary {
                path: path.to_owned(),
                format,
                table: def.name().to_owned(),
                rows: n,
                commits: 0,
                elapsed: start.elapsed(),
            })
        }
        Err(e) => {
            // If even the savepoint cannot be restored the transaction is
            // poisoned and its commit will fail: nothing partial can land.
            let _ = txn.rollback_to_savepoint();
            Err(e)
        }
    }
}

/// Insert rows into `txn`; `base` is the number of rows before them (for
/// row numbers in errors and progress).
fn insert_all(
    txn: &mut Transaction,
    table: &str,
    rows: impl Iterator<Item = Result<Vec<Value>>>,
    base: u64,
    progress: &mut Progress<'_>,
) -> Result<u64> {
    let mut n = 0u64;
    for row in rows {
        let row = row?;
        n += 1;
        txn.insert(table, &row)
            .map_err(|e| table_error(Some(base + n), e))?;
        if n % PROGRESS_EVERY == 0 {
            progress.update(base + n);
            if progress.cancelled() {
                return Err(ExportError::Interrupted { rows: base + n });
            }
        }
    }
    progress.update(base + n);
    Ok(n)
}

/// Load the file into `table` and commit: in one transaction, or in
/// batches of [`ImportOptions::commit_every`] rows (see the module
/// documentation).
///
/// ```
/// # use std::sync::Arc;
/// use sql_shell::export::{import_file, ImportOptions, Progress};
/// use table_layer::{ColumnDef, DataType, Database, TableSpec};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("n", DataType::Integer).not_null()))?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("n.csv");
/// std::fs::write(&path, "n\n1\n\n3\n")?; // row 2 is NULL
/// let err = import_file(&db, "t", &path, None, &ImportOptions::default(), &mut Progress::none())
///     .unwrap_err();
/// assert!(err.to_string().contains("row 2, column n"));
/// assert_eq!(db.begin()?.scan("t", Default::default(), table_layer::Direction::Forward)?.count(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn import_file(
    db: &Database,
    table: &str,
    path: &Path,
    columns: Option<&[String]>,
    opts: &ImportOptions,
    progress: &mut Progress<'_>,
) -> Result<ImportSummary> {
    let start = Instant::now();
    let format = Format::resolve(opts.format, path)?;
    let (rows, commits, name) = match opts.commit_every {
        None => one_transaction(db, table, path, columns, opts, progress)?,
        Some(n) => batches(db, table, path, columns, opts, n.max(1), progress)?,
    };
    progress.finish();
    Ok(ImportSummary {
        path: path.to_owned(),
        format,
        table: name,
        rows,
        commits,
        elapsed: start.elapsed(),
    })
}

fn one_transaction(
    db: &Database,
    table: &str,
    path: &Path,
    columns: Option<&[String]>,
    opts: &ImportOptions,
    progress: &mut Progress<'_>,
) -> Result<(u64, u64, String)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut txn = db.begin().map_err(|e| table_error(None, e))?;
        let def = txn
            .catalog()
            .table(table)
            .map_err(|e| table_error(None, e))?;
        let rows = open_import(&def, path, columns, opts)?;
        let n = insert_all(&mut txn, def.name(), rows, 0, progress)?;
        match txn.commit() {
            Ok(()) => return Ok((n, 1, def.name().to_owned())),
            Err(e) if e.is_retryable() && attempt < ATTEMPTS => continue,
            Err(e) => return Err(table_error(None, e)),
        }
    }
}

fn batches(
    db: &Database,
    table: &str,
    path: &Path,
    columns: Option<&[String]>,
    opts: &ImportOptions,
    every: usize,
    progress: &mut Progress<'_>,
) -> Result<(u64, u64, String)> {
    let def = db
        .catalog()
        .table(table)
        .map_err(|e| table_error(None, e))?;
    let name = def.name().to_owned();
    let mut rows = open_import(&def, path, columns, opts)?;
    let mut committed = 0u64;
    let mut commits = 0u64;
    let mut chunk: Vec<Vec<Value>> = Vec::with_capacity(every.min(65_536));
    loop {
        chunk.clear();
        for r in rows.by_ref().take(every) {
            match r {
                Ok(r) => chunk.push(r),
                Err(e) => return Err(with_committed(e, committed)),
            }
        }
        if chunk.is_empty() {
            break;
        }
        let mut failed_at = None;
        let r = db.run_with_retry(ATTEMPTS, |txn| {
            for (i, row) in chunk.iter().enumerate() {
                if let Err(e) = txn.insert(&name, row) {
                    failed_at = Some(committed + i as u64 + 1);
                    return Err(e);
                }
            }
            Ok(())
        });
        if let Err(e) = r {
            return Err(with_committed(table_error(failed_at, e), committed));
        }
        committed += chunk.len() as u64;
        commits += 1;
        progress.update(committed);
        if progress.cancelled() {
            return Err(with_committed(
                ExportError::Interrupted { rows: committed },
                committed,
            ));
        }
    }
    Ok((committed, commits, name))
}

/// Record in an error how many rows earlier batches committed.
fn with_committed(e: ExportError, committed: u64) -> ExportError {
    if committed == 0 {
        return e;
    }
    ExportError::Partial {
        committed,
        error: Box::new(e),
    }
}
