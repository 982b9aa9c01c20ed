//! Planning statements other than queries: DDL, INSERT, UPDATE, DELETE,
//! transaction control and EXPLAIN.

use std::sync::Arc;

use sqlparser::ast;
use table_layer::{Catalog, ColumnDef, DataType, IndexSpec, SortOrder, TableSpec};

use super::access;
use super::bind::{Binder, object_name, pos_of};
use super::expr::Expr;
use super::plan::ScopeColumn;
use super::{Planned, Statement};
use crate::error::{Result, SqlError};
use crate::value::Value;
use crate::value::affinity::Affinity;

/// Our column type for a declared SQL type, by SQLite's substring rules
/// (`VARCHAR(8)` is TEXT, `BIGINT` INTEGER, `DOUBLE PRECISION` REAL).
pub fn column_type(dt: &ast::DataType) -> Result<DataType> {
    let name = dt.to_string().to_ascii_uppercase();
    if name.starts_with("BOOL") {
        return Ok(DataType::Boolean);
    }
    Ok(if name.contains("INT") {
        DataType::Integer
    } else if name.contains("CHAR")
        || name.contains("CLOB")
        || name.contains("TEXT")
        || name.contains("STRING")
    {
        DataType::Text
    } else if name.contains("BLOB") || name.contains("BINARY") || name.contains("BYTEA") {
        DataType::Blob
    } else if name.contains("REAL")
        || name.contains("FLOA")
        || name.contains("DOUB")
        || name.contains("NUMERIC")
        || name.contains("DECIMAL")
    {
        DataType::Real
    } else if name.is_empty() || name == "UNSPECIFIED" {
        return Err(SqlError::type_error(
            "a column needs a type: INTEGER, REAL, TEXT, BLOB or BOOLEAN",
        ));
    } else {
        return Err(SqlError::unsupported(format!(
            "the column type {name} (use INTEGER, REAL, TEXT, BLOB or BOOLEAN)"
        )));
    })
}

/// Plan one parsed statement against `catalog`, assuming every table holds
/// [`ASSUMED_ROWS`](super::access::ASSUMED_ROWS).
pub fn plan_statement(stmt: &ast::Statement, catalog: &Catalog) -> Result<Planned> {
    plan_statement_with(stmt, catalog, None)
}

/// Plan one parsed statement against `catalog`, with the tables' row
/// counts when known (`row_counts(table)`; the session passes the table
/// layer's running counts).
pub fn plan_statement_with(
    stmt: &ast::Statement,
    catalog: &Catalog,
    row_counts: Option<super::bind::RowCounts<'_>>,
) -> Result<Planned> {
    let mut b = Binder::new(catalog);
    b.row_counts = row_counts;
    let s = b.statement(stmt)?;
    Ok(Planned {
        stmt: s,
        subplans: b.subplans,
    })
}

fn single_table(twj: &ast::TableWithJoins) -> Result<(String, Option<String>)> {
    if !twj.joins.is_empty() {
        return Err(SqlError::unsupported("joins in UPDATE or DELETE"));
    }
    match &twj.relation {
        ast::TableFactor::Table { name, alias, .. } => Ok((
            object_name(name),
            alias.as_ref().map(|a| a.name.value.clone()),
        )),
        other => Err(SqlError::unsupported(format!(
            "{other} as the target of UPDATE or DELETE"
        ))),
    }
}

fn names(objs: &[ast::ObjectName]) -> Vec<String> {
    objs.iter().map(object_name).collect()
}

impl Binder<'_> {
    fn statement(&mut self, stmt: &ast::Statement) -> Result<Statement> {
        use ast::Statement as S;
        match stmt {
            S::Query(q) => Ok(Statement::Query(self.query(q)?.0)),
            S::Insert(ins) => self.insert(ins),
            S::Update(u) => self.update(u),
            S::Delete(d) => self.delete(d),
            S::CreateTable(ct) => self.create_table(ct),
            S::CreateIndex(ci) => self.create_index(ci),
            S::Drop {
                object_type,
                if_exists,
                names: objs,
                cascade,
                ..
            } => {
                if *cascade {
                    return Err(SqlError::unsupported("DROP ... CASCADE"));
                }
                match object_type {
                    ast::ObjectType::Table => Ok(Statement::DropTable {
                        names: names(objs),
                        if_exists: *if_exists,
                    }),
                    ast::ObjectType::Index => Ok(Statement::DropIndex {
                        names: names(objs),
                        if_exists: *if_exists,
                    }),
                    other => Err(SqlError::unsupported(format!("DROP {other}"))),
                }
            }
            S::AlterTable(at) => self.alter_table(at),
            S::StartTransaction { statements, .. } => {
                if !statements.is_empty() {
                    return Err(SqlError::unsupported("BEGIN ... END blocks"));
                }
                Ok(Statement::Begin)
            }
            S::Commit { chain: false, .. } => Ok(Statement::Commit),
            S::Rollback {
                chain: false,
                savepoint: None,
            } => Ok(Statement::Rollback),
            S::Rollback { .. } | S::Savepoint { .. } | S::ReleaseSavepoint { .. } => {
                Err(SqlError::unsupported("named savepoints"))
            }
            S::Explain {
                statement, analyze, ..
            } => {
                if *analyze {
                    return Err(SqlError::unsupported("EXPLAIN ANALYZE"));
                }
                let inner = self.statement(statement)?;
                Ok(Statement::Explain(Box::new(inner)))
            }
            S::Pragma { name, .. } => Ok(Statement::NoOp(format!("PRAGMA {name} ignored"))),
            S::CreateView(_) => Err(SqlError::unsupported("views (CREATE VIEW)")),
            S::CreateTrigger(_) => Err(SqlError::unsupported("triggers (CREATE TRIGGER)")),
            other => {
                let text = other.to_string();
                let first: String = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(SqlError::unsupported(format!("the statement {first}")))
            }
        }
    }

    fn table_scope(&mut self, table: &Arc<table_layer::TableDef>, alias: Option<String>) {
        let name = alias.unwrap_or_else(|| table.name().to_string());
        let frame = self.scopes.current();
        frame.columns = table
            .columns()
            .iter()
            .map(|c| ScopeColumn {
                table: Some(name.clone()),
                name: c.name.clone(),
                affinity: Affinity::of_type(c.data_type),
                data_type: Some(c.data_type),
                hidden: false,
            })
            .collect();
    }

    fn insert(&mut self, ins: &ast::Insert) -> Result<Statement> {
        if ins.or.is_some() || ins.ignore || ins.replace_into {
            return Err(SqlError::unsupported("INSERT OR REPLACE/IGNORE"));
        }
        if ins.on.is_some() || ins.returning.is_some() {
            return Err(SqlError::unsupported("INSERT ... ON CONFLICT / RETURNING"));
        }
        if !ins.assignments.is_empty() {
            return Err(SqlError::unsupported("INSERT ... SET"));
        }
        let ast::TableObject::TableName(tname) = &ins.table else {
            return Err(SqlError::unsupported("INSERT into a table function"));
        };
        let table = self.lookup_table(&object_name(tname), pos_of(tname))?;
        let columns: Vec<usize> = if ins.columns.is_empty() {
            (0..table.columns().len()).collect()
        } else {
            let mut cols = Vec::with_capacity(ins.columns.len());
            for c in &ins.columns {
                let name = object_name(c);
                let Some(i) = table.column_index(&name) else {
                    return Err(SqlError::UnknownColumn {
                        name: format!("{}.{name}", table.name()),
                        suggestion: crate::error::suggest(
                            &name,
                            table.columns().iter().map(|c| c.name.as_str()),
                        ),
                        position: pos_of(c),
                    });
                };
                if cols.contains(&i) {
                    return Err(SqlError::Name {
                        message: format!("column {name} is listed twice"),
                        position: pos_of(c),
                    });
                }
                cols.push(i);
            }
            cols
        };
        let Some(source) = &ins.source else {
            return Err(SqlError::unsupported("INSERT ... DEFAULT VALUES"));
        };
        let (plan, _) = self.query(source)?;
        if plan.columns.len() != columns.len() {
            return Err(SqlError::Name {
                message: format!(
                    "table {} has {} columns but {} values were supplied",
                    table.name(),
                    columns.len(),
                    plan.columns.len()
                ),
                position: None,
            });
        }
        let pk = table.primary_key_columns();
        let auto_pk = match pk {
            [c] if table.columns()[*c].data_type == DataType::Integer => Some(*c),
            _ => None,
        };
        Ok(Statement::Insert {
            table,
            columns,
            source: plan.root,
            auto_pk,
        })
    }

    fn update(&mut self, u: &ast::Update) -> Result<Statement> {
        if u.from.is_some()
            || u.returning.is_some()
            || u.or.is_some()
            || u.limit.is_some()
            || !u.order_by.is_empty()
        {
            return Err(SqlError::unsupported("UPDATE ... FROM/RETURNING/OR/LIMIT"));
        }
        let (name, alias) = single_table(&u.table)?;
        let table = self.lookup_table(&name, pos_of(&u.table.relation))?;
        self.table_scope(&table, alias.clone());
        let mut assignments = Vec::new();
        for a in &u.assignments {
            let ast::AssignmentTarget::ColumnName(col) = &a.target else {
                return Err(SqlError::unsupported("UPDATE SET (a, b) = ..."));
            };
            let cname = object_name(col);
            let Some(i) = table.column_index(&cname) else {
                return Err(SqlError::UnknownColumn {
                    name: format!("{}.{cname}", table.name()),
                    suggestion: crate::error::suggest(
                        &cname,
                        table.columns().iter().map(|c| c.name.as_str()),
                    ),
                    position: pos_of(col),
                });
            };
            let e = self.value_expr(&a.value)?;
            assignments.retain(|(c, _)| *c != i);
            assignments.push((i, e));
        }
        let scan = self.dml_scan(&table, alias, u.selection.as_ref())?;
        Ok(Statement::Update { scan, assignments })
    }

    fn dml_scan(
        &mut self,
        table: &Arc<table_layer::TableDef>,
        alias: Option<String>,
        selection: Option<&ast::Expr>,
    ) -> Result<super::plan::Scan> {
        let mut conjuncts = Vec::new();
        if let Some(w) = selection {
            self.value_expr(w)?.conjuncts(&mut conjuncts);
        }
        let alias = alias.unwrap_or_else(|| table.name().to_string());
        let choice = access::choose(
            table,
            &alias,
            conjuncts,
            &access::local_column,
            &Expr::is_scan_constant,
            None,
            None,
            self.table_rows(table.name()),
        );
        Ok(choice.scan)
    }

    fn delete(&mut self, d: &ast::Delete) -> Result<Statement> {
        if d.using.is_some()
            || d.returning.is_some()
            || d.limit.is_some()
            || !d.order_by.is_empty()
            || !d.tables.is_empty()
        {
            return Err(SqlError::unsupported("DELETE ... USING/RETURNING/LIMIT"));
        }
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
        };
        let [twj] = from.as_slice() else {
            return Err(SqlError::unsupported("DELETE from several tables"));
        };
        let (name, alias) = single_table(twj)?;
        let table = self.lookup_table(&name, pos_of(&twj.relation))?;
        self.table_scope(&table, alias.clone());
        let scan = self.dml_scan(&table, alias, d.selection.as_ref())?;
        Ok(Statement::Delete { scan })
    }

    fn column_def(
        &mut self,
        c: &ast::ColumnDef,
        table: &str,
        pk: &mut Vec<String>,
        unique: &mut Vec<IndexSpec>,
    ) -> Result<ColumnDef> {
        let ty = column_type(&c.data_type)
            .map_err(|e| e.at(crate::error::Position::from_span(c.name.span)))?;
        let mut def = ColumnDef::new(c.name.value.clone(), ty);
        for opt in &c.options {
            match &opt.option {
                ast::ColumnOption::Null => {}
                ast::ColumnOption::NotNull => def.nullable = false,
                ast::ColumnOption::Default(e) => {
                    let x = self.value_expr(e)?;
                    let v = const_eval(&x).ok_or_else(|| {
                        SqlError::unsupported("a DEFAULT that is not a constant").at(pos_of(e))
                    })?;
                    let v = crate::value::cast::coerce_for_column(v, ty).map_err(|m| {
                        SqlError::type_error(format!("default of column {}: {m}", c.name.value))
                    })?;
                    def.default = Some(v);
                }
                ast::ColumnOption::PrimaryKey(_) => {
                    if !pk.is_empty() {
                        return Err(SqlError::Name {
                            message: format!("table {table} has more than one primary key"),
                            position: None,
                        });
                    }
                    pk.push(c.name.value.clone());
                }
                ast::ColumnOption::Unique(_) => {
                    unique.push(
                        IndexSpec::new(format!("{table}_{}_unique", c.name.value), table)
                            .column(c.name.value.clone(), SortOrder::Asc)
                            .unique(),
                    );
                }
                ast::ColumnOption::Collation(n)
                    if object_name(n).eq_ignore_ascii_case("binary") => {}
                other => {
                    return Err(SqlError::unsupported(format!(
                        "the column constraint {other}"
                    )));
                }
            }
        }
        Ok(def)
    }

    fn create_table(&mut self, ct: &ast::CreateTable) -> Result<Statement> {
        if ct.query.is_some() || ct.like.is_some() || ct.clone.is_some() {
            return Err(SqlError::unsupported("CREATE TABLE ... AS / LIKE / CLONE"));
        }
        if ct.temporary {
            return Err(SqlError::unsupported("temporary tables"));
        }
        let name = object_name(&ct.name);
        let mut spec = TableSpec::new(name.clone());
        let mut pk = Vec::new();
        let mut unique = Vec::new();
        for c in &ct.columns {
            let def = self.column_def(c, &name, &mut pk, &mut unique)?;
            spec = spec.column(def);
        }
        for tc in &ct.constraints {
            match tc {
                ast::TableConstraint::PrimaryKey(p) => {
                    if !pk.is_empty() {
                        return Err(SqlError::Name {
                            message: format!("table {name} has more than one primary key"),
                            position: None,
                        });
                    }
                    for ic in &p.columns {
                        pk.push(index_column_name(ic)?);
                    }
                }
                ast::TableConstraint::Unique(u) => {
                    let mut spec_u =
                        IndexSpec::new(format!("{name}_unique_{}", unique.len() + 1), name.clone())
                            .unique();
                    for ic in &u.columns {
                        spec_u = spec_u.column(index_column_name(ic)?, SortOrder::Asc);
                    }
                    unique.push(spec_u);
                }
                other => {
                    return Err(SqlError::unsupported(format!(
                        "the table constraint {other}"
                    )));
                }
            }
        }
        // Primary-key columns are NOT NULL.
        for c in &mut spec.columns {
            if pk.iter().any(|p| p.eq_ignore_ascii_case(&c.name)) {
                c.nullable = false;
            }
        }
        spec = spec.primary_key(pk);
        Ok(Statement::CreateTable {
            spec,
            unique,
            if_not_exists: ct.if_not_exists,
        })
    }

    fn create_index(&mut self, ci: &ast::CreateIndex) -> Result<Statement> {
        let Some(name) = &ci.name else {
            return Err(SqlError::parse("CREATE INDEX needs a name"));
        };
        if ci.predicate.is_some() || !ci.include.is_empty() || ci.using.is_some() {
            return Err(SqlError::unsupported(
                "partial or covering indexes (WHERE/INCLUDE/USING)",
            ));
        }
        let table = object_name(&ci.table_name);
        let mut spec = IndexSpec::new(object_name(name), table);
        for c in &ci.columns {
            let order = match c.column.options.sort {
                Some(ast::OrderBySort::Desc) => SortOrder::Desc,
                _ => SortOrder::Asc,
            };
            spec = spec.column(index_column_name(c)?, order);
        }
        if ci.unique {
            spec = spec.unique();
        }
        Ok(Statement::CreateIndex {
            spec,
            if_not_exists: ci.if_not_exists,
        })
    }

    fn alter_table(&mut self, at: &ast::AlterTable) -> Result<Statement> {
        let [op] = at.operations.as_slice() else {
            return Err(SqlError::unsupported(
                "several ALTER TABLE operations at once",
            ));
        };
        let table = object_name(&at.name);
        match op {
            ast::AlterTableOperation::AddColumn {
                column_def,
                if_not_exists,
                ..
            } => {
                let mut pk = Vec::new();
                let mut unique = Vec::new();
                let column = self.column_def(column_def, &table, &mut pk, &mut unique)?;
                if !pk.is_empty() || !unique.is_empty() {
                    return Err(SqlError::unsupported(
                        "ADD COLUMN with PRIMARY KEY or UNIQUE",
                    ));
                }
                Ok(Statement::AddColumn {
                    table,
                    column,
                    if_not_exists: *if_not_exists,
                })
            }
            other => Err(SqlError::unsupported(format!("ALTER TABLE {other}"))),
        }
    }
}

fn index_column_name(ic: &ast::IndexColumn) -> Result<String> {
    match &ic.column.expr {
        ast::Expr::Identifier(i) => Ok(i.value.clone()),
        other => Err(
            SqlError::unsupported(format!("an index on the expression {other}")).at(pos_of(other)),
        ),
    }
}

/// Evaluate a constant expression without a transaction (literals and
/// simple arithmetic on them), for DEFAULT values.
pub fn const_eval(e: &Expr) -> Option<Value> {
    use crate::value::arith;
    match e {
        Expr::Literal(v) => Some(v.clone()),
        Expr::Negate(x) => Some(arith::negate(&const_eval(x)?)),
        Expr::Plus(x) => const_eval(x),
        Expr::Arith(op, a, b) => Some(arith::apply(*op, &const_eval(a)?, &const_eval(b)?)),
        Expr::Cast(x, t) => Some(crate::value::cast::cast(const_eval(x)?, *t)),
        _ => None,
    }
}
