//! Record batches to RFC 4180 CSV.
//!
//! One line per row, fields separated by `,`, lines ended by `\n`, an
//! optional header line of column names. Values are rendered so that an
//! import gets exactly the same values back, and so that DuckDB, pandas and
//! spreadsheets read them naturally:
//!
//! ```text
//!   NULL      empty, unquoted            ,,
//!   ''        empty, quoted              ,"",
//!   INTEGER   decimal                    -42
//!   REAL      shortest exact form        0.1   2.0   1e300   Inf  -Inf  NaN
//!   TEXT      as is; quoted ("" doubled) when it holds , " CR or LF
//!   BLOB      \x + lower-case hex        \x00ff10   (PostgreSQL's bytea form)
//!   BOOLEAN   true / false
//! ```
//!
//! Reals use the shortest decimal that parses back to the same double
//! (unlike SQLite's 15-digit `%!.15g`, which loses bits), with a `.0` on
//! whole numbers as SQLite prints them.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, SchemaRef};

use super::FormatWriter;
use crate::export::error::{ExportError, Result};
use crate::export::target::TargetWriter;

pub(super) struct CsvWriter {
    out: TargetWriter,
    line: Vec<u8>,
    path: std::path::PathBuf,
}

impl CsvWriter {
    pub(super) fn new(
        mut out: TargetWriter,
        schema: SchemaRef,
        header: bool,
        path: &std::path::Path,
    ) -> Result<CsvWriter> {
        if header {
            let mut line = Vec::new();
            for (i, f) in schema.fields().iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                push_text(&mut line, f.name());
            }
            line.push(b'\n');
            out.write_all(&line)
                .map_err(|e| ExportError::io(path, "writing", e))?;
        }
        Ok(CsvWriter {
            out,
            line: Vec::with_capacity(1024),
            path: path.to_owned(),
        })
    }
}

impl FormatWriter for CsvWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let columns = batch.columns();
        for row in 0..batch.num_rows() {
            self.line.clear();
            for (i, col) in columns.iter().enumerate() {
                if i > 0 {
                    self.line.push(b',');
                }
                push_field(&mut self.line, col.as_ref(), row)?;
            }
            self.line.push(b'\n');
            self.out
                .write_all(&self.line)
                .map_err(|e| ExportError::io(&self.path, "writing", e))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<TargetWriter> {
        Ok(self.out)
    }
}

/// Append one field's CSV form (see the module documentation).
fn push_field(line: &mut Vec<u8>, col: &dyn Array, row: usize) -> Result<()> {
    if col.is_null(row) {
        return Ok(());
    }
    match col.data_type() {
        ArrowType::Int64 => {
            let _ = write!(line, "{}", col.as_primitive::<Int64Type>().value(row));
        }
        ArrowType::Float64 => push_real(line, col.as_primitive::<Float64Type>().value(row)),
        ArrowType::Utf8 => push_text(line, col.as_string::<i32>().value(row)),
        ArrowType::Binary => push_blob(line, col.as_binary::<i32>().value(row)),
        ArrowType::Boolean => line.extend_from_slice(if col.as_boolean().value(row) {
            b"true"
        } else {
            b"false"
        }),
        other => {
            return Err(ExportError::schema(format!(
                "internal: no CSV form for Arrow type {other}"
            )));
        }
    }
    Ok(())
}

/// The shortest exact decimal form of a real, `.0` on whole numbers.
pub(crate) fn push_real(line: &mut Vec<u8>, r: f64) {
    if r.is_nan() {
        line.extend_from_slice(b"NaN");
    } else if r.is_infinite() {
        line.extend_from_slice(if r > 0.0 { b"Inf" } else { b"-Inf" });
    } else {
        // `{:?}` is Rust's shortest round-trip form, with `.0` on whole
        // numbers and an exponent for very large or small magnitudes.
        let _ = write!(line, "{r:?}");
    }
}

/// Text, quoted when it holds a separator, quote or line break, or is empty
/// (an unquoted empty field is NULL).
pub(crate) fn push_text(line: &mut Vec<u8>, s: &str) {
    let needs_quotes = s.is_empty() || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        line.extend_from_slice(s.as_bytes());
        return;
    }
    line.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            line.push(b'"');
        }
        line.push(b);
    }
    line.push(b'"');
}

/// A blob as `\x` and lower-case hex.
pub(crate) fn push_blob(line: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    line.extend_from_slice(b"\\x");
    for &x in b {
        line.push(HEX[usize::from(x >> 4)]);
        line.push(HEX[usize::from(x & 15)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut v = Vec::new();
        push_text(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    fn real(r: f64) -> String {
        let mut v = Vec::new();
        push_real(&mut v, r);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn golden_field_forms() {
        assert_eq!(text("plain"), "plain");
        assert_eq!(text(""), "\"\"");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("two\nlines"), "\"two\nlines\"");
        assert_eq!(text("ünïcødé ✓"), "ünïcødé ✓");
        assert_eq!(real(2.0), "2.0");
        assert_eq!(real(0.1), "0.1");
        assert_eq!(real(-1e300), "-1e300");
        assert_eq!(real(f64::INFINITY), "Inf");
        assert_eq!(real(f64::NAN), "NaN");
        for r in [0.1, 1.0 / 3.0, 123456789.12345679, 5e-324, f64::MAX] {
            assert_eq!(real(r).parse::<f64>().unwrap(), r);
        }
        let mut v = Vec::new();
        push_blob(&mut v, &[0, 0xff, 0x10]);
        assert_eq!(v, b"\\x00ff10");
    }
}
