//! Binding expressions: sqlparser's AST to [`Expr`], with names resolved,
//! affinities computed and subqueries planned.
//!
//! Binding is where SQLite's typing rules enter the plan: each comparison
//! records the affinity [`Affinity::for_comparison`] picks for its operands,
//! so evaluation needs no schema. Aggregate queries bind their select list,
//! HAVING and ORDER BY against the aggregate's output row; see
//! [`Binder::expr`].

use sqlparser::ast::{self, Spanned};
use table_layer::Catalog;

use super::expr::{AggCall, AggFunc, BitOp, CmpOp, Expr, Func, Slot};
use super::plan::Subplan;
use super::scope::{Resolved, Scopes};
use crate::error::{Position, Result, SqlError, suggest};
use crate::value::Value;
use crate::value::affinity::Affinity;
use crate::value::arith::ArithOp;
use crate::value::cast::CastTarget;

/// Binds expressions and queries of one statement.
pub struct Binder<'a> {
    /// The catalog names resolve against.
    pub catalog: &'a Catalog,
    /// Name scopes.
    pub scopes: Scopes,
    /// Subqueries planned so far, referred to by index.
    pub subplans: Vec<Subplan>,
    /// Row counts of tables, when known (the cost model's table sizes).
    pub row_counts: Option<RowCounts<'a>>,
    alias_depth: usize,
    alias_uses: usize,
}

/// A table's row count by name, when known.
pub type RowCounts<'a> = &'a dyn Fn(&str) -> Option<u64>;

/// Most alias references one statement may expand (see `column`).
const MAX_ALIAS_USES: usize = 10_000;

/// Position of an AST node, when known.
pub fn pos_of(node: &impl Spanned) -> Option<Position> {
    Position::from_span(node.span())
}

const SCALAR_FUNCS: &[&str] = &[
    "abs",
    "length",
    "lower",
    "upper",
    "substr",
    "substring",
    "coalesce",
    "ifnull",
    "nullif",
    "round",
    "typeof",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "instr",
    "min",
    "max",
    "hex",
    "iif",
    "sign",
    "count",
    "sum",
    "avg",
    "total",
    "group_concat",
];

/// True for the names of aggregate functions (`min`/`max` only with one
/// argument).
fn aggregate_of(name: &str, nargs: usize, star: bool) -> Option<AggFunc> {
    Some(match name {
        "count" if star || nargs == 0 => AggFunc::CountStar,
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "total" => AggFunc::Total,
        "avg" => AggFunc::Avg,
        "min" if nargs == 1 => AggFunc::Min,
        "max" if nargs == 1 => AggFunc::Max,
        "group_concat" => AggFunc::GroupConcat,
        _ => return None,
    })
}

/// The lower-cased last part of an object name.
pub fn object_name(n: &ast::ObjectName) -> String {
    n.0.last()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

struct CallArgs<'e> {
    args: Vec<&'e ast::Expr>,
    star: bool,
    distinct: bool,
}

fn call_args(f: &ast::Function) -> Result<CallArgs<'_>> {
    let pos = pos_of(f);
    let unsupported = |what: &str| Err(SqlError::unsupported(what.to_string()).at(pos));
    if f.filter.is_some() {
        return unsupported("FILTER clauses on aggregates");
    }
    if f.over.is_some() {
        return unsupported("window functions (OVER)");
    }
    if !f.within_group.is_empty() {
        return unsupported("WITHIN GROUP");
    }
    match &f.args {
        ast::FunctionArguments::None => Ok(CallArgs {
            args: vec![],
            star: false,
            distinct: false,
        }),
        ast::FunctionArguments::Subquery(_) => {
            unsupported("a subquery as a bare function argument")
        }
        ast::FunctionArguments::List(list) => {
            if !list.clauses.is_empty() {
                return unsupported("clauses inside a function's argument list");
            }
            let mut out = CallArgs {
                args: vec![],
                star: false,
                distinct: matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                ),
            };
            for a in &list.args {
                match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => out.args.push(e),
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => out.star = true,
                    _ => return unsupported("named or qualified-wildcard function arguments"),
                }
            }
            Ok(out)
        }
    }
}

/// Whether an AST expression contains an aggregate call (not looking into
/// subqueries, which aggregate on their own).
pub fn contains_aggregate(e: &ast::Expr) -> bool {
    let mut found = false;
    visit_ast(e, &mut |x| {
        if let ast::Expr::Function(f) = x {
            let name = object_name(&f.name).to_ascii_lowercase();
            if let Ok(a) = call_args(f) {
                if aggregate_of(&name, a.args.len(), a.star).is_some() {
                    found = true;
                }
            }
        }
    });
    found
}

fn contains_subquery(e: &ast::Expr) -> bool {
    let mut found = false;
    visit_ast(e, &mut |x| {
        if matches!(
            x,
            ast::Expr::Subquery(_)
                | ast::Expr::Exists { .. }
                | ast::Expr::In {
                    target: ast::InTarget::Subquery(_),
                    ..
                }
        ) {
            found = true;
        }
    });
    found
}

/// Visit an AST expression and its sub-expressions (not subqueries).
fn visit_ast(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    crate::limits::deep(|| visit_ast_level(e, f))
}

fn visit_ast_level(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    use ast::Expr as E;
    f(e);
    match e {
        E::Nested(x)
        | E::UnaryOp { expr: x, .. }
        | E::IsNull(x)
        | E::IsNotNull(x)
        | E::IsTrue(x)
        | E::IsFalse(x)
        | E::IsNotTrue(x)
        | E::IsNotFalse(x)
        | E::Cast { expr: x, .. }
        | E::Collate { expr: x, .. } => visit_ast(x, f),
        E::BinaryOp { left, right, .. }
        | E::IsDistinctFrom(left, right)
        | E::IsNotDistinctFrom(left, right) => {
            visit_ast(left, f);
            visit_ast(right, f);
        }
        E::Between {
            expr, low, high, ..
        } => {
            visit_ast(expr, f);
            visit_ast(low, f);
            visit_ast(high, f);
        }
        E::In { expr, target, .. } => {
            visit_ast(expr, f);
            if let ast::InTarget::List(l) = target {
                for x in l {
                    visit_ast(x, f);
                }
            }
        }
        E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => {
            visit_ast(expr, f);
            visit_ast(pattern, f);
        }
        E::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                visit_ast(o, f);
            }
            for c in conditions {
                visit_ast(&c.condition, f);
                visit_ast(&c.result, f);
            }
            if let Some(x) = else_result {
                visit_ast(x, f);
            }
        }
        E::Function(func) => {
            if let ast::FunctionArguments::List(l) = &func.args {
                for a in &l.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                        visit_ast(x, f);
                    }
                }
            }
        }
        E::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            visit_ast(expr, f);
            if let Some(x) = substring_from {
                visit_ast(x, f);
            }
            if let Some(x) = substring_for {
                visit_ast(x, f);
            }
        }
        E::Tuple(xs) => {
            for x in xs {
                visit_ast(x, f);
            }
        }
        _ => {}
    }
}

/// Parse a numeric literal as SQLite does: an integer when it has no
/// fraction or exponent and fits an i64, otherwise a real.
pub fn number_literal(s: &str) -> Result<Value> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .map(|v| Value::Integer(v as i64))
            .map_err(|_| SqlError::parse(format!("hexadecimal literal out of range: {s}")));
    }
    if !s.contains(['.', 'e', 'E']) {
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Value::Integer(i));
        }
    }
    s.parse::<f64>()
        .map(Value::Real)
        .map_err(|_| SqlError::parse(format!("malformed number: {s}")))
}

/// `-digits` as an INTEGER when `e` is a decimal literal whose negation
/// fits an i64 (only i64::MIN needs this: its digits alone do not fit).
fn negative_integer(e: &ast::Expr) -> Option<Value> {
    let ast::Expr::Value(v) = e else {
        return None;
    };
    let ast::Value::Number(n, _) = &v.value else {
        return None;
    };
    if !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("-{n}").parse::<i64>().ok().map(Value::Integer)
}

fn hex_blob(s: &str) -> Result<Value> {
    if s.len() % 2 != 0 {
        return Err(SqlError::parse(format!(
            "blob literal x'{s}' has an odd number of digits"
        )));
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for i in (0..s.len()).step_by(2) {
        let byte = s
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| SqlError::parse(format!("malformed blob literal x'{s}'")))?;
        out.push(byte);
    }
    Ok(Value::Blob(out))
}

/// The value of a literal.
pub fn literal(v: &ast::Value) -> Result<Value> {
    use ast::Value as V;
    Ok(match v {
        V::Number(n, _) => number_literal(n)?,
        V::SingleQuotedString(s)
        | V::DoubleQuotedString(s)
        | V::NationalStringLiteral(s)
        | V::EscapedStringLiteral(s)
        | V::TripleSingleQuotedString(s)
        | V::TripleDoubleQuotedString(s) => Value::Text(s.clone()),
        V::HexStringLiteral(h) => hex_blob(h)?,
        V::SingleQuotedByteStringLiteral(s) | V::DoubleQuotedByteStringLiteral(s) => {
            Value::Blob(s.clone().into_bytes())
        }
        V::Boolean(b) => Value::Integer(i64::from(*b)),
        V::Null => Value::Null,
        V::Placeholder(p) => {
            return Err(SqlError::unsupported(format!("query parameters ({p})")));
        }
        other => return Err(SqlError::unsupported(format!("the literal {other}"))),
    })
}

impl<'a> Binder<'a> {
    /// A binder over `catalog` with one empty scope.
    pub fn new(catalog: &'a Catalog) -> Self {
        let mut scopes = Scopes::default();
        scopes.current();
        Binder {
            catalog,
            scopes,
            subplans: Vec::new(),
            row_counts: None,
            alias_depth: 0,
            alias_uses: 0,
        }
    }

    /// The planner's estimate of a table's rows: its row count when
    /// known, else [`ASSUMED_ROWS`](super::access::ASSUMED_ROWS). A count
    /// of 0 counts as unknown: the table may be being filled by the open
    /// transaction (counts move at commit), and for a truly empty table
    /// any plan is as good.
    pub fn table_rows(&self, table: &str) -> f64 {
        self.row_counts
            .and_then(|f| f(table))
            .filter(|&n| n > 0)
            .map_or(super::access::ASSUMED_ROWS, |n| n as f64)
    }

    /// Bind an expression in the current scope, returning it with its
    /// affinity. In an aggregating frame, sub-expressions equal to a GROUP BY
    /// expression read the group value, aggregate calls read their result,
    /// and other column references read the group's last row.
    pub fn expr(&mut self, e: &ast::Expr) -> Result<(Expr, Affinity)> {
        crate::limits::deep(|| self.expr_level(e))
    }

    fn expr_level(&mut self, e: &ast::Expr) -> Result<(Expr, Affinity)> {
        let frame = self.scopes.current();
        if frame.agg.is_some() && !frame.input_mode {
            return self.agg_expr(e);
        }
        self.plain(e)
    }

    /// Bind an expression, dropping its affinity.
    pub fn value_expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        Ok(self.expr(e)?.0)
    }

    fn agg_expr(&mut self, e: &ast::Expr) -> Result<(Expr, Affinity)> {
        if let ast::Expr::Nested(inner) = e {
            return self.agg_expr(inner);
        }
        if let ast::Expr::Function(f) = e {
            let name = object_name(&f.name).to_ascii_lowercase();
            let a = call_args(f)?;
            if let Some(func) = aggregate_of(&name, a.args.len(), a.star) {
                return self.aggregate_call(func, &a, pos_of(f));
            }
        }
        if !contains_aggregate(e) && !contains_subquery(e) {
            // Whole expression over the input row: a GROUP BY term?
            self.scopes.current().input_mode = true;
            let bound = self.plain(e);
            self.scopes.current().input_mode = false;
            let (bound, aff) = bound?;
            let frame = self.scopes.current();
            let Some(agg) = frame.agg.as_mut() else {
                return Err(SqlError::runtime("internal: aggregate state lost"));
            };
            if let Some(i) = agg.group_by.iter().position(|g| *g == bound) {
                return Ok((Expr::Column(Slot::Local(i)), aff));
            }
            let mut locals = Vec::new();
            bound.local_columns(&mut locals);
            if locals.is_empty() {
                return Ok((bound, aff));
            }
            if matches!(bound, Expr::Column(Slot::Local(_))) {
                let i = agg.map_input(&bound);
                return Ok((Expr::Column(Slot::Local(i)), aff));
            }
        }
        self.plain(e)
    }

    fn aggregate_call(
        &mut self,
        func: AggFunc,
        a: &CallArgs<'_>,
        pos: Option<Position>,
    ) -> Result<(Expr, Affinity)> {
        let frame = self.scopes.current();
        if frame.agg.is_none() || frame.input_mode {
            return Err(SqlError::Name {
                message: "misuse of aggregate function: aggregates are not allowed here".into(),
                position: pos,
            });
        }
        if a.distinct && (a.star || a.args.len() != 1) {
            return Err(SqlError::Name {
                message: "DISTINCT aggregates must have exactly one argument".into(),
                position: pos,
            });
        }
        let expected = match func {
            AggFunc::CountStar => 0..=0,
            AggFunc::GroupConcat => 1..=2,
            _ => 1..=1,
        };
        if !expected.contains(&a.args.len()) {
            return Err(SqlError::Name {
                message: format!("wrong number of arguments to aggregate {func:?}"),
                position: pos,
            });
        }
        frame.input_mode = true;
        let mut args = Vec::new();
        let mut first_aff = Affinity::None;
        for (i, x) in a.args.iter().enumerate() {
            match self.plain(x) {
                Ok((e, aff)) => {
                    if i == 0 {
                        first_aff = aff;
                    }
                    args.push(e);
                }
                Err(err) => {
                    self.scopes.current().input_mode = false;
                    return Err(err);
                }
            }
        }
        let frame = self.scopes.current();
        frame.input_mode = false;
        let Some(agg) = frame.agg.as_mut() else {
            return Err(SqlError::runtime("internal: aggregate state lost"));
        };
        let idx = agg.add(AggCall {
            func,
            args,
            distinct: a.distinct,
        });
        let aff = match func {
            AggFunc::Min | AggFunc::Max | AggFunc::AnyValue => first_aff,
            _ => Affinity::None,
        };
        Ok((Expr::Column(Slot::Local(idx)), aff))
    }

    fn column(&mut self, table: Option<&str>, ident: &ast::Ident) -> Result<(Expr, Affinity)> {
        let pos = Position::from_span(ident.span);
        match self.scopes.resolve(table, &ident.value, pos) {
            Ok(Resolved::Column(e, aff)) => Ok((e, aff)),
            Ok(Resolved::Alias(ast)) => {
                if self.alias_depth > 16 {
                    return Err(SqlError::Name {
                        message: format!("alias {} refers to itself", ident.value),
                        position: pos,
                    });
                }
                // Each use of an alias binds its expression again, so
                // aliases built from aliases grow exponentially: bound
                // the total.
                self.alias_uses += 1;
                if self.alias_uses > MAX_ALIAS_USES {
                    return Err(SqlError::runtime(format!(
                        "aliases expand to too large an expression (more than {MAX_ALIAS_USES} \
                         alias uses in one statement); repeat the expression instead"
                    )));
                }
                self.alias_depth += 1;
                let r = self.expr(&ast);
                self.alias_depth -= 1;
                r
            }
            Err(e) => {
                // SQLite reads a double-quoted name that matches no column as
                // a string literal.
                if table.is_none() && ident.quote_style == Some('"') {
                    return Ok((
                        Expr::Literal(Value::Text(ident.value.clone())),
                        Affinity::None,
                    ));
                }
                Err(e)
            }
        }
    }

    fn subquery(&mut self, q: &ast::Query) -> Result<(usize, Affinity)> {
        self.scopes.frames.push(super::scope::Frame::default());
        let planned = self.query(q);
        let frame = self.scopes.frames.pop().unwrap_or_default();
        let (plan, affs) = planned?;
        let first = affs.first().copied().unwrap_or(Affinity::None);
        self.subplans.push(Subplan {
            plan,
            correlated: frame.correlated,
        });
        Ok((self.subplans.len() - 1, first))
    }

    fn plain(&mut self, e: &ast::Expr) -> Result<(Expr, Affinity)> {
        use ast::Expr as E;
        let none = |x: Expr| Ok((x, Affinity::None));
        match e {
            E::Identifier(id) => self.column(None, id),
            E::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] => self.column(Some(&t.value), c),
                [_, t, c] => self.column(Some(&t.value), c),
                _ => Err(SqlError::unsupported(format!("the name {e}")).at(pos_of(e))),
            },
            E::Value(v) => none(Expr::Literal(
                literal(&v.value).map_err(|x| x.at(pos_of(e)))?,
            )),
            E::Nested(inner) => self.expr(inner),
            E::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr: inner,
            } if negative_integer(inner).is_some() => {
                // `-9223372036854775808` is the INTEGER i64::MIN (its
                // digits alone do not fit an i64), as in SQLite.
                none(Expr::Literal(
                    negative_integer(inner).unwrap_or(Value::Null),
                ))
            }
            E::UnaryOp { op, expr } => {
                let (x, aff) = self.expr(expr)?;
                match op {
                    ast::UnaryOperator::Minus => none(match x {
                        Expr::Literal(v) => Expr::Literal(crate::value::arith::negate(&v)),
                        x => Expr::Negate(Box::new(x)),
                    }),
                    ast::UnaryOperator::Plus => {
                        let _ = aff;
                        none(Expr::Plus(Box::new(x)))
                    }
                    ast::UnaryOperator::Not | ast::UnaryOperator::BangNot => {
                        none(Expr::Not(Box::new(x)))
                    }
                    ast::UnaryOperator::BitwiseNot => none(Expr::BitNot(Box::new(x))),
                    other => {
                        Err(SqlError::unsupported(format!("the unary operator {other}"))
                            .at(pos_of(e)))
                    }
                }
            }
            E::BinaryOp { left, op, right } => self.binary(e, left, op, right),
            E::IsNull(x) => none(Expr::IsNull(Box::new(self.value_expr(x)?), false)),
            E::IsNotNull(x) => none(Expr::IsNull(Box::new(self.value_expr(x)?), true)),
            E::IsTrue(x) | E::IsNotFalse(x) | E::IsFalse(x) | E::IsNotTrue(x) => {
                let v = self.value_expr(x)?;
                // x IS TRUE: NULL-safe truth test (`x` bound once: binding
                // it for both spellings would double the work per level).
                let test = |w: Expr| Expr::Case {
                    operand: None,
                    whens: vec![(w, Expr::Literal(Value::Integer(1)))],
                    otherwise: Some(Box::new(Expr::Literal(Value::Integer(0)))),
                    affinity: Affinity::None,
                };
                none(match e {
                    E::IsTrue(_) => test(v),
                    E::IsNotTrue(_) => Expr::Not(Box::new(test(v))),
                    E::IsFalse(_) => test(Expr::Not(Box::new(v))),
                    _ => Expr::Not(Box::new(test(Expr::Not(Box::new(v))))),
                })
            }
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let (l, la) = self.expr(a)?;
                let (r, ra) = self.expr(b)?;
                none(Expr::Is {
                    left: Box::new(l),
                    right: Box::new(r),
                    negated: matches!(e, E::IsDistinctFrom(..)),
                    affinity: Affinity::for_comparison(la, ra),
                })
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (x, xa) = self.expr(expr)?;
                let (lo, la) = self.expr(low)?;
                let (hi, ha) = self.expr(high)?;
                let (low_aff, high_aff) = (
                    Affinity::for_comparison(xa, la),
                    Affinity::for_comparison(xa, ha),
                );
                if !matches!(x, Expr::Column(_) | Expr::Literal(_)) {
                    // Evaluated once: spelling it as two comparisons would
                    // copy `x`, doubling the tree with each nested BETWEEN.
                    let between = Expr::Between {
                        expr: Box::new(x),
                        low: Box::new(lo),
                        high: Box::new(hi),
                        low_aff,
                        high_aff,
                    };
                    return none(if *negated {
                        Expr::Not(Box::new(between))
                    } else {
                        between
                    });
                }
                let both = Expr::And(
                    Box::new(Expr::Compare {
                        op: CmpOp::GtEq,
                        left: Box::new(x.clone()),
                        right: Box::new(lo),
                        affinity: low_aff,
                    }),
                    Box::new(Expr::Compare {
                        op: CmpOp::LtEq,
                        left: Box::new(x),
                        right: Box::new(hi),
                        affinity: high_aff,
                    }),
                );
                none(if *negated {
                    Expr::Not(Box::new(both))
                } else {
                    both
                })
            }
            E::In {
                expr,
                target,
                negated,
                ..
            } => {
                let (x, xa) = self.expr(expr)?;
                match target {
                    ast::InTarget::List(list) => {
                        let mut items = Vec::with_capacity(list.len());
                        for item in list {
                            items.push(self.value_expr(item)?);
                        }
                        none(Expr::InList {
                            expr: Box::new(x),
                            list: items,
                            negated: *negated,
                            affinity: xa,
                        })
                    }
                    ast::InTarget::Subquery(q) => {
                        let (idx, qa) = self.subquery(q)?;
                        if self.subplans[idx].plan.columns.len() != 1 {
                            return Err(SqlError::Name {
                                message: format!(
                                    "sub-select returns {} columns - expected 1",
                                    self.subplans[idx].plan.columns.len()
                                ),
                                position: pos_of(e),
                            });
                        }
                        none(Expr::InSubquery {
                            expr: Box::new(x),
                            subquery: idx,
                            negated: *negated,
                            affinity: Affinity::for_comparison(xa, qa),
                        })
                    }
                    ast::InTarget::Table { name, args: None } => {
                        // SQLite: `x IN t` means `x IN (SELECT * FROM t)`.
                        let table = self.lookup_table(&object_name(name), pos_of(e))?;
                        if table.columns().len() != 1 {
                            return Err(SqlError::Name {
                                message: format!(
                                    "sub-select returns {} columns - expected 1",
                                    table.columns().len()
                                ),
                                position: pos_of(e),
                            });
                        }
                        let col = &table.columns()[0];
                        let (name, ty) = (col.name.clone(), col.data_type);
                        let scan = super::plan::Scan {
                            alias: table.name().to_string(),
                            table,
                            access: super::plan::Access::FullScan,
                            filter: None,
                            reverse: false,
                            with_rowid: false,
                            estimated_rows: super::access::ASSUMED_ROWS,
                            provides_order: false,
                        };
                        self.subplans.push(Subplan {
                            plan: super::plan::QueryPlan {
                                root: super::plan::Node::Scan(scan),
                                columns: vec![super::plan::OutputColumn {
                                    name,
                                    data_type: Some(ty),
                                }],
                            },
                            correlated: false,
                        });
                        none(Expr::InSubquery {
                            expr: Box::new(x),
                            subquery: self.subplans.len() - 1,
                            negated: *negated,
                            affinity: Affinity::for_comparison(xa, Affinity::of_type(ty)),
                        })
                    }
                    _ => {
                        Err(SqlError::unsupported("IN with UNNEST or a table function")
                            .at(pos_of(e)))
                    }
                }
            }
            E::Exists { subquery, negated } => {
                let (idx, _) = self.subquery(subquery)?;
                none(Expr::Exists {
                    subquery: idx,
                    negated: *negated,
                })
            }
            E::Subquery(q) => {
                let (idx, aff) = self.subquery(q)?;
                if self.subplans[idx].plan.columns.len() != 1 {
                    return Err(SqlError::Name {
                        message: format!(
                            "sub-select returns {} columns - expected 1",
                            self.subplans[idx].plan.columns.len()
                        ),
                        position: pos_of(e),
                    });
                }
                Ok((Expr::ScalarSubquery(idx), aff))
            }
            E::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | E::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(SqlError::unsupported("LIKE ANY").at(pos_of(e)));
                }
                let escape = match escape_char {
                    Some(x) => Some(Box::new(self.value_expr(x)?)),
                    None => None,
                };
                none(Expr::Like {
                    expr: Box::new(self.value_expr(expr)?),
                    pattern: Box::new(self.value_expr(pattern)?),
                    escape,
                    negated: *negated,
                })
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let (op, op_aff) = match operand {
                    Some(o) => {
                        let (x, a) = self.expr(o)?;
                        (Some(Box::new(x)), a)
                    }
                    None => (None, Affinity::None),
                };
                let mut whens = Vec::with_capacity(conditions.len());
                let mut aff = op_aff;
                for c in conditions {
                    let (w, wa) = self.expr(&c.condition)?;
                    if op.is_some() && aff == op_aff {
                        aff = Affinity::for_comparison(op_aff, wa);
                    }
                    whens.push((w, self.value_expr(&c.result)?));
                }
                let otherwise = match else_result {
                    Some(x) => Some(Box::new(self.value_expr(x)?)),
                    None => None,
                };
                none(Expr::Case {
                    operand: op,
                    whens,
                    otherwise,
                    affinity: aff,
                })
            }
            E::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some()
                    || !matches!(kind, ast::CastKind::Cast | ast::CastKind::DoubleColon)
                {
                    return Err(
                        SqlError::unsupported(format!("{kind:?} with a format")).at(pos_of(e))
                    );
                }
                let target = CastTarget::from_type_name(&data_type.to_string());
                let x = self.value_expr(expr)?;
                Ok((Expr::Cast(Box::new(x), target), target.affinity()))
            }
            E::Collate { expr, collation } => {
                let name = object_name(collation).to_ascii_lowercase();
                if name != "binary" {
                    return Err(
                        SqlError::unsupported(format!("the collation {name}")).at(pos_of(e))
                    );
                }
                self.expr(expr)
            }
            E::Function(f) => self.function(f),
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.value_expr(expr)?];
                args.push(match substring_from {
                    Some(x) => self.value_expr(x)?,
                    None => Expr::Literal(Value::Integer(1)),
                });
                if let Some(x) = substring_for {
                    args.push(self.value_expr(x)?);
                }
                none(Expr::Function(Func::Substr, args))
            }
            E::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(SqlError::unsupported("TRIM with a character list").at(pos_of(e)));
                }
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => Func::LTrim,
                    Some(ast::TrimWhereField::Trailing) => Func::RTrim,
                    _ => Func::Trim,
                };
                let mut args = vec![self.value_expr(expr)?];
                if let Some(w) = trim_what {
                    args.push(self.value_expr(w)?);
                }
                none(Expr::Function(func, args))
            }
            E::Tuple(_) => Err(SqlError::unsupported("row values (a, b)").at(pos_of(e))),
            E::Wildcard(_) | E::QualifiedWildcard(..) => {
                Err(SqlError::parse("* is only allowed in a select list or count(*)").at(pos_of(e)))
            }
            other => Err(SqlError::unsupported(format!("the expression {other}")).at(pos_of(e))),
        }
    }

    fn binary(
        &mut self,
        whole: &ast::Expr,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
    ) -> Result<(Expr, Affinity)> {
        use ast::BinaryOperator as B;
        let (l, la) = self.expr(left)?;
        let (r, ra) = self.expr(right)?;
        let (l, r) = (Box::new(l), Box::new(r));
        let cmp = |op: CmpOp| Expr::Compare {
            op,
            left: l.clone(),
            right: r.clone(),
            affinity: Affinity::for_comparison(la, ra),
        };
        let e = match op {
            B::Plus => Expr::Arith(ArithOp::Add, l, r),
            B::Minus => Expr::Arith(ArithOp::Sub, l, r),
            B::Multiply => Expr::Arith(ArithOp::Mul, l, r),
            B::Divide => Expr::Arith(ArithOp::Div, l, r),
            B::Modulo => Expr::Arith(ArithOp::Rem, l, r),
            B::StringConcat => Expr::Concat(l, r),
            B::And => Expr::And(l, r),
            B::Or => Expr::Or(l, r),
            B::Eq => cmp(CmpOp::Eq),
            B::NotEq => cmp(CmpOp::NotEq),
            B::Lt => cmp(CmpOp::Lt),
            B::LtEq => cmp(CmpOp::LtEq),
            B::Gt => cmp(CmpOp::Gt),
            B::GtEq => cmp(CmpOp::GtEq),
            B::BitwiseAnd => Expr::Bit(BitOp::And, l, r),
            B::BitwiseOr => Expr::Bit(BitOp::Or, l, r),
            B::PGBitwiseShiftLeft => Expr::Bit(BitOp::ShiftLeft, l, r),
            B::PGBitwiseShiftRight => Expr::Bit(BitOp::ShiftRight, l, r),
            other => {
                return Err(
                    SqlError::unsupported(format!("the operator {other}")).at(pos_of(whole))
                );
            }
        };
        Ok((e, Affinity::None))
    }

    fn function(&mut self, f: &ast::Function) -> Result<(Expr, Affinity)> {
        let pos = pos_of(f);
        let name = object_name(&f.name).to_ascii_lowercase();
        let a = call_args(f)?;
        if let Some(func) = aggregate_of(&name, a.args.len(), a.star) {
            return self.aggregate_call(func, &a, pos);
        }
        if a.star || a.distinct {
            return Err(SqlError::Name {
                message: format!("{name}() is not an aggregate; * and DISTINCT are not allowed"),
                position: pos,
            });
        }
        let (func, arity): (Func, std::ops::RangeInclusive<usize>) = match name.as_str() {
            "abs" => (Func::Abs, 1..=1),
            "length" => (Func::Length, 1..=1),
            "lower" => (Func::Lower, 1..=1),
            "upper" => (Func::Upper, 1..=1),
            "substr" | "substring" => (Func::Substr, 2..=3),
            "coalesce" => (Func::Coalesce, 2..=usize::MAX),
            "ifnull" => (Func::Coalesce, 2..=2),
            "nullif" => (Func::NullIf, 2..=2),
            "round" => (Func::Round, 1..=2),
            "typeof" => (Func::TypeOf, 1..=1),
            "trim" => (Func::Trim, 1..=2),
            "ltrim" => (Func::LTrim, 1..=2),
            "rtrim" => (Func::RTrim, 1..=2),
            "replace" => (Func::Replace, 3..=3),
            "instr" => (Func::Instr, 2..=2),
            "min" => (Func::MinOf, 2..=usize::MAX),
            "max" => (Func::MaxOf, 2..=usize::MAX),
            "hex" => (Func::Hex, 1..=1),
            "iif" => (Func::Iif, 3..=3),
            "sign" => (Func::Sign, 1..=1),
            _ => {
                return Err(SqlError::Name {
                    message: match suggest(&name, SCALAR_FUNCS.iter().copied()) {
                        Some(s) => format!("no such function: {name} (did you mean {s}?)"),
                        None => format!("no such function: {name}"),
                    },
                    position: pos,
                });
            }
        };
        if !arity.contains(&a.args.len()) {
            return Err(SqlError::Name {
                message: format!("wrong number of arguments to function {name}()"),
                position: pos,
            });
        }
        let mut args = Vec::with_capacity(a.args.len());
        for x in &a.args {
            args.push(self.value_expr(x)?);
        }
        // NULLIF(x, y) compares as x = y would.
        Ok((Expr::Function(func, args), Affinity::None))
    }
}
