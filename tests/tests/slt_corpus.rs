//! The sqllogictest corpus against the recorded baseline.
//!
//! Runs every file of the corpus (from `$SLT_CORPUS`, else
//! `<workspace>/../shared/sqllogictest`) and fails when any file passes
//! fewer records, or fails more, than `tests/slt-baseline.tsv` records. When
//! the corpus is absent (a CI clone without `shared/`), the test says so
//! loudly and passes. Refresh the baseline after an improvement with:
//!
//! ```text
//! cargo run --release -p tests --bin slt -- --root ../shared/sqllogictest \
//!     --baseline tests/slt-baseline.tsv ../shared/sqllogictest
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use tests::slt::{collect_files, run_file};

fn corpus_dir() -> PathBuf {
    if let Ok(p) = std::env::var("SLT_CORPUS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/sqllogictest")
}

fn baseline() -> BTreeMap<String, (usize, usize)> {
    let text = include_str!("../slt-baseline.tsv");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if let [file, passed, failed, ..] = cols.as_slice() {
            out.insert(
                file.to_string(),
                (passed.parse().unwrap_or(0), failed.parse().unwrap_or(0)),
            );
        }
    }
    out
}

#[test]
fn corpus_does_not_regress() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        eprintln!(
            "\n*** sqllogictest corpus NOT FOUND at {} (set SLT_CORPUS to run it); skipping ***\n",
            dir.display()
        );
        return;
    }
    let base = baseline();
    let files = collect_files(&dir).expect("list corpus");
    assert!(!files.is_empty(), "no corpus files under {}", dir.display());
    let mut regressions = Vec::new();
    let (mut passed, mut run) = (0, 0);
    for f in &files {
        let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let rep = run_file(f).expect("run file");
        passed += rep.passed;
        run += rep.total();
        println!(
            "{rel}: passed {}, failed {}, unsupported {}, skipped {}",
            rep.passed, rep.failed, rep.unsupported, rep.skipped
        );
        match base.get(&rel) {
            Some(&(bp, bf)) => {
                if rep.passed < bp || rep.failed > bf {
                    regressions.push(format!(
                        "{rel}: passed {} (baseline {bp}), failed {} (baseline {bf}); first problems: {:?}",
                        rep.passed,
                        rep.failed,
                        rep.problems.iter().take(3).collect::<Vec<_>>()
                    ));
                }
            }
            None => println!("  (not in the baseline)"),
        }
    }
    println!("corpus: {passed} of {run} records passed");
    assert!(
        regressions.is_empty(),
        "regressions:\n{}",
        regressions.join("\n")
    );
}
