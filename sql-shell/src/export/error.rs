//! The one error type of export and import.
//!
//! Every variant says what went wrong and where: the file path for I/O and
//! format errors, the row number (1-based, counting data rows, not a CSV
//! header) and the column for a value that does not fit, so a user can find
//! the bad row in a million-row file. Nothing here panics on bad input; a
//! corrupt or truncated file is a [`ExportError::Format`] naming the path.

use std::fmt;
use std::path::{Path, PathBuf};

use table_layer::DataType;

/// An export or import failure; see the [module documentation](self).
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// An I/O operation on a file failed.
    Io {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What was being done (`"creating"`, `"writing"`, `"renaming into place"`).
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The target file exists and OVERWRITE was not asked for.
    Exists {
        /// The target.
        path: PathBuf,
    },
    /// A file is not valid Parquet / Arrow IPC / CSV, or is truncated.
    Format {
        /// The file.
        path: PathBuf,
        /// Where in the file, when known (`"line 12"`, `"row group 3"`).
        location: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// A value that does not fit its column (wrong type, NULL in a NOT NULL
    /// column, text that is not a number for an INTEGER column).
    BadValue {
        /// 1-based row number among the data rows.
        row: u64,
        /// The column's name.
        column: String,
        /// The value as a SQL literal (shortened when long).
        value: String,
        /// Why it does not fit, and what to do.
        reason: String,
    },
    /// The columns of a file or query do not fit the target (a file column
    /// the table lacks, a type that cannot be converted, a NOT NULL column
    /// without a default missing from the file).
    Schema {
        /// What does not match.
        detail: String,
    },
    /// An unknown or malformed option.
    Option {
        /// What is wrong with it.
        detail: String,
    },
    /// The rows being exported could not be produced (the query failed).
    Source {
        /// 1-based number of the row that could not be produced.
        row: u64,
        /// The query engine's error.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The table layer refused a row (constraint violation) or failed.
    Table {
        /// 1-based row number of the row being inserted, when a row was.
        row: Option<u64>,
        /// The table layer's error.
        error: table_layer::Error,
    },
    /// Cancelled through [`Progress::with_cancel`](super::Progress::with_cancel)
    /// (Ctrl-C in the shell): an export leaves no file, a load commits
    /// nothing more.
    Interrupted {
        /// Rows done when it stopped.
        rows: u64,
    },
    /// A load in batches failed after some batches were committed: those
    /// rows stay in the table.
    Partial {
        /// Rows committed before the error.
        committed: u64,
        /// What went wrong.
        error: Box<ExportError>,
    },
}

/// Result alias for export and import.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;

impl ExportError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> ExportError {
        ExportError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    }

    /// A format error in `path`.
    pub(crate) fn format(
        path: &Path,
        location: Option<String>,
        detail: impl Into<String>,
    ) -> ExportError {
        ExportError::Format {
            path: path.to_owned(),
            location,
            detail: detail.into(),
        }
    }

    /// A schema mismatch.
    pub(crate) fn schema(detail: impl Into<String>) -> ExportError {
        ExportError::Schema {
            detail: detail.into(),
        }
    }

    /// A bad option.
    pub(crate) fn option(detail: impl Into<String>) -> ExportError {
        ExportError::Option {
            detail: detail.into(),
        }
    }

    /// A value of the wrong type for a column.
    #[cold]
    pub(crate) fn wrong_type(
        row: u64,
        column: &str,
        value: &table_layer::Value,
        expected: DataType,
    ) -> ExportError {
        let found = value.data_type().map_or("NULL", |t| t.name());
        ExportError::BadValue {
            row,
            column: column.to_owned(),
            value: value.to_sql_literal(),
            reason: format!("a {found} value in a {expected} column (CAST the column to one type)"),
        }
    }

    /// A NULL in a column declared NOT NULL.
    #[cold]
    pub(crate) fn null_in_not_null(row: u64, column: &str) -> ExportError {
        ExportError::BadValue {
            row,
            column: column.to_owned(),
            value: "NULL".into(),
            reason: "NULL in a NOT NULL column".into(),
        }
    }

    /// The 1-based row an error is about, when it is about one.
    pub fn row(&self) -> Option<u64> {
        match self {
            ExportError::BadValue { row, .. } | ExportError::Source { row, .. } => Some(*row),
            ExportError::Table { row, .. } => *row,
            ExportError::Partial { error, .. } => error.row(),
            _ => None,
        }
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Io {
                path,
                action,
                source,
            } => write!(f, "{action} {}: {source}", path.display()),
            ExportError::Exists { path } => write!(
                f,
                "{} already exists (add the OVERWRITE option to replace it)",
                path.display()
            ),
            ExportError::Format {
                path,
                location,
                detail,
            } => match location {
                Some(l) => write!(f, "{}, {l}: {detail}", path.display()),
                None => write!(f, "{}: {detail}", path.display()),
            },
            ExportError::BadValue {
                row,
                column,
                value,
                reason,
            } => write!(f, "row {row}, column {column}: value {value}: {reason}"),
            ExportError::Schema { detail } => f.write_str(detail),
            ExportError::Option { detail } => write!(f, "bad option: {detail}"),
            ExportError::Source { row, error } => write!(f, "producing row {row}: {error}"),
            ExportError::Table { row, error } => match row {
                Some(r) => write!(f, "row {r}: {error}"),
                None => write!(f, "{error}"),
            },
            ExportError::Interrupted { rows } => {
                write!(f, "interrupted after {rows} rows")
            }
            ExportError::Partial { committed, error } => write!(
                f,
                "{error} ({committed} rows were committed in earlier batches and stay)"
            ),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Io { source, .. } => Some(source),
            ExportError::Source { error, .. } => Some(error.as_ref()),
            ExportError::Table { error, .. } => Some(error),
            ExportError::Partial { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}
