//! The table layer's one error type.
//!
//! Variants say whose fault a failure was, so the SQL layer can map them to
//! its own messages or act on them without parsing text:
//!
//! - the schema named something that does not exist or already exists
//!   ([`Error::NoSuchTable`], [`Error::TableExists`], ...);
//! - a row broke a rule ([`Error::TypeMismatch`], [`Error::NotNullViolation`],
//!   [`Error::PrimaryKeyViolation`], [`Error::UniqueViolation`]); nothing of
//!   the operation was written;
//! - a concurrent transaction won a race ([`Error::Conflict`],
//!   [`Error::SchemaChanged`]): the only retryable ones, see
//!   [`Error::is_retryable`];
//! - the stored bytes are damaged ([`Error::Corrupt`]) or the store failed
//!   ([`Error::Storage`]).

use std::fmt;

use crate::{DataType, Value};

/// Result alias of the table layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A typed failure of a table-layer operation. Every message says what went
/// wrong, where (table, column, index, value) and what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `CREATE TABLE` of a name that is taken.
    TableExists {
        /// The table name.
        table: String,
    },
    /// A table name that the catalog does not know.
    NoSuchTable {
        /// The table name.
        table: String,
    },
    /// `CREATE INDEX` of a name that is taken (index names are global).
    IndexExists {
        /// The index name.
        index: String,
    },
    /// An index name that the catalog does not know.
    NoSuchIndex {
        /// The index name.
        index: String,
    },
    /// A column name that the table does not have.
    NoSuchColumn {
        /// The table.
        table: String,
        /// The column name.
        column: String,
    },
    /// `ADD COLUMN` (or a table definition) repeats a column name.
    ColumnExists {
        /// The table.
        table: String,
        /// The column name.
        column: String,
    },
    /// A table or index definition that cannot be created as given (no
    /// columns, a primary key on an unknown column, a default of the wrong
    /// type, `NOT NULL` without a default on `ADD COLUMN`, ...).
    InvalidSchema {
        /// The table (or index) being defined.
        object: String,
        /// What is wrong.
        detail: String,
    },
    /// A value whose type is not the column's type (the table layer is
    /// strictly typed; the SQL layer coerces before it calls in).
    TypeMismatch {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's type.
        expected: DataType,
        /// The offending value.
        value: Value,
    },
    /// NULL in a `NOT NULL` (or primary-key) column.
    NotNullViolation {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A row with this primary key already exists.
    PrimaryKeyViolation {
        /// The table.
        table: String,
        /// Primary-key column names.
        columns: Vec<String>,
        /// The duplicate key.
        key: Vec<Value>,
    },
    /// Another row already has these values in a unique index.
    UniqueViolation {
        /// The table.
        table: String,
        /// The unique index.
        index: String,
        /// Its column names.
        columns: Vec<String>,
        /// The duplicate values.
        values: Vec<Value>,
    },
    /// A row with the wrong number of values, or a key with the wrong number
    /// of primary-key values.
    WrongArity {
        /// The table.
        table: String,
        /// What was being passed: `"row"` or `"primary key"`.
        what: &'static str,
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A write-write conflict with a concurrent transaction (wraps
    /// [`kv_api::Error::Conflict`]). Nothing was written; run the whole
    /// transaction again.
    Conflict(kv_api::Error),
    /// A concurrent transaction changed the definition of a table this
    /// transaction wrote to (or committed other DDL while this one did DDL).
    /// Nothing was written; run the whole transaction again.
    SchemaChanged {
        /// The table whose definition changed (or `"catalog"`).
        table: String,
    },
    /// Stored bytes that fail to decode: the store is damaged or was written
    /// by an incompatible version.
    Corrupt {
        /// Where: the table or catalog entry.
        location: String,
        /// What check failed.
        detail: String,
    },
    /// A caller error not covered above (a bad scan bound, a value too large
    /// for a key, a transaction used after an error, ...).
    InvalidArgument(String),
    /// The storage backend failed (I/O, closed, locked, ...).
    Storage(kv_api::Error),
}

impl Error {
    /// True when running the whole transaction again may succeed without
    /// any change by the caller: [`Error::Conflict`] and
    /// [`Error::SchemaChanged`].
    ///
    /// ```
    /// let e = table_layer::Error::Conflict(kv_api::Error::Conflict { key: b"k".to_vec() });
    /// assert!(e.is_retryable());
    /// assert!(!table_layer::Error::NoSuchTable { table: "t".into() }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict(_) | Error::SchemaChanged { .. })
    }

    /// True when the error is a constraint violation by the row being written
    /// (type, NOT NULL, primary key, unique, arity): the statement failed,
    /// the transaction can go on.
    ///
    /// ```
    /// let e = table_layer::Error::NotNullViolation { table: "t".into(), column: "c".into() };
    /// assert!(e.is_constraint_violation());
    /// ```
    pub fn is_constraint_violation(&self) -> bool {
        matches!(
            self,
            Error::TypeMismatch { .. }
                | Error::NotNullViolation { .. }
                | Error::PrimaryKeyViolation { .. }
                | Error::UniqueViolation { .. }
                | Error::WrongArity { .. }
        )
    }

    pub(crate) fn corrupt(location: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            location: location.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
}

impl From<kv_api::Error> for Error {
    fn from(e: kv_api::Error) -> Self {
        if matches!(e, kv_api::Error::Conflict { .. }) {
            Error::Conflict(e)
        } else {
            Error::Storage(e)
        }
    }
}

fn values(v: &[Value]) -> String {
    let parts: Vec<String> = v.iter().map(Value::to_sql_literal).collect();
    parts.join(", ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TableExists { table } => write!(
                f,
                "table {table} already exists; drop it first or choose another name"
            ),
            Error::NoSuchTable { table } => write!(
                f,
                "no such table: {table}; create it first or check the name"
            ),
            Error::IndexExists { index } => write!(
                f,
                "index {index} already exists; drop it first or choose another name"
            ),
            Error::NoSuchIndex { index } => write!(f, "no such index: {index}; check the name"),
            Error::NoSuchColumn { table, column } => {
                write!(f, "table {table} has no column named {column}")
            }
            Error::ColumnExists { table, column } => write!(
                f,
                "table {table} already has a column named {column}; choose another name"
            ),
            Error::InvalidSchema { object, detail } => {
                write!(f, "invalid definition of {object}: {detail}")
            }
            Error::TypeMismatch {
                table,
                column,
                expected,
                value,
            } => write!(
                f,
                "type mismatch: column {table}.{column} is {expected} but the value {} is {}; convert the value (CAST) before storing it",
                value.to_sql_literal(),
                value.data_type().map_or("NULL", DataType::name)
            ),
            Error::NotNullViolation { table, column } => write!(
                f,
                "NOT NULL constraint failed: {table}.{column} cannot be NULL; give it a value"
            ),
            Error::PrimaryKeyViolation {
                table,
                columns,
                key,
            } => write!(
                f,
                "PRIMARY KEY constraint failed: table {table} already has a row with ({}) = ({}); use another key or update that row",
                columns.join(", "),
                values(key)
            ),
            Error::UniqueViolation {
                table,
                index,
                columns,
                values: v,
            } => write!(
                f,
                "UNIQUE constraint failed: {table}({}) = ({}) already exists (index {index}); use another value or update that row",
                columns.join(", "),
                values(v)
            ),
            Error::WrongArity {
                table,
                what,
                expected,
                got,
            } => write!(
                f,
                "table {table}: a {what} needs {expected} values but {got} were given"
            ),
            Error::Conflict(e) => write!(f, "{e}"),
            Error::SchemaChanged { table } => write!(
                f,
                "the definition of {table} was changed by a concurrent transaction; nothing was written, retry the transaction"
            ),
            Error::Corrupt { location, detail } => write!(
                f,
                "corrupt data in {location}: {detail}; run an integrity check and restore from a backup"
            ),
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::Storage(e) => write!(f, "storage error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Conflict(e) | Error::Storage(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_and_where() {
        let e = Error::TypeMismatch {
            table: "users".into(),
            column: "age".into(),
            expected: DataType::Integer,
            value: Value::Text("ten".into()),
        };
        let s = e.to_string();
        assert!(s.contains("users.age") && s.contains("'ten'") && s.contains("INTEGER"));
        let e = Error::UniqueViolation {
            table: "users".into(),
            index: "users_email".into(),
            columns: vec!["email".into()],
            values: vec![Value::Text("a@b".into())],
        };
        let s = e.to_string();
        assert!(s.contains("users(email)") && s.contains("'a@b'") && s.contains("users_email"));
        let e: Error = kv_api::Error::Conflict { key: vec![1] }.into();
        assert!(e.is_retryable());
        let e: Error = kv_api::Error::Closed.into();
        assert!(matches!(e, Error::Storage(_)) && !e.is_retryable());
    }
}
