//! The planner: from sqlparser's AST to an executable plan.
//!
//! ```text
//!   SQL text ──parse──► ast::Statement ──plan──► Planned { stmt, subplans }
//!                                        │
//!        bind.rs    names, affinities, subqueries (scope.rs: name scopes)
//!        select.rs  SELECT: clauses in SQL's order of meaning
//!        join.rs    FROM: join order, WHERE pushdown, join methods
//!        access.rs  key ranges from predicates, cost model, removed sorts
//!        ddl.rs     CREATE/DROP/ALTER, INSERT/UPDATE/DELETE
//!        explain.rs the plan as text for EXPLAIN
//! ```

pub mod access;
pub mod bind;
pub mod ddl;
pub mod explain;
pub mod expr;
pub mod join;
pub mod plan;
pub mod scope;
pub mod select;

use std::sync::Arc;

use table_layer::{ColumnDef, IndexSpec, TableDef, TableSpec};

use crate::value::Value;
use expr::Expr;
use plan::{Node, QueryPlan, Scan, Subplan};

/// A planned statement.
#[derive(Clone, Debug)]
pub enum Statement {
    /// A query.
    Query(QueryPlan),
    /// INSERT.
    Insert {
        /// Target table.
        table: Arc<TableDef>,
        /// Target column of each source column.
        columns: Vec<usize>,
        /// The rows to insert.
        source: Node,
        /// Set when the table's primary key is one INTEGER column: a NULL
        /// there gets the next free value (SQLite's rowid alias).
        auto_pk: Option<usize>,
    },
    /// UPDATE.
    Update {
        /// The rows to change (filter included).
        scan: Scan,
        /// Column and new value (over the old row).
        assignments: Vec<(usize, Expr)>,
    },
    /// DELETE.
    Delete {
        /// The rows to delete (filter included).
        scan: Scan,
    },
    /// CREATE TABLE.
    CreateTable {
        /// The table.
        spec: TableSpec,
        /// Unique indexes for UNIQUE constraints.
        unique: Vec<IndexSpec>,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP TABLE.
    DropTable {
        /// Tables.
        names: Vec<String>,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE INDEX.
    CreateIndex {
        /// The index.
        spec: IndexSpec,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP INDEX.
    DropIndex {
        /// Indexes.
        names: Vec<String>,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// ALTER TABLE ... ADD COLUMN.
    AddColumn {
        /// Table.
        table: String,
        /// The new column.
        column: ColumnDef,
        /// IF NOT EXISTS (on the column).
        if_not_exists: bool,
    },
    /// BEGIN.
    Begin,
    /// COMMIT.
    Commit,
    /// ROLLBACK.
    Rollback,
    /// EXPLAIN of another statement.
    Explain(Box<Statement>),
    /// A statement accepted and ignored (PRAGMA), with a note.
    NoOp(String),
}

/// A statement with the subqueries its expressions refer to.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The statement.
    pub stmt: Statement,
    /// Subqueries by index.
    pub subplans: Vec<Subplan>,
}

/// A constant expression's value (defaults, LIMIT).
pub fn constant_value(e: &Expr) -> Option<Value> {
    match e {
        Expr::Literal(v) => Some(v.clone()),
        _ => None,
    }
}
