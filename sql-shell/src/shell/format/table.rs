//! The aligned table, psql style:
//!
//! ```text
//!  id | name  | score
//! ----+-------+-------
//!   1 | alice |   9.5
//!   2 | NULL  |  NULL
//! (2 rows)
//! ```
//!
//! Headers are centred, numeric columns right-aligned, everything else
//! left-aligned; trailing blanks are trimmed. A column is numeric when its
//! declared type is INTEGER or REAL, or, for a computed column, when every
//! non-NULL value of the sizing batch is a number. Control characters
//! inside values print escaped (`\n`, `\t`, `\u{1b}`) so that one value
//! cannot break the grid.
//!
//! Widths come from the first [`TABLE_SIZING_ROWS`] rows (see the
//! [parent module](super)); a longer value later widens only its own line.

use std::borrow::Cow;
use std::io::{self, Write};

use sql_shell::{Column, DataType, Value};
use unicode_width::UnicodeWidthStr;

use super::{Formatter, cell_text};

/// Rows held to size the columns before anything is printed. A result of
/// at most this many rows is aligned exactly; a longer one streams after
/// them with the same widths.
pub const TABLE_SIZING_ROWS: usize = 1000;

/// The aligned-table formatter; see the [module documentation](self).
pub struct TableFormatter {
    null: String,
    headers: bool,
    names: Vec<String>,
    declared: Vec<Option<DataType>>,
    /// Rendered cells of the sizing batch, with "is a number" per cell.
    batch: Vec<Vec<(String, bool)>>,
    /// Set once the header is printed: from then on rows stream.
    layout: Option<Layout>,
}

struct Layout {
    widths: Vec<usize>,
    right: Vec<bool>,
}

impl TableFormatter {
    /// A formatter showing NULL as `null`, with or without the header and
    /// row count.
    pub fn new(null: String, headers: bool) -> Self {
        TableFormatter {
            null,
            headers,
            names: Vec::new(),
            declared: Vec::new(),
            batch: Vec::new(),
            layout: None,
        }
    }

    fn cells(&self, row: &[Value]) -> Vec<(String, bool)> {
        row.iter()
            .map(|v| {
                let text = escape_controls(&cell_text(v, &self.null)).into_owned();
                (text, matches!(v, Value::Integer(_) | Value::Real(_)))
            })
            .collect()
    }

    /// Size the columns from the batch, print the header and the batch.
    fn flush_batch(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let n = self.names.len();
        let mut widths: Vec<usize> = if self.headers {
            self.names.iter().map(|s| s.width()).collect()
        } else {
            vec![0; n]
        };
        let mut right = vec![false; n];
        for (c, r) in right.iter_mut().enumerate() {
            *r = match self.declared.get(c).copied().flatten() {
                Some(DataType::Integer | DataType::Real) => true,
                Some(_) => false,
                None => {
                    let mut any = false;
                    let mut all = true;
                    for row in &self.batch {
                        if let Some((text, num)) = row.get(c) {
                            if *num {
                                any = true;
                            } else if *text != self.null {
                                all = false;
                            }
                        }
                    }
                    any && all
                }
            };
        }
        for row in &self.batch {
            for (c, (text, _)) in row.iter().enumerate().take(n) {
                widths[c] = widths[c].max(text.width());
            }
        }
        let layout = Layout { widths, right };
        if self.headers {
            let header: Vec<String> = self
                .names
                .iter()
                .map(|s| escape_controls(s).into_owned())
                .collect();
            write_line(
                out,
                &layout,
                header.iter().map(|h| (h.as_str(), Align::Center)),
            )?;
            let sep: Vec<String> = layout.widths.iter().map(|w| "-".repeat(w + 2)).collect();
            writeln!(out, "{}", sep.join("+"))?;
        }
        for row in std::mem::take(&mut self.batch) {
            print_row(out, &layout, &row)?;
        }
        self.layout = Some(layout);
        Ok(())
    }
}

impl Formatter for TableFormatter {
    fn begin(&mut self, _out: &mut dyn Write, columns: &[Column]) -> io::Result<()> {
        self.names = columns.iter().map(|c| c.name.clone()).collect();
        self.declared = columns.iter().map(|c| c.data_type).collect();
        self.batch.clear();
        self.layout = None;
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, row: &[Value]) -> io::Result<()> {
        let cells = self.cells(row);
        match &self.layout {
            Some(layout) => print_row(out, layout, &cells),
            None => {
                self.batch.push(cells);
                if self.batch.len() >= TABLE_SIZING_ROWS {
                    self.flush_batch(out)?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Write, rows: u64, _complete: bool) -> io::Result<()> {
        if self.layout.is_none() {
            self.flush_batch(out)?;
        }
        if self.headers {
            let noun = if rows == 1 { "row" } else { "rows" };
            writeln!(out, "({rows} {noun})")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
    Center,
}

fn print_row(out: &mut dyn Write, layout: &Layout, row: &[(String, bool)]) -> io::Result<()> {
    write_line(
        out,
        layout,
        row.iter().enumerate().map(|(c, (text, _))| {
            let align = if layout.right.get(c).copied().unwrap_or(false) {
                Align::Right
            } else {
                Align::Left
            };
            (text.as_str(), align)
        }),
    )
}

/// ` a | b  | c` with each cell padded to its column's width, trailing
/// blanks trimmed.
fn write_line<'a>(
    out: &mut dyn Write,
    layout: &Layout,
    cells: impl Iterator<Item = (&'a str, Align)>,
) -> io::Result<()> {
    let mut line = String::new();
    for (c, (text, align)) in cells.enumerate() {
        if c > 0 {
            line.push('|');
        }
        line.push(' ');
        let width = layout.widths.get(c).copied().unwrap_or(0);
        let pad = width.saturating_sub(text.width());
        let (before, after) = match align {
            Align::Left => (0, pad),
            Align::Right => (pad, 0),
            Align::Center => (pad / 2, pad - pad / 2),
        };
        line.extend(std::iter::repeat_n(' ', before));
        line.push_str(text);
        line.extend(std::iter::repeat_n(' ', after));
        line.push(' ');
    }
    writeln!(out, "{}", line.trim_end())
}

/// Control characters shown as escapes so a value stays on one line.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    Cow::Owned(o)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{cols, render};
    use super::*;

    fn table(null: &str) -> TableFormatter {
        TableFormatter::new(null.into(), true)
    }

    #[test]
    fn aligned_with_centred_headers_and_right_aligned_numbers() {
        let c = cols(&[
            ("id", Some(DataType::Integer)),
            ("name", Some(DataType::Text)),
            ("score", None),
        ]);
        let rows = vec![
            vec![
                Value::Integer(1),
                Value::Text("alice".into()),
                Value::Real(9.5),
            ],
            vec![Value::Integer(22), Value::Null, Value::Null],
        ];
        let got = render(&mut table("NULL"), &c, &rows);
        let want = concat!(
            " id | name  | score\n",
            "----+-------+-------\n",
            "  1 | alice |   9.5\n",
            " 22 | NULL  |  NULL\n",
            "(2 rows)\n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn empty_results_print_header_and_count() {
        let c = cols(&[("a", None)]);
        assert_eq!(render(&mut table("NULL"), &c, &[]), " a\n---\n(0 rows)\n");
        let one = render(&mut table(""), &c, &[vec![Value::Text("x".into())]]);
        assert_eq!(one, " a\n---\n x\n(1 row)\n");
    }

    #[test]
    fn without_headers_only_rows() {
        let c = cols(&[("a", None), ("b", None)]);
        let mut f = TableFormatter::new("".into(), false);
        let got = render(
            &mut f,
            &c,
            &[vec![Value::Integer(10), Value::Text("x".into())]],
        );
        assert_eq!(got, " 10 | x\n");
    }

    #[test]
    fn wide_characters_and_controls_keep_the_grid() {
        let c = cols(&[("k", None), ("v", None)]);
        let rows = vec![
            vec![Value::Text("日本".into()), Value::Text("a\nb".into())],
            vec![Value::Text("x".into()), Value::Text("tab\there".into())],
        ];
        let got = render(&mut table("NULL"), &c, &rows);
        let want = concat!(
            "  k   |     v\n",
            "------+-----------\n",
            " 日本 | a\\nb\n",
            " x    | tab\\there\n",
            "(2 rows)\n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn streams_after_the_sizing_batch() {
        let c = cols(&[("n", Some(DataType::Integer))]);
        let mut f = table("NULL");
        let mut out = Vec::new();
        f.begin(&mut out, &c).unwrap();
        for i in 0..TABLE_SIZING_ROWS as i64 - 1 {
            f.row(&mut out, &[Value::Integer(i % 10)]).unwrap();
        }
        assert!(out.is_empty(), "nothing printed while sizing");
        f.row(&mut out, &[Value::Integer(1)]).unwrap();
        let printed = out.len();
        assert!(printed > 0, "the batch is printed once full");
        // A later, wider value widens its own line only.
        f.row(&mut out, &[Value::Integer(123456)]).unwrap();
        f.finish(&mut out, TABLE_SIZING_ROWS as u64 + 1, true)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], " n");
        assert_eq!(lines[2], " 0");
        assert_eq!(lines[lines.len() - 2], " 123456");
        assert_eq!(lines[lines.len() - 1], "(1001 rows)");
    }
}
