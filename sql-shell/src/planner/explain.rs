//! EXPLAIN: the plan as indented text lines.
//!
//! ```text
//!   Limit 10 (stops the scan early)
//!     Project [name, pop]
//!       Scan city: IndexRange city_pop [1000000, +inf) reverse (order from key: sort removed) ~300 rows
//!         filter: pop >= 1000000
//! ```
//!
//! Access paths are named as a user looks for them: `FullScan`,
//! `PrimaryKeyRange`, `IndexRange <index>` followed by the key ranges.

use super::Statement;
use super::expr::{AggFunc, Expr, Slot};
use super::plan::{Access, JoinKind, KeyEq, KeyPredicate, Node, Scan, SetOp};
use crate::value::render::display;

/// The lines of EXPLAIN for a statement.
pub fn explain(stmt: &Statement) -> Vec<String> {
    let mut out = Vec::new();
    match stmt {
        Statement::Query(q) => node(&q.root, 0, &mut out),
        Statement::Insert { table, source, .. } => {
            out.push(format!("Insert into {}", table.name()));
            node(source, 1, &mut out);
        }
        Statement::Update { scan, assignments } => {
            let names = scan_names(scan);
            let sets: Vec<String> = assignments
                .iter()
                .map(|(c, e)| format!("{} = {}", scan.table.columns()[*c].name, expr(e, &names)))
                .collect();
            out.push(format!(
                "Update {} set {}",
                scan.table.name(),
                sets.join(", ")
            ));
            scan_lines(scan, 1, &mut out);
        }
        Statement::Delete { scan } => {
            out.push(format!("Delete from {}", scan.table.name()));
            scan_lines(scan, 1, &mut out);
        }
        Statement::Explain(inner) => return explain(inner),
        other => out.push(
            format!("{other:?}")
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
        ),
    }
    out
}

fn pad(depth: usize) -> String {
    "  ".repeat(depth)
}

/// Column names of a node's output, for rendering expressions over it.
fn names(n: &Node) -> Vec<String> {
    match n {
        Node::Scan(s) => scan_names(s),
        Node::Values { width, .. } | Node::Empty { width } => {
            (1..=*width).map(|i| format!("column{i}")).collect()
        }
        Node::Filter { input, .. }
        | Node::Sort { input, .. }
        | Node::Limit { input, .. }
        | Node::Distinct { input } => names(input),
        Node::Project { input, exprs } => {
            let inner = names(input);
            exprs.iter().map(|e| expr(e, &inner)).collect()
        }
        Node::NestedLoopJoin { left, right, .. } | Node::HashJoin { left, right, .. } => {
            let mut v = names(left);
            v.extend(names(right));
            v
        }
        Node::IndexJoin { left, right, .. } => {
            let mut v = names(left);
            v.extend(scan_names(right));
            v
        }
        Node::Aggregate {
            input,
            group_by,
            aggregates,
        } => {
            let inner = names(input);
            let mut v: Vec<String> = group_by.iter().map(|e| expr(e, &inner)).collect();
            for a in aggregates {
                let args: Vec<String> = a.args.iter().map(|e| expr(e, &inner)).collect();
                let f = match a.func {
                    AggFunc::CountStar => "count(*)".to_string(),
                    AggFunc::AnyValue => args.join(", "),
                    other => format!(
                        "{}({}{})",
                        format!("{other:?}").to_ascii_lowercase(),
                        if a.distinct { "DISTINCT " } else { "" },
                        args.join(", ")
                    ),
                };
                v.push(f);
            }
            v
        }
        Node::SetOperation { left, .. } => names(left),
    }
}

fn scan_names(s: &Scan) -> Vec<String> {
    let mut v: Vec<String> = s.table.columns().iter().map(|c| c.name.clone()).collect();
    if s.with_rowid {
        v.push("rowid".into());
    }
    v
}

/// Render an expression with column names.
pub fn expr(e: &Expr, names: &[String]) -> String {
    crate::limits::deep(|| expr_level(e, names))
}

fn expr_level(e: &Expr, names: &[String]) -> String {
    let b = |x: &Expr| expr(x, names);
    match e {
        Expr::Literal(v) => match v {
            crate::value::Value::Text(_) => v.to_sql_literal(),
            other => display(other).into_owned(),
        },
        Expr::Column(Slot::Local(i)) => names.get(*i).cloned().unwrap_or_else(|| format!("#{i}")),
        Expr::Column(Slot::Outer { depth, index }) => format!("outer{depth}.#{index}"),
        Expr::Negate(x) => format!("-{}", b(x)),
        Expr::Not(x) => format!("NOT {}", b(x)),
        Expr::BitNot(x) => format!("~{}", b(x)),
        Expr::Plus(x) => format!("+{}", b(x)),
        Expr::Arith(op, l, r) => {
            let s = match op {
                crate::value::arith::ArithOp::Add => "+",
                crate::value::arith::ArithOp::Sub => "-",
                crate::value::arith::ArithOp::Mul => "*",
                crate::value::arith::ArithOp::Div => "/",
                crate::value::arith::ArithOp::Rem => "%",
            };
            format!("({} {s} {})", b(l), b(r))
        }
        Expr::Bit(op, l, r) => format!("({} {op:?} {})", b(l), b(r)),
        Expr::Concat(l, r) => format!("({} || {})", b(l), b(r)),
        Expr::And(l, r) => format!("{} AND {}", b(l), b(r)),
        Expr::Or(l, r) => format!("({} OR {})", b(l), b(r)),
        Expr::Compare {
            op, left, right, ..
        } => format!("{} {} {}", b(left), op.symbol(), b(right)),
        Expr::Is {
            left,
            right,
            negated,
            ..
        } => format!(
            "{} IS {}{}",
            b(left),
            if *negated { "NOT " } else { "" },
            b(right)
        ),
        Expr::IsNull(x, neg) => format!("{} IS {}NULL", b(x), if *neg { "NOT " } else { "" }),
        Expr::Between {
            expr: x, low, high, ..
        } => format!("({} BETWEEN {} AND {})", b(x), b(low), b(high)),
        Expr::InList {
            expr: x,
            list,
            negated,
            ..
        } => format!(
            "{} {}IN ({})",
            b(x),
            if *negated { "NOT " } else { "" },
            list.iter().map(b).collect::<Vec<_>>().join(", ")
        ),
        Expr::InSubquery {
            expr: x,
            subquery,
            negated,
            ..
        } => format!(
            "{} {}IN (subquery {subquery})",
            b(x),
            if *negated { "NOT " } else { "" }
        ),
        Expr::Exists { subquery, negated } => {
            format!(
                "{}EXISTS (subquery {subquery})",
                if *negated { "NOT " } else { "" }
            )
        }
        Expr::ScalarSubquery(i) => format!("(subquery {i})"),
        Expr::Like {
            expr: x,
            pattern,
            negated,
            ..
        } => format!(
            "{} {}LIKE {}",
            b(x),
            if *negated { "NOT " } else { "" },
            b(pattern)
        ),
        Expr::Case { .. } => "CASE ... END".into(),
        Expr::Cast(x, t) => format!("CAST({} AS {:?})", b(x), t.affinity()),
        Expr::Function(f, args) => format!(
            "{}({})",
            format!("{f:?}").to_ascii_lowercase(),
            args.iter().map(b).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn key_text(pred: &KeyPredicate, cols: &[String], param: &[String]) -> String {
    let mut parts = Vec::new();
    for (i, eq) in pred.eq.iter().enumerate() {
        let c = cols.get(i).cloned().unwrap_or_default();
        parts.push(match eq {
            KeyEq::Value(e) => format!("{c} = {}", expr(e, param)),
            KeyEq::In(l) => format!(
                "{c} IN ({})",
                l.iter()
                    .map(|e| expr(e, param))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            KeyEq::IsNull => format!("{c} IS NULL"),
        });
    }
    if let Some(r) = &pred.range {
        let c = cols.get(pred.eq.len()).cloned().unwrap_or_default();
        let (lo_b, lo) = match &r.low {
            Some((e, inc)) => (if *inc { "[" } else { "(" }, expr(e, param)),
            None => ("(", "-inf".to_string()),
        };
        let (hi_b, hi) = match &r.high {
            Some((e, inc)) => (if *inc { "]" } else { ")" }, expr(e, param)),
            None => (")", "+inf".to_string()),
        };
        parts.push(format!("{c} {lo_b}{lo}, {hi}{hi_b}"));
    }
    parts.join(" AND ")
}

fn scan_lines_with(s: &Scan, depth: usize, out: &mut Vec<String>, param: &[String]) {
    let cols: Vec<String> = s.table.columns().iter().map(|c| c.name.clone()).collect();
    let access = match &s.access {
        Access::FullScan => "FullScan".to_string(),
        Access::PrimaryKey(pred) => {
            let key: Vec<String> = s
                .table
                .primary_key_columns()
                .iter()
                .map(|&c| cols[c].clone())
                .collect();
            format!("PrimaryKeyRange {}", key_text(pred, &key, param))
        }
        Access::Index { index, key } => {
            let kc: Vec<String> = index
                .columns()
                .iter()
                .map(|c| cols[c.column].clone())
                .collect();
            format!("IndexRange {} {}", index.name(), key_text(key, &kc, param))
        }
    };
    let alias = if s.alias.eq_ignore_ascii_case(s.table.name()) {
        s.table.name().to_string()
    } else {
        format!("{} AS {}", s.table.name(), s.alias)
    };
    let mut line = format!("{}Scan {alias}: {access}", pad(depth));
    if s.reverse {
        line.push_str(" reverse");
    }
    if s.provides_order {
        line.push_str(" (order from key: sort removed)");
    }
    line.push_str(&format!(" ~{} rows", s.estimated_rows.round().max(1.0)));
    out.push(line);
    if let Some(f) = &s.filter {
        out.push(format!("{}filter: {}", pad(depth + 1), expr(f, &cols)));
    }
}

fn scan_lines(s: &Scan, depth: usize, out: &mut Vec<String>) {
    scan_lines_with(s, depth, out, &[]);
}

fn streams(n: &Node) -> bool {
    match n {
        Node::Sort { .. } | Node::Aggregate { .. } => false,
        Node::Filter { input, .. }
        | Node::Project { input, .. }
        | Node::Limit { input, .. }
        | Node::Distinct { input } => streams(input),
        Node::NestedLoopJoin { left, .. }
        | Node::HashJoin { left, .. }
        | Node::IndexJoin { left, .. } => streams(left),
        _ => true,
    }
}

fn node(n: &Node, depth: usize, out: &mut Vec<String>) {
    crate::limits::deep(|| node_level(n, depth, out))
}

fn node_level(n: &Node, depth: usize, out: &mut Vec<String>) {
    let p = pad(depth);
    match n {
        Node::Scan(s) => scan_lines(s, depth, out),
        Node::Values { rows, .. } => out.push(format!("{p}Values ({} rows)", rows.len())),
        Node::Empty { .. } => out.push(format!("{p}Empty")),
        Node::Filter { input, predicate } => {
            out.push(format!("{p}Filter {}", expr(predicate, &names(input))));
            node(input, depth + 1, out);
        }
        Node::Project { input, exprs } => {
            let inner = names(input);
            out.push(format!(
                "{p}Project [{}]",
                exprs
                    .iter()
                    .map(|e| expr(e, &inner))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            node(input, depth + 1, out);
        }
        Node::NestedLoopJoin {
            left,
            right,
            kind,
            on,
        } => {
            let mut all = names(left);
            all.extend(names(right));
            out.push(format!(
                "{p}NestedLoopJoin {}{}",
                kind_text(*kind),
                on.as_ref()
                    .map(|e| format!(" on {}", expr(e, &all)))
                    .unwrap_or_default()
            ));
            node(left, depth + 1, out);
            node(right, depth + 1, out);
        }
        Node::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            on,
            ..
        } => {
            let (ln, rn) = (names(left), names(right));
            let keys: Vec<String> = left_keys
                .iter()
                .zip(right_keys)
                .map(|(l, r)| format!("{} = {}", expr(l, &ln), expr(r, &rn)))
                .collect();
            let mut all = ln.clone();
            all.extend(rn);
            out.push(format!(
                "{p}HashJoin {} on {}{}",
                kind_text(*kind),
                keys.join(" AND "),
                on.as_ref()
                    .map(|e| format!(" and {}", expr(e, &all)))
                    .unwrap_or_default()
            ));
            node(left, depth + 1, out);
            node(right, depth + 1, out);
        }
        Node::IndexJoin {
            left,
            right,
            kind,
            on,
        } => {
            let ln = names(left);
            let mut all = ln.clone();
            all.extend(scan_names(right));
            out.push(format!(
                "{p}IndexNestedLoopJoin {}{}",
                kind_text(*kind),
                on.as_ref()
                    .map(|e| format!(" on {}", expr(e, &all)))
                    .unwrap_or_default()
            ));
            node(left, depth + 1, out);
            scan_lines_with(right, depth + 1, out, &ln);
        }
        Node::Aggregate {
            input, group_by, ..
        } => {
            let inner = names(input);
            out.push(format!(
                "{p}Aggregate{}",
                if group_by.is_empty() {
                    String::new()
                } else {
                    format!(
                        " group by [{}]",
                        group_by
                            .iter()
                            .map(|e| expr(e, &inner))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            node(input, depth + 1, out);
        }
        Node::Sort { input, keys } => {
            let inner = names(input);
            out.push(format!(
                "{p}Sort [{}]",
                keys.iter()
                    .map(|k| format!(
                        "{}{}",
                        expr(&k.expr, &inner),
                        if k.desc { " DESC" } else { "" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            node(input, depth + 1, out);
        }
        Node::Limit {
            input,
            limit,
            offset,
        } => {
            let mut s = format!("{p}Limit");
            if let Some(l) = limit {
                s.push_str(&format!(" {}", expr(l, &[])));
            }
            if let Some(o) = offset {
                s.push_str(&format!(" offset {}", expr(o, &[])));
            }
            if streams(input) {
                s.push_str(" (stops the scan early)");
            }
            out.push(s);
            node(input, depth + 1, out);
        }
        Node::Distinct { input } => {
            out.push(format!("{p}Distinct"));
            node(input, depth + 1, out);
        }
        Node::SetOperation {
            op,
            all,
            left,
            right,
        } => {
            let name = match op {
                SetOp::Union => "Union",
                SetOp::Intersect => "Intersect",
                SetOp::Except => "Except",
            };
            out.push(format!("{p}{name}{}", if *all { " All" } else { "" }));
            node(left, depth + 1, out);
            node(right, depth + 1, out);
        }
    }
}

fn kind_text(k: JoinKind) -> &'static str {
    match k {
        JoinKind::Inner => "inner",
        JoinKind::Left => "left",
    }
}
