//! Statement limits, and keeping deep recursion off the end of the stack.
//!
//! Parsing, binding, planning and evaluating are recursive over the
//! expression tree, and a hostile or generated statement can nest as deep
//! as it is long: sqlparser builds `1 + 1 + ... + 1` (and `||`, `OR`, `AND`,
//! `IS NULL`, ... chains) with a loop, one tree level per operator, without
//! counting those levels against its recursion limit. Three limits keep
//! every statement on a known amount of stack:
//!
//! ```text
//!   text ──size ≤ max_statement_bytes──► parse (≤ 256 nested parentheses,
//!         (1,000,000 by default)           subqueries, prefix operators)
//!                                            │ on a stack sized for the text
//!                                            ▼
//!        expression depth ≤ 1000 (SQLite's limit), checked on the AST
//!        with a traversal that stops at the limit; a deeper AST is taken
//!        apart with an explicit stack, so dropping it does not recurse
//!                                            │
//!                                            ▼
//!        bind / plan / evaluate: recursive functions call [`deep`], which
//!        moves onto a fresh stack segment when little stack is left
//! ```
//!
//! For simplicity the limits are constants except the statement size (a
//! session setting); SQLite makes all of them run-time settings.

use std::ops::ControlFlow;

use sqlparser::ast::{self, Visit, VisitMut, Visitor, VisitorMut};

use crate::error::{Result, SqlError};

/// Default largest statement text in bytes (SQLite's
/// `SQLITE_MAX_SQL_LENGTH` is a setting too; ours defaults to 1,000,000).
pub const DEFAULT_MAX_STATEMENT_BYTES: usize = 1_000_000;

/// Deepest expression tree (SQLite's `SQLITE_MAX_EXPR_DEPTH`): operators,
/// function calls and subqueries nested in one another; literals and names
/// at the leaves do not count.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// Most SELECTs in one compound query (`a UNION b UNION ...`; SQLite's
/// `SQLITE_MAX_COMPOUND_SELECT`): sqlparser builds the chain with a loop,
/// one level per operator.
pub const MAX_COMPOUND_SELECT: usize = 500;

/// Longest text or blob a function or operator may produce (SQLite's
/// `SQLITE_MAX_LENGTH` is 1,000,000,000; ours is lower because values are
/// copied between operators): `||`, `replace()`, `hex()` and
/// `group_concat()` check it before building their result, so nesting them
/// cannot exhaust memory.
pub const MAX_VALUE_BYTES: usize = 256 << 20;

/// Fail with "string or blob too big" when a result would be longer than
/// [`MAX_VALUE_BYTES`].
pub fn check_value_len(len: usize) -> Result<()> {
    if len > MAX_VALUE_BYTES {
        return Err(SqlError::runtime(format!(
            "string or blob too big: {len} bytes, the limit is {MAX_VALUE_BYTES}"
        )));
    }
    Ok(())
}

/// How deeply sqlparser may recurse (parentheses, subqueries, prefix
/// operators such as `NOT` and `-`); the sqllogictest corpus nests WHERE
/// clauses about 60 levels deep.
pub const PARSER_RECURSION_LIMIT: usize = 256;

/// Stack a recursive step may use before the next [`deep`] check (the
/// largest frames between two checks, with room for derived `Clone` and
/// `Drop` of a tree at the depth limit, in unoptimised builds).
const RED_ZONE: usize = 1 << 20;

/// Size of each stack segment [`deep`] adds.
const SEGMENT: usize = 8 << 20;

/// Run `f`, first moving to a new stack segment when less than the red
/// zone is left. Every recursive function of the SQL layer goes through
/// this once per level; the check is a comparison of the stack pointer
/// with a thread-local limit.
#[inline]
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Run `f` with at least `need` bytes of stack.
pub fn with_stack<R>(need: usize, f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(need, need.saturating_mul(2).max(SEGMENT), f)
}

/// Stack one level of expression nesting may take in the recursive code
/// that does not check (derived `Clone`, `PartialEq`, `Drop`, sqlparser's
/// visitor), measured in unoptimised builds (about 5.4 KiB for a clone of
/// sqlparser's `Expr`) with room to spare.
const STACK_PER_EXPR_LEVEL: usize = 8 << 10;

/// Stack one nested query may take (planning a SELECT is a long chain of
/// large frames in unoptimised builds).
const STACK_PER_QUERY_LEVEL: usize = 128 << 10;

/// Stack any statement may take besides its nesting.
const STACK_BASE: usize = 1 << 20;

/// Stack needed to parse `len` bytes of text: the parser at its recursion
/// limit, the depth check's traversal (which stops at the limits), and
/// dropping a chain as deep as the text allows (a failed parse drops what
/// it built, recursively, inside sqlparser: up to one level per two bytes,
/// `1+1+...`, at up to ~128 bytes of stack per level). Untouched stack is
/// only reserved address space.
pub fn parse_stack(len: usize) -> usize {
    let levels = (len / 2).min(MAX_EXPR_DEPTH + PARSER_RECURSION_LIMIT);
    STACK_BASE
        .saturating_add(PARSER_RECURSION_LIMIT * STACK_PER_QUERY_LEVEL)
        .saturating_add(levels.saturating_mul(STACK_PER_EXPR_LEVEL))
        .saturating_add(len.saturating_mul(64))
}

/// The error for a statement longer than `max` bytes.
pub fn statement_too_long(len: usize, max: usize) -> SqlError {
    SqlError::runtime(format!(
        "statement too long: {len} bytes, the limit is {max} \
         (split it, load data with COPY, or raise the session's max_statement_bytes)"
    ))
}

/// The error for an expression deeper than [`MAX_EXPR_DEPTH`].
pub fn expression_too_deep() -> SqlError {
    SqlError::runtime(format!(
        "expression tree is too large (maximum depth {MAX_EXPR_DEPTH}); \
         split long chains of operators, e.g. use IN (...) instead of many ORs"
    ))
}

/// The error for a compound query of more than [`MAX_COMPOUND_SELECT`]
/// parts.
pub fn too_many_selects() -> SqlError {
    SqlError::runtime(format!(
        "too many terms in compound SELECT (at most {MAX_COMPOUND_SELECT})"
    ))
}

/// The error for sqlparser's recursion limit.
pub fn nested_too_deeply() -> SqlError {
    SqlError::runtime(format!(
        "statement nested too deeply: more than {PARSER_RECURSION_LIMIT} levels of \
         parentheses, subqueries, CASE or prefix operators"
    ))
}

/// True for expressions that are leaves of the tree (not counted).
fn is_leaf(e: &ast::Expr) -> bool {
    matches!(
        e,
        ast::Expr::Value(_) | ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)
    )
}

/// Which limit a statement broke.
enum Broken {
    Depth,
    Compound,
}

/// The number of SELECTs in a compound query body, counted with an
/// explicit stack (the chain may be far longer than the limit).
fn compound_terms(body: &ast::SetExpr) -> usize {
    let mut n = 0;
    let mut work = vec![body];
    while let Some(b) = work.pop() {
        match b {
            ast::SetExpr::SetOperation { left, right, .. } => {
                work.push(left);
                work.push(right);
            }
            _ => n += 1,
        }
        if n > MAX_COMPOUND_SELECT {
            break;
        }
    }
    n
}

/// Counts expression nesting and compound terms, and stops past a limit,
/// so its own recursion never goes deeper than the limits.
struct DepthCheck {
    depth: usize,
    /// Stack estimate of the current path and the largest one.
    cost: usize,
    max_cost: usize,
}

impl Visitor for DepthCheck {
    type Break = Broken;

    fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<Broken> {
        let terms = compound_terms(&q.body);
        if terms > MAX_COMPOUND_SELECT {
            return ControlFlow::Break(Broken::Compound);
        }
        self.cost += STACK_PER_QUERY_LEVEL * terms.min(8);
        self.max_cost = self.max_cost.max(self.cost);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &ast::Query) -> ControlFlow<Broken> {
        self.cost -= STACK_PER_QUERY_LEVEL * compound_terms(&q.body).min(8);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &ast::Expr) -> ControlFlow<Broken> {
        if !is_leaf(e) {
            self.depth += 1;
            if self.depth > MAX_EXPR_DEPTH {
                return ControlFlow::Break(Broken::Depth);
            }
            self.cost += STACK_PER_EXPR_LEVEL;
            self.max_cost = self.max_cost.max(self.cost);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &ast::Expr) -> ControlFlow<Broken> {
        if !is_leaf(e) {
            self.depth -= 1;
            self.cost -= STACK_PER_EXPR_LEVEL;
        }
        ControlFlow::Continue(())
    }
}

/// A parsed statement within the limits, with the stack planning and
/// running it may need.
#[derive(Debug)]
pub struct Checked {
    /// The statement.
    pub stmt: ast::Statement,
    /// Bytes of stack to have before planning or running it (see
    /// [`with_stack`]).
    pub stack: usize,
}

/// Check a parsed statement's expression depth and compound queries. A
/// statement over a limit is taken apart here (dropping it normally would
/// recurse as deep as it nests).
pub fn check_depth(stmt: ast::Statement) -> Result<Checked> {
    let mut check = DepthCheck {
        depth: 0,
        cost: 0,
        max_cost: 0,
    };
    let broken = deep(|| stmt.visit(&mut check));
    match broken {
        ControlFlow::Continue(()) => Ok(Checked {
            stmt,
            stack: STACK_BASE.saturating_add(check.max_cost),
        }),
        ControlFlow::Break(b) => {
            dismantle(stmt);
            Err(match b {
                Broken::Depth => expression_too_deep(),
                Broken::Compound => too_many_selects(),
            })
        }
    }
}

/// Nodes still to be taken apart.
#[derive(Default)]
struct Work {
    exprs: Vec<ast::Expr>,
    bodies: Vec<ast::SetExpr>,
}

/// Moves every expression directly below the root out into the work list,
/// leaving a NULL literal behind (which has nothing below it, so the
/// traversal goes no deeper), and likewise every compound query body.
struct TakeChildren<'w> {
    skip_root: bool,
    work: &'w mut Work,
}

impl VisitorMut for TakeChildren<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
        if matches!(*q.body, ast::SetExpr::SetOperation { .. }) {
            let empty = ast::SetExpr::Values(ast::Values {
                explicit_row: false,
                value_keyword: false,
                rows: Vec::new(),
            });
            let body = std::mem::replace(&mut *q.body, empty);
            self.work.bodies.push(body);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut ast::Expr) -> ControlFlow<()> {
        if self.skip_root {
            self.skip_root = false;
            return ControlFlow::Continue(());
        }
        if !is_leaf(e) {
            let null = ast::Expr::Value(ast::Value::Null.into());
            self.work.exprs.push(std::mem::replace(e, null));
        }
        ControlFlow::Continue(())
    }
}

/// Drop a statement of any depth without deep recursion: expressions and
/// compound bodies are moved out level by level onto heap work lists and
/// dropped once their children have been moved out.
fn dismantle(mut stmt: ast::Statement) {
    let mut work = Work::default();
    let _ = VisitMut::visit(
        &mut stmt,
        &mut TakeChildren {
            skip_root: false,
            work: &mut work,
        },
    );
    drop(stmt);
    loop {
        if let Some(mut e) = work.exprs.pop() {
            let _ = VisitMut::visit(
                &mut e,
                &mut TakeChildren {
                    skip_root: true,
                    work: &mut work,
                },
            );
        } else if let Some(b) = work.bodies.pop() {
            match b {
                ast::SetExpr::SetOperation { left, right, .. } => {
                    work.bodies.push(*left);
                    work.bodies.push(*right);
                }
                mut other => {
                    let _ = VisitMut::visit(
                        &mut other,
                        &mut TakeChildren {
                            skip_root: false,
                            work: &mut work,
                        },
                    );
                }
            }
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> ast::Statement {
        let d = sqlparser::dialect::SQLiteDialect {};
        sqlparser::parser::Parser::parse_sql(&d, sql)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn depth_counts_operators_not_leaves() {
        let at_limit = format!("SELECT 1{}", " + 1".repeat(MAX_EXPR_DEPTH));
        assert!(check_depth(parse(&at_limit)).is_ok());
        let over = format!("SELECT 1{}", " + 1".repeat(MAX_EXPR_DEPTH + 1));
        let e = check_depth(parse(&over)).unwrap_err();
        assert!(e.to_string().contains("maximum depth 1000"), "{e}");
    }

    #[test]
    fn a_very_deep_statement_is_taken_apart_without_overflowing() {
        // 30,000 levels: dropping this recursively needs MiBs of stack.
        let sql = format!("SELECT * FROM t WHERE a = 1{}", " OR a = 1".repeat(30_000));
        let stmt = with_stack(parse_stack(sql.len()), || parse(&sql));
        let r = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || check_depth(stmt).map(|_| ()))
            .unwrap()
            .join()
            .unwrap();
        assert!(r.is_err());
    }

    #[test]
    fn long_compound_queries_are_refused_and_taken_apart() {
        let ok = format!(
            "SELECT 1{}",
            " UNION SELECT 1".repeat(MAX_COMPOUND_SELECT - 1)
        );
        assert!(check_depth(parse(&ok)).is_ok());
        let sql = format!("SELECT 1{}", " UNION ALL SELECT 1 + 1".repeat(20_000));
        let stmt = with_stack(parse_stack(sql.len()), || parse(&sql));
        let r = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || check_depth(stmt).map(|_| ()))
            .unwrap()
            .join()
            .unwrap();
        assert!(r.unwrap_err().to_string().contains("compound"));
    }
}
