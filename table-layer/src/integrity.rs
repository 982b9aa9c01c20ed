//! The integrity check: do rows and index entries agree?
//!
//! For each table (streaming; memory is bounded by the problem list):
//!
//! 1. every row decodes, fits its column types and NOT NULL rules, and each
//!    of its index entries exists with the expected value;
//! 2. every index entry decodes, its row exists, and the entry is exactly
//!    the one that row produces (so no stale or dangling entries);
//! 3. no key of the table belongs to an index the catalog does not know;
//! 4. (whole-database check) no key belongs to a table the catalog does not
//!    know.
//!
//! Used by the tests after every step of the model-based runs, and by the
//! shell's `.check`.

use std::fmt;

use kv_api::{Direction, KeyRange, KvIterator};

use crate::codec::key::decode_id;
use crate::keys::{INDEXES, ROWS, SYSTEM, index_prefix, prefix_range, rows_prefix};
use crate::rows::{check_row, decode_index_entry, decode_row, index_entry};
use crate::{Result, TableDef, Transaction};

/// Problems kept in a report; more are counted but not kept.
pub const MAX_PROBLEMS: usize = 100;

/// One inconsistency found by the integrity check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrityProblem {
    /// The table (or `#id` for data of an unknown table).
    pub table: String,
    /// The index, when the problem is about an index entry.
    pub index: Option<String>,
    /// The key involved, rendered for humans.
    pub key: String,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.index {
            Some(i) => write!(
                f,
                "table {} index {}: {} (key {})",
                self.table, i, self.detail, self.key
            ),
            None => write!(
                f,
                "table {}: {} (key {})",
                self.table, self.detail, self.key
            ),
        }
    }
}

/// The result of an integrity check.
///
/// ```
/// # use std::sync::Arc;
/// # use table_layer::{ColumnDef, DataType, Database, TableSpec, Value};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
/// db.run_with_retry(1, |txn| txn.insert("t", &[Value::Integer(1)]))?;
/// let report = db.check_integrity(None)?;
/// assert!(report.is_ok(), "{report}");
/// assert_eq!((report.tables, report.rows), (1, 1));
/// # Ok::<(), table_layer::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Tables checked.
    pub tables: u64,
    /// Rows checked.
    pub rows: u64,
    /// Index entries checked.
    pub index_entries: u64,
    /// Problems found (all of them counted, the first [`MAX_PROBLEMS`] kept).
    pub problem_count: u64,
    /// The first problems found.
    pub problems: Vec<IntegrityProblem>,
}

impl IntegrityReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    fn problem(&mut self, table: &str, index: Option<&str>, key: &[u8], detail: impl Into<String>) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(IntegrityProblem {
                table: table.to_owned(),
                index: index.map(str::to_owned),
                key: kv_api::display_key(key),
                detail: detail.into(),
            });
        }
    }
}

impl fmt::Display for IntegrityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tables, {} rows, {} index entries: ",
            self.tables, self.rows, self.index_entries
        )?;
        if self.is_ok() {
            return write!(f, "ok");
        }
        writeln!(f, "{} problems", self.problem_count)?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        if self.problem_count > self.problems.len() as u64 {
            writeln!(
                f,
                "  ... and {} more",
                self.problem_count - self.problems.len() as u64
            )?;
        }
        Ok(())
    }
}

impl Transaction {
    /// Check that rows and index entries agree, for one table or (`None`)
    /// every table plus the absence of data of unknown tables, as this
    /// transaction sees them. Inconsistencies are reported, not returned as
    /// errors; an error means the check itself could not run (storage).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let mut txn = db.begin()?;
    /// txn.insert("t", &[Value::Integer(1), Value::Null])?;
    /// let report = txn.check_integrity(None)?; // sees the transaction's own writes
    /// assert!(report.is_ok() && report.rows == 1);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn check_integrity(&self, table: Option<&str>) -> Result<IntegrityReport> {
        let mut report = IntegrityReport::default();
        let tables: Vec<_> = match table {
            Some(name) => vec![self.catalog.table(name)?],
            None => self.catalog.tables().cloned().collect(),
        };
        for t in &tables {
            report.tables += 1;
            self.check_rows(t, &mut report)?;
            for idx in &t.indexes {
                self.check_index(t, idx, &mut report)?;
            }
            self.check_stray_indexes(t, &mut report)?;
        }
        if table.is_none() {
            self.check_stray_tables(&mut report)?;
        }
        Ok(report)
    }

    fn check_rows(&self, t: &TableDef, report: &mut IntegrityReport) -> Result<()> {
        let prefix = rows_prefix(t.id);
        let mut it = self
            .kv
            .iter(KeyRange::prefix(&prefix), Direction::Forward)?;
        let (mut k, mut v) = (Vec::new(), Vec::new());
        while let Some((key, val)) = it.next()? {
            report.rows += 1;
            let row = match decode_row(t, &key[prefix.len()..], val) {
                Ok(r) => r,
                Err(e) => {
                    report.problem(&t.name, None, key, format!("row does not decode: {e}"));
                    continue;
                }
            };
            if let Err(e) = check_row(t, &row.values) {
                report.problem(&t.name, None, key, format!("row breaks its schema: {e}"));
                continue;
            }
            let pk = t.primary_key_of(&row);
            for idx in &t.indexes {
                index_entry(&mut k, &mut v, t, idx, &row.values, pk.iter());
                match self.kv.get(&k)? {
                    None => report.problem(&t.name, Some(&idx.name), key, "row has no index entry"),
                    Some(got) if got != v => report.problem(
                        &t.name,
                        Some(&idx.name),
                        &k,
                        "index entry points at another row",
                    ),
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    fn check_index(
        &self,
        t: &TableDef,
        idx: &crate::IndexDef,
        report: &mut IntegrityReport,
    ) -> Result<()> {
        let prefix = index_prefix(t.id, idx.id);
        let mut it = self
            .kv
            .iter(KeyRange::prefix(&prefix), Direction::Forward)?;
        let (mut k, mut v) = (Vec::new(), Vec::new());
        while let Some((key, val)) = it.next()? {
            report.index_entries += 1;
            let (_, pk) = match decode_index_entry(t, idx, &key[prefix.len()..], val) {
                Ok(e) => e,
                Err(e) => {
                    report.problem(
                        &t.name,
                        Some(&idx.name),
                        key,
                        format!("entry does not decode: {e}"),
                    );
                    continue;
                }
            };
            let row = match self.get_row(t, &pk) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    report.problem(
                        &t.name,
                        Some(&idx.name),
                        key,
                        "entry points at a missing row",
                    );
                    continue;
                }
                Err(e) => {
                    report.problem(
                        &t.name,
                        Some(&idx.name),
                        key,
                        format!("entry's row does not load: {e}"),
                    );
                    continue;
                }
            };
            if check_row(t, &row.values).is_err() {
                continue; // reported by the row pass
            }
            index_entry(&mut k, &mut v, t, idx, &row.values, pk.iter());
            if k != key || v != val {
                report.problem(
                    &t.name,
                    Some(&idx.name),
                    key,
                    "entry does not match its row's values (stale entry)",
                );
            }
        }
        Ok(())
    }

    /// Keys under `<tid> 02` that belong to no index of the table, and keys
    /// under `<tid>` that are neither rows nor index entries.
    fn check_stray_indexes(&self, t: &TableDef, report: &mut IntegrityReport) -> Result<()> {
        let mut base = Vec::new();
        crate::codec::key::encode_id(&mut base, u64::from(t.id));
        let mut it = self.kv.iter(KeyRange::prefix(&base), Direction::Forward)?;
        let mut next = it.next()?.map(|(k, _)| k.to_vec());
        while let Some(key) = next {
            let rest = &key[base.len()..];
            let skip_to = match rest.first() {
                Some(&ROWS) => prefix_range(&rows_prefix(t.id)).1,
                Some(&INDEXES) => {
                    let mut r = &rest[1..];
                    match decode_id(&mut r) {
                        Ok(iid) => {
                            let p = index_prefix(t.id, iid as u32);
                            if iid > u64::from(u32::MAX)
                                || !t.indexes.iter().any(|i| u64::from(i.id) == iid)
                            {
                                report.problem(
                                    &t.name,
                                    None,
                                    &key,
                                    format!("entries of unknown index #{iid}"),
                                );
                            }
                            prefix_range(&p).1
                        }
                        Err(_) => {
                            report.problem(&t.name, None, &key, "malformed index key");
                            kv_api::prefix_successor(&key).unwrap_or_default()
                        }
                    }
                }
                _ => {
                    report.problem(
                        &t.name,
                        None,
                        &key,
                        "key is neither a row nor an index entry",
                    );
                    kv_api::prefix_successor(&key).unwrap_or_default()
                }
            };
            next = seek_next(&mut *it, &skip_to)?;
        }
        Ok(())
    }

    /// Keys of table ids the catalog does not know.
    fn check_stray_tables(&self, report: &mut IntegrityReport) -> Result<()> {
        let mut it = self.kv.iter(KeyRange::all(), Direction::Forward)?;
        let mut next = it.next()?.map(|(k, _)| k.to_vec());
        while let Some(key) = next {
            let mut r = &key[..];
            let skip_to = match decode_id(&mut r) {
                Ok(tid) => {
                    let mut p = Vec::new();
                    crate::codec::key::encode_id(&mut p, tid);
                    let known = tid == u64::from(SYSTEM)
                        || (tid <= u64::from(u32::MAX)
                            && self.catalog.table_by_id(tid as u32).is_some());
                    if !known {
                        report.problem(
                            &format!("#{tid}"),
                            None,
                            &key,
                            "data of a table the catalog does not know",
                        );
                    }
                    prefix_range(&p).1
                }
                Err(_) => {
                    report.problem("?", None, &key, "key outside the table layer's layout");
                    kv_api::prefix_successor(&key).unwrap_or_default()
                }
            };
            next = seek_next(&mut *it, &skip_to)?;
        }
        Ok(())
    }
}

/// Seek to `target` and return the next key, or `None` at the end (or when
/// `target` is empty, meaning "past everything").
fn seek_next(it: &mut dyn KvIterator, target: &[u8]) -> Result<Option<Vec<u8>>> {
    if target.is_empty() {
        return Ok(None);
    }
    it.seek(target)?;
    Ok(it.next()?.map(|(k, _)| k.to_vec()))
}
