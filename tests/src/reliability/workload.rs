//! The ledger workload: numbered SQL transactions over a table with
//! secondary indexes, and the model that says what the database must hold
//! after any prefix of them.
//!
//! ```text
//!   acct(id PK, owner, balance, tag, version, note, chk)   the rows
//!     acct_owner  (owner)              non-unique index
//!     acct_tag    (tag)  UNIQUE        many NULLs, each non-NULL once
//!     acct_bal    (balance DESC, owner) created and dropped inside
//!                                      transactions as the workload goes
//!   commits(id PK, ops, rows)          one row per committed transaction,
//!                                      written in that same transaction
//! ```
//!
//! Commit `i` (numbered from 1) is a pure function of the seed, `i` and the
//! model state after commit `i - 1`: [`Model::plan`] draws its statements
//! and applies them to the model, so a driver and a checker that share the
//! seed agree on what every commit did without talking to each other. A
//! commit is `BEGIN; <1-5 operations>; INSERT INTO commits ...; COMMIT`;
//! some are preceded by an attempt that is rolled back, and some
//! operations are meant to fail (a duplicate unique value) and be undone
//! alone while the transaction goes on.
//!
//! Because the commit record is written in the same transaction as its
//! changes, `max(commits.id)` names the last commit that is present, and
//! [`verify`] checks that the rows are *exactly* the model after that
//! commit: an acknowledged commit that went missing, or an unacknowledged
//! one half visible, shows up as a difference. `chk` is a checksum of each
//! row's numbers, computed by the generator and by SQL alike, so a row read
//! back with damaged values cannot pass for a good one.

use std::collections::BTreeMap;

use sql_shell::{ErrorKind, Output, Session, SqlError, Value};

use super::rng::Rng;

/// The statements that create the schema (idempotent).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS acct (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, \
     balance INTEGER NOT NULL, tag TEXT, version INTEGER NOT NULL, note TEXT, chk INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS acct_owner ON acct (owner)",
    "CREATE UNIQUE INDEX IF NOT EXISTS acct_tag ON acct (tag)",
    "CREATE TABLE IF NOT EXISTS commits (id INTEGER PRIMARY KEY, ops INTEGER NOT NULL, \
     rows INTEGER NOT NULL)",
];

/// Owners rows are spread over (the `acct_owner` index groups them).
pub const OWNERS: u64 = 8;

/// The checksum column: the SQL text below computes the same number.
pub fn chk(id: i64, balance: i64, version: i64) -> i64 {
    (id * 7919 + balance * 104_729 + version * 31) % 1_000_003
}

/// One row of `acct` in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Primary key.
    pub owner: String,
    /// Never negative, so SQL's `%` and Rust's agree.
    pub balance: i64,
    /// Unique when not NULL.
    pub tag: Option<String>,
    /// Bumped by every update.
    pub version: i64,
    /// Padding so that data crosses memtable flushes.
    pub note: String,
}

impl Account {
    /// The row as SQL returns it for `SELECT * FROM acct`.
    pub fn row(&self, id: i64) -> Vec<Value> {
        vec![
            Value::Integer(id),
            Value::Text(self.owner.clone()),
            Value::Integer(self.balance),
            self.tag.clone().map_or(Value::Null, Value::Text),
            Value::Integer(self.version),
            Value::Text(self.note.clone()),
            Value::Integer(chk(id, self.balance, self.version)),
        ]
    }
}

/// What a step of a plan must produce.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Success.
    Ok,
    /// A constraint error (the statement alone is undone).
    Constraint,
    /// Exactly these rows.
    Rows(Vec<Vec<Value>>),
}

/// One statement of a plan.
#[derive(Clone, Debug)]
pub struct Step {
    /// The SQL text.
    pub sql: String,
    /// Its expected outcome.
    pub expect: Expect,
}

impl Step {
    fn ok(sql: String) -> Step {
        Step {
            sql,
            expect: Expect::Ok,
        }
    }
}

/// Commit number `id`: an optional rolled-back attempt, then the steps of
/// the transaction that commits (the commit record included).
#[derive(Clone, Debug)]
pub struct Plan {
    /// The commit number (from 1).
    pub id: u64,
    /// Run between BEGIN and ROLLBACK first (may be empty).
    pub aborted: Vec<Step>,
    /// Run between BEGIN and COMMIT.
    pub steps: Vec<Step>,
}

/// The expected database after some prefix of the commits.
#[derive(Clone, Debug, Default)]
pub struct Model {
    seed: u64,
    /// The last commit applied (0: none).
    pub last: u64,
    /// `acct` by primary key.
    pub rows: BTreeMap<i64, Account>,
    /// True while the `acct_bal` index exists.
    pub bal_index: bool,
    next_id: i64,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn tag_sql(t: &Option<String>) -> String {
    t.as_deref().map_or_else(|| "NULL".into(), quote)
}

impl Model {
    /// The empty database of the workload with this seed.
    pub fn new(seed: u64) -> Model {
        Model {
            seed,
            next_id: 1,
            ..Model::default()
        }
    }

    /// The seed the commits are drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The model after commits `1..=last`.
    pub fn replay(seed: u64, last: u64) -> Model {
        let mut m = Model::new(seed);
        m.advance_to(last);
        m
    }

    /// Apply commits up to `last` (which must not be behind `self.last`).
    pub fn advance_to(&mut self, last: u64) {
        while self.last < last {
            self.plan();
        }
    }

    /// Draw the next commit, apply it to the model and return its plan.
    pub fn plan(&mut self) -> Plan {
        let id = self.last + 1;
        let mut rng = Rng::derive(self.seed, id);
        let mut aborted = Vec::new();
        if rng.chance(1, 12) {
            let mut scratch = self.clone();
            for _ in 0..rng.range(1, 3) {
                scratch.op(&mut rng, id, &mut aborted, false);
            }
        }
        let mut steps = Vec::new();
        let ddl = id % 23 == 0;
        let n = rng.range(1, 5);
        for _ in 0..n {
            self.op(&mut rng, id, &mut steps, false);
        }
        if ddl {
            self.op(&mut rng, id, &mut steps, true);
        }
        if rng.chance(1, 4) {
            // Read-your-writes inside the transaction.
            if let Some((&k, a)) = self.rows.iter().nth(rng.index(self.rows.len())) {
                steps.push(Step {
                    sql: format!("SELECT * FROM acct WHERE id = {k}"),
                    expect: Expect::Rows(vec![a.row(k)]),
                });
            }
        }
        steps.push(Step::ok(format!(
            "INSERT INTO commits VALUES ({id}, {}, {})",
            steps.len(),
            self.rows.len()
        )));
        self.last = id;
        Plan { id, aborted, steps }
    }

    fn pick_id(&self, rng: &mut Rng) -> Option<i64> {
        if self.rows.is_empty() {
            return None;
        }
        self.rows.keys().nth(rng.index(self.rows.len())).copied()
    }

    fn new_account(&mut self, rng: &mut Rng, commit: u64, j: usize) -> (i64, Account) {
        let id = self.next_id;
        self.next_id += 1;
        let len = if rng.chance(1, 20) {
            rng.range(1000, 3000)
        } else {
            rng.below(200)
        } as usize;
        let c = char::from(b'a' + (id % 26) as u8);
        let a = Account {
            owner: format!("o{}", rng.below(OWNERS)),
            balance: rng.below(10_000) as i64,
            tag: rng.chance(1, 3).then(|| format!("t{commit}i{j}")),
            version: 0,
            note: std::iter::repeat_n(c, len).collect(),
        };
        (id, a)
    }

    /// Draw one operation, append its step(s) and apply it.
    fn op(&mut self, rng: &mut Rng, commit: u64, out: &mut Vec<Step>, ddl: bool) {
        if ddl {
            if self.bal_index {
                out.push(Step::ok("DROP INDEX acct_bal".into()));
            } else {
                out.push(Step::ok(
                    "CREATE INDEX acct_bal ON acct (balance DESC, owner)".into(),
                ));
            }
            self.bal_index = !self.bal_index;
            return;
        }
        let mut roll = rng.below(100);
        if self.rows.len() > 1500 && roll < 30 {
            // Keep the table around a couple of thousand rows so that
            // checking it stays cheap however long a campaign runs.
            roll = 70 + roll % 18;
        }
        match roll {
            0..=29 => {
                let k = if rng.chance(1, 25) {
                    rng.range(50, 150)
                } else {
                    rng.range(1, 4)
                } as usize;
                let mut values = Vec::with_capacity(k);
                for j in 0..k {
                    let (id, a) = self.new_account(rng, commit, out.len() * 1000 + j);
                    values.push(format!(
                        "({id}, {}, {}, {}, 0, {}, {})",
                        quote(&a.owner),
                        a.balance,
                        tag_sql(&a.tag),
                        quote(&a.note),
                        chk(id, a.balance, 0)
                    ));
                    self.rows.insert(id, a);
                }
                out.push(Step::ok(format!(
                    "INSERT INTO acct VALUES {}",
                    values.join(", ")
                )));
            }
            30..=49 => {
                let Some(id) = self.pick_id(rng) else { return };
                let balance = rng.below(10_000) as i64;
                let owner = format!("o{}", rng.below(OWNERS));
                let a = self.rows.get_mut(&id).expect("picked id exists");
                a.balance = balance;
                a.owner = owner;
                a.version += 1;
                out.push(Step::ok(format!(
                    "UPDATE acct SET balance = {balance}, owner = {}, version = {}, chk = {} WHERE id = {id}",
                    quote(&a.owner),
                    a.version,
                    chk(id, a.balance, a.version)
                )));
            }
            50..=59 => {
                let owner = format!("o{}", rng.below(OWNERS));
                let d = rng.range(1, 50) as i64;
                for a in self.rows.values_mut().filter(|a| a.owner == owner) {
                    a.balance += d;
                    a.version += 1;
                }
                out.push(Step::ok(format!(
                    "UPDATE acct SET balance = balance + {d}, version = version + 1, \
                     chk = (id * 7919 + (balance + {d}) * 104729 + (version + 1) * 31) % 1000003 \
                     WHERE owner = {}",
                    quote(&owner)
                )));
            }
            60..=69 => {
                let Some(id) = self.pick_id(rng) else { return };
                let tag = rng.chance(2, 3).then(|| format!("t{commit}u{}", out.len()));
                let a = self.rows.get_mut(&id).expect("picked id exists");
                a.tag = tag;
                out.push(Step::ok(format!(
                    "UPDATE acct SET tag = {} WHERE id = {id}",
                    tag_sql(&a.tag)
                )));
            }
            70..=81 => {
                let Some(id) = self.pick_id(rng) else { return };
                self.rows.remove(&id);
                out.push(Step::ok(format!("DELETE FROM acct WHERE id = {id}")));
            }
            82..=87 => {
                let lo = rng.below(10_000) as i64;
                self.rows
                    .retain(|_, a| !(a.balance >= lo && a.balance < lo + 40));
                out.push(Step::ok(format!(
                    "DELETE FROM acct WHERE balance >= {lo} AND balance < {lo} + 40"
                )));
            }
            88..=93 => {
                // A duplicate unique tag: fails alone, the transaction goes on.
                let tagged: Vec<(i64, String)> = self
                    .rows
                    .iter()
                    .filter_map(|(k, a)| a.tag.clone().map(|t| (*k, t)))
                    .collect();
                let Some(id) = self.pick_id(rng) else { return };
                if tagged.is_empty() {
                    return;
                }
                let (owner_id, tag) = rng.pick(&tagged).clone();
                if owner_id == id {
                    return;
                }
                out.push(Step {
                    sql: format!("UPDATE acct SET tag = {} WHERE id = {id}", quote(&tag)),
                    expect: Expect::Constraint,
                });
            }
            _ => {
                // A duplicate primary key.
                let Some(id) = self.pick_id(rng) else { return };
                out.push(Step {
                    sql: format!("INSERT INTO acct VALUES ({id}, 'o0', 1, NULL, 0, '', 0)"),
                    expect: Expect::Constraint,
                });
            }
        }
    }

    /// The rows of `acct` the model expects, in primary-key order.
    pub fn expected_rows(&self) -> Vec<Vec<Value>> {
        self.rows.iter().map(|(k, a)| a.row(*k)).collect()
    }
}

/// Run `sql` and collect its rows (empty for statements without rows).
pub fn query(session: &mut Session, sql: &str) -> Result<Vec<Vec<Value>>, SqlError> {
    match session.execute(sql)? {
        Output::Rows(rows) => rows.collect(),
        _ => Ok(Vec::new()),
    }
}

/// Create the schema (idempotent; each statement is atomic on its own).
pub fn create_schema(session: &mut Session) -> Result<(), SqlError> {
    for s in SCHEMA {
        session.execute(s)?;
    }
    Ok(())
}

fn run_step(session: &mut Session, step: &Step, commit: u64) -> Result<(), RunError> {
    let got = query(session, &step.sql);
    match (&step.expect, got) {
        (Expect::Ok, Ok(_)) => Ok(()),
        (Expect::Constraint, Err(e)) if e.kind() == ErrorKind::Constraint => Ok(()),
        (Expect::Rows(want), Ok(rows)) if *want == rows => Ok(()),
        (_, Err(e)) if e.kind() == ErrorKind::Storage => Err(RunError::Storage(e)),
        (want, got) => Err(RunError::Mismatch(format!(
            "commit {commit}: `{}` expected {want:?}, got {got:?}",
            short(&step.sql)
        ))),
    }
}

/// Shorten a statement for a message.
pub fn short(sql: &str) -> String {
    if sql.len() <= 160 {
        return sql.to_string();
    }
    let mut end = 160;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &sql[..end], sql.len())
}

/// How running a plan failed.
#[derive(Debug)]
pub enum RunError {
    /// The statements did not behave as the model says (a bug).
    Mismatch(String),
    /// COMMIT (or a statement) failed with a storage error: the outcome of
    /// this commit is unknown; the session has no open transaction.
    Storage(SqlError),
}

/// Run a plan through `session`: the rolled-back attempt, then the
/// transaction, up to and including COMMIT. `Ok` means acknowledged. After
/// an error the session has no open transaction.
pub fn run_plan(session: &mut Session, plan: &Plan) -> Result<(), RunError> {
    let r = run_plan_inner(session, plan);
    if r.is_err() && session.in_transaction() {
        let _ = session.execute("ROLLBACK");
    }
    r
}

fn run_plan_inner(session: &mut Session, plan: &Plan) -> Result<(), RunError> {
    let control = |session: &mut Session, sql: &str| {
        query(session, sql).map(|_| ()).map_err(|e| match e.kind() {
            ErrorKind::Storage => RunError::Storage(e),
            _ => RunError::Mismatch(format!("commit {}: {sql} failed: {e}", plan.id)),
        })
    };
    if !plan.aborted.is_empty() {
        control(session, "BEGIN")?;
        for s in &plan.aborted {
            run_step(session, s, plan.id)?;
        }
        control(session, "ROLLBACK")?;
    }
    control(session, "BEGIN")?;
    for s in &plan.steps {
        run_step(session, s, plan.id)?;
    }
    control(session, "COMMIT")
}

/// Read the database and check it is exactly the model after its last
/// commit. `model` is advanced (or replayed) to that commit. Returns the
/// last commit present (0: none).
pub fn verify(session: &mut Session, model: &mut Model) -> Result<u64, String> {
    let err = |what: &str, e: SqlError| format!("{what}: {e}");
    if !session.catalog().has_table("commits") {
        if model.last != 0 {
            *model = Model::new(model.seed);
        }
        return Ok(0);
    }
    let ids = query(session, "SELECT id FROM commits ORDER BY id")
        .map_err(|e| err("reading commits", e))?;
    let last = ids.len() as u64;
    for (n, r) in ids.iter().enumerate() {
        if r.as_slice() != [Value::Integer(n as i64 + 1)] {
            return Err(format!(
                "commit records are not 1..={last}: position {n} holds {r:?}"
            ));
        }
    }
    if last < model.last {
        *model = Model::new(model.seed);
    }
    model.advance_to(last);
    let rows = query(
        session,
        "SELECT id, owner, balance, tag, version, note, chk FROM acct ORDER BY id",
    )
    .map_err(|e| err("reading acct", e))?;
    let want = model.expected_rows();
    if rows != want {
        return Err(format!(
            "after commit {last}: acct differs from the model: {}",
            diff(&want, &rows)
        ));
    }
    // The same rows through each index.
    for o in 0..OWNERS {
        let owner = format!("o{o}");
        let got = query(
            session,
            &format!("SELECT id FROM acct WHERE owner = '{owner}' ORDER BY id"),
        )
        .map_err(|e| err("reading by owner", e))?;
        let want: Vec<Vec<Value>> = model
            .rows
            .iter()
            .filter(|(_, a)| a.owner == owner)
            .map(|(k, _)| vec![Value::Integer(*k)])
            .collect();
        if got != want {
            return Err(format!(
                "after commit {last}: owner {owner} through acct_owner: {}",
                diff(&want, &got)
            ));
        }
    }
    for (k, a) in model.rows.iter().filter(|(_, a)| a.tag.is_some()).take(20) {
        let got = query(
            session,
            &format!("SELECT id FROM acct WHERE tag = {}", tag_sql(&a.tag)),
        )
        .map_err(|e| err("reading by tag", e))?;
        if got != [vec![Value::Integer(*k)]] {
            return Err(format!(
                "after commit {last}: tag {:?} through acct_tag gives {got:?}, want row {k}",
                a.tag
            ));
        }
    }
    let has_bal = session.catalog().has_index("acct_bal");
    if has_bal != model.bal_index {
        return Err(format!(
            "after commit {last}: index acct_bal exists = {has_bal}, the model says {}",
            model.bal_index
        ));
    }
    let report = session
        .database()
        .check_integrity(None)
        .map_err(|e| format!("integrity check failed to run: {e}"))?;
    if !report.is_ok() {
        return Err(format!("after commit {last}: integrity check: {report:?}"));
    }
    Ok(last)
}

/// A short description of how two row lists differ.
pub fn diff(want: &[Vec<Value>], got: &[Vec<Value>]) -> String {
    let first = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    format!(
        "{} rows expected, {} read; first difference at {first}: want {:?}, got {:?}",
        want.len(),
        got.len(),
        want.get(first),
        got.get(first)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic() {
        let mut a = Model::new(42);
        let mut b = Model::new(42);
        for _ in 0..200 {
            let pa = a.plan();
            let pb = b.plan();
            let sa: Vec<&str> = pa.steps.iter().map(|s| s.sql.as_str()).collect();
            let sb: Vec<&str> = pb.steps.iter().map(|s| s.sql.as_str()).collect();
            assert_eq!(sa, sb);
        }
        assert_eq!(a.rows, b.rows);
        assert_eq!(Model::replay(42, 200).rows, a.rows);
    }

    #[test]
    fn workload_runs_on_memstore_and_matches_the_model() {
        let mut s = Session::open(None).unwrap();
        create_schema(&mut s).unwrap();
        let mut m = Model::new(7);
        for _ in 0..300 {
            let p = m.plan();
            run_plan(&mut s, &p).unwrap_or_else(|e| panic!("{e:?}"));
        }
        let mut check = Model::new(7);
        assert_eq!(verify(&mut s, &mut check).unwrap(), 300);
        assert!(!check.rows.is_empty());
    }
}
