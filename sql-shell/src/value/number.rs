//! Reading numbers out of text, as SQLite does.
//!
//! Two forms matter. A *whole* parse accepts a text only when all of it
//! (leading and trailing spaces allowed) is a well-formed number; it decides
//! whether affinity converts `'12'` to `12` and leaves `'12abc'` alone. A
//! *prefix* parse takes the longest leading number and ignores the rest
//! (`'12abc'` -> 12, `'abc'` -> 0); arithmetic and CAST use it.

/// 2^63 as an f64: the first real above the i64 range.
pub const TWO_63: f64 = 9.223_372_036_854_776e18;

/// A number read from text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// It looked like an integer and fits in an i64.
    Int(i64),
    /// It had a fraction or exponent, or did not fit an i64.
    Real(f64),
}

impl Num {
    /// The number as an f64.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Real(r) => r,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Scan the longest numeric prefix of `s` (after leading spaces). Returns the
/// number, the index just past it, and whether it had a fraction or exponent.
fn scan(s: &[u8]) -> Option<(usize, usize, bool)> {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let start = i;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let mut digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    let mut real = false;
    if i < s.len() && s[i] == b'.' {
        let mut j = i + 1;
        let mut frac = 0;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
            frac += 1;
        }
        if digits + frac > 0 {
            i = j;
            digits += frac;
            real = true;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            real = true;
        }
    }
    Some((start, i, real))
}

fn to_num(text: &[u8], real: bool) -> Num {
    // The scanned bytes are ASCII digits, signs, '.', 'e': valid UTF-8.
    let t = std::str::from_utf8(text).unwrap_or("0");
    if !real {
        if let Ok(i) = t.parse::<i64>() {
            return Num::Int(i);
        }
    }
    Num::Real(t.parse::<f64>().unwrap_or(0.0))
}

/// Parse the whole of `s` as a number (spaces around it allowed), or `None`.
///
/// ```
/// use sql_shell::value::number::{parse_whole, Num};
/// assert_eq!(parse_whole(b" 12 "), Some(Num::Int(12)));
/// assert_eq!(parse_whole(b"1.5e2"), Some(Num::Real(150.0)));
/// assert_eq!(parse_whole(b"12abc"), None);
/// ```
pub fn parse_whole(s: &[u8]) -> Option<Num> {
    let (start, end, real) = scan(s)?;
    if s[end..].iter().all(|&b| is_space(b)) {
        Some(to_num(&s[start..end], real))
    } else {
        None
    }
}

/// The number at the start of `s`, or integer 0 when there is none
/// (arithmetic on text).
///
/// ```
/// use sql_shell::value::number::{parse_prefix, Num};
/// assert_eq!(parse_prefix(b"12abc"), Num::Int(12));
/// assert_eq!(parse_prefix(b"abc"), Num::Int(0));
/// assert_eq!(parse_prefix(b"-2.5x"), Num::Real(-2.5));
/// ```
pub fn parse_prefix(s: &[u8]) -> Num {
    match scan(s) {
        Some((start, end, real)) => to_num(&s[start..end], real),
        None => Num::Int(0),
    }
}

/// The real value of the numeric prefix of `s` (0.0 when none).
pub fn prefix_real(s: &[u8]) -> f64 {
    parse_prefix(s).as_f64()
}

/// SQLite's text-to-integer rule for CAST: leading spaces, a sign and
/// digits; anything after is ignored; out-of-range values saturate.
///
/// ```
/// use sql_shell::value::number::prefix_integer;
/// assert_eq!(prefix_integer(b" 42.9xyz"), 42);
/// assert_eq!(prefix_integer(b"1e5"), 1);
/// assert_eq!(prefix_integer(b"99999999999999999999"), i64::MAX);
/// ```
pub fn prefix_integer(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut acc: i128 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        acc = acc * 10 + i128::from(s[i] - b'0');
        if acc > i128::from(i64::MAX) + 1 {
            acc = i128::from(i64::MAX) + 1;
        }
        i += 1;
    }
    let v = if neg { -acc } else { acc };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Convert a real to an integer by truncation, saturating at the i64 range
/// (NaN gives 0), as SQLite's CAST does.
pub fn real_to_int(r: f64) -> i64 {
    if r.is_nan() {
        0
    } else if r <= i64::MIN as f64 {
        i64::MIN
    } else if r >= i64::MAX as f64 {
        i64::MAX
    } else {
        r as i64
    }
}

/// The integer equal to `r`, if `r` is integral and exactly representable.
pub fn exact_int(r: f64) -> Option<i64> {
    if r.fract() == 0.0 && (-TWO_63..TWO_63).contains(&r) {
        let i = r as i64;
        if i as f64 == r { Some(i) } else { None }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_prefix_forms() {
        assert_eq!(parse_whole(b"-7"), Some(Num::Int(-7)));
        assert_eq!(parse_whole(b".5"), Some(Num::Real(0.5)));
        assert_eq!(parse_whole(b"5."), Some(Num::Real(5.0)));
        assert_eq!(parse_whole(b"."), None);
        assert_eq!(parse_whole(b""), None);
        assert_eq!(parse_whole(b"1e"), None);
        assert_eq!(parse_prefix(b"1e"), Num::Int(1));
        assert_eq!(parse_whole(b"9223372036854775808"), Some(Num::Real(TWO_63)));
        assert_eq!(prefix_integer(b"-9223372036854775808"), i64::MIN);
        assert_eq!(prefix_integer(b"-99999999999999999999"), i64::MIN);
        assert_eq!(real_to_int(-3.9), -3);
        assert_eq!(real_to_int(1e30), i64::MAX);
        assert_eq!(exact_int(3.0), Some(3));
        assert_eq!(exact_int(3.5), None);
        assert_eq!(exact_int(9.3e18), None);
    }
}
