//! Index builds on tables that already hold rows: streaming (autocommit) and
//! transactional, progress reporting, unique failures that leave nothing
//! behind. Runs on every backend.

mod common;

use common::{backends, open};
use table_layer::{
    BuildProgress, ColumnDef, DataType, Database, Direction, Error, IndexSpec, ScanRange,
    SortOrder, TableSpec, Value,
};

const ROWS: i64 = 20_000;

fn filled(db: &Database) {
    db.create_table(
        TableSpec::new("t")
            .column(ColumnDef::new("k", DataType::Integer))
            .column(ColumnDef::new("grp", DataType::Integer))
            .column(ColumnDef::new("name", DataType::Text))
            .primary_key(["k"]),
    )
    .unwrap();
    db.run_with_retry(1, |t| {
        for k in 0..ROWS {
            let name = if k % 1000 == 0 {
                Value::Null
            } else {
                Value::Text(format!("n{k:06}"))
            };
            t.insert("t", &[Value::Integer(k), Value::Integer(k % 7), name])?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn streaming_build_reports_progress_and_indexes_every_row() {
    for b in backends() {
        let db = open(&*b);
        filled(&db);
        let mut calls: Vec<BuildProgress> = Vec::new();
        db.create_index(
            IndexSpec::new("t_grp", "t")
                .column("grp", SortOrder::Asc)
                .column("name", SortOrder::Desc),
            &mut |p| calls.push(p),
        )
        .unwrap();
        assert!(
            calls.len() >= 4,
            "{}: {} progress calls",
            b.name(),
            calls.len()
        );
        let last = calls.last().unwrap();
        assert!(last.finished && last.rows_done == ROWS as u64);
        assert!(calls.windows(2).all(|w| w[0].rows_done <= w[1].rows_done));
        // A unique index over names: NULLs may repeat, names are distinct.
        db.create_index(
            IndexSpec::new("t_name", "t")
                .column("name", SortOrder::Asc)
                .unique(),
            &mut |_| {},
        )
        .unwrap();
        let report = db.check_integrity(None).unwrap();
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.index_entries, 2 * ROWS as u64);
        let txn = db.begin().unwrap();
        let in_group_3 = txn
            .index_scan(
                "t_grp",
                ScanRange::prefix(vec![Value::Integer(3)]),
                Direction::Forward,
            )
            .unwrap()
            .count();
        assert_eq!(
            in_group_3 as i64,
            (0..ROWS).filter(|k| k % 7 == 3).count() as i64
        );
    }
}

#[test]
fn a_unique_build_over_duplicates_leaves_nothing_behind() {
    for b in backends() {
        let db = open(&*b);
        filled(&db);
        for in_txn in [false, true] {
            let spec = IndexSpec::new("t_grp_u", "t")
                .column("grp", SortOrder::Asc)
                .unique();
            let err = if in_txn {
                let mut t = db.begin().unwrap();
                t.insert("t", &[Value::Integer(-1), Value::Integer(-1), Value::Null])
                    .unwrap();
                let err = t.create_index(spec, &mut |_| {}).unwrap_err();
                // The transaction goes on, without the index.
                assert!(!t.catalog().has_index("t_grp_u"));
                assert!(t.check_integrity(None).unwrap().is_ok());
                t.rollback();
                err
            } else {
                db.create_index(spec, &mut |_| {}).unwrap_err()
            };
            assert!(
                matches!(err, Error::UniqueViolation { .. }),
                "{}: {err}",
                b.name()
            );
            assert!(!db.catalog().has_index("t_grp_u"));
            let report = db.check_integrity(None).unwrap();
            assert!(
                report.is_ok() && report.index_entries == 0,
                "{}: {report}",
                b.name()
            );
        }
    }
}

#[test]
fn writers_racing_a_streaming_build_retry_and_stay_consistent() {
    for b in backends() {
        let db = open(&*b);
        filled(&db);
        let mut w = db.begin().unwrap();
        w.insert(
            "t",
            &[Value::Integer(ROWS), Value::Integer(0), "late".into()],
        )
        .unwrap();
        db.create_index(
            IndexSpec::new("t_name", "t").column("name", SortOrder::Asc),
            &mut |_| {},
        )
        .unwrap();
        assert!(w.commit().unwrap_err().is_retryable(), "{}", b.name());
        db.run_with_retry(3, |t| {
            t.insert(
                "t",
                &[Value::Integer(ROWS), Value::Integer(0), "late".into()],
            )
        })
        .unwrap();
        let report = db.check_integrity(None).unwrap();
        assert!(
            report.is_ok() && report.index_entries == ROWS as u64 + 1,
            "{report}"
        );
    }
}
