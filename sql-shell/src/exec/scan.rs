//! Table scans: turning a [`KeyPredicate`] into key ranges when the scan
//! opens, and streaming the rows through the pushed-down filter.
//!
//! The bound values are evaluated now (for an index join: against the left
//! row) and converted to the key column's type. SQLite compares values of
//! different types by rules a typed key cannot express directly, so the
//! conversion *widens* rather than guesses; the filter re-checks every row:
//!
//! ```text
//!   INTEGER column   > 5.5      ->  >= 6          = 5.5   -> no range
//!   REAL column      > 3        ->  >= 3.0
//!   INTEGER column   < 'abc'    ->  unbounded (numbers sort before text)
//!   any column       = NULL     ->  no range (never true)
//! ```
//!
//! Equality lists (`IN`) become one range per distinct value, sorted in key
//! order, so a scan over several ranges still yields key order.

use std::ops::Bound;
use std::sync::Arc;

use table_layer::{DataType, Direction, IndexRowScan, RowScan, ScanRange, SortOrder, TableDef};

use super::eval::{eval, eval_pred};
use super::{Ctx, Operator};
use crate::error::{Result, SqlError};
use crate::planner::expr::Expr;
use crate::planner::plan::{Access, KeyEq, KeyPredicate, Scan};
use crate::value::affinity::Affinity;
use crate::value::number::exact_int;
use crate::value::{Row, Value};

/// A converted bound.
enum KeyBound {
    Unbounded,
    At(Value, bool),
    Empty,
}

fn class(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Integer(_) | Value::Real(_) | Value::Boolean(_) => 1,
        Value::Text(_) => 2,
        Value::Blob(_) => 3,
    }
}

fn col_class(ty: DataType) -> u8 {
    match ty {
        DataType::Integer | DataType::Real | DataType::Boolean => 1,
        DataType::Text => 2,
        DataType::Blob => 3,
    }
}

/// The key value equal to `v` in a column of type `ty`, or `None` when no
/// value of the column can equal it.
fn eq_key(v: Value, ty: DataType) -> Option<Value> {
    let v = Affinity::of_type(ty).apply(v);
    match (ty, v) {
        (_, Value::Null) => None,
        (DataType::Integer, Value::Integer(i)) => Some(Value::Integer(i)),
        (DataType::Integer, Value::Real(r)) => exact_int(r).map(Value::Integer),
        (DataType::Integer, Value::Boolean(b)) => Some(Value::Integer(i64::from(b))),
        (DataType::Real, Value::Real(r)) => Some(Value::Real(r)),
        (DataType::Real, Value::Integer(i)) => {
            let f = i as f64;
            (exact_int(f) == Some(i)).then_some(Value::Real(f))
        }
        (DataType::Text, Value::Text(s)) => Some(Value::Text(s)),
        (DataType::Blob, Value::Blob(b)) => Some(Value::Blob(b)),
        _ => None,
    }
}

/// Convert a lower (`low = true`) or upper bound.
fn bound_key(v: Value, inclusive: bool, ty: DataType, low: bool) -> KeyBound {
    let v = Affinity::of_type(ty).apply(v);
    if v.is_null() {
        return KeyBound::Empty;
    }
    let (vc, cc) = (class(&v), col_class(ty));
    if vc != cc {
        // The constant sorts entirely above (or below) the column's values.
        let above = vc > cc;
        return match (above, low) {
            (true, true) | (false, false) => KeyBound::Empty,
            _ => KeyBound::Unbounded,
        };
    }
    match (ty, v) {
        (DataType::Integer, Value::Real(r)) => {
            if r.is_nan() {
                KeyBound::Unbounded
            } else if let Some(i) = exact_int(r) {
                KeyBound::At(Value::Integer(i), inclusive)
            } else if r >= 9.2e18 {
                if low {
                    KeyBound::Empty
                } else {
                    KeyBound::Unbounded
                }
            } else if r <= -9.2e18 {
                if low {
                    KeyBound::Unbounded
                } else {
                    KeyBound::Empty
                }
            } else if low {
                KeyBound::At(Value::Integer(r.ceil() as i64), true)
            } else {
                KeyBound::At(Value::Integer(r.floor() as i64), true)
            }
        }
        (DataType::Integer, Value::Boolean(b)) => {
            KeyBound::At(Value::Integer(i64::from(b)), inclusive)
        }
        (DataType::Real, Value::Integer(i)) => KeyBound::At(Value::Real(i as f64), true),
        (DataType::Real, Value::Boolean(b)) => {
            KeyBound::At(Value::Real(f64::from(u8::from(b))), inclusive)
        }
        (DataType::Real, Value::Real(r)) if r.is_nan() => KeyBound::Unbounded,
        (_, v) => KeyBound::At(v, inclusive),
    }
}

/// Compute the scan ranges of a key predicate over key columns `key`
/// (type and order), evaluating bounds against `param`.
pub fn key_ranges(
    pred: &KeyPredicate,
    key: &[(DataType, SortOrder)],
    param: &[Value],
    ctx: &Ctx<'_>,
) -> Result<Vec<ScanRange>> {
    let mut lists: Vec<Vec<Value>> = Vec::with_capacity(pred.eq.len());
    for (i, eq) in pred.eq.iter().enumerate() {
        let Some(&(ty, order)) = key.get(i) else {
            break;
        };
        let mut vals = Vec::new();
        match eq {
            KeyEq::IsNull => vals.push(Value::Null),
            KeyEq::Value(e) => {
                if let Some(v) = eq_key(eval(e, param, ctx)?, ty) {
                    vals.push(v);
                }
            }
            KeyEq::In(list) => {
                for e in list {
                    if let Some(v) = eq_key(eval(e, param, ctx)?, ty) {
                        vals.push(v);
                    }
                }
                vals.sort();
                vals.dedup();
                if order == SortOrder::Desc {
                    vals.reverse();
                }
            }
        }
        if vals.is_empty() {
            return Ok(Vec::new());
        }
        lists.push(vals);
    }
    // The bounds on the next column, in key order.
    let k = pred.eq.len();
    let (mut start_b, mut end_b) = (KeyBound::Unbounded, KeyBound::Unbounded);
    if let (Some(r), Some(&(ty, order))) = (&pred.range, key.get(k)) {
        let lo = match &r.low {
            Some((e, inc)) => bound_key(eval(e, param, ctx)?, *inc, ty, true),
            None => KeyBound::Unbounded,
        };
        let hi = match &r.high {
            Some((e, inc)) => bound_key(eval(e, param, ctx)?, *inc, ty, false),
            None => KeyBound::Unbounded,
        };
        if matches!(lo, KeyBound::Empty) || matches!(hi, KeyBound::Empty) {
            return Ok(Vec::new());
        }
        if order == SortOrder::Desc {
            start_b = hi;
            end_b = lo;
        } else {
            start_b = lo;
            end_b = hi;
        }
    }
    // Cartesian product of the equality lists, in key order.
    let mut out = Vec::new();
    let mut idx = vec![0usize; lists.len()];
    loop {
        let prefix: Vec<Value> = lists.iter().zip(&idx).map(|(l, &i)| l[i].clone()).collect();
        let make = |b: &KeyBound| -> Bound<Vec<Value>> {
            match b {
                KeyBound::At(v, inc) => {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    if *inc {
                        Bound::Included(p)
                    } else {
                        Bound::Excluded(p)
                    }
                }
                _ if prefix.is_empty() => Bound::Unbounded,
                _ => Bound::Included(prefix.clone()),
            }
        };
        out.push(ScanRange::new(make(&start_b), make(&end_b)));
        // Advance the odometer.
        let mut pos = lists.len();
        loop {
            if pos == 0 {
                return Ok(out);
            }
            pos -= 1;
            idx[pos] += 1;
            if idx[pos] < lists[pos].len() {
                break;
            }
            idx[pos] = 0;
        }
    }
}

enum Cursor {
    Rows(RowScan),
    Index(IndexRowScan),
}

/// The scan operator.
pub struct ScanOp<'t> {
    ctx: Ctx<'t>,
    table: Arc<TableDef>,
    index: Option<String>,
    ranges: std::vec::IntoIter<ScanRange>,
    cursor: Option<Cursor>,
    filter: Option<Expr>,
    with_rowid: bool,
    direction: Direction,
}

/// Map a table-layer error.
pub fn table_err(e: table_layer::Error) -> SqlError {
    crate::session::map_table_error(e)
}

impl<'t> ScanOp<'t> {
    /// Open `scan`, evaluating its key bounds against `param`.
    pub fn open(scan: &Scan, ctx: &Ctx<'t>, param: &[Value]) -> Result<ScanOp<'t>> {
        let table = Arc::clone(&scan.table);
        let types = table.columns();
        let (index, ranges) = match &scan.access {
            Access::FullScan => (None, vec![ScanRange::all()]),
            Access::PrimaryKey(pred) => {
                let key: Vec<_> = table
                    .primary_key_columns()
                    .iter()
                    .map(|&c| (types[c].data_type, SortOrder::Asc))
                    .collect();
                (None, key_ranges(pred, &key, param, ctx)?)
            }
            Access::Index { index, key: pred } => {
                let key: Vec<_> = index
                    .columns()
                    .iter()
                    .map(|c| (types[c.column].data_type, c.order))
                    .collect();
                (
                    Some(index.name().to_string()),
                    key_ranges(pred, &key, param, ctx)?,
                )
            }
        };
        let mut ranges = ranges;
        if scan.reverse {
            ranges.reverse();
        }
        Ok(ScanOp {
            ctx: ctx.clone(),
            table,
            index,
            ranges: ranges.into_iter(),
            cursor: None,
            filter: scan.filter.clone(),
            with_rowid: scan.with_rowid,
            direction: if scan.reverse {
                Direction::Reverse
            } else {
                Direction::Forward
            },
        })
    }

    /// The next raw row (values, rowid) that passes the filter.
    pub fn next_row(&mut self) -> Result<Option<table_layer::Row>> {
        loop {
            if self.cursor.is_none() {
                let Some(range) = self.ranges.next() else {
                    return Ok(None);
                };
                let txn = self.ctx.env.txn;
                self.cursor = Some(match &self.index {
                    None => Cursor::Rows(
                        txn.scan(self.table.name(), range, self.direction)
                            .map_err(table_err)?,
                    ),
                    Some(ix) => Cursor::Index(
                        txn.index_scan_rows(ix, range, self.direction)
                            .map_err(table_err)?,
                    ),
                });
            }
            let item = match self.cursor.as_mut() {
                Some(Cursor::Rows(s)) => s.next(),
                Some(Cursor::Index(s)) => s.next(),
                None => None,
            };
            let row = match item {
                None => {
                    self.cursor = None;
                    continue;
                }
                Some(r) => r.map_err(table_err)?,
            };
            self.ctx.env.tick()?;
            if let Some(f) = &self.filter {
                if !eval_pred(f, &row.values, &self.ctx)? {
                    continue;
                }
            }
            return Ok(Some(row));
        }
    }
}

impl Operator for ScanOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        Ok(self.next_row()?.map(|r| {
            let mut values = r.values;
            if self.with_rowid {
                values.push(Value::Integer(r.rowid.unwrap_or(0)));
            }
            values
        }))
    }
}
