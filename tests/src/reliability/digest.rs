//! A checksum of everything a database holds, for "nothing changed" checks.
//!
//! [`logical`] hashes the catalog (tables, columns, keys, indexes) and every
//! row of every table, read through the table layer in key order: two
//! databases with the same digest hold the same schema and rows. [`raw`]
//! hashes every key-value pair of the store below, catching stray writes
//! the table layer would not show (index entries, catalog records).

use std::fmt::Write;

use kv_api::{Direction, KeyRange, KvStore};
use md5::{Digest, Md5};
use table_layer::{Database, ScanRange};

/// Digest of a database: its hash and what it covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbDigest {
    /// Hex MD5 of the canonical rendering.
    pub hash: String,
    /// Tables seen.
    pub tables: usize,
    /// Rows seen, all tables together.
    pub rows: u64,
}

fn hex(h: Md5) -> String {
    h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Hash the schema and all rows, at one snapshot.
pub fn logical(db: &Database) -> Result<DbDigest, table_layer::Error> {
    let txn = db.begin()?;
    let cat = std::sync::Arc::clone(txn.catalog());
    let mut tables: Vec<_> = cat.tables().cloned().collect();
    tables.sort_by(|a, b| a.name().cmp(b.name()));
    let mut h = Md5::new();
    let mut rows = 0u64;
    for t in &tables {
        h.update(format!(
            "table {} columns {:?} pk {:?}\n",
            t.name(),
            t.columns(),
            t.primary_key_names()
        ));
        let mut idx: Vec<_> = t.indexes().iter().collect();
        idx.sort_by(|a, b| a.name().cmp(b.name()));
        for i in idx {
            h.update(format!(
                "index {} {:?} unique={}\n",
                i.name(),
                i.columns(),
                i.is_unique()
            ));
        }
        for r in txn.scan(t.name(), ScanRange::all(), Direction::Forward)? {
            h.update(format!("{:?}\n", r?.values));
            rows += 1;
        }
    }
    Ok(DbDigest {
        hash: hex(h),
        tables: tables.len(),
        rows,
    })
}

/// Hash every key and value of the store (count of pairs in `rows`).
pub fn raw(store: &dyn KvStore) -> kv_api::Result<DbDigest> {
    let mut it = store.iter(KeyRange::all(), Direction::Forward)?;
    let mut h = Md5::new();
    let mut n = 0u64;
    while let Some((k, v)) = it.next()? {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k);
        h.update((v.len() as u64).to_le_bytes());
        h.update(v);
        n += 1;
    }
    Ok(DbDigest {
        hash: hex(h),
        tables: 0,
        rows: n,
    })
}
