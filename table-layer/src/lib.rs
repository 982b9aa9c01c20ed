//! # table-layer: rows and secondary indexes as ordered keys over any KvStore
//!
//! This crate turns any [`kv_api::KvStore`] (the in-memory
//! [`kv_api::MemStore`], the LSM engine, anything that passes the kv-api
//! conformance suite) into a row store: a catalog of typed tables and
//! indexes, rows stored under their primary key, secondary indexes as extra
//! ordered keys, all written atomically inside snapshot-isolation
//! transactions. It is the storage half of the SQL engine in `sql-shell`.
//!
//! ```text
//!   SQL layer ──► Database ──► Transaction ──► insert / update / delete / get
//!                  │  catalog     │               scan / index_scan(_rows)
//!                  │  (Arc)       │               create/drop table/index, add column
//!                  ▼              ▼               savepoints, commit
//!              Arc<dyn KvStore> ◄─ kv_api::Transaction (buffered, first committer wins)
//! ```
//!
//! ## Layout in the key space (details in `KEYS.md`)
//! ```text
//!   00 ...                          catalog (format version, tables, indexes, stats)
//!   <tid> 01 <pk...>                row       -> non-key columns (codec::row)
//!   <tid> 02 <iid> <cols...> <pk>   index entry
//!   <tid> 02 <iid> <cols...>        unique index entry -> <pk>
//! ```
//! Keys are built with a memcomparable codec ([`codec::key`]), so byte order
//! is SQL order: a range of SQL values is a range of keys, scanned forward or
//! backward by the store.
//!
//! ## Typing
//! Strict, like SQLite `STRICT` tables: a value must be NULL or of its
//! column's [`DataType`]; the SQL layer coerces before calling in.
//!
//! ## Quick tour
//! ```
//! use std::sync::Arc;
//! use table_layer::{ColumnDef, DataType, Database, Direction, IndexSpec, ScanRange, SortOrder,
//!     TableSpec, Value};
//!
//! let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
//! db.create_table(TableSpec::new("city")
//!     .column(ColumnDef::new("name", DataType::Text))
//!     .column(ColumnDef::new("pop", DataType::Integer).not_null())
//!     .primary_key(["name"]))?;
//! db.create_index(IndexSpec::new("city_pop", "city").column("pop", SortOrder::Desc), &mut |_| {})?;
//!
//! db.run_with_retry(3, |txn| {
//!     txn.insert("city", &["Oslo".into(), Value::Integer(700_000)])?;
//!     txn.insert("city", &["Bergen".into(), Value::Integer(290_000)])?;
//!     txn.insert("city", &["Paris".into(), Value::Integer(2_100_000)])
//! })?;
//!
//! // Largest first, through the DESC index; full rows fetched by primary key.
//! let txn = db.begin()?;
//! let names: Vec<Value> = txn
//!     .index_scan_rows("city_pop", ScanRange::all(), Direction::Forward)?
//!     .map(|r| r.map(|r| r.values[0].clone()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(names, ["Paris".into(), "Oslo".into(), "Bergen".into()] as [Value; 3]);
//! assert!(db.check_integrity(None)?.is_ok());
//! # Ok::<(), table_layer::Error>(())
//! ```

mod backfill;
mod bulk;
mod catalog;
pub mod codec;
mod database;
mod ddl;
mod dml;
mod error;
mod integrity;
mod keys;
mod rows;
mod scan;
mod schema;
mod txn;
mod value;

pub use bulk::{FieldRef, RowVisitor};
pub use catalog::{Catalog, FORMAT_VERSION};
pub use database::{BuildProgress, Database};
pub use error::{Error, Result};
pub use integrity::{IntegrityProblem, IntegrityReport, MAX_PROBLEMS};
pub use kv_api::Direction;
pub use scan::{IndexEntry, IndexRowScan, IndexScan, Row, RowScan, ScanRange};
pub use schema::{
    ColumnDef, IndexColumn, IndexDef, IndexId, IndexSpec, PrimaryKey, SortOrder, TableDef, TableId,
    TableSpec,
};
pub use txn::Transaction;
pub use value::{DataType, Value};

#[cfg(test)]
mod tests {
    /// Handles the SQL layer keeps across threads must be `Send` (and the
    /// database `Sync`, to be shared).
    #[test]
    fn handles_are_send() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<crate::Database>();
        sync::<crate::Database>();
        send::<crate::Transaction>();
        send::<crate::RowScan>();
        send::<crate::IndexScan>();
        send::<crate::IndexRowScan>();
        send::<crate::Error>();
        sync::<crate::Catalog>();
    }
}
