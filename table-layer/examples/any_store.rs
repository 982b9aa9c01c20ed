//! The same code on the in-memory store and on the LSM engine: the table
//! layer only sees `Arc<dyn KvStore>`.
//!
//! Run with `cargo run -p table-layer --example any_store`.

use std::sync::Arc;

use kv_api::KvStore;
use table_layer::{
    ColumnDef, DataType, Database, Direction, Error, IndexSpec, ScanRange, SortOrder, TableSpec,
    Value,
};

/// Create a table with an index, load it, and query it through the index.
fn workload(store: Arc<dyn KvStore>) -> Result<Vec<String>, Error> {
    let db = Database::open(store)?;
    db.create_table(
        TableSpec::new("books")
            .column(ColumnDef::new("title", DataType::Text))
            .column(ColumnDef::new("year", DataType::Integer).not_null())
            .primary_key(["title"]),
    )?;
    db.create_index(
        IndexSpec::new("books_year", "books").column("year", SortOrder::Asc),
        &mut |_| {},
    )?;
    db.run_with_retry(3, |txn| {
        for (title, year) in [("Dune", 1965), ("Neuromancer", 1984), ("Solaris", 1961)] {
            txn.insert("books", &[title.into(), Value::Integer(year)])?;
        }
        Ok(())
    })?;
    let txn = db.begin()?;
    let mut titles = Vec::new();
    for e in txn.index_scan("books_year", ScanRange::all(), Direction::Forward)? {
        if let Value::Text(t) = &e?.primary_key[0] {
            titles.push(t.clone());
        }
    }
    db.close()?;
    Ok(titles)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let in_memory = workload(Arc::new(kv_api::MemStore::new()))?;

    let dir = tempfile::tempdir()?;
    let on_disk = workload(Arc::new(engine::Db::open(
        dir.path(),
        engine::Options::default(),
    )?))?;

    println!("MemStore: {in_memory:?}");
    println!("engine:   {on_disk:?}");
    assert_eq!(in_memory, on_disk);
    Ok(())
}
