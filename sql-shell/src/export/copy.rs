//! `COPY` statements: the SQL face of export and import.
//!
//! ```text
//!   COPY table [(col, ...)] TO 'path' [WITH] [(option [value], ...)]
//!   COPY (SELECT ...)       TO 'path' [WITH] [(option [value], ...)]
//!   COPY table [(col, ...)] FROM 'path' [WITH] [(option [value], ...)]
//! ```
//!
//! Options are those of [`ExportOptions::set`] and [`ImportOptions::set`]:
//! `FORMAT parquet|arrow|csv`, `COMPRESSION snappy|zstd|none`,
//! `ROW_GROUP_SIZE n`, `HEADER [true|false]`, `OVERWRITE [true|false]`,
//! `COMMIT_EVERY n`, `BATCH_SIZE n` (values may be quoted, as in DuckDB:
//! `FORMAT 'parquet'`). The result is one line with the rows, bytes and
//! time: `COPY 1000000 rows to t.parquet (parquet, 21.4 MB) in 0.93 s`.
//!
//! ## Why COPY is parsed here
//! sqlparser parses PostgreSQL's COPY options only (FORMAT, HEADER, ...)
//! and rejects COMPRESSION, ROW_GROUP_SIZE and OVERWRITE, so the session
//! hands any statement that starts with `COPY` to [`execute`], which reads
//! it with sqlparser's tokenizer and a small grammar of its own. The query
//! of `COPY (SELECT ...)` is passed to the session unchanged (its text is
//! cut from the statement), so it runs exactly as it would on its own.
//!
//! ## Transactions
//! `COPY ... TO` reads through the session like a query: inside
//! BEGIN ... COMMIT it sees the transaction's own writes. A table outside
//! a transaction is read by a table-layer scan of a fresh snapshot (the
//! same rows as `SELECT *`, without the executor's per-row work). `COPY ... FROM`
//! commits on its own (in one transaction, or every COMMIT_EVERY rows); it
//! is refused inside an explicit transaction, whose handle the session
//! does not share (for simplicity; a session method lending its open
//! transaction would let the load join it through
//! [`import_into`](super::import_into)).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};
use table_layer::{Direction, ScanRange};

use super::columns::ColumnSpec;
use super::error::ExportError;
use super::load::{ImportSummary, import_file};
use super::options::{ExportOptions, ImportOptions};
use super::progress::Progress;
use super::write::{ExportSummary, export_rows, export_scan};
use crate::error::SqlError;
use crate::session::{Output, Session, map_table_error};

/// Progress bars for COPY run through [`Session::execute`] (off by
/// default, so a library user's stderr stays quiet).
static PROGRESS_BARS: AtomicBool = AtomicBool::new(false);

/// Show a progress bar (rows, rows/s) for COPY statements when stderr is a
/// terminal. The shell turns this on in interactive mode.
pub fn show_progress_bars(on: bool) {
    PROGRESS_BARS.store(on, Ordering::Relaxed);
}

fn show_bars() -> bool {
    PROGRESS_BARS.load(Ordering::Relaxed)
}

/// What a COPY reads or writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopySource {
    /// A table, optionally some of its columns.
    Table {
        /// Table name.
        name: String,
        /// Column names; empty for all.
        columns: Vec<String>,
    },
    /// The text of a query (`COPY (SELECT ...) TO`).
    Query(String),
}

/// A parsed COPY statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyStatement {
    /// The table or query.
    pub source: CopySource,
    /// True for `TO` (export), false for `FROM` (import).
    pub to: bool,
    /// The file.
    pub path: PathBuf,
    /// Options as written: lower-case name and optional value.
    pub options: Vec<(String, Option<String>)>,
}

/// True when the statement's first word is `COPY` (after whitespace and
/// comments).
///
/// ```
/// use sql_shell::export::copy::is_copy;
/// assert!(is_copy("  -- note\n copy t to 'x.csv'"));
/// assert!(!is_copy("SELECT 1"));
/// assert!(!is_copy("copying"));
/// ```
pub fn is_copy(sql: &str) -> bool {
    let mut s = sql;
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let word: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    word.eq_ignore_ascii_case("copy")
}

/// Byte offset of a tokenizer location (1-based line and column in
/// characters) in `sql`.
fn offset(sql: &str, loc: Location) -> Option<usize> {
    let (mut line, mut col) = (1u64, 1u64);
    for (i, c) in sql.char_indices() {
        if line == loc.line && col == loc.column {
            return Some(i);
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line == loc.line && col == loc.column).then_some(sql.len())
}

/// Tokens without whitespace and comments, with a cursor.
struct Tokens<'a> {
    sql: &'a str,
    toks: Vec<TokenWithSpan>,
    pos: usize,
}

impl Tokens<'_> {
    fn peek(&self) -> &Token {
        self.toks.get(self.pos).map_or(&Token::EOF, |t| &t.token)
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn at(&self) -> String {
        match self.peek() {
            Token::EOF => "the end of the statement".into(),
            t => format!("{t}"),
        }
    }

    fn expected(&self, what: &str) -> SqlError {
        SqlError::parse(format!("COPY: expected {what}, found {}", self.at()))
    }

    fn word(&mut self) -> Option<String> {
        match self.peek() {
            Token::Word(w) => {
                let v = w.value.clone();
                self.pos += 1;
                Some(v)
            }
            _ => None,
        }
    }

    fn keyword(&mut self, k: &str) -> bool {
        match self.peek() {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == t {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `(a, b, ...)` of identifiers.
    fn name_list(&mut self) -> Result<Vec<String>, SqlError> {
        let mut names = Vec::new();
        loop {
            names.push(self.word().ok_or_else(|| self.expected("a column name"))?);
            if self.eat(&Token::RParen) {
                return Ok(names);
            }
            if !self.eat(&Token::Comma) {
                return Err(self.expected("',' or ')'"));
            }
        }
    }
}

/// Parse a COPY statement (see the module documentation).
///
/// ```
/// use sql_shell::export::copy::{parse_copy, CopySource};
/// let c = parse_copy("COPY (SELECT a FROM t WHERE b = 'it''s') TO 'out.parquet' \
///                     (FORMAT parquet, COMPRESSION 'zstd', OVERWRITE)")?;
/// assert_eq!(c.source, CopySource::Query("SELECT a FROM t WHERE b = 'it''s'".into()));
/// assert!(c.to);
/// assert_eq!(c.options[1], ("compression".into(), Some("zstd".into())));
/// assert_eq!(c.options[2], ("overwrite".into(), None));
/// # Ok::<(), sql_shell::SqlError>(())
/// ```
pub fn parse_copy(sql: &str) -> Result<CopyStatement, SqlError> {
    let dialect = SQLiteDialect {};
    let toks = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| SqlError::parse(e.to_string()))?
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut t = Tokens { sql, toks, pos: 0 };
    if !t.keyword("copy") {
        return Err(t.expected("COPY"));
    }
    let source = if t.peek() == &Token::LParen {
        let open = t.pos;
        let mut depth = 0usize;
        let close = loop {
            match t.next() {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        break t.pos - 1;
                    }
                }
                Token::EOF => return Err(SqlError::parse("COPY: the query's '(' is not closed")),
                _ => {}
            }
        };
        let start = offset(t.sql, t.toks[open].span.end);
        let end = offset(t.sql, t.toks[close].span.start);
        match (start, end) {
            (Some(s), Some(e)) if s <= e => CopySource::Query(t.sql[s..e].trim().to_owned()),
            _ => return Err(SqlError::parse("COPY: cannot find the query's text")),
        }
    } else {
        let mut name = t
            .word()
            .ok_or_else(|| t.expected("a table name or (query)"))?;
        // schema.table: only one schema exists; keep the last part.
        while t.eat(&Token::Period) {
            name = t.word().ok_or_else(|| t.expected("a table name"))?;
        }
        let columns = if t.eat(&Token::LParen) {
            t.name_list()?
        } else {
            Vec::new()
        };
        CopySource::Table { name, columns }
    };
    let to = if t.keyword("to") {
        true
    } else if t.keyword("from") {
        false
    } else {
        return Err(t.expected("TO or FROM"));
    };
    if !to && matches!(source, CopySource::Query(_)) {
        return Err(SqlError::parse(
            "COPY (query) FROM is not possible: load into a table",
        ));
    }
    let path = match t.next() {
        Token::SingleQuotedString(s) => PathBuf::from(s),
        Token::Word(w) if w.quote_style.is_none() => {
            let what = w.value.to_ascii_uppercase();
            return Err(SqlError::unsupported(format!(
                "COPY {} {what} (give a file path in single quotes)",
                if to { "TO" } else { "FROM" }
            )));
        }
        other => {
            return Err(SqlError::parse(format!(
                "COPY: expected a file path in single quotes, found {other}"
            )));
        }
    };
    let _ = t.keyword("with");
    let mut options = Vec::new();
    if t.eat(&Token::LParen) {
        loop {
            let name = t.word().ok_or_else(|| t.expected("an option name"))?;
            let value = match t.peek().clone() {
                Token::Comma | Token::RParen => None,
                Token::Word(w) => {
                    t.pos += 1;
                    Some(w.value)
                }
                Token::Number(n, _) => {
                    t.pos += 1;
                    Some(n)
                }
                Token::SingleQuotedString(s) => {
                    t.pos += 1;
                    Some(s)
                }
                _ => return Err(t.expected(&format!("a value for {name}, ',' or ')'"))),
            };
            options.push((name.to_ascii_lowercase(), value));
            if t.eat(&Token::RParen) {
                break;
            }
            if !t.eat(&Token::Comma) {
                return Err(t.expected("',' or ')' between options"));
            }
        }
    }
    let _ = t.eat(&Token::SemiColon);
    if t.peek() != &Token::EOF {
        return Err(t.expected("the end of the COPY statement"));
    }
    Ok(CopyStatement {
        source,
        to,
        path,
        options,
    })
}

/// A SQL identifier in double quotes.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Map an export/import error to the SQL layer's error kinds.
pub fn sql_error(e: ExportError) -> SqlError {
    let message = e.to_string();
    match e {
        ExportError::Source { error, .. } => match error.downcast::<SqlError>() {
            Ok(sql) => *sql,
            Err(other) => SqlError::runtime(other.to_string()),
        },
        ExportError::Table { error, .. } => match map_table_error(error) {
            SqlError::Constraint { .. } => SqlError::Constraint { message },
            SqlError::Conflict { .. } => SqlError::Conflict { message },
            SqlError::Storage { .. } => SqlError::Storage { message },
            other => other,
        },
        ExportError::BadValue { .. } | ExportError::Schema { .. } => SqlError::type_error(message),
        ExportError::Option { .. } => SqlError::parse(message),
        ExportError::Io { .. } => SqlError::Storage { message },
        _ => SqlError::runtime(message),
    }
}

/// Run a COPY statement in `session` (see the module documentation).
/// [`Session::execute`] calls this for statements that start with COPY.
///
/// ```
/// use sql_shell::{Output, Session};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("t.parquet");
/// let mut s = Session::open(None)?;
/// s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")?;
/// s.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")?;
/// let sql = format!("COPY t TO '{}' (COMPRESSION zstd)", path.display());
/// let Output::Message(m) = sql_shell::export::copy::execute(&mut s, &sql)? else { panic!() };
/// assert!(m.starts_with("COPY 2 rows to"), "{m}");
/// s.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT)")?;
/// let sql = format!("COPY u FROM '{}'", path.display());
/// sql_shell::export::copy::execute(&mut s, &sql)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn execute(session: &mut Session, sql: &str) -> Result<Output<'static>, SqlError> {
    execute_with(session, sql, false, None)
}

/// [`execute`] with a progress bar (when `bars` is true, or turned on by
/// [`show_progress_bars`], and stderr is a terminal) and a cancel flag
/// (the shell's Ctrl-C): once set, an export stops and leaves no file, an
/// import commits nothing more (see [`Progress::with_cancel`]).
pub fn execute_with(
    session: &mut Session,
    sql: &str,
    bars: bool,
    cancel: Option<&AtomicBool>,
) -> Result<Output<'static>, SqlError> {
    let c = parse_copy(sql)?;
    if c.to {
        let mut opts = ExportOptions::default();
        for (k, v) in &c.options {
            opts.set(k, v.as_deref()).map_err(sql_error)?;
        }
        opts.progress |= bars || show_bars();
        let mut progress = bar(opts.progress, "exporting", cancel);
        let s = export_source(session, &c.source, &c.path, &opts, &mut progress)?;
        Ok(Output::Message(s.to_string()))
    } else {
        let mut opts = ImportOptions::default();
        for (k, v) in &c.options {
            opts.set(k, v.as_deref()).map_err(sql_error)?;
        }
        opts.progress |= bars || show_bars();
        let CopySource::Table { name, columns } = &c.source else {
            return Err(SqlError::parse("COPY (query) FROM is not possible"));
        };
        let mut progress = bar(opts.progress, "importing", cancel);
        let s = import_table(session, name, columns, &c.path, &opts, &mut progress)?;
        Ok(Output::Message(s.to_string()))
    }
}

/// A progress bar (drawn only on a terminal) stopping at `cancel`.
fn bar<'a>(show: bool, label: &'static str, cancel: Option<&'a AtomicBool>) -> Progress<'a> {
    let p = Progress::bar(show, label);
    match cancel {
        Some(flag) => p.with_cancel(flag),
        None => p,
    }
}

/// Export a table (all or some columns) or a query's result through the
/// session: what `COPY ... TO` and the shell's `.export` run.
///
/// ```
/// use sql_shell::export::{copy::{export_source, CopySource}, ExportOptions, Progress};
/// let dir = tempfile::tempdir()?;
/// let mut s = sql_shell::Session::open(None)?;
/// let q = CopySource::Query("SELECT 1 AS one, 'x' || 'y' AS xy".into());
/// let sum = export_source(&mut s, &q, &dir.path().join("q.csv"), &ExportOptions::default(),
///                         &mut Progress::none())?;
/// assert_eq!(std::fs::read_to_string(dir.path().join("q.csv"))?, "one,xy\n1,xy\n");
/// assert_eq!(sum.rows, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_source(
    session: &mut Session,
    source: &CopySource,
    path: &Path,
    opts: &ExportOptions,
    progress: &mut Progress<'_>,
) -> Result<ExportSummary, SqlError> {
    let (query, declared): (String, Option<Vec<ColumnSpec>>) = match source {
        CopySource::Query(q) => (q.clone(), None),
        CopySource::Table { name, columns } => {
            let table = session.catalog().table(name).map_err(map_table_error)?;
            let all = ColumnSpec::from_table(&table);
            let mut picked: Vec<usize> = (0..all.len()).collect();
            if !columns.is_empty() {
                picked = columns
                    .iter()
                    .map(|c| table.require_column(c).map_err(map_table_error))
                    .collect::<Result<_, _>>()?;
            }
            let specs: Vec<ColumnSpec> = picked.iter().map(|&i| all[i].clone()).collect();
            if !session.in_transaction() {
                // Outside BEGIN ... COMMIT a table is read straight from a
                // table-layer snapshot scan, decoded field by field into the
                // Arrow builders: what the query below would return,
                // without the executor's or a transaction's per-row cost.
                let scan = session
                    .database()
                    .snapshot_scan(table.name(), ScanRange::all(), Direction::Forward)
                    .map_err(map_table_error)?;
                return export_scan(scan, &picked, path, opts, progress).map_err(sql_error);
            }
            let list = specs
                .iter()
                .map(|c| quote_ident(&c.name))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("SELECT {list} FROM {}", quote_ident(table.name())),
                Some(specs),
            )
        }
    };
    let rows = match session.execute(&query)? {
        Output::Rows(rows) => rows,
        _ => {
            return Err(SqlError::type_error(
                "COPY (...) TO needs a query that returns rows",
            ));
        }
    };
    let columns = declared.unwrap_or_else(|| {
        rows.columns()
            .iter()
            .map(|c| ColumnSpec {
                name: c.name.clone(),
                data_type: c.data_type,
                nullable: true,
            })
            .collect()
    });
    export_rows(columns, rows, path, opts, progress).map_err(sql_error)
}

/// Load a file into a table through the session's database: what
/// `COPY ... FROM` and the shell's `.import` run. `columns` names the
/// table columns the file's columns feed, in order (empty: by name or
/// position, see [`open_import`](super::open_import)).
pub fn import_table(
    session: &mut Session,
    table: &str,
    columns: &[String],
    path: &Path,
    opts: &ImportOptions,
    progress: &mut Progress<'_>,
) -> Result<ImportSummary, SqlError> {
    if session.in_transaction() {
        return Err(SqlError::transaction(
            "COPY ... FROM commits on its own and cannot run inside BEGIN ... COMMIT; \
             COMMIT or ROLLBACK first",
        ));
    }
    let cols = (!columns.is_empty()).then_some(columns);
    import_file(session.database(), table, path, cols, opts, progress).map_err(sql_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let c = parse_copy("copy \"My Table\" (a, \"B\") to '/tmp/x y.csv' with (header false);")
            .unwrap();
        assert_eq!(
            c.source,
            CopySource::Table {
                name: "My Table".into(),
                columns: vec!["a".into(), "B".into()]
            }
        );
        assert_eq!(c.path, PathBuf::from("/tmp/x y.csv"));
        assert_eq!(c.options, vec![("header".into(), Some("false".into()))]);

        let c =
            parse_copy("COPY t FROM 'in.parquet' (COMMIT_EVERY 1000, FORMAT 'parquet')").unwrap();
        assert!(!c.to);
        assert_eq!(c.options[0], ("commit_every".into(), Some("1000".into())));

        let c = parse_copy("COPY (\n  SELECT (1 + 2) AS x\n) TO 'q.arrow'").unwrap();
        assert_eq!(c.source, CopySource::Query("SELECT (1 + 2) AS x".into()));
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = parse_copy("COPY t 'x.csv'").unwrap_err().to_string();
        assert!(e.contains("TO or FROM"), "{e}");
        let e = parse_copy("COPY t TO STDOUT").unwrap_err();
        assert!(e.to_string().contains("STDOUT"), "{e}");
        assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
        let e = parse_copy("COPY (SELECT 1) FROM 'x'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("FROM"), "{e}");
        let e = parse_copy("COPY t TO 'x' (FORMAT csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("',' or ')'"), "{e}");
        let e = parse_copy("COPY (SELECT 1 TO 'x'").unwrap_err().to_string();
        assert!(e.contains("not closed"), "{e}");
        let e = parse_copy("COPY t TO 'x' extra").unwrap_err().to_string();
        assert!(e.contains("end of the COPY"), "{e}");
    }

    #[test]
    fn offsets_count_characters() {
        let sql = "é\nab";
        assert_eq!(offset(sql, Location { line: 2, column: 2 }), Some(4));
        assert_eq!(offset(sql, Location { line: 2, column: 3 }), Some(5));
    }
}
