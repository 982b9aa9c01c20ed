//! The key layout: where catalog entries, rows and index entries live in the
//! store's single ordered key space. `table-layer/KEYS.md` draws the same
//! layout byte by byte.
//!
//! ```text
//!  catalog meta   00 01                       -> CatalogMeta (postcard)
//!  table def      00 02 <tid>                 -> StoredTable (postcard)
//!  table stats    00 03 <tid>                 -> approximate row count
//!  clean marker   00 04                       -> (empty) statistics are exact
//!  row            <tid> 01 <pk values...>     -> row value (codec::row)
//!  index entry    <tid> 02 <iid> <cols...> <pk values...>  -> empty
//!  unique entry   <tid> 02 <iid> <cols...>    -> <pk values...>
//!                 (or, when a column is NULL, as a non-unique entry)
//! ```
//!
//! `<tid>` and `<iid>` are order-preserving varints (one byte below 240);
//! table ids start at 1, so table id 0 (byte `00`) is the reserved system
//! space. All of a table's data sits under `<tid> 01` and `<tid> 02`, so
//! dropping it is one range delete; an index is one range under
//! `<tid> 02 <iid>`.

use crate::codec::key::encode_id;
use crate::{IndexId, TableId};

/// Id byte of the system space (catalog).
pub(crate) const SYSTEM: u8 = 0x00;
/// Catalog meta key tag (inside the system space).
pub(crate) const META: u8 = 0x01;
/// Table definition tag (inside the system space).
pub(crate) const TABLE_DEF: u8 = 0x02;
/// Table statistics tag (inside the system space).
pub(crate) const TABLE_STATS: u8 = 0x03;
/// Clean-shutdown marker tag (inside the system space).
pub(crate) const CLEAN: u8 = 0x04;
/// Row space tag (inside a table).
pub(crate) const ROWS: u8 = 0x01;
/// Index space tag (inside a table).
pub(crate) const INDEXES: u8 = 0x02;

/// The catalog meta key.
pub(crate) fn meta_key() -> Vec<u8> {
    vec![SYSTEM, META]
}

/// Prefix of every table definition.
pub(crate) fn table_defs_prefix() -> Vec<u8> {
    vec![SYSTEM, TABLE_DEF]
}

/// The definition key of a table.
pub(crate) fn table_def_key(tid: TableId) -> Vec<u8> {
    let mut k = table_defs_prefix();
    encode_id(&mut k, u64::from(tid));
    k
}

/// The clean-shutdown marker: present while no `Database` is open over the
/// store and the last one saved its statistics before it closed.
pub(crate) fn clean_key() -> Vec<u8> {
    vec![SYSTEM, CLEAN]
}

/// The statistics key of a table.
pub(crate) fn table_stats_key(tid: TableId) -> Vec<u8> {
    let mut k = vec![SYSTEM, TABLE_STATS];
    encode_id(&mut k, u64::from(tid));
    k
}

/// Append the prefix of a table's rows.
pub(crate) fn push_rows_prefix(out: &mut Vec<u8>, tid: TableId) {
    encode_id(out, u64::from(tid));
    out.push(ROWS);
}

/// Length of the prefix of a table's rows.
pub(crate) fn rows_prefix_len(tid: TableId) -> usize {
    crate::codec::key::id_len(u64::from(tid)) + 1
}

/// The prefix of a table's rows.
pub(crate) fn rows_prefix(tid: TableId) -> Vec<u8> {
    let mut k = Vec::with_capacity(8);
    push_rows_prefix(&mut k, tid);
    k
}

/// Append the prefix of an index's entries.
pub(crate) fn push_index_prefix(out: &mut Vec<u8>, tid: TableId, iid: IndexId) {
    encode_id(out, u64::from(tid));
    out.push(INDEXES);
    encode_id(out, u64::from(iid));
}

/// The prefix of an index's entries.
pub(crate) fn index_prefix(tid: TableId, iid: IndexId) -> Vec<u8> {
    let mut k = Vec::with_capacity(8);
    push_index_prefix(&mut k, tid, iid);
    k
}

/// `[start, end)` covering all data of a table (rows and indexes).
pub(crate) fn table_data_range(tid: TableId) -> (Vec<u8>, Vec<u8>) {
    let mut start = Vec::new();
    encode_id(&mut start, u64::from(tid));
    let mut end = start.clone();
    start.push(ROWS);
    end.push(INDEXES + 1);
    (start, end)
}

/// `[start, end)` covering a prefix: the prefix and its successor.
pub(crate) fn prefix_range(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // Our prefixes never end in 0xFF bytes only, so a successor exists; fall
    // back to a one-byte-longer bound otherwise.
    let end = kv_api::prefix_successor(prefix).unwrap_or_else(|| {
        let mut e = prefix.to_vec();
        e.push(0xFF);
        e
    });
    (prefix.to_vec(), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_layout() {
        assert_eq!(meta_key(), [0x00, 0x01]);
        assert_eq!(table_def_key(5), [0x00, 0x02, 0x05]);
        assert_eq!(table_stats_key(300), [0x00, 0x03, 0xF2, 0x01, 0x2C]);
        assert_eq!(rows_prefix(1), [0x01, 0x01]);
        assert_eq!(index_prefix(1, 2), [0x01, 0x02, 0x02]);
        assert_eq!(table_data_range(1), (vec![0x01, 0x01], vec![0x01, 0x03]));
    }
}
