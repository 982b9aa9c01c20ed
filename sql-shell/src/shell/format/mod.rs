//! Result formatters: how a statement's rows reach stdout in each
//! [`Mode`](super::settings::Mode).
//!
//! Every formatter streams. It sees the columns once ([`Formatter::begin`]),
//! then each row as the cursor yields it ([`Formatter::row`]), then the end
//! ([`Formatter::finish`]), and writes as it goes:
//!
//! ```text
//!   Rows cursor ──row──► Formatter ──bytes──► BufWriter(stdout), flushed per statement
//!                          table: holds the first TABLE_SIZING_ROWS rows to size the
//!                                 columns, then prints them and streams the rest
//!                          csv / json / jsonl / line: write each row at once
//! ```
//!
//! The aligned table is the only format that needs to look ahead: column
//! widths depend on the values. Like psql with `FETCH_COUNT`, it sizes the
//! columns from a bounded first batch (see [`table::TABLE_SIZING_ROWS`]) and
//! prints later rows with the same widths, letting a longer value widen its
//! own line only. Memory stays bounded by the batch, never by the result.

pub mod csv;
pub mod json;
pub mod line;
pub mod table;

use std::io::{self, Write};

use sql_shell::{Column, Value};

use super::settings::{Mode, Settings};

/// A result formatter; see the [module documentation](self).
pub trait Formatter {
    /// The result's columns, before any row.
    fn begin(&mut self, out: &mut dyn Write, columns: &[Column]) -> io::Result<()>;
    /// One row (as many values as columns).
    fn row(&mut self, out: &mut dyn Write, row: &[Value]) -> io::Result<()>;
    /// The end of the result: `rows` rows were given. `complete` is false
    /// when the result was cut short (an error or Ctrl-C): formats that
    /// close a structure (JSON) still close it, so the output stays valid.
    fn finish(&mut self, out: &mut dyn Write, rows: u64, complete: bool) -> io::Result<()>;
}

/// The formatter for the current settings.
pub fn formatter(settings: &Settings) -> Box<dyn Formatter> {
    let null = settings.null_display().to_string();
    match settings.mode {
        Mode::Table => Box::new(table::TableFormatter::new(null, settings.headers)),
        Mode::Csv => Box::new(csv::CsvFormatter::new(null, settings.headers)),
        Mode::Json => Box::new(json::JsonFormatter::new(false)),
        Mode::JsonLines => Box::new(json::JsonFormatter::new(true)),
        Mode::Line => Box::new(line::LineFormatter::new(null)),
    }
}

/// The text of a value as the human formats show it (NULL as `null`).
pub(crate) fn cell_text<'a>(v: &'a Value, null: &'a str) -> std::borrow::Cow<'a, str> {
    match v {
        Value::Null => std::borrow::Cow::Borrowed(null),
        other => sql_shell::display(other),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the formatters' golden tests.
    use super::*;
    use sql_shell::DataType;

    /// Columns named `names`, untyped unless a type is given.
    pub fn cols(names: &[(&str, Option<DataType>)]) -> Vec<Column> {
        names
            .iter()
            .map(|(n, t)| Column {
                name: (*n).to_string(),
                data_type: *t,
            })
            .collect()
    }

    /// Run a formatter over rows and return what it wrote.
    pub fn render(f: &mut dyn Formatter, columns: &[Column], rows: &[Vec<Value>]) -> String {
        let mut out = Vec::new();
        f.begin(&mut out, columns).unwrap();
        for r in rows {
            f.row(&mut out, r).unwrap();
        }
        f.finish(&mut out, rows.len() as u64, true).unwrap();
        String::from_utf8(out).unwrap()
    }
}
