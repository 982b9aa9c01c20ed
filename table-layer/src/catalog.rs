//! The catalog: every table and index definition, held in memory and stored
//! in the system key space.
//!
//! ```text
//!  00 01        -> StoredMeta  { format_version, next_table_id, next_index_id }
//!  00 02 <tid>  -> StoredTable { name, columns, primary key, indexes, versions }
//! ```
//!
//! Values are postcard-encoded private structs (not the public types), so the
//! public API can evolve without changing the stored format; a change of the
//! stored structs bumps [`FORMAT_VERSION`]. A [`Catalog`] is immutable once
//! published: the database holds the latest committed one in an `Arc`, each
//! transaction reads the one current at its start, and DDL in a transaction
//! edits a private copy that replaces the shared one at commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::schema::{IndexColumn, PrimaryKey};
use crate::{
    ColumnDef, DataType, Error, IndexDef, IndexId, Result, SortOrder, TableDef, TableId, Value,
};

/// Version of the stored catalog and key/row formats. Opening a store with
/// another version fails with a clear error instead of misreading it.
pub const FORMAT_VERSION: u32 = 1;

/// All table and index definitions at one point in time.
///
/// ```
/// use std::sync::Arc;
/// use table_layer::{ColumnDef, DataType, Database, IndexSpec, SortOrder, TableSpec};
/// let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
/// db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer)))?;
/// db.create_index(IndexSpec::new("t_a", "t").column("a", SortOrder::Asc), &mut |_| {})?;
/// let cat = db.catalog();
/// assert_eq!(cat.tables().map(|t| t.name().to_owned()).collect::<Vec<_>>(), ["t"]);
/// let (table, index) = cat.index("T_A")?;
/// assert_eq!((table.name(), index.name()), ("t", "t_a"));
/// # Ok::<(), table_layer::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    tables: BTreeMap<TableId, Arc<TableDef>>,
    by_name: HashMap<String, TableId>,
    index_by_name: HashMap<String, (TableId, IndexId)>,
    pub(crate) next_table_id: TableId,
    pub(crate) next_index_id: IndexId,
    /// Bumped by every committed DDL transaction.
    pub(crate) generation: u64,
}

fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Look a name up in a map keyed by folded names, without allocating when
/// the name is already lower case (the common case on hot paths).
fn lookup<'m, V>(map: &'m HashMap<String, V>, name: &str) -> Option<&'m V> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        map.get(&fold(name))
    } else {
        map.get(name)
    }
}

impl Catalog {
    pub(crate) fn empty() -> Catalog {
        Catalog {
            next_table_id: 1,
            next_index_id: 1,
            ..Catalog::default()
        }
    }

    /// Every table, in id (creation) order.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableDef>> {
        self.tables.values()
    }

    /// A table by name (ASCII case-insensitive).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let cat = db.catalog();
    /// assert_eq!(cat.table("T")?.name(), "t");
    /// assert!(matches!(cat.table("nope"), Err(Error::NoSuchTable { .. })));
    /// assert!(cat.has_table("t") && cat.find_table("t").is_some());
    /// let id = cat.table("t")?.id();
    /// assert_eq!(cat.table_by_id(id).map(|t| t.name()), Some("t"));
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn table(&self, name: &str) -> Result<Arc<TableDef>> {
        self.find_table(name)
            .cloned()
            .ok_or_else(|| Error::NoSuchTable {
                table: name.to_owned(),
            })
    }

    /// A table by name, without cloning the `Arc`.
    pub fn find_table(&self, name: &str) -> Option<&Arc<TableDef>> {
        let id = lookup(&self.by_name, name)?;
        self.tables.get(id)
    }

    /// A table by id.
    pub fn table_by_id(&self, id: TableId) -> Option<&Arc<TableDef>> {
        self.tables.get(&id)
    }

    /// True when a table of that name exists.
    pub fn has_table(&self, name: &str) -> bool {
        lookup(&self.by_name, name).is_some()
    }

    /// An index by name (index names are global, ASCII case-insensitive),
    /// with its table.
    pub fn index(&self, name: &str) -> Result<(Arc<TableDef>, &IndexDef)> {
        let no = || Error::NoSuchIndex {
            index: name.to_owned(),
        };
        let (tid, iid) = lookup(&self.index_by_name, name).ok_or_else(no)?;
        let t = self.tables.get(tid).ok_or_else(no)?;
        let i = t.indexes.iter().find(|i| i.id == *iid).ok_or_else(no)?;
        Ok((Arc::clone(t), i))
    }

    /// True when an index of that name exists.
    pub fn has_index(&self, name: &str) -> bool {
        lookup(&self.index_by_name, name).is_some()
    }

    /// A counter bumped by every committed DDL transaction: a cheap way for
    /// the SQL layer to invalidate cached plans.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use table_layer::*;
    /// # let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    /// # db.create_table(TableSpec::new("t").column(ColumnDef::new("a", DataType::Integer))
    /// #     .column(ColumnDef::new("b", DataType::Text)).primary_key(["a"]))?;
    /// let before = db.catalog().generation();
    /// db.add_column("t", ColumnDef::new("c", DataType::Integer))?;
    /// assert_eq!(db.catalog().generation(), before + 1);
    /// # Ok::<(), table_layer::Error>(())
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Insert or replace a table definition.
    pub(crate) fn put_table(&mut self, t: TableDef) {
        if let Some(old) = self.tables.get(&t.id) {
            for i in &old.indexes {
                self.index_by_name.remove(&fold(&i.name));
            }
            self.by_name.remove(&fold(&old.name));
        }
        for i in &t.indexes {
            self.index_by_name.insert(fold(&i.name), (t.id, i.id));
        }
        self.by_name.insert(fold(&t.name), t.id);
        self.tables.insert(t.id, Arc::new(t));
    }

    /// Remove a table and its indexes.
    pub(crate) fn remove_table(&mut self, id: TableId) {
        if let Some(old) = self.tables.remove(&id) {
            for i in &old.indexes {
                self.index_by_name.remove(&fold(&i.name));
            }
            self.by_name.remove(&fold(&old.name));
        }
    }

    pub(crate) fn meta_bytes(&self) -> Result<Vec<u8>> {
        encode(&StoredMeta {
            format_version: FORMAT_VERSION,
            next_table_id: self.next_table_id,
            next_index_id: self.next_index_id,
        })
    }

    /// Rebuild a catalog from its stored meta and table entries.
    pub(crate) fn load(
        meta: &[u8],
        tables: impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<Catalog> {
        let meta: StoredMeta = postcard::from_bytes(meta)
            .map_err(|e| Error::corrupt("catalog meta", e.to_string()))?;
        if meta.format_version != FORMAT_VERSION {
            return Err(Error::corrupt(
                "catalog meta",
                format!(
                    "format version {} is not the supported version {FORMAT_VERSION}; open it with a matching version of this software",
                    meta.format_version
                ),
            ));
        }
        let mut cat = Catalog {
            next_table_id: meta.next_table_id,
            next_index_id: meta.next_index_id,
            ..Catalog::default()
        };
        for entry in tables {
            let (key, value) = entry?;
            let t = decode_table(&value).map_err(|d| {
                Error::corrupt(format!("catalog entry {}", kv_api::display_key(&key)), d)
            })?;
            if t.id >= cat.next_table_id
                || t.indexes.iter().any(|i| i.id >= cat.next_index_id)
                || cat.has_table(&t.name)
                || t.indexes.iter().any(|i| cat.has_index(&i.name))
            {
                return Err(Error::corrupt(
                    format!("catalog entry of table {}", t.name),
                    "ids or names clash with the rest of the catalog",
                ));
            }
            cat.put_table(t);
        }
        Ok(cat)
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(v)
        .map_err(|e| Error::invalid(format!("cannot encode catalog entry: {e}")))
}

#[derive(Serialize, Deserialize)]
struct StoredMeta {
    format_version: u32,
    next_table_id: u32,
    next_index_id: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredTable {
    id: u32,
    name: String,
    columns: Vec<StoredColumn>,
    /// Column positions of the primary key; empty for a rowid table.
    primary_key: Vec<u32>,
    indexes: Vec<StoredIndex>,
    schema_version: u32,
    generation: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredColumn {
    name: String,
    data_type: StoredType,
    nullable: bool,
    default: Option<StoredValue>,
    since: u32,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
enum StoredType {
    Integer,
    Real,
    Text,
    Blob,
    Boolean,
}

#[derive(Serialize, Deserialize)]
enum StoredValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Boolean(bool),
}

#[derive(Serialize, Deserialize)]
struct StoredIndex {
    id: u32,
    name: String,
    /// (column position, descending)
    columns: Vec<(u32, bool)>,
    unique: bool,
}

impl From<DataType> for StoredType {
    fn from(t: DataType) -> Self {
        match t {
            DataType::Integer => StoredType::Integer,
            DataType::Real => StoredType::Real,
            DataType::Text => StoredType::Text,
            DataType::Blob => StoredType::Blob,
            DataType::Boolean => StoredType::Boolean,
        }
    }
}

impl From<StoredType> for DataType {
    fn from(t: StoredType) -> Self {
        match t {
            StoredType::Integer => DataType::Integer,
            StoredType::Real => DataType::Real,
            StoredType::Text => DataType::Text,
            StoredType::Blob => DataType::Blob,
            StoredType::Boolean => DataType::Boolean,
        }
    }
}

impl From<&Value> for StoredValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => StoredValue::Null,
            Value::Integer(i) => StoredValue::Integer(*i),
            Value::Real(r) => StoredValue::Real(*r),
            Value::Text(s) => StoredValue::Text(s.clone()),
            Value::Blob(b) => StoredValue::Blob(b.clone()),
            Value::Boolean(b) => StoredValue::Boolean(*b),
        }
    }
}

impl From<StoredValue> for Value {
    fn from(v: StoredValue) -> Self {
        match v {
            StoredValue::Null => Value::Null,
            StoredValue::Integer(i) => Value::Integer(i),
            StoredValue::Real(r) => Value::Real(r),
            StoredValue::Text(s) => Value::Text(s),
            StoredValue::Blob(b) => Value::Blob(b),
            StoredValue::Boolean(b) => Value::Boolean(b),
        }
    }
}

/// The stored bytes of a table definition.
pub(crate) fn encode_table(t: &TableDef) -> Result<Vec<u8>> {
    let stored = StoredTable {
        id: t.id,
        name: t.name.clone(),
        columns: t
            .columns
            .iter()
            .zip(&t.since)
            .map(|(c, &since)| StoredColumn {
                name: c.name.clone(),
                data_type: c.data_type.into(),
                nullable: c.nullable,
                default: c.default.as_ref().map(StoredValue::from),
                since,
            })
            .collect(),
        primary_key: t.primary_key_columns().iter().map(|&c| c as u32).collect(),
        indexes: t
            .indexes
            .iter()
            .map(|i| StoredIndex {
                id: i.id,
                name: i.name.clone(),
                columns: i
                    .columns
                    .iter()
                    .map(|c| (c.column as u32, c.order == SortOrder::Desc))
                    .collect(),
                unique: i.unique,
            })
            .collect(),
        schema_version: t.schema_version,
        generation: t.generation,
    };
    encode(&stored)
}

/// Decode and check a stored table definition (a damaged entry is an error,
/// never a panic later on an out-of-range column position).
fn decode_table(bytes: &[u8]) -> std::result::Result<TableDef, String> {
    let s: StoredTable = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
    let n = s.columns.len();
    if n == 0 {
        return Err("table has no columns".into());
    }
    let in_range = |c: u32| (c as usize) < n;
    if !s.primary_key.iter().all(|&c| in_range(c)) {
        return Err("primary key names a column out of range".into());
    }
    if (1..s.primary_key.len()).any(|i| s.primary_key[..i].contains(&s.primary_key[i])) {
        return Err("primary key names a column twice".into());
    }
    let mut since = Vec::with_capacity(n);
    let mut columns = Vec::with_capacity(n);
    for c in s.columns {
        if c.since > s.schema_version || since.last().is_some_and(|&p| p > c.since) {
            return Err(format!("column {} has a bad schema version", c.name));
        }
        since.push(c.since);
        columns.push(ColumnDef {
            name: c.name,
            data_type: c.data_type.into(),
            nullable: c.nullable,
            default: c.default.map(Value::from),
        });
    }
    let mut indexes = Vec::with_capacity(s.indexes.len());
    for i in s.indexes {
        if i.columns.is_empty() || !i.columns.iter().all(|&(c, _)| in_range(c)) {
            return Err(format!("index {} names a column out of range", i.name));
        }
        indexes.push(IndexDef {
            id: i.id,
            name: i.name,
            table: s.id,
            columns: i
                .columns
                .iter()
                .map(|&(c, desc)| IndexColumn {
                    column: c as usize,
                    order: if desc {
                        SortOrder::Desc
                    } else {
                        SortOrder::Asc
                    },
                })
                .collect(),
            unique: i.unique,
        });
    }
    let pk: Vec<usize> = s.primary_key.iter().map(|&c| c as usize).collect();
    let mut t = TableDef {
        id: s.id,
        name: s.name,
        columns,
        primary_key: if pk.is_empty() {
            PrimaryKey::Rowid
        } else {
            PrimaryKey::Columns(pk)
        },
        indexes,
        schema_version: s.schema_version,
        since,
        generation: s.generation,
        value_columns: Vec::new(),
        value_types: Vec::new(),
    };
    t.derive();
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IndexSpec, TableSpec};

    fn sample() -> TableDef {
        let spec = TableSpec::new("users")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("email", DataType::Text).not_null())
            .column(ColumnDef::new("score", DataType::Real).default_value(1.5))
            .primary_key(["id"]);
        let mut t = TableDef::from_spec(3, &spec).unwrap();
        let i = t
            .index_from_spec(
                4,
                &IndexSpec::new("users_email", "users")
                    .column("email", SortOrder::Desc)
                    .unique(),
            )
            .unwrap();
        t.indexes.push(i);
        t
    }

    /// Golden bytes of a stored table definition: a change here is a format
    /// change and must bump FORMAT_VERSION.
    #[test]
    fn golden_table_entry() {
        let bytes = encode_table(&sample()).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "03057573657273030269640000000005656d61696c020000000573636f\
             726501010102000000000000f83f00010001040b75736572735f656d61696c\
             010101010000"
        );
        let back = decode_table(&bytes).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn damaged_entries_are_errors() {
        let bytes = encode_table(&sample()).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_table(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // An index pointing past the last column.
        let mut t = sample();
        t.indexes[0].columns[0].column = 9;
        assert!(decode_table(&encode_table(&t).unwrap()).is_err());
    }

    proptest::proptest! {
        /// A damaged catalog entry is an error or a consistent definition,
        /// never a panic (here or later, on a column position out of range).
        #[test]
        fn damaged_bytes_never_panic(
            flips in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 0..6),
            cut in 0usize..200,
        ) {
            let mut bytes = encode_table(&sample()).unwrap();
            for (i, b) in flips {
                let n = bytes.len();
                bytes[i % n] ^= b;
            }
            bytes.truncate(cut.max(1));
            if let Ok(t) = decode_table(&bytes) {
                let n = t.columns.len();
                proptest::prop_assert!(t.primary_key_columns().iter().all(|&c| c < n));
                proptest::prop_assert!(t.indexes.iter().all(|i| i.columns.iter().all(|c| c.column < n)));
                proptest::prop_assert_eq!(t.value_columns.len() + t.primary_key_columns().len(), n);
            }
        }
    }

    #[test]
    fn other_format_versions_are_refused() {
        let meta = encode(&StoredMeta {
            format_version: 99,
            next_table_id: 1,
            next_index_id: 1,
        })
        .unwrap();
        let err = Catalog::load(&meta, std::iter::empty()).unwrap_err();
        assert!(err.to_string().contains("format version 99"), "{err}");
    }
}
