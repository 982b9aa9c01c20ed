//! Planning queries: SELECT, set operations and VALUES.
//!
//! A SELECT is planned in the order SQL defines its meaning:
//!
//! ```text
//!   FROM + JOIN -> WHERE -> GROUP BY/aggregates -> HAVING -> select list
//!     -> DISTINCT -> ORDER BY -> LIMIT/OFFSET
//! ```
//!
//! All expressions are bound first, against the FROM clause's row layout
//! (the tables side by side, left to right). Then [`super::join`] builds the
//! join tree, pushing each WHERE conjunct to the lowest place it can be
//! checked and choosing access paths; when a single table's access path
//! already yields the ORDER BY order, no Sort node is added.

use sqlparser::ast;

use super::access::OrderReq;
use super::bind::{Binder, contains_aggregate, number_literal, pos_of};
use super::expr::{Expr, Slot};
use super::plan::{Node, OutputColumn, QueryPlan, ScopeColumn, SetOp, SortKey};
use super::scope::AggState;
use crate::error::{Result, SqlError};
use crate::value::Value;
use crate::value::affinity::Affinity;

/// One select-list item after wildcard expansion.
struct Item {
    ast: Option<ast::Expr>,
    bound: Expr,
    affinity: Affinity,
    name: String,
    data_type: Option<crate::value::DataType>,
}

fn limit_exprs(q: &ast::Query) -> Result<(Option<&ast::Expr>, Option<&ast::Expr>)> {
    match &q.limit_clause {
        None => Ok((None, None)),
        Some(ast::LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(SqlError::unsupported("LIMIT BY"));
            }
            Ok((limit.as_ref(), offset.as_ref().map(|o| &o.value)))
        }
        Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
            Ok((Some(limit), Some(offset)))
        }
    }
}

fn order_terms(q: &ast::Query) -> Result<Vec<&ast::OrderByExpr>> {
    match &q.order_by {
        None => Ok(vec![]),
        Some(ob) => match &ob.kind {
            ast::OrderByKind::Expressions(v) => Ok(v.iter().collect()),
            ast::OrderByKind::All(_) => Err(SqlError::unsupported("ORDER BY ALL")),
        },
    }
}

fn sort_flags(o: &ast::OrderByExpr) -> Result<(bool, bool)> {
    let desc = match &o.options.sort {
        Some(ast::OrderBySort::Desc) => true,
        Some(ast::OrderBySort::Asc) | None => false,
        Some(ast::OrderBySort::Using(_)) => {
            return Err(SqlError::unsupported("ORDER BY ... USING"));
        }
    };
    let nulls_first = o.options.nulls_first.unwrap_or(!desc);
    Ok((desc, nulls_first))
}

/// The 1-based column number an ORDER BY / GROUP BY term names, if it is an
/// integer literal.
fn column_number(e: &ast::Expr, count: usize, clause: &str) -> Result<Option<usize>> {
    if let ast::Expr::Value(v) = e {
        if let ast::Value::Number(n, _) = &v.value {
            if let Ok(Value::Integer(k)) = number_literal(n) {
                if k < 1 || k as usize > count {
                    return Err(SqlError::Name {
                        message: format!(
                            "{clause} term out of range - should be between 1 and {count}"
                        ),
                        position: pos_of(e),
                    });
                }
                return Ok(Some(k as usize - 1));
            }
        }
    }
    Ok(None)
}

fn bare_name(e: &ast::Expr) -> Option<&str> {
    match e {
        ast::Expr::Identifier(i) => Some(&i.value),
        _ => None,
    }
}

impl Binder<'_> {
    /// Plan a query in the current frame (which the caller pushed). Returns
    /// the plan and the affinity of each output column.
    pub fn query(&mut self, q: &ast::Query) -> Result<(QueryPlan, Vec<Affinity>)> {
        crate::limits::deep(|| self.query_level(q))
    }

    fn query_level(&mut self, q: &ast::Query) -> Result<(QueryPlan, Vec<Affinity>)> {
        if q.with.is_some() {
            return Err(SqlError::unsupported("WITH (common table expressions)"));
        }
        if q.fetch.is_some() || !q.locks.is_empty() {
            return Err(SqlError::unsupported("FETCH / FOR UPDATE clauses"));
        }
        match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.select(s, q),
            _ => {
                let (plan, affs) = self.set_expr(&q.body)?;
                self.finish_compound(plan, affs, q)
            }
        }
    }

    /// ORDER BY / LIMIT over a compound query's output columns.
    fn finish_compound(
        &mut self,
        plan: QueryPlan,
        affs: Vec<Affinity>,
        q: &ast::Query,
    ) -> Result<(QueryPlan, Vec<Affinity>)> {
        let mut root = plan.root;
        let terms = order_terms(q)?;
        if !terms.is_empty() {
            let mut keys = Vec::new();
            for t in terms {
                let (desc, nulls_first) = sort_flags(t)?;
                let idx = match column_number(&t.expr, plan.columns.len(), "ORDER BY")? {
                    Some(i) => i,
                    None => {
                        let name = bare_name(&t.expr).ok_or_else(|| {
                            SqlError::unsupported(
                                "ORDER BY expressions on a compound SELECT (use a column name or number)",
                            )
                        })?;
                        plan.columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(name))
                            .ok_or_else(|| SqlError::Name {
                                message: format!(
                                    "ORDER BY term {name} does not match any column in the result set"
                                ),
                                position: pos_of(&t.expr),
                            })?
                    }
                };
                keys.push(SortKey {
                    expr: Expr::Column(Slot::Local(idx)),
                    desc,
                    nulls_first,
                });
            }
            root = Node::Sort {
                input: Box::new(root),
                keys,
            };
        }
        let root = self.apply_limit(root, q)?;
        Ok((
            QueryPlan {
                root,
                columns: plan.columns,
            },
            affs,
        ))
    }

    fn apply_limit(&mut self, root: Node, q: &ast::Query) -> Result<Node> {
        let (limit, offset) = limit_exprs(q)?;
        if limit.is_none() && offset.is_none() {
            return Ok(root);
        }
        let bind_const = |b: &mut Self, e: &ast::Expr| -> Result<Expr> {
            let x = b.value_expr(e)?;
            let mut locals = Vec::new();
            x.local_columns(&mut locals);
            if !locals.is_empty() {
                return Err(SqlError::Name {
                    message: "LIMIT and OFFSET must not refer to columns".into(),
                    position: pos_of(e),
                });
            }
            Ok(x)
        };
        let limit = match limit {
            Some(e) => Some(bind_const(self, e)?),
            None => None,
        };
        let offset = match offset {
            Some(e) => Some(bind_const(self, e)?),
            None => None,
        };
        Ok(Node::Limit {
            input: Box::new(root),
            limit,
            offset,
        })
    }

    fn set_expr(&mut self, body: &ast::SetExpr) -> Result<(QueryPlan, Vec<Affinity>)> {
        match body {
            ast::SetExpr::Select(s) => {
                let q = ast::Query {
                    with: None,
                    body: Box::new(ast::SetExpr::Select(s.clone())),
                    order_by: None,
                    limit_clause: None,
                    fetch: None,
                    locks: vec![],
                    for_clause: None,
                    settings: None,
                    format_clause: None,
                    pipe_operators: vec![],
                };
                self.select(s, &q)
            }
            ast::SetExpr::Query(q) => self.query(q),
            ast::SetExpr::Values(v) => self.values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (l, la) = self.set_expr(left)?;
                let (r, _) = self.set_expr(right)?;
                if l.columns.len() != r.columns.len() {
                    return Err(SqlError::Name {
                        message: format!(
                            "SELECTs to the left and right of {op} do not have the same number of result columns ({} and {})",
                            l.columns.len(),
                            r.columns.len()
                        ),
                        position: None,
                    });
                }
                let op = match op {
                    ast::SetOperator::Union => SetOp::Union,
                    ast::SetOperator::Intersect => SetOp::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOp::Except,
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(SqlError::unsupported(format!("{op:?} {other}"))),
                };
                if all && op != SetOp::Union {
                    return Err(SqlError::unsupported("INTERSECT ALL / EXCEPT ALL"));
                }
                Ok((
                    QueryPlan {
                        root: Node::SetOperation {
                            op,
                            all,
                            left: Box::new(l.root),
                            right: Box::new(r.root),
                        },
                        columns: l.columns,
                    },
                    la,
                ))
            }
            other => Err(SqlError::unsupported(format!("the query form {other}"))),
        }
    }

    /// `VALUES (..), (..)`.
    pub fn values(&mut self, v: &ast::Values) -> Result<(QueryPlan, Vec<Affinity>)> {
        let width = v.rows.first().map_or(0, |r| r.content.len());
        let mut rows = Vec::with_capacity(v.rows.len());
        for r in &v.rows {
            if r.content.len() != width {
                return Err(SqlError::Name {
                    message: "all VALUES rows must have the same number of terms".into(),
                    position: pos_of(&r.content[0]),
                });
            }
            let mut row = Vec::with_capacity(width);
            for e in &r.content {
                row.push(self.value_expr(e)?);
            }
            rows.push(row);
        }
        let columns = (0..width)
            .map(|i| OutputColumn {
                name: format!("column{}", i + 1),
                data_type: None,
            })
            .collect();
        Ok((
            QueryPlan {
                root: Node::Values { rows, width },
                columns,
            },
            vec![Affinity::None; width],
        ))
    }

    fn select(&mut self, s: &ast::Select, q: &ast::Query) -> Result<(QueryPlan, Vec<Affinity>)> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || s.qualify.is_some()
            || !s.named_window.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
        {
            return Err(SqlError::unsupported(
                "this SELECT clause (TOP/INTO/QUALIFY/WINDOW/...)",
            ));
        }
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(SqlError::unsupported("DISTINCT ON")),
        };
        // FROM: the tables side by side.
        let from = self.from_clause(&s.from)?;
        self.scopes.current().columns = from.columns.clone();
        // Select-list aliases are visible to names that match no column.
        let mut aliases = Vec::new();
        for item in &s.projection {
            if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                aliases.push((alias.value.clone(), expr.clone()));
            }
        }
        self.scopes.current().aliases = aliases;
        // WHERE and ON conditions over the FROM row.
        let where_ = match &s.selection {
            Some(w) => Some(self.value_expr(w)?),
            None => None,
        };
        let join_conds = self.bind_join_conditions(&from)?;

        // Aggregation?
        let group_asts: Vec<&ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(v, mods) => {
                if !mods.is_empty() {
                    return Err(SqlError::unsupported(
                        "GROUP BY modifiers (ROLLUP, CUBE, ...)",
                    ));
                }
                v.iter().collect()
            }
            ast::GroupByExpr::All(_) => return Err(SqlError::unsupported("GROUP BY ALL")),
        };
        let terms = order_terms(q)?;
        let aggregating = !group_asts.is_empty()
            || s.having.is_some()
            || s.projection.iter().any(|p| match p {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => contains_aggregate(e),
                _ => false,
            })
            || terms.iter().any(|t| contains_aggregate(&t.expr));
        if aggregating {
            let mut group_by = Vec::new();
            for g in &group_asts {
                let e = if let Some(k) = column_number(g, s.projection.len(), "GROUP BY")? {
                    match &s.projection[k] {
                        ast::SelectItem::UnnamedExpr(e)
                        | ast::SelectItem::ExprWithAlias { expr: e, .. } => self.value_expr(e)?,
                        _ => {
                            return Err(SqlError::unsupported("GROUP BY a wildcard column number"));
                        }
                    }
                } else {
                    self.value_expr(g)?
                };
                group_by.push(e);
            }
            self.scopes.current().agg = Some(AggState {
                group_by,
                aggregates: vec![],
            });
        }

        // Select list.
        let items = self.select_items(&s.projection, &from.columns)?;
        let having = match &s.having {
            Some(h) => Some(self.value_expr(h)?),
            None => None,
        };
        // ORDER BY: output column numbers, aliases, or expressions.
        let mut proj: Vec<Expr> = items.iter().map(|i| i.bound.clone()).collect();
        let visible = proj.len();
        let mut keys = Vec::new();
        for t in &terms {
            let (desc, nulls_first) = sort_flags(t)?;
            let idx = if let Some(k) = column_number(&t.expr, visible, "ORDER BY")? {
                k
            } else if let Some(k) = bare_name(&t.expr).and_then(|n| {
                items.iter().position(|i| {
                    i.ast.is_some() && i.name.eq_ignore_ascii_case(n) && is_alias(&s.projection, n)
                })
            }) {
                k
            } else {
                let e = self.value_expr(&t.expr)?;
                match proj.iter().position(|p| *p == e) {
                    Some(k) => k,
                    None => {
                        if distinct {
                            return Err(SqlError::unsupported(
                                "ORDER BY a term not in the select list of a SELECT DISTINCT",
                            ));
                        }
                        proj.push(e);
                        proj.len() - 1
                    }
                }
            };
            keys.push(SortKey {
                expr: Expr::Column(Slot::Local(idx)),
                desc,
                nulls_first,
            });
        }
        let agg = self.scopes.current().agg.take();

        // Build the tree: joins and WHERE, aggregate, HAVING, project.
        let order_req: Option<Vec<(usize, bool, bool)>> =
            if agg.is_none() && !distinct && !keys.is_empty() {
                keys.iter()
                    .map(|k| match (&k.expr, k.desc, k.nulls_first) {
                        (Expr::Column(Slot::Local(p)), d, n) => match &proj[*p] {
                            Expr::Column(Slot::Local(c)) => Some((*c, d, n)),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect()
            } else {
                None
            };
        let limit_hint = match limit_exprs(q)? {
            (Some(ast::Expr::Value(v)), None) => match &v.value {
                ast::Value::Number(n, _) => n.parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        };
        let (mut root, ordered) = self.build_from(
            from,
            join_conds,
            where_,
            order_req.as_deref().map(|o: &OrderReq| o),
            limit_hint,
        )?;
        if let Some(agg) = agg {
            root = Node::Aggregate {
                input: Box::new(root),
                group_by: agg.group_by,
                aggregates: agg.aggregates,
            };
        }
        if let Some(h) = having {
            root = Node::Filter {
                input: Box::new(root),
                predicate: h,
            };
        }
        root = Node::Project {
            input: Box::new(root),
            exprs: proj,
        };
        if distinct {
            root = Node::Distinct {
                input: Box::new(root),
            };
        }
        if !keys.is_empty() && !ordered {
            root = Node::Sort {
                input: Box::new(root),
                keys,
            };
        }
        root = self.apply_limit(root, q)?;
        if root.width() > visible {
            root = Node::Project {
                input: Box::new(root),
                exprs: (0..visible).map(|i| Expr::Column(Slot::Local(i))).collect(),
            };
        }
        let affs = items.iter().map(|i| i.affinity).collect();
        let columns = items
            .into_iter()
            .map(|i| OutputColumn {
                name: i.name,
                data_type: i.data_type,
            })
            .collect();
        Ok((QueryPlan { root, columns }, affs))
    }

    fn select_items(
        &mut self,
        projection: &[ast::SelectItem],
        from: &[ScopeColumn],
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let aggregating = self.scopes.current().agg.is_some();
        for p in projection {
            match p {
                ast::SelectItem::Wildcard(opts) | ast::SelectItem::QualifiedWildcard(_, opts)
                    if opts.opt_exclude.is_some()
                        || opts.opt_except.is_some()
                        || opts.opt_replace.is_some()
                        || opts.opt_rename.is_some() =>
                {
                    return Err(SqlError::unsupported(
                        "wildcard options (EXCLUDE/EXCEPT/REPLACE)",
                    ));
                }
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    let qual = match p {
                        ast::SelectItem::QualifiedWildcard(
                            ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                            _,
                        ) => Some(super::bind::object_name(n)),
                        ast::SelectItem::QualifiedWildcard(..) => {
                            return Err(SqlError::unsupported("expression.* in a select list"));
                        }
                        _ => None,
                    };
                    let before = items.len();
                    for (i, c) in from.iter().enumerate() {
                        if c.hidden {
                            continue;
                        }
                        if let Some(q) = &qual {
                            if !c
                                .table
                                .as_deref()
                                .is_some_and(|t| t.eq_ignore_ascii_case(q))
                            {
                                continue;
                            }
                        }
                        let mut bound = Expr::Column(Slot::Local(i));
                        if aggregating {
                            let frame = self.scopes.current();
                            if let Some(agg) = frame.agg.as_mut() {
                                bound = Expr::Column(Slot::Local(agg.map_input(&bound)));
                            }
                        }
                        items.push(Item {
                            ast: None,
                            bound,
                            affinity: c.affinity,
                            name: c.name.clone(),
                            data_type: c.data_type,
                        });
                    }
                    if items.len() == before {
                        return Err(match qual {
                            Some(q) => SqlError::UnknownTable {
                                name: q,
                                suggestion: None,
                                position: None,
                            },
                            None => SqlError::parse("no tables specified for SELECT *"),
                        });
                    }
                }
                ast::SelectItem::UnnamedExpr(e) => {
                    let (bound, affinity) = self.expr(e)?;
                    let (name, data_type) = self.describe(e, &bound, from);
                    items.push(Item {
                        ast: Some(e.clone()),
                        bound,
                        affinity,
                        name,
                        data_type,
                    });
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let (bound, affinity) = self.expr(expr)?;
                    let (_, data_type) = self.describe(expr, &bound, from);
                    items.push(Item {
                        ast: Some(expr.clone()),
                        bound,
                        affinity,
                        name: alias.value.clone(),
                        data_type,
                    });
                }
                ast::SelectItem::ExprWithAliases { .. } => {
                    return Err(SqlError::unsupported("multiple aliases for one expression"));
                }
            }
        }
        Ok(items)
    }

    /// Name and declared type of a select-list expression.
    fn describe(
        &mut self,
        e: &ast::Expr,
        bound: &Expr,
        from: &[ScopeColumn],
    ) -> (String, Option<crate::value::DataType>) {
        let name = match e {
            ast::Expr::Identifier(i) => i.value.clone(),
            ast::Expr::CompoundIdentifier(parts) => {
                parts.last().map(|p| p.value.clone()).unwrap_or_default()
            }
            other => other.to_string(),
        };
        let ty = match e {
            ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) => {
                // The declared type of the column (before any aggregate
                // mapping, look the name up again in the FROM layout).
                let frame = self.scopes.current();
                match (bound, &frame.agg) {
                    (Expr::Column(Slot::Local(i)), None) => from.get(*i).and_then(|c| c.data_type),
                    _ => None,
                }
            }
            _ => None,
        };
        (name, ty)
    }
}

fn is_alias(projection: &[ast::SelectItem], name: &str) -> bool {
    projection.iter().any(|p| match p {
        ast::SelectItem::ExprWithAlias { alias, .. } => alias.value.eq_ignore_ascii_case(name),
        ast::SelectItem::UnnamedExpr(ast::Expr::Identifier(i)) => {
            i.value.eq_ignore_ascii_case(name)
        }
        _ => false,
    })
}
