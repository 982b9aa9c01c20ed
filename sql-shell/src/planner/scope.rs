//! Name resolution: the stack of scopes a query is bound in.
//!
//! Each query level (the statement, and each subquery inside it) pushes a
//! [`Frame`] holding the columns its FROM clause produces, in row order. A
//! name resolves in the innermost frame first, then outwards; a name found
//! in an outer frame becomes an [`Slot::Outer`] reference and marks every
//! frame in between as correlated.
//!
//! ```text
//!   frame 0: t1.a t1.b            SELECT ... FROM t1 WHERE t1.a IN (
//!   frame 1: t2.x t2.y  <- current    SELECT x FROM t2 WHERE t2.y = t1.b)
//!                                     t1.b -> Outer { depth: 1, index: 1 }
//! ```
//!
//! A frame that is binding expressions after GROUP BY (the select list,
//! HAVING, ORDER BY of an aggregate query) carries an [`AggState`]: its
//! expressions read the aggregate's output row (group values, then
//! aggregate results), so column references are mapped onto that row.

use sqlparser::ast;

use super::expr::{AggCall, AggFunc, Expr, Slot};
use super::plan::ScopeColumn;
use crate::error::{Position, SqlError, suggest};
use crate::value::affinity::Affinity;

/// Aggregation state of a frame (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct AggState {
    /// Group-by expressions over the input row.
    pub group_by: Vec<Expr>,
    /// Aggregates found so far.
    pub aggregates: Vec<AggCall>,
}

impl AggState {
    /// Position in the aggregate's output row of an aggregate call, adding
    /// it when new.
    pub fn add(&mut self, call: AggCall) -> usize {
        let n = self.group_by.len();
        if let Some(i) = self.aggregates.iter().position(|a| *a == call) {
            return n + i;
        }
        self.aggregates.push(call);
        n + self.aggregates.len() - 1
    }

    /// Position of an input expression in the output row: a group-by
    /// expression it equals, or a new "any value" aggregate for a bare
    /// column.
    pub fn map_input(&mut self, e: &Expr) -> usize {
        if let Some(i) = self.group_by.iter().position(|g| g == e) {
            return i;
        }
        self.add(AggCall {
            func: AggFunc::AnyValue,
            args: vec![e.clone()],
            distinct: false,
        })
    }
}

/// One query level's names.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// Columns of the FROM clause, in row order.
    pub columns: Vec<ScopeColumn>,
    /// Set while binding post-aggregation expressions.
    pub agg: Option<AggState>,
    /// While true, local names resolve to the input row even in an
    /// aggregating frame (used to bind aggregate arguments).
    pub input_mode: bool,
    /// Some name inside referred to an enclosing frame.
    pub correlated: bool,
    /// Select-list aliases (name, expression) visible to names that match
    /// no column.
    pub aliases: Vec<(String, ast::Expr)>,
}

/// Result of looking a name up.
pub enum Resolved {
    /// A column of some frame, with its affinity.
    Column(Expr, Affinity),
    /// A select-list alias of the current frame: bind this expression.
    Alias(Box<ast::Expr>),
}

/// The stack of frames.
#[derive(Default)]
pub struct Scopes {
    /// Frames, outermost first.
    pub frames: Vec<Frame>,
}

fn matches_col(c: &ScopeColumn, table: Option<&str>, name: &str) -> bool {
    c.name.eq_ignore_ascii_case(name)
        && match table {
            None => true,
            Some(t) => c
                .table
                .as_deref()
                .is_some_and(|ct| ct.eq_ignore_ascii_case(t)),
        }
}

impl Scopes {
    /// The current frame.
    pub fn current(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame::default());
        }
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    /// Resolve `table.name` (or `name`).
    pub fn resolve(
        &mut self,
        table: Option<&str>,
        name: &str,
        pos: Option<Position>,
    ) -> Result<Resolved, SqlError> {
        let top = self.frames.len();
        for level in (0..top).rev() {
            let frame = &self.frames[level];
            let mut found: Option<usize> = None;
            for (i, c) in frame.columns.iter().enumerate() {
                if matches_col(c, table, name) {
                    if found.is_some() && !c.hidden {
                        return Err(SqlError::Name {
                            message: format!("ambiguous column name: {name}"),
                            position: pos,
                        });
                    }
                    if found.is_none() {
                        found = Some(i);
                    }
                }
            }
            if let Some(i) = found {
                let depth = top - 1 - level;
                let frame = &mut self.frames[level];
                // An aggregating frame evaluates expressions over its
                // output row; map the input column onto it.
                let affinity = frame.columns[i].affinity;
                let index = match (&mut frame.agg, frame.input_mode) {
                    (Some(agg), false) => agg.map_input(&Expr::Column(Slot::Local(i))),
                    _ => i,
                };
                if depth == 0 {
                    return Ok(Resolved::Column(Expr::Column(Slot::Local(index)), affinity));
                }
                for f in &mut self.frames[level + 1..] {
                    f.correlated = true;
                }
                return Ok(Resolved::Column(
                    Expr::Column(Slot::Outer { depth, index }),
                    affinity,
                ));
            }
            if table.is_none() && level == top - 1 {
                if let Some((_, e)) = frame
                    .aliases
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(name))
                {
                    return Ok(Resolved::Alias(Box::new(e.clone())));
                }
            }
        }
        let full = match table {
            Some(t) => format!("{t}.{name}"),
            None => name.to_string(),
        };
        let candidates: Vec<&str> = self
            .frames
            .iter()
            .flat_map(|f| f.columns.iter())
            .filter(|c| !c.hidden)
            .map(|c| c.name.as_str())
            .collect();
        if let Some(t) = table {
            let known = self.frames.iter().flat_map(|f| f.columns.iter()).any(|c| {
                c.table
                    .as_deref()
                    .is_some_and(|ct| ct.eq_ignore_ascii_case(t))
            });
            if !known {
                let tables: Vec<&str> = self
                    .frames
                    .iter()
                    .flat_map(|f| f.columns.iter())
                    .filter_map(|c| c.table.as_deref())
                    .collect();
                return Err(SqlError::UnknownColumn {
                    name: full,
                    suggestion: suggest(t, tables).map(|s| format!("{s}.{name}")),
                    position: pos,
                });
            }
        }
        Err(SqlError::UnknownColumn {
            name: full,
            suggestion: suggest(name, candidates),
            position: pos,
        })
    }
}
