//! Shared helpers of the `export_*` integration tests: a table with every
//! column type, deterministic rows full of awkward values, and an exact
//! row comparison (reals by bit pattern, so -0.0 and NaN are checked too).

#![allow(dead_code)]

use std::sync::Arc;

use table_layer::{ColumnDef, DataType, Database, Direction, ScanRange, TableSpec, Value};

/// Columns of the test table: a primary key, each type nullable, and two
/// NOT NULL columns.
pub fn spec(name: &str) -> TableSpec {
    TableSpec::new(name)
        .column(ColumnDef::new("id", DataType::Integer))
        .column(ColumnDef::new("i", DataType::Integer))
        .column(ColumnDef::new("r", DataType::Real))
        .column(ColumnDef::new("s", DataType::Text))
        .column(ColumnDef::new("b", DataType::Blob))
        .column(ColumnDef::new("o", DataType::Boolean))
        .column(ColumnDef::new("i_nn", DataType::Integer).not_null())
        .column(ColumnDef::new("s_nn", DataType::Text).not_null())
        .primary_key(["id"])
}

/// A tiny deterministic generator (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TEXTS: &[&str] = &[
    "",
    "plain",
    "comma, inside",
    "quote \" inside",
    "\"starts and ends with quotes\"",
    "line\nbreak",
    "crlf\r\nbreak",
    "tab\there",
    "ünïcødé — ✓ 日本語 🦀",
    "\\x41 looks like hex",
    "NULL",
    " leading and trailing spaces ",
    "\u{0}nul byte",
];

const REALS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    1.0 / 3.0,
    1e300,
    -1e-300,
    5e-324,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

const INTS: &[i64] = &[0, 1, -1, i64::MIN, i64::MAX, 42, -9_007_199_254_740_993];

/// Row `id` of the test table: every nullable column is NULL in some rows
/// (each column on its own cycle), values drawn from the awkward lists and
/// random bytes.
pub fn row(id: i64, rng: &mut Rng) -> Vec<Value> {
    let pick = |rng: &mut Rng, period: u64| rng.below(period) == 0;
    let i = if pick(rng, 5) {
        Value::Null
    } else if pick(rng, 2) {
        Value::Integer(INTS[rng.below(INTS.len() as u64) as usize])
    } else {
        Value::Integer(rng.next() as i64)
    };
    let r = if pick(rng, 6) {
        Value::Null
    } else if pick(rng, 2) {
        Value::Real(REALS[rng.below(REALS.len() as u64) as usize])
    } else {
        Value::Real(f64::from_bits(rng.next()))
    };
    let s = if pick(rng, 7) {
        Value::Null
    } else {
        let base = TEXTS[rng.below(TEXTS.len() as u64) as usize];
        Value::Text(format!(
            "{base}{}",
            if pick(rng, 2) {
                id.to_string()
            } else {
                String::new()
            }
        ))
    };
    let b = if pick(rng, 4) {
        Value::Null
    } else {
        let len = rng.below(40) as usize;
        Value::Blob((0..len).map(|_| rng.next() as u8).collect())
    };
    let o = if pick(rng, 3) {
        Value::Null
    } else {
        Value::Boolean(pick(rng, 2))
    };
    vec![
        Value::Integer(id),
        i,
        r,
        s,
        b,
        o,
        Value::Integer(id * 7 - 3),
        Value::Text(format!("row {id} ✓")),
    ]
}

/// A row with every nullable column NULL.
pub fn null_row(id: i64) -> Vec<Value> {
    vec![
        Value::Integer(id),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Integer(0),
        Value::Text(String::new()),
    ]
}

/// A row holding every byte value in its blob and the empty forms.
pub fn edge_row(id: i64) -> Vec<Value> {
    vec![
        Value::Integer(id),
        Value::Integer(i64::MIN),
        Value::Real(-0.0),
        Value::Text(String::new()),
        Value::Blob((0..=255u8).collect()),
        Value::Boolean(false),
        Value::Integer(i64::MAX),
        Value::Text("🦀".repeat(1000)),
    ]
}

/// A database over MemStore with table `name` holding `n` rows (plus the
/// NULL row and the edge row when `n > 0`).
pub fn filled(name: &str, n: i64, seed: u64) -> (Database, Vec<Vec<Value>>) {
    let db = Database::open(Arc::new(kv_api::MemStore::new())).unwrap();
    db.create_table(spec(name)).unwrap();
    let rows = fill(&db, name, n, seed);
    (db, rows)
}

/// Insert the rows `filled` describes into an existing table; returns them
/// in primary-key order.
pub fn fill(db: &Database, name: &str, n: i64, seed: u64) -> Vec<Vec<Value>> {
    let mut rng = Rng::new(seed);
    let mut rows: Vec<Vec<Value>> = (1..=n).map(|id| row(id, &mut rng)).collect();
    if n > 0 {
        rows.push(null_row(n + 1));
        rows.push(edge_row(n + 2));
    }
    for chunk in rows.chunks(5000) {
        db.run_with_retry(1, |txn| {
            for r in chunk {
                txn.insert(name, r)?;
            }
            Ok(())
        })
        .unwrap();
    }
    rows
}

/// Every row of a table in primary-key order.
pub fn scan(db: &Database, name: &str) -> Vec<Vec<Value>> {
    let txn = db.begin().unwrap();
    txn.scan(name, ScanRange::all(), Direction::Forward)
        .unwrap()
        .map(|r| r.unwrap().values)
        .collect()
}

/// A value in a form where equality is exact: reals by bit pattern (one
/// NaN), everything else by its Debug form.
pub fn exact(v: &Value) -> String {
    match v {
        Value::Real(r) if r.is_nan() => "Real(NaN)".into(),
        Value::Real(r) => format!("Real({:#018x})", r.to_bits()),
        other => format!("{other:?}"),
    }
}

/// Assert two row lists are exactly equal, naming the first difference.
pub fn assert_same_rows(got: &[Vec<Value>], want: &[Vec<Value>]) {
    assert_eq!(got.len(), want.len(), "row counts differ");
    for (n, (g, w)) in got.iter().zip(want).enumerate() {
        let g: Vec<String> = g.iter().map(exact).collect();
        let w: Vec<String> = w.iter().map(exact).collect();
        assert_eq!(g, w, "row {} differs", n + 1);
    }
}
