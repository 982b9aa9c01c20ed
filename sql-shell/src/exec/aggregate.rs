//! Aggregation: GROUP BY with hash grouping, and the aggregate functions'
//! accumulators with SQLite's rules.
//!
//! - `count(x)` counts non-NULL values, `count(*)` rows.
//! - `sum(x)` is an INTEGER while every input is an integer, and fails with
//!   "integer overflow" past the i64 range; with any REAL input it is REAL;
//!   NULL when there were no non-NULL inputs. `total(x)` is always REAL (0.0
//!   for none). `avg(x)` is REAL.
//! - `min`/`max` use SQLite's cross-type order, ignoring NULLs.
//! - `group_concat(x, sep)` joins the text forms of non-NULL values.
//! - DISTINCT inside a call keeps a set of seen (normalised) values.
//!
//! Groups come out in ascending order of their GROUP BY values (as SQLite's
//! sorter-based grouping does); a query without GROUP BY yields exactly one
//! row, even over no input.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::eval::eval;
use super::sort::{over_budget, row_bytes};
use super::{BoxOp, Ctx, Operator};
use crate::error::{Result, SqlError};
use crate::planner::expr::{AggCall, AggFunc, Expr};
use crate::value::arith::operand;
use crate::value::compare::{cmp, normalize};
use crate::value::number::{Num, parse_whole};
use crate::value::render::{to_f64, to_text};
use crate::value::{Row, Value};

/// One accumulator.
enum Acc {
    Count(i64),
    Sum {
        int: i64,
        real: f64,
        is_real: bool,
        any: bool,
        overflow: bool,
    },
    Avg {
        sum: f64,
        n: i64,
    },
    MinMax {
        best: Value,
        max: bool,
    },
    Concat {
        out: Option<String>,
    },
    Any(Value),
}

struct AccState {
    acc: Acc,
    seen: Option<HashSet<Value>>,
}

impl AccState {
    fn new(call: &AggCall) -> AccState {
        let acc = match call.func {
            AggFunc::CountStar | AggFunc::Count => Acc::Count(0),
            AggFunc::Sum | AggFunc::Total => Acc::Sum {
                int: 0,
                real: 0.0,
                is_real: call.func == AggFunc::Total,
                any: false,
                overflow: false,
            },
            AggFunc::Avg => Acc::Avg { sum: 0.0, n: 0 },
            AggFunc::Min => Acc::MinMax {
                best: Value::Null,
                max: false,
            },
            AggFunc::Max => Acc::MinMax {
                best: Value::Null,
                max: true,
            },
            AggFunc::GroupConcat => Acc::Concat { out: None },
            AggFunc::AnyValue => Acc::Any(Value::Null),
        };
        AccState {
            acc,
            seen: call.distinct.then(HashSet::new),
        }
    }

    fn update(&mut self, call: &AggCall, row: &[Value], ctx: &Ctx<'_>) -> Result<()> {
        if call.func == AggFunc::CountStar {
            if let Acc::Count(n) = &mut self.acc {
                *n += 1;
            }
            return Ok(());
        }
        let v = match call.args.first() {
            Some(e) => eval(e, row, ctx)?,
            None => Value::Null,
        };
        if let Acc::Any(slot) = &mut self.acc {
            *slot = v;
            return Ok(());
        }
        if v.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            if !seen.insert(normalize(v.clone())) {
                return Ok(());
            }
        }
        match &mut self.acc {
            Acc::Count(n) => *n += 1,
            Acc::Sum {
                int,
                real,
                is_real,
                any,
                overflow,
            } => {
                *any = true;
                // SQLite sums as integers while each input is an integer
                // (or text that is entirely one).
                let as_int = match &v {
                    Value::Integer(i) => Some(*i),
                    Value::Boolean(b) => Some(i64::from(*b)),
                    Value::Text(s) => match parse_whole(s.as_bytes()) {
                        Some(Num::Int(i)) => Some(i),
                        _ => None,
                    },
                    _ => None,
                };
                match as_int {
                    Some(i) => {
                        *real += i as f64;
                        if !*is_real {
                            match int.checked_add(i) {
                                Some(s) => *int = s,
                                None => *overflow = true,
                            }
                        }
                    }
                    None => {
                        *real += to_f64(&v);
                        *is_real = true;
                    }
                }
            }
            Acc::Avg { sum, n } => {
                *sum += operand(&v).map_or(0.0, Num::as_f64);
                *n += 1;
            }
            Acc::MinMax { best, max } => {
                let better = best.is_null() || {
                    let o = cmp(&v, best);
                    if *max {
                        o == Ordering::Greater
                    } else {
                        o == Ordering::Less
                    }
                };
                if better {
                    *best = v;
                }
            }
            Acc::Concat { out } => {
                let sep = match call.args.get(1) {
                    Some(e) => {
                        let s = eval(e, row, ctx)?;
                        if s.is_null() {
                            String::new()
                        } else {
                            to_text(&s).into_owned()
                        }
                    }
                    None => ",".to_string(),
                };
                let v = to_text(&v);
                match out {
                    None => *out = Some(v.into_owned()),
                    Some(s) => {
                        crate::limits::check_value_len(
                            s.len().saturating_add(sep.len()).saturating_add(v.len()),
                        )?;
                        s.push_str(&sep);
                        s.push_str(&v);
                    }
                }
            }
            Acc::Any(_) => {}
        }
        Ok(())
    }

    fn finish(self, func: AggFunc) -> Result<Value> {
        Ok(match self.acc {
            Acc::Count(n) => Value::Integer(n),
            Acc::Sum {
                int,
                real,
                is_real,
                any,
                overflow,
            } => {
                if func == AggFunc::Total {
                    Value::Real(real)
                } else if !any {
                    Value::Null
                } else if is_real {
                    Value::Real(real)
                } else if overflow {
                    return Err(SqlError::runtime("integer overflow"));
                } else {
                    Value::Integer(int)
                }
            }
            Acc::Avg { sum, n } => {
                if n == 0 {
                    Value::Null
                } else {
                    Value::Real(sum / n as f64)
                }
            }
            Acc::MinMax { best, .. } => best,
            Acc::Concat { out } => out.map_or(Value::Null, Value::Text),
            Acc::Any(v) => v,
        })
    }
}

/// The aggregate operator: consumes its input on the first `next`.
pub struct AggregateOp<'t> {
    input: Option<BoxOp<'t>>,
    ctx: Ctx<'t>,
    group_by: Vec<Expr>,
    calls: Vec<AggCall>,
    out: std::vec::IntoIter<Row>,
}

impl<'t> AggregateOp<'t> {
    /// An aggregate over `input`.
    pub fn new(input: BoxOp<'t>, ctx: Ctx<'t>, group_by: Vec<Expr>, calls: Vec<AggCall>) -> Self {
        AggregateOp {
            input: Some(input),
            ctx,
            group_by,
            calls,
            out: Vec::new().into_iter(),
        }
    }

    fn run(&mut self, mut input: BoxOp<'t>) -> Result<()> {
        let mut groups: HashMap<Vec<Value>, usize> = HashMap::new();
        let mut states: Vec<(Vec<Value>, Vec<AccState>)> = Vec::new();
        let budget = self.ctx.env.memory_budget();
        let mut bytes = 0usize;
        while let Some(row) = input.next()? {
            let mut key = Vec::with_capacity(self.group_by.len());
            for g in &self.group_by {
                key.push(eval(g, &row, &self.ctx)?);
            }
            let norm: Vec<Value> = key.iter().cloned().map(normalize).collect();
            let slot = match groups.get(&norm) {
                Some(&i) => i,
                None => {
                    // Key twice (group map and state) plus the states;
                    // DISTINCT sets and group_concat text grow beyond this
                    // estimate.
                    bytes += 2 * row_bytes(&key) + 64 * self.calls.len();
                    if bytes > budget {
                        return Err(over_budget("GROUP BY", budget));
                    }
                    states.push((key, self.calls.iter().map(AccState::new).collect()));
                    groups.insert(norm, states.len() - 1);
                    states.len() - 1
                }
            };
            let (_, accs) = &mut states[slot];
            for (acc, call) in accs.iter_mut().zip(&self.calls) {
                acc.update(call, &row, &self.ctx)?;
            }
        }
        if self.group_by.is_empty() && states.is_empty() {
            states.push((Vec::new(), self.calls.iter().map(AccState::new).collect()));
        }
        states.sort_by(|a, b| {
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| cmp(x, y))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
        let mut rows = Vec::with_capacity(states.len());
        for (key, accs) in states {
            let mut row = key;
            for (acc, call) in accs.into_iter().zip(&self.calls) {
                row.push(acc.finish(call.func)?);
            }
            rows.push(row);
        }
        self.out = rows.into_iter();
        Ok(())
    }
}

impl Operator for AggregateOp<'_> {
    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(input) = self.input.take() {
            self.run(input)?;
        }
        Ok(self.out.next())
    }
}
