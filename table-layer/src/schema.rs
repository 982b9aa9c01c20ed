//! Table and index definitions: what the caller asks for ([`TableSpec`],
//! [`IndexSpec`], [`ColumnDef`]) and what the catalog holds ([`TableDef`],
//! [`IndexDef`]).
//!
//! A spec names columns; a definition refers to them by position and carries
//! the stable ids the key layout uses. Names are matched ASCII
//! case-insensitively, as SQL identifiers are, and kept as first spelled.
//!
//! A table without a declared primary key gets a hidden auto-increment
//! *rowid* ([`PrimaryKey::Rowid`]), as in SQLite.

use crate::{DataType, Error, Result, Value};

/// Id of a table: a small integer, stable for the table's lifetime and never
/// reused while the table exists. It is the first component of all its keys.
pub type TableId = u32;
/// Id of an index: a small integer unique in the database, stable for the
/// index's lifetime.
pub type IndexId = u32;

/// Direction of an index column.
///
/// ```
/// assert_eq!(table_layer::SortOrder::default(), table_layer::SortOrder::Asc);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Ascending: NULLs first.
    #[default]
    Asc,
    /// Descending: NULLs last (the bytes of the ascending key, inverted).
    Desc,
}

/// One column of a table.
///
/// ```
/// use table_layer::{ColumnDef, DataType, Value};
/// let c = ColumnDef::new("age", DataType::Integer).not_null().default_value(Value::Integer(0));
/// assert!(!c.nullable);
/// assert_eq!(c.default, Some(Value::Integer(0)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Column type; every non-NULL value stored in it has this type.
    pub data_type: DataType,
    /// Whether NULL is allowed (primary-key columns never are).
    pub nullable: bool,
    /// The default value, a constant evaluated by the SQL layer. Rows written
    /// before an `ADD COLUMN` read it for the new column; `None` reads as NULL.
    pub default: Option<Value>,
}

impl ColumnDef {
    /// A nullable column without a default.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        ColumnDef {
            name: name.into(),
            data_type,
            nullable: true,
            default: None,
        }
    }

    /// Forbid NULL.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// Set the default value.
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }

    /// The value a row that predates this column reads: the default or NULL.
    ///
    /// ```
    /// use table_layer::{ColumnDef, DataType, Value};
    /// assert_eq!(ColumnDef::new("c", DataType::Text).default_or_null(), &Value::Null);
    /// ```
    pub fn default_or_null(&self) -> &Value {
        const NULL: &Value = &Value::Null;
        self.default.as_ref().unwrap_or(NULL)
    }
}

/// What `CREATE TABLE` asks for.
///
/// ```
/// use table_layer::{ColumnDef, DataType, TableSpec};
/// let spec = TableSpec::new("users")
///     .column(ColumnDef::new("id", DataType::Integer))
///     .column(ColumnDef::new("email", DataType::Text).not_null())
///     .primary_key(["id"]);
/// assert_eq!(spec.columns.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// Primary-key column names in key order; empty for a hidden rowid.
    pub primary_key: Vec<String>,
}

impl TableSpec {
    /// A spec with no columns yet.
    pub fn new(name: impl Into<String>) -> Self {
        TableSpec {
            name: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
        }
    }

    /// Append a column.
    pub fn column(mut self, c: ColumnDef) -> Self {
        self.columns.push(c);
        self
    }

    /// Declare the primary key (one or several columns, in key order).
    pub fn primary_key<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.primary_key = cols.into_iter().map(Into::into).collect();
        self
    }
}

/// What `CREATE [UNIQUE] INDEX` asks for.
///
/// ```
/// use table_layer::{IndexSpec, SortOrder};
/// let spec = IndexSpec::new("users_by_age_name", "users")
///     .column("age", SortOrder::Desc)
///     .column("name", SortOrder::Asc);
/// assert!(!spec.unique);
/// assert!(IndexSpec::new("u", "t").column("email", SortOrder::Asc).unique().unique);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IndexSpec {
    /// Index name (global across the database, as in SQLite).
    pub name: String,
    /// The table it indexes.
    pub table: String,
    /// Indexed column names with their order.
    pub columns: Vec<(String, SortOrder)>,
    /// Whether two rows may share the same non-NULL values.
    pub unique: bool,
}

impl IndexSpec {
    /// A non-unique spec with no columns yet.
    pub fn new(name: impl Into<String>, table: impl Into<String>) -> Self {
        IndexSpec {
            name: name.into(),
            table: table.into(),
            columns: Vec::new(),
            unique: false,
        }
    }

    /// Append an indexed column.
    pub fn column(mut self, name: impl Into<String>, order: SortOrder) -> Self {
        self.columns.push((name.into(), order));
        self
    }

    /// Make the index unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}

/// How a table's rows are keyed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrimaryKey {
    /// A hidden auto-increment 64-bit row id, returned by
    /// [`Transaction::insert`](crate::Transaction::insert).
    Rowid,
    /// The declared primary-key columns (positions in the table), in key order.
    Columns(Vec<usize>),
}

/// One column of an index: which table column, in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexColumn {
    /// Position of the column in the table.
    pub column: usize,
    /// Ascending or descending.
    pub order: SortOrder,
}

/// A secondary index as the catalog holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexDef {
    pub(crate) id: IndexId,
    pub(crate) name: String,
    pub(crate) table: TableId,
    pub(crate) columns: Vec<IndexColumn>,
    pub(crate) unique: bool,
}

impl IndexDef {
    /// The index's stable id.
    pub fn id(&self) -> IndexId {
        self.id
    }

    /// The index name as spelled at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of the indexed table.
    pub fn table_id(&self) -> TableId {
        self.table
    }

    /// The indexed columns in index order.
    pub fn columns(&self) -> &[IndexColumn] {
        &self.columns
    }

    /// True for a unique index.
    pub fn is_unique(&self) -> bool {
        self.unique
    }

    /// True when the index covers `column` (a position in the table).
    pub fn contains_column(&self, column: usize) -> bool {
        self.columns.iter().any(|c| c.column == column)
    }
}

/// A table as the catalog holds it: columns, primary key and indexes.
///
/// ```
/// use std::sync::Arc;
/// use table_layer::{ColumnDef, DataType, Database, PrimaryKey, TableSpec};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Text)))?;
/// let t = db.catalog().table("T")?; // names are case-insensitive
/// assert_eq!(t.name(), "t");
/// assert_eq!(t.primary_key(), &PrimaryKey::Rowid);
/// assert_eq!(t.column_index("A"), Some(0));
/// # Ok::<(), table_layer::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    pub(crate) id: TableId,
    pub(crate) name: String,
    pub(crate) columns: Vec<ColumnDef>,
    pub(crate) primary_key: PrimaryKey,
    pub(crate) indexes: Vec<IndexDef>,
    /// Row-format version: bumped by every `ADD COLUMN`.
    pub(crate) schema_version: u32,
    /// For each column, the schema version that added it.
    pub(crate) since: Vec<u32>,
    /// Bumped by every DDL on the table (columns or indexes); commits of
    /// transactions that wrote the table check it.
    pub(crate) generation: u64,
    /// Derived: the columns stored in the row value (all but the primary key),
    /// in column order.
    pub(crate) value_columns: Vec<usize>,
    /// Derived: the types of `value_columns`.
    pub(crate) value_types: Vec<DataType>,
}

impl TableDef {
    /// The table's stable id.
    pub fn id(&self) -> TableId {
        self.id
    }

    /// The table name as spelled at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns in order.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.columns
    }

    /// The primary key.
    pub fn primary_key(&self) -> &PrimaryKey {
        &self.primary_key
    }

    /// Positions of the primary-key columns, empty for a rowid table.
    pub fn primary_key_columns(&self) -> &[usize] {
        match &self.primary_key {
            PrimaryKey::Rowid => &[],
            PrimaryKey::Columns(c) => c,
        }
    }

    /// True when rows are keyed by a hidden rowid.
    pub fn has_rowid(&self) -> bool {
        self.primary_key == PrimaryKey::Rowid
    }

    /// The table's indexes, in creation order.
    pub fn indexes(&self) -> &[IndexDef] {
        &self.indexes
    }

    /// An index of this table by name (case-insensitive).
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    /// The position of a column by name (case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Like [`column_index`](Self::column_index), failing with
    /// [`Error::NoSuchColumn`].
    pub fn require_column(&self, name: &str) -> Result<usize> {
        self.column_index(name).ok_or_else(|| Error::NoSuchColumn {
            table: self.name.clone(),
            column: name.to_owned(),
        })
    }

    /// The row-format version (number of `ADD COLUMN`s so far).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// Names of the primary-key columns (`["rowid"]` for a rowid table).
    pub fn primary_key_names(&self) -> Vec<String> {
        match &self.primary_key {
            PrimaryKey::Rowid => vec!["rowid".to_owned()],
            PrimaryKey::Columns(c) => c.iter().map(|&i| self.columns[i].name.clone()).collect(),
        }
    }

    /// The primary key of a full row (as returned by a scan): the values of
    /// the key columns, or the rowid for a rowid table.
    ///
    /// ```
    /// use table_layer::{Row, Value};
    /// # use std::sync::Arc;
    /// # use table_layer::{ColumnDef, DataType, Database, TableSpec};
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let t = db.catalog().table("t")?;
    /// let row = Row { rowid: None, values: vec![Value::Integer(7), Value::Text("x".into())] };
    /// assert_eq!(t.primary_key_of(&row), vec![Value::Integer(7)]);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn primary_key_of(&self, row: &crate::Row) -> Vec<Value> {
        match &self.primary_key {
            PrimaryKey::Rowid => vec![Value::Integer(row.rowid.unwrap_or(0))],
            PrimaryKey::Columns(c) => c
                .iter()
                .map(|&i| row.values.get(i).cloned().unwrap_or(Value::Null))
                .collect(),
        }
    }

    /// Number of values in the primary key (1 for a rowid table).
    pub(crate) fn pk_len(&self) -> usize {
        match &self.primary_key {
            PrimaryKey::Rowid => 1,
            PrimaryKey::Columns(c) => c.len(),
        }
    }

    /// Recompute derived fields after a change.
    pub(crate) fn derive(&mut self) {
        let pk = self.primary_key_columns().to_vec();
        self.value_columns = (0..self.columns.len())
            .filter(|i| !pk.contains(i))
            .collect();
        self.value_types = self
            .value_columns
            .iter()
            .map(|&i| self.columns[i].data_type)
            .collect();
    }

    /// The types of the non-key columns a row written at schema `version`
    /// stores (a prefix of today's), or `None` for a future version.
    pub(crate) fn stored_types(&self, version: u32) -> Option<&[DataType]> {
        if version == self.schema_version {
            return Some(&self.value_types);
        }
        if version > self.schema_version {
            return None;
        }
        let n = self
            .value_columns
            .partition_point(|&c| self.since[c] <= version);
        Some(&self.value_types[..n])
    }

    /// Build a definition from a spec, checking it.
    pub(crate) fn from_spec(id: TableId, spec: &TableSpec) -> Result<TableDef> {
        let bad = |detail: String| Error::InvalidSchema {
            object: format!("table {}", spec.name),
            detail,
        };
        if spec.name.is_empty() {
            return Err(bad("the table name is empty".into()));
        }
        if spec.columns.is_empty() {
            return Err(bad("a table needs at least one column".into()));
        }
        let mut columns = spec.columns.clone();
        for (i, c) in columns.iter().enumerate() {
            if c.name.is_empty() {
                return Err(bad(format!("column {} has an empty name", i + 1)));
            }
            if columns[..i]
                .iter()
                .any(|d| d.name.eq_ignore_ascii_case(&c.name))
            {
                return Err(Error::ColumnExists {
                    table: spec.name.clone(),
                    column: c.name.clone(),
                });
            }
            check_default(&spec.name, c)?;
        }
        let mut pk = Vec::new();
        for name in &spec.primary_key {
            let i = columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| Error::NoSuchColumn {
                    table: spec.name.clone(),
                    column: name.clone(),
                })?;
            if pk.contains(&i) {
                return Err(bad(format!(
                    "column {name} appears twice in the primary key"
                )));
            }
            pk.push(i);
        }
        for &i in &pk {
            columns[i].nullable = false;
        }
        let since = vec![0; columns.len()];
        let mut def = TableDef {
            id,
            name: spec.name.clone(),
            columns,
            primary_key: if pk.is_empty() {
                PrimaryKey::Rowid
            } else {
                PrimaryKey::Columns(pk)
            },
            indexes: Vec::new(),
            schema_version: 0,
            since,
            generation: 0,
            value_columns: Vec::new(),
            value_types: Vec::new(),
        };
        def.derive();
        Ok(def)
    }

    /// Build an index definition for this table from a spec, checking it.
    pub(crate) fn index_from_spec(&self, id: IndexId, spec: &IndexSpec) -> Result<IndexDef> {
        if spec.name.is_empty() {
            return Err(Error::InvalidSchema {
                object: format!("an index on {}", self.name),
                detail: "the index name is empty".into(),
            });
        }
        if spec.columns.is_empty() {
            return Err(Error::InvalidSchema {
                object: format!("index {}", spec.name),
                detail: "an index needs at least one column".into(),
            });
        }
        let mut columns = Vec::with_capacity(spec.columns.len());
        for (name, order) in &spec.columns {
            let column = self.require_column(name)?;
            if columns.iter().any(|c: &IndexColumn| c.column == column) {
                return Err(Error::InvalidSchema {
                    object: format!("index {}", spec.name),
                    detail: format!("column {name} appears twice"),
                });
            }
            columns.push(IndexColumn {
                column,
                order: *order,
            });
        }
        Ok(IndexDef {
            id,
            name: spec.name.clone(),
            table: self.id,
            columns,
            unique: spec.unique,
        })
    }
}

/// Check that a column's default fits its type and nullability.
pub(crate) fn check_default(table: &str, c: &ColumnDef) -> Result<()> {
    if let Some(d) = &c.default {
        if !d.fits(c.data_type) {
            return Err(Error::InvalidSchema {
                object: format!("table {table}"),
                detail: format!(
                    "the default {} of column {} is not of its type {}",
                    d.to_sql_literal(),
                    c.name,
                    c.data_type
                ),
            });
        }
        if d.is_null() && !c.nullable {
            return Err(Error::InvalidSchema {
                object: format!("table {table}"),
                detail: format!("column {} is NOT NULL but its default is NULL", c.name),
            });
        }
    }
    Ok(())
}
