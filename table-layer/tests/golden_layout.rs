//! The bytes KEYS.md shows, read back from a real store: a change here is a
//! format change.

use std::sync::Arc;

mod common;

use kv_api::{Direction, KeyRange, KvStore, collect_entries};
use table_layer::{ColumnDef, DataType, Database, IndexSpec, SortOrder, TableSpec, Value};

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn keys_md_example_is_what_is_stored() {
    for b in common::backends() {
        keys_md_example(b.store());
    }
}

fn keys_md_example(store: Arc<dyn KvStore>) {
    let db = Database::open(store.clone()).unwrap();
    db.create_table(
        TableSpec::new("people")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("name", DataType::Text))
            .primary_key(["id"]),
    )
    .unwrap();
    db.create_index(
        IndexSpec::new("people_name", "people").column("name", SortOrder::Asc),
        &mut |_| {},
    )
    .unwrap();
    db.run_with_retry(1, |t| {
        t.insert("people", &[Value::Integer(5), Value::Text("bo".into())])
    })
    .unwrap();
    let data: Vec<(String, String)> = collect_entries(
        store
            .iter(
                KeyRange::new(
                    std::ops::Bound::Included(vec![0x01]),
                    std::ops::Bound::Unbounded,
                ),
                Direction::Forward,
            )
            .unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|(k, v)| (hex(&k), hex(&v)))
    .collect();
    assert_eq!(
        data,
        [
            ("01 01 2a 05".to_owned(), "00 00 02 62 6f".to_owned()),
            ("01 02 01 50 62 6f 00 01 2a 05".to_owned(), String::new()),
        ]
    );
    // Catalog meta: format version 1, next table id 2, next index id 2.
    let meta = store.get(&[0x00, 0x01]).unwrap().unwrap();
    assert_eq!(hex(&meta), "01 02 02");
}

#[test]
fn unique_entries_hold_the_key_in_the_value_unless_null() {
    for b in common::backends() {
        unique_entries(b.store());
    }
}

fn unique_entries(store: Arc<dyn KvStore>) {
    let db = Database::open(store.clone()).unwrap();
    db.create_table(
        TableSpec::new("u")
            .column(ColumnDef::new("email", DataType::Text))
            .column(ColumnDef::new("n", DataType::Integer).not_null())
            .primary_key(["n"]),
    )
    .unwrap();
    db.create_index(
        IndexSpec::new("u_email", "u")
            .column("email", SortOrder::Desc)
            .unique(),
        &mut |_| {},
    )
    .unwrap();
    db.run_with_retry(1, |t| {
        t.insert("u", &[Value::Text("a".into()), Value::Integer(1)])?;
        t.insert("u", &[Value::Null, Value::Integer(2)])?;
        t.insert("u", &[Value::Null, Value::Integer(3)])
    })
    .unwrap();
    let entries: Vec<(String, String)> = collect_entries(
        store
            .iter(KeyRange::prefix(&[0x01, 0x02]), Direction::Forward)
            .unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|(k, v)| (hex(&k), hex(&v)))
    .collect();
    assert_eq!(
        entries,
        [
            // 'a' DESC: inverted 50 61 00 01; primary key 1 in the value.
            ("01 02 01 af 9e ff fe".to_owned(), "2a 01".to_owned()),
            // NULL DESC is ff; the primary key joins the key so NULLs never collide.
            ("01 02 01 ff 2a 02".to_owned(), String::new()),
            ("01 02 01 ff 2a 03".to_owned(), String::new()),
        ]
    );
}
