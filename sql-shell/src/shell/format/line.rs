//! sqlite3's line mode: each row is a block of `column = value` lines with
//! the names right-aligned, each block followed by a blank line (so the
//! rows of consecutive statements stay apart too):
//!
//! ```text
//!   id = 1
//! name = alice
//!
//!   id = 2
//! name = NULL
//!
//! ```

use std::io::{self, Write};

use sql_shell::{Column, Value};
use unicode_width::UnicodeWidthStr;

use super::table::escape_controls;
use super::{Formatter, cell_text};

/// The line-mode formatter; see the [module documentation](self).
pub struct LineFormatter {
    null: String,
    /// Column names, padded on the left to the widest.
    labels: Vec<String>,
    rows: u64,
}

impl LineFormatter {
    /// A formatter showing NULL as `null`.
    pub fn new(null: String) -> Self {
        LineFormatter {
            null,
            labels: Vec::new(),
            rows: 0,
        }
    }
}

impl Formatter for LineFormatter {
    fn begin(&mut self, _out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
        let names: Vec<String> = columns
            .iter()
            .map(|c| escape_controls(&c.name).into_owned())
            .collect();
        let width = names.iter().map(|n| n.width()).max().unwrap_or(0);
        self.labels = names
            .into_iter()
            .map(|n| format!("{}{n}", " ".repeat(width - n.width())))
            .collect();
        self.rows = 0;
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, row: &[Value]) -> io::Result<()> {
        for (label, v) in self.labels.iter().zip(row) {
            writeln!(out, "{label} = {}", cell_text(v, &self.null))?;
        }
        self.rows += 1;
        writeln!(out)
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
    fn blocks_with_aligned_names() {
        let c = cols(&[("id", None), ("name", None)]);
        let rows = vec![
            vec![Value::Integer(1), Value::Text("alice".into())],
            vec![Value::Integer(2), Value::Null],
        ];
        let got = render(&mut LineFormatter::new("NULL".into()), &c, &rows);
        assert_eq!(got, "  id = 1\nname = alice\n\n  id = 2\nname = NULL\n\n");
        assert_eq!(render(&mut LineFormatter::new("".into()), &c, &[]), "");
    }
}
