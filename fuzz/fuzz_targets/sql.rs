//! SQL text through split, parse, plan and execute on `MemStore`, against a
//! small fixture. Oracles: no panic, no hang (libFuzzer's timeout), and the
//! integrity check still passes after whatever the script did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sql_shell::{Output, Session, split_statements};

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else {
        return;
    };
    let mut s = Session::open(None).expect("memory session");
    for f in hive_fuzz::SQL_FIXTURE {
        s.execute(f).expect("fixture");
    }
    for stmt in split_statements(script).into_iter().take(16) {
        if let Ok(Output::Rows(mut rows)) = s.execute(stmt.text) {
            // Enough rows to run every operator; a cross join of the fixture
            // with itself a dozen times is not a bug.
            for _ in 0..1000 {
                match rows.next_row() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
    }
    if s.in_transaction() {
        let _ = s.execute("ROLLBACK");
    }
    let report = s
        .database()
        .check_integrity(None)
        .expect("integrity check runs");
    assert!(report.is_ok(), "indexes disagree with tables: {report:?}");
});
