//! Type affinity: how SQLite decides whether to convert before comparing.
//!
//! A column has the affinity of its type (INTEGER, REAL, TEXT, BLOB; our
//! BOOLEAN counts as NUMERIC). `CAST(x AS t)` has the affinity of `t`, a
//! scalar subquery that of its result column, and every other expression
//! (literals, arithmetic, even `+col`) has none. A comparison picks one
//! affinity for both operands:
//!
//! ```text
//!   left \ right   none      TEXT      numeric
//!   none           -         TEXT      numeric
//!   TEXT           TEXT      -         NUMERIC
//!   numeric        numeric   NUMERIC   NUMERIC
//! ```
//!
//! Applying a numeric affinity converts a text that is entirely a
//! well-formed number (`'5'` -> 5); applying TEXT renders a number as text
//! (`5` -> `'5'`). Nothing else converts.

use super::number::{Num, exact_int, parse_whole};
use super::render::real_to_text;
use super::{DataType, Value};

/// An expression's affinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Affinity {
    /// No affinity (literals, most expressions, BLOB columns).
    None,
    /// TEXT affinity.
    Text,
    /// NUMERIC affinity (BOOLEAN columns, `CAST(x AS NUMERIC)`).
    Numeric,
    /// INTEGER affinity.
    Integer,
    /// REAL affinity.
    Real,
}

impl Affinity {
    /// The affinity of a column of type `t`.
    pub fn of_type(t: DataType) -> Affinity {
        match t {
            DataType::Integer => Affinity::Integer,
            DataType::Real => Affinity::Real,
            DataType::Text => Affinity::Text,
            DataType::Blob => Affinity::None,
            DataType::Boolean => Affinity::Numeric,
        }
    }

    /// SQLite's rule for a declared type name (`VARCHAR(8)` -> TEXT, ...).
    pub fn of_type_name(name: &str) -> Affinity {
        let n = name.to_ascii_uppercase();
        if n.contains("INT") {
            Affinity::Integer
        } else if n.contains("CHAR") || n.contains("CLOB") || n.contains("TEXT") {
            Affinity::Text
        } else if n.contains("BLOB") || n.is_empty() {
            Affinity::None
        } else if n.contains("REAL") || n.contains("FLOA") || n.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    /// True for INTEGER, REAL and NUMERIC.
    pub fn is_numeric(self) -> bool {
        matches!(self, Affinity::Integer | Affinity::Real | Affinity::Numeric)
    }

    /// The affinity a comparison between operands of affinities `a` and `b`
    /// applies to both of them (see the module table).
    pub fn for_comparison(a: Affinity, b: Affinity) -> Affinity {
        match (a, b) {
            (Affinity::None, x) | (x, Affinity::None) => x,
            (x, y) if x.is_numeric() || y.is_numeric() => Affinity::Numeric,
            _ => Affinity::Text,
        }
    }

    /// Apply this affinity to `v` for a comparison (see the module docs).
    pub fn apply(self, v: Value) -> Value {
        match self {
            Affinity::None => v,
            Affinity::Text => match v {
                Value::Integer(i) => Value::Text(i.to_string()),
                Value::Real(r) => Value::Text(real_to_text(r)),
                Value::Boolean(b) => Value::Text(i64::from(b).to_string()),
                other => other,
            },
            Affinity::Numeric | Affinity::Integer | Affinity::Real => match v {
                Value::Text(s) => match parse_whole(s.as_bytes()) {
                    Some(Num::Int(i)) if self == Affinity::Real => Value::Real(i as f64),
                    Some(Num::Int(i)) => Value::Integer(i),
                    Some(Num::Real(r)) => match exact_int(r) {
                        Some(i) if self != Affinity::Real => Value::Integer(i),
                        _ => Value::Real(r),
                    },
                    None => Value::Text(s),
                },
                other => other,
            },
        }
    }

    /// Like [`apply`](Self::apply) on a borrowed value; returns `None` when
    /// the value is unchanged (saves a clone in the common case).
    pub fn apply_ref(self, v: &Value) -> Option<Value> {
        match (self, v) {
            (Affinity::None, _) => None,
            (Affinity::Text, Value::Integer(_) | Value::Real(_) | Value::Boolean(_)) => {
                Some(self.apply(v.clone()))
            }
            (a, Value::Text(_)) if a.is_numeric() => {
                let out = self.apply(v.clone());
                if matches!(out, Value::Text(_)) {
                    None
                } else {
                    Some(out)
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_affinity_table() {
        use Affinity::*;
        assert_eq!(Affinity::for_comparison(None, None), None);
        assert_eq!(Affinity::for_comparison(Text, None), Text);
        assert_eq!(Affinity::for_comparison(None, Integer), Integer);
        assert_eq!(Affinity::for_comparison(Text, Real), Numeric);
        assert_eq!(Affinity::for_comparison(Text, Text), Text);
    }

    #[test]
    fn applying_converts_only_lossless_forms() {
        assert_eq!(Affinity::Integer.apply("5".into()), Value::Integer(5));
        assert_eq!(Affinity::Integer.apply(" 5.0 ".into()), Value::Integer(5));
        assert_eq!(Affinity::Real.apply("5".into()), Value::Real(5.0));
        assert_eq!(
            Affinity::Integer.apply("5x".into()),
            Value::Text("5x".into())
        );
        assert_eq!(
            Affinity::Text.apply(Value::Integer(5)),
            Value::Text("5".into())
        );
        assert_eq!(
            Affinity::Text.apply(Value::Real(0.5)),
            Value::Text("0.5".into())
        );
        assert_eq!(Affinity::of_type_name("VARCHAR(8)"), Affinity::Text);
        assert_eq!(Affinity::of_type_name("FLOAT"), Affinity::Real);
        assert_eq!(Affinity::of_type_name("BOOLEAN"), Affinity::Numeric);
    }
}
