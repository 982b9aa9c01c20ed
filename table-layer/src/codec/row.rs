//! The row value codec: the non-key columns of a row as one compact value.
//!
//! The primary-key columns live in the key (see [`super::key`]); the value
//! holds every other column, in column order, as of the row's schema version:
//!
//! ```text
//!  value   := version  null-bitmap  field*
//!  version := LEB128 varint: the table's schema version when the row was
//!             written (bumped by every ADD COLUMN)
//!  null-bitmap := ceil(n / 8) bytes, bit i (LSB first) set when stored
//!             column i is NULL; n = number of non-key columns that existed
//!             at `version`
//!  field   := one per non-NULL stored column, typed by the schema:
//!             INTEGER  zigzag LEB128 varint      (1 byte for -64..63)
//!             REAL     8 bytes little-endian IEEE 754 (bits kept, -0.0 too)
//!             BOOLEAN  1 byte, 0 or 1
//!             TEXT     LEB128 length, UTF-8 bytes
//!             BLOB     LEB128 length, bytes
//! ```
//!
//! Columns are only ever appended (`ADD COLUMN`), so a row written at an
//! older version stores a prefix of today's non-key columns; the rest read
//! their default without the row being rewritten. No type tags are stored:
//! the schema gives each field's type, which keeps rows small (a row of
//! three small integers and a short text is about 10 bytes). This is a
//! purpose-built format rather than postcard over `Vec<Value>`; the
//! benchmark in `table-layer/bench` compares the two (docs/PERFORMANCE.md).
//!
//! ```
//! use table_layer::codec::row::{decode_fields, encode_fields};
//! use table_layer::{DataType, Value};
//! let types = [DataType::Integer, DataType::Text, DataType::Real];
//! let vals = [Value::Integer(-3), Value::Null, Value::Real(2.5)];
//! let mut buf = Vec::new();
//! encode_fields(&mut buf, 7, &types, vals.iter());
//! let mut out = Vec::new();
//! let version = decode_fields(&buf, |_| Some(&types[..]), &mut out)?;
//! assert_eq!(version, 7);
//! assert_eq!(out, vals);
//! # Ok::<(), table_layer::Error>(())
//! ```

use crate::{DataType, Error, Result, Value};

fn bad(detail: &str) -> Error {
    Error::corrupt("row value", detail)
}

/// Append an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Read an unsigned LEB128 varint from the front of `input`.
pub fn get_varint(input: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for (i, &b) in input.iter().enumerate() {
        if i == 9 && b > 1 {
            return Err(bad("varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            *input = &input[i + 1..];
            return Ok(v);
        }
    }
    Err(bad("value ends inside a varint"))
}

/// Append a row: `version`, then the values of `values` typed by `types`
/// (same length; each value NULL or of its type, which the caller checked).
pub fn encode_fields<'a>(
    out: &mut Vec<u8>,
    version: u32,
    types: &[DataType],
    values: impl Iterator<Item = &'a Value> + Clone,
) {
    put_varint(out, u64::from(version));
    let n = types.len();
    let bitmap_at = out.len();
    out.resize(bitmap_at + n.div_ceil(8), 0);
    for (i, v) in values.enumerate() {
        match v {
            Value::Null => out[bitmap_at + i / 8] |= 1 << (i % 8),
            Value::Integer(x) => put_varint(out, ((x << 1) ^ (x >> 63)) as u64),
            Value::Real(r) => out.extend_from_slice(&r.to_le_bytes()),
            Value::Boolean(b) => out.push(u8::from(*b)),
            Value::Text(s) => {
                put_varint(out, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Value::Blob(b) => {
                put_varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
    }
}

/// Decode a row written by [`encode_fields`], pushing its stored values onto
/// `out`. `types_at(version)` gives the types of the columns stored at that
/// version (`None` when the version is unknown). Returns the version.
pub fn decode_fields<'t>(
    bytes: &[u8],
    types_at: impl FnOnce(u32) -> Option<&'t [DataType]>,
    out: &mut Vec<Value>,
) -> Result<u32> {
    let mut input = bytes;
    let version =
        u32::try_from(get_varint(&mut input)?).map_err(|_| bad("schema version out of range"))?;
    let types = types_at(version).ok_or_else(|| bad("row has an unknown schema version"))?;
    let n = types.len();
    let nb = n.div_ceil(8);
    if input.len() < nb {
        return Err(bad("value ends inside the null bitmap"));
    }
    let (bitmap, mut input) = input.split_at(nb);
    out.reserve(n);
    for (i, ty) in types.iter().enumerate() {
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            out.push(Value::Null);
            continue;
        }
        let v = match ty {
            DataType::Integer => {
                let u = get_varint(&mut input)?;
                Value::Integer(((u >> 1) as i64) ^ -((u & 1) as i64))
            }
            DataType::Real => {
                let (b, rest) = input
                    .split_first_chunk::<8>()
                    .ok_or_else(|| bad("value ends inside a real"))?;
                input = rest;
                Value::Real(f64::from_le_bytes(*b))
            }
            DataType::Boolean => {
                let (&b, rest) = input
                    .split_first()
                    .ok_or_else(|| bad("value ends inside a boolean"))?;
                input = rest;
                match b {
                    0 => Value::Boolean(false),
                    1 => Value::Boolean(true),
                    _ => return Err(bad("boolean is neither 0 nor 1")),
                }
            }
            DataType::Text => {
                let b = take_len_prefixed(&mut input)?;
                Value::Text(
                    std::str::from_utf8(b)
                        .map_err(|_| bad("text is not valid UTF-8"))?
                        .to_owned(),
                )
            }
            DataType::Blob => Value::Blob(take_len_prefixed(&mut input)?.to_vec()),
        };
        out.push(v);
    }
    if !input.is_empty() {
        return Err(bad("trailing bytes after the last column"));
    }
    Ok(version)
}

fn take_len_prefixed<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = get_varint(input)?;
    let len = usize::try_from(len).map_err(|_| bad("length out of range"))?;
    if input.len() < len {
        return Err(bad("value ends inside a text or blob"));
    }
    let (b, rest) = input.split_at(len);
    *input = rest;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_row() {
        let types = [
            DataType::Integer,
            DataType::Text,
            DataType::Boolean,
            DataType::Real,
            DataType::Blob,
        ];
        let vals = [
            Value::Integer(-2),
            Value::Text("hi".into()),
            Value::Boolean(true),
            Value::Null,
            Value::Blob(vec![0xAB]),
        ];
        let mut buf = Vec::new();
        encode_fields(&mut buf, 1, &types, vals.iter());
        assert_eq!(
            buf,
            [0x01, 0b0000_1000, 0x03, 0x02, b'h', b'i', 0x01, 0x01, 0xAB]
        );
    }

    #[test]
    fn corrupt_rows_are_errors() {
        let types = [DataType::Integer, DataType::Text, DataType::Boolean];
        let mut out = Vec::new();
        for bytes in [
            &[][..],
            &[0x00],
            &[0x00, 0x00, 0x80],
            &[0x00, 0x00, 0x02, 0x05, b'a'],
            &[0x00, 0x00, 0x02, 0x01, 0xff, 0x01],
            &[0x00, 0x00, 0x02, 0x00, 0x07],
            &[0x00, 0x00, 0x02, 0x00, 0x01, 0x00],
            &[0x05, 0x00],
        ] {
            out.clear();
            let r = decode_fields(bytes, |v| (v == 0).then_some(&types[..]), &mut out);
            assert!(r.is_err(), "{bytes:?}");
        }
    }

    fn typed_value(ty: DataType) -> BoxedStrategy<Value> {
        let v = match ty {
            DataType::Integer => any::<i64>().prop_map(Value::Integer).boxed(),
            DataType::Real => any::<f64>().prop_map(Value::Real).boxed(),
            DataType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
            DataType::Text => ".{0,8}".prop_map(Value::Text).boxed(),
            DataType::Blob => proptest::collection::vec(any::<u8>(), 0..8)
                .prop_map(Value::Blob)
                .boxed(),
        };
        prop_oneof![1 => Just(Value::Null), 4 => v].boxed()
    }

    fn any_type() -> impl Strategy<Value = DataType> {
        prop_oneof![
            Just(DataType::Integer),
            Just(DataType::Real),
            Just(DataType::Boolean),
            Just(DataType::Text),
            Just(DataType::Blob)
        ]
    }

    proptest! {
        #[test]
        fn round_trips(
            (types, vals) in proptest::collection::vec(any_type(), 0..12).prop_flat_map(|types| {
                let vals: Vec<_> = types.iter().map(|t| typed_value(*t)).collect();
                (Just(types), vals)
            }),
            version in any::<u32>(),
        ) {
            let mut buf = Vec::new();
            encode_fields(&mut buf, version, &types, vals.iter());
            let mut out = Vec::new();
            let got = decode_fields(&buf, |v| (v == version).then_some(&types[..]), &mut out).unwrap();
            prop_assert_eq!(got, version);
            prop_assert_eq!(out.len(), vals.len());
            for (a, b) in out.iter().zip(&vals) {
                // Bit-exact, -0.0 and NaN payloads included.
                match (a, b) {
                    (Value::Real(x), Value::Real(y)) => prop_assert_eq!(x.to_bits(), y.to_bits()),
                    _ => prop_assert_eq!(a, b),
                }
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let types = [DataType::Integer, DataType::Text, DataType::Real, DataType::Blob,
                DataType::Boolean, DataType::Integer, DataType::Text, DataType::Text, DataType::Real];
            let mut out = Vec::new();
            let _ = decode_fields(&bytes, |_| Some(&types[..]), &mut out);
        }
    }
}
