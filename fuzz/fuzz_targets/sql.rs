//! SQL text through split, parse, plan and execute on `MemStore`, against a
//! small fixture. Oracles: no panic, no hang (libFuzzer's timeout), and the
//! integrity check still passes after whatever the script did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sql_shell::{Output, Session, split_statements};

fuzz_target!(|data: &[u8]| {
    // Short scripts: a left-nested chain of ~5,000 operators overflows the
    // planner's stack, a known bug pinned by the ignored test
    // `known_bad_inputs_that_break_a_promise`; 4 KiB cannot reach it.
    if data.len() > 4096 {
        return;
    }
    let Ok(script) = std::str::from_utf8(data) else {
        return;
    };
    // substr() with extreme arguments panics on integer overflow, the other
    // known bug pinned there; skipped until it is fixed.
    if script.to_ascii_lowercase().contains("substr") {
        return;
    }
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
