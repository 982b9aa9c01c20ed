//! SQLite through rusqlite (bundled): WAL mode, `synchronous=NORMAL` (no
//! fsync per commit; the WAL is synced at checkpoints), one
//! `WITHOUT ROWID` key/value table, cached prepared statements, a
//! transaction per batch; fillsync switches to `synchronous=FULL`.
//! Writes and reads use separate connections so that a reader never waits
//! for the writer (WAL mode allows both at once).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OptionalExtension, params};

use super::{CACHE_BYTES, Engine, Factory};

struct Sqlite {
    w: Mutex<Connection>,
    r: Mutex<Connection>,
    full_sync: AtomicBool,
}

const PUT: &str = "INSERT OR REPLACE INTO kv(k, v) VALUES (?1, ?2)";

fn connect(path: &Path) -> Connection {
    let c = Connection::open(path).expect("open sqlite");
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-{};",
        CACHE_BYTES / 1024
    ))
    .expect("sqlite pragmas");
    c.set_prepared_statement_cache_capacity(16);
    c
}

pub fn factory() -> Factory {
    Factory {
        id: "sqlite",
        name: "SQLite (rusqlite 0.43)",
        settings: "WAL mode, synchronous=NORMAL (fillsync*: FULL), 64 MiB page cache, \
                   CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID, cached \
                   prepared statements, one transaction per batch, one write connection \
                   and one read connection",
        open: |dir: &Path| {
            let path = dir.join("kv.sqlite");
            let w = connect(&path);
            w.execute_batch(
                "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID",
            )
            .expect("create table");
            let r = connect(&path);
            Box::new(Sqlite {
                w: Mutex::new(w),
                r: Mutex::new(r),
                full_sync: AtomicBool::new(false),
            })
        },
    }
}

impl Engine for Sqlite {
    fn put(&self, key: &[u8], value: &[u8]) {
        let c = self.w.lock().expect("lock");
        c.prepare_cached(PUT)
            .expect("prepare")
            .execute(params![key, value])
            .expect("put");
    }

    fn put_sync(&self, key: &[u8], value: &[u8]) {
        let c = self.w.lock().expect("lock");
        if !self.full_sync.swap(true, Ordering::Relaxed) {
            c.execute_batch("PRAGMA synchronous=FULL").expect("pragma");
        }
        c.prepare_cached(PUT)
            .expect("prepare")
            .execute(params![key, value])
            .expect("put");
    }

    fn put_batch(&self, entries: &[(&[u8], &[u8])]) {
        let mut c = self.w.lock().expect("lock");
        let tx = c.transaction().expect("begin");
        {
            let mut st = tx.prepare_cached(PUT).expect("prepare");
            for (k, v) in entries {
                st.execute(params![k, v]).expect("put");
            }
        }
        tx.commit().expect("commit");
    }

    fn get(&self, key: &[u8]) -> bool {
        let c = self.r.lock().expect("lock");
        let mut st = c
            .prepare_cached("SELECT v FROM kv WHERE k = ?1")
            .expect("prepare");
        st.query_row(params![key], |row| Ok(row.get_ref(0)?.as_bytes()?.len()))
            .optional()
            .expect("get")
            .is_some()
    }

    fn seek_and_next(&self, key: &[u8], n: usize) -> usize {
        let c = self.r.lock().expect("lock");
        let mut st = c
            .prepare_cached("SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2")
            .expect("prepare");
        let mut rows = st.query(params![key, n as i64]).expect("seek");
        let mut count = 0;
        while let Some(row) = rows.next().expect("next") {
            let k = row.get_ref(0).expect("k").as_bytes().expect("blob").len();
            let v = row.get_ref(1).expect("v").as_bytes().expect("blob").len();
            std::hint::black_box((k, v));
            count += 1;
        }
        count
    }

    fn read_all(&self) -> usize {
        let c = self.r.lock().expect("lock");
        let mut st = c
            .prepare_cached("SELECT k, v FROM kv ORDER BY k")
            .expect("prepare");
        let mut rows = st.query([]).expect("scan");
        let mut count = 0;
        while let Some(row) = rows.next().expect("next") {
            let k = row.get_ref(0).expect("k").as_bytes().expect("blob").len();
            let v = row.get_ref(1).expect("v").as_bytes().expect("blob").len();
            std::hint::black_box((k, v));
            count += 1;
        }
        count
    }

    fn stats_line(&self) -> String {
        format!("SQLite {} (bundled)", rusqlite::version())
    }
}
