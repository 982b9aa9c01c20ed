//! Non-interactive use: `-c`, SQL arguments, `-f`, scripts on stdin, exit
//! statuses, per-statement flushing, and a reader that goes away.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::Env;

#[test]
fn dash_c_runs_statements_in_order_then_exits() {
    let env = Env::new();
    let db = env.db("c.db");
    let r = env
        .run(
            &[
                &db,
                "-c",
                "create table t (a integer primary key, b text); insert into t values (1, 'x'), (2, 'y')",
                "-c",
                "select count(*) as n from t",
                "select b from t where a = 2",
            ],
            "select 'stdin is not read with -c';",
        )
        .ok();
    assert_eq!(
        r.stdout,
        "CREATE TABLE\nINSERT 2\n n\n---\n 2\n(1 row)\n b\n---\n y\n(1 row)\n"
    );
}

#[test]
fn scripts_from_files_and_stdin() {
    let env = Env::new();
    let script = env.home().join("load.sql");
    std::fs::write(
        &script,
        "create table t (a int);\n-- comment\ninsert into t values (1);\ninsert into t values (2);\n",
    )
    .unwrap();
    let db = env.db("f.db");
    let r = env
        .run(
            &[
                &db,
                "-q",
                "-f",
                script.to_str().unwrap(),
                "-f",
                "-",
                "--csv",
            ],
            "select sum(a) as s from t;\n",
        )
        .ok();
    assert_eq!(r.stdout, "s\r\n3\r\n");
    // A script piped to stdin without -c or -f, ending without a ';'.
    let r = env
        .run(&[&db, "--format=jsonl"], "select a from t order by a desc")
        .ok();
    assert_eq!(r.stdout, "{\"a\":2}\n{\"a\":1}\n");
}

#[test]
fn exit_statuses() {
    let env = Env::new();
    // A failing statement: the others still run, the status is 1.
    let r = env.run(
        &[
            ":memory:",
            "-c",
            "select 1 as a; select nope; select 2 as b",
        ],
        "",
    );
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(
        r.stdout.contains(" a\n") && r.stdout.contains(" b\n"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("no such column: nope"), "{r:#?}");
    // --bail stops there.
    let r = env.run(
        &[":memory:", "--bail", "-c", "select nope; select 2 as b"],
        "",
    );
    assert_eq!(r.status, 1);
    assert!(!r.stdout.contains(" b\n"), "{r:#?}");
    // A bad command line is 2, with the reason.
    let r = env.run(&["--format", "xml"], "");
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("unknown output mode \"xml\""), "{r:#?}");
    let r = env.run(&["--nope"], "");
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("unknown option --nope"), "{r:#?}");
    // A database that cannot be opened is 3.
    let file = env.home().join("a-file");
    std::fs::write(&file, "not a database").unwrap();
    let r = env.run(&[file.to_str().unwrap(), "-c", "select 1"], "");
    assert_eq!(r.status, 3, "{r:#?}");
    assert!(
        r.stderr.starts_with("Error: cannot open database "),
        "{r:#?}"
    );
    // .quit with a code ends the script there.
    let r = env.run(&[":memory:"], "select 1 as a;\n.exit 7\nselect 2 as b;\n");
    assert_eq!(r.status, 7);
    assert!(!r.stdout.contains(" b\n"));
    // Help and version.
    let r = env.run(&["--help"], "").ok();
    assert!(r.stdout.contains("Usage: sql-shell [OPTIONS] [PATH]"));
    let r = env.run(&["-V"], "").ok();
    assert!(r.stdout.starts_with("sql-shell "));
}

#[test]
fn a_missing_script_file_is_an_error_not_a_crash() {
    let env = Env::new();
    let r = env.run(
        &[
            ":memory:",
            "-f",
            "/nonexistent/x.sql",
            "-c",
            "select 1 as a",
        ],
        "",
    );
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("cannot open /nonexistent/x.sql"),
        "{r:#?}"
    );
    assert!(r.stdout.contains(" a\n"), "later actions still run: {r:#?}");
}

/// Each statement's result is on stdout as soon as the statement is done,
/// while stdin is still open: the shell reads and runs a pipe line by
/// line, and flushes per statement.
#[test]
fn results_are_flushed_per_statement() {
    let env = Env::new();
    let mut child = common::command(env.home())
        .arg(":memory:")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |want: &str| {
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(l) if l == want => return,
                Ok(_) => continue,
                Err(e) => panic!("no {want:?} on stdout while stdin is open: {e}"),
            }
        }
    };
    stdin
        .write_all(b"create table t (a int);\nselect 41 + 1 as answer;\n")
        .unwrap();
    stdin.flush().unwrap();
    wait_for("     42");
    stdin.write_all(b"select 'second' as s;\n").unwrap();
    stdin.flush().unwrap();
    wait_for(" second");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}

/// `sql-shell ... | head -1`: when the reader goes away the shell stops
/// quietly with status 141 (as if killed by SIGPIPE), without an error.
#[test]
fn a_closed_stdout_ends_the_shell_quietly() {
    let env = Env::new();
    let db = env.db("pipe.db");
    env.run(
        &[
            &db,
            "-c",
            "create table d (x integer primary key); insert into d values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
             create table n (x integer primary key); \
             insert into n select a.x * 1000 + b.x * 100 + c.x * 10 + e.x from d a, d b, d c, d e",
        ],
        "",
    )
    .ok();
    let mut child = common::command(env.home())
        .args([&db, "--csv", "-c", "select * from n a, n b"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "");
}
