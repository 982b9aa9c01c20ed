//! Write the seed corpora of every fuzz target into `corpus/<target>/`
//! (committed): valid inputs the fuzzer mutates from. Run from `fuzz/`:
//! `cargo run --example seed_corpora`.

use std::path::Path;

use engine::fs::FileSystem;
use table_layer::codec::key::encode_value;
use table_layer::codec::row::encode_fields;
use table_layer::{DataType, SortOrder, Value};

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    std::fs::write(dir.join(name), data).expect("write seed");
}

const SQL: &[&str] = &[
    "SELECT * FROM t WHERE id = 1",
    "SELECT name, score FROM t WHERE score > 1 ORDER BY score DESC LIMIT 2",
    "SELECT count(*), sum(score), avg(score), min(name), max(id) FROM t GROUP BY flag HAVING count(*) > 0",
    "SELECT t.name, u.b FROM t JOIN u ON t.id = u.a WHERE u.b IN ('x', 'y')",
    "SELECT * FROM t LEFT JOIN u ON t.id = u.a ORDER BY 1, 2",
    "SELECT DISTINCT a FROM u WHERE EXISTS (SELECT 1 FROM t WHERE t.id = u.a)",
    "SELECT (SELECT max(id) FROM t), CASE WHEN 1 THEN 'a' ELSE 'b' END, CAST('12' AS INTEGER)",
    "SELECT * FROM (SELECT id * 2 AS d FROM t) WHERE d BETWEEN 2 AND 4",
    "SELECT coalesce(NULL, score, 0), nullif(id, 2), abs(-3), length(name), lower(name), upper(name), substr(name, 2, 2), round(score, 1) FROM t",
    "SELECT name || '!' FROM t WHERE name LIKE 't%' AND score IS NOT NULL",
    "INSERT INTO t VALUES (4, 'four', 4.5, X'04', true)",
    "INSERT INTO t (id, name) SELECT a + 10, b || a FROM u",
    "UPDATE t SET score = score * 2, name = name || '2' WHERE id >= 2",
    "DELETE FROM t WHERE score IS NULL OR id = 3",
    "BEGIN; INSERT INTO u VALUES (3, 'z'); UPDATE u SET b = 'w' WHERE a = 1; ROLLBACK",
    "BEGIN; DELETE FROM u; INSERT INTO u VALUES (5, 'q'); COMMIT",
    "CREATE TABLE v (k INTEGER PRIMARY KEY, s TEXT DEFAULT 'd', r REAL NOT NULL)",
    "CREATE UNIQUE INDEX u_b ON u (b, a); DROP INDEX u_b",
    "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7; SELECT extra FROM t",
    "DROP TABLE IF EXISTS u; CREATE TABLE IF NOT EXISTS u (a INTEGER PRIMARY KEY)",
    "EXPLAIN SELECT * FROM t WHERE score >= 1.5 AND score < 4 ORDER BY score",
    "SELECT 9223372036854775807 + 1, -9223372036854775808 / -1, 1 / 0, 5 % 0",
    "SELECT * FROM t WHERE id IN (SELECT a FROM u) AND name NOT IN ('x')",
    "INSERT INTO t VALUES (1, 'dup', NULL, NULL, NULL)",
    "SELECT * FROM t ORDER BY score IS NULL, score LIMIT 1 OFFSET 1",
];

fn main() {
    // SQL: hand-written statements and the bad-input catalogue's short cases.
    for (i, s) in SQL.iter().enumerate() {
        write("sql", &format!("seed-{i:03}"), s.as_bytes());
    }
    let catalogue = include_str!("../../tests/reliability/bad_inputs.txt");
    for (i, line) in catalogue.lines().enumerate() {
        if line.starts_with('#') || line.contains("{{") {
            continue;
        }
        if let Some((_, sql)) = line.split_once(" | ") {
            write("sql", &format!("bad-{i:03}"), sql.as_bytes());
        }
    }

    // Key codec: order byte, then encoded values.
    let values = [
        Value::Null,
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Real(-0.0),
        Value::Real(1.5),
        Value::Real(f64::INFINITY),
        Value::Real(f64::NAN),
        Value::Text(String::new()),
        Value::Text("a\0b\u{ff}".into()),
        Value::Blob(vec![0, 0xff, 0]),
        Value::Boolean(true),
    ];
    for (o, order) in [SortOrder::Asc, SortOrder::Desc].into_iter().enumerate() {
        let mut all = vec![o as u8];
        for (i, v) in values.iter().enumerate() {
            let mut one = vec![o as u8];
            encode_value(&mut one, v, order);
            encode_value(&mut all, v, order);
            write("key_codec", &format!("seed-{o}-{i:02}"), &one);
        }
        write("key_codec", &format!("seed-{o}-all"), &all);
    }

    // Row codec: column count, type bytes, encoded row.
    let rows: [(&[DataType], Vec<Value>); 3] = [
        (
            &[DataType::Integer, DataType::Text, DataType::Real],
            vec![
                Value::Integer(-3),
                Value::Text("hi".into()),
                Value::Real(2.5),
            ],
        ),
        (
            &[
                DataType::Blob,
                DataType::Boolean,
                DataType::Integer,
                DataType::Text,
            ],
            vec![
                Value::Blob(vec![1, 2]),
                Value::Null,
                Value::Boolean(true),
                Value::Null,
            ],
        ),
        (
            &[DataType::Integer; 9],
            (0..9).map(|i| Value::Integer(i * 1000)).collect(),
        ),
    ];
    for (i, (types, vals)) in rows.iter().enumerate() {
        let code = |t: &DataType| match t {
            DataType::Integer => 0u8,
            DataType::Real => 1,
            DataType::Text => 2,
            DataType::Blob => 3,
            DataType::Boolean => 4,
        };
        let mut seed = vec![types.len() as u8];
        seed.extend(types.iter().map(code));
        encode_fields(&mut seed, (i + 1) as u32, types, vals.iter());
        write("row_codec", &format!("seed-{i}"), &seed);
    }

    // Engine files from the template database.
    let fs = hive_fuzz::template();
    for name in fs.files(Path::new(hive_fuzz::DIR)) {
        let data = fs
            .read_all(&Path::new(hive_fuzz::DIR).join(&name))
            .expect("read template file");
        if name.ends_with(".sst") {
            write("sstable", &name, &data);
        } else if name.ends_with(".log") {
            write("log_records", &name, &data);
            write("log_replay", &name, &data);
        } else if name.starts_with("MANIFEST-") {
            write("log_records", &name, &data);
            write("manifest", &name, &data);
        }
    }
    println!("seed corpora written under corpus/");
}
