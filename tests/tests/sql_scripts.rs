//! End-to-end SQL scenarios: every `tests/sql/*.slt` script (sqllogictest
//! format; `statement error` may give, after `----`, text the message must
//! contain; EXPLAIN output compares line by line) runs on `MemStore` and on
//! the LSM engine in a temporary directory, and must pass completely.

use std::path::{Path, PathBuf};

use sql_shell::Session;
use tests::slt::{Runner, collect_files};

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let files = collect_files(&dir).expect("list tests/sql");
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    files
}

fn run(session: Session, file: &Path) {
    let text = std::fs::read_to_string(file).expect("read script");
    let mut runner = Runner::with_session(session);
    let rep = runner.run_text(&text);
    assert!(
        rep.failed == 0 && rep.unsupported == 0,
        "{}: {} failed, {} unsupported:\n{}",
        file.display(),
        rep.failed,
        rep.unsupported,
        rep.problems
            .iter()
            .map(|(l, m)| format!("  line {l}: {m}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(rep.passed > 0);
}

#[test]
fn scripts_pass_on_memstore() {
    for f in scripts() {
        run(Session::open(None).expect("open"), &f);
    }
}

#[test]
fn scripts_pass_on_the_engine() {
    for (i, f) in scripts().into_iter().enumerate() {
        let dir = std::env::temp_dir().join(format!("sql-scripts-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        run(Session::open(Some(&dir)).expect("open engine"), &f);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
