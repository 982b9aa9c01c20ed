//! Evaluating bound expressions over a row.
//!
//! [`eval`] walks the expression tree; the hot cases (column reads,
//! literals, comparisons, arithmetic) borrow where they can and allocate
//! only for the result. NULL propagates as SQL says; AND/OR are three-valued
//! and short-circuit. Subqueries run through the [`Ctx`]: an uncorrelated one
//! is computed once per statement and cached, a correlated one runs again
//! with the current row pushed as its outer row.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::rc::Rc;

use super::functions::{call, like};
use super::{Ctx, SubResult};
use crate::error::{Result, SqlError};
use crate::planner::expr::{BitOp, CmpOp, Expr, Slot};
use crate::value::affinity::Affinity;
use crate::value::arith::{apply, negate, operand};
use crate::value::cast::cast;
use crate::value::compare::{normalize, sql_cmp};
use crate::value::number::Num;
use crate::value::render::to_text;
use crate::value::{Value, from_bool, truth};

fn cmp_result(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::NotEq => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::LtEq => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::GtEq => o != Ordering::Less,
    }
}

/// Compare two values under a comparison affinity; `None` when either is
/// NULL.
pub fn compare_with(a: &Value, b: &Value, aff: Affinity) -> Option<Ordering> {
    if aff == Affinity::None {
        return sql_cmp(a, b);
    }
    let ca = aff.apply_ref(a);
    let cb = aff.apply_ref(b);
    sql_cmp(ca.as_ref().unwrap_or(a), cb.as_ref().unwrap_or(b))
}

/// Evaluate `e` over `row`.
pub fn eval(e: &Expr, row: &[Value], ctx: &Ctx<'_>) -> Result<Value> {
    crate::limits::deep(|| eval_level(e, row, ctx))
}

fn eval_level(e: &Expr, row: &[Value], ctx: &Ctx<'_>) -> Result<Value> {
    Ok(match e {
        Expr::Literal(v) => v.clone(),
        Expr::Column(Slot::Local(i)) => row.get(*i).cloned().unwrap_or(Value::Null),
        Expr::Column(Slot::Outer { depth, index }) => ctx.outer_value(*depth, *index),
        Expr::Compare {
            op,
            left,
            right,
            affinity,
        } => {
            let a = eval_ref(left, row, ctx)?;
            let b = eval_ref(right, row, ctx)?;
            match compare_with(a.get(), b.get(), *affinity) {
                None => Value::Null,
                Some(o) => from_bool(cmp_result(*op, o)),
            }
        }
        Expr::And(a, b) => {
            let x = truth(&eval(a, row, ctx)?);
            if x == Some(false) {
                return Ok(from_bool(false));
            }
            let y = truth(&eval(b, row, ctx)?);
            match (x, y) {
                (_, Some(false)) => from_bool(false),
                (Some(true), Some(true)) => from_bool(true),
                _ => Value::Null,
            }
        }
        Expr::Or(a, b) => {
            let x = truth(&eval(a, row, ctx)?);
            if x == Some(true) {
                return Ok(from_bool(true));
            }
            let y = truth(&eval(b, row, ctx)?);
            match (x, y) {
                (_, Some(true)) => from_bool(true),
                (Some(false), Some(false)) => from_bool(false),
                _ => Value::Null,
            }
        }
        Expr::Not(a) => match truth(&eval(a, row, ctx)?) {
            None => Value::Null,
            Some(b) => from_bool(!b),
        },
        Expr::Arith(op, a, b) => {
            let x = eval_ref(a, row, ctx)?;
            let y = eval_ref(b, row, ctx)?;
            apply(*op, x.get(), y.get())
        }
        Expr::Negate(a) => negate(eval_ref(a, row, ctx)?.get()),
        Expr::Plus(a) => eval(a, row, ctx)?,
        Expr::BitNot(a) => match operand(eval_ref(a, row, ctx)?.get()) {
            None => Value::Null,
            Some(n) => Value::Integer(!int_of(n)),
        },
        Expr::Bit(op, a, b) => {
            let x = operand(eval_ref(a, row, ctx)?.get());
            let y = operand(eval_ref(b, row, ctx)?.get());
            match (x, y) {
                (Some(x), Some(y)) => Value::Integer(bit(*op, int_of(x), int_of(y))),
                _ => Value::Null,
            }
        }
        Expr::Concat(a, b) => {
            let x = eval(a, row, ctx)?;
            let y = eval(b, row, ctx)?;
            if x.is_null() || y.is_null() {
                Value::Null
            } else {
                let (x, y) = (to_text(&x), to_text(&y));
                crate::limits::check_value_len(x.len().saturating_add(y.len()))?;
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(&x);
                s.push_str(&y);
                Value::Text(s)
            }
        }
        Expr::Is {
            left,
            right,
            negated,
            affinity,
        } => {
            let a = eval(left, row, ctx)?;
            let b = eval(right, row, ctx)?;
            let same = match (a.is_null(), b.is_null()) {
                (true, true) => true,
                (false, false) => compare_with(&a, &b, *affinity) == Some(Ordering::Equal),
                _ => false,
            };
            from_bool(same != *negated)
        }
        Expr::Between {
            expr,
            low,
            high,
            low_aff,
            high_aff,
        } => {
            // `x >= low AND x <= high`, three-valued, with `x` evaluated
            // once.
            let x = eval(expr, row, ctx)?;
            let lo = eval_ref(low, row, ctx)?;
            let ge = compare_with(&x, lo.get(), *low_aff).map(|o| o != Ordering::Less);
            if ge == Some(false) {
                return Ok(from_bool(false));
            }
            let hi = eval_ref(high, row, ctx)?;
            let le = compare_with(&x, hi.get(), *high_aff).map(|o| o != Ordering::Greater);
            match (ge, le) {
                (_, Some(false)) => from_bool(false),
                (Some(true), Some(true)) => from_bool(true),
                _ => Value::Null,
            }
        }
        Expr::IsNull(a, negated) => from_bool(eval_ref(a, row, ctx)?.get().is_null() != *negated),
        Expr::InList {
            expr,
            list,
            negated,
            affinity,
        } => {
            if list.is_empty() {
                return Ok(from_bool(*negated));
            }
            let x = eval(expr, row, ctx)?;
            if x.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                let v = eval_ref(item, row, ctx)?;
                match compare_with(&x, v.get(), *affinity) {
                    None => saw_null = true,
                    Some(Ordering::Equal) => return Ok(from_bool(!*negated)),
                    Some(_) => {}
                }
            }
            if saw_null {
                Value::Null
            } else {
                from_bool(*negated)
            }
        }
        Expr::InSubquery {
            expr,
            subquery,
            negated,
            affinity,
        } => {
            let x = eval(expr, row, ctx)?;
            let set = ctx.subquery_set(*subquery, *affinity, row)?;
            if set.values.is_empty() && !set.has_null {
                return Ok(from_bool(*negated));
            }
            if x.is_null() {
                return Ok(Value::Null);
            }
            let key = normalize(affinity.apply(x));
            if set.values.contains(&key) {
                from_bool(!*negated)
            } else if set.has_null {
                Value::Null
            } else {
                from_bool(*negated)
            }
        }
        Expr::Exists { subquery, negated } => {
            let exists = ctx.subquery_exists(*subquery, row)?;
            from_bool(exists != *negated)
        }
        Expr::ScalarSubquery(i) => ctx.subquery_scalar(*i, row)?,
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            let x = eval(expr, row, ctx)?;
            let p = eval(pattern, row, ctx)?;
            let esc = match escape {
                Some(e) => Some(eval(e, row, ctx)?),
                None => None,
            };
            match like(&x, &p, esc.as_ref())? {
                None => Value::Null,
                Some(m) => from_bool(m != *negated),
            }
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
            affinity,
        } => {
            match operand {
                Some(op) => {
                    let v = eval(op, row, ctx)?;
                    for (w, t) in whens {
                        let wv = eval(w, row, ctx)?;
                        if compare_with(&v, &wv, *affinity) == Some(Ordering::Equal) {
                            return eval(t, row, ctx);
                        }
                    }
                }
                None => {
                    for (w, t) in whens {
                        if truth(&eval(w, row, ctx)?) == Some(true) {
                            return eval(t, row, ctx);
                        }
                    }
                }
            }
            match otherwise {
                Some(o) => eval(o, row, ctx)?,
                None => Value::Null,
            }
        }
        Expr::Cast(a, target) => cast(eval(a, row, ctx)?, *target),
        Expr::Function(f, args) => call(*f, args, row, ctx)?,
    })
}

/// A value that is either borrowed from the row or computed.
pub enum ValRef<'r> {
    /// Borrowed.
    Borrowed(&'r Value),
    /// Computed.
    Owned(Value),
}

impl ValRef<'_> {
    /// The value.
    pub fn get(&self) -> &Value {
        match self {
            ValRef::Borrowed(v) => v,
            ValRef::Owned(v) => v,
        }
    }
}

static NULL: Value = Value::Null;

/// Evaluate without cloning column values and literals.
pub fn eval_ref<'r>(e: &'r Expr, row: &'r [Value], ctx: &Ctx<'_>) -> Result<ValRef<'r>> {
    Ok(match e {
        Expr::Literal(v) => ValRef::Borrowed(v),
        Expr::Column(Slot::Local(i)) => ValRef::Borrowed(row.get(*i).unwrap_or(&NULL)),
        other => ValRef::Owned(eval(other, row, ctx)?),
    })
}

/// Evaluate a predicate: true only when the result is true (not NULL).
pub fn eval_pred(e: &Expr, row: &[Value], ctx: &Ctx<'_>) -> Result<bool> {
    Ok(truth(eval_ref(e, row, ctx)?.get()) == Some(true))
}

fn int_of(n: Num) -> i64 {
    match n {
        Num::Int(i) => i,
        Num::Real(r) => crate::value::number::real_to_int(r),
    }
}

fn bit(op: BitOp, a: i64, b: i64) -> i64 {
    match op {
        BitOp::And => a & b,
        BitOp::Or => a | b,
        BitOp::ShiftLeft | BitOp::ShiftRight => {
            // SQLite: a negative shift shifts the other way; 64 or more
            // shifts everything out.
            let (left, n) = match (op, b < 0) {
                (BitOp::ShiftLeft, false) | (BitOp::ShiftRight, true) => (true, b.unsigned_abs()),
                _ => (false, b.unsigned_abs()),
            };
            if n >= 64 {
                if left || a >= 0 { 0 } else { -1 }
            } else if left {
                ((a as u64) << n) as i64
            } else {
                a >> n
            }
        }
    }
}

/// The set of a subquery's results, for IN.
pub struct InSet {
    /// Normalised values with the comparison affinity applied.
    pub values: HashSet<Value>,
    /// Whether a NULL was among the results.
    pub has_null: bool,
}

impl InSet {
    /// Build from the first column of `rows`.
    pub fn build(rows: &[Vec<Value>], aff: Affinity) -> InSet {
        let mut values = HashSet::with_capacity(rows.len());
        let mut has_null = false;
        for r in rows {
            match r.first() {
                None | Some(Value::Null) => has_null = true,
                Some(v) => {
                    values.insert(normalize(aff.apply(v.clone())));
                }
            }
        }
        InSet { values, has_null }
    }
}

impl SubResult {
    /// The cached rows as an IN set for `aff` (built on first use).
    pub fn in_set(&self, aff: Affinity) -> Rc<InSet> {
        let mut sets = self.sets.borrow_mut();
        if let Some((_, s)) = sets.iter().find(|(a, _)| *a == aff) {
            return Rc::clone(s);
        }
        let s = Rc::new(InSet::build(&self.rows, aff));
        sets.push((aff, Rc::clone(&s)));
        s
    }
}

/// An error for a misused value.
pub fn misuse(msg: impl Into<String>) -> SqlError {
    SqlError::runtime(msg)
}
