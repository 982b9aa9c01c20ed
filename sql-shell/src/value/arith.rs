//! Arithmetic with SQLite's rules.
//!
//! - Operands that are text or blobs read their leading number (`'3x'` is 3,
//!   `'abc'` is 0); NULL in, NULL out.
//! - Two integers give an integer; `+ - *` that overflow the i64 range give
//!   the REAL result instead (SQLite does the same); `/` truncates toward
//!   zero; `i64::MIN / -1` gives a REAL.
//! - Division or remainder by zero gives NULL.
//! - `%` works on the integer parts; with a REAL operand the result is REAL.
//! - A REAL result that is NaN (`inf - inf`) becomes NULL.

use super::Value;
use super::number::{Num, parse_prefix};

/// The numeric view of an operand, or `None` for NULL.
pub fn operand(v: &Value) -> Option<Num> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(Num::Int(*i)),
        Value::Real(r) => Some(Num::Real(*r)),
        Value::Boolean(b) => Some(Num::Int(i64::from(*b))),
        Value::Text(s) => Some(parse_prefix(s.as_bytes())),
        Value::Blob(b) => Some(parse_prefix(b)),
    }
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

fn real(r: f64) -> Value {
    if r.is_nan() {
        Value::Null
    } else {
        Value::Real(r)
    }
}

/// Apply `op` to two values.
///
/// ```
/// use sql_shell::value::{arith::{apply, ArithOp}, Value};
/// assert_eq!(apply(ArithOp::Div, &Value::Integer(7), &Value::Integer(2)), Value::Integer(3));
/// assert_eq!(apply(ArithOp::Div, &Value::Integer(7), &Value::Integer(0)), Value::Null);
/// assert_eq!(apply(ArithOp::Add, &Value::Integer(i64::MAX), &Value::Integer(1)),
///            Value::Real(i64::MAX as f64 + 1.0));
/// ```
pub fn apply(op: ArithOp, a: &Value, b: &Value) -> Value {
    let (Some(x), Some(y)) = (operand(a), operand(b)) else {
        return Value::Null;
    };
    match (x, y) {
        (Num::Int(x), Num::Int(y)) => int_op(op, x, y),
        _ => real_op(op, x, y),
    }
}

fn int_op(op: ArithOp, x: i64, y: i64) -> Value {
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div => {
            if y == 0 {
                return Value::Null;
            }
            x.checked_div(y)
        }
        ArithOp::Rem => {
            if y == 0 {
                return Value::Null;
            }
            // i64::MIN % -1 overflows in Rust; mathematically it is 0.
            Some(if y == -1 { 0 } else { x % y })
        }
    };
    match r {
        Some(v) => Value::Integer(v),
        None => real_op(op, Num::Int(x), Num::Int(y)),
    }
}

fn real_op(op: ArithOp, x: Num, y: Num) -> Value {
    let (a, b) = (x.as_f64(), y.as_f64());
    match op {
        ArithOp::Add => real(a + b),
        ArithOp::Sub => real(a - b),
        ArithOp::Mul => real(a * b),
        ArithOp::Div => {
            if b == 0.0 {
                Value::Null
            } else {
                real(a / b)
            }
        }
        ArithOp::Rem => {
            let xi = int_of(x);
            let yi = int_of(y);
            if yi == 0 {
                return Value::Null;
            }
            let r = if yi == -1 { 0 } else { xi % yi };
            Value::Real(r as f64)
        }
    }
}

fn int_of(n: Num) -> i64 {
    match n {
        Num::Int(i) => i,
        Num::Real(r) => super::number::real_to_int(r),
    }
}

/// Unary minus.
///
/// ```
/// use sql_shell::value::{arith::negate, Value};
/// assert_eq!(negate(&Value::Integer(5)), Value::Integer(-5));
/// assert_eq!(negate(&Value::Text("2.5x".into())), Value::Real(-2.5));
/// assert_eq!(negate(&Value::Integer(i64::MIN)), Value::Real(sql_shell::value::number::TWO_63));
/// ```
pub fn negate(v: &Value) -> Value {
    match operand(v) {
        None => Value::Null,
        Some(Num::Int(i)) => match i.checked_neg() {
            Some(n) => Value::Integer(n),
            None => Value::Real(-(i as f64)),
        },
        Some(Num::Real(r)) => Value::Real(-r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_rules() {
        use ArithOp::*;
        let i = Value::Integer;
        assert_eq!(apply(Div, &i(-7), &i(2)), i(-3));
        assert_eq!(apply(Rem, &i(-7), &i(2)), i(-1));
        assert_eq!(apply(Rem, &Value::Real(7.5), &i(2)), Value::Real(1.0));
        assert_eq!(
            apply(Div, &i(i64::MIN), &i(-1)),
            Value::Real(super::super::number::TWO_63)
        );
        assert_eq!(apply(Rem, &i(i64::MIN), &i(-1)), i(0));
        assert_eq!(apply(Add, &Value::Text("3".into()), &i(4)), i(7));
        assert_eq!(apply(Mul, &Value::Text("abc".into()), &i(4)), i(0));
        assert_eq!(
            apply(Div, &Value::Real(1.0), &Value::Real(0.0)),
            Value::Null
        );
        assert_eq!(apply(Add, &Value::Null, &i(1)), Value::Null);
        assert_eq!(
            apply(
                Sub,
                &Value::Real(f64::INFINITY),
                &Value::Real(f64::INFINITY)
            ),
            Value::Null
        );
    }
}
