//! # Export and import: Arrow IPC, Parquet and CSV
//!
//! Tables and query results leave the database as files that analytic
//! engines read directly (DuckDB, pandas/pyarrow, Spark, DataFusion), and
//! such files come back in as rows of a table.
//!
//! ```text
//!   export                                       import
//!   rows (scan / query cursor)                   file (.parquet .arrow .csv)
//!     │ batch.rs / scan.rs: typed, NULL-checked,    │ read/: footer + schema check,
//!     │   8,192-row RecordBatches                   │   batches or CSV records
//!     ▼                                             ▼
//!   write/: Parquet | Arrow IPC | CSV            read/: values typed for the
//!     │   (on a second thread)                   │   table's columns (row, column,
//!     ▼                                          │   value named on a misfit)
//!   target.rs: temp file ─fsync─► rename         ▼
//!     (never a half-written file,              load.rs: insert in one
//!      no overwrite unless asked)                transaction, or commit in batches
//! ```
//!
//! ## Types
//! INTEGER ↔ Int64, REAL ↔ Float64, TEXT ↔ Utf8, BLOB ↔ Binary, BOOLEAN ↔
//! Boolean; nullability from the column definition ([`columns`]). Query
//! columns without a declared type get one from their first batch of rows.
//!
//! ## Memory
//! An export holds a few record batches and, for Parquet, the encoded row
//! group being built (ROW_GROUP_SIZE rows, compressed): never the table.
//! An import holds one batch (or CSV record) plus, when it runs in one
//! transaction, the transaction's buffered writes (see [`load`]).
//!
//! ## Entry points
//! - [`export_rows`] (any row stream), [`export_scan`] (a table scan,
//!   decoded field by field into the Arrow builders), [`export_table`] (a
//!   table, in a transaction) → [`ExportSummary`] (rows, bytes, time).
//! - [`import_file`] (commits; one transaction or batches),
//!   [`import_into`] (inside the caller's transaction), [`open_import`]
//!   (just the typed rows) → [`ImportSummary`].
//! - [`copy`]: `COPY ... TO/FROM` in a [`Session`](crate::Session)
//!   ([`copy::execute`]), and [`copy::export_source`] /
//!   [`copy::import_table`] for the shell's `.export` and `.import`;
//!   [`Progress`] for the progress bar and callbacks.

pub mod batch;
pub mod columns;
pub mod copy;
pub mod error;
pub mod load;
pub mod options;
pub mod progress;
pub mod read;
mod scan;
mod target;
pub mod write;

pub use batch::{DEFAULT_BATCH_SIZE, RecordBatches};
pub use columns::{ColumnSpec, arrow_type};
pub use error::{ExportError, Result};
pub use load::{ImportSummary, import_file, import_into};
pub use options::{Compression, DEFAULT_ROW_GROUP_SIZE, ExportOptions, Format, ImportOptions};
pub use progress::Progress;
pub use read::{RowReader, open_import};
pub use write::{ExportSummary, export_rows, export_scan, export_table};
