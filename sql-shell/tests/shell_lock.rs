//! Two shells on one database: the second gets a clear "in use" error and
//! exit status 3, not a crash or a corrupted database; once the first
//! leaves, the database opens again with its data.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use common::Env;

#[test]
fn a_second_process_is_told_the_database_is_in_use() {
    let env = Env::new();
    let db = env.db("shared.db");
    // The first shell reads a script from a pipe we keep open.
    let mut first = common::command(env.home())
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = first.stdin.take().unwrap();
    stdin
        .write_all(b"create table t (a int); insert into t values (1); select 'ready' as state;\n")
        .unwrap();
    stdin.flush().unwrap();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("first shell output").unwrap();
        if line == " ready" {
            break;
        }
    }
    // Both the explicit path and the default path (via HIVE_DB) are refused.
    for args in [vec![db.as_str(), "-c", "select 1"], vec!["-c", "select 1"]] {
        let second = common::command(env.home())
            .env("HIVE_DB", &db)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(3), "{stderr}");
        assert!(
            stderr.starts_with(&format!("Error: cannot open database {db}: ")),
            "{stderr}"
        );
        assert!(stderr.contains("in use"), "{stderr}");
        assert!(second.stdout.is_empty());
    }
    drop(stdin);
    assert!(first.wait().unwrap().success());
    let r = env
        .run(&[&db, "--no-header", "-c", "select a from t"], "")
        .ok();
    assert_eq!(r.stdout, " 1\n");
}
