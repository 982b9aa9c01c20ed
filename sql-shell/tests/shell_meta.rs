//! Meta commands that involve files, time or other databases: `.read`
//! (nested, with positions in the right file, and a file reading itself),
//! `.timer`, `.open`, `.help`, `.stats`. The listing commands are in the
//! golden scripts (`tests/golden/meta.test`).

mod common;

use common::Env;

#[test]
fn read_runs_nested_scripts_and_reports_positions_in_them() {
    let env = Env::new();
    let dir = env.home();
    let inner = dir.join("inner.sql");
    let outer = dir.join("outer.sql");
    std::fs::write(&inner, "insert into t values (2);\n\nselect nope from t;\n").unwrap();
    std::fs::write(
        &outer,
        format!(
            "create table t (a int);\ninsert into t values (1);\n.read {}\n",
            inner.display()
        ),
    )
    .unwrap();
    let r = env.run(
        &[":memory:"],
        &format!(".read {}\nselect count(*) as n from t;\n", outer.display()),
    );
    assert_eq!(r.status, 1, "{r:#?}");
    assert!(r.stdout.ends_with(" n\n---\n 2\n(1 row)\n"), "{r:#?}");
    assert!(
        r.stderr.contains(&format!("--> {}:3:8", inner.display())),
        "the position is in the inner file: {r:#?}"
    );

    let selfish = dir.join("self.sql");
    std::fs::write(
        &selfish,
        format!("select 1 as once;\n.read {}\n", selfish.display()),
    )
    .unwrap();
    let r = env.run(
        &[
            ":memory:",
            "-q",
            "--no-header",
            "-c",
            &format!(".read {}", selfish.display()),
        ],
        "",
    );
    assert_eq!(r.stdout.matches(" 1\n").count(), 16, "{r:#?}");
    assert!(
        r.stderr.contains(".read nested more than 16 deep"),
        "{r:#?}"
    );
    assert_eq!(r.status, 1);
}

#[test]
fn timer_prints_elapsed_time() {
    let env = Env::new();
    let r = env
        .run(
            &[":memory:"],
            ".timer on\nselect 1 as a;\n.timer off\nselect 2 as b;\n",
        )
        .ok();
    assert_eq!(r.stdout.matches("Time: ").count(), 1, "{r:#?}");
    let line = r.stdout.lines().find(|l| l.starts_with("Time: ")).unwrap();
    assert!(line.ends_with(" ms"), "{line}");
    let ms: f64 = line["Time: ".len()..line.len() - 3].parse().unwrap();
    assert!((0.0..60_000.0).contains(&ms), "{line}");
    // In csv mode the time goes to stderr, keeping stdout pure data.
    let r = env.run(&[":memory:", "--csv", "--timer", "-c", "select 1 as a"], "");
    assert_eq!(r.stdout, "a\r\n1\r\n");
    assert!(r.stderr.starts_with("Time: "), "{r:#?}");
}

#[test]
fn open_switches_databases() {
    let env = Env::new();
    let a = env.db("a.db");
    let b = env.db("b.db");
    env.run(&[&b, "-c", "create table only_in_b (x int)"], "")
        .ok();
    let r = env
        .run(
            &[&a],
            &format!("create table only_in_a (x int);\n.tables\n.open {b}\n.tables\n"),
        )
        .ok();
    assert_eq!(r.stdout, "CREATE TABLE\nonly_in_a\nonly_in_b\n");
    // Opening a database that cannot be opened keeps the current one.
    let r = env.run(&[&a], ".open /proc/nope/x.db\n.tables\n");
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("cannot open database /proc/nope/x.db"),
        "{r:#?}"
    );
    assert_eq!(r.stdout, "only_in_a\n");
}

#[test]
fn help_and_stats() {
    let env = Env::new();
    let r = env.run(&[":memory:", "-c", ".help"], "").ok();
    for cmd in [
        ".tables", ".schema", ".indexes", ".mode", ".timer", ".read", ".stats", ".check", ".quit",
        ".export", ".import",
    ] {
        assert!(r.stdout.contains(cmd), "{cmd} missing from .help");
    }
    let db = env.db("s.db");
    let r = env
        .run(
            &[
                &db,
                "-c",
                "create table t (a int); insert into t values (1), (2)",
                "-c",
                ".stats",
            ],
            "",
        )
        .ok();
    assert!(r.stdout.contains("backend: engine"), "{r:#?}");
    assert!(
        r.stdout.contains("\ntables:\n  t  2 rows  0 indexes\n"),
        "{r:#?}"
    );
    // The stable names a user looks for: bytes written, levels.
    assert!(r.stdout.contains("\nbytes:\n  written.user "), "{r:#?}");
    assert!(
        r.stdout.contains("\nlevels:\n") && r.stdout.contains("\n  L0 "),
        "{r:#?}"
    );
    let raw = env.run(&[&db, "-c", ".stats raw"], "").ok();
    assert!(raw.stdout.starts_with("backend engine\n"), "{raw:#?}");
    assert!(
        raw.stdout.lines().all(|l| l.split(' ').count() == 2),
        "{raw:#?}"
    );
}

#[test]
fn export_and_import_through_the_binary() {
    let env = Env::new();
    let db = env.db("x.db");
    let file = env.home().join("out dir").join("t.parquet");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let f = file.display().to_string();
    let r = env.run(
        &[&db],
        &format!(
            "create table t (id integer primary key, v text);\n\
                 insert into t values (1, 'one'), (2, NULL);\n\
                 .export \"{f}\" t\n\
                 .export \"{f}\" select 1\n\
                 create table u (id integer primary key, v text);\n\
                 .import \"{f}\" u\n\
                 select * from u order by id;\n"
        ),
    );
    assert_eq!(
        r.status, 1,
        "the second export must refuse to overwrite: {r:#?}"
    );
    assert!(r.stderr.contains("exists"), "{r:#?}");
    assert!(
        r.stdout.contains(&format!("COPY 2 rows to {f} (parquet, ")),
        "{r:#?}"
    );
    assert!(
        r.stdout
            .contains(&format!("COPY 2 rows from {f} (parquet) into u")),
        "{r:#?}"
    );
    assert!(
        r.stdout.ends_with("  1 | one\n  2 | NULL\n(2 rows)\n"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("use .export --overwrite"), "{r:#?}");
    // No progress bar when stderr is not a terminal: stderr holds only the error.
    assert_eq!(
        r.stderr
            .lines()
            .filter(|l| l.starts_with("Error: "))
            .count(),
        1,
        "{r:#?}"
    );
}
