//! The plan: a tree of operators the executor runs, with everything the
//! planner decided (access paths, join methods, removed sorts).
//!
//! ```text
//!   Limit ─ Sort ─ Project ─ Filter(HAVING) ─ Aggregate ─ Filter ─ Join ─┬─ Scan t1 (IndexRange)
//!                                                                       └─ Scan t2 (FullScan)
//! ```
//!
//! Every node produces rows of a fixed width; expressions inside a node are
//! bound to positions in its input row (for joins: the left row followed by
//! the right row).

use std::sync::Arc;

use table_layer::{IndexDef, SortOrder, TableDef};

use super::expr::{AggCall, Expr};
use crate::value::DataType;
use crate::value::affinity::Affinity;

/// Metadata of one output column.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputColumn {
    /// The name a client shows (alias, column name or expression text).
    pub name: String,
    /// The declared type when the column is a plain column reference (or a
    /// CAST); `None` for computed values, whose type varies by row.
    pub data_type: Option<DataType>,
}

/// One column in scope for name resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeColumn {
    /// The table name or alias qualifying it (`None` for a derived column
    /// without one).
    pub table: Option<String>,
    /// The column name.
    pub name: String,
    /// Its affinity in comparisons.
    pub affinity: Affinity,
    /// Its declared type, when known.
    pub data_type: Option<DataType>,
    /// Hidden columns (rowids) resolve only by explicit name and are not
    /// part of `*`.
    pub hidden: bool,
}

/// Equality constraint on one key column.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyEq {
    /// `col = expr`
    Value(Expr),
    /// `col IN (list)`: one range per distinct value.
    In(Vec<Expr>),
    /// `col IS NULL`
    IsNull,
}

/// Bounds on one key column, in value order (not key order): the executor
/// swaps them for a descending index column.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct KeyBounds {
    /// Lower bound and whether it is inclusive.
    pub low: Option<(Expr, bool)>,
    /// Upper bound and whether it is inclusive.
    pub high: Option<(Expr, bool)>,
}

/// The part of a WHERE clause a key can answer: equalities on a prefix of
/// the key columns and bounds on the next one. The expressions are
/// evaluated when the scan opens (against the left row for an index join);
/// the full predicate is re-checked on every row, so the ranges only need to
/// contain every matching row.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct KeyPredicate {
    /// Equalities on the first `eq.len()` key columns.
    pub eq: Vec<KeyEq>,
    /// Bounds on key column `eq.len()`.
    pub range: Option<KeyBounds>,
}

impl KeyPredicate {
    /// True when the predicate constrains nothing.
    pub fn is_empty(&self) -> bool {
        self.eq.is_empty() && self.range.is_none()
    }
}

/// How a scan reaches its rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Every row in primary-key order.
    FullScan,
    /// Ranges of the primary key.
    PrimaryKey(KeyPredicate),
    /// Ranges of a secondary index, fetching each row.
    Index {
        /// The index.
        index: IndexDef,
        /// Its ranges.
        key: KeyPredicate,
    },
}

/// A table scan with its access path and pushed-down filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// The table.
    pub table: Arc<TableDef>,
    /// The name it is known by in the query (alias or name).
    pub alias: String,
    /// How rows are reached.
    pub access: Access,
    /// Predicate over the table's row, checked on every row.
    pub filter: Option<Expr>,
    /// Scan in reverse key order (an ORDER BY ... DESC answered by the key).
    pub reverse: bool,
    /// Append the hidden rowid (rowid tables) as a last column.
    pub with_rowid: bool,
    /// The cost model's estimate of rows read, for EXPLAIN.
    pub estimated_rows: f64,
    /// The key order answers the query's ORDER BY (no Sort node).
    pub provides_order: bool,
}

impl Scan {
    /// Width of the rows the scan produces.
    pub fn width(&self) -> usize {
        self.table.columns().len() + usize::from(self.with_rowid)
    }

    /// Key columns of the access path with their order (empty for a full
    /// scan).
    pub fn key_columns(&self) -> Vec<(usize, SortOrder)> {
        match &self.access {
            Access::FullScan => Vec::new(),
            Access::PrimaryKey(_) => self
                .table
                .primary_key_columns()
                .iter()
                .map(|&c| (c, SortOrder::Asc))
                .collect(),
            Access::Index { index, .. } => index
                .columns()
                .iter()
                .map(|c| (c.column, c.order))
                .collect(),
        }
    }
}

/// Kind of join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// Inner (and cross) join.
    Inner,
    /// Left outer join: unmatched left rows with NULLs on the right.
    Left,
}

/// One sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// The expression over the input row.
    pub expr: Expr,
    /// Descending.
    pub desc: bool,
    /// NULLs first (SQLite: first when ascending, last when descending).
    pub nulls_first: bool,
}

/// A set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// UNION [ALL]
    Union,
    /// INTERSECT
    Intersect,
    /// EXCEPT
    Except,
}

/// A plan node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Read a table.
    Scan(Scan),
    /// Literal rows (`VALUES`, or one empty row for `SELECT` without FROM).
    Values {
        /// The rows.
        rows: Vec<Vec<Expr>>,
        /// Their width.
        width: usize,
    },
    /// No rows at all (a WHERE that is always false).
    Empty {
        /// Row width.
        width: usize,
    },
    /// Keep rows where the predicate is true.
    Filter {
        /// Input.
        input: Box<Node>,
        /// Predicate over the input row.
        predicate: Expr,
    },
    /// Compute new rows from input rows.
    Project {
        /// Input.
        input: Box<Node>,
        /// Output expressions over the input row.
        exprs: Vec<Expr>,
    },
    /// For each left row, every right row (the right side is materialised
    /// once).
    NestedLoopJoin {
        /// Left input.
        left: Box<Node>,
        /// Right input.
        right: Box<Node>,
        /// Kind.
        kind: JoinKind,
        /// Join condition over left ++ right.
        on: Option<Expr>,
    },
    /// Build a hash table on the right side's keys, probe with the left.
    HashJoin {
        /// Left input (probe side).
        left: Box<Node>,
        /// Right input (build side).
        right: Box<Node>,
        /// Kind.
        kind: JoinKind,
        /// Key expressions over the left row.
        left_keys: Vec<Expr>,
        /// Key expressions over the right row.
        right_keys: Vec<Expr>,
        /// Affinity of each key comparison.
        affinities: Vec<Affinity>,
        /// Remaining condition over left ++ right.
        on: Option<Expr>,
    },
    /// For each left row, open the right scan with key ranges computed from
    /// that row (an index nested-loop join).
    IndexJoin {
        /// Left input.
        left: Box<Node>,
        /// The inner scan; its key expressions are bound to the left row.
        right: Scan,
        /// Kind.
        kind: JoinKind,
        /// Join condition over left ++ right.
        on: Option<Expr>,
    },
    /// Group and aggregate: output is the group-by values followed by the
    /// aggregate results.
    Aggregate {
        /// Input.
        input: Box<Node>,
        /// Group-by expressions over the input row.
        group_by: Vec<Expr>,
        /// Aggregates.
        aggregates: Vec<AggCall>,
    },
    /// Sort all rows.
    Sort {
        /// Input.
        input: Box<Node>,
        /// Keys.
        keys: Vec<SortKey>,
    },
    /// Skip `offset` rows, then stop after `limit` rows.
    Limit {
        /// Input.
        input: Box<Node>,
        /// Maximum rows (`None`: no limit).
        limit: Option<Expr>,
        /// Rows to skip.
        offset: Option<Expr>,
    },
    /// Remove duplicate rows.
    Distinct {
        /// Input.
        input: Box<Node>,
    },
    /// UNION / INTERSECT / EXCEPT.
    SetOperation {
        /// Operator.
        op: SetOp,
        /// `ALL` (keep duplicates; UNION only).
        all: bool,
        /// Left input.
        left: Box<Node>,
        /// Right input.
        right: Box<Node>,
    },
}

impl Node {
    /// Width of the rows this node produces.
    pub fn width(&self) -> usize {
        match self {
            Node::Scan(s) => s.width(),
            Node::Values { width, .. } | Node::Empty { width } => *width,
            Node::Filter { input, .. }
            | Node::Sort { input, .. }
            | Node::Limit { input, .. }
            | Node::Distinct { input } => input.width(),
            Node::Project { exprs, .. } => exprs.len(),
            Node::NestedLoopJoin { left, right, .. } | Node::HashJoin { left, right, .. } => {
                left.width() + right.width()
            }
            Node::IndexJoin { left, right, .. } => left.width() + right.width(),
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by.len() + aggregates.len(),
            Node::SetOperation { left, .. } => left.width(),
        }
    }
}

/// A planned query: the operator tree, its output columns and the
/// subqueries its expressions refer to by index.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryPlan {
    /// The root operator.
    pub root: Node,
    /// Output columns.
    pub columns: Vec<OutputColumn>,
}

/// A subquery used inside an expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Subplan {
    /// The plan.
    pub plan: QueryPlan,
    /// True when it reads an enclosing query's row (it runs again for each
    /// row; otherwise its result is computed once and cached).
    pub correlated: bool,
}
