//! Text forms of values, as SQLite prints them.
//!
//! - A real as text is SQLite's `%!.15g`: 15 significant digits, trailing
//!   zeros dropped, and `.0` added when the result would look like an
//!   integer (`1.0`, `0.1`, `1.0e+20`, `-Inf`).
//! - A real in a fixed format (`%.3f`, as the sqllogictest runner prints `R`
//!   columns) carries at most 16 significant digits, the rest zeros:
//!   `-9223372036854775808.0` prints as `-9223372036854776000.000`.
//!
//! [`display`] is what the shell shows for a value.

use std::borrow::Cow;

use super::Value;

/// SQLite's text form of a real (`%!.15g`).
///
/// ```
/// use sql_shell::value::render::real_to_text;
/// assert_eq!(real_to_text(1.0), "1.0");
/// assert_eq!(real_to_text(0.1), "0.1");
/// assert_eq!(real_to_text(1e20), "1.0e+20");
/// assert_eq!(real_to_text(123456.5), "123456.5");
/// assert_eq!(real_to_text(1.0 / 3.0), "0.333333333333333");
/// ```
pub fn real_to_text(r: f64) -> String {
    if r.is_nan() {
        return "NaN".into();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if r == 0.0 {
        return "0.0".into();
    }
    let sci = format!("{r:.14e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..15).contains(&exp) {
        let decimals = usize::try_from(14 - exp).unwrap_or(0);
        let mut s = format!("{r:.decimals$}");
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.push('0');
            }
        } else {
            s.push_str(".0");
        }
        s
    } else {
        let mut m = mantissa.to_string();
        if m.contains('.') {
            while m.ends_with('0') {
                m.pop();
            }
            if m.ends_with('.') {
                m.push('0');
            }
        } else {
            m.push_str(".0");
        }
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    }
}

/// SQLite's `%.Nf` of a real: fixed notation with `decimals` digits after
/// the point, with at most 16 significant digits (later digits print as 0).
///
/// ```
/// use sql_shell::value::render::real_fixed;
/// assert_eq!(real_fixed(2.0 / 3.0, 3), "0.667");
/// assert_eq!(real_fixed(-9223372036854775808.0, 3), "-9223372036854776000.000");
/// assert_eq!(real_fixed(-0.0001, 3), "-0.000");
/// ```
pub fn real_fixed(r: f64, decimals: usize) -> String {
    if r.is_nan() {
        return "NaN".into();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if r.abs() < 1e15 {
        // At most 16 digits before the point plus the decimals: Rust's exact
        // rounding agrees with SQLite's once the count is within 16 digits,
        // and for the usual 3 decimals that holds below 1e13; between 1e13
        // and 1e15 the extra digits are rounded below too.
        let int_digits = if r.abs() < 1.0 {
            1
        } else {
            (r.abs().log10().floor() as usize) + 1
        };
        if int_digits + decimals <= 16 {
            return format!("{r:.decimals$}");
        }
    }
    // Round to 16 significant digits, then lay the digits out.
    let sci = format!("{:.15e}", r.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::new();
    if r < 0.0 {
        out.push('-');
    }
    let int_len = exp + 1;
    if int_len <= 0 {
        out.push('0');
    } else {
        for k in 0..int_len {
            let d = digits.get(k as usize).copied().unwrap_or(b'0');
            out.push(d as char);
        }
    }
    if decimals > 0 {
        out.push('.');
        for k in 0..decimals as i64 {
            let idx = int_len + k;
            let d = if idx < 0 {
                b'0'
            } else {
                digits.get(idx as usize).copied().unwrap_or(b'0')
            };
            out.push(d as char);
        }
    }
    out
}

/// SQLite's text form of any value (`sqlite3_column_text`): NULL is the
/// empty string, integers in decimal, reals by [`real_to_text`], blobs as
/// their bytes (lossy UTF-8), booleans as 1 or 0.
pub fn to_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::Integer(i) => Cow::Owned(i.to_string()),
        Value::Real(r) => Cow::Owned(real_to_text(*r)),
        Value::Text(s) => Cow::Borrowed(s),
        Value::Blob(b) => String::from_utf8_lossy(b),
        Value::Boolean(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
    }
}

/// SQLite's integer view of a value (`sqlite3_column_int64`): reals
/// truncate, text reads its leading integer, NULL is 0.
pub fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Null => 0,
        Value::Integer(i) => *i,
        Value::Real(r) => super::number::real_to_int(*r),
        Value::Text(s) => super::number::prefix_integer(s.as_bytes()),
        Value::Blob(b) => super::number::prefix_integer(b),
        Value::Boolean(b) => i64::from(*b),
    }
}

/// SQLite's real view of a value (`sqlite3_column_double`): text reads its
/// leading number, NULL is 0.0.
pub fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        Value::Text(s) => super::number::prefix_real(s.as_bytes()),
        Value::Blob(b) => super::number::prefix_real(b),
        Value::Boolean(b) => f64::from(u8::from(*b)),
    }
}

/// What the shell shows for a value: `NULL`, numbers as SQLite prints them,
/// text as is, blobs as `x'0a1b'`, booleans as `true`/`false`.
///
/// ```
/// use sql_shell::value::{render::display, Value};
/// assert_eq!(display(&Value::Real(2.5)), "2.5");
/// assert_eq!(display(&Value::Blob(vec![0xab])), "x'ab'");
/// assert_eq!(display(&Value::Null), "NULL");
/// ```
pub fn display(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed("NULL"),
        Value::Blob(b) => {
            let mut s = String::with_capacity(3 + 2 * b.len());
            s.push_str("x'");
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s.push('\'');
            Cow::Owned(s)
        }
        Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        other => to_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g15_forms() {
        assert_eq!(real_to_text(100.0), "100.0");
        assert_eq!(real_to_text(-2.5), "-2.5");
        assert_eq!(real_to_text(1e15), "1.0e+15");
        assert_eq!(real_to_text(123456789012345.0), "123456789012345.0");
        assert_eq!(real_to_text(0.0001), "0.0001");
        assert_eq!(real_to_text(0.00001), "1.0e-05");
        assert_eq!(real_to_text(1.5e-7), "1.5e-07");
        assert_eq!(real_to_text(f64::NEG_INFINITY), "-Inf");
        assert_eq!(real_to_text(9.223372036854776e18), "9.22337203685478e+18");
    }

    #[test]
    fn fixed_forms() {
        assert_eq!(real_fixed(0.0, 3), "0.000");
        assert_eq!(real_fixed(12.3456, 3), "12.346");
        assert_eq!(real_fixed(-12.0, 3), "-12.000");
        assert_eq!(real_fixed(1e20, 3), "100000000000000000000.000");
        assert_eq!(real_fixed(12345678901234.568, 3), "12345678901234.570");
        assert_eq!(
            real_fixed(9223372036854775807.0, 3),
            "9223372036854776000.000"
        );
        assert_eq!(to_i64(&Value::Text("12abc".into())), 12);
        assert_eq!(to_f64(&Value::Text("2.5e1x".into())), 25.0);
    }
}
