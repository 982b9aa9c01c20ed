//! `.schema`, `.tables` and `.indexes`: the catalog shown as SQL.
//!
//! The catalog keeps definitions, not the text that created them, so
//! `.schema` writes the statements back from the definitions:
//!
//! ```text
//! CREATE TABLE users (
//!   id INTEGER NOT NULL,
//!   email TEXT NOT NULL,
//!   age INTEGER DEFAULT 0,
//!   PRIMARY KEY (id)
//! );
//! CREATE UNIQUE INDEX users_email_unique ON users (email);
//! ```
//!
//! The output is itself a script: run on an empty database it recreates
//! the same tables and indexes (a test checks the round trip). UNIQUE
//! column constraints come back as the unique indexes they created.
//! Identifiers are quoted when they are not plain words or are SQL
//! keywords.

use std::fmt::Write as _;

use sql_shell::Value;
use sql_shell::value::render::real_to_text;
use table_layer::{Catalog, IndexDef, PrimaryKey, SortOrder, TableDef};

/// SQLite's keywords: an identifier spelled like one is quoted.
const KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FALSE",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "TRUE",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// An identifier as SQL text: bare when it is a plain word, else quoted.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let keyword = KEYWORDS
        .binary_search(&name.to_ascii_uppercase().as_str())
        .is_ok();
    if plain && !keyword {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A constant as SQL text that reads back as the same value.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) if r.is_nan() => "NULL".into(),
        Value::Real(r) if r.is_infinite() => if *r > 0.0 { "9e999" } else { "-9e999" }.into(),
        Value::Real(r) => {
            // Shortest text that reads back exactly; SQLite's %.15g form
            // could round.
            let exact = format!("{r:?}");
            if exact.parse::<f64>().ok() == Some(*r) {
                exact
            } else {
                real_to_text(*r)
            }
        }
        Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Blob(b) => {
            let mut s = String::from("x'");
            for byte in b {
                let _ = write!(s, "{byte:02x}");
            }
            s.push('\'');
            s
        }
    }
}

/// `CREATE TABLE ...;` for a table.
pub fn create_table(t: &TableDef) -> String {
    let mut s = format!("CREATE TABLE {} (", ident(t.name()));
    let mut parts: Vec<String> = t
        .columns()
        .iter()
        .map(|c| {
            let mut p = format!("{} {}", ident(&c.name), c.data_type.name());
            if !c.nullable {
                p.push_str(" NOT NULL");
            }
            if let Some(d) = &c.default {
                let _ = write!(p, " DEFAULT {}", literal(d));
            }
            p
        })
        .collect();
    if let PrimaryKey::Columns(cols) = t.primary_key() {
        let names: Vec<String> = cols
            .iter()
            .filter_map(|&i| t.columns().get(i))
            .map(|c| ident(&c.name))
            .collect();
        parts.push(format!("PRIMARY KEY ({})", names.join(", ")));
    }
    for p in parts.iter() {
        let _ = write!(s, "\n  {p},");
    }
    s.pop();
    s.push_str("\n);");
    s
}

/// `CREATE [UNIQUE] INDEX ...;` for an index of `t`.
pub fn create_index(t: &TableDef, i: &IndexDef) -> String {
    format!(
        "CREATE {}INDEX {} ON {} ({});",
        if i.is_unique() { "UNIQUE " } else { "" },
        ident(i.name()),
        ident(t.name()),
        index_columns(t, i)
    )
}

/// The index's columns as in its CREATE INDEX (`a, b DESC`).
pub fn index_columns(t: &TableDef, i: &IndexDef) -> String {
    i.columns()
        .iter()
        .map(|c| {
            let name = t
                .columns()
                .get(c.column)
                .map_or_else(|| format!("#{}", c.column), |d| ident(&d.name));
            match c.order {
                SortOrder::Asc => name,
                SortOrder::Desc => format!("{name} DESC"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tables in name order (case-insensitive).
pub fn sorted_tables(catalog: &Catalog) -> Vec<&std::sync::Arc<TableDef>> {
    let mut tables: Vec<_> = catalog.tables().collect();
    tables.sort_by_key(|t| t.name().to_ascii_lowercase());
    tables
}

/// The `.schema` text: every table (or the named one) with its indexes.
pub fn schema(catalog: &Catalog, table: Option<&str>) -> Result<String, String> {
    let tables: Vec<&std::sync::Arc<TableDef>> = match table {
        Some(name) => vec![
            catalog
                .find_table(name)
                .ok_or_else(|| no_table(catalog, name))?,
        ],
        None => sorted_tables(catalog),
    };
    let mut out = String::new();
    for t in tables {
        out.push_str(&create_table(t));
        out.push('\n');
        for i in t.indexes() {
            out.push_str(&create_index(t, i));
            out.push('\n');
        }
    }
    Ok(out)
}

/// The "no such table" message, with a near miss when there is one.
pub fn no_table(catalog: &Catalog, name: &str) -> String {
    let names: Vec<&str> = catalog.tables().map(|t| t.name()).collect();
    match sql_shell::error::suggest(name, names) {
        Some(s) => format!("no such table: {name} (did you mean {s}?)"),
        None => format!("no such table: {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers_quote_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("_x1"), "_x1");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("two words"), "\"two words\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("naïve"), "\"naïve\"");
    }

    #[test]
    fn literals_read_back_exactly() {
        assert_eq!(literal(&Value::Text("it's".into())), "'it''s'");
        assert_eq!(literal(&Value::Real(0.1)), "0.1");
        assert_eq!(literal(&Value::Real(1e300)), "1e300");
        assert_eq!(literal(&Value::Real(-2.0)), "-2.0");
        assert_eq!(literal(&Value::Blob(vec![0, 255])), "x'00ff'");
        assert_eq!(literal(&Value::Boolean(true)), "TRUE");
    }
}
