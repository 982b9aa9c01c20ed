//! The operators other than scans and aggregation, and [`build`], which
//! turns a plan into an operator tree.

use std::collections::{HashMap, HashSet};

use super::aggregate::AggregateOp;
use super::eval::{eval, eval_pred};
use super::scan::ScanOp;
use super::sort::{SortOp, over_budget, row_bytes};
use super::{BoxOp, Ctx, Operator};
use crate::error::{Result, SqlError};
use crate::planner::expr::Expr;
use crate::planner::plan::{JoinKind, Node, Scan, SetOp};
use crate::value::affinity::Affinity;
use crate::value::compare::normalize;
use crate::value::number::{Num, exact_int, parse_whole};
use crate::value::{Row, Value};

/// Build the operator for `node`.
pub fn build<'t>(node: &Node, ctx: &Ctx<'t>) -> Result<BoxOp<'t>> {
    crate::limits::deep(|| build_level(node, ctx))
}

fn build_level<'t>(node: &Node, ctx: &Ctx<'t>) -> Result<BoxOp<'t>> {
    Ok(match node {
        Node::Scan(s) => Box::new(ScanOp::open(s, ctx, &[])?),
        Node::Values { rows, .. } => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut row = Vec::with_capacity(r.len());
                for e in r {
                    row.push(eval(e, &[], ctx)?);
                }
                out.push(row);
            }
            Box::new(RowsOp(out.into_iter()))
        }
        Node::Empty { .. } => Box::new(RowsOp(Vec::new().into_iter())),
        Node::Filter { input, predicate } => Box::new(FilterOp {
            input: build(input, ctx)?,
            predicate: predicate.clone(),
            ctx: ctx.clone(),
        }),
        Node::Project { input, exprs } => Box::new(ProjectOp {
            input: build(input, ctx)?,
            exprs: exprs.clone(),
            ctx: ctx.clone(),
        }),
        Node::NestedLoopJoin {
            left,
            right,
            kind,
            on,
        } => Box::new(NestedLoopOp {
            left: build(left, ctx)?,
            right_plan: Some(build(right, ctx)?),
            right_rows: Vec::new(),
            right_width: right.width(),
            kind: *kind,
            on: on.clone(),
            ctx: ctx.clone(),
            cur: None,
            pos: 0,
            matched: false,
        }),
        Node::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            affinities,
            on,
        } => Box::new(HashJoinOp {
            left: build(left, ctx)?,
            right: Some(build(right, ctx)?),
            right_width: right.width(),
            table: HashMap::new(),
            kind: *kind,
            left_keys: left_keys.clone(),
            right_keys: right_keys.clone(),
            affinities: affinities.clone(),
            on: on.clone(),
            ctx: ctx.clone(),
            cur: None,
            matches: Vec::new(),
            pos: 0,
            matched: false,
        }),
        Node::IndexJoin {
            left,
            right,
            kind,
            on,
        } => Box::new(IndexJoinOp {
            left: build(left, ctx)?,
            right: right.clone(),
            right_width: right.width(),
            kind: *kind,
            on: on.clone(),
            ctx: ctx.clone(),
            cur: None,
            inner: None,
            matched: false,
        }),
        Node::Aggregate {
            input,
            group_by,
            aggregates,
        } => Box::new(AggregateOp::new(
            build(input, ctx)?,
            ctx.clone(),
            group_by.clone(),
            aggregates.clone(),
        )),
        Node::Sort { input, keys } => Box::new(SortOp::new(
            build(input, ctx)?,
            keys.clone(),
            ctx.clone(),
            None,
        )),
        Node::Limit {
            input,
            limit,
            offset,
        } => {
            let limit = match limit {
                Some(e) => {
                    let n = limit_value(eval(e, &[], ctx)?, "LIMIT")?;
                    u64::try_from(n).ok()
                }
                None => None,
            };
            let offset = match offset {
                Some(e) => u64::try_from(limit_value(eval(e, &[], ctx)?, "OFFSET")?).unwrap_or(0),
                None => 0,
            };
            // ORDER BY ... LIMIT: the sort keeps only the rows the limit
            // can return.
            let input: BoxOp<'t> = match (input.as_ref(), limit) {
                (Node::Sort { input, keys }, Some(l)) => Box::new(SortOp::new(
                    build(input, ctx)?,
                    keys.clone(),
                    ctx.clone(),
                    Some(l.saturating_add(offset)),
                )),
                _ => build(input, ctx)?,
            };
            Box::new(LimitOp {
                input,
                limit,
                offset,
            })
        }
        Node::Distinct { input } => Box::new(DistinctOp {
            input: build(input, ctx)?,
            seen: HashSet::new(),
            bytes: 0,
            budget: ctx.env.memory_budget(),
        }),
        Node::SetOperation {
            op,
            all,
            left,
            right,
        } => Box::new(SetOpOp {
            left: build(left, ctx)?,
            right: Some(build(right, ctx)?),
            op: *op,
            all: *all,
            seen: HashSet::new(),
            right_set: HashSet::new(),
            left_done: false,
        }),
    })
}

/// A LIMIT or OFFSET value: an integer, or a value that converts to one
/// without loss (`'5'`, `5.0`); anything else is SQLite's "datatype
/// mismatch".
pub fn limit_value(v: Value, clause: &str) -> Result<i64> {
    let n = match &v {
        Value::Integer(i) => Some(*i),
        Value::Boolean(b) => Some(i64::from(*b)),
        Value::Real(r) => exact_int(*r),
        Value::Text(s) => match parse_whole(s.as_bytes()) {
            Some(Num::Int(i)) => Some(i),
            Some(Num::Real(r)) => exact_int(r),
            None => None,
        },
        Value::Null | Value::Blob(_) => None,
    };
    n.ok_or_else(|| {
        let mut shown: String = v.to_sql_literal().chars().take(60).collect();
        if shown.len() < v.to_sql_literal().len() {
            shown.push_str("...");
        }
        SqlError::type_error(format!(
            "datatype mismatch: {clause} must be an integer, not {shown}"
        ))
    })
}

/// Rows from a vector.
pub struct RowsOp(pub std::vec::IntoIter<Row>);

impl Operator for RowsOp {
    fn next(&mut self) -> Result<Option<Row>> {
        Ok(self.0.next())
    }
}

struct FilterOp<'t> {
    input: BoxOp<'t>,
    predicate: Expr,
    ctx: Ctx<'t>,
}

impl Operator for FilterOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        while let Some(row) = self.input.next()? {
            if eval_pred(&self.predicate, &row, &self.ctx)? {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

struct ProjectOp<'t> {
    input: BoxOp<'t>,
    exprs: Vec<Expr>,
    ctx: Ctx<'t>,
}

impl Operator for ProjectOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        let Some(row) = self.input.next()? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(self.exprs.len());
        for e in &self.exprs {
            out.push(eval(e, &row, &self.ctx)?);
        }
        Ok(Some(out))
    }
}

fn nulls(n: usize) -> impl Iterator<Item = Value> {
    std::iter::repeat_n(Value::Null, n)
}

struct NestedLoopOp<'t> {
    left: BoxOp<'t>,
    right_plan: Option<BoxOp<'t>>,
    right_rows: Vec<Row>,
    right_width: usize,
    kind: JoinKind,
    on: Option<Expr>,
    ctx: Ctx<'t>,
    cur: Option<Row>,
    pos: usize,
    matched: bool,
}

impl Operator for NestedLoopOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(mut r) = self.right_plan.take() {
            let budget = self.ctx.env.memory_budget();
            let mut bytes = 0usize;
            while let Some(row) = r.next()? {
                bytes += row_bytes(&row);
                if bytes > budget {
                    return Err(over_budget("the right side of a nested-loop join", budget));
                }
                self.right_rows.push(row);
            }
        }
        loop {
            if self.cur.is_none() {
                match self.left.next()? {
                    None => return Ok(None),
                    Some(l) => {
                        self.cur = Some(l);
                        self.pos = 0;
                        self.matched = false;
                    }
                }
            }
            let Some(left) = self.cur.as_ref() else {
                continue;
            };
            while self.pos < self.right_rows.len() {
                // The right side is held: no scan counts these rows.
                self.ctx.env.tick()?;
                let right = &self.right_rows[self.pos];
                self.pos += 1;
                let mut row = Vec::with_capacity(left.len() + right.len());
                row.extend_from_slice(left);
                row.extend_from_slice(right);
                let ok = match &self.on {
                    Some(p) => eval_pred(p, &row, &self.ctx)?,
                    None => true,
                };
                if ok {
                    self.matched = true;
                    return Ok(Some(row));
                }
            }
            let left = self.cur.take().unwrap_or_default();
            if self.kind == JoinKind::Left && !self.matched {
                let mut row = left;
                row.extend(nulls(self.right_width));
                return Ok(Some(row));
            }
        }
    }
}

fn key_of(
    exprs: &[Expr],
    affs: &[Affinity],
    row: &[Value],
    ctx: &Ctx<'_>,
) -> Result<Option<Vec<Value>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for (e, a) in exprs.iter().zip(affs) {
        let v = eval(e, row, ctx)?;
        if v.is_null() {
            return Ok(None);
        }
        key.push(normalize(a.apply(v)));
    }
    Ok(Some(key))
}

struct HashJoinOp<'t> {
    left: BoxOp<'t>,
    right: Option<BoxOp<'t>>,
    right_width: usize,
    table: HashMap<Vec<Value>, Vec<Row>>,
    kind: JoinKind,
    left_keys: Vec<Expr>,
    right_keys: Vec<Expr>,
    affinities: Vec<Affinity>,
    on: Option<Expr>,
    ctx: Ctx<'t>,
    cur: Option<Row>,
    matches: Vec<Row>,
    pos: usize,
    matched: bool,
}

impl Operator for HashJoinOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(mut r) = self.right.take() {
            let budget = self.ctx.env.memory_budget();
            let mut bytes = 0usize;
            while let Some(row) = r.next()? {
                if let Some(k) = key_of(&self.right_keys, &self.affinities, &row, &self.ctx)? {
                    bytes += row_bytes(&row) + row_bytes(&k);
                    if bytes > budget {
                        return Err(over_budget("a hash join's build side", budget));
                    }
                    self.table.entry(k).or_default().push(row);
                }
            }
        }
        loop {
            if self.cur.is_none() {
                let Some(l) = self.left.next()? else {
                    return Ok(None);
                };
                self.matches = match key_of(&self.left_keys, &self.affinities, &l, &self.ctx)? {
                    Some(k) => self.table.get(&k).cloned().unwrap_or_default(),
                    None => Vec::new(),
                };
                self.cur = Some(l);
                self.pos = 0;
                self.matched = false;
            }
            let Some(left) = self.cur.as_ref() else {
                continue;
            };
            while self.pos < self.matches.len() {
                let right = &self.matches[self.pos];
                self.pos += 1;
                let mut row = Vec::with_capacity(left.len() + right.len());
                row.extend_from_slice(left);
                row.extend_from_slice(right);
                let ok = match &self.on {
                    Some(p) => eval_pred(p, &row, &self.ctx)?,
                    None => true,
                };
                if ok {
                    self.matched = true;
                    return Ok(Some(row));
                }
            }
            let left = self.cur.take().unwrap_or_default();
            if self.kind == JoinKind::Left && !self.matched {
                let mut row = left;
                row.extend(nulls(self.right_width));
                return Ok(Some(row));
            }
        }
    }
}

struct IndexJoinOp<'t> {
    left: BoxOp<'t>,
    right: Scan,
    right_width: usize,
    kind: JoinKind,
    on: Option<Expr>,
    ctx: Ctx<'t>,
    cur: Option<Row>,
    inner: Option<ScanOp<'t>>,
    matched: bool,
}

impl Operator for IndexJoinOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        loop {
            if self.cur.is_none() {
                let Some(l) = self.left.next()? else {
                    return Ok(None);
                };
                self.inner = Some(ScanOp::open(&self.right, &self.ctx, &l)?);
                self.cur = Some(l);
                self.matched = false;
            }
            if let Some(inner) = self.inner.as_mut() {
                while let Some(right) = inner.next()? {
                    let left = self.cur.as_ref().map_or(&[][..], |v| v.as_slice());
                    let mut row = Vec::with_capacity(left.len() + right.len());
                    row.extend_from_slice(left);
                    row.extend(right);
                    let ok = match &self.on {
                        Some(p) => eval_pred(p, &row, &self.ctx)?,
                        None => true,
                    };
                    if ok {
                        self.matched = true;
                        return Ok(Some(row));
                    }
                }
            }
            self.inner = None;
            let left = self.cur.take().unwrap_or_default();
            if self.kind == JoinKind::Left && !self.matched {
                let mut row = left;
                row.extend(nulls(self.right_width));
                return Ok(Some(row));
            }
        }
    }
}

struct LimitOp<'t> {
    input: BoxOp<'t>,
    limit: Option<u64>,
    offset: u64,
}

impl Operator for LimitOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if self.limit == Some(0) {
            return Ok(None);
        }
        while self.offset > 0 {
            if self.input.next()?.is_none() {
                return Ok(None);
            }
            self.offset -= 1;
        }
        let r = self.input.next()?;
        if let (Some(l), Some(_)) = (self.limit.as_mut(), &r) {
            *l -= 1;
        }
        Ok(r)
    }
}

struct DistinctOp<'t> {
    input: BoxOp<'t>,
    seen: HashSet<Vec<Value>>,
    bytes: usize,
    budget: usize,
}

impl Operator for DistinctOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        while let Some(row) = self.input.next()? {
            let key: Vec<Value> = row.iter().cloned().map(normalize).collect();
            let size = row_bytes(&key);
            if self.seen.insert(key) {
                self.bytes += size;
                if self.bytes > self.budget {
                    return Err(over_budget("DISTINCT", self.budget));
                }
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

struct SetOpOp<'t> {
    left: BoxOp<'t>,
    right: Option<BoxOp<'t>>,
    op: SetOp,
    all: bool,
    seen: HashSet<Vec<Value>>,
    right_set: HashSet<Vec<Value>>,
    left_done: bool,
}

fn norm_row(r: &[Value]) -> Vec<Value> {
    r.iter().cloned().map(normalize).collect()
}

impl Operator for SetOpOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if self.op != SetOp::Union {
            if let Some(mut r) = self.right.take() {
                while let Some(row) = r.next()? {
                    self.right_set.insert(norm_row(&row));
                }
            }
        }
        loop {
            let row = if !self.left_done {
                match self.left.next()? {
                    Some(r) => r,
                    None => {
                        self.left_done = true;
                        continue;
                    }
                }
            } else if self.op == SetOp::Union {
                match self.right.as_mut() {
                    Some(r) => match r.next()? {
                        Some(row) => row,
                        None => return Ok(None),
                    },
                    None => return Ok(None),
                }
            } else {
                return Ok(None);
            };
            let key = norm_row(&row);
            let keep = match self.op {
                SetOp::Union => self.all || self.seen.insert(key),
                SetOp::Intersect => self.right_set.contains(&key) && self.seen.insert(key),
                SetOp::Except => !self.right_set.contains(&key) && self.seen.insert(key),
            };
            if keep {
                return Ok(Some(row));
            }
        }
    }
}
