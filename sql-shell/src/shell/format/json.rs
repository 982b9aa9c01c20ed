//! JSON output, in two shapes:
//!
//! - `json`: each statement's result is one JSON array of objects, one
//!   object per line, as sqlite3's json mode prints it (`[]` for no rows):
//!   ```text
//!   [{"id":1,"name":"alice"},
//!   {"id":2,"name":null}]
//!   ```
//! - `jsonl`: one object per line and nothing else (JSON Lines), for
//!   streaming into `jq` and friends.
//!
//! Keys are the column names in order (a repeated name repeats the key).
//! Integers and reals are JSON numbers (a real keeps its `.0`; infinities
//! print as `9e999`/`-9e999` like SQLite's JSON functions, NaN as `null`),
//! text is a string, booleans are `true`/`false`, NULL is `null`, and a blob
//! is a string of hex digits, `x'..'` like the other modes show it.

use std::io::{self, Write};

use sql_shell::{Column, Value, display};

use super::Formatter;

/// The JSON and JSON Lines formatter; see the [module documentation](self).
pub struct JsonFormatter {
    lines: bool,
    /// Column names, already encoded as JSON strings.
    keys: Vec<String>,
    rows: u64,
}

impl JsonFormatter {
    /// `lines` selects JSON Lines instead of one array per statement.
    pub fn new(lines: bool) -> Self {
        JsonFormatter {
            lines,
            keys: Vec::new(),
            rows: 0,
        }
    }
}

/// `s` as a JSON string literal.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A value as JSON.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) if r.is_nan() => "null".into(),
        Value::Real(r) if r.is_infinite() => if *r > 0.0 { "9e999" } else { "-9e999" }.into(),
        Value::Real(_) => display(v).into_owned(),
        Value::Boolean(b) => b.to_string(),
        Value::Text(s) => string(s),
        Value::Blob(_) => string(&display(v)),
    }
}

impl Formatter for JsonFormatter {
    fn begin(&mut self, _out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
        self.keys = columns.iter().map(|c| string(&c.name)).collect();
        self.rows = 0;
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, row: &[Value]) -> io::Result<()> {
        if !self.lines {
            out.write_all(if self.rows == 0 { b"[" } else { b",\n" })?;
        }
        out.write_all(b"{")?;
        for (i, (k, v)) in self.keys.iter().zip(row).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(k.as_bytes())?;
            out.write_all(b":")?;
            out.write_all(value(v).as_bytes())?;
        }
        out.write_all(b"}")?;
        if self.lines {
            out.write_all(b"\n")?;
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _rows: u64, _complete: bool) -> io::Result<()> {
        if !self.lines {
            // Closed even when the result was cut short, so what was
            // printed is still one valid JSON document.
            out.write_all(if self.rows == 0 { b"[]\n" } else { b"]\n" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cols, render};
    use super::*;

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![
                Value::Integer(-1),
                Value::Text("quote \" back\\ nl\n ctl\u{1}".into()),
                Value::Real(1.0),
            ],
            vec![
                Value::Null,
                Value::Blob(vec![0xab]),
                Value::Real(f64::INFINITY),
            ],
            vec![
                Value::Boolean(false),
                Value::Text("é".into()),
                Value::Real(0.25),
            ],
        ]
    }

    #[test]
    fn array_per_statement() {
        let c = cols(&[("a", None), ("b", None), ("c", None)]);
        let got = render(&mut JsonFormatter::new(false), &c, &rows());
        let want = "[{\"a\":-1,\"b\":\"quote \\\" back\\\\ nl\\n ctl\\u0001\",\"c\":1.0},\n\
                    {\"a\":null,\"b\":\"x'ab'\",\"c\":9e999},\n\
                    {\"a\":false,\"b\":\"é\",\"c\":0.25}]\n";
        assert_eq!(got, want);
        assert_eq!(render(&mut JsonFormatter::new(false), &c, &[]), "[]\n");
    }

    #[test]
    fn json_lines() {
        let c = cols(&[("a", None), ("b", None), ("c", None)]);
        let got = render(&mut JsonFormatter::new(true), &c, &rows()[2..]);
        assert_eq!(got, "{\"a\":false,\"b\":\"é\",\"c\":0.25}\n");
        assert_eq!(render(&mut JsonFormatter::new(true), &c, &[]), "");
    }
}
