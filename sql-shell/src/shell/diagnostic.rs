//! Error messages that say what went wrong and where.
//!
//! A failed statement is reported on stderr with its place in the input
//! (`source:line:column`, counting from the start of the script, not of the
//! statement) and, when the SQL layer knows the position inside the
//! statement, the offending line with a caret under it:
//!
//! ```text
//! Error: no such column: nmae (did you mean name?)
//!   --> report.sql:3:8
//!    |
//!  3 | SELECT nmae FROM t
//!    |        ^
//! ```
//!
//! Without a position inside the statement (a constraint violation, a
//! storage error) the location is the statement's first character and the
//! line is shown without a caret.

use std::io::{self, Write};

use sql_shell::{SqlError, Statement};
use unicode_width::UnicodeWidthStr;

use super::format::table::escape_controls;

/// Longest source line shown whole; longer ones are cut around the caret.
const MAX_SNIPPET_CHARS: usize = 100;

/// Where a statement sits in its input.
pub struct StatementSite<'a> {
    /// The input's name (`stdin`, a file name, `-c`, `input` for the
    /// terminal).
    pub source: &'a str,
    /// The block of text the statement was split from.
    pub chunk: &'a str,
    /// Line number (in the source) of the chunk's first line.
    pub chunk_line: u64,
    /// The statement, as split from `chunk`.
    pub statement: &'a Statement<'a>,
}

impl StatementSite<'_> {
    /// Line and column (both from 1, column in characters) in the source
    /// of the statement's first character.
    pub fn start(&self) -> (u64, u64) {
        (
            self.chunk_line + u64::from(self.statement.line) - 1,
            u64::from(self.statement.column),
        )
    }
}

/// The error's message without the " at line L, column C" that its
/// `Display` appends (the shell shows the position its own way).
pub fn message(err: &SqlError) -> String {
    let text = err.to_string();
    if let Some(p) = err.position() {
        let suffix = format!(" at {p}");
        if let Some(stripped) = text.strip_suffix(&suffix) {
            return stripped.to_string();
        }
    }
    text
}

/// Write the report of `err`, raised by the statement at `site`.
pub fn write_sql_error(
    w: &mut dyn Write,
    err: &SqlError,
    site: &StatementSite<'_>,
) -> io::Result<()> {
    writeln!(w, "Error: {}", message(err))?;
    let (line, column) = site.start();
    // Index (0-based) of the statement's first line within the chunk.
    let stmt_line_in_chunk = usize::try_from(site.statement.line)
        .unwrap_or(1)
        .saturating_sub(1);
    let (abs_line, abs_col, line_in_chunk, caret) = match err.position() {
        Some(p) => {
            let pl = u64::from(p.line.max(1));
            let pc = u64::from(p.column.max(1));
            let col = if pl == 1 { column + pc - 1 } else { pc };
            let idx = stmt_line_in_chunk + usize::try_from(pl - 1).unwrap_or(0);
            (line + pl - 1, col, idx, true)
        }
        // "found: EOF" without a position: the statement ended too early,
        // so point just past its end.
        None if matches!(err, SqlError::Parse { message, .. } if message.ends_with("found: EOF")) =>
        {
            let text = site.statement.text;
            let extra_lines = text.matches('\n').count();
            let last = text.rsplit('\n').next().unwrap_or("");
            let col = if extra_lines == 0 { column } else { 1 } + last.chars().count() as u64;
            (
                line + extra_lines as u64,
                col,
                stmt_line_in_chunk + extra_lines,
                true,
            )
        }
        None => (line, column, stmt_line_in_chunk, false),
    };
    writeln!(w, "  --> {}:{abs_line}:{abs_col}", site.source)?;
    if let Some(text) = site.chunk.lines().nth(line_in_chunk) {
        let number = abs_line.to_string();
        let gutter = " ".repeat(number.len());
        let col0 = usize::try_from(abs_col).unwrap_or(1).saturating_sub(1);
        let (shown, caret_at) = snippet(text, col0);
        writeln!(w, " {gutter} |")?;
        writeln!(w, " {number} | {shown}")?;
        if caret {
            writeln!(w, " {gutter} | {caret_at}^")?;
        }
    }
    Ok(())
}

/// Write a message about a line of input that is not a statement (a meta
/// command), with its place.
pub fn write_line_error(w: &mut dyn Write, msg: &str, source: &str, line: u64) -> io::Result<()> {
    writeln!(w, "Error: {msg}")?;
    writeln!(w, "  --> {source}:{line}")
}

/// The line to show (cut around `col0` when long, controls escaped) and
/// the padding that puts a caret under character `col0`.
fn snippet(text: &str, col0: usize) -> (String, String) {
    let chars: Vec<char> = text.chars().collect();
    let col0 = col0.min(chars.len());
    let (start, end) = if chars.len() <= MAX_SNIPPET_CHARS {
        (0, chars.len())
    } else {
        let start = col0.saturating_sub(MAX_SNIPPET_CHARS / 2);
        (start, (start + MAX_SNIPPET_CHARS).min(chars.len()))
    };
    let mut shown = String::new();
    let mut pad = String::new();
    if start > 0 {
        shown.push_str("...");
        pad.push_str("   ");
    }
    for (i, ch) in chars[start..end].iter().enumerate() {
        let piece = escape_controls(&ch.to_string()).into_owned();
        if start + i < col0 {
            // Tabs stay tabs so the caret lines up however wide they show.
            if *ch == '\t' {
                pad.push('\t');
                shown.push('\t');
                continue;
            }
            pad.push_str(&" ".repeat(piece.width()));
        }
        shown.push_str(&piece);
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sql_shell::{Position, split_statements};

    fn render(chunk: &str, chunk_line: u64, nth: usize, err: &SqlError) -> String {
        let stmts = split_statements(chunk);
        let site = StatementSite {
            source: "script.sql",
            chunk,
            chunk_line,
            statement: &stmts[nth],
        };
        let mut out = Vec::new();
        write_sql_error(&mut out, err, &site).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn unknown(line: u32, column: u32) -> SqlError {
        SqlError::UnknownColumn {
            name: "nmae".into(),
            suggestion: Some("name".into()),
            position: Some(Position { line, column }),
        }
    }

    #[test]
    fn positions_count_from_the_script_start() {
        let chunk = "select 1;\n  select nmae\n  from t;";
        let got = render(chunk, 10, 1, &unknown(1, 8));
        let want = "\
Error: no such column: nmae (did you mean name?)
  --> script.sql:11:10
    |
 11 |   select nmae
    |          ^
";
        assert_eq!(got, want);
        // An error on the statement's second line: the column is that line's.
        let got = render(chunk, 1, 1, &unknown(2, 3));
        assert!(got.contains("--> script.sql:3:3\n"), "{got}");
        assert!(got.contains(" 3 |   from t;\n   |   ^\n"), "{got}");
    }

    #[test]
    fn errors_without_position_point_at_the_statement() {
        let chunk = "insert into t values (1); insert into t values (1);";
        let err = SqlError::Constraint {
            message: "UNIQUE t.id".into(),
        };
        let got = render(chunk, 4, 1, &err);
        assert_eq!(
            got,
            "Error: constraint failed: UNIQUE t.id\n  --> script.sql:4:27\n   |\n 4 | insert into t values (1); insert into t values (1);\n"
        );
    }

    #[test]
    fn an_early_end_points_past_the_statement() {
        let err = SqlError::parse("Expected: an expression, found: EOF");
        let got = render("select 1;\nselect a\n  where a >", 1, 1, &err);
        assert!(got.contains("--> script.sql:3:12\n"), "{got}");
        assert!(
            got.ends_with(" 3 |   where a >\n   |            ^\n"),
            "{got}"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let long = format!("select {} nmae", "x, ".repeat(100));
        let got = render(&long, 1, 0, &unknown(1, 309));
        let lines: Vec<&str> = got.lines().collect();
        assert!(
            lines[3].contains("...") && lines[3].chars().count() < 120,
            "{got}"
        );
        let caret = lines[4].find('^').unwrap();
        assert_eq!(&lines[3][caret..caret + 4], "nmae", "{got}");
    }

    #[test]
    fn message_drops_the_position_suffix() {
        assert_eq!(
            message(&unknown(1, 2)),
            "no such column: nmae (did you mean name?)"
        );
        assert_eq!(message(&SqlError::runtime("x")), "x");
    }
}
