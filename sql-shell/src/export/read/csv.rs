//! CSV files to typed rows.
//!
//! A streaming RFC 4180 parser: fields separated by `,`, records by `\n`,
//! `\r\n` or `\r`; a field in double quotes may hold separators, line
//! breaks and doubled quotes. It holds one record at a time. Each field is
//! then parsed by its target column's type, the inverse of the writer's
//! forms (`write/csv.rs`):
//!
//! ```text
//!   unquoted empty      NULL
//!   quoted empty ""     '' for TEXT, x'' for BLOB, NULL for other types
//!   INTEGER             -42, +7; also 3.0 (a whole real, as pandas writes
//!                       integers of a column with NULLs)
//!   REAL                any decimal or exponent form; Inf, -Inf, NaN
//!   TEXT                the field, which must be UTF-8
//!   BLOB                \x + hex pairs; any other field is taken as its bytes
//!   BOOLEAN             true/false, t/f, yes/no, on/off, 1/0 (any case)
//! ```
//!
//! Numbers and booleans may have spaces around them; text is taken as is.
//! A malformed file (an unterminated quote, text after a closing quote, a
//! quote inside an unquoted field, a wrong number of fields) is an error
//! naming the file and line.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use table_layer::{DataType, Value};

use crate::export::error::{ExportError, Result};

/// One field of the current record: its byte range in the record buffer
/// and whether it was quoted.
#[derive(Clone, Copy, Debug)]
struct Field {
    start: usize,
    end: usize,
    quoted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the closing quote or the first of a
    /// doubled pair.
    QuoteInQuoted,
}

/// Reads CSV records; see the [module documentation](self).
pub(crate) struct CsvRecords<R> {
    input: R,
    path: PathBuf,
    /// 1-based line where the next record starts.
    line: u64,
    /// 1-based line where the current record started.
    record_line: u64,
    /// A `\r` ended the last record: skip a `\n` right after it.
    skip_lf: bool,
    buf: Vec<u8>,
    fields: Vec<Field>,
    eof: bool,
}

impl<R: BufRead> CsvRecords<R> {
    pub(crate) fn new(input: R, path: &Path) -> Self {
        CsvRecords {
            input,
            path: path.to_owned(),
            line: 1,
            record_line: 1,
            skip_lf: false,
            buf: Vec::with_capacity(1024),
            fields: Vec::new(),
            eof: false,
        }
    }

    /// The line the current record started on.
    pub(crate) fn record_line(&self) -> u64 {
        self.record_line
    }

    /// Number of fields in the current record.
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// Field `i` of the current record: bytes and whether it was quoted.
    pub(crate) fn field(&self, i: usize) -> (&[u8], bool) {
        match self.fields.get(i) {
            Some(f) => (self.buf.get(f.start..f.end).unwrap_or(&[]), f.quoted),
            None => (&[], false),
        }
    }

    fn error(&self, detail: impl Into<String>) -> ExportError {
        ExportError::format(&self.path, Some(format!("line {}", self.line)), detail)
    }

    fn end_field(&mut self, start: usize, quoted: bool) {
        self.fields.push(Field {
            start,
            end: self.buf.len(),
            quoted,
        });
    }

    /// Read the next record; `false` at the end of the file.
    pub(crate) fn next_record(&mut self) -> Result<bool> {
        self.buf.clear();
        self.fields.clear();
        if self.eof {
            return Ok(false);
        }
        self.record_line = self.line;
        let mut state = State::FieldStart;
        let mut field_start = 0;
        let mut quoted = false;
        let mut started = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ExportError::io(&self.path, "reading", e)),
            };
            if chunk.is_empty() {
                self.eof = true;
                return match state {
                    State::Quoted => Err(ExportError::format(
                        &self.path,
                        Some(format!("line {}", self.record_line)),
                        "a quoted field is not closed before the end of the file (truncated file?)",
                    )),
                    _ if !started => Ok(false),
                    _ => {
                        self.end_field(field_start, quoted);
                        Ok(true)
                    }
                };
            }
            // Work on a copy of the chunk's bytes one at a time; `used`
            // counts what to consume from the reader.
            let mut used = 0;
            let mut done = false;
            let chunk: &[u8] = chunk;
            let mut error = None;
            for &b in chunk {
                used += 1;
                if self.skip_lf {
                    self.skip_lf = false;
                    if b == b'\n' {
                        continue;
                    }
                }
                started = true;
                match state {
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted => match b {
                        b',' => {
                            self.fields.push(Field {
                                start: field_start,
                                end: self.buf.len(),
                                quoted,
                            });
                            field_start = self.buf.len();
                            quoted = false;
                            state = State::FieldStart;
                        }
                        b'\n' | b'\r' => {
                            self.fields.push(Field {
                                start: field_start,
                                end: self.buf.len(),
                                quoted,
                            });
                            self.line += 1;
                            self.skip_lf = b == b'\r';
                            done = true;
                            break;
                        }
                        b'"' if state == State::FieldStart => {
                            quoted = true;
                            state = State::Quoted;
                        }
                        b'"' if state == State::QuoteInQuoted => {
                            self.buf.push(b'"');
                            state = State::Quoted;
                        }
                        b'"' => {
                            error = Some(
                                "a quote inside an unquoted field (quote the whole field and double the quote)",
                            );
                            break;
                        }
                        _ if state == State::QuoteInQuoted => {
                            error = Some("text after the closing quote of a field");
                            break;
                        }
                        _ => {
                            self.buf.push(b);
                            state = State::Unquoted;
                        }
                    },
                    State::Quoted => {
                        if b == b'"' {
                            state = State::QuoteInQuoted;
                        } else {
                            if b == b'\n' {
                                self.line += 1;
                            }
                            self.buf.push(b);
                        }
                    }
                }
            }
            self.input.consume(used);
            if let Some(e) = error {
                return Err(self.error(e));
            }
            if done {
                return Ok(true);
            }
        }
    }
}

/// Parse one CSV field as a value of type `t` (see the module
/// documentation); the error says why it does not fit.
pub(crate) fn parse_field(bytes: &[u8], quoted: bool, t: DataType) -> Result<Value, String> {
    if bytes.is_empty() {
        return Ok(match (quoted, t) {
            (true, DataType::Text) => Value::Text(String::new()),
            (true, DataType::Blob) => Value::Blob(Vec::new()),
            _ => Value::Null,
        });
    }
    match t {
        DataType::Text => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Value::Text(s.to_owned())),
            Err(e) => Err(format!("not valid UTF-8 text ({e})")),
        },
        DataType::Blob => Ok(Value::Blob(parse_blob(bytes))),
        DataType::Integer => {
            let s = trimmed(bytes)?;
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Value::Integer(i));
            }
            match s.parse::<f64>() {
                Ok(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => Ok(Value::Integer(r as i64)),
                _ => Err("not an INTEGER".into()),
            }
        }
        DataType::Real => trimmed(bytes)?
            .parse::<f64>()
            .map(Value::Real)
            .map_err(|_| "not a REAL number".into()),
        DataType::Boolean => match trimmed(bytes)?.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Ok(Value::Boolean(true)),
            "false" | "f" | "no" | "n" | "off" | "0" => Ok(Value::Boolean(false)),
            _ => Err("not a BOOLEAN (use true or false)".into()),
        },
    }
}

/// `\x` + hex pairs decoded; anything else taken as raw bytes.
fn parse_blob(bytes: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if let Some(digits) = bytes.strip_prefix(b"\\x") {
        if digits.len() % 2 == 0 {
            let decoded: Option<Vec<u8>> = digits
                .chunks_exact(2)
                .map(|p| Some(hex(p[0])? << 4 | hex(p[1])?))
                .collect();
            if let Some(d) = decoded {
                return d;
            }
        }
    }
    bytes.to_vec()
}

fn trimmed(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| "not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8]) -> Result<Vec<Vec<(String, bool)>>> {
        // A tiny buffer exercises records split across reads.
        let reader = std::io::BufReader::with_capacity(3, text);
        let mut r = CsvRecords::new(reader, Path::new("t.csv"));
        let mut out = Vec::new();
        while r.next_record()? {
            out.push(
                (0..r.len())
                    .map(|i| {
                        let (b, q) = r.field(i);
                        (String::from_utf8_lossy(b).into_owned(), q)
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    fn plain(rows: Vec<Vec<(String, bool)>>) -> Vec<Vec<String>> {
        rows.into_iter()
            .map(|r| r.into_iter().map(|(s, _)| s).collect())
            .collect()
    }

    #[test]
    fn rfc4180_records() {
        let r = records(b"a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n").unwrap();
        assert_eq!(
            plain(r.clone()),
            vec![
                vec!["a", "b"],
                vec!["x,1", "say \"hi\""],
                vec!["two\nlines", ""],
            ]
        );
        assert!(r[2][0].1 && !r[2][1].1);
        // No final newline; old Mac line ends; empty quoted vs unquoted.
        let r = records(b"1,\"\"\r2,").unwrap();
        assert_eq!(r[0][1], (String::new(), true));
        assert_eq!(r[1][1], (String::new(), false));
        assert_eq!(records(b"").unwrap().len(), 0);
        assert_eq!(plain(records(b"\n").unwrap()), vec![vec![""]]);
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let e = records(b"a\n\"open\n\nnever closed").unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("not closed"),
            "{e}"
        );
        let e = records(b"a\n\"x\"y\n").unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("after the closing"),
            "{e}"
        );
        let e = records(b"ab\"c\n").unwrap_err();
        assert!(e.to_string().contains("unquoted"), "{e}");
    }

    #[test]
    fn field_parsing() {
        use DataType::*;
        assert_eq!(parse_field(b"", false, Text).unwrap(), Value::Null);
        assert_eq!(
            parse_field(b"", true, Text).unwrap(),
            Value::Text(String::new())
        );
        assert_eq!(parse_field(b"", true, Integer).unwrap(), Value::Null);
        assert_eq!(
            parse_field(b" -42 ", false, Integer).unwrap(),
            Value::Integer(-42)
        );
        assert_eq!(
            parse_field(b"3.0", false, Integer).unwrap(),
            Value::Integer(3)
        );
        assert!(parse_field(b"3.5", false, Integer).is_err());
        assert!(parse_field(b"1e30", false, Integer).is_err());
        assert_eq!(
            parse_field(b"Inf", false, Real).unwrap(),
            Value::Real(f64::INFINITY)
        );
        assert_eq!(
            parse_field(b"-1e300", false, Real).unwrap(),
            Value::Real(-1e300)
        );
        assert!(matches!(parse_field(b"NaN", false, Real).unwrap(), Value::Real(r) if r.is_nan()));
        assert_eq!(
            parse_field(b"\\x00ff", false, Blob).unwrap(),
            Value::Blob(vec![0, 255])
        );
        assert_eq!(
            parse_field(b"\\xzz", false, Blob).unwrap(),
            Value::Blob(b"\\xzz".to_vec())
        );
        assert_eq!(
            parse_field(b"TRUE", false, Boolean).unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            parse_field(b"0", false, Boolean).unwrap(),
            Value::Boolean(false)
        );
        assert!(parse_field(b"maybe", false, Boolean).is_err());
        assert!(parse_field(&[0xff, 0xfe], false, Text).is_err());
    }
}
