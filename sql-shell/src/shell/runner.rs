//! The shell proper: one [`Shell`] holds the session, the settings and the
//! output streams, and runs every input through the same loop.
//!
//! ```text
//!   LineSource ─► run_source ─┬─ meta line (".tables") ─► meta::run
//!   (terminal,                └─ SQL lines ─► Accumulator ─► run_chunk
//!    pipe, -c, .read)                                         │ split_statements
//!                                                             ▼
//!                                run_statement: Session::execute ─► Output
//!                                  Rows ─► Formatter (streams, flushes per statement)
//!                                  Affected / Message ─► tag ("INSERT 3")
//!                                  Explain ─► plan lines
//!                                  Err ─► diagnostic on stderr, failure counted
//! ```
//!
//! Error policy: a failing statement is reported and the next one runs,
//! as in sqlite3; the exit status is 1 at the end if anything failed.
//! `--bail` (or `.bail on`) stops at the first failure instead. In the
//! interactive prompt errors never end the session.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use sql_shell::export::copy;
use sql_shell::planner::Statement;
use sql_shell::session::map_table_error;
use sql_shell::{Column, Output, Rows, Session, SqlError, Value, split_statements};
use table_layer::BuildProgress;

use super::diagnostic::{self, StatementSite};
use super::format::{self, Formatter};
use super::input::{Accumulator, Input, LineSource};
use super::progress::{Busy, Interrupt, Progress};
use super::settings::Settings;

/// How deeply `.read` may nest (a file reading itself stops here).
pub const MAX_READ_DEPTH: usize = 16;

/// Why the shell stops before its input ends.
#[derive(Debug)]
pub enum Stop {
    /// `.quit` / `.exit [code]`.
    Quit(i32),
    /// A statement failed under `--bail`.
    Bail,
    /// Whoever reads stdout went away (`sql-shell ... | head`).
    BrokenPipe,
    /// stdout could not be written (disk full, ...).
    Output(io::Error),
}

/// The shell; see the [module documentation](self).
pub struct Shell {
    pub(super) session: Session,
    /// What the banner and `.open` show as the database.
    pub(super) db_label: String,
    pub(super) settings: Settings,
    pub(super) out: Box<dyn Write>,
    pub(super) err: Box<dyn Write>,
    pub(super) interrupt: Interrupt,
    pub(super) progress: Progress,
    /// Statements and commands that failed so far.
    pub(super) failures: u64,
    pub(super) stop: Option<Stop>,
    pub(super) read_depth: usize,
    /// True while the interactive prompt runs (changes a few messages).
    pub(super) interactive: bool,
}

/// How a result stream ended.
enum RowsEnd {
    Done,
    Interrupted,
    Failed(SqlError),
}

impl Shell {
    /// A shell over an open session writing to `out` and `err`.
    pub fn new(
        session: Session,
        db_label: String,
        settings: Settings,
        out: Box<dyn Write>,
        err: Box<dyn Write>,
        interrupt: Interrupt,
        progress: Progress,
    ) -> Self {
        Shell {
            session,
            db_label,
            settings,
            out,
            err,
            interrupt,
            progress,
            failures: 0,
            stop: None,
            read_depth: 0,
            interactive: false,
        }
    }

    /// Statements and commands that failed so far.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Why the shell stopped early, if it did.
    pub fn stopped(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// The prompt for the next line.
    fn prompt(&self, acc: &Accumulator) -> String {
        if !acc.is_blank() {
            return match acc.open_delimiter() {
                Some('*') => "   /*> ".into(),
                Some(q) => format!("   {q}...> "),
                None => "   ...> ".into(),
            };
        }
        if self.session.in_transaction() {
            "hive*> ".into()
        } else {
            "hive> ".into()
        }
    }

    /// Run every line of `source` (named `name` in messages) until it ends
    /// or the shell stops. `interactive` numbers lines per entry, keeps
    /// history and never runs a half-typed statement at Ctrl-D.
    pub fn run_source(&mut self, source: &mut dyn LineSource, name: &str, interactive: bool) {
        let mut acc = Accumulator::new();
        let mut names_generation = None;
        while self.stop.is_none() {
            if interactive {
                acc.restart_numbering();
            }
            if source.wants_names() {
                let cat = self.session.catalog();
                if names_generation != Some(cat.generation()) {
                    names_generation = Some(cat.generation());
                    source.set_names(super::repl::catalog_names(&cat));
                }
            }
            let prompt = self.prompt(&acc);
            let input = match source.read_line(&prompt) {
                Ok(i) => i,
                Err(e) => {
                    self.fail_plain(&format!("cannot read {name}: {e}"));
                    break;
                }
            };
            match input {
                Input::Interrupted => acc.clear(),
                Input::Eof => {
                    if !acc.is_blank() {
                        if interactive {
                            self.note("the unfinished statement was not run (end it with ;)");
                        } else {
                            let (text, first) = acc.take();
                            self.run_chunk(&text, first, name);
                        }
                    }
                    break;
                }
                Input::Line(line) => {
                    if acc.is_blank() && is_meta_line(&line) {
                        let lineno = acc.next_line();
                        acc.skip_line();
                        if interactive {
                            source.add_history(line.trim());
                        }
                        self.run_meta(&line, name, lineno);
                        continue;
                    }
                    acc.push_line(&line);
                    if acc.is_complete() {
                        let (text, first) = acc.take();
                        if interactive && !text.trim().is_empty() {
                            source.add_history(text.trim_end());
                        }
                        self.run_chunk(&text, first, name);
                    }
                }
            }
        }
    }

    /// Run the statements of a complete block of text whose first line is
    /// line `first_line` of `source`.
    pub fn run_chunk(&mut self, text: &str, first_line: u64, source: &str) {
        for stmt in split_statements(text) {
            if self.stop.is_some() {
                break;
            }
            let site = StatementSite {
                source,
                chunk: text,
                chunk_line: first_line,
                statement: &stmt,
            };
            self.run_statement(&site);
        }
    }

    /// Run one statement and print its result.
    fn run_statement(&mut self, site: &StatementSite<'_>) {
        let sql = site.statement.text;
        if self.settings.echo {
            let _ = writeln!(self.out, "{sql};");
        }
        self.interrupt.clear();
        let started = Instant::now();
        let mut busy = self.progress.busy(first_words(sql));
        let machine = self.settings.mode.is_machine();
        let show_tags = !self.settings.quiet && !machine;
        let mut failure: Option<SqlError> = None;
        let mut interrupted_after: Option<u64> = None;
        let index_build = if self.session.in_transaction() || !looks_like_create_index(sql) {
            None
        } else {
            busy.end();
            self.create_index(sql)
        };
        // A block, so that the session borrow held by the result ends here.
        let written: io::Result<()> = {
            let outcome = match index_build {
                Some(Ok(tag)) => Ok(Output::Message(tag)),
                Some(Err(e)) => Err(e),
                // COPY shows its own progress bar (rows, rows/s) instead of
                // the spinner, and stops at Ctrl-C.
                None if copy::is_copy(sql) => {
                    busy.end();
                    let interrupt = self.interrupt.clone();
                    copy::execute_with(
                        &mut self.session,
                        sql,
                        self.progress.enabled(),
                        Some(interrupt.flag()),
                    )
                }
                None => self.session.execute(sql),
            };
            match outcome {
                Err(e) => {
                    failure = Some(e);
                    Ok(())
                }
                Ok(Output::Rows(mut rows)) => {
                    let mut f = format::formatter(&self.settings);
                    match stream_rows(
                        &mut rows,
                        f.as_mut(),
                        &mut self.out,
                        &self.interrupt,
                        &mut busy,
                    ) {
                        Ok((_, RowsEnd::Done)) => Ok(()),
                        Ok((n, RowsEnd::Interrupted)) => {
                            interrupted_after = Some(n);
                            Ok(())
                        }
                        Ok((_, RowsEnd::Failed(e))) => {
                            failure = Some(e);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                Ok(Output::Affected { verb, count }) => {
                    busy.end();
                    if show_tags {
                        writeln!(self.out, "{verb} {count}")
                    } else {
                        Ok(())
                    }
                }
                Ok(Output::Message(m)) => {
                    busy.end();
                    if show_tags {
                        writeln!(self.out, "{m}")
                    } else {
                        Ok(())
                    }
                }
                Ok(Output::Explain(lines)) => {
                    busy.end();
                    write_explain(&mut self.out, &self.settings, &lines)
                }
            }
        };
        drop(busy);
        let elapsed = started.elapsed();
        let flushed = written.and_then(|()| self.out.flush());
        if let Err(e) = flushed {
            self.output_failed(e);
            return;
        }
        if let Some(n) = interrupted_after {
            self.note(&format!("interrupted: output stopped after {n} rows"));
        } else if self.interrupt.is_set() && failure.is_none() {
            // Ctrl-C came while the statement computed: it could not be
            // stopped midway (see progress.rs), so say that it completed.
            self.note("note: Ctrl-C came while the statement ran; it could not be interrupted and has completed");
        }
        if let Some(e) = failure {
            self.failures += 1;
            let _ = diagnostic::write_sql_error(&mut self.err, &e, site);
            let _ = self.err.flush();
            if self.settings.bail && !self.interactive {
                self.stop = Some(Stop::Bail);
            }
        }
        if self.settings.timer {
            self.timing(elapsed);
        }
    }

    /// CREATE INDEX outside a transaction, run here rather than through
    /// `Session::execute` so that it can show progress: the table layer's
    /// streaming build reports rows as it goes, and the session has no
    /// progress hook yet. `None` when the text does not plan to a CREATE
    /// INDEX (the session then runs it, and reports any error).
    fn create_index(&mut self, sql: &str) -> Option<Result<String, SqlError>> {
        let planned = self.session.plan(sql).ok()?;
        let Statement::CreateIndex {
            spec,
            if_not_exists,
        } = planned.stmt
        else {
            return None;
        };
        if self.session.catalog().has_index(&spec.name) {
            return Some(if if_not_exists {
                Ok("CREATE INDEX (already exists)".into())
            } else {
                Err(SqlError::name(format!(
                    "index {} already exists",
                    spec.name
                )))
            });
        }
        let label = format!("indexing {}", spec.table);
        let bar = self.progress.rows_bar(&label);
        let result = self
            .session
            .database()
            .create_index(spec, &mut |p: BuildProgress| {
                bar.set_length(p.rows_estimate.max(p.rows_done));
                bar.set_position(p.rows_done);
            })
            .map(|()| "CREATE INDEX".to_string())
            .map_err(map_table_error);
        bar.finish_and_clear();
        Some(result)
    }

    /// Print "Time: ..." where the mode wants it.
    fn timing(&mut self, elapsed: Duration) {
        let line = format!("Time: {:.3} ms", elapsed.as_secs_f64() * 1000.0);
        let res = if self.settings.mode.is_machine() {
            writeln!(self.err, "{line}").and_then(|()| self.err.flush())
        } else {
            writeln!(self.out, "{line}").and_then(|()| self.out.flush())
        };
        if let Err(e) = res {
            self.output_failed(e);
        }
    }

    /// stdout failed: stop, remembering why.
    pub(super) fn output_failed(&mut self, e: io::Error) {
        self.stop = Some(if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::BrokenPipe
        } else {
            Stop::Output(e)
        });
    }

    /// Report a failure that has no statement position.
    pub(super) fn fail_plain(&mut self, msg: &str) {
        self.failures += 1;
        let _ = self.out.flush();
        let _ = writeln!(self.err, "Error: {msg}");
        let _ = self.err.flush();
        if self.settings.bail && !self.interactive {
            self.stop = Some(Stop::Bail);
        }
    }

    /// Report a failed meta command at `line` of `source`.
    pub(super) fn fail_at(&mut self, msg: &str, source: &str, line: u64) {
        self.failures += 1;
        let _ = self.out.flush();
        let _ = diagnostic::write_line_error(&mut self.err, msg, source, line);
        let _ = self.err.flush();
        if self.settings.bail && !self.interactive {
            self.stop = Some(Stop::Bail);
        }
    }

    /// A command tag or summary line (`COPY 3 rows to ...`): on stdout in
    /// the human modes, left out in the machine modes and with --quiet.
    pub(super) fn tag(&mut self, msg: &str) -> Result<(), String> {
        if self.settings.quiet || self.settings.mode.is_machine() {
            return Ok(());
        }
        writeln!(self.out, "{msg}").map_err(|e| {
            let text = format!("writing output: {e}");
            self.output_failed(e);
            text
        })
    }

    /// A note for the user on stderr (not a failure).
    pub(super) fn note(&mut self, msg: &str) {
        if self.settings.quiet && !self.interactive {
            return;
        }
        let _ = self.out.flush();
        let _ = writeln!(self.err, "{msg}");
        let _ = self.err.flush();
    }

    /// End the session: roll back an open transaction (saying so) and
    /// close the database cleanly. Returns false when closing failed.
    pub fn close(&mut self) -> bool {
        let _ = self.out.flush();
        if self.session.in_transaction() {
            let _ = writeln!(
                self.err,
                "Warning: the open transaction was rolled back (COMMIT before quitting to keep it)"
            );
            let _ = self.session.execute("ROLLBACK");
        }
        match self.session.database().close() {
            Ok(()) => true,
            Err(e) => {
                let _ = writeln!(self.err, "Error: closing the database: {e}");
                false
            }
        }
    }
}

/// Pull rows into the formatter until the end, an error or Ctrl-C. The
/// spinner ends when the first row (or the end) is known, before anything
/// is written.
fn stream_rows(
    rows: &mut Rows<'_>,
    f: &mut dyn Formatter,
    out: &mut dyn Write,
    interrupt: &Interrupt,
    busy: &mut Busy,
) -> io::Result<(u64, RowsEnd)> {
    let columns: Vec<Column> = rows.columns().to_vec();
    let mut next = rows.next_row();
    busy.end();
    f.begin(out, &columns)?;
    let mut n = 0u64;
    let end = loop {
        if interrupt.is_set() {
            break RowsEnd::Interrupted;
        }
        match next {
            Ok(Some(row)) => {
                f.row(out, &row)?;
                n += 1;
            }
            Ok(None) => break RowsEnd::Done,
            Err(e) => break RowsEnd::Failed(e),
        }
        next = rows.next_row();
    };
    f.finish(out, n, matches!(end, RowsEnd::Done))?;
    Ok((n, end))
}

/// EXPLAIN output: the plan lines as they are in the human modes, a
/// one-column result (`plan`) in csv and json so the output stays data.
fn write_explain(out: &mut dyn Write, settings: &Settings, lines: &[String]) -> io::Result<()> {
    if settings.mode.is_machine() {
        let mut f = format::formatter(settings);
        let cols = [Column {
            name: "plan".into(),
            data_type: None,
        }];
        f.begin(out, &cols)?;
        for l in lines {
            f.row(out, &[Value::Text(l.clone())])?;
        }
        return f.finish(out, lines.len() as u64, true);
    }
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// A line that is a meta command: `.word` or a psql-style `\word`.
pub fn is_meta_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('.') || t.starts_with('\\')
}

/// True for text that may be a CREATE [UNIQUE] INDEX (a cheap test before
/// planning it).
fn looks_like_create_index(sql: &str) -> bool {
    let mut words = sql.split_whitespace().map(str::to_ascii_lowercase);
    words.next().as_deref() == Some("create")
        && match words.next().as_deref() {
            Some("index") => true,
            Some("unique") => words.next().as_deref() == Some("index"),
            _ => false,
        }
}

/// The first words of a statement, for the spinner.
fn first_words(sql: &str) -> &str {
    let end = sql
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .nth(1)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::settings::Mode;
    use crate::shell::testing::{ScriptedSource, shell_over};

    #[test]
    fn statements_run_in_order_and_errors_do_not_stop_the_script() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        let mut src = ScriptedSource::lines(&[
            "create table t (a integer primary key, b text);",
            "insert into t values (1, 'x'),",
            "  (2, 'y'); select nope from t;",
            "select * from t order by a;",
        ]);
        sh.run_source(&mut src, "script", false);
        assert_eq!(sh.failures(), 1);
        assert_eq!(
            out.text(),
            "CREATE TABLE\nINSERT 2\n a | b\n---+---\n 1 | x\n 2 | y\n(2 rows)\n"
        );
        assert!(
            err.text().contains("no such column: nope"),
            "{}",
            err.text()
        );
        assert!(err.text().contains("--> script:3:20"), "{}", err.text());
    }

    #[test]
    fn bail_stops_at_the_first_failure() {
        let (mut sh, out, _err) = shell_over(Session::open(None).unwrap());
        sh.settings.bail = true;
        let mut src = ScriptedSource::lines(&["select 1 as a;", "select x;", "select 2 as b;"]);
        sh.run_source(&mut src, "script", false);
        assert!(matches!(sh.stopped(), Some(Stop::Bail)));
        assert!(!out.text().contains(" b\n"), "{}", out.text());
    }

    #[test]
    fn interactive_input_ctrl_c_and_unfinished_statements() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.interactive = true;
        let mut src = ScriptedSource::new(vec![
            Input::Line("select 'dropped'".into()),
            Input::Interrupted,
            Input::Line("select".into()),
            Input::Line("  42 as answer;".into()),
            Input::Line("select oops;".into()),
            Input::Line(".mode line".into()),
            Input::Line("select 1 as one;".into()),
            Input::Line("select 'unfinished'".into()),
            Input::Eof,
        ]);
        sh.run_source(&mut src, "input", true);
        let o = out.text();
        assert!(!o.contains("dropped") && !o.contains("unfinished"), "{o}");
        assert!(o.contains(" answer\n--------\n     42\n(1 row)\n"), "{o}");
        assert!(o.contains("one = 1\n\n"), "{o}");
        let e = err.text();
        assert!(e.contains("--> input:1:8"), "numbered per entry: {e}");
        assert!(e.contains("unfinished statement was not run"), "{e}");
        assert_eq!(
            src.prompts,
            vec![
                "hive> ", "   ...> ", "hive> ", "   ...> ", "hive> ", "hive> ", "hive> ", "hive> ",
                "   ...> "
            ]
        );
        assert_eq!(
            src.history,
            vec![
                "select\n  42 as answer;",
                "select oops;",
                ".mode line",
                "select 1 as one;"
            ]
        );
    }

    #[test]
    fn prompt_shows_open_transactions_and_quotes() {
        let (mut sh, _out, _err) = shell_over(Session::open(None).unwrap());
        let mut src =
            ScriptedSource::lines(&["begin;", "select 'a", "';", "rollback;", "select 1;"]);
        sh.interactive = true;
        sh.run_source(&mut src, "input", true);
        assert_eq!(
            src.prompts[..5],
            ["hive> ", "hive*> ", "   '...> ", "hive*> ", "hive> "]
        );
    }

    #[test]
    fn interrupt_stops_row_output() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.settings.mode = Mode::Csv;
        sh.interrupt.set();
        // The flag is cleared before each statement: this one runs whole.
        sh.run_chunk("select 1 as a;", 1, "t");
        assert_eq!(out.text(), "a\r\n1\r\n");
        sh.settings.mode = Mode::Table;
        sh.run_chunk(
            "create table t (a integer); insert into t values (1), (2);",
            2,
            "t",
        );
        let mut busy = sh.progress.busy("x");
        let mut rows = match sh.session.execute("select a from t") {
            Ok(Output::Rows(r)) => r,
            other => panic!("{other:?}"),
        };
        let mut f = format::formatter(&sh.settings);
        let mut buf = Vec::new();
        let i = Interrupt::new();
        i.set();
        let (n, end) = stream_rows(&mut rows, f.as_mut(), &mut buf, &i, &mut busy).unwrap();
        assert_eq!(n, 0);
        assert!(matches!(end, RowsEnd::Interrupted));
        assert!(err.text().is_empty());
    }

    #[test]
    fn machine_modes_print_only_data() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.settings.mode = Mode::Json;
        sh.settings.timer = true;
        sh.run_chunk(
            "create table t (a integer); insert into t values (1); select a from t; explain select a from t;",
            1,
            "t",
        );
        let o = out.text();
        assert!(o.starts_with("[{\"a\":1}]\n[{\"plan\":"), "{o}");
        assert_eq!(err.text().matches("Time: ").count(), 4);
    }

    #[test]
    fn index_builds_run_with_progress_and_keep_the_session_rules() {
        let (mut sh, out, err) = shell_over(Session::open(None).unwrap());
        sh.run_chunk(
            "create table t (a integer primary key, b text);
             insert into t values (1, 'x'), (2, 'x');
             create index tb on t (b);
             create index if not exists tb on t (b);
             create index tb on t (a);
             create unique index tu on t (b);
             CREATE  UNIQUE INDEX ta ON t (a, b);
             create index bad on nosuch (b);",
            1,
            "t",
        );
        assert_eq!(
            out.text(),
            "CREATE TABLE\nINSERT 2\nCREATE INDEX\nCREATE INDEX (already exists)\nCREATE INDEX\n"
        );
        let e = err.text();
        assert!(e.contains("index tb already exists"), "{e}");
        assert!(e.contains("UNIQUE constraint failed"), "{e}");
        assert!(e.contains("no such table: nosuch"), "{e}");
        assert_eq!(sh.failures(), 3);
        let cat = sh.session.catalog();
        assert!(cat.has_index("tb") && cat.has_index("ta") && !cat.has_index("tu"));
        assert!(sh.session.database().check_integrity(None).unwrap().is_ok());
        // Inside a transaction the session runs it (and rolls it back).
        sh.run_chunk("begin; create index tx on t (b); rollback;", 9, "t");
        assert!(!sh.session.catalog().has_index("tx"));
        assert!(looks_like_create_index("Create Unique\n Index x on t (a)"));
        assert!(!looks_like_create_index("create table index_t (a int)"));
    }

    #[test]
    fn first_words_for_the_spinner() {
        assert_eq!(first_words("CREATE INDEX i ON t (a)"), "CREATE INDEX");
        assert_eq!(first_words("SELECT"), "SELECT");
    }
}
