//! The FROM clause: tables, derived tables and joins, with WHERE pushdown.
//!
//! Joins are built left-deep in the order written, so the row of a partial
//! join over the first k tables is a prefix of the full FROM row and every
//! expression bound against the full row stays valid there:
//!
//! ```text
//!   FROM a JOIN b ON .. JOIN c ON ..     full row: [a cols][b cols][c cols]
//!   ((a ⋈ b) ⋈ c)                        a ⋈ b produces [a cols][b cols]
//! ```
//!
//! Each WHERE conjunct goes to the lowest place it can be checked: into a
//! table's scan when it reads only that table (where it may also become a
//! key range), into a join when it reads the tables joined so far, else on
//! top. Conjuncts with subqueries stay on top (their correlated references
//! are bound to the full row). For each join the method is, in order of
//! preference: an index nested-loop join when the right table has a key
//! (primary key or index) constrained by values of the left row; a hash join
//! on equalities between the sides; otherwise a nested loop over the
//! materialised right side. A RIGHT JOIN is run as a LEFT JOIN with the sides
//! swapped and its columns put back in order.

use std::sync::Arc;

use sqlparser::ast;
use table_layer::TableDef;

use super::access::{self, OrderReq};
use super::bind::{Binder, object_name, pos_of};
use super::expr::{CmpOp, Expr, Slot};
use super::plan::{Access, JoinKind, Node, QueryPlan, Scan, ScopeColumn};
use crate::error::{Result, SqlError, suggest};
use crate::value::affinity::Affinity;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    First,
    Inner,
    Left,
    Right,
}

enum Source {
    Table(Arc<TableDef>, String),
    Derived(Box<QueryPlan>),
}

struct Item {
    source: Source,
    width: usize,
    offset: usize,
    kind: Kind,
    on: Option<ast::Expr>,
}

/// The FROM clause's items and their columns side by side.
pub struct FromClause {
    items: Vec<Item>,
    /// All columns in row order.
    pub columns: Vec<ScopeColumn>,
}

/// Split an optional predicate into conjuncts.
fn split(e: Option<Expr>) -> Vec<Expr> {
    let mut out = Vec::new();
    if let Some(e) = e {
        e.conjuncts(&mut out);
    }
    out
}

fn has_subquery(e: &Expr) -> bool {
    let mut v = Vec::new();
    e.subqueries(&mut v);
    !v.is_empty()
}

impl Binder<'_> {
    /// Resolve the FROM clause's tables and derived tables.
    pub fn from_clause(&mut self, from: &[ast::TableWithJoins]) -> Result<FromClause> {
        let mut fc = FromClause {
            items: Vec::new(),
            columns: Vec::new(),
        };
        for (i, twj) in from.iter().enumerate() {
            let kind = if i == 0 { Kind::First } else { Kind::Inner };
            self.add_from_item(&mut fc, &twj.relation, kind, None)?;
            for j in &twj.joins {
                use ast::JoinOperator as J;
                let (kind, c) = match &j.join_operator {
                    J::Join(c) | J::Inner(c) => (Kind::Inner, c),
                    J::CrossJoin(c) => (Kind::Inner, c),
                    J::Left(c) | J::LeftOuter(c) => (Kind::Left, c),
                    J::Right(c) | J::RightOuter(c) => (Kind::Right, c),
                    other => {
                        return Err(SqlError::unsupported(format!("{other:?} joins")));
                    }
                };
                let on = match c {
                    ast::JoinConstraint::On(e) => Some(e.clone()),
                    ast::JoinConstraint::None => None,
                    ast::JoinConstraint::Using(_) | ast::JoinConstraint::UsingAlias(..) => {
                        return Err(SqlError::unsupported("JOIN ... USING (write ON a.x = b.x)"));
                    }
                    ast::JoinConstraint::Natural => {
                        return Err(SqlError::unsupported("NATURAL JOIN (write ON a.x = b.x)"));
                    }
                };
                self.add_from_item(&mut fc, &j.relation, kind, on)?;
            }
        }
        Ok(fc)
    }

    fn add_from_item(
        &mut self,
        fc: &mut FromClause,
        factor: &ast::TableFactor,
        kind: Kind,
        on: Option<ast::Expr>,
    ) -> Result<()> {
        let offset = fc.columns.len();
        match factor {
            ast::TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(SqlError::unsupported("table functions").at(pos_of(factor)));
                }
                let tname = object_name(name);
                let table = self.lookup_table(&tname, pos_of(factor))?;
                let alias_name = alias
                    .as_ref()
                    .map_or_else(|| table.name().to_string(), |a| a.name.value.clone());
                if fc.columns.iter().any(|c| {
                    c.table
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(&alias_name))
                }) {
                    return Err(SqlError::Name {
                        message: format!(
                            "the table name {alias_name} is used twice in FROM; give one an alias"
                        ),
                        position: pos_of(factor),
                    });
                }
                for c in table.columns() {
                    fc.columns.push(ScopeColumn {
                        table: Some(alias_name.clone()),
                        name: c.name.clone(),
                        affinity: Affinity::of_type(c.data_type),
                        data_type: Some(c.data_type),
                        hidden: false,
                    });
                }
                fc.items.push(Item {
                    width: table.columns().len(),
                    source: Source::Table(table, alias_name),
                    offset,
                    kind,
                    on,
                });
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    return Err(SqlError::unsupported("LATERAL").at(pos_of(factor)));
                }
                self.scopes.frames.push(super::scope::Frame::default());
                let planned = self.query(subquery);
                let frame = self.scopes.frames.pop().unwrap_or_default();
                let (plan, affs) = planned?;
                if frame.correlated {
                    // Bound against an enclosing query: allowed, it is
                    // re-run per outer row through the subquery machinery.
                }
                let alias_name = alias.as_ref().map(|a| a.name.value.clone());
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| c.name.value.clone()).collect())
                    .unwrap_or_default();
                for (i, c) in plan.columns.iter().enumerate() {
                    fc.columns.push(ScopeColumn {
                        table: alias_name.clone(),
                        name: renames.get(i).cloned().unwrap_or_else(|| c.name.clone()),
                        affinity: affs.get(i).copied().unwrap_or(Affinity::None),
                        data_type: c.data_type,
                        hidden: false,
                    });
                }
                fc.items.push(Item {
                    width: plan.columns.len(),
                    source: Source::Derived(Box::new(plan)),
                    offset,
                    kind,
                    on,
                });
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } if matches!(kind, Kind::First | Kind::Inner)
                && on.is_none()
                && table_with_joins.joins.iter().all(|j| {
                    matches!(
                        j.join_operator,
                        ast::JoinOperator::Join(_)
                            | ast::JoinOperator::Inner(_)
                            | ast::JoinOperator::CrossJoin(_)
                    )
                }) =>
            {
                // (a JOIN b ON ..) among inner joins: the same as writing it
                // without the parentheses.
                self.add_from_item(fc, &table_with_joins.relation, kind, None)?;
                for j in &table_with_joins.joins {
                    let on = match &j.join_operator {
                        ast::JoinOperator::Join(ast::JoinConstraint::On(e))
                        | ast::JoinOperator::Inner(ast::JoinConstraint::On(e))
                        | ast::JoinOperator::CrossJoin(ast::JoinConstraint::On(e)) => {
                            Some(e.clone())
                        }
                        ast::JoinOperator::Join(ast::JoinConstraint::None)
                        | ast::JoinOperator::Inner(ast::JoinConstraint::None)
                        | ast::JoinOperator::CrossJoin(ast::JoinConstraint::None) => None,
                        _ => {
                            return Err(SqlError::unsupported("JOIN ... USING or NATURAL JOIN")
                                .at(pos_of(factor)));
                        }
                    };
                    self.add_from_item(fc, &j.relation, Kind::Inner, on)?;
                }
                return Ok(());
            }
            ast::TableFactor::NestedJoin { .. } => {
                return Err(SqlError::unsupported(
                    "parenthesised outer joins or aliased join groups",
                )
                .at(pos_of(factor)));
            }
            other => {
                return Err(
                    SqlError::unsupported(format!("the FROM item {other}")).at(pos_of(factor))
                );
            }
        }
        Ok(())
    }

    /// A table by name, or an error with a near-miss suggestion.
    pub fn lookup_table(
        &self,
        name: &str,
        pos: Option<crate::error::Position>,
    ) -> Result<Arc<TableDef>> {
        match self.catalog.find_table(name) {
            Some(t) => Ok(Arc::clone(t)),
            None => Err(SqlError::UnknownTable {
                name: name.to_string(),
                suggestion: suggest(name, self.catalog.tables().map(|t| t.name())),
                position: pos,
            }),
        }
    }

    /// Bind each item's ON condition against the full FROM row.
    pub fn bind_join_conditions(&mut self, fc: &FromClause) -> Result<Vec<Option<Expr>>> {
        let mut out = Vec::with_capacity(fc.items.len());
        for item in &fc.items {
            out.push(match &item.on {
                Some(e) => Some(self.value_expr(e)?),
                None => None,
            });
        }
        Ok(out)
    }

    /// Build the join tree with WHERE pushed down. Returns the tree and
    /// whether it already yields `order`.
    pub fn build_from(
        &mut self,
        fc: FromClause,
        join_conds: Vec<Option<Expr>>,
        where_: Option<Expr>,
        order: Option<&OrderReq>,
        limit: Option<u64>,
    ) -> Result<(Node, bool)> {
        let n = fc.items.len();
        let mut pending = split(where_);
        if n == 0 {
            let mut root = Node::Values {
                rows: vec![vec![]],
                width: 0,
            };
            if let Some(p) = Expr::and_all(pending) {
                root = Node::Filter {
                    input: Box::new(root),
                    predicate: p,
                };
            }
            return Ok((root, false));
        }
        let offsets: Vec<usize> = fc.items.iter().map(|it| it.offset).collect();
        let item_of = |p: usize| -> usize { offsets.iter().rposition(|&o| o <= p).unwrap_or(0) };
        let refs = |e: &Expr| -> Vec<usize> {
            let mut cols = Vec::new();
            e.local_columns(&mut cols);
            let mut items: Vec<usize> = cols.into_iter().map(item_of).collect();
            items.sort_unstable();
            items.dedup();
            items
        };
        let any_right = fc.items.iter().any(|i| i.kind == Kind::Right);
        let single = n == 1;
        let mut tree: Option<Node> = None;
        let mut ordered = false;
        let mut conds_iter = join_conds.into_iter();
        for (k, item) in fc.items.into_iter().enumerate() {
            let on_conjuncts = split(conds_iter.next().flatten());
            // Conjuncts that read only this item go into its scan.
            let mut local = Vec::new();
            let mut join_terms = Vec::new();
            match item.kind {
                Kind::First | Kind::Inner if !any_right => {
                    let mut keep = Vec::new();
                    for c in pending.drain(..) {
                        let r = refs(&c);
                        let sub = has_subquery(&c);
                        if (single || !sub)
                            && r.iter().all(|&i| i == k)
                            && (k == 0 || !r.is_empty())
                        {
                            local.push(c);
                        } else if !sub && !r.is_empty() && r.iter().all(|&i| i <= k) && k > 0 {
                            join_terms.push(c);
                        } else {
                            keep.push(c);
                        }
                    }
                    pending = keep;
                    for c in on_conjuncts {
                        let r = refs(&c);
                        if !has_subquery(&c) && !r.is_empty() && r.iter().all(|&i| i == k) {
                            local.push(c);
                        } else {
                            join_terms.push(c);
                        }
                    }
                }
                Kind::Left => {
                    for c in on_conjuncts {
                        let r = refs(&c);
                        if !has_subquery(&c) && !r.is_empty() && r.iter().all(|&i| i == k) {
                            local.push(c);
                        } else {
                            join_terms.push(c);
                        }
                    }
                }
                _ => join_terms.extend(on_conjuncts),
            }
            let shift = -(item.offset as isize);
            let local: Vec<Expr> = local.into_iter().map(|c| c.shift_columns(shift)).collect();
            let Some(left) = tree.take() else {
                let (node, ord) =
                    self.item_node(&item, local, if single { order } else { None }, limit);
                ordered = ord;
                tree = Some(node);
                continue;
            };
            let kind = if item.kind == Kind::Left {
                JoinKind::Left
            } else {
                JoinKind::Inner
            };
            if item.kind == Kind::Right {
                let (right, _) = self.item_node(&item, local, None, None);
                tree = Some(right_join(
                    left,
                    right,
                    item.offset,
                    item.width,
                    Expr::and_all(join_terms),
                ));
                continue;
            }
            tree = Some(self.join(left, &item, kind, local, join_terms, &refs, k)?);
        }
        let mut root = tree.unwrap_or(Node::Empty { width: 0 });
        if let Some(p) = Expr::and_all(pending) {
            root = Node::Filter {
                input: Box::new(root),
                predicate: p,
            };
        }
        Ok((root, ordered))
    }

    /// The node for one FROM item with its local conjuncts (over its own row).
    fn item_node(
        &self,
        item: &Item,
        local: Vec<Expr>,
        order: Option<&OrderReq>,
        limit: Option<u64>,
    ) -> (Node, bool) {
        match &item.source {
            Source::Table(t, alias) => {
                let choice = access::choose(
                    t,
                    alias,
                    local,
                    &access::local_column,
                    &Expr::is_scan_constant,
                    order,
                    limit,
                    self.table_rows(t.name()),
                );
                (Node::Scan(choice.scan), choice.ordered)
            }
            Source::Derived(plan) => {
                let mut node = plan.root.clone();
                if let Some(p) = Expr::and_all(local) {
                    node = Node::Filter {
                        input: Box::new(node),
                        predicate: p,
                    };
                }
                (node, false)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &self,
        left: Node,
        item: &Item,
        kind: JoinKind,
        local: Vec<Expr>,
        terms: Vec<Expr>,
        refs: &dyn Fn(&Expr) -> Vec<usize>,
        k: usize,
    ) -> Result<Node> {
        let offset = item.offset;
        let width = item.width;
        let left_only = |e: &Expr| -> bool {
            let mut cols = Vec::new();
            e.local_columns(&mut cols);
            !has_subquery(e) && cols.iter().all(|&c| c < offset)
        };
        // Index nested-loop join.
        if let Source::Table(t, alias) = &item.source {
            let col_of = |e: &Expr| -> Option<usize> {
                match e {
                    Expr::Column(Slot::Local(p)) if *p >= offset && *p < offset + width => {
                        Some(p - offset)
                    }
                    _ => None,
                }
            };
            let types = t.columns();
            let mut best: Option<(usize, Access)> = None;
            let pk = t.primary_key_columns();
            if !pk.is_empty() {
                let key: Vec<_> = pk.iter().map(|&c| (c, types[c].data_type)).collect();
                let pred = access::key_predicate(&key, &terms, &col_of, &left_only);
                if !pred.is_empty() {
                    best = Some((
                        pred.eq.len() * 2 + usize::from(pred.range.is_some()) + 1,
                        Access::PrimaryKey(pred),
                    ));
                }
            }
            for index in t.indexes() {
                let key: Vec<_> = index
                    .columns()
                    .iter()
                    .map(|c| (c.column, types[c.column].data_type))
                    .collect();
                let pred = access::key_predicate(&key, &terms, &col_of, &left_only);
                let score = pred.eq.len() * 2 + usize::from(pred.range.is_some());
                if !pred.is_empty() && best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((
                        score,
                        Access::Index {
                            index: index.clone(),
                            key: pred,
                        },
                    ));
                }
            }
            if let Some((_, access)) = best {
                let scan = Scan {
                    table: Arc::clone(t),
                    alias: alias.clone(),
                    access,
                    filter: Expr::and_all(local),
                    reverse: false,
                    with_rowid: false,
                    estimated_rows: 1.0,
                    provides_order: false,
                };
                return Ok(Node::IndexJoin {
                    left: Box::new(left),
                    right: scan,
                    kind,
                    on: Expr::and_all(terms),
                });
            }
        }
        let (right, _) = self.item_node(item, local, None, None);
        // Hash join on equalities between the sides.
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        let mut affinities = Vec::new();
        let mut rest = Vec::new();
        for t in terms {
            if let Expr::Compare {
                op: CmpOp::Eq,
                left: a,
                right: b,
                affinity,
            } = &t
            {
                let (ra, rb) = (refs(a), refs(b));
                let side = |r: &[usize]| -> Option<bool> {
                    if r.is_empty() {
                        None
                    } else if r.iter().all(|&i| i < k) {
                        Some(true)
                    } else if r.iter().all(|&i| i == k) {
                        Some(false)
                    } else {
                        None
                    }
                };
                if !has_subquery(&t) {
                    match (side(&ra), side(&rb)) {
                        (Some(true), Some(false)) => {
                            left_keys.push((**a).clone());
                            right_keys.push((**b).clone().shift_columns(-(offset as isize)));
                            affinities.push(*affinity);
                            continue;
                        }
                        (Some(false), Some(true)) => {
                            left_keys.push((**b).clone());
                            right_keys.push((**a).clone().shift_columns(-(offset as isize)));
                            affinities.push(*affinity);
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            rest.push(t);
        }
        if !left_keys.is_empty() {
            return Ok(Node::HashJoin {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                left_keys,
                right_keys,
                affinities,
                on: Expr::and_all(rest),
            });
        }
        Ok(Node::NestedLoopJoin {
            left: Box::new(left),
            right: Box::new(right),
            kind,
            on: Expr::and_all(rest),
        })
    }
}

/// `left RIGHT JOIN right ON cond` as `right LEFT JOIN left`, then the
/// columns put back in FROM order.
fn right_join(left: Node, right: Node, offset: usize, width: usize, on: Option<Expr>) -> Node {
    let remap = |e: Expr| {
        e.transform(&mut |x| match x {
            Expr::Column(Slot::Local(p)) => {
                if p >= offset {
                    Expr::Column(Slot::Local(p - offset))
                } else {
                    Expr::Column(Slot::Local(p + width))
                }
            }
            other => other,
        })
    };
    let joined = Node::NestedLoopJoin {
        left: Box::new(right),
        right: Box::new(left),
        kind: JoinKind::Left,
        on: on.map(remap),
    };
    let mut exprs: Vec<Expr> = (0..offset)
        .map(|p| Expr::Column(Slot::Local(p + width)))
        .collect();
    exprs.extend((0..width).map(|p| Expr::Column(Slot::Local(p))));
    Node::Project {
        input: Box::new(joined),
        exprs,
    }
}
