//! `CAST(x AS type)` and storing values in typed columns.
//!
//! CAST follows SQLite: the target type name picks an affinity by SQLite's
//! substring rule (so `SIGNED` and `DECIMAL` are NUMERIC), text converts by
//! its leading number (`CAST('12abc' AS INTEGER)` is 12), reals truncate
//! toward zero and saturate, NULL stays NULL.
//!
//! Storing is stricter, like a SQLite STRICT table: a value is converted to
//! the column's type only when nothing is lost (`'12'` or `12.0` into an
//! INTEGER column, `5` into a REAL column, any number into a TEXT column);
//! anything else is a type error naming the column and the value.

use super::affinity::Affinity;
use super::number::{Num, exact_int, parse_prefix, parse_whole};
use super::render::{to_f64, to_i64, to_text};
use super::{DataType, Value};

/// The target of a CAST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastTarget {
    /// By SQLite affinity of the type name.
    Affinity(Affinity),
    /// Our BOOLEAN type.
    Boolean,
}

impl CastTarget {
    /// The target named by a SQL type name.
    pub fn from_type_name(name: &str) -> CastTarget {
        let n = name.to_ascii_uppercase();
        if n.starts_with("BOOL") {
            CastTarget::Boolean
        } else {
            CastTarget::Affinity(Affinity::of_type_name(&n))
        }
    }

    /// The affinity an expression `CAST(x AS this)` has.
    pub fn affinity(self) -> Affinity {
        match self {
            CastTarget::Affinity(a) => a,
            CastTarget::Boolean => Affinity::Numeric,
        }
    }
}

/// Evaluate `CAST(v AS target)`.
///
/// ```
/// use sql_shell::value::{cast::{cast, CastTarget}, affinity::Affinity, Value};
/// let int = CastTarget::Affinity(Affinity::Integer);
/// assert_eq!(cast(Value::Text("12abc".into()), int), Value::Integer(12));
/// assert_eq!(cast(Value::Real(-3.9), int), Value::Integer(-3));
/// let text = CastTarget::Affinity(Affinity::Text);
/// assert_eq!(cast(Value::Real(2.0), text), Value::Text("2.0".into()));
/// ```
pub fn cast(v: Value, target: CastTarget) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    match target {
        CastTarget::Boolean => Value::Boolean(to_f64(&v) != 0.0),
        CastTarget::Affinity(Affinity::Integer) => Value::Integer(to_i64(&v)),
        CastTarget::Affinity(Affinity::Real) => Value::Real(to_f64(&v)),
        CastTarget::Affinity(Affinity::Text) => match v {
            Value::Text(s) => Value::Text(s),
            other => Value::Text(to_text(&other).into_owned()),
        },
        CastTarget::Affinity(Affinity::None) => match v {
            Value::Blob(b) => Value::Blob(b),
            Value::Text(s) => Value::Blob(s.into_bytes()),
            other => Value::Blob(to_text(&other).into_owned().into_bytes()),
        },
        CastTarget::Affinity(Affinity::Numeric) => match v {
            Value::Text(s) => numeric_of_bytes(s.as_bytes()),
            Value::Blob(b) => numeric_of_bytes(&b),
            Value::Boolean(b) => Value::Integer(i64::from(b)),
            other => other,
        },
    }
}

fn numeric_of_bytes(b: &[u8]) -> Value {
    match parse_prefix(b) {
        Num::Int(i) => Value::Integer(i),
        Num::Real(r) => match exact_int(r) {
            Some(i) => Value::Integer(i),
            None => Value::Real(r),
        },
    }
}

/// Convert `v` for storage in a column of type `ty`, losslessly, or explain
/// why not (the caller adds the table and column to the message).
///
/// ```
/// use sql_shell::value::{cast::coerce_for_column, DataType, Value};
/// assert_eq!(coerce_for_column(Value::Text("12".into()), DataType::Integer), Ok(Value::Integer(12)));
/// assert_eq!(coerce_for_column(Value::Integer(5), DataType::Real), Ok(Value::Real(5.0)));
/// assert_eq!(coerce_for_column(Value::Integer(5), DataType::Text), Ok(Value::Text("5".into())));
/// assert!(coerce_for_column(Value::Text("abc".into()), DataType::Integer).is_err());
/// ```
pub fn coerce_for_column(v: Value, ty: DataType) -> Result<Value, String> {
    let fail = |v: &Value| {
        Err(format!(
            "cannot store {} value {} in a {ty} column",
            super::type_name(v),
            v.to_sql_literal()
        ))
    };
    match (ty, v) {
        (_, Value::Null) => Ok(Value::Null),
        (DataType::Integer, Value::Integer(i)) => Ok(Value::Integer(i)),
        (DataType::Integer, Value::Boolean(b)) => Ok(Value::Integer(i64::from(b))),
        (DataType::Integer, Value::Real(r)) => match exact_int(r) {
            Some(i) => Ok(Value::Integer(i)),
            None => fail(&Value::Real(r)),
        },
        (DataType::Integer, Value::Text(s)) => match parse_whole(s.as_bytes()) {
            Some(Num::Int(i)) => Ok(Value::Integer(i)),
            Some(Num::Real(r)) if exact_int(r).is_some() => Ok(Value::Integer(r as i64)),
            _ => fail(&Value::Text(s)),
        },
        (DataType::Real, Value::Real(r)) => Ok(Value::Real(r)),
        (DataType::Real, Value::Integer(i)) => Ok(Value::Real(i as f64)),
        (DataType::Real, Value::Boolean(b)) => Ok(Value::Real(f64::from(u8::from(b)))),
        (DataType::Real, Value::Text(s)) => match parse_whole(s.as_bytes()) {
            Some(n) => Ok(Value::Real(n.as_f64())),
            None => fail(&Value::Text(s)),
        },
        (DataType::Text, Value::Text(s)) => Ok(Value::Text(s)),
        (DataType::Text, v @ (Value::Integer(_) | Value::Real(_) | Value::Boolean(_))) => {
            Ok(Value::Text(to_text(&v).into_owned()))
        }
        (DataType::Blob, Value::Blob(b)) => Ok(Value::Blob(b)),
        (DataType::Blob, Value::Text(s)) => Ok(Value::Blob(s.into_bytes())),
        (DataType::Boolean, Value::Boolean(b)) => Ok(Value::Boolean(b)),
        (DataType::Boolean, Value::Integer(i)) if i == 0 || i == 1 => Ok(Value::Boolean(i == 1)),
        (DataType::Boolean, Value::Real(r)) if r == 0.0 || r == 1.0 => Ok(Value::Boolean(r == 1.0)),
        (DataType::Boolean, Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Boolean(true)),
            "false" | "0" => Ok(Value::Boolean(false)),
            _ => fail(&Value::Text(s)),
        },
        (_, v) => fail(&v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_targets_by_name() {
        assert_eq!(
            CastTarget::from_type_name("SIGNED"),
            CastTarget::Affinity(Affinity::Numeric)
        );
        assert_eq!(
            CastTarget::from_type_name("VARCHAR(10)"),
            CastTarget::Affinity(Affinity::Text)
        );
        let num = CastTarget::from_type_name("NUMERIC");
        assert_eq!(cast(Value::Text("3.0".into()), num), Value::Integer(3));
        assert_eq!(cast(Value::Text("1.5x".into()), num), Value::Real(1.5));
        assert_eq!(cast(Value::Real(2.5), num), Value::Real(2.5));
        assert_eq!(cast(Value::Null, num), Value::Null);
    }

    #[test]
    fn storing_is_lossless_or_an_error() {
        assert_eq!(
            coerce_for_column(Value::Real(3.0), DataType::Integer),
            Ok(Value::Integer(3))
        );
        assert!(coerce_for_column(Value::Real(3.5), DataType::Integer).is_err());
        assert_eq!(
            coerce_for_column(Value::Text(" 2.5 ".into()), DataType::Real),
            Ok(Value::Real(2.5))
        );
        assert_eq!(
            coerce_for_column(Value::Integer(1), DataType::Boolean),
            Ok(Value::Boolean(true))
        );
        assert!(coerce_for_column(Value::Integer(2), DataType::Boolean).is_err());
        assert!(coerce_for_column(Value::Blob(vec![1]), DataType::Text).is_err());
    }
}
