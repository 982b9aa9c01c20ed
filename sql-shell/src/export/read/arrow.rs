//! Arrow record batches (from Parquet or Arrow IPC files) to typed values.
//!
//! Each file column is checked once against its target column's type
//! ([`compatible`]), then each value is converted ([`value_at`]). Accepted:
//!
//! ```text
//!   INTEGER  Int8..Int64, UInt8..UInt64 (UInt64 above i64::MAX is an error)
//!   REAL     Float16/32/64, and any integer type (as a double)
//!   TEXT     Utf8, LargeUtf8, Utf8View
//!   BLOB     Binary, LargeBinary, BinaryView, FixedSizeBinary, and text types
//!   BOOLEAN  Boolean
//!   any      Null (all NULL); Dictionary(_, V) when V is accepted
//! ```
//!
//! Other types (dates, timestamps, decimals, lists, structs) are refused
//! up front with the column named: CAST them in the producing tool.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_schema::DataType as A;
use table_layer::{DataType, Value};

/// Whether values of Arrow type `a` can load into a column of type `t`.
pub(crate) fn compatible(a: &A, t: DataType) -> bool {
    match a {
        A::Null => true,
        A::Dictionary(_, v) => compatible(v, t),
        _ => match t {
            DataType::Integer => is_integer(a),
            DataType::Real => is_integer(a) || matches!(a, A::Float16 | A::Float32 | A::Float64),
            DataType::Text => is_text(a),
            DataType::Blob => {
                is_text(a)
                    || matches!(
                        a,
                        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_)
                    )
            }
            DataType::Boolean => matches!(a, A::Boolean),
        },
    }
}

fn is_integer(a: &A) -> bool {
    matches!(
        a,
        A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64
    )
}

fn is_text(a: &A) -> bool {
    matches!(a, A::Utf8 | A::LargeUtf8 | A::Utf8View)
}

/// A value that does not convert: its text and why.
pub(crate) type Misfit = (String, String);

fn misfit(value: impl ToString, why: &str) -> Misfit {
    (value.to_string(), why.to_owned())
}

/// Value `i` of an integer array as an i64.
fn int_at(a: &dyn Array, i: usize) -> Result<i64, Misfit> {
    macro_rules! get {
        ($t:ty) => {
            a.as_primitive_opt::<$t>().map(|p| i64::from(p.value(i)))
        };
    }
    let v = match a.data_type() {
        A::Int8 => get!(Int8Type),
        A::Int16 => get!(Int16Type),
        A::Int32 => get!(Int32Type),
        A::Int64 => a.as_primitive_opt::<Int64Type>().map(|p| p.value(i)),
        A::UInt8 => get!(UInt8Type),
        A::UInt16 => get!(UInt16Type),
        A::UInt32 => get!(UInt32Type),
        A::UInt64 => {
            let v = a.as_primitive_opt::<UInt64Type>().map(|p| p.value(i));
            match v {
                Some(u) => Some(i64::try_from(u).map_err(|_| {
                    misfit(u, "larger than the largest INTEGER (9223372036854775807)")
                })?),
                None => None,
            }
        }
        _ => None,
    };
    v.ok_or_else(|| misfit(a.data_type(), "not an integer column"))
}

/// Value `i` of `a` converted for a column of type `t` (`a`'s type must be
/// [`compatible`]). Bounds are the caller's: `i < a.len()`.
pub(crate) fn value_at(a: &dyn Array, i: usize, t: DataType) -> Result<Value, Misfit> {
    if matches!(a.data_type(), A::Null) || a.is_null(i) {
        return Ok(Value::Null);
    }
    if let Some(d) = a.as_any_dictionary_opt() {
        let key = int_at(d.keys(), i)?;
        let values = d.values();
        return match usize::try_from(key) {
            Ok(k) if k < values.len() => value_at(values.as_ref(), k, t),
            _ => Err(misfit(key, "a dictionary key out of range (damaged file)")),
        };
    }
    let unsupported = || misfit(a.data_type(), "a value of an unsupported type");
    Ok(match t {
        DataType::Integer => Value::Integer(int_at(a, i)?),
        DataType::Real => match a.data_type() {
            A::Float64 => Value::Real(a.as_primitive::<Float64Type>().value(i)),
            A::Float32 => Value::Real(f64::from(a.as_primitive::<Float32Type>().value(i))),
            A::Float16 => Value::Real(a.as_primitive::<Float16Type>().value(i).to_f64()),
            _ => Value::Real(int_at(a, i)? as f64),
        },
        DataType::Text => Value::Text(text_at(a, i).ok_or_else(unsupported)?.to_owned()),
        DataType::Blob => {
            let bytes = match a.data_type() {
                A::Binary => a.as_binary_opt::<i32>().map(|b| b.value(i)),
                A::LargeBinary => a.as_binary_opt::<i64>().map(|b| b.value(i)),
                A::BinaryView => a.as_binary_view_opt().map(|b| b.value(i)),
                A::FixedSizeBinary(_) => a.as_fixed_size_binary_opt().map(|b| b.value(i)),
                _ => text_at(a, i).map(str::as_bytes),
            };
            Value::Blob(bytes.ok_or_else(unsupported)?.to_vec())
        }
        DataType::Boolean => Value::Boolean(
            a.as_boolean_opt()
                .map(|b| b.value(i))
                .ok_or_else(unsupported)?,
        ),
    })
}

fn text_at(a: &dyn Array, i: usize) -> Option<&str> {
    match a.data_type() {
        A::Utf8 => a.as_string_opt::<i32>().map(|s| s.value(i)),
        A::LargeUtf8 => a.as_string_opt::<i64>().map(|s| s.value(i)),
        A::Utf8View => a.as_string_view_opt().map(|s| s.value(i)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, DictionaryArray, Float32Array, Int8Array, LargeStringArray, NullArray,
        UInt64Array,
    };

    use super::*;

    #[test]
    fn conversions() {
        let a: ArrayRef = Arc::new(Int8Array::from(vec![Some(-3), None]));
        assert!(compatible(a.data_type(), DataType::Integer));
        assert!(compatible(a.data_type(), DataType::Real));
        assert!(!compatible(a.data_type(), DataType::Text));
        assert_eq!(
            value_at(&a, 0, DataType::Integer).unwrap(),
            Value::Integer(-3)
        );
        assert_eq!(value_at(&a, 0, DataType::Real).unwrap(), Value::Real(-3.0));
        assert_eq!(value_at(&a, 1, DataType::Integer).unwrap(), Value::Null);

        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX]));
        let (v, why) = value_at(&big, 0, DataType::Integer).unwrap_err();
        assert_eq!(v, u64::MAX.to_string());
        assert!(why.contains("larger"));

        let f: ArrayRef = Arc::new(Float32Array::from(vec![0.5f32]));
        assert_eq!(value_at(&f, 0, DataType::Real).unwrap(), Value::Real(0.5));

        let s: ArrayRef = Arc::new(LargeStringArray::from(vec!["ü"]));
        assert_eq!(
            value_at(&s, 0, DataType::Text).unwrap(),
            Value::Text("ü".into())
        );
        assert_eq!(
            value_at(&s, 0, DataType::Blob).unwrap(),
            Value::Blob("ü".into())
        );

        let n: ArrayRef = Arc::new(NullArray::new(2));
        assert!(compatible(n.data_type(), DataType::Boolean));
        assert_eq!(value_at(&n, 1, DataType::Boolean).unwrap(), Value::Null);
    }

    #[test]
    fn dictionaries_resolve_through_keys() {
        let d: DictionaryArray<Int8Type> = vec![Some("a"), None, Some("b"), Some("a")]
            .into_iter()
            .collect();
        let d: ArrayRef = Arc::new(d);
        assert!(compatible(d.data_type(), DataType::Text));
        let got: Vec<Value> = (0..4)
            .map(|i| value_at(&d, i, DataType::Text).unwrap())
            .collect();
        assert_eq!(
            got,
            vec!["a".into(), Value::Null, "b".into(), "a".into()] as Vec<Value>
        );
    }
}
