//! Choosing how to read a table: key ranges from a WHERE clause and a
//! simple cost model.
//!
//! For the primary key and each index, the conjuncts of the predicate that
//! compare a key column with a value known when the scan opens become a
//! [`KeyPredicate`]: equalities (`=`, `IN (...)`, `IS NULL`) on a prefix of
//! the key columns, then bounds (`<`, `<=`, `>`, `>=`, `BETWEEN`) on the next
//! one. A range only has to contain the matching rows: the executor widens
//! it when a value's type does not match the column (a REAL bound on an
//! INTEGER column), and such conjuncts stay in the scan's filter. Conjuncts
//! the range answers exactly (a key column against a literal of its own
//! type) leave the filter, so EXPLAIN does not show them twice.
//!
//! ## Cost model
//! The table's size is the table layer's running row count (kept per
//! table as rows are inserted and deleted, saved with the catalog); the
//! selectivities are guesses (for simplicity; per-column histograms would
//! replace them):
//!
//! ```text
//!   table rows                      N = the row count (1000 when unknown)
//!   equality on a key column        x 0.05   (IN with k values: x 0.05 k)
//!   all columns of a unique key     1 row
//!   bounds on both sides            x 0.1    one side: x 0.3
//!   cost of a primary-key range     rows
//!   cost of an index range          rows x 1.5 (each row is fetched by key)
//!   cost of a full scan             N
//!   a path that yields the ORDER BY order saves the sort: N x 0.2,
//!   and with LIMIT n it reads about n rows
//! ```
//!
//! The cheapest path wins; ties go to the primary key, then to the first
//! index created.

use std::sync::Arc;

use table_layer::{DataType, IndexDef, SortOrder, TableDef};

use super::expr::{CmpOp, Expr, Slot};
use super::plan::{Access, KeyBounds, KeyEq, KeyPredicate, Scan};
use crate::value::affinity::Affinity;

/// Rows assumed in a table.
pub const ASSUMED_ROWS: f64 = 1000.0;

/// An ORDER BY requirement on table columns: (column, descending,
/// nulls_first).
pub type OrderReq = [(usize, bool, bool)];

/// The chosen access path.
pub struct Choice {
    /// The scan (filter set to all conjuncts).
    pub scan: Scan,
    /// True when the scan yields rows in the required order.
    pub ordered: bool,
}

/// How a key column is constrained by one conjunct.
enum Term {
    Eq(Expr),
    In(Vec<Expr>),
    IsNull,
    Low(Expr, bool),
    High(Expr, bool),
}

fn key_usable(ty: DataType, affinity: Affinity) -> bool {
    match ty {
        DataType::Boolean => false,
        // A numeric comparison would convert the text values of the column.
        DataType::Text => !affinity.is_numeric(),
        _ => true,
    }
}

/// The constraint a conjunct puts on table column `col`, if any.
/// `col_of` maps an expression to a table column; `avail` says whether an
/// expression can be evaluated when the scan opens.
fn term_for(
    e: &Expr,
    col: usize,
    ty: DataType,
    col_of: &dyn Fn(&Expr) -> Option<usize>,
    avail: &dyn Fn(&Expr) -> bool,
) -> Option<Term> {
    match e {
        Expr::Compare {
            op,
            left,
            right,
            affinity,
        } => {
            if !key_usable(ty, *affinity) {
                return None;
            }
            let (op, other) = if col_of(left) == Some(col) && avail(right) {
                (*op, right)
            } else if col_of(right) == Some(col) && avail(left) {
                (op.flip(), left)
            } else {
                return None;
            };
            let v = (**other).clone();
            Some(match op {
                CmpOp::Eq => Term::Eq(v),
                CmpOp::Lt => Term::High(v, false),
                CmpOp::LtEq => Term::High(v, true),
                CmpOp::Gt => Term::Low(v, false),
                CmpOp::GtEq => Term::Low(v, true),
                CmpOp::NotEq => return None,
            })
        }
        Expr::InList {
            expr,
            list,
            negated: false,
            affinity,
        } => {
            if col_of(expr) == Some(col) && key_usable(ty, *affinity) && list.iter().all(avail) {
                Some(Term::In(list.clone()))
            } else {
                None
            }
        }
        Expr::IsNull(x, false) if col_of(x) == Some(col) && ty != DataType::Boolean => {
            Some(Term::IsNull)
        }
        _ => None,
    }
}

/// Build the key predicate for key columns `key` (table column, type).
pub fn key_predicate(
    key: &[(usize, DataType)],
    conjuncts: &[Expr],
    col_of: &dyn Fn(&Expr) -> Option<usize>,
    avail: &dyn Fn(&Expr) -> bool,
) -> KeyPredicate {
    let mut pred = KeyPredicate::default();
    let mut combos = 1usize;
    for &(col, ty) in key {
        let terms: Vec<Term> = conjuncts
            .iter()
            .filter_map(|c| term_for(c, col, ty, col_of, avail))
            .collect();
        let eq = terms.iter().find_map(|t| match t {
            Term::Eq(v) => Some(KeyEq::Value(v.clone())),
            Term::IsNull => Some(KeyEq::IsNull),
            _ => None,
        });
        let eq = eq.or_else(|| {
            terms.iter().find_map(|t| match t {
                Term::In(l) if combos.saturating_mul(l.len().max(1)) <= 4096 => {
                    Some(KeyEq::In(l.clone()))
                }
                _ => None,
            })
        });
        if let Some(eq) = eq {
            if let KeyEq::In(l) = &eq {
                combos = combos.saturating_mul(l.len().max(1));
            }
            pred.eq.push(eq);
            continue;
        }
        let mut bounds = KeyBounds::default();
        for t in terms {
            match t {
                Term::Low(v, inc) if bounds.low.is_none() => bounds.low = Some((v, inc)),
                Term::High(v, inc) if bounds.high.is_none() => bounds.high = Some((v, inc)),
                _ => {}
            }
        }
        if bounds.low.is_some() || bounds.high.is_some() {
            pred.range = Some(bounds);
        }
        break;
    }
    pred
}

fn selectivity(pred: &KeyPredicate, key_len: usize, unique: bool, n: f64) -> f64 {
    let all_eq_single =
        pred.eq.len() == key_len && pred.eq.iter().all(|e| matches!(e, KeyEq::Value(_)));
    if unique && all_eq_single {
        return 1.0 / n;
    }
    let mut s = 1.0;
    for e in &pred.eq {
        s *= match e {
            KeyEq::In(l) => (0.05 * l.len() as f64).min(1.0),
            _ => 0.05,
        };
    }
    if unique && pred.eq.len() == key_len {
        let n_keys: f64 = pred
            .eq
            .iter()
            .map(|e| match e {
                KeyEq::In(l) => l.len() as f64,
                _ => 1.0,
            })
            .product();
        s = s.min(n_keys / n);
    }
    if let Some(r) = &pred.range {
        s *= match (&r.low, &r.high) {
            (Some(_), Some(_)) => 0.1,
            _ => 0.3,
        };
    }
    s
}

/// Whether key columns `key` (after the equality prefix) give `order`;
/// returns `Some(reverse)` when they do.
fn order_from_key(
    key: &[(usize, SortOrder)],
    pred: &KeyPredicate,
    order: &OrderReq,
) -> Option<bool> {
    if order.is_empty() {
        return Some(false);
    }
    // Leading columns fixed to one value can be skipped.
    let fixed = pred
        .eq
        .iter()
        .take_while(|e| matches!(e, KeyEq::Value(_) | KeyEq::IsNull))
        .count();
    let mut reverse: Option<bool> = None;
    let mut k = 0;
    for &(col, desc, nulls_first) in order {
        // Default NULL placement only: first when ascending.
        if nulls_first == desc {
            return None;
        }
        // Skip fixed columns before the next match.
        loop {
            let (kc, ko) = *key.get(k)?;
            if kc == col {
                let key_desc = ko == SortOrder::Desc;
                let rev = key_desc != desc;
                if *reverse.get_or_insert(rev) != rev {
                    return None;
                }
                k += 1;
                break;
            }
            if k < fixed {
                k += 1;
                continue;
            }
            return None;
        }
    }
    Some(reverse.unwrap_or(false))
}

/// Pick the access path for `table` given the conjuncts of its predicate
/// (over the table's row), an ORDER BY requirement and a LIMIT.
#[allow(clippy::too_many_arguments)]
pub fn choose(
    table: &Arc<TableDef>,
    alias: &str,
    conjuncts: Vec<Expr>,
    col_of: &dyn Fn(&Expr) -> Option<usize>,
    avail: &dyn Fn(&Expr) -> bool,
    order: Option<&OrderReq>,
    limit: Option<u64>,
    table_rows: f64,
) -> Choice {
    let n = table_rows.max(1.0);
    // Guessed selectivity of the whole predicate.
    let all_sel: f64 = conjuncts
        .iter()
        .map(|c| match c {
            Expr::Compare { op: CmpOp::Eq, .. } | Expr::IsNull(_, false) => 0.05,
            Expr::Compare {
                op: CmpOp::NotEq, ..
            } => 0.9,
            Expr::Compare { .. } => 0.3,
            Expr::InList {
                list,
                negated: false,
                ..
            } => (0.05 * list.len() as f64).min(1.0),
            _ => 0.5,
        })
        .product();
    let sort_cost = |rows: f64| rows * 0.2;
    let types = table.columns();
    let mut best: Option<(f64, Access, bool, bool, f64)> = None; // cost, access, ordered, reverse, rows
    let mut consider = |cost: f64, access: Access, ordered: Option<bool>, rows: f64| {
        let (mut cost, ok, rev) = match ordered {
            Some(rev) => (cost, true, rev),
            None => (
                cost + if order.is_some() {
                    sort_cost(rows)
                } else {
                    0.0
                },
                false,
                false,
            ),
        };
        if ok && order.is_some() {
            if let Some(l) = limit {
                // The scan stops after `l` rows pass the rest of the filter.
                let residual = (all_sel / (rows / n).max(1e-9)).min(1.0);
                cost = cost.min(l as f64 / residual.max(1e-9) * 1.5 + 1.0);
            }
        }
        if best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, access, ok, rev, rows));
        }
    };
    let req: &OrderReq = order.unwrap_or(&[]);
    // Primary key (a declared one; a rowid order is no use to SQL).
    let pk = table.primary_key_columns();
    if !pk.is_empty() {
        let key: Vec<(usize, DataType)> = pk.iter().map(|&c| (c, types[c].data_type)).collect();
        let pred = key_predicate(&key, &conjuncts, col_of, avail);
        let sel = selectivity(&pred, key.len(), true, n);
        let orders: Vec<(usize, SortOrder)> = pk.iter().map(|&c| (c, SortOrder::Asc)).collect();
        let ordered = order.and_then(|o| order_from_key(&orders, &pred, o));
        let rows = n * sel;
        if pred.is_empty() {
            consider(n, Access::FullScan, ordered, rows);
        } else {
            consider(rows, Access::PrimaryKey(pred), ordered, rows);
        }
    } else {
        consider(
            n,
            Access::FullScan,
            if req.is_empty() { Some(false) } else { None },
            n,
        );
    }
    for index in table.indexes() {
        let key: Vec<(usize, DataType)> = index
            .columns()
            .iter()
            .map(|c| (c.column, types[c.column].data_type))
            .collect();
        let pred = key_predicate(&key, &conjuncts, col_of, avail);
        let orders: Vec<(usize, SortOrder)> = index
            .columns()
            .iter()
            .map(|c| (c.column, c.order))
            .collect();
        let ordered = order.and_then(|o| order_from_key(&orders, &pred, o));
        if pred.is_empty() && ordered.is_none() {
            continue;
        }
        let sel = selectivity(&pred, key.len(), index.is_unique(), n);
        let rows = n * sel;
        consider(rows * 1.5 + 1.0, index_access(index, pred), ordered, rows);
    }
    let (_, access, ordered, reverse, rows) =
        best.unwrap_or((n, Access::FullScan, false, false, n));
    // Conjuncts the key ranges answer exactly need no re-check.
    let key: Vec<(usize, DataType)> = match &access {
        Access::FullScan => Vec::new(),
        Access::PrimaryKey(_) => pk.iter().map(|&c| (c, types[c].data_type)).collect(),
        Access::Index { index, .. } => index
            .columns()
            .iter()
            .map(|c| (c.column, types[c.column].data_type))
            .collect(),
    };
    let filter = match &access {
        Access::PrimaryKey(pred) | Access::Index { key: pred, .. } => conjuncts
            .into_iter()
            .filter(|c| !implied(pred, &key, c, col_of))
            .collect(),
        Access::FullScan => conjuncts,
    };
    Choice {
        scan: Scan {
            table: Arc::clone(table),
            alias: alias.to_string(),
            access,
            filter: Expr::and_all(filter),
            reverse,
            with_rowid: false,
            estimated_rows: rows,
            provides_order: ordered && order.is_some_and(|o| !o.is_empty()),
        },
        ordered: ordered && order.is_some(),
    }
}

/// True when a literal compares with a key column of type `ty` exactly as
/// its key encoding orders it: same type, no conversion. (REAL is left
/// out: SQL says `-0.0 = 0.0`, the key order may not.)
fn exact_literal(e: &Expr, ty: DataType) -> bool {
    use crate::value::Value;
    matches!(
        (ty, e),
        (DataType::Integer, Expr::Literal(Value::Integer(_)))
            | (DataType::Text, Expr::Literal(Value::Text(_)))
            | (DataType::Blob, Expr::Literal(Value::Blob(_)))
    )
}

/// True when conjunct `c` holds for exactly the rows in the key ranges of
/// `pred` over key columns `key`, so the filter need not check it again:
/// it is the term the predicate was built from, with literals of the
/// column's own type.
fn implied(
    pred: &KeyPredicate,
    key: &[(usize, DataType)],
    c: &Expr,
    col_of: &dyn Fn(&Expr) -> Option<usize>,
) -> bool {
    let lit = |_: &Expr| true;
    for (k, &(col, ty)) in key.iter().enumerate() {
        let Some(term) = term_for(c, col, ty, col_of, &lit) else {
            continue;
        };
        return match (term, pred.eq.get(k)) {
            (Term::Eq(v), Some(KeyEq::Value(p))) => v == *p && exact_literal(&v, ty),
            (Term::In(l), Some(KeyEq::In(p))) => l == *p && l.iter().all(|v| exact_literal(v, ty)),
            (Term::IsNull, Some(KeyEq::IsNull)) => true,
            (Term::Low(v, inc), None) if k == pred.eq.len() => {
                pred.range.as_ref().and_then(|r| r.low.as_ref()) == Some(&(v.clone(), inc))
                    && exact_literal(&v, ty)
            }
            (Term::High(v, inc), None) if k == pred.eq.len() => {
                pred.range.as_ref().and_then(|r| r.high.as_ref()) == Some(&(v.clone(), inc))
                    && exact_literal(&v, ty)
            }
            _ => false,
        };
    }
    false
}

fn index_access(index: &IndexDef, key: KeyPredicate) -> Access {
    Access::Index {
        index: index.clone(),
        key,
    }
}

/// `col_of` for expressions over a table's own row.
pub fn local_column(e: &Expr) -> Option<usize> {
    match e {
        Expr::Column(Slot::Local(i)) => Some(*i),
        _ => None,
    }
}
