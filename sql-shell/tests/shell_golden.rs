//! Golden tests: each `tests/golden/NAME.test` is a script run through the
//! binary, and `NAME.out` is exactly what it must print (stdout, then
//! stderr, then the exit status). A new case is a new pair of files.
//!
//! `NAME.test` starts with optional `# comment` lines and an `args:` line
//! (whitespace-separated arguments), then a `----` line; the rest is fed to
//! stdin. To accept new output after a deliberate change, run
//! `GOLDEN_UPDATE=1 cargo test -p sql-shell --test shell_golden` and review
//! the diff.

mod common;

use std::path::Path;

fn render(run: &common::Run) -> String {
    format!(
        "{}--- stderr\n{}--- exit {}\n",
        run.stdout, run.stderr, run.status
    )
}

fn run_case(env: &common::Env, test: &Path) -> String {
    let text = std::fs::read_to_string(test).unwrap();
    let (head, script) = text
        .split_once("\n----\n")
        .unwrap_or_else(|| panic!("{}: no ---- line", test.display()));
    let args: Vec<&str> = head
        .lines()
        .filter_map(|l| l.strip_prefix("args:"))
        .flat_map(str::split_whitespace)
        .collect();
    render(&env.run(&args, script))
}

#[test]
fn golden_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 8,
        "golden cases missing from {}",
        dir.display()
    );
    let update = std::env::var_os("GOLDEN_UPDATE").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let env = common::Env::new();
        let got = run_case(&env, case);
        let expected_path = case.with_extension("out");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "=== {} differs\n--- expected\n{want}--- got\n{got}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
