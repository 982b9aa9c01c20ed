//! # sql-shell: SQL over the table layer
//!
//! This crate parses SQL (with `sqlparser`, SQLite dialect), plans it and
//! runs it over the [`table_layer`] row store, following SQLite's semantics
//! for types, comparisons and NULLs. The interactive shell binary builds on
//! the library API:
//!
//! ```text
//!   Session::open(path) ──► execute(sql) ──► Output::Rows (streaming cursor)
//!        │                                   Output::Affected { verb, count }
//!        │                                   Output::Message / Output::Explain
//!        └── split_statements(script) / is_complete(buffer) for scripts and the REPL
//! ```
//!
//! ```
//! use sql_shell::{Output, Session};
//! let mut s = Session::open(None)?;
//! s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")?;
//! s.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")?;
//! let Output::Rows(rows) = s.execute("SELECT name FROM t WHERE id > 1")? else { panic!() };
//! let names: Vec<_> = rows.collect::<Result<_, _>>()?;
//! assert_eq!(names, vec![vec![sql_shell::Value::Text("two".into())]]);
//! # Ok::<(), sql_shell::SqlError>(())
//! ```
//!
//! Layout: [`split`] (statement splitting), [`value`] (SQLite value
//! semantics), [`planner`] (binding, access paths, joins, EXPLAIN),
//! [`exec`] (the streaming executor), [`session`] (transactions and the
//! public entry point). The SQL dialect is described in `SQL.md`.

pub mod error;
pub mod exec;
pub mod export;
pub mod limits;
pub mod planner;
pub mod session;
pub mod split;
pub mod value;

pub use error::{ErrorKind, Position, SqlError};
pub use session::{Column, Output, Rows, Session, Settings, parse_one};
pub use split::{Statement, is_complete, split_statements};
pub use value::render::{display, real_fixed, real_to_text, to_f64, to_i64, to_text};
pub use value::{DataType, Row, Value};
