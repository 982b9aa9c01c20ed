//! The lock file: a second open of the same directory, in this process or
//! another, fails with `Error::Locked`; closing releases it.

use kv_api::{Error, KvStore};

#[test]
fn second_open_is_refused_until_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine::Db::open(dir.path(), engine::Options::default()).unwrap();
    match engine::Db::open(dir.path(), engine::Options::default()) {
        Err(Error::Locked { path }) => assert!(path.ends_with("LOCK")),
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("expected Locked, the second open succeeded"),
    }
    db.close().unwrap();
    let again = engine::Db::open(dir.path(), engine::Options::default()).unwrap();
    drop(again); // dropping the last handle also closes
    engine::Db::open(dir.path(), engine::Options::default()).unwrap();
}
