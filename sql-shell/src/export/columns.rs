//! Column descriptions and their Arrow schema.
//!
//! ```text
//!   table-layer type    Arrow type   Parquet physical / logical
//!   INTEGER             Int64        INT64
//!   REAL                Float64      DOUBLE
//!   TEXT                Utf8         BYTE_ARRAY / STRING
//!   BLOB                Binary       BYTE_ARRAY
//!   BOOLEAN             Boolean      BOOLEAN
//! ```
//!
//! A table's columns carry their type and nullability. A query's output
//! columns may not have a declared type (an expression such as `a * 2` is
//! INTEGER or REAL row by row under SQLite's rules): such columns are
//! described with `data_type: None` and their type is inferred from the
//! first batch of rows ([`infer_type`]); their nullability is whatever the
//! caller proves (an expression is nullable unless the caller knows better).

use std::sync::Arc;

use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef};
use table_layer::{DataType, TableDef, Value};

use super::error::{ExportError, Result};

/// One column to export.
///
/// ```
/// use sql_shell::export::ColumnSpec;
/// use table_layer::DataType;
/// let c = ColumnSpec::new("id", DataType::Integer).not_null();
/// assert!(!c.nullable);
/// assert_eq!(ColumnSpec::untyped("a + 1").data_type, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column's name in the file.
    pub name: String,
    /// Its type; `None` to infer it from the first batch of rows.
    pub data_type: Option<DataType>,
    /// Whether it may hold NULL.
    pub nullable: bool,
}

impl ColumnSpec {
    /// A nullable column of a known type.
    pub fn new(name: impl Into<String>, data_type: DataType) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            data_type: Some(data_type),
            nullable: true,
        }
    }

    /// A nullable column whose type is inferred from the rows.
    pub fn untyped(name: impl Into<String>) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            data_type: None,
            nullable: true,
        }
    }

    /// Declare the column NOT NULL.
    pub fn not_null(mut self) -> ColumnSpec {
        self.nullable = false;
        self
    }

    /// The columns of a table, with their declared types and nullability.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use table_layer::{ColumnDef, DataType, Database, TableSpec};
    /// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    ///     .primary_key(["a"]))?;
    /// let cols = sql_shell::export::ColumnSpec::from_table(&*db.catalog().table("t")?);
    /// assert!(!cols[0].nullable); // primary-key columns are NOT NULL
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn from_table(table: &TableDef) -> Vec<ColumnSpec> {
        table
            .columns()
            .iter()
            .map(|c| ColumnSpec {
                name: c.name.clone(),
                data_type: Some(c.data_type),
                nullable: c.nullable,
            })
            .collect()
    }
}

/// The Arrow type of a column type.
///
/// ```
/// use arrow_schema::DataType as A;
/// use table_layer::DataType;
/// assert_eq!(sql_shell::export::arrow_type(DataType::Text), A::Utf8);
/// ```
pub fn arrow_type(t: DataType) -> ArrowType {
    match t {
        DataType::Integer => ArrowType::Int64,
        DataType::Real => ArrowType::Float64,
        DataType::Text => ArrowType::Utf8,
        DataType::Blob => ArrowType::Binary,
        DataType::Boolean => ArrowType::Boolean,
    }
}

/// A column whose type is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    /// True when the type was inferred rather than declared (changes the
    /// advice in error messages).
    pub inferred: bool,
}

/// The Arrow schema of settled columns.
pub(crate) fn schema_of(columns: &[Resolved]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.data_type), c.nullable))
            .collect::<Vec<_>>(),
    ))
}

/// Infer the type of an untyped column from sample values (the first
/// batch), following how the values would be stored:
///
/// - only INTEGER (and BOOLEAN, which SQL treats as 0/1) values: INTEGER;
///   only BOOLEAN values: BOOLEAN;
/// - INTEGER and REAL values mixed: REAL (integers convert exactly up to 2^53);
/// - only TEXT: TEXT; only BLOB: BLOB;
/// - no value but NULL in the sample: TEXT (the most general; a later
///   non-text value is then an error asking for a CAST);
/// - TEXT or BLOB mixed with anything else: an error asking for a CAST,
///   rather than silently turning numbers into text.
pub(crate) fn infer_type<'a>(
    column: &str,
    sample: impl Iterator<Item = &'a Value>,
) -> Result<DataType> {
    let (mut int, mut real, mut text, mut blob, mut boolean) = (false, false, false, false, false);
    for v in sample {
        match v {
            Value::Null => {}
            Value::Integer(_) => int = true,
            Value::Real(_) => real = true,
            Value::Text(_) => text = true,
            Value::Blob(_) => blob = true,
            Value::Boolean(_) => boolean = true,
        }
    }
    let numeric = int || real || boolean;
    let kinds = usize::from(numeric) + usize::from(text) + usize::from(blob);
    if kinds > 1 {
        let mut found = Vec::new();
        if numeric {
            found.push("numbers");
        }
        if text {
            found.push("TEXT");
        }
        if blob {
            found.push("BLOB");
        }
        return Err(ExportError::schema(format!(
            "column {column} mixes {} values; CAST it to one type to export it",
            found.join(" and ")
        )));
    }
    Ok(if real {
        DataType::Real
    } else if int {
        DataType::Integer
    } else if boolean {
        DataType::Boolean
    } else if blob {
        DataType::Blob
    } else {
        DataType::Text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(vals: &[Value]) -> Result<DataType> {
        infer_type("c", vals.iter())
    }

    #[test]
    fn inference_follows_documented_rules() {
        assert_eq!(
            infer(&[Value::Integer(1), Value::Null]).unwrap(),
            DataType::Integer
        );
        assert_eq!(
            infer(&[Value::Integer(1), Value::Real(2.5)]).unwrap(),
            DataType::Real
        );
        assert_eq!(infer(&[Value::Boolean(true)]).unwrap(), DataType::Boolean);
        assert_eq!(
            infer(&[Value::Boolean(true), Value::Integer(3)]).unwrap(),
            DataType::Integer
        );
        assert_eq!(infer(&[Value::Null, Value::Null]).unwrap(), DataType::Text);
        assert_eq!(infer(&[]).unwrap(), DataType::Text);
        assert_eq!(infer(&[Value::Blob(vec![1])]).unwrap(), DataType::Blob);
        let e = infer(&[Value::Integer(1), Value::Text("x".into())]).unwrap_err();
        assert!(e.to_string().contains("mixes numbers and TEXT"), "{e}");
    }

    #[test]
    fn schema_maps_every_type() {
        let cols: Vec<Resolved> = [
            DataType::Integer,
            DataType::Real,
            DataType::Text,
            DataType::Blob,
            DataType::Boolean,
        ]
        .iter()
        .enumerate()
        .map(|(i, &t)| Resolved {
            name: format!("c{i}"),
            data_type: t,
            nullable: i % 2 == 0,
            inferred: false,
        })
        .collect();
        let s = schema_of(&cols);
        let types: Vec<_> = s.fields().iter().map(|f| f.data_type().clone()).collect();
        assert_eq!(
            types,
            [
                ArrowType::Int64,
                ArrowType::Float64,
                ArrowType::Utf8,
                ArrowType::Binary,
                ArrowType::Boolean
            ]
        );
        assert!(s.field(0).is_nullable());
        assert!(!s.field(1).is_nullable());
    }
}
