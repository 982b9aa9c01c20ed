//! Comparing values as SQLite does, after affinity has been applied.
//!
//! Values of different storage classes order as
//! `NULL < numbers < TEXT < BLOB`; integers and reals compare by numeric
//! value (exactly, even beyond 2^53); text compares bytewise (the BINARY
//! collation); BOOLEAN is the integer 0 or 1.
//!
//! [`GroupKey`] is the equality GROUP BY, DISTINCT and hash joins use: two
//! values are the same key exactly when they compare equal here, so `1` and
//! `1.0` group together while `1` and `'1'` do not.

use std::cmp::Ordering;

use super::Value;

/// Compare an integer with a real exactly.
pub fn int_real_cmp(i: i64, r: f64) -> Ordering {
    if r.is_nan() {
        return Ordering::Greater;
    }
    if r < -super::number::TWO_63 {
        return Ordering::Greater;
    }
    if r >= super::number::TWO_63 {
        return Ordering::Less;
    }
    // r is within the i64 range: compare the integer parts, then fractions.
    let t = r.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            let f = r - t;
            if f > 0.0 {
                Ordering::Less
            } else if f < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

fn class(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Integer(_) | Value::Real(_) | Value::Boolean(_) => 1,
        Value::Text(_) => 2,
        Value::Blob(_) => 3,
    }
}

/// SQLite's order of two values (NULL sorts first; use [`sql_cmp`] for the
/// three-valued comparison operators).
///
/// ```
/// use std::cmp::Ordering;
/// use sql_shell::value::{compare::cmp, Value};
/// assert_eq!(cmp(&Value::Integer(1), &Value::Real(1.0)), Ordering::Equal);
/// assert_eq!(cmp(&Value::Integer(99), &Value::Text("1".into())), Ordering::Less);
/// assert_eq!(cmp(&Value::Null, &Value::Integer(-5)), Ordering::Less);
/// ```
pub fn cmp(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    match (a, b) {
        (Integer(x), Integer(y)) => x.cmp(y),
        (Real(x), Real(y)) => x
            .partial_cmp(y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
        (Integer(x), Real(y)) => int_real_cmp(*x, *y),
        (Real(x), Integer(y)) => int_real_cmp(*y, *x).reverse(),
        (Boolean(x), _) => cmp(&Integer(i64::from(*x)), b),
        (_, Boolean(y)) => cmp(a, &Integer(i64::from(*y))),
        (Text(x), Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Blob(x), Blob(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

/// The comparison operators' view: `None` when either side is NULL.
pub fn sql_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        None
    } else {
        Some(cmp(a, b))
    }
}

/// A value normalised so that the table layer's `Eq`/`Hash` (a total order
/// within each type) agree with SQLite's equality: integral reals become
/// integers and booleans become 0/1.
pub fn normalize(v: Value) -> Value {
    match v {
        Value::Real(r) => match super::number::exact_int(r) {
            Some(i) => Value::Integer(i),
            None => Value::Real(r),
        },
        Value::Boolean(b) => Value::Integer(i64::from(b)),
        other => other,
    }
}

/// A row of normalised values usable as a hash-map key for GROUP BY,
/// DISTINCT and hash joins.
pub type GroupKey = Vec<Value>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_type_order() {
        let v = [
            Value::Null,
            Value::Integer(i64::MIN),
            Value::Real(-1.5),
            Value::Boolean(false),
            Value::Real(0.5),
            Value::Integer(1),
            Value::Real(1e300),
            Value::Text(String::new()),
            Value::Text("a".into()),
            Value::Blob(vec![]),
        ];
        for w in v.windows(2) {
            assert_eq!(cmp(&w[0], &w[1]), Ordering::Less, "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(
            int_real_cmp(i64::MAX, super::super::number::TWO_63),
            Ordering::Less
        );
        assert_eq!(
            int_real_cmp(9007199254740993, 9007199254740992.0),
            Ordering::Greater
        );
        assert_eq!(normalize(Value::Real(2.0)), Value::Integer(2));
    }
}
