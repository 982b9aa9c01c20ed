//! SQLite's value semantics over the table layer's typed [`Value`].
//!
//! The table layer stores strictly typed values; SQL expressions follow
//! SQLite's rules, which are defined over five storage classes and a set of
//! conversions. This folder holds those rules, one concept per module:
//!
//! ```text
//!   number    text -> number parsing (whole-string and prefix forms)
//!   affinity  column affinities and how a comparison picks one
//!   compare   ordering of values of different types (numbers < text < blob)
//!   arith     + - * / % with SQLite's integer/real rules
//!   cast      CAST(x AS type) and storing a value in a typed column
//!   render    SQLite's text forms of numbers (%!.15g, %.3f with 16 digits)
//! ```
//!
//! BOOLEAN values (which SQLite does not have) behave as the integers 0 and 1
//! everywhere in expressions.

pub mod affinity;
pub mod arith;
pub mod cast;
pub mod compare;
pub mod number;
pub mod render;

pub use table_layer::{DataType, Value};

/// A row of values, as operators pass them along.
pub type Row = Vec<Value>;

/// SQL truth of a value: NULL is unknown (`None`), numbers are true when not
/// zero, text and blobs convert to a number first (SQLite's rule).
pub fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i != 0),
        Value::Real(r) => Some(*r != 0.0),
        Value::Boolean(b) => Some(*b),
        Value::Text(s) => Some(number::prefix_real(s.as_bytes()) != 0.0),
        Value::Blob(b) => Some(number::prefix_real(b) != 0.0),
    }
}

/// The integer 1 or 0 for a boolean result (SQLite has no boolean type).
pub fn from_bool(b: bool) -> Value {
    Value::Integer(i64::from(b))
}

/// SQLite's `typeof()` name of a value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Integer(_) | Value::Boolean(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}
