//! ORDER BY: a top-N heap under LIMIT, an in-memory sort within the
//! memory budget, and an external merge sort past it.
//!
//! ```text
//!   LIMIT n (+ OFFSET m) known   ──► heap of the best n+m rows: memory ~ n+m rows
//!   input fits the budget        ──► Vec, stable sort
//!   input over the budget        ──► sorted runs spilled to temporary files
//!                                    (each about one budget), then a k-way
//!                                    merge that holds one row per run
//! ```
//!
//! Every row carries its input sequence number as the last sort key, so
//! all three give exactly the order of a stable sort (rows with equal keys
//! keep their input order), whichever path runs. Run files are anonymous
//! temporary files (`tempfile::tempfile`, in the system's temporary
//! directory): the operating system removes them when they are closed,
//! even after a crash. Their encoding is private to this module and lives
//! only as long as the query.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::eval::eval;
use super::{BoxOp, Ctx, Operator};
use crate::error::{Result, SqlError};
use crate::planner::plan::SortKey;
use crate::value::compare::cmp;
use crate::value::{Row, Value};

/// Compare two rows by sort keys already evaluated.
pub fn compare_keys(a: &[Value], b: &[Value], keys: &[SortKey]) -> Ordering {
    for (i, k) in keys.iter().enumerate() {
        let (x, y) = (&a[i], &b[i]);
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = cmp(x, y);
                if k.desc { o.reverse() } else { o }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Rough heap bytes of a value (for the memory budget).
pub fn value_bytes(v: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match v {
            Value::Text(s) => s.len(),
            Value::Blob(b) => b.len(),
            _ => 0,
        }
}

/// Rough heap bytes of a row (for the memory budget).
pub fn row_bytes(r: &[Value]) -> usize {
    3 * std::mem::size_of::<usize>() + r.iter().map(value_bytes).sum::<usize>()
}

/// The error of an operator that needs more memory than the budget.
pub fn over_budget(what: &str, budget: usize) -> SqlError {
    SqlError::runtime(format!(
        "query needs more than {} MiB of memory for {what}; raise the limit with the \
         session's memory_budget setting, or narrow the query",
        budget >> 20
    ))
}

/// One row with its evaluated keys and input position.
struct Entry {
    keys: Vec<Value>,
    seq: u64,
    row: Row,
}

/// Order entries by keys, then input position.
fn order(a: &Entry, b: &Entry, keys: &[SortKey]) -> Ordering {
    compare_keys(&a.keys, &b.keys, keys).then(a.seq.cmp(&b.seq))
}

/// An entry in a max-heap by sort order (the top-N heap keeps the worst of
/// the best N on top, to drop it).
struct Ranked<'k> {
    e: Entry,
    keys: &'k [SortKey],
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ranked<'_> {}
impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        order(&self.e, &o.e, self.keys)
    }
}

/// The sort operator; see the [module documentation](self).
pub struct SortOp<'t> {
    input: Option<BoxOp<'t>>,
    keys: Vec<SortKey>,
    ctx: Ctx<'t>,
    /// Keep only the first `top` rows (LIMIT + OFFSET), when known.
    top: Option<u64>,
    out: Output,
}

enum Output {
    Pending,
    Memory(std::vec::IntoIter<Entry>),
    Merge(Merge),
}

impl<'t> SortOp<'t> {
    /// Sort `input` by `keys`; with `top`, only the first `top` rows are
    /// wanted.
    pub fn new(input: BoxOp<'t>, keys: Vec<SortKey>, ctx: Ctx<'t>, top: Option<u64>) -> Self {
        SortOp {
            input: Some(input),
            keys,
            ctx,
            top,
            out: Output::Pending,
        }
    }

    fn entry(&self, row: Row, seq: u64) -> Result<Entry> {
        let mut keys = Vec::with_capacity(self.keys.len());
        for k in &self.keys {
            keys.push(eval(&k.expr, &row, &self.ctx)?);
        }
        Ok(Entry { keys, seq, row })
    }

    fn top_n(&self, input: &mut BoxOp<'t>, n: u64) -> Result<Vec<Entry>> {
        let budget = self.ctx.env.memory_budget();
        let mut heap: BinaryHeap<Ranked<'_>> = BinaryHeap::new();
        let mut bytes = 0usize;
        let mut seq = 0u64;
        if n == 0 {
            return Ok(Vec::new());
        }
        while let Some(row) = input.next()? {
            let e = self.entry(row, seq)?;
            seq += 1;
            if heap.len() as u64 >= n {
                // Full: the new row replaces the worst kept one if better.
                let better = heap
                    .peek()
                    .is_some_and(|worst| order(&e, &worst.e, &self.keys) == Ordering::Less);
                if !better {
                    continue;
                }
                if let Some(w) = heap.pop() {
                    bytes = bytes.saturating_sub(row_bytes(&w.e.row) + row_bytes(&w.e.keys));
                }
            }
            bytes += row_bytes(&e.row) + row_bytes(&e.keys);
            if bytes > budget {
                return Err(over_budget("ORDER BY with LIMIT", budget));
            }
            heap.push(Ranked {
                e,
                keys: &self.keys,
            });
        }
        let mut v: Vec<Entry> = heap.into_iter().map(|r| r.e).collect();
        v.sort_by(|a, b| order(a, b, &self.keys));
        Ok(v)
    }

    fn fill(&mut self) -> Result<()> {
        let Some(mut input) = self.input.take() else {
            return Ok(());
        };
        if let Some(n) = self.top {
            let v = self.top_n(&mut input, n)?;
            self.out = Output::Memory(v.into_iter());
            return Ok(());
        }
        let budget = self.ctx.env.memory_budget();
        let mut buf: Vec<Entry> = Vec::new();
        let mut bytes = 0usize;
        let mut runs: Vec<Run> = Vec::new();
        let mut seq = 0u64;
        while let Some(row) = input.next()? {
            let e = self.entry(row, seq)?;
            seq += 1;
            bytes += row_bytes(&e.row) + row_bytes(&e.keys);
            buf.push(e);
            if bytes > budget {
                buf.sort_by(|a, b| order(a, b, &self.keys));
                runs.push(Run::spill(std::mem::take(&mut buf))?);
                bytes = 0;
            }
        }
        buf.sort_by(|a, b| order(a, b, &self.keys));
        if runs.is_empty() {
            self.out = Output::Memory(buf.into_iter());
        } else {
            if !buf.is_empty() {
                runs.push(Run::spill(buf)?);
            }
            self.out = Output::Merge(Merge::new(runs)?);
        }
        Ok(())
    }
}

impl Operator for SortOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if matches!(self.out, Output::Pending) {
            self.fill()?;
        }
        match &mut self.out {
            Output::Pending => Ok(None),
            Output::Memory(it) => Ok(it.next().map(|e| e.row)),
            Output::Merge(m) => m.next(&self.keys),
        }
    }
}

/// A sorted run in a temporary file.
struct Run {
    reader: BufReader<File>,
    left: u64,
}

fn spill_err(e: std::io::Error) -> SqlError {
    SqlError::Storage {
        message: format!(
            "external sort: cannot use a temporary file ({e}); free space in the temporary \
             directory (TMPDIR) or raise the session's memory_budget"
        ),
    }
}

impl Run {
    fn spill(entries: Vec<Entry>) -> Result<Run> {
        let file = tempfile::tempfile().map_err(spill_err)?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let left = entries.len() as u64;
        let mut scratch = Vec::new();
        for e in entries {
            scratch.clear();
            scratch.extend_from_slice(&e.seq.to_le_bytes());
            put_u32(&mut scratch, e.keys.len());
            put_u32(&mut scratch, e.row.len());
            for v in e.keys.iter().chain(e.row.iter()) {
                encode(&mut scratch, v);
            }
            w.write_all(&(scratch.len() as u64).to_le_bytes())
                .map_err(spill_err)?;
            w.write_all(&scratch).map_err(spill_err)?;
        }
        let mut file = w.into_inner().map_err(|e| spill_err(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(spill_err)?;
        Ok(Run {
            reader: BufReader::with_capacity(1 << 16, file),
            left,
        })
    }

    fn read(&mut self) -> Result<Option<Entry>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let mut len = [0u8; 8];
        self.reader.read_exact(&mut len).map_err(spill_err)?;
        let len = usize::try_from(u64::from_le_bytes(len)).map_err(|_| corrupt())?;
        let mut buf = vec![0u8; len];
        self.reader.read_exact(&mut buf).map_err(spill_err)?;
        decode_entry(&buf).map(Some).ok_or_else(corrupt)
    }
}

fn corrupt() -> SqlError {
    SqlError::Storage {
        message: "external sort: a temporary run file reads back differently than written".into(),
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(0),
        Value::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        Value::Text(s) => {
            out.push(3);
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
        Value::Boolean(b) => out.push(if *b { 6 } else { 5 }),
    }
}

/// A cursor over an encoded entry.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }
    fn value(&mut self) -> Option<Value> {
        Some(match self.take(1)?[0] {
            0 => Value::Null,
            1 => Value::Integer(self.u64()? as i64),
            2 => Value::Real(f64::from_bits(self.u64()?)),
            3 => {
                let n = usize::try_from(self.u64()?).ok()?;
                Value::Text(String::from_utf8(self.take(n)?.to_vec()).ok()?)
            }
            4 => {
                let n = usize::try_from(self.u64()?).ok()?;
                Value::Blob(self.take(n)?.to_vec())
            }
            5 => Value::Boolean(false),
            6 => Value::Boolean(true),
            _ => return None,
        })
    }
}

fn decode_entry(buf: &[u8]) -> Option<Entry> {
    let mut c = Cur(buf);
    let seq = c.u64()?;
    let nk = c.u32()?;
    let nr = c.u32()?;
    let mut keys = Vec::with_capacity(nk.min(1024));
    for _ in 0..nk {
        keys.push(c.value()?);
    }
    let mut row = Vec::with_capacity(nr.min(1024));
    for _ in 0..nr {
        row.push(c.value()?);
    }
    c.0.is_empty().then_some(Entry { keys, seq, row })
}

/// The k-way merge of sorted runs: one entry per run in memory.
struct Merge {
    runs: Vec<Run>,
    heads: Vec<Option<Entry>>,
}

impl Merge {
    fn new(mut runs: Vec<Run>) -> Result<Merge> {
        let mut heads = Vec::with_capacity(runs.len());
        for r in &mut runs {
            heads.push(r.read()?);
        }
        Ok(Merge { runs, heads })
    }

    fn next(&mut self, keys: &[SortKey]) -> Result<Option<Row>> {
        // Few runs (input / budget), so a linear pick is cheap next to the
        // file reads; a heap would replace it for very many runs.
        let mut best: Option<usize> = None;
        for (i, h) in self.heads.iter().enumerate() {
            let Some(e) = h else { continue };
            let better = match best.and_then(|b| self.heads[b].as_ref()) {
                None => true,
                Some(b) => order(e, b, keys) == Ordering::Less,
            };
            if better {
                best = Some(i);
            }
        }
        let Some(i) = best else {
            return Ok(None);
        };
        let next = self.runs[i].read()?;
        let e = std::mem::replace(&mut self.heads[i], next);
        Ok(e.map(|e| e.row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_a_run() {
        let rows = vec![
            Entry {
                keys: vec![Value::Integer(-5), Value::Null],
                seq: 7,
                row: vec![
                    Value::Text("é x".into()),
                    Value::Blob(vec![0, 255]),
                    Value::Real(-0.5),
                    Value::Boolean(true),
                    Value::Null,
                ],
            },
            Entry {
                keys: vec![],
                seq: u64::MAX,
                row: vec![],
            },
        ];
        let mut run = Run::spill(rows).unwrap();
        let a = run.read().unwrap().unwrap();
        assert_eq!(a.seq, 7);
        assert_eq!(a.keys, vec![Value::Integer(-5), Value::Null]);
        assert_eq!(a.row.len(), 5);
        assert_eq!(a.row[0], Value::Text("é x".into()));
        let b = run.read().unwrap().unwrap();
        assert_eq!((b.seq, b.row.len()), (u64::MAX, 0));
        assert!(run.read().unwrap().is_none());
    }
}
