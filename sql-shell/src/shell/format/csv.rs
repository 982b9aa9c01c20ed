//! RFC 4180 CSV: a header line of column names (unless headers are off),
//! fields separated by `,`, records ended by CRLF; a field is quoted when it
//! holds a comma, a quote, CR or LF, or leading or trailing spaces, with
//! quotes doubled inside. NULL is the empty field by default (`.nullvalue`
//! changes it), an empty string is `""` so the two stay distinguishable;
//! blobs print as `x'..'` hex, booleans as `true`/`false`.

use std::borrow::Cow;
use std::io::{self, Write};

use sql_shell::{Column, Value};

use super::{Formatter, cell_text};

/// The CSV formatter; see the [module documentation](self).
pub struct CsvFormatter {
    null: String,
    headers: bool,
}

impl CsvFormatter {
    /// A formatter writing NULL as `null` (usually empty).
    pub fn new(null: String, headers: bool) -> Self {
        CsvFormatter { null, headers }
    }
}

/// One CSV field, quoted when needed.
pub fn field(s: &str) -> Cow<'_, str> {
    let needs = s.is_empty()
        || s.contains([',', '"', '\r', '\n'])
        || s.starts_with(' ')
        || s.ends_with(' ');
    if !needs {
        return Cow::Borrowed(s);
    }
    Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
}

fn record<'a>(out: &mut dyn Write, fields: impl Iterator<Item = Cow<'a, str>>) -> io::Result<()> {
    let mut first = true;
    for f in fields {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(f.as_bytes())?;
    }
    out.write_all(b"\r\n")
}

impl Formatter for CsvFormatter {
    fn begin(&mut self, out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
        if self.headers {
            record(out, columns.iter().map(|c| field(&c.name)))?;
        }
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, row: &[Value]) -> io::Result<()> {
        let null = self.null.as_str();
        record(
            out,
            row.iter().map(|v| match v {
                // NULL prints as the configured text, unquoted even when
                // empty: that is what tells it apart from ''.
                Value::Null => Cow::Borrowed(null),
                other => Cow::Owned(field(&cell_text(other, null)).into_owned()),
            }),
        )
    }

    fn finish(&mut self, _out: &mut dyn Write, _rows: u64, _complete: bool) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cols, render};
    use super::*;

    #[test]
    fn rfc4180_quoting() {
        let c = cols(&[("id", None), ("note, text", None), ("b", None)]);
        let rows = vec![
            vec![
                Value::Integer(1),
                Value::Text("say \"hi\"".into()),
                Value::Blob(vec![1, 0xff]),
            ],
            vec![
                Value::Real(2.5),
                Value::Text("two\nlines".into()),
                Value::Null,
            ],
            vec![
                Value::Boolean(true),
                Value::Text(String::new()),
                Value::Text(" pad".into()),
            ],
        ];
        let got = render(&mut CsvFormatter::new(String::new(), true), &c, &rows);
        let want = "id,\"note, text\",b\r\n\
                    1,\"say \"\"hi\"\"\",x'01ff'\r\n\
                    2.5,\"two\nlines\",\r\n\
                    true,\"\",\" pad\"\r\n";
        assert_eq!(got, want);
    }

    #[test]
    fn headers_off_and_null_text() {
        let c = cols(&[("a", None)]);
        let got = render(
            &mut CsvFormatter::new("NULL".into(), false),
            &c,
            &[vec![Value::Null]],
        );
        assert_eq!(got, "NULL\r\n");
    }
}
