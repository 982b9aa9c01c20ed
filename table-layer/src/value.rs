//! Typed values and column types.
//!
//! The table layer is strictly typed, like SQLite `STRICT` tables: every value
//! stored in a column is either `NULL` or of the column's [`DataType`]. The SQL
//! layer coerces (`'1'` to `1`, `1` to `1.0`) before it calls in; this layer
//! only checks and reports a [`TypeMismatch`](crate::Error::TypeMismatch).
//!
//! ## Ordering
//! [`Value`] has a total order ([`Ord`]) that is exactly the byte order of the
//! key codec ([`crate::codec::key`]): values of one type compare as SQL
//! compares them, `NULL` sorts first, and values of different types compare
//! by a fixed type rank:
//!
//! ```text
//!   NULL  <  BOOLEAN  <  INTEGER  <  REAL  <  TEXT  <  BLOB
//!            false<true  i64 order   see below  bytewise  bytewise
//! ```
//!
//! Reals follow IEEE order with two documented choices: `-0.0` equals `0.0`
//! (SQL treats them as the same number, so a unique index rejects the pair)
//! and every NaN is one value that sorts after `+inf` (as in PostgreSQL).
//! The type rank is *not* SQLite's cross-type rule (SQLite compares an
//! INTEGER and a REAL numerically); the SQL layer applies its own rule when it
//! compares values of different types, and only needs this order within one
//! column, where all values share a type.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The type of a column.
///
/// ```
/// use table_layer::{DataType, Value};
/// assert_eq!(Value::Integer(3).data_type(), Some(DataType::Integer));
/// assert_eq!(DataType::Text.to_string(), "TEXT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// 64-bit signed integer.
    Integer,
    /// 64-bit IEEE 754 floating point.
    Real,
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Blob,
    /// `true` or `false`.
    Boolean,
}

impl DataType {
    /// The SQL name of the type (`INTEGER`, `REAL`, `TEXT`, `BLOB`, `BOOLEAN`).
    ///
    /// ```
    /// assert_eq!(table_layer::DataType::Real.name(), "REAL");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DataType::Integer => "INTEGER",
            DataType::Real => "REAL",
            DataType::Text => "TEXT",
            DataType::Blob => "BLOB",
            DataType::Boolean => "BOOLEAN",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed SQL value.
///
/// `Eq`, `Ord` and `Hash` follow the byte order of the key codec: values of
/// one type compare as SQL compares them, NULL sorts first,
/// `Real(-0.0) == Real(0.0)`, all NaNs are equal and sort after `+inf`, and
/// values of different types order by type rank
/// `NULL < BOOLEAN < INTEGER < REAL < TEXT < BLOB` (not SQLite's numeric
/// cross-type comparison, which the SQL layer applies itself).
///
/// ```
/// use table_layer::Value;
/// let mut v = vec![Value::Text("b".into()), Value::Null, Value::Integer(-5), Value::Integer(2)];
/// v.sort();
/// assert_eq!(v, vec![Value::Null, Value::Integer(-5), Value::Integer(2), Value::Text("b".into())]);
/// assert_eq!(Value::Real(-0.0), Value::Real(0.0));
/// assert!(Value::Real(f64::NAN) > Value::Real(f64::INFINITY));
/// ```
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// SQL NULL.
    #[default]
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Arbitrary bytes.
    Blob(Vec<u8>),
    /// A boolean.
    Boolean(bool),
}

impl Value {
    /// The type of the value, `None` for NULL.
    ///
    /// ```
    /// use table_layer::{DataType, Value};
    /// assert_eq!(Value::Null.data_type(), None);
    /// assert_eq!(Value::Blob(vec![1]).data_type(), Some(DataType::Blob));
    /// ```
    pub fn data_type(&self) -> Option<DataType> {
        match self {
            Value::Null => None,
            Value::Integer(_) => Some(DataType::Integer),
            Value::Real(_) => Some(DataType::Real),
            Value::Text(_) => Some(DataType::Text),
            Value::Blob(_) => Some(DataType::Blob),
            Value::Boolean(_) => Some(DataType::Boolean),
        }
    }

    /// True for NULL.
    ///
    /// ```
    /// assert!(table_layer::Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when the value may be stored in a column of type `ty`: NULL or a
    /// value of exactly that type (nullability is checked separately).
    ///
    /// ```
    /// use table_layer::{DataType, Value};
    /// assert!(Value::Integer(1).fits(DataType::Integer));
    /// assert!(Value::Null.fits(DataType::Text));
    /// assert!(!Value::Integer(1).fits(DataType::Real));
    /// ```
    pub fn fits(&self, ty: DataType) -> bool {
        match self.data_type() {
            None => true,
            Some(t) => t == ty,
        }
    }

    /// The rank of the value's type in the cross-type order (NULL is 0).
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Integer(_) => 2,
            Value::Real(_) => 3,
            Value::Text(_) => 4,
            Value::Blob(_) => 5,
        }
    }

    /// Compare two values in the total order of the key codec (see
    /// [`Value`]); the same as [`Ord::cmp`].
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use table_layer::Value;
    /// assert_eq!(Value::Null.total_cmp(&Value::Integer(i64::MIN)), Ordering::Less);
    /// assert_eq!(Value::Real(1.5).total_cmp(&Value::Real(-2.0)), Ordering::Greater);
    /// ```
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Real(a), Value::Real(b)) => real_key(*a).cmp(&real_key(*b)),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Blob(a), Value::Blob(b)) => a.cmp(b),
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// SQL-style rendering for messages: text quoted, blobs as `x'..'`,
    /// long values shortened.
    ///
    /// ```
    /// use table_layer::Value;
    /// assert_eq!(Value::Text("it's".into()).to_sql_literal(), "'it''s'");
    /// assert_eq!(Value::Blob(vec![0xab]).to_sql_literal(), "x'ab'");
    /// assert_eq!(Value::Null.to_sql_literal(), "NULL");
    /// ```
    pub fn to_sql_literal(&self) -> String {
        const MAX: usize = 64;
        match self {
            Value::Null => "NULL".into(),
            Value::Integer(i) => i.to_string(),
            Value::Real(r) => format!("{r:?}"),
            Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Value::Text(s) => {
                let short: String = s.chars().take(MAX).collect();
                let more = if short.len() < s.len() { "..." } else { "" };
                format!("'{}{more}'", short.replace('\'', "''"))
            }
            Value::Blob(b) => {
                let hex: String = b.iter().take(MAX).map(|x| format!("{x:02x}")).collect();
                let more = if b.len() > MAX { "..." } else { "" };
                format!("x'{hex}{more}'")
            }
        }
    }
}

/// Map an f64 to a u64 whose unsigned order is the documented real order:
/// `-0.0` folded into `0.0`, every NaN folded into one NaN after `+inf`.
pub(crate) fn real_key(r: f64) -> u64 {
    let r = if r == 0.0 {
        0.0
    } else if r.is_nan() {
        f64::NAN
    } else {
        r
    };
    let bits = r.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Inverse of [`real_key`].
pub(crate) fn real_from_key(k: u64) -> f64 {
    let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(bits)
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.total_cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        self.total_cmp(other)
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Integer(i) => i.hash(state),
            Value::Real(r) => real_key(*r).hash(state),
            Value::Text(s) => s.hash(state),
            Value::Blob(b) => b.hash(state),
            Value::Boolean(b) => b.hash(state),
        }
    }
}

impl fmt::Display for Value {
    /// The same as [`Value::to_sql_literal`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql_literal())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_order_is_documented_order() {
        let seq = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            f64::MIN_POSITIVE,
            1.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in seq.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a == 0.0 && b == 0.0 {
                continue;
            }
            assert!(real_key(a) < real_key(b), "{a} < {b}");
        }
        assert_eq!(real_key(-0.0), real_key(0.0));
        assert_eq!(real_key(f64::NAN), real_key(-f64::NAN));
        for x in seq {
            let back = real_from_key(real_key(x));
            assert!(back == x || (x.is_nan() && back.is_nan()));
        }
    }

    #[test]
    fn type_rank_orders_mixed_values() {
        let v = [
            Value::Null,
            Value::Boolean(false),
            Value::Boolean(true),
            Value::Integer(i64::MAX),
            Value::Real(f64::NEG_INFINITY),
            Value::Text(String::new()),
            Value::Blob(Vec::new()),
        ];
        for w in v.windows(2) {
            assert!(w[0] < w[1], "{:?} < {:?}", w[0], w[1]);
        }
    }
}
