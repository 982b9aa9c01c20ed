//! Transactions over tables: isolation, conflicts, schema changes racing
//! writers, savepoints, statement atomicity and the Halloween problem. Every
//! scenario runs on every backend.

mod common;

use std::sync::Arc;

use common::{backends, open};
use table_layer::{
    ColumnDef, DataType, Database, Direction, Error, IndexSpec, ScanRange, SortOrder, TableSpec,
    Value,
};

fn accounts(db: &Database) {
    db.create_table(
        TableSpec::new("acct")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("email", DataType::Text))
            .column(ColumnDef::new("balance", DataType::Integer).not_null())
            .primary_key(["id"]),
    )
    .unwrap();
    db.create_index(
        IndexSpec::new("acct_email", "acct")
            .column("email", SortOrder::Asc)
            .unique(),
        &mut |_| {},
    )
    .unwrap();
    db.create_index(
        IndexSpec::new("acct_balance", "acct").column("balance", SortOrder::Desc),
        &mut |_| {},
    )
    .unwrap();
}

fn row(id: i64, email: Option<&str>, balance: i64) -> Vec<Value> {
    vec![Value::Integer(id), email.into(), Value::Integer(balance)]
}

fn balance(db: &Database, id: i64) -> Option<i64> {
    let r = db
        .begin()
        .unwrap()
        .get("acct", &[Value::Integer(id)])
        .unwrap()?;
    match r.values[2] {
        Value::Integer(b) => Some(b),
        _ => None,
    }
}

#[test]
fn first_committer_wins_on_the_same_row() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        db.run_with_retry(1, |t| t.insert("acct", &row(1, Some("a@x"), 10)))
            .unwrap();
        let mut t1 = db.begin().unwrap();
        let mut t2 = db.begin().unwrap();
        assert!(
            t1.update("acct", &[Value::Integer(1)], &row(1, Some("a@x"), 11))
                .unwrap()
        );
        assert!(
            t2.update("acct", &[Value::Integer(1)], &row(1, Some("a@x"), 12))
                .unwrap()
        );
        t1.commit().unwrap();
        let err = t2.commit().unwrap_err();
        assert!(
            matches!(err, Error::Conflict(_)) && err.is_retryable(),
            "{}: {err}",
            b.name()
        );
        assert_eq!(balance(&db, 1), Some(11));
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn concurrent_inserts_of_one_unique_value_conflict() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        let mut t1 = db.begin().unwrap();
        let mut t2 = db.begin().unwrap();
        t1.insert("acct", &row(1, Some("same@x"), 1)).unwrap();
        // t2 cannot see t1's entry yet: the check passes, the commit must not.
        t2.insert("acct", &row(2, Some("same@x"), 2)).unwrap();
        t1.commit().unwrap();
        assert!(t2.commit().unwrap_err().is_retryable(), "{}", b.name());
        assert_eq!(balance(&db, 2), None);
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn a_transaction_reads_its_snapshot_and_its_own_writes() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        let mut reader = db.begin().unwrap();
        db.run_with_retry(1, |t| t.insert("acct", &row(1, None, 5)))
            .unwrap();
        assert!(reader.get("acct", &[Value::Integer(1)]).unwrap().is_none());
        reader.insert("acct", &row(2, None, 7)).unwrap();
        let ids: Vec<Value> = reader
            .scan("acct", ScanRange::all(), Direction::Forward)
            .unwrap()
            .map(|r| r.unwrap().values[0].clone())
            .collect();
        assert_eq!(ids, [Value::Integer(2)], "{}", b.name());
        reader.commit().unwrap();
        assert_eq!((balance(&db, 1), balance(&db, 2)), (Some(5), Some(7)));
    }
}

#[test]
fn ddl_fails_concurrent_writers_of_that_table_only() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        db.create_table(TableSpec::new("other").column(ColumnDef::new("x", DataType::Integer)))
            .unwrap();
        let mut writer = db.begin().unwrap();
        writer.insert("acct", &row(1, None, 1)).unwrap();
        let mut bystander = db.begin().unwrap();
        bystander.insert("other", &[Value::Integer(1)]).unwrap();
        db.add_column("acct", ColumnDef::new("note", DataType::Text))
            .unwrap();
        let err = writer.commit().unwrap_err();
        assert!(
            matches!(err, Error::SchemaChanged { ref table } if table == "acct"),
            "{}: {err}",
            b.name()
        );
        assert!(err.is_retryable());
        bystander.commit().unwrap();
        // Retried, the insert now needs the new column.
        db.run_with_retry(3, |t| {
            t.insert(
                "acct",
                &[
                    Value::Integer(1),
                    Value::Null,
                    Value::Integer(1),
                    Value::Null,
                ],
            )
        })
        .unwrap();
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn concurrent_ddl_transactions_do_not_both_commit() {
    for b in backends() {
        let db = open(&*b);
        let mut t1 = db.begin().unwrap();
        let mut t2 = db.begin().unwrap();
        t1.create_table(TableSpec::new("a").column(ColumnDef::new("x", DataType::Integer)))
            .unwrap();
        t2.create_table(TableSpec::new("b").column(ColumnDef::new("x", DataType::Integer)))
            .unwrap();
        t1.commit().unwrap();
        assert!(t2.commit().unwrap_err().is_retryable());
        let cat = db.catalog();
        assert!(cat.has_table("a") && !cat.has_table("b"), "{}", b.name());
    }
}

#[test]
fn an_index_built_in_a_transaction_fails_if_rows_were_committed_meanwhile() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        db.run_with_retry(1, |t| t.insert("acct", &row(1, None, 1)))
            .unwrap();
        let mut ddl = db.begin().unwrap();
        ddl.create_index(
            IndexSpec::new("acct_id_bal", "acct").column("balance", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        // A row the build did not see commits first: the index would miss it.
        db.run_with_retry(1, |t| t.insert("acct", &row(2, None, 2)))
            .unwrap();
        assert!(ddl.commit().unwrap_err().is_retryable(), "{}", b.name());
        assert!(!db.catalog().has_index("acct_id_bal"));
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn savepoints_undo_rows_and_ddl() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        let mut t = db.begin().unwrap();
        t.insert("acct", &row(1, Some("a"), 1)).unwrap();
        t.set_savepoint();
        t.create_table(TableSpec::new("tmp").column(ColumnDef::new("x", DataType::Integer)))
            .unwrap();
        t.insert("tmp", &[Value::Integer(1)]).unwrap();
        t.insert("acct", &row(2, Some("b"), 2)).unwrap();
        t.drop_index("acct_balance").unwrap();
        t.rollback_to_savepoint().unwrap();
        assert!(!t.catalog().has_table("tmp"));
        assert!(t.catalog().has_index("acct_balance"));
        assert!(t.get("acct", &[Value::Integer(2)]).unwrap().is_none());
        assert!(t.check_integrity(None).unwrap().is_ok());
        // Nested: release keeps the work.
        t.set_savepoint();
        t.set_savepoint();
        t.insert("acct", &row(3, Some("c"), 3)).unwrap();
        t.release_savepoint();
        t.rollback_to_savepoint().unwrap();
        assert!(t.get("acct", &[Value::Integer(3)]).unwrap().is_none());
        assert!(t.rollback_to_savepoint().is_err());
        t.commit().unwrap();
        assert_eq!(
            (balance(&db, 1), balance(&db, 2)),
            (Some(1), None),
            "{}",
            b.name()
        );
        assert_eq!(db.approximate_row_count("acct").unwrap(), 1);
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn a_failed_statement_writes_nothing() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        let mut t = db.begin().unwrap();
        t.insert("acct", &row(1, Some("a"), 1)).unwrap();
        // Passes the primary key and the first index, fails the unique one:
        let err = t.insert("acct", &row(2, Some("a"), 2)).unwrap_err();
        assert!(matches!(err, Error::UniqueViolation { ref index, .. } if index == "acct_email"));
        assert!(err.to_string().contains("'a'"), "{err}");
        // An update that would break the unique index leaves the row as it was.
        t.insert("acct", &row(3, Some("c"), 3)).unwrap();
        assert!(
            t.update("acct", &[Value::Integer(3)], &row(3, Some("a"), 30))
                .is_err()
        );
        let err = t
            .update("acct", &[Value::Integer(3)], &row(1, Some("c"), 3))
            .unwrap_err();
        assert!(matches!(err, Error::PrimaryKeyViolation { .. }));
        let err = t
            .insert(
                "acct",
                &row(4, Some("d"), 0).into_iter().take(2).collect::<Vec<_>>(),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            Error::WrongArity {
                expected: 3,
                got: 2,
                ..
            }
        ));
        let err = t
            .insert("acct", &[Value::Integer(4), Value::Null, Value::Null])
            .unwrap_err();
        assert!(matches!(err, Error::NotNullViolation { ref column, .. } if column == "balance"));
        assert!(t.check_integrity(None).unwrap().is_ok());
        t.commit().unwrap();
        let report = db.check_integrity(None).unwrap();
        assert!(
            report.is_ok() && report.rows == 2 && report.index_entries == 4,
            "{}: {report}",
            b.name()
        );
    }
}

#[test]
fn streaming_updates_do_not_revisit_moved_rows() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        db.run_with_retry(1, |t| {
            for i in 0..300 {
                t.insert("acct", &row(i, None, i))?;
            }
            Ok(())
        })
        .unwrap();
        let mut t = db.begin().unwrap();
        // Move every row forward in key order while scanning: each original
        // row must be visited exactly once (no Halloween problem).
        let mut visited = 0;
        let scan = t
            .scan("acct", ScanRange::all(), Direction::Forward)
            .unwrap();
        for r in scan {
            let r = r.unwrap();
            let Value::Integer(id) = r.values[0] else {
                panic!()
            };
            t.update("acct", &[Value::Integer(id)], &row(id + 1000, None, id))
                .unwrap();
            visited += 1;
        }
        assert_eq!(visited, 300, "{}", b.name());
        // Same through an index, deleting as we go: rows deleted after the
        // scan opened are skipped, not returned half-gone.
        let mut seen = 0;
        let scan = t
            .index_scan_rows("acct_balance", ScanRange::all(), Direction::Forward)
            .unwrap();
        for r in scan {
            let r = r.unwrap();
            seen += 1;
            let Value::Integer(id) = r.values[0] else {
                panic!()
            };
            // Delete this row and the next one in index order (balance - 1).
            t.delete("acct", &[Value::Integer(id)]).unwrap();
            t.delete("acct", &[Value::Integer(id - 1)]).unwrap();
        }
        assert_eq!(seen, 150);
        t.commit().unwrap();
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn retried_transactions_make_concurrent_increments_exact() {
    for b in backends() {
        let db = open(&*b);
        accounts(&db);
        db.run_with_retry(1, |t| t.insert("acct", &row(1, None, 0)))
            .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        db.run_with_retry(1000, |t| {
                            let r = t.get("acct", &[Value::Integer(1)])?.unwrap();
                            let Value::Integer(n) = r.values[2] else {
                                unreachable!()
                            };
                            t.update("acct", &[Value::Integer(1)], &row(1, None, n + 1))?;
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(balance(&db, 1), Some(100), "{}", b.name());
        assert!(db.check_integrity(None).unwrap().is_ok());
    }
}

#[test]
fn a_write_failing_half_way_poisons_until_rollback() {
    // A store whose transactions hold at most 100 bytes: the row fits, its
    // index entries do not, so the failure comes in the write phase.
    let store = Arc::new(kv_api::MemStore::with_limits(kv_api::Limits {
        max_batch_bytes: 100,
        ..kv_api::Limits::DEFAULT
    }));
    let db = Database::open(store).unwrap();
    db.create_table(
        TableSpec::new("t")
            .column(ColumnDef::new("a", DataType::Text))
            .column(ColumnDef::new("b", DataType::Text)),
    )
    .unwrap();
    db.create_index(
        IndexSpec::new("t_a", "t").column("a", SortOrder::Asc),
        &mut |_| {},
    )
    .unwrap();
    let mut t = db.begin().unwrap();
    t.set_savepoint();
    let long = "x".repeat(40);
    assert!(
        t.insert("t", &[long.as_str().into(), long.as_str().into()])
            .is_err()
    );
    let err = t.insert("t", &["a".into(), "b".into()]).unwrap_err();
    assert!(err.to_string().contains("roll back"), "{err}");
    t.rollback_to_savepoint().unwrap();
    t.insert("t", &["a".into(), "b".into()]).unwrap();
    t.commit().unwrap();
    assert!(db.check_integrity(None).unwrap().is_ok());
    assert_eq!(db.approximate_row_count("t").unwrap(), 1);
}
