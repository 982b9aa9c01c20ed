//! Meta commands: lines starting with `.` (sqlite3 style) or `\` (a few
//! psql spellings) at the start of a statement. They are handled by the
//! shell, not the SQL engine, and take whitespace-separated arguments
//! (quote an argument with `'` or `"` to keep its spaces).

use std::io::{BufReader, Write};
use std::path::Path;

use sql_shell::Session;

use super::input::ReaderSource;
use super::runner::{MAX_READ_DEPTH, Shell, Stop};
use super::schema;
use super::settings::{Mode, parse_switch};

/// `.help`.
pub const HELP: &str = "\
Meta commands (also at the start of a line in scripts):
  .help                  this list
  .tables [PATTERN]      the tables (matching a LIKE pattern: .tables order%)
  .schema [TABLE]        CREATE statements of the tables (or one) and their indexes
  .indexes [TABLE]       the indexes (of one table)
  .show                  the current settings and database
  .mode [MODE]           output mode: table, csv, json, jsonl, line (no MODE: show it)
  .headers on|off        column names in table and csv output
  .nullvalue TEXT        how NULL is shown ('' for empty)
  .timer [on|off]        print each statement's elapsed time (no argument: toggle)
  .bail on|off           stop scripts at the first error
  .echo on|off           print each statement before running it
  .read FILE             run the statements and commands in FILE
  .open PATH             close this database and open PATH (:memory: for a new in-memory one)
  .stats [raw]           storage engine statistics (grouped; raw: name value lines)
                         and table row counts
  .check [TABLE]         integrity check: every index agrees with its table
  .export [--overwrite] FILE TABLE|QUERY
                         write a table or a query's result to FILE: parquet, arrow
                         or csv by its extension (--format, --compression snappy|zstd|none,
                         --row-group-size N, --no-header change that)
  .import [--commit-every N] FILE TABLE
                         load a parquet, arrow or csv FILE into TABLE, all or nothing
                         (or committing every N rows); --format, --no-header
  .quit, .exit [CODE]    leave the shell (Ctrl-D too)
psql spellings: \\q \\? \\dt \\d [TABLE] \\di \\timing \\i FILE \\x (line mode) \\set
Statements end with ';' and may span lines. Ctrl-C drops the statement being
typed, stops the output of a running query, and stops a COPY, .export or
.import (no file is left; nothing more is loaded).
COPY t TO 'f.parquet' / COPY (SELECT ...) TO 'f.csv' / COPY t FROM 'f.arrow'
with options (FORMAT, COMPRESSION, ROW_GROUP_SIZE, HEADER, OVERWRITE,
COMMIT_EVERY) do the same as .export and .import in SQL (docs/EXPORT.md).
";

/// Every command name, for near-miss suggestions.
const COMMANDS: &[&str] = &[
    "help",
    "tables",
    "show",
    "schema",
    "indexes",
    "mode",
    "headers",
    "nullvalue",
    "timer",
    "bail",
    "echo",
    "read",
    "open",
    "stats",
    "check",
    "export",
    "import",
    "quit",
    "exit",
];

/// Split a command line into words, honouring `'...'` and `"..."` quotes.
pub fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in line.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => cur.push(ch),
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                in_word = true;
            }
            None if ch.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(ch);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// SQL LIKE, case-insensitive: `%` any run of characters, `_` one
/// character (for `.tables PATTERN`, as sqlite3 does).
fn like(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let n: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    // matched[j]: the pattern so far matches the first j name characters
    // (dynamic programming: linear in each, whatever the pattern).
    let mut matched = vec![false; n.len() + 1];
    matched[0] = true;
    for &c in &p {
        let mut next = vec![false; n.len() + 1];
        for j in 0..=n.len() {
            next[j] = match c {
                '%' => matched[j] || (j > 0 && next[j - 1]),
                '_' => j > 0 && matched[j - 1],
                c => j > 0 && matched[j - 1] && n[j - 1] == c,
            };
        }
        matched = next;
    }
    matched[n.len()]
}

/// A psql backslash command as the equivalent dot command.
fn from_psql(cmd: &str, args: &[String]) -> Option<(&'static str, Vec<String>)> {
    let a = args.to_vec();
    Some(match cmd {
        "q" => ("quit", a),
        "x" => ("mode", vec!["line".to_string()]),
        "set" if args.is_empty() => ("show", a),
        "?" | "h" | "help" => ("help", a),
        "dt" => ("tables", a),
        "d" if args.is_empty() => ("tables", a),
        "d" => ("schema", a),
        "di" => ("indexes", a),
        "timing" => ("timer", a),
        "i" | "ir" => ("read", a),
        _ => return None,
    })
}

impl Shell {
    /// Run the meta command on `line` (line `lineno` of `source`).
    pub fn run_meta(&mut self, line: &str, source: &str, lineno: u64) {
        if self.settings.echo {
            let _ = writeln!(self.out, "{}", line.trim());
        }
        if let Err(msg) = self.meta(line, source) {
            self.fail_at(&msg, source, lineno);
        }
        if let Err(e) = self.out.flush() {
            self.output_failed(e);
        }
    }

    fn meta(&mut self, line: &str, source: &str) -> Result<(), String> {
        let trimmed = line.trim();
        // .export and .import take SQL and paths verbatim after their name.
        let body = trimmed[1..].trim_start();
        let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
        if trimmed.starts_with('.') {
            match body[..name_end].to_ascii_lowercase().as_str() {
                "export" => return super::transfer::export(self, &body[name_end..]),
                "import" => return super::transfer::import(self, &body[name_end..]),
                _ => {}
            }
        }
        let all = words(&trimmed[1..])?;
        let Some((cmd, args)) = all.split_first() else {
            return Err("a meta command needs a name (try .help)".into());
        };
        let (name, args): (String, Vec<String>) = if trimmed.starts_with('\\') {
            match from_psql(cmd, args) {
                Some((n, a)) => (n.to_string(), a),
                None => {
                    return Err(format!(
                        "unknown command \\{cmd} (.help lists the commands)"
                    ));
                }
            }
        } else {
            (cmd.to_ascii_lowercase(), args.to_vec())
        };
        let arg = |i: usize| args.get(i).map(String::as_str);
        let max_args = |n: usize| -> Result<(), String> {
            if args.len() > n {
                Err(format!(".{name} takes at most {n} argument(s); see .help"))
            } else {
                Ok(())
            }
        };
        let out = |s: &mut Shell, text: &str| -> Result<(), String> {
            s.out.write_all(text.as_bytes()).map_err(|e| {
                let msg = format!("writing output: {e}");
                s.output_failed(e);
                msg
            })
        };
        match name.as_str() {
            "help" => out(self, HELP),
            "quit" | "exit" => {
                max_args(1)?;
                let code = match arg(0) {
                    Some(c) => c
                        .parse::<i32>()
                        .map_err(|_| format!("bad exit code {c:?}"))?,
                    None => 0,
                };
                self.stop = Some(Stop::Quit(code));
                Ok(())
            }
            "tables" => {
                max_args(1)?;
                let cat = self.session.catalog();
                let mut text = String::new();
                for t in schema::sorted_tables(&cat) {
                    if arg(0).is_none_or(|p| like(p, t.name())) {
                        text.push_str(t.name());
                        text.push('\n');
                    }
                }
                out(self, &text)
            }
            "show" => {
                max_args(0)?;
                let text = self.show_settings();
                out(self, &text)
            }
            "schema" => {
                max_args(1)?;
                let cat = self.session.catalog();
                let text = schema::schema(&cat, arg(0))?;
                out(self, &text)
            }
            "indexes" | "indices" => {
                max_args(1)?;
                let cat = self.session.catalog();
                let tables = match arg(0) {
                    Some(t) => vec![cat.find_table(t).ok_or_else(|| schema::no_table(&cat, t))?],
                    None => schema::sorted_tables(&cat),
                };
                let mut rows = Vec::new();
                for t in tables {
                    for i in t.indexes() {
                        let unique = if i.is_unique() { " UNIQUE" } else { "" };
                        rows.push((
                            i.name().to_string(),
                            format!(
                                "ON {} ({}){unique}",
                                schema::ident(t.name()),
                                schema::index_columns(t, i)
                            ),
                        ));
                    }
                }
                let w = rows
                    .iter()
                    .map(|(n, _)| n.chars().count())
                    .max()
                    .unwrap_or(0);
                let text: String = rows
                    .iter()
                    .map(|(n, d)| format!("{n:<w$}  {d}\n"))
                    .collect();
                out(self, &text)
            }
            "mode" => {
                max_args(1)?;
                match arg(0) {
                    Some(m) => self.settings.mode = Mode::parse(m)?,
                    None => {
                        let t = format!("current output mode: {}\n", self.settings.mode);
                        out(self, &t)?;
                    }
                }
                Ok(())
            }
            "headers" | "header" => {
                max_args(1)?;
                self.settings.headers = parse_switch(arg(0).ok_or(".headers needs on or off")?)?;
                Ok(())
            }
            "nullvalue" => {
                max_args(1)?;
                self.settings.null_text = Some(arg(0).unwrap_or("").to_string());
                Ok(())
            }
            "timer" => {
                max_args(1)?;
                self.settings.timer = match arg(0) {
                    Some(w) => parse_switch(w)?,
                    None => !self.settings.timer,
                };
                if self.interactive {
                    let t = format!(
                        "Timer is {}.\n",
                        if self.settings.timer { "on" } else { "off" }
                    );
                    out(self, &t)?;
                }
                Ok(())
            }
            "bail" => {
                max_args(1)?;
                self.settings.bail = parse_switch(arg(0).ok_or(".bail needs on or off")?)?;
                Ok(())
            }
            "echo" => {
                max_args(1)?;
                self.settings.echo = parse_switch(arg(0).ok_or(".echo needs on or off")?)?;
                Ok(())
            }
            "read" => {
                max_args(1)?;
                let file = arg(0).ok_or(".read needs a file name")?.to_string();
                self.read_file(&file)
            }
            "open" => {
                max_args(1)?;
                let path = arg(0)
                    .ok_or(".open needs a path (or :memory:)")?
                    .to_string();
                self.open(&path)
            }
            "stats" => {
                max_args(1)?;
                let raw = match arg(0) {
                    None => false,
                    Some(a) if a.eq_ignore_ascii_case("raw") => true,
                    Some(a) => return Err(format!(".stats takes no argument or raw, not {a:?}")),
                };
                let text = self.stats_text(raw);
                out(self, &text)
            }
            "check" => {
                max_args(1)?;
                let mut busy = self.progress.busy("integrity check");
                let report = self.session.database().check_integrity(arg(0));
                busy.end();
                let report = report.map_err(|e| match e {
                    table_layer::Error::NoSuchTable { table } => {
                        schema::no_table(&self.session.catalog(), &table)
                    }
                    other => format!("integrity check could not run: {other}"),
                })?;
                let text = format!("{report}\n");
                out(self, &text)?;
                if report.is_ok() {
                    Ok(())
                } else {
                    Err(format!(
                        "the integrity check found {} problem(s)",
                        report.problem_count
                    ))
                }
            }
            other => {
                let hint = sql_shell::error::suggest(other, COMMANDS.iter().copied())
                    .map(|s| format!(" (did you mean .{s}?)"))
                    .unwrap_or_default();
                let _ = source;
                Err(format!(
                    "unknown command .{other}{hint}; .help lists the commands"
                ))
            }
        }
    }

    /// `.show`: every setting and the database, one per line.
    fn show_settings(&self) -> String {
        let s = &self.settings;
        let on = |b: bool| if b { "on" } else { "off" };
        let null = match &s.null_text {
            Some(t) => format!("{t:?}"),
            None => "(mode default)".into(),
        };
        let txn = if self.session.in_transaction() {
            "open"
        } else {
            "none"
        };
        format!(
            "    database: {}\n backend: {}\n transaction: {txn}\n        mode: {}\n     headers: {}\n   nullvalue: {null}\n       timer: {}\n        bail: {}\n        echo: {}\n",
            self.db_label,
            self.session.store().stats().backend(),
            s.mode,
            on(s.headers),
            on(s.timer),
            on(s.bail),
            on(s.echo),
        )
    }

    /// `.read FILE`: run a script, nested.
    fn read_file(&mut self, file: &str) -> Result<(), String> {
        if self.read_depth >= MAX_READ_DEPTH {
            return Err(format!(
                ".read nested more than {MAX_READ_DEPTH} deep (does {file} read itself?)"
            ));
        }
        let f = std::fs::File::open(file).map_err(|e| format!("cannot open {file}: {e}"))?;
        let mut src = ReaderSource::new(file, BufReader::new(f));
        self.read_depth += 1;
        let was_interactive = self.interactive;
        // A script read from the prompt follows the script rules (--bail).
        self.interactive = false;
        self.run_source(&mut src, file, false);
        self.interactive = was_interactive;
        self.read_depth -= 1;
        if was_interactive && matches!(self.stop, Some(Stop::Bail)) {
            self.stop = None;
        }
        Ok(())
    }

    /// `.open PATH`: switch databases; the old one is closed only once the
    /// new one is open.
    fn open(&mut self, path: &str) -> Result<(), String> {
        if self.session.in_transaction() {
            return Err("a transaction is open: COMMIT or ROLLBACK before .open".into());
        }
        let session = Session::open(Some(Path::new(path))).map_err(|e| {
            format!(
                "cannot open database {path}: {}",
                super::diagnostic::message(&e)
            )
        })?;
        let old = std::mem::replace(&mut self.session, session);
        self.db_label = path.to_string();
        old.database()
            .close()
            .map_err(|e| format!("closing the previous database: {e}"))
    }

    /// `.stats [raw]`: the store's counters (grouped, or as they are) and
    /// each table's row count; see [`super::stats`].
    fn stats_text(&self, raw: bool) -> String {
        let stats = self.session.store().stats();
        if raw {
            return super::stats::raw(&stats);
        }
        let mut text = format!("database: {}\n", self.db_label);
        text.push_str(&super::stats::render(&stats));
        let db = self.session.database();
        let cat = self.session.catalog();
        let tables = schema::sorted_tables(&cat);
        if !tables.is_empty() {
            text.push_str("tables:\n");
        }
        let rows: Vec<(String, String, usize)> = tables
            .iter()
            .map(|t| {
                let rows = db
                    .approximate_row_count(t.name())
                    .map_or_else(|e| format!("? ({e})"), super::stats::count);
                (t.name().to_string(), rows, t.indexes().len())
            })
            .collect();
        let nw = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let rw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        for (name, n, idx) in rows {
            let plural = if idx == 1 { "index" } else { "indexes" };
            text.push_str(&format!("  {name:<nw$}  {n:>rw$} rows  {idx} {plural}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::testing::shell_over;

    fn meta(sh: &mut Shell, line: &str) {
        sh.run_meta(line, "t", 1);
    }

    #[test]
    fn like_patterns() {
        assert!(like("%", ""));
        assert!(like("O%r", "ORDER"));
        assert!(like("_a%", "pairs"));
        assert!(!like("_a", "pairs"));
        assert!(!like("x%", "pairs"));
        assert!(like(
            "%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b",
            &"a".repeat(200).replace('a', "ab")
        ));
        assert!(!like(
            "%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%c",
            &"ab".repeat(200)
        ));
    }

    #[test]
    fn words_split_and_quote() {
        assert_eq!(
            words("a  'b c' \"d\"e ''").unwrap(),
            vec!["a", "b c", "de", ""]
        );
        assert!(words("'open").is_err());
    }

    #[test]
    fn schema_round_trips_through_sql() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.run_chunk(
            "create table \"order\" (id integer primary key, \"the note\" text not null default 'it''s', \
             r real default 1.5, b blob, ok boolean default true, email varchar unique);
             create index order_by_r on \"order\" (r desc, id);
             create table pairs (a int, b int, primary key (a, b));
             create table plain (x text);",
            1,
            "t",
        );
        assert_eq!(err.text(), "");
        out.take();
        meta(&mut sh, ".schema");
        let first = out.take();
        assert!(first.contains("CREATE TABLE \"order\" (\n  id INTEGER NOT NULL,\n  \"the note\" TEXT NOT NULL DEFAULT 'it''s',"), "{first}");
        assert!(
            first.contains("CREATE INDEX order_by_r ON \"order\" (r DESC, id);"),
            "{first}"
        );
        assert!(first.contains("PRIMARY KEY (a, b)"), "{first}");
        // Replaying the schema on an empty database gives the same schema.
        let (mut sh2, out2, err2) = shell_over(Session::open(None).unwrap());
        sh2.run_chunk(&first, 1, "schema");
        assert_eq!(err2.text(), "");
        out2.take();
        sh2.run_meta(".schema", "t", 1);
        assert_eq!(out2.take(), first);
        meta(&mut sh, ".schema pairs");
        assert_eq!(
            out.take(),
            "CREATE TABLE pairs (\n  a INTEGER NOT NULL,\n  b INTEGER NOT NULL,\n  PRIMARY KEY (a, b)\n);\n"
        );
        meta(&mut sh, ".tables");
        assert_eq!(out.take(), "order\npairs\nplain\n");
        meta(&mut sh, ".tables P%");
        assert_eq!(out.take(), "pairs\nplain\n");
        meta(&mut sh, ".tables _rder");
        assert_eq!(out.take(), "order\n");
        meta(&mut sh, "\\dt nothing%");
        assert_eq!(out.take(), "");
        meta(&mut sh, ".indexes order");
        let idx = out.take();
        assert!(
            idx.contains("order_by_r") && idx.contains("ON \"order\" (r DESC, id)\n"),
            "{idx}"
        );
        assert!(idx.contains("UNIQUE"), "{idx}");
    }

    #[test]
    fn settings_commands() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        meta(&mut sh, ".mode csv");
        assert_eq!(sh.settings.mode, Mode::Csv);
        meta(&mut sh, ".mode");
        assert_eq!(out.take(), "current output mode: csv\n");
        meta(&mut sh, ".headers off");
        meta(&mut sh, ".nullvalue ∅");
        meta(&mut sh, "\\timing");
        meta(&mut sh, ".bail on");
        assert!(!sh.settings.headers && sh.settings.timer && sh.settings.bail);
        assert_eq!(sh.settings.null_text.as_deref(), Some("∅"));
        assert_eq!(sh.failures(), 0, "{}", err.text());
        meta(&mut sh, ".show");
        let shown = out.take();
        assert!(
            shown.contains("        mode: csv\n")
                && shown.contains("     headers: off\n")
                && shown.contains("   nullvalue: \"∅\"\n")
                && shown.contains("       timer: on\n")
                && shown.contains(" backend: memory\n"),
            "{shown}"
        );
        meta(&mut sh, "\\x");
        assert_eq!(sh.settings.mode, Mode::Line);
        meta(&mut sh, ".quit 3");
        assert!(matches!(sh.stopped(), Some(Stop::Quit(3))));
    }

    #[test]
    fn mistakes_are_reported_with_suggestions() {
        let (mut sh, _out, err) = shell_over(Session::open(None).unwrap());
        meta(&mut sh, ".tabels");
        meta(&mut sh, ".schema nope");
        meta(&mut sh, ".mode box");
        meta(&mut sh, ".read /nonexistent/file.sql");
        meta(&mut sh, "\\zz");
        meta(&mut sh, ".");
        assert_eq!(sh.failures(), 6);
        let e = err.text();
        assert!(
            e.contains("unknown command .tabels (did you mean .tables?)"),
            "{e}"
        );
        assert!(e.contains("no such table: nope"), "{e}");
        assert!(e.contains("unknown output mode \"box\""), "{e}");
        assert!(e.contains("cannot open /nonexistent/file.sql"), "{e}");
        assert!(e.contains("  --> t:1"), "{e}");
    }

    #[test]
    fn check_and_stats() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.run_chunk("create table t (a integer primary key, b text); create index tb on t (b); insert into t values (1, 'x');", 1, "t");
        out.take();
        meta(&mut sh, ".check");
        assert_eq!(out.take(), "1 tables, 1 rows, 1 index entries: ok\n");
        meta(&mut sh, ".stats");
        let s = out.take();
        assert!(
            s.contains("backend: memory") && s.contains("tables:\n  t  1 rows  1 index\n"),
            "{s}"
        );
        meta(&mut sh, ".stats raw");
        let s = out.take();
        assert!(s.starts_with("backend memory\n"), "{s}");
        assert_eq!(err.text(), "");
        meta(&mut sh, ".stats loud");
        assert!(err.take().contains("raw"));
    }
}
