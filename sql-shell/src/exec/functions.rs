//! Scalar functions and LIKE, with SQLite's behaviour for NULL, text and
//! numbers (ASCII-only case folding, as SQLite without ICU).

use std::cmp::Ordering;

use super::Ctx;
use super::eval::{eval, eval_ref};
use crate::error::{Result, SqlError};
use crate::planner::expr::{Expr, Func};
use crate::value::compare::{cmp, sql_cmp};
use crate::value::number::{Num, parse_whole};
use crate::value::render::{to_f64, to_text};
use crate::value::{Value, truth, type_name};

/// Call scalar function `f` on `args` evaluated over `row`.
pub fn call(f: Func, args: &[Expr], row: &[Value], ctx: &Ctx<'_>) -> Result<Value> {
    // Functions that do not evaluate every argument eagerly.
    match f {
        Func::Coalesce => {
            for a in args {
                let v = eval(a, row, ctx)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            return Ok(Value::Null);
        }
        Func::Iif => {
            let c = eval(&args[0], row, ctx)?;
            return eval(&args[if truth(&c) == Some(true) { 1 } else { 2 }], row, ctx);
        }
        _ => {}
    }
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        vals.push(eval_ref(a, row, ctx)?);
    }
    let arg = |i: usize| vals.get(i).map_or(&Value::Null, |v| v.get());
    let x = arg(0);
    Ok(match f {
        Func::Abs => match x {
            Value::Null => Value::Null,
            Value::Integer(i) => Value::Integer(
                i.checked_abs()
                    .ok_or_else(|| SqlError::runtime("integer overflow in abs()"))?,
            ),
            Value::Boolean(b) => Value::Integer(i64::from(*b)),
            other => Value::Real(to_f64(other).abs()),
        },
        Func::Length => match x {
            Value::Null => Value::Null,
            Value::Blob(b) => Value::Integer(b.len() as i64),
            Value::Text(s) => Value::Integer(s.chars().count() as i64),
            other => Value::Integer(to_text(other).chars().count() as i64),
        },
        Func::Lower | Func::Upper => match x {
            Value::Null => Value::Null,
            other => {
                let s = to_text(other);
                Value::Text(if f == Func::Lower {
                    s.to_ascii_lowercase()
                } else {
                    s.to_ascii_uppercase()
                })
            }
        },
        Func::Substr => substr(x, arg(1), vals.get(2).map(|v| v.get())),
        Func::NullIf => {
            if sql_cmp(x, arg(1)) == Some(Ordering::Equal) {
                Value::Null
            } else {
                x.clone()
            }
        }
        Func::Round => round(x, arg(1), vals.len() > 1),
        Func::TypeOf => Value::Text(type_name(x).to_string()),
        Func::Trim | Func::LTrim | Func::RTrim => {
            if x.is_null() || (vals.len() > 1 && arg(1).is_null()) {
                return Ok(Value::Null);
            }
            let s = to_text(x);
            let chars: Vec<char> = if vals.len() > 1 {
                to_text(arg(1)).chars().collect()
            } else {
                vec![' ']
            };
            let pat = |c: char| chars.contains(&c);
            Value::Text(match f {
                Func::LTrim => s.trim_start_matches(pat).to_string(),
                Func::RTrim => s.trim_end_matches(pat).to_string(),
                _ => s.trim_matches(pat).to_string(),
            })
        }
        Func::Replace => {
            if x.is_null() || arg(1).is_null() || arg(2).is_null() {
                return Ok(Value::Null);
            }
            let from = to_text(arg(1));
            if from.is_empty() {
                return Ok(Value::Text(to_text(x).into_owned()));
            }
            let (hay, to) = (to_text(x), to_text(arg(2)));
            if to.len() > from.len() {
                let n = hay.matches(from.as_ref()).count();
                let grow = n.saturating_mul(to.len() - from.len());
                crate::limits::check_value_len(hay.len().saturating_add(grow))?;
            }
            Value::Text(hay.replace(from.as_ref(), &to))
        }
        Func::Instr => {
            if x.is_null() || arg(1).is_null() {
                return Ok(Value::Null);
            }
            let hay = to_text(x);
            let needle = to_text(arg(1));
            match hay.find(needle.as_ref()) {
                Some(byte) => Value::Integer(hay[..byte].chars().count() as i64 + 1),
                None => Value::Integer(0),
            }
        }
        Func::MinOf | Func::MaxOf => {
            let mut best: Option<&Value> = None;
            for v in &vals {
                let v = v.get();
                if v.is_null() {
                    return Ok(Value::Null);
                }
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let o = cmp(v, b);
                        if (f == Func::MinOf && o == Ordering::Less)
                            || (f == Func::MaxOf && o == Ordering::Greater)
                        {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            best.cloned().unwrap_or(Value::Null)
        }
        Func::Hex => {
            let bytes: Vec<u8> = match x {
                Value::Null => Vec::new(),
                Value::Blob(b) => b.clone(),
                other => to_text(other).into_owned().into_bytes(),
            };
            crate::limits::check_value_len(bytes.len().saturating_mul(2))?;
            let mut s = String::with_capacity(bytes.len() * 2);
            for b in &bytes {
                s.push_str(&format!("{b:02X}"));
            }
            Value::Text(s)
        }
        Func::Sign => match x {
            Value::Null => Value::Null,
            Value::Integer(i) => Value::Integer(i.signum()),
            Value::Boolean(b) => Value::Integer(i64::from(*b)),
            Value::Real(r) => Value::Integer(if *r > 0.0 {
                1
            } else if *r < 0.0 {
                -1
            } else {
                0
            }),
            Value::Text(s) => match parse_whole(s.as_bytes()) {
                Some(n) => Value::Integer(sign_of(n)),
                None => Value::Null,
            },
            Value::Blob(_) => Value::Null,
        },
        Func::Coalesce | Func::Iif => Value::Null,
    })
}

fn sign_of(n: Num) -> i64 {
    match n {
        Num::Int(i) => i.signum(),
        Num::Real(r) => {
            if r > 0.0 {
                1
            } else if r < 0.0 {
                -1
            } else {
                0
            }
        }
    }
}

/// SQLite's `round(x, n)`: a REAL rounded half away from zero.
fn round(x: &Value, n: &Value, has_n: bool) -> Value {
    if x.is_null() || (has_n && n.is_null()) {
        return Value::Null;
    }
    let digits = if has_n {
        crate::value::render::to_i64(n).clamp(0, 30)
    } else {
        0
    };
    let r = to_f64(x);
    if digits == 0 && r.abs() < 4_503_599_627_370_496.0 {
        return Value::Real((r + 0.5f64.copysign(r)).trunc());
    }
    // Through decimal text, as SQLite does.
    let s = format!("{:.*}", digits as usize, r);
    Value::Real(s.parse::<f64>().unwrap_or(r))
}

/// SQLite's `substr(x, start, len)`: 1-based; a negative start counts from
/// the end; a negative length takes characters before start.
fn substr(x: &Value, start: &Value, len: Option<&Value>) -> Value {
    if x.is_null() || start.is_null() || len.is_some_and(Value::is_null) {
        return Value::Null;
    }
    let p1 = crate::value::render::to_i64(start);
    let blob = matches!(x, Value::Blob(_));
    let chars: Vec<char>;
    let bytes: &[u8];
    let text;
    let total = if blob {
        chars = Vec::new();
        bytes = match x {
            Value::Blob(b) => b,
            _ => &[],
        };
        bytes.len() as i64
    } else {
        text = to_text(x);
        chars = text.chars().collect();
        bytes = &[];
        chars.len() as i64
    };
    // SQLite's arithmetic (func.c substrFunc), in i128 so that extreme
    // arguments (i64::MIN as start or length) cannot overflow.
    let total = i128::from(total);
    let mut p1 = i128::from(p1);
    let mut p2 = match len {
        Some(l) => i128::from(crate::value::render::to_i64(l)),
        None => i128::from(i64::MAX),
    };
    let negative = p2 < 0;
    if negative {
        p2 = -p2;
    }
    if p1 < 0 {
        p1 += total;
        if p1 < 0 {
            p2 = (p2 + p1).max(0);
            p1 = 0;
        }
    } else if p1 > 0 {
        p1 -= 1;
    } else if p2 > 0 {
        p2 -= 1;
    }
    if negative {
        p1 -= p2;
        if p1 < 0 {
            p2 += p1;
            p1 = 0;
        }
    }
    let start = usize::try_from(p1.clamp(0, total)).unwrap_or(0);
    let end = usize::try_from((p1 + p2).clamp(0, total)).unwrap_or(0);
    let end = end.max(start);
    if blob {
        Value::Blob(bytes[start..end].to_vec())
    } else {
        Value::Text(chars[start..end].iter().collect())
    }
}

/// `x LIKE pattern [ESCAPE e]`: `None` when an operand is NULL.
pub fn like(x: &Value, pattern: &Value, escape: Option<&Value>) -> Result<Option<bool>> {
    if x.is_null() || pattern.is_null() || escape.is_some_and(Value::is_null) {
        return Ok(None);
    }
    let esc = match escape {
        Some(e) => {
            let s = to_text(e);
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Some(c),
                _ => {
                    return Err(SqlError::runtime(
                        "ESCAPE expression must be a single character",
                    ));
                }
            }
        }
        None => None,
    };
    let s: Vec<char> = to_text(x).chars().collect();
    let p: Vec<char> = to_text(pattern).chars().collect();
    Ok(Some(like_match(&s, &p, esc)))
}

fn fold(c: char) -> char {
    c.to_ascii_lowercase()
}

fn like_match(s: &[char], p: &[char], esc: Option<char>) -> bool {
    // Iterative matcher with backtracking to the last '%'.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            let c = p[pi];
            if Some(c) == esc {
                if pi + 1 < p.len() && si < s.len() && fold(s[si]) == fold(p[pi + 1]) {
                    si += 1;
                    pi += 2;
                    continue;
                }
            } else if c == '%' {
                star = Some((pi, si));
                pi += 1;
                continue;
            } else if si < s.len() && (c == '_' || fold(c) == fold(s[si])) {
                si += 1;
                pi += 1;
                continue;
            }
        } else if si == s.len() {
            return true;
        }
        match star {
            Some((sp, ss)) if ss < s.len() => {
                star = Some((sp, ss + 1));
                pi = sp + 1;
                si = ss + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str, p: &str) -> bool {
        like(&Value::Text(s.into()), &Value::Text(p.into()), None)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn like_patterns() {
        assert!(m("Hello", "h%"));
        assert!(m("Hello", "%LL%"));
        assert!(m("Hello", "h_llo"));
        assert!(!m("Hello", "h_lo"));
        assert!(m("", "%"));
        assert!(!m("abc", "ab"));
        let esc = Value::Text("\\".into());
        assert_eq!(
            like(
                &Value::Text("a%c".into()),
                &Value::Text("a\\%c".into()),
                Some(&esc)
            )
            .unwrap(),
            Some(true)
        );
        assert_eq!(
            like(
                &Value::Text("abc".into()),
                &Value::Text("a\\%c".into()),
                Some(&esc)
            )
            .unwrap(),
            Some(false)
        );
    }

    #[test]
    fn substr_rules() {
        let t = |s: &str| Value::Text(s.into());
        let i = Value::Integer;
        assert_eq!(substr(&t("hello"), &i(2), Some(&i(3))), t("ell"));
        assert_eq!(substr(&t("hello"), &i(-3), None), t("llo"));
        assert_eq!(substr(&t("hello"), &i(0), Some(&i(2))), t("h"));
        assert_eq!(substr(&t("hello"), &i(3), Some(&i(-2))), t("he"));
        assert_eq!(substr(&t("hello"), &i(10), None), t(""));
        // Extreme arguments (used to overflow i64 arithmetic).
        let (min, max) = (i(i64::MIN), i(i64::MAX));
        assert_eq!(substr(&t("abc"), &min, Some(&min)), t(""));
        assert_eq!(substr(&t("abc"), &i(2), Some(&min)), t("a"));
        assert_eq!(substr(&t("abc"), &max, Some(&max)), t(""));
        assert_eq!(substr(&t("abc"), &min, Some(&max)), t("ab"));
        assert_eq!(substr(&t("abc"), &max, Some(&min)), t("abc"));
        assert_eq!(substr(&t("abc"), &i(0), Some(&max)), t("abc"));
        assert_eq!(substr(&t("abc"), &i(-1), Some(&min)), t("ab"));
    }

    #[test]
    fn rounding() {
        assert_eq!(
            round(&Value::Real(2.5), &Value::Null, false),
            Value::Real(3.0)
        );
        assert_eq!(
            round(&Value::Real(-2.5), &Value::Null, false),
            Value::Real(-3.0)
        );
        assert_eq!(
            round(&Value::Integer(7), &Value::Null, false),
            Value::Real(7.0)
        );
        assert_eq!(
            round(&Value::Real(1.2345), &Value::Integer(2), true),
            Value::Real(1.23)
        );
    }
}
