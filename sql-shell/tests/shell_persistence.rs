//! Data outlives the process: create and fill in one run, quit, reopen in
//! another, and everything (rows, schema, indexes) is there; the default
//! database path is stable across runs.

mod common;

use common::Env;

#[test]
fn rows_schema_and_indexes_survive_a_restart() {
    let env = Env::new();
    let db = env.db("persist.db");
    env.run(
        &[&db],
        "create table notes (id integer primary key, body text not null, stars int default 0);\n\
         create index notes_by_stars on notes (stars desc);\n\
         insert into notes (id, body) values (1, 'first');\n\
         insert into notes values (2, 'second', 5);\n\
         begin;\ninsert into notes values (3, 'committed', 1);\ncommit;\n\
         begin;\ninsert into notes values (4, 'never committed', 9);\n",
    );
    let r = env
        .run(
            &[
                &db,
                "--csv",
                "-c",
                "select id, body, stars from notes order by id",
            ],
            "",
        )
        .ok();
    assert_eq!(
        r.stdout,
        "id,body,stars\r\n1,first,0\r\n2,second,5\r\n3,committed,1\r\n"
    );
    let r = env.run(&[&db, "-c", ".schema", "-c", ".check"], "").ok();
    assert!(
        r.stdout
            .contains("CREATE INDEX notes_by_stars ON notes (stars DESC);"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("stars INTEGER DEFAULT 0"), "{r:#?}");
    assert!(r.stdout.contains("3 rows, 3 index entries: ok"), "{r:#?}");
    let r = env
        .run(
            &[
                &db,
                "-c",
                "explain select body from notes order by stars desc limit 1",
            ],
            "",
        )
        .ok();
    assert!(
        r.stdout.contains("notes_by_stars"),
        "the index is still used: {r:#?}"
    );
}

#[test]
fn the_default_database_is_the_same_across_runs() {
    let env = Env::new();
    env.run(
        &["-q"],
        "create table hello (x text); insert into hello values ('again');",
    )
    .ok();
    let r = env
        .run(&["--no-header", "-c", "select x from hello"], "")
        .ok();
    assert_eq!(r.stdout, " again\n");
    assert!(env.home().join("data/hive/default.db").is_dir());
    // HIVE_DB moves it.
    let other = env.db("elsewhere.db");
    let r = common::command(env.home())
        .env("HIVE_DB", &other)
        .args(["-c", "select count(*) from hello"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1), "a fresh database has no table");
    assert!(std::path::Path::new(&other).is_dir());
}
