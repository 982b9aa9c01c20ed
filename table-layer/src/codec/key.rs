//! The memcomparable key codec: values to bytes whose `memcmp` order is the
//! values' order ([`Value`]'s [`Ord`]).
//!
//! Row and index keys are concatenations of encoded values, so a key-value
//! store that only knows byte order can answer range scans on composite SQL
//! keys. Every encoding starts with a tag byte that fixes the type (and for
//! integers the length), which makes each encoding self-delimiting: no
//! encoding is a proper prefix of another, so concatenations compare column
//! by column.
//!
//! ```text
//!  tag    type        payload                                   example
//!  0x00   NULL        -                                         00
//!  0x10   FALSE       -                                         10
//!  0x11   TRUE        -                                         11
//!  0x20   INTEGER<0   8 - (tag-0x20) low bytes of n, big-endian  -1 -> 28
//!   ..                (more bytes = more negative = lower tag)   -2 -> 27 fe
//!  0x28                                                         -257 -> 26 fe ff
//!  0x29   INTEGER>=0  (tag-0x29) bytes of n, big-endian         0 -> 29
//!   ..                minimal length                            1 -> 2a 01
//!  0x31                                                         256 -> 2b 01 00
//!  0x40   REAL        8 bytes big-endian of the order-mapped    1.0 -> 40 bf f0 00..
//!                     bits: negative: all bits inverted;
//!                     positive: sign bit set
//!  0x50   TEXT        bytes with 00 escaped as 00 ff,           "a" -> 50 61 00 01
//!                     terminated by 00 01
//!  0x60   BLOB        as TEXT                                   x'00' -> 60 00 ff 00 01
//! ```
//!
//! - Integers take 1 to 9 bytes: small keys stay small, which matters in an
//!   LSM tree where every key is written several times.
//! - Reals: `-0.0` is encoded as `0.0` (SQL equality; a unique index treats
//!   them as duplicates and both read back as `0.0` from a key); every NaN is
//!   encoded as the one canonical NaN, which sorts after `+inf`.
//! - Text and blobs: the escape makes the terminator `00 01` sort below any
//!   continuation (`00 ff` or a byte >= 01), so `"a"` < `"a\0"` < `"ab"`.
//! - Descending columns ([`SortOrder::Desc`]) store the bitwise inverse of
//!   the ascending encoding: the order reverses and NULL (now `ff`) sorts last.
//!
//! ```
//! use table_layer::codec::key::{decode_value, encode_value};
//! use table_layer::{SortOrder, Value};
//! let mut a = Vec::new();
//! encode_value(&mut a, &Value::Integer(-5), SortOrder::Asc);
//! let mut b = Vec::new();
//! encode_value(&mut b, &Value::Integer(3), SortOrder::Asc);
//! assert!(a < b);
//! let mut input = &a[..];
//! assert_eq!(decode_value(&mut input, SortOrder::Asc)?, Value::Integer(-5));
//! assert!(input.is_empty());
//! # Ok::<(), table_layer::Error>(())
//! ```

use crate::value::{real_from_key, real_key};
use crate::{Error, Result, SortOrder, Value};

const NULL: u8 = 0x00;
const FALSE: u8 = 0x10;
const TRUE: u8 = 0x11;
const INT_NEG: u8 = 0x20; // 0x20..=0x28: negative, 8..=0 payload bytes
const INT_NONNEG: u8 = 0x29; // 0x29..=0x31: non-negative, 0..=8 payload bytes
const REAL: u8 = 0x40;
const TEXT: u8 = 0x50;
const BLOB: u8 = 0x60;

/// Append the encoding of `v` in `order` to `out`.
pub fn encode_value(out: &mut Vec<u8>, v: &Value, order: SortOrder) {
    let start = out.len();
    match v {
        Value::Null => out.push(NULL),
        Value::Boolean(b) => out.push(if *b { TRUE } else { FALSE }),
        Value::Integer(n) => encode_int(out, *n),
        Value::Real(r) => {
            out.push(REAL);
            out.extend_from_slice(&real_key(*r).to_be_bytes());
        }
        Value::Text(s) => {
            out.push(TEXT);
            encode_bytes(out, s.as_bytes());
        }
        Value::Blob(b) => {
            out.push(BLOB);
            encode_bytes(out, b);
        }
    }
    if order == SortOrder::Desc {
        for b in &mut out[start..] {
            *b = !*b;
        }
    }
}

/// Append the encodings of `values` (all ascending) to `out`.
///
/// ```
/// use table_layer::codec::key::encode_values;
/// use table_layer::Value;
/// let mut k = Vec::new();
/// encode_values(&mut k, &[Value::Integer(1), Value::Text("x".into())]);
/// assert_eq!(k, vec![0x2a, 0x01, 0x50, b'x', 0x00, 0x01]);
/// ```
pub fn encode_values(out: &mut Vec<u8>, values: &[Value]) {
    for v in values {
        encode_value(out, v, SortOrder::Asc);
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        let u = n as u64;
        let len = 8 - (u.leading_zeros() / 8) as usize;
        out.push(INT_NONNEG + len as u8);
        out.extend_from_slice(&u.to_be_bytes()[8 - len..]);
    } else {
        // Magnitude class from !n = -n-1 >= 0; payload is n's own low bytes,
        // which grow with n inside a class.
        let m = !n as u64;
        let len = 8 - (m.leading_zeros() / 8) as usize;
        out.push(INT_NEG + (8 - len) as u8);
        out.extend_from_slice(&(n as u64).to_be_bytes()[8 - len..]);
    }
}

fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    let mut rest = bytes;
    while let Some(p) = rest.iter().position(|&b| b == 0) {
        out.extend_from_slice(&rest[..p]);
        out.extend_from_slice(&[0x00, 0xFF]);
        rest = &rest[p + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0x00, 0x01]);
}

fn bad(detail: &str) -> Error {
    Error::corrupt("key", detail)
}

/// Decode one value encoded in `order` from the front of `input`, advancing
/// it past the value.
pub fn decode_value(input: &mut &[u8], order: SortOrder) -> Result<Value> {
    let mask = if order == SortOrder::Desc { 0xFF } else { 0x00 };
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| bad("key ends where a value was expected"))?;
    *input = rest;
    let tag = tag ^ mask;
    let v = match tag {
        NULL => Value::Null,
        FALSE => Value::Boolean(false),
        TRUE => Value::Boolean(true),
        INT_NEG..=0x28 => {
            let len = 8 - (tag - INT_NEG) as usize;
            let u = take_uint(input, len, mask)?;
            let v = if len == 8 {
                u
            } else {
                (!0u64 << (8 * len)) | u
            };
            Value::Integer(v as i64)
        }
        INT_NONNEG..=0x31 => {
            let len = (tag - INT_NONNEG) as usize;
            let u = take_uint(input, len, mask)?;
            let n = i64::try_from(u).map_err(|_| bad("integer out of range"))?;
            Value::Integer(n)
        }
        REAL => Value::Real(real_from_key(take_uint(input, 8, mask)?)),
        TEXT => {
            let b = take_bytes(input, mask)?;
            Value::Text(String::from_utf8(b).map_err(|_| bad("text is not valid UTF-8"))?)
        }
        BLOB => Value::Blob(take_bytes(input, mask)?),
        _ => return Err(bad("unknown value tag")),
    };
    Ok(v)
}

/// Skip one value encoded in `order` at the front of `input` without
/// building it.
pub fn skip_value(input: &mut &[u8], order: SortOrder) -> Result<()> {
    let mask = if order == SortOrder::Desc { 0xFF } else { 0x00 };
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| bad("key ends where a value was expected"))?;
    let tag = tag ^ mask;
    let len = match tag {
        NULL | FALSE | TRUE => 0,
        INT_NEG..=0x28 => 8 - (tag - INT_NEG) as usize,
        INT_NONNEG..=0x31 => (tag - INT_NONNEG) as usize,
        REAL => 8,
        TEXT | BLOB => {
            let mut i = 0;
            loop {
                let p = rest[i..]
                    .iter()
                    .position(|&b| b == mask)
                    .ok_or_else(|| bad("unterminated text or blob"))?;
                match rest.get(i + p + 1).map(|b| b ^ mask) {
                    Some(0x01) => break i + p + 2,
                    Some(0xFF) => i += p + 2,
                    _ => return Err(bad("bad escape in text or blob")),
                }
            }
        }
        _ => return Err(bad("unknown value tag")),
    };
    if rest.len() < len {
        return Err(bad("key ends inside a value"));
    }
    *input = &rest[len..];
    Ok(())
}

fn take_uint(input: &mut &[u8], len: usize, mask: u8) -> Result<u64> {
    if input.len() < len {
        return Err(bad("key ends inside a number"));
    }
    let mut u = 0u64;
    for &b in &input[..len] {
        u = (u << 8) | u64::from(b ^ mask);
    }
    *input = &input[len..];
    Ok(u)
}

fn take_bytes(input: &mut &[u8], mask: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = *input;
    loop {
        let p = rest
            .iter()
            .position(|&b| b == mask)
            .ok_or_else(|| bad("unterminated text or blob"))?;
        out.extend(rest[..p].iter().map(|b| b ^ mask));
        match rest.get(p + 1).map(|b| b ^ mask) {
            Some(0x01) => {
                *input = &rest[p + 2..];
                return Ok(out);
            }
            Some(0xFF) => {
                out.push(0);
                rest = &rest[p + 2..];
            }
            _ => return Err(bad("bad escape in text or blob")),
        }
    }
}

/// Append `id` as an order-preserving variable-length integer: values below
/// 240 take one byte (the value itself); larger ones take a tag byte
/// `0xF0 + n` followed by `n` big-endian bytes.
///
/// ```
/// use table_layer::codec::key::{decode_id, encode_id};
/// let mut k = Vec::new();
/// encode_id(&mut k, 7);
/// encode_id(&mut k, 300);
/// assert_eq!(k, vec![7, 0xF2, 0x01, 0x2C]);
/// let mut input = &k[..];
/// assert_eq!((decode_id(&mut input)?, decode_id(&mut input)?), (7, 300));
/// # Ok::<(), table_layer::Error>(())
/// ```
pub fn encode_id(out: &mut Vec<u8>, id: u64) {
    if id < 0xF0 {
        out.push(id as u8);
    } else {
        let len = 8 - (id.leading_zeros() / 8) as usize;
        out.push(0xF0 + len as u8);
        out.extend_from_slice(&id.to_be_bytes()[8 - len..]);
    }
}

/// The length of [`encode_id`]'s encoding of `id`.
///
/// ```
/// assert_eq!(table_layer::codec::key::id_len(239), 1);
/// assert_eq!(table_layer::codec::key::id_len(240), 2);
/// ```
pub fn id_len(id: u64) -> usize {
    if id < 0xF0 {
        1
    } else {
        1 + 8 - (id.leading_zeros() / 8) as usize
    }
}

/// Decode an id written by [`encode_id`].
pub fn decode_id(input: &mut &[u8]) -> Result<u64> {
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| bad("key ends where an id was expected"))?;
    *input = rest;
    if tag < 0xF0 {
        return Ok(u64::from(tag));
    }
    let len = (tag - 0xF0) as usize;
    if len > 8 {
        return Err(bad("bad id tag"));
    }
    take_uint(input, len, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &Value, o: SortOrder) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(&mut out, v, o);
        out
    }

    /// Golden bytes: a change here is a format change (bump the format
    /// version in KEYS.md and the catalog).
    #[test]
    fn golden_encodings() {
        let asc = SortOrder::Asc;
        assert_eq!(enc(&Value::Null, asc), [0x00]);
        assert_eq!(enc(&Value::Boolean(false), asc), [0x10]);
        assert_eq!(enc(&Value::Boolean(true), asc), [0x11]);
        assert_eq!(enc(&Value::Integer(0), asc), [0x29]);
        assert_eq!(enc(&Value::Integer(1), asc), [0x2a, 0x01]);
        assert_eq!(enc(&Value::Integer(256), asc), [0x2b, 0x01, 0x00]);
        assert_eq!(enc(&Value::Integer(-1), asc), [0x28]);
        assert_eq!(enc(&Value::Integer(-2), asc), [0x27, 0xfe]);
        assert_eq!(enc(&Value::Integer(-257), asc), [0x26, 0xfe, 0xff]);
        assert_eq!(
            enc(&Value::Integer(i64::MIN), asc),
            [0x20, 0x80, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            enc(&Value::Integer(i64::MAX), asc),
            [0x31, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            enc(&Value::Real(1.0), asc),
            [0x40, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(enc(&Value::Real(-0.0), asc), enc(&Value::Real(0.0), asc));
        assert_eq!(
            enc(&Value::Text("a\0b".into()), asc),
            [0x50, b'a', 0x00, 0xff, b'b', 0x00, 0x01]
        );
        assert_eq!(enc(&Value::Blob(vec![]), asc), [0x60, 0x00, 0x01]);
        assert_eq!(enc(&Value::Null, SortOrder::Desc), [0xff]);
        assert_eq!(enc(&Value::Integer(1), SortOrder::Desc), [0xd5, 0xfe]);
    }

    #[test]
    fn edge_values_order() {
        let vals = [
            Value::Null,
            Value::Boolean(false),
            Value::Boolean(true),
            Value::Integer(i64::MIN),
            Value::Integer(-65537),
            Value::Integer(-65536),
            Value::Integer(-257),
            Value::Integer(-256),
            Value::Integer(-255),
            Value::Integer(-2),
            Value::Integer(-1),
            Value::Integer(0),
            Value::Integer(1),
            Value::Integer(255),
            Value::Integer(256),
            Value::Integer(i64::MAX),
            Value::Real(f64::NEG_INFINITY),
            Value::Real(-1.0),
            Value::Real(-0.0),
            Value::Real(f64::MIN_POSITIVE),
            Value::Real(f64::INFINITY),
            Value::Real(f64::NAN),
            Value::Text(String::new()),
            Value::Text("a".into()),
            Value::Text("a\0".into()),
            Value::Text("a\0\0".into()),
            Value::Text("a\x01".into()),
            Value::Text("ab".into()),
            Value::Text("\u{ff}".into()),
            Value::Blob(vec![]),
            Value::Blob(vec![0]),
            Value::Blob(vec![0xff]),
            Value::Blob(vec![0xff, 0]),
        ];
        for w in vals.windows(2) {
            for o in [SortOrder::Asc, SortOrder::Desc] {
                let (a, b) = (enc(&w[0], o), enc(&w[1], o));
                if o == SortOrder::Asc {
                    assert!(a < b, "{:?} < {:?}", w[0], w[1]);
                } else {
                    assert!(a > b, "desc {:?} > {:?}", w[0], w[1]);
                }
            }
        }
    }

    #[test]
    fn corrupt_input_is_an_error() {
        for bytes in [
            &[][..],
            &[0x2b, 0x01],
            &[0x50, b'a'],
            &[0x50, 0x00, 0x07],
            &[0x99],
            &[0x31, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x50, 0xff, 0x00, 0x01],
        ] {
            let mut input = bytes;
            assert!(
                decode_value(&mut input, SortOrder::Asc).is_err(),
                "{bytes:?}"
            );
            let mut input = bytes;
            if bytes != [0x31, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
                && bytes != [0x50, 0xff, 0x00, 0x01]
            {
                assert!(skip_value(&mut input, SortOrder::Asc).is_err(), "{bytes:?}");
            }
        }
    }

    pub(crate) fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<i64>().prop_map(Value::Integer),
            (-300i64..300).prop_map(Value::Integer),
            any::<f64>().prop_map(Value::Real),
            prop_oneof![
                Just(0.0),
                Just(-0.0),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
                Just(f64::NAN)
            ]
            .prop_map(Value::Real),
            ".{0,6}".prop_map(Value::Text),
            "[a\\x00\\x01]{0,5}".prop_map(Value::Text),
            proptest::collection::vec(
                prop_oneof![Just(0u8), Just(1), Just(0xff), any::<u8>()],
                0..6
            )
            .prop_map(Value::Blob),
        ]
    }

    fn order() -> impl Strategy<Value = SortOrder> {
        prop_oneof![Just(SortOrder::Asc), Just(SortOrder::Desc)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn order_is_preserved(a in any_value(), b in any_value(), o in order()) {
            let (ea, eb) = (enc(&a, o), enc(&b, o));
            let want = if o == SortOrder::Asc { a.cmp(&b) } else { b.cmp(&a) };
            prop_assert_eq!(ea.cmp(&eb), want, "{:?} vs {:?}", a, b);
        }

        #[test]
        fn round_trips(v in any_value(), o in order(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut e = enc(&v, o);
            let len = e.len();
            e.extend_from_slice(&tail);
            let mut input = &e[..];
            let back = decode_value(&mut input, o).unwrap();
            prop_assert_eq!(&back, &v);
            prop_assert_eq!(input, &tail[..]);
            let mut input = &e[..];
            skip_value(&mut input, o).unwrap();
            prop_assert_eq!(e.len() - input.len(), len);
        }

        #[test]
        fn composite_keys_compare_column_by_column(
            a in proptest::collection::vec(any_value(), 1..4),
            b in proptest::collection::vec(any_value(), 1..4),
            orders in proptest::collection::vec(order(), 4),
        ) {
            let key = |vals: &[Value]| {
                let mut out = Vec::new();
                for (v, o) in vals.iter().zip(&orders) { encode_value(&mut out, v, *o); }
                out
            };
            let mut want = std::cmp::Ordering::Equal;
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                let c = if orders[i] == SortOrder::Asc { x.cmp(y) } else { y.cmp(x) };
                if c != std::cmp::Ordering::Equal { want = c; break; }
            }
            if want == std::cmp::Ordering::Equal { want = a.len().cmp(&b.len()); }
            prop_assert_eq!(key(&a).cmp(&key(&b)), want);
        }

        #[test]
        fn ids_preserve_order(a in any::<u64>(), b in any::<u64>()) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            encode_id(&mut ea, a);
            encode_id(&mut eb, b);
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            let mut input = &ea[..];
            prop_assert_eq!(decode_id(&mut input).unwrap(), a);
            prop_assert!(input.is_empty());
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20), o in order()) {
            let mut input = &bytes[..];
            let _ = decode_value(&mut input, o);
            let mut input = &bytes[..];
            let _ = skip_value(&mut input, o);
            let mut input = &bytes[..];
            let _ = decode_id(&mut input);
        }
    }
}
