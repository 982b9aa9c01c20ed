//! The executor: a Volcano-style tree of operators pulling rows one at a
//! time.
//!
//! [`build`] turns a plan [`Node`] into an [`Operator`]; each `next()` call
//! returns one row, so a scan with a filter and a LIMIT holds a few rows at
//! a time. Sort, aggregation, hash-join build sides and nested-loop right
//! sides hold rows within the session's memory budget ([`Control`]): a sort
//! keeps a top-N heap under LIMIT and spills sorted runs to temporary files
//! past the budget ([`sort`]); the others fail with a clear error.
//!
//! Every operator holds a [`Ctx`]: the statement's shared [`Env`] (the
//! transaction, the subplans, the cache of uncorrelated subquery results)
//! and the stack of enclosing rows a correlated subquery reads.

pub mod aggregate;
pub mod control;
pub mod eval;
pub mod functions;
pub mod ops;
pub mod scan;
pub mod sort;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use table_layer::Transaction;

use crate::error::Result;
use crate::planner::plan::{Node, Subplan};
use crate::value::affinity::Affinity;
use crate::value::{Row, Value};
pub use control::Control;
use eval::InSet;

/// A source of rows.
pub trait Operator {
    /// The next row, or `None` when done.
    fn next(&mut self) -> Result<Option<Row>>;
}

/// A boxed operator borrowing the transaction for `'t`.
pub type BoxOp<'t> = Box<dyn Operator + 't>;

/// The materialised result of an uncorrelated subquery.
pub struct SubResult {
    /// Its rows (only the first is kept for scalar and EXISTS use).
    pub rows: Vec<Row>,
    /// IN sets built from the rows, per comparison affinity.
    pub sets: RefCell<Vec<(Affinity, Rc<InSet>)>>,
}

/// What every operator of one statement shares.
pub struct Env<'t> {
    /// The transaction reads and writes go through.
    pub txn: &'t Transaction,
    /// The statement's subqueries.
    pub subplans: Vec<Subplan>,
    /// The session's interrupt flag, progress hook and memory budget, if
    /// the statement runs under a session.
    pub control: Option<&'t Control>,
    cache: RefCell<HashMap<(usize, u8), Rc<SubResult>>>,
}

impl<'t> Env<'t> {
    /// An environment for a statement without session controls.
    pub fn new(txn: &'t Transaction, subplans: Vec<Subplan>) -> Rc<Env<'t>> {
        Env::controlled(txn, subplans, None)
    }

    /// An environment for a statement run under `control`.
    pub fn controlled(
        txn: &'t Transaction,
        subplans: Vec<Subplan>,
        control: Option<&'t Control>,
    ) -> Rc<Env<'t>> {
        Rc::new(Env {
            txn,
            subplans,
            control,
            cache: RefCell::new(HashMap::new()),
        })
    }

    /// Count one row of work: fails with [`SqlError::Interrupted`] once the
    /// interrupt flag is set, and calls the progress hook every so many
    /// rows (see [`Control`]).
    ///
    /// [`SqlError::Interrupted`]: crate::SqlError::Interrupted
    #[inline]
    pub fn tick(&self) -> Result<()> {
        match self.control {
            Some(c) => c.tick(),
            None => Ok(()),
        }
    }

    /// The memory a materialising operator (sort, aggregation, hash join,
    /// ...) may use, in bytes.
    pub fn memory_budget(&self) -> usize {
        self.control
            .map_or(control::DEFAULT_MEMORY_BUDGET, |c| c.memory_budget)
    }
}

/// An operator's evaluation context.
#[derive(Clone)]
pub struct Ctx<'t> {
    /// The shared environment.
    pub env: Rc<Env<'t>>,
    /// Rows of enclosing queries, innermost last.
    pub outer: Rc<Vec<Row>>,
}

/// How much of a subquery's result a use needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    First = 0,
    All = 1,
}

impl<'t> Ctx<'t> {
    /// A context with no enclosing rows.
    pub fn root(env: Rc<Env<'t>>) -> Ctx<'t> {
        Ctx {
            env,
            outer: Rc::new(Vec::new()),
        }
    }

    /// Value of an enclosing query's column.
    pub fn outer_value(&self, depth: usize, index: usize) -> Value {
        self.outer
            .len()
            .checked_sub(depth)
            .and_then(|i| self.outer.get(i))
            .and_then(|r| r.get(index))
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn run_subquery(&self, i: usize, row: &[Value], need: Need) -> Result<Rc<SubResult>> {
        let Some(sub) = self.env.subplans.get(i) else {
            return Err(crate::error::SqlError::runtime(format!(
                "internal: no subquery {i}"
            )));
        };
        let correlated = sub.correlated;
        if !correlated {
            // A cached full result serves every need.
            let cache = self.env.cache.borrow();
            if let Some(r) = cache.get(&(i, Need::All as u8)) {
                return Ok(Rc::clone(r));
            }
            if need == Need::First {
                if let Some(r) = cache.get(&(i, Need::First as u8)) {
                    return Ok(Rc::clone(r));
                }
            }
        }
        let ctx = if correlated {
            let mut outer = (*self.outer).clone();
            outer.push(row.to_vec());
            Ctx {
                env: Rc::clone(&self.env),
                outer: Rc::new(outer),
            }
        } else {
            self.clone()
        };
        let root = sub.plan.root.clone();
        let mut op = build(&root, &ctx)?;
        let mut rows = Vec::new();
        while let Some(r) = op.next()? {
            rows.push(r);
            if need == Need::First {
                break;
            }
        }
        let result = Rc::new(SubResult {
            rows,
            sets: RefCell::new(Vec::new()),
        });
        if !correlated {
            self.env
                .cache
                .borrow_mut()
                .insert((i, need as u8), Rc::clone(&result));
        }
        Ok(result)
    }

    /// `(SELECT ...)` as a value.
    pub fn subquery_scalar(&self, i: usize, row: &[Value]) -> Result<Value> {
        let r = self.run_subquery(i, row, Need::First)?;
        Ok(r.rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// `EXISTS (SELECT ...)`.
    pub fn subquery_exists(&self, i: usize, row: &[Value]) -> Result<bool> {
        Ok(!self.run_subquery(i, row, Need::First)?.rows.is_empty())
    }

    /// The result of `x IN (SELECT ...)` as a set.
    pub fn subquery_set(&self, i: usize, aff: Affinity, row: &[Value]) -> Result<Rc<InSet>> {
        let r = self.run_subquery(i, row, Need::All)?;
        Ok(r.in_set(aff))
    }
}

/// Build the operator tree for `node`.
pub fn build<'t>(node: &Node, ctx: &Ctx<'t>) -> Result<BoxOp<'t>> {
    ops::build(node, ctx)
}
