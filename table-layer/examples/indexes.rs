//! A table with a unique and a non-unique secondary index.
//!
//! Run with `cargo run -p table-layer --example indexes`.

use std::ops::Bound;
use std::sync::Arc;

use table_layer::{
    ColumnDef, DataType, Database, Direction, Error, IndexSpec, ScanRange, SortOrder, TableSpec,
    Value,
};

fn main() -> Result<(), Error> {
    let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    db.create_table(
        TableSpec::new("users")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("email", DataType::Text))
            .column(ColumnDef::new("country", DataType::Text).not_null())
            .column(ColumnDef::new("age", DataType::Integer))
            .primary_key(["id"]),
    )?;
    // Unique: no two users share an email (NULL emails may repeat).
    db.create_index(
        IndexSpec::new("users_email", "users")
            .column("email", SortOrder::Asc)
            .unique(),
        &mut |_| {},
    )?;
    // Non-unique and composite: users by country, oldest first.
    db.create_index(
        IndexSpec::new("users_country_age", "users")
            .column("country", SortOrder::Asc)
            .column("age", SortOrder::Desc),
        &mut |_| {},
    )?;

    let users = [
        (1, Some("ada@example.org"), "UK", 36),
        (2, Some("linus@example.org"), "FI", 54),
        (3, None, "UK", 71),
        (4, Some("grace@example.org"), "US", 85),
        (5, None, "UK", 19),
    ];
    db.run_with_retry(3, |txn| {
        for (id, email, country, age) in users {
            txn.insert(
                "users",
                &[id.into(), email.into(), country.into(), Value::Integer(age)],
            )?;
        }
        Ok(())
    })?;

    // The unique index refuses a second ada, and names what clashed.
    let mut txn = db.begin()?;
    let err = txn
        .insert(
            "users",
            &[6.into(), "ada@example.org".into(), "FR".into(), 40.into()],
        )
        .unwrap_err();
    println!("refused: {err}");

    // Point lookup through the unique index (a covering scan: no row fetch).
    let hit = txn
        .index_scan(
            "users_email",
            ScanRange::prefix(vec!["grace@example.org".into()]),
            Direction::Forward,
        )?
        .next()
        .transpose()?;
    println!("grace has primary key {:?}", hit.map(|e| e.primary_key));

    // UK users aged 20 or more, oldest first: `age` is DESC in the index, so
    // "age >= 20" is the *end* bound of the range in index order.
    let uk_adults = ScanRange::new(
        Bound::Included(vec!["UK".into()]),
        Bound::Included(vec!["UK".into(), Value::Integer(20)]),
    );
    for row in txn.index_scan_rows("users_country_age", uk_adults, Direction::Forward)? {
        let row = row?;
        println!("UK: id {} age {}", row.values[0], row.values[3]);
    }
    txn.rollback();

    let report = db.check_integrity(None)?;
    println!("integrity: {report}");
    Ok(())
}
