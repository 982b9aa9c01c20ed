//! Rows and index entries of one table, to and from key/value bytes.
//!
//! This is where a [`TableDef`] meets the codecs: which values go into the
//! row key (the primary key, or the rowid), which into the row value (all
//! other columns), and how an index entry is formed from a row.
//!
//! ```text
//!  row          <tid> 01 <pk...>                   -> version bitmap fields...
//!  index        <tid> 02 <iid> <cols...> <pk...>   -> (empty)
//!  unique index <tid> 02 <iid> <cols...>           -> <pk...>
//!               (with a NULL among the columns: the non-unique form, so
//!                any number of rows may hold NULL there)
//! ```

use kv_api::Limits;

use crate::codec::key::{decode_value, encode_value};
use crate::codec::row::{decode_fields, encode_fields};
use crate::keys::{push_index_prefix, push_rows_prefix};
use crate::schema::PrimaryKey;
use crate::{Error, IndexDef, Result, Row, SortOrder, TableDef, Value};

/// Check a full row against the table: arity, types and nullability.
pub(crate) fn check_row(t: &TableDef, row: &[Value]) -> Result<()> {
    if row.len() != t.columns.len() {
        return Err(Error::WrongArity {
            table: t.name.clone(),
            what: "row",
            expected: t.columns.len(),
            got: row.len(),
        });
    }
    for (c, v) in t.columns.iter().zip(row) {
        if v.is_null() {
            if !c.nullable {
                return Err(Error::NotNullViolation {
                    table: t.name.clone(),
                    column: c.name.clone(),
                });
            }
        } else if !v.fits(c.data_type) {
            return Err(Error::TypeMismatch {
                table: t.name.clone(),
                column: c.name.clone(),
                expected: c.data_type,
                value: v.clone(),
            });
        }
    }
    Ok(())
}

/// Check a primary key given by the caller: arity and types.
pub(crate) fn check_pk(t: &TableDef, pk: &[Value]) -> Result<()> {
    if pk.len() != t.pk_len() {
        return Err(Error::WrongArity {
            table: t.name.clone(),
            what: "primary key",
            expected: t.pk_len(),
            got: pk.len(),
        });
    }
    match &t.primary_key {
        PrimaryKey::Rowid => {
            if !matches!(pk[0], Value::Integer(_)) {
                return Err(Error::TypeMismatch {
                    table: t.name.clone(),
                    column: "rowid".into(),
                    expected: crate::DataType::Integer,
                    value: pk[0].clone(),
                });
            }
        }
        PrimaryKey::Columns(cols) => {
            for (&c, v) in cols.iter().zip(pk) {
                let col = &t.columns[c];
                if v.is_null() || !v.fits(col.data_type) {
                    return Err(Error::TypeMismatch {
                        table: t.name.clone(),
                        column: col.name.clone(),
                        expected: col.data_type,
                        value: v.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Append the row key of `pk` to `out` (cleared first).
pub(crate) fn row_key<'a>(out: &mut Vec<u8>, t: &TableDef, pk: impl Iterator<Item = &'a Value>) {
    out.clear();
    push_rows_prefix(out, t.id);
    for v in pk {
        encode_value(out, v, SortOrder::Asc);
    }
}

/// Append the row value of a full row to `out` (cleared first).
pub(crate) fn row_value(out: &mut Vec<u8>, t: &TableDef, row: &[Value]) {
    out.clear();
    encode_fields(
        out,
        t.schema_version,
        &t.value_types,
        t.value_columns.iter().map(|&c| &row[c]),
    );
}

/// Decode a row from its key (after the rows prefix) and value.
pub(crate) fn decode_row(t: &TableDef, mut key_rest: &[u8], value: &[u8]) -> Result<Row> {
    let n = t.columns.len();
    // One allocation: the stored non-key columns are decoded straight into
    // the row, then the key columns are inserted at their positions.
    let mut values = Vec::with_capacity(n);
    decode_fields(value, |v| t.stored_types(v), &mut values).map_err(|e| at(t, e))?;
    let stored = values.len();
    for &c in &t.value_columns[stored..] {
        values.push(t.columns[c].default_or_null().clone());
    }
    let rowid = match &t.primary_key {
        PrimaryKey::Rowid => {
            match decode_value(&mut key_rest, SortOrder::Asc).map_err(|e| at(t, e))? {
                Value::Integer(i) => Some(i),
                _ => {
                    return Err(Error::corrupt(
                        format!("table {}", t.name),
                        "rowid is not an integer",
                    ));
                }
            }
        }
        PrimaryKey::Columns(pk) if pk.len() == 1 => {
            let v = decode_value(&mut key_rest, SortOrder::Asc).map_err(|e| at(t, e))?;
            values.insert(pk[0], v);
            None
        }
        PrimaryKey::Columns(pk) => {
            let mut keyed: Vec<(usize, Value)> = Vec::with_capacity(pk.len());
            for &c in pk {
                keyed.push((
                    c,
                    decode_value(&mut key_rest, SortOrder::Asc).map_err(|e| at(t, e))?,
                ));
            }
            // Inserting in ascending position order puts each at its place.
            keyed.sort_unstable_by_key(|(c, _)| *c);
            for (c, v) in keyed {
                values.insert(c, v);
            }
            None
        }
    };
    if !key_rest.is_empty() {
        return Err(Error::corrupt(
            format!("table {}", t.name),
            "trailing bytes after the primary key",
        ));
    }
    Ok(Row { rowid, values })
}

/// The encoded primary key of an index entry (the key bytes after the
/// indexed values, or the value of a unique entry), without decoding it.
pub(crate) fn index_entry_pk<'a>(
    idx: &IndexDef,
    mut key_rest: &'a [u8],
    value: &'a [u8],
) -> Result<&'a [u8]> {
    for c in &idx.columns {
        crate::codec::key::skip_value(&mut key_rest, c.order)?;
    }
    Ok(if key_rest.is_empty() { value } else { key_rest })
}

fn at(t: &TableDef, e: Error) -> Error {
    match e {
        Error::Corrupt { location, detail } => Error::Corrupt {
            location: format!("{location} of table {}", t.name),
            detail,
        },
        other => other,
    }
}

/// Whether any indexed column of `row` is NULL.
fn has_null(idx: &IndexDef, row: &[Value]) -> bool {
    idx.columns.iter().any(|c| row[c.column].is_null())
}

/// Build the key and value of the index entry of `row` (whose primary key is
/// `pk`) into `key` and `value` (both cleared first).
pub(crate) fn index_entry<'a>(
    key: &mut Vec<u8>,
    value: &mut Vec<u8>,
    t: &TableDef,
    idx: &IndexDef,
    row: &[Value],
    pk: impl Iterator<Item = &'a Value>,
) {
    key.clear();
    value.clear();
    push_index_prefix(key, t.id, idx.id);
    for c in &idx.columns {
        encode_value(key, &row[c.column], c.order);
    }
    let pk_into = if idx.unique && !has_null(idx, row) {
        value
    } else {
        key
    };
    for v in pk {
        encode_value(pk_into, v, SortOrder::Asc);
    }
}

/// True when the entry built by [`index_entry`] for this row is a unique
/// entry (its key alone must be unique).
pub(crate) fn is_unique_entry(idx: &IndexDef, row: &[Value]) -> bool {
    idx.unique && !has_null(idx, row)
}

/// Decode an index entry from its key (after the index prefix) and value:
/// the indexed values in index order, then the primary key.
pub(crate) fn decode_index_entry(
    t: &TableDef,
    idx: &IndexDef,
    mut key_rest: &[u8],
    value: &[u8],
) -> Result<(Vec<Value>, Vec<Value>)> {
    let ctx = |e| at_index(t, idx, e);
    let mut vals = Vec::with_capacity(idx.columns.len());
    for c in &idx.columns {
        vals.push(decode_value(&mut key_rest, c.order).map_err(ctx)?);
    }
    let mut pk_bytes = if key_rest.is_empty() { value } else { key_rest };
    let n = t.pk_len();
    let mut pk = Vec::with_capacity(n);
    for _ in 0..n {
        pk.push(decode_value(&mut pk_bytes, SortOrder::Asc).map_err(ctx)?);
    }
    if !pk_bytes.is_empty() {
        return Err(ctx(Error::corrupt(
            "index entry",
            "trailing bytes after the primary key",
        )));
    }
    Ok((vals, pk))
}

fn at_index(t: &TableDef, idx: &IndexDef, e: Error) -> Error {
    match e {
        Error::Corrupt { location, detail } => Error::Corrupt {
            location: format!("{location} of index {} on table {}", idx.name, t.name),
            detail,
        },
        other => other,
    }
}

/// Reject a key or value over the store's limits before anything is written,
/// so a failed statement leaves no partial writes.
pub(crate) fn check_sizes(limits: &Limits, t: &TableDef, key: &[u8], value: &[u8]) -> Result<()> {
    if key.len() > limits.max_key_len {
        return Err(Error::invalid(format!(
            "a key of table {} would be {} bytes, over the store's limit of {} bytes; index or key on shorter values",
            t.name,
            key.len(),
            limits.max_key_len
        )));
    }
    if value.len() > limits.max_value_len {
        return Err(Error::invalid(format!(
            "a row of table {} would be {} bytes, over the store's limit of {} bytes",
            t.name,
            value.len(),
            limits.max_value_len
        )));
    }
    Ok(())
}
