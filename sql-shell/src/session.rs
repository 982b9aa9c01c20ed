//! A SQL session: one connection's state (the database, an open explicit
//! transaction) and [`Session::execute`], which runs one statement.
//!
//! ## Transactions
//! Outside BEGIN ... COMMIT each statement runs in its own transaction,
//! committed when it succeeds (retried up to three times when it loses a
//! write-write race) and discarded when it fails, so a statement is atomic.
//! Inside an explicit transaction each statement runs under a savepoint:
//! a failing statement is undone alone and the transaction goes on, except
//! for a conflict, which rolls the whole transaction back (run it again).
//!
//! ## Streaming
//! A query returns [`Output::Rows`], a cursor that computes rows as they
//! are pulled: a scan with a filter and LIMIT holds a few rows at a time.
//! The cursor borrows the session; the next `execute` ends it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use table_layer::{Database, Direction, ScanRange, Transaction};

use crate::error::{Position, Result, SqlError};
use crate::exec::control::ProgressHook;
use crate::exec::scan::{ScanOp, table_err};
use crate::exec::{self, BoxOp, Control, Ctx, Env};
use crate::limits::{self, Checked};
use crate::planner::ddl::plan_statement_with;
use crate::planner::explain::explain;
use crate::planner::plan::{Node, OutputColumn, Subplan};
use crate::planner::{Planned, Statement};
use crate::value::cast::coerce_for_column;
use crate::value::{DataType, Row, Value};

/// Map a table-layer error to an [`SqlError`].
pub fn map_table_error(e: table_layer::Error) -> SqlError {
    use table_layer::Error as E;
    let message = e.to_string();
    match e {
        E::TableExists { .. }
        | E::IndexExists { .. }
        | E::ColumnExists { .. }
        | E::NoSuchIndex { .. } => SqlError::name(message),
        E::NoSuchTable { table } => SqlError::UnknownTable {
            name: table,
            suggestion: None,
            position: None,
        },
        E::NoSuchColumn { table, column } => SqlError::UnknownColumn {
            name: format!("{table}.{column}"),
            suggestion: None,
            position: None,
        },
        E::InvalidSchema { .. } | E::WrongArity { .. } => SqlError::name(message),
        E::TypeMismatch { .. } => SqlError::type_error(message),
        E::NotNullViolation { .. } | E::PrimaryKeyViolation { .. } | E::UniqueViolation { .. } => {
            SqlError::Constraint { message }
        }
        E::Conflict(_) | E::SchemaChanged { .. } => SqlError::Conflict { message },
        // A limit of the store (key, value or transaction size): the
        // caller's statement is too large, the storage did not fail.
        E::InvalidArgument(_) | E::Storage(kv_api::Error::InvalidArgument(_)) => {
            SqlError::runtime(message)
        }
        _ => SqlError::Storage { message },
    }
}

/// Parse exactly one statement, of at most
/// [`DEFAULT_MAX_STATEMENT_BYTES`](crate::limits::DEFAULT_MAX_STATEMENT_BYTES).
pub fn parse_one(sql: &str) -> Result<sqlparser::ast::Statement> {
    parse_checked(sql, limits::DEFAULT_MAX_STATEMENT_BYTES).map(|c| c.stmt)
}

/// Parse exactly one statement of at most `max_bytes` bytes, on a stack
/// large enough for it, and check it against the nesting limits (see
/// [`limits`](crate::limits)).
pub fn parse_checked(sql: &str, max_bytes: usize) -> Result<limits::Checked> {
    if sql.len() > max_bytes {
        return Err(limits::statement_too_long(sql.len(), max_bytes));
    }
    limits::with_stack(limits::parse_stack(sql.len()), || {
        let dialect = SQLiteDialect {};
        let parsed = Parser::new(&dialect)
            .with_recursion_limit(limits::PARSER_RECURSION_LIMIT)
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_statements());
        let mut stmts = parsed.map_err(|e| parse_error(e, sql))?;
        match stmts.len() {
            1 => limits::check_depth(stmts.remove(0)),
            0 => Err(SqlError::parse("empty statement")),
            n => {
                for s in stmts {
                    limits::check_depth(s)?;
                }
                Err(SqlError::parse(format!(
                    "{n} statements given where one was expected (split scripts with split_statements)"
                )))
            }
        }
    })
}

/// Turn sqlparser's message (which ends with "at Line: L, Column: C") into
/// a parse error with a position.
fn parse_error(e: sqlparser::parser::ParserError, sql: &str) -> SqlError {
    use sqlparser::parser::ParserError as P;
    let raw = match e {
        P::TokenizerError(s) | P::ParserError(s) => s,
        P::RecursionLimitExceeded => return limits::nested_too_deeply(),
    };
    let (message, position) = match raw.rfind(" at Line: ") {
        Some(i) => {
            let tail = &raw[i + " at Line: ".len()..];
            let mut it = tail.split(", Column: ");
            let line = it.next().and_then(|l| l.trim().parse().ok());
            let col = it.next().and_then(|c| c.trim().parse().ok());
            let pos = match (line, col) {
                (Some(line), Some(column)) => Some(Position { line, column }),
                _ => None,
            };
            (raw[..i].to_string(), pos)
        }
        None => (raw, None),
    };
    let message = message.trim_start_matches("sql parser error: ").to_string();
    // sqlparser gives no place for "found: EOF": point just past the text.
    let position = position.or_else(|| message.ends_with("found: EOF").then(|| end_of(sql)));
    SqlError::Parse { message, position }
}

/// The position just past the end of `sql`.
fn end_of(sql: &str) -> Position {
    let line = sql.matches('\n').count() + 1;
    let last = sql.rsplit('\n').next().unwrap_or("");
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX),
    }
}

/// What a statement produced.
pub enum Output<'s> {
    /// A query's rows, computed as they are pulled.
    Rows(Rows<'s>),
    /// Rows changed by INSERT, UPDATE or DELETE.
    Affected {
        /// `"INSERT"`, `"UPDATE"` or `"DELETE"`.
        verb: &'static str,
        /// Number of rows.
        count: u64,
    },
    /// A message (DDL, BEGIN, COMMIT, ...).
    Message(String),
    /// The lines of an EXPLAIN.
    Explain(Vec<String>),
}

impl std::fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Rows(r) => write!(f, "Rows({:?})", r.columns),
            Output::Affected { verb, count } => write!(f, "{verb} {count}"),
            Output::Message(m) => write!(f, "Message({m})"),
            Output::Explain(l) => write!(f, "Explain({l:?})"),
        }
    }
}

/// A column of a query's result.
pub type Column = OutputColumn;

/// A streaming cursor over a query's rows.
pub struct Rows<'s> {
    columns: Vec<Column>,
    op: BoxOp<'s>,
    failed: bool,
    /// Stack the statement's nesting needs (see [`limits`]).
    stack: usize,
}

impl Rows<'_> {
    /// The result's columns (name, and the declared type when the column is
    /// a plain column of a table).
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The next row, `Ok(None)` at the end. After an error the cursor is
    /// spent.
    pub fn next_row(&mut self) -> Result<Option<Row>> {
        if self.failed {
            return Ok(None);
        }
        let op = &mut self.op;
        let r = limits::with_stack(self.stack, || op.next());
        if r.is_err() {
            self.failed = true;
        }
        r
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// A session's settings; change them with [`Session::settings_mut`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Longest statement text in bytes (default
    /// [`DEFAULT_MAX_STATEMENT_BYTES`](limits::DEFAULT_MAX_STATEMENT_BYTES)).
    pub max_statement_bytes: usize,
    /// Bytes of rows a sort, GROUP BY, DISTINCT, hash join or set operation
    /// may hold (default 256 MiB). A sort over it spills sorted runs to
    /// temporary files and merges them; the others fail with a clear error
    /// naming this setting.
    pub memory_budget: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_statement_bytes: limits::DEFAULT_MAX_STATEMENT_BYTES,
            memory_budget: exec::control::DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// One connection to a database; see the [module documentation](self).
pub struct Session {
    db: Database,
    txn: Option<Transaction>,
    read: Option<Transaction>,
    settings: Settings,
    control: Control,
}

impl Session {
    /// Open a session: `None` or `":memory:"` for an in-memory database
    /// (`MemStore`), a directory path for a database on the LSM engine
    /// (created if missing).
    pub fn open(path: Option<&Path>) -> Result<Session> {
        let store: Arc<dyn kv_api::KvStore> = match path {
            None => Arc::new(kv_api::MemStore::new()),
            Some(p) if p.as_os_str() == ":memory:" => Arc::new(kv_api::MemStore::new()),
            Some(p) => {
                Arc::new(engine::Db::open(p, engine::Options::default()).map_err(SqlError::from)?)
            }
        };
        let db = Database::open(store).map_err(map_table_error)?;
        Ok(Session::new(db))
    }

    /// A session over an open table-layer database.
    pub fn new(db: Database) -> Session {
        Session {
            db,
            txn: None,
            read: None,
            settings: Settings::default(),
            control: Control::default(),
        }
    }

    /// The flag that interrupts the running statement: set it from any
    /// thread (a Ctrl-C handler) and the statement fails with
    /// [`SqlError::Interrupted`] at its next row, its writes undone (the
    /// whole statement outside a transaction, the statement alone inside
    /// one, which stays open). Scans and joins check it once per row. Each
    /// statement clears it when it starts, so a flag set between
    /// statements is ignored.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// use sql_shell::{Output, Session, SqlError};
    /// let mut s = Session::open(None)?;
    /// s.execute("CREATE TABLE t (a INTEGER)")?;
    /// s.execute("INSERT INTO t VALUES (1), (2), (3)")?;
    /// let flag = s.interrupt_flag();
    /// let Output::Rows(mut rows) = s.execute("SELECT * FROM t")? else { unreachable!() };
    /// rows.next_row()?;
    /// flag.store(true, Ordering::Relaxed); // e.g. from a signal handler thread
    /// assert_eq!(rows.next_row(), Err(SqlError::Interrupted));
    /// # Ok::<(), SqlError>(())
    /// ```
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.control.interrupt)
    }

    /// Call `hook` with the number of rows the running statement has
    /// processed (read by its scans, or produced by a join) every `every`
    /// rows; when it returns `false` the statement stops with
    /// [`SqlError::Interrupted`], as with the
    /// [interrupt flag](Session::interrupt_flag). `every = 0` removes the
    /// hook. Like SQLite's `sqlite3_progress_handler`, for progress
    /// displays and time limits.
    ///
    /// ```
    /// use sql_shell::{Output, Session, SqlError};
    /// let mut s = Session::open(None)?;
    /// s.execute("CREATE TABLE t (a INTEGER)")?;
    /// s.execute("INSERT INTO t VALUES (1), (2), (3), (4), (5)")?;
    /// s.set_progress_handler(2, Box::new(|rows| rows < 4));
    /// let Output::Rows(rows) = s.execute("SELECT * FROM t")? else { unreachable!() };
    /// let got: Result<Vec<_>, _> = rows.collect();
    /// assert_eq!(got, Err(SqlError::Interrupted));
    /// # Ok::<(), SqlError>(())
    /// ```
    pub fn set_progress_handler(&mut self, every: u64, hook: ProgressHook) {
        self.control.progress_every = every;
        *self.control.progress.get_mut() = (every > 0).then_some(hook);
    }

    /// Close the session: roll back an open transaction, save the table
    /// statistics and close the store (for the engine: flush and release
    /// its lock). Dropping a session without closing it is safe too (the
    /// engine recovers from its log), but skips the final flush.
    pub fn close(mut self) -> Result<()> {
        self.read = None;
        if let Some(t) = self.txn.take() {
            t.rollback();
        }
        self.db.close().map_err(map_table_error)
    }

    /// The session's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Change the session's settings (they apply from the next statement).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// The table-layer database (catalog, integrity check, statistics).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The key-value store below.
    pub fn store(&self) -> &Arc<dyn kv_api::KvStore> {
        self.db.store()
    }

    /// True while an explicit transaction is open (inside BEGIN ...
    /// COMMIT/ROLLBACK; a conflict or a failed COMMIT closes it). A shell
    /// shows it in its prompt and rolls it back before quitting.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// The catalog as the session sees it (including DDL of an open
    /// transaction).
    pub fn catalog(&self) -> Arc<table_layer::Catalog> {
        match &self.txn {
            Some(t) => Arc::clone(t.catalog()),
            None => self.db.catalog(),
        }
    }

    /// Plan one statement without running it.
    pub fn plan(&self, sql: &str) -> Result<Planned> {
        let checked = parse_checked(sql, self.settings.max_statement_bytes)?;
        let catalog = self.catalog();
        let db = &self.db;
        let counts = |t: &str| db.approximate_row_count(t).ok();
        limits::with_stack(checked.stack, move || {
            let Checked { stmt, .. } = checked;
            plan_statement_with(&stmt, &catalog, Some(&counts))
        })
    }

    /// Run one statement. Scripts are split with
    /// [`split_statements`](crate::split_statements) first.
    pub fn execute(&mut self, sql: &str) -> Result<Output<'_>> {
        self.read = None;
        self.control.start();
        self.control.memory_budget = self.settings.memory_budget;
        // COPY TO/FROM files is parsed and run by the export module
        // (sqlparser rejects its options such as COMPRESSION).
        if crate::export::copy::is_copy(sql) {
            return crate::export::copy::execute(self, sql);
        }
        let checked = parse_checked(sql, self.settings.max_statement_bytes)?;
        let stack = checked.stack;
        let catalog = self.catalog();
        let db = &self.db;
        let counts = |t: &str| db.approximate_row_count(t).ok();
        let planned = limits::with_stack(stack, move || {
            let Checked { stmt, .. } = checked;
            plan_statement_with(&stmt, &catalog, Some(&counts))
        })?;
        limits::with_stack(stack, move || self.run(planned, stack))
    }

    /// Run a planned statement; `stack` is what its nesting needs.
    fn run(&mut self, planned: Planned, stack: usize) -> Result<Output<'_>> {
        let Planned { stmt, subplans } = planned;
        match stmt {
            Statement::Begin => {
                if self.txn.is_some() {
                    return Err(SqlError::transaction(
                        "cannot start a transaction within a transaction",
                    ));
                }
                self.txn = Some(self.db.begin().map_err(map_table_error)?);
                Ok(Output::Message("BEGIN".into()))
            }
            Statement::Commit => match self.txn.take() {
                None => Err(SqlError::transaction(
                    "cannot commit - no transaction is active",
                )),
                Some(t) => {
                    t.commit().map_err(map_table_error)?;
                    Ok(Output::Message("COMMIT".into()))
                }
            },
            Statement::Rollback => match self.txn.take() {
                None => Err(SqlError::transaction(
                    "cannot rollback - no transaction is active",
                )),
                Some(t) => {
                    t.rollback();
                    Ok(Output::Message("ROLLBACK".into()))
                }
            },
            Statement::NoOp(m) => Ok(Output::Message(m)),
            Statement::Explain(inner) => Ok(Output::Explain(explain(&inner))),
            Statement::Query(q) => {
                if self.txn.is_none() {
                    self.read = Some(self.db.begin().map_err(map_table_error)?);
                }
                let txn = match (&self.txn, &self.read) {
                    (Some(t), _) | (None, Some(t)) => t,
                    (None, None) => return Err(SqlError::runtime("internal: no transaction")),
                };
                let ctx = Ctx::root(Env::controlled(txn, subplans, Some(&self.control)));
                let op = exec::build(&q.root, &ctx)?;
                Ok(Output::Rows(Rows {
                    columns: q.columns,
                    op,
                    failed: false,
                    stack,
                }))
            }
            other => self.write(other, subplans),
        }
    }

    fn write(&mut self, stmt: Statement, subplans: Vec<Subplan>) -> Result<Output<'_>> {
        if let Some(txn) = self.txn.as_mut() {
            // Reads first; a failure there has written nothing.
            let prepared = prepare(txn, &stmt, subplans, &self.control)?;
            // A statement that makes one table-layer call needs no
            // savepoint: each call writes all or nothing. (A savepoint costs
            // a copy of the transaction's write buffer on the next write,
            // which would make a long transaction of single-row INSERTs
            // quadratic.)
            let savepoint = prepared.calls() > 1;
            if savepoint {
                txn.set_savepoint();
            }
            match apply(txn, prepared) {
                Ok(out) => {
                    if savepoint {
                        txn.release_savepoint();
                    }
                    Ok(out)
                }
                Err(e) => {
                    let healed =
                        savepoint && !e.is_retryable() && txn.rollback_to_savepoint().is_ok();
                    if !healed && (e.is_retryable() || savepoint) {
                        if let Some(t) = self.txn.take() {
                            t.rollback();
                        }
                    }
                    Err(e)
                }
            }
        } else {
            if let Statement::CreateIndex {
                spec,
                if_not_exists,
            } = &stmt
            {
                // Outside a transaction the table layer builds the index in
                // bounded batches while writers go on (see
                // `Database::create_index`), instead of buffering every
                // entry in one transaction.
                if self.db.catalog().has_index(&spec.name) {
                    if *if_not_exists {
                        return Ok(Output::Message("CREATE INDEX (already exists)".into()));
                    }
                    return Err(SqlError::name(format!(
                        "index {} already exists",
                        spec.name
                    )));
                }
                self.db
                    .create_index(spec.clone(), &mut |_| {})
                    .map_err(map_table_error)?;
                return Ok(Output::Message("CREATE INDEX".into()));
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                let mut txn = self.db.begin().map_err(map_table_error)?;
                let out = if streams(&stmt) {
                    // Begun after `txn`: see `stream_write`.
                    let read = self.db.begin().map_err(map_table_error)?;
                    match stream_write(&read, &mut txn, &stmt, subplans.clone(), &self.control)? {
                        Some(out) => out,
                        None => return Err(SqlError::runtime("internal: not a streaming write")),
                    }
                } else {
                    let prepared = prepare(&txn, &stmt, subplans.clone(), &self.control)?;
                    apply(&mut txn, prepared)?
                };
                match txn.commit() {
                    Ok(()) => return Ok(out),
                    Err(e) if e.is_retryable() && attempt < 3 => continue,
                    Err(e) => return Err(map_table_error(e)),
                }
            }
        }
    }
}

/// A writing statement with everything it must read already read.
enum Prepared<'a> {
    Insert {
        table: Arc<table_layer::TableDef>,
        rows: Vec<Row>,
    },
    Update {
        table: Arc<table_layer::TableDef>,
        changes: Vec<(Vec<Value>, Row)>,
    },
    Delete {
        table: Arc<table_layer::TableDef>,
        keys: Vec<Vec<Value>>,
    },
    Ddl(&'a Statement),
}

impl Prepared<'_> {
    /// How many table-layer write calls applying it takes.
    fn calls(&self) -> usize {
        match self {
            Prepared::Insert { rows, .. } => rows.len(),
            Prepared::Update { changes, .. } => changes.len(),
            Prepared::Delete { keys, .. } => keys.len(),
            Prepared::Ddl(_) => 2,
        }
    }
}

fn apply(txn: &mut Transaction, p: Prepared<'_>) -> Result<Output<'static>> {
    match p {
        Prepared::Insert { table, rows } => {
            let count = rows.len() as u64;
            for row in rows {
                txn.insert(table.name(), &row).map_err(map_table_error)?;
            }
            Ok(Output::Affected {
                verb: "INSERT",
                count,
            })
        }
        Prepared::Update { table, changes } => {
            let count = changes.len() as u64;
            for (pk, new) in changes {
                txn.update(table.name(), &pk, &new)
                    .map_err(map_table_error)?;
            }
            Ok(Output::Affected {
                verb: "UPDATE",
                count,
            })
        }
        Prepared::Delete { table, keys } => {
            let count = keys.len() as u64;
            for pk in keys {
                txn.delete(table.name(), &pk).map_err(map_table_error)?;
            }
            Ok(Output::Affected {
                verb: "DELETE",
                count,
            })
        }
        Prepared::Ddl(stmt) => run_ddl(txn, stmt),
    }
}

fn column_error(table: &table_layer::TableDef, c: usize, m: String) -> SqlError {
    SqlError::type_error(format!(
        "column {}.{}: {m}",
        table.name(),
        table.columns()[c].name
    ))
}

/// Read what a writing statement needs (rows to insert, changes, keys).
fn prepare<'a>(
    txn: &Transaction,
    stmt: &'a Statement,
    subplans: Vec<Subplan>,
    control: &Control,
) -> Result<Prepared<'a>> {
    match stmt {
        Statement::Insert {
            table,
            columns,
            source,
            auto_pk,
        } => {
            let rows = {
                let ctx = Ctx::root(Env::controlled(txn, subplans, Some(control)));
                let mut op = exec::build(source, &ctx)?;
                let mut rows = Vec::new();
                while let Some(r) = op.next()? {
                    rows.push(r);
                }
                rows
            };
            let mut next_auto: Option<i64> = None;
            let mut out = Vec::with_capacity(rows.len());
            for src in rows {
                out.push(insert_row(
                    txn,
                    table,
                    columns,
                    *auto_pk,
                    src,
                    &mut next_auto,
                )?);
            }
            Ok(Prepared::Insert {
                table: Arc::clone(table),
                rows: out,
            })
        }
        Statement::Update { scan, assignments } => {
            let table = Arc::clone(&scan.table);
            let ctx = Ctx::root(Env::controlled(txn, subplans, Some(control)));
            let mut op = ScanOp::open(scan, &ctx, &[])?;
            let mut changes = Vec::new();
            while let Some(row) = op.next_row()? {
                changes.push(updated_row(&table, assignments, row, &ctx)?);
            }
            Ok(Prepared::Update { table, changes })
        }
        Statement::Delete { scan } => {
            let table = Arc::clone(&scan.table);
            let ctx = Ctx::root(Env::controlled(txn, subplans, Some(control)));
            let mut op = ScanOp::open(scan, &ctx, &[])?;
            let mut keys = Vec::new();
            while let Some(row) = op.next_row()? {
                keys.push(table.primary_key_of(&row));
            }
            Ok(Prepared::Delete { table, keys })
        }
        _ => Ok(Prepared::Ddl(stmt)),
    }
}

/// The full row an INSERT writes for source row `src` (defaults filled in,
/// values converted to the column types, the next INTEGER PRIMARY KEY
/// assigned for a NULL there).
fn insert_row(
    txn: &Transaction,
    table: &Arc<table_layer::TableDef>,
    columns: &[usize],
    auto_pk: Option<usize>,
    src: Row,
    next_auto: &mut Option<i64>,
) -> Result<Row> {
    let defs = table.columns();
    let mut full: Vec<Value> = defs.iter().map(|c| c.default_or_null().clone()).collect();
    for (v, &c) in src.into_iter().zip(columns) {
        full[c] = v;
    }
    for (i, v) in full.iter_mut().enumerate() {
        let taken = std::mem::take(v);
        *v = coerce_for_column(taken, defs[i].data_type).map_err(|m| column_error(table, i, m))?;
    }
    if let Some(c) = auto_pk {
        if full[c].is_null() {
            let next = match *next_auto {
                Some(n) => n,
                None => max_integer_key(txn, table.name())?.map_or(1, |m| m.saturating_add(1)),
            };
            full[c] = Value::Integer(next);
        }
        if let Value::Integer(i) = full[c] {
            let after = i.saturating_add(1);
            *next_auto = Some(next_auto.map_or(after, |n: i64| n.max(after)));
        }
    }
    Ok(full)
}

/// The primary key and new values of a row an UPDATE changes.
fn updated_row(
    table: &Arc<table_layer::TableDef>,
    assignments: &[(usize, crate::planner::expr::Expr)],
    row: table_layer::Row,
    ctx: &Ctx<'_>,
) -> Result<(Vec<Value>, Row)> {
    let pk = table.primary_key_of(&row);
    let mut new = row.values.clone();
    for (c, e) in assignments {
        let v = exec::eval::eval(e, &row.values, ctx)?;
        let ty: DataType = table.columns()[*c].data_type;
        new[*c] = coerce_for_column(v, ty).map_err(|m| column_error(table, *c, m))?;
    }
    Ok((pk, new))
}

/// Run INSERT ... SELECT, UPDATE or DELETE outside an explicit transaction
/// as a stream: rows are read from `read`, a transaction begun after
/// `write` (so its snapshot is the same or later), and written to `write`
/// one by one, so memory does not grow with the rows touched (only the
/// store's write buffer does, within its batch limit). Reading a separate
/// snapshot means the statement never sees its own changes (an UPDATE that
/// moves rows forward in the scan's order does not meet them again). A row
/// another transaction changed between the two snapshots is caught by
/// `write`'s commit as a conflict, and the statement runs again.
///
/// `None` when the statement is not one of these (or is a plain VALUES
/// insert, which is small): the caller prepares it in full.
fn stream_write(
    read: &Transaction,
    write: &mut Transaction,
    stmt: &Statement,
    subplans: Vec<Subplan>,
    control: &Control,
) -> Result<Option<Output<'static>>> {
    let ctx = Ctx::root(Env::controlled(read, subplans, Some(control)));
    let (verb, count) = match stmt {
        Statement::Insert {
            table,
            columns,
            source,
            auto_pk,
        } => {
            let mut op = exec::build(source, &ctx)?;
            let mut next_auto = None;
            let mut count = 0u64;
            while let Some(src) = op.next()? {
                let row = insert_row(write, table, columns, *auto_pk, src, &mut next_auto)?;
                write.insert(table.name(), &row).map_err(map_table_error)?;
                count += 1;
            }
            ("INSERT", count)
        }
        Statement::Update { scan, assignments } => {
            let table = Arc::clone(&scan.table);
            let mut op = ScanOp::open(scan, &ctx, &[])?;
            let mut count = 0u64;
            while let Some(row) = op.next_row()? {
                let (pk, new) = updated_row(&table, assignments, row, &ctx)?;
                write
                    .update(table.name(), &pk, &new)
                    .map_err(map_table_error)?;
                count += 1;
            }
            ("UPDATE", count)
        }
        Statement::Delete { scan } => {
            let table = Arc::clone(&scan.table);
            let mut op = ScanOp::open(scan, &ctx, &[])?;
            let mut count = 0u64;
            while let Some(row) = op.next_row()? {
                write
                    .delete(table.name(), &table.primary_key_of(&row))
                    .map_err(map_table_error)?;
                count += 1;
            }
            ("DELETE", count)
        }
        _ => return Ok(None),
    };
    Ok(Some(Output::Affected { verb, count }))
}

/// True for the statements [`stream_write`] runs.
fn streams(stmt: &Statement) -> bool {
    match stmt {
        Statement::Insert { source, .. } => !matches!(source, Node::Values { .. }),
        Statement::Update { .. } | Statement::Delete { .. } => true,
        _ => false,
    }
}

/// Run a DDL statement.
fn run_ddl(txn: &mut Transaction, stmt: &Statement) -> Result<Output<'static>> {
    match stmt {
        Statement::CreateTable {
            spec,
            unique,
            if_not_exists,
        } => {
            if txn.catalog().has_table(&spec.name) {
                if *if_not_exists {
                    return Ok(Output::Message("CREATE TABLE (already exists)".into()));
                }
                return Err(SqlError::name(format!(
                    "table {} already exists",
                    spec.name
                )));
            }
            txn.create_table(spec.clone()).map_err(map_table_error)?;
            for u in unique {
                txn.create_index(u.clone(), &mut |_| {})
                    .map_err(map_table_error)?;
            }
            Ok(Output::Message("CREATE TABLE".into()))
        }
        Statement::DropTable { names, if_exists } => {
            for n in names {
                if !txn.catalog().has_table(n) {
                    if *if_exists {
                        continue;
                    }
                    let cat = Arc::clone(txn.catalog());
                    return Err(SqlError::UnknownTable {
                        name: n.clone(),
                        suggestion: crate::error::suggest(n, cat.tables().map(|t| t.name())),
                        position: None,
                    });
                }
                txn.drop_table(n).map_err(map_table_error)?;
            }
            Ok(Output::Message("DROP TABLE".into()))
        }
        Statement::CreateIndex {
            spec,
            if_not_exists,
        } => {
            if txn.catalog().has_index(&spec.name) {
                if *if_not_exists {
                    return Ok(Output::Message("CREATE INDEX (already exists)".into()));
                }
                return Err(SqlError::name(format!(
                    "index {} already exists",
                    spec.name
                )));
            }
            txn.create_index(spec.clone(), &mut |_| {})
                .map_err(map_table_error)?;
            Ok(Output::Message("CREATE INDEX".into()))
        }
        Statement::DropIndex { names, if_exists } => {
            for n in names {
                if !txn.catalog().has_index(n) {
                    if *if_exists {
                        continue;
                    }
                    return Err(SqlError::name(format!("no such index: {n}")));
                }
                txn.drop_index(n).map_err(map_table_error)?;
            }
            Ok(Output::Message("DROP INDEX".into()))
        }
        Statement::AddColumn {
            table,
            column,
            if_not_exists,
        } => {
            let t = txn.catalog().table(table).map_err(map_table_error)?;
            if t.column_index(&column.name).is_some() && *if_not_exists {
                return Ok(Output::Message("ALTER TABLE (column exists)".into()));
            }
            txn.add_column(table, column.clone())
                .map_err(map_table_error)?;
            Ok(Output::Message("ALTER TABLE".into()))
        }
        _ => Err(SqlError::runtime("internal: not a writing statement")),
    }
}

/// The largest value of a table's single INTEGER primary key, if any row.
fn max_integer_key(txn: &Transaction, table: &str) -> Result<Option<i64>> {
    let mut scan = txn
        .scan(table, ScanRange::all(), Direction::Reverse)
        .map_err(table_err)?;
    match scan.next() {
        Some(r) => {
            let row = r.map_err(table_err)?;
            let t = txn.catalog().table(table).map_err(map_table_error)?;
            Ok(match t.primary_key_of(&row).first() {
                Some(Value::Integer(i)) => Some(*i),
                _ => None,
            })
        }
        None => Ok(None),
    }
}
