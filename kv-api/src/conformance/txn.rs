//! Transaction cases: read-your-writes, first-committer-wins conflicts,
//! rollback.

use std::collections::BTreeMap;

use super::{Factory, b, model_scan, scan};
use crate::{Direction, Error, KeyRange, KvIterator, WriteOptions};

/// A transaction sees its own puts, deletes and range deletes merged over its
/// snapshot, in gets, scans in both directions and seeks, and does not see
/// writes committed by others after it began.
pub fn transaction_read_your_writes(f: Factory) {
    let s = f();
    for k in ["a", "b", "c", "d", "e", "f"] {
        s.put(k.as_bytes(), b"base").unwrap();
    }
    s.flush().unwrap();
    let mut t = s.begin().unwrap();
    t.put(b"b", b"mine").unwrap();
    t.put(b"bb", b"new").unwrap();
    t.delete(b"c").unwrap();
    t.put(b"x", b"tail").unwrap();
    t.put(b"y", b"doomed").unwrap();
    t.delete_range(b"d", b"f").unwrap(); // hides d, e of the snapshot
    t.put(b"e", b"revived").unwrap(); // a put after the range delete shows
    t.delete_range(b"xa", b"z").unwrap(); // removes the buffered "y"
    s.put(b"a", b"outside").unwrap(); // committed by someone else later
    s.put(b"zz", b"outside").unwrap();

    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (k, v) in [
        ("a", "base"),
        ("b", "mine"),
        ("bb", "new"),
        ("e", "revived"),
        ("f", "base"),
        ("x", "tail"),
    ] {
        model.insert(b(k), b(v));
    }
    for (k, v) in &model {
        assert_eq!(
            t.get(k).unwrap().as_ref(),
            Some(v),
            "txn get {}",
            crate::display_key(k)
        );
    }
    for k in ["c", "d", "y", "zz"] {
        assert_eq!(t.get(k.as_bytes()).unwrap(), None, "txn get {k}");
    }
    for dir in [Direction::Forward, Direction::Reverse] {
        for range in [
            KeyRange::all(),
            KeyRange::half_open(b("b"), b("x")),
            KeyRange::prefix(b"b"),
        ] {
            assert_eq!(
                scan(&*t, range.clone(), dir),
                model_scan(&model, &range, dir),
                "txn scan {range:?} {dir:?}"
            );
        }
    }
    let mut it = t.iter(KeyRange::all(), Direction::Forward).unwrap();
    it.seek(b"ba").unwrap();
    assert_eq!(next_key(&mut it), Some(b("bb")));
    assert_eq!(next_key(&mut it), Some(b("e")));
    it.seek(b"").unwrap();
    assert_eq!(next_key(&mut it), Some(b("a")));
    let mut it = t.iter(KeyRange::all(), Direction::Reverse).unwrap();
    it.seek(b"d").unwrap();
    assert_eq!(next_key(&mut it), Some(b("bb")));

    // An iterator keeps the writes it was created with.
    let mut it = t.iter(KeyRange::all(), Direction::Forward).unwrap();
    t.put(b"aa", b"later").unwrap();
    let keys: Vec<Vec<u8>> = std::iter::from_fn(|| next_key(&mut it)).collect();
    assert!(
        !keys.contains(&b("aa")),
        "iterator saw a write made after its creation"
    );
    assert_eq!(t.get(b"aa").unwrap(), Some(b("later")));

    t.commit(&WriteOptions::default()).unwrap();
    model.insert(b("aa"), b("later"));
    model.insert(b("a"), b("outside"));
    model.insert(b("zz"), b("outside"));
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Forward),
        model_scan(&model, &KeyRange::all(), Direction::Forward)
    );
}

fn next_key(it: &mut Box<dyn KvIterator>) -> Option<Vec<u8>> {
    it.next().unwrap().map(|(k, _)| k.to_vec())
}

fn expect_conflict(r: crate::Result<()>, what: &str) {
    match r {
        Err(e @ Error::Conflict { .. }) => {
            assert!(e.is_retryable(), "{what}: conflicts must be retryable")
        }
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

/// Snapshot isolation's write rule: a transaction that writes a key written
/// by a later-committed writer fails with a retryable conflict and writes
/// nothing; disjoint writers and readers never conflict.
pub fn transaction_conflicts_first_committer_wins(f: Factory) {
    let s = f();
    let w = WriteOptions::default();
    s.put(b"k", b"0").unwrap();

    // Two transactions write the same key: the first to commit wins.
    let mut t1 = s.begin().unwrap();
    let mut t2 = s.begin().unwrap();
    t1.put(b"k", b"t1").unwrap();
    t2.put(b"k", b"t2").unwrap();
    t2.put(b"t2-only", b"x").unwrap();
    t1.commit(&w).unwrap();
    expect_conflict(t2.commit(&w), "same key");
    assert_eq!(s.get(b"k").unwrap(), Some(b("t1")));
    assert_eq!(
        s.get(b"t2-only").unwrap(),
        None,
        "a failed commit writes nothing"
    );

    // Disjoint keys: both commit, in either order.
    let mut t1 = s.begin().unwrap();
    let mut t2 = s.begin().unwrap();
    t1.put(b"d1", b"1").unwrap();
    t2.put(b"d2", b"2").unwrap();
    t2.commit(&w).unwrap();
    t1.commit(&w).unwrap();
    assert_eq!(s.get(b"d1").unwrap(), Some(b("1")));
    assert_eq!(s.get(b"d2").unwrap(), Some(b("2")));

    // A plain write counts as a committed writer.
    let mut t = s.begin().unwrap();
    t.put(b"k", b"txn").unwrap();
    s.put(b"k", b"plain").unwrap();
    expect_conflict(t.commit(&w), "plain write after begin");

    // A delete is a write, on either side.
    let mut t = s.begin().unwrap();
    t.put(b"k", b"txn").unwrap();
    s.delete(b"k").unwrap();
    expect_conflict(t.commit(&w), "concurrent delete");
    let mut t = s.begin().unwrap();
    t.delete(b"d1").unwrap();
    s.put(b"d1", b"changed").unwrap();
    expect_conflict(t.commit(&w), "delete against a concurrent put");

    // A transaction's range delete conflicts with a write inside the range.
    let mut t = s.begin().unwrap();
    t.delete_range(b"d", b"e").unwrap();
    s.put(b"d2", b"racing").unwrap();
    expect_conflict(t.commit(&w), "range delete over a concurrent write");
    assert_eq!(s.get(b"d1").unwrap(), Some(b("changed")));

    // Reads never conflict: a transaction that only read commits.
    let mut t = s.begin().unwrap();
    assert_eq!(t.get(b"d2").unwrap(), Some(b("racing")));
    s.put(b"d2", b"moved on").unwrap();
    assert_eq!(
        t.get(b"d2").unwrap(),
        Some(b("racing")),
        "transaction reads its snapshot"
    );
    t.put(b"unrelated", b"ok").unwrap();
    t.commit(&w).unwrap();

    // A transaction begun after a commit sees it and does not conflict with it.
    s.put(b"k", b"base").unwrap();
    let mut t = s.begin().unwrap();
    assert_eq!(t.get(b"k").unwrap(), Some(b("base")));
    t.put(b"k", b"next").unwrap();
    t.commit(&WriteOptions::SYNC).unwrap();
    assert_eq!(s.get(b"k").unwrap(), Some(b("next")));

    // A conflict survives a flush in between.
    let mut t = s.begin().unwrap();
    t.put(b"k", b"late").unwrap();
    s.put(b"k", b"early").unwrap();
    s.flush().unwrap();
    expect_conflict(t.commit(&w), "conflicting write already flushed");
    assert_eq!(s.get(b"k").unwrap(), Some(b("early")));
}

/// Rolled back and dropped transactions leave no trace; savepoints undo
/// exactly the writes made after them.
pub fn transaction_rollback_and_drop_discard(f: Factory) {
    let s = f();
    s.put(b"keep", b"1").unwrap();

    let mut t = s.begin().unwrap();
    t.put(b"s1", b"first").unwrap();
    t.set_savepoint();
    t.put(b"s1", b"second").unwrap();
    t.put(b"s2", b"x").unwrap();
    t.delete(b"keep").unwrap();
    t.set_savepoint();
    t.delete_range(b"", b"\xff").unwrap();
    assert_eq!(t.get(b"s1").unwrap(), None);
    t.rollback_to_savepoint().unwrap();
    assert_eq!(t.get(b"s1").unwrap(), Some(b("second")));
    assert_eq!(t.get(b"keep").unwrap(), None);
    t.rollback_to_savepoint().unwrap();
    assert_eq!(t.get(b"s1").unwrap(), Some(b("first")));
    assert_eq!(t.get(b"s2").unwrap(), None);
    assert_eq!(t.get(b"keep").unwrap(), Some(b("1")));
    assert!(matches!(
        t.rollback_to_savepoint(),
        Err(Error::InvalidArgument(_))
    ));
    t.set_savepoint();
    t.put(b"s3", b"kept").unwrap();
    t.release_savepoint();
    t.commit(&WriteOptions::default()).unwrap();
    assert_eq!(s.get(b"s1").unwrap(), Some(b("first")));
    assert_eq!(s.get(b"s3").unwrap(), Some(b("kept")));
    let mut t = s.begin().unwrap();
    t.delete(b"s1").unwrap();
    t.delete(b"s3").unwrap();
    t.commit(&WriteOptions::default()).unwrap();

    let mut t = s.begin().unwrap();
    t.put(b"a", b"x").unwrap();
    t.delete(b"keep").unwrap();
    t.delete_range(b"", b"\xff").unwrap();
    t.rollback();
    {
        let mut t = s.begin().unwrap();
        t.put(b"b", b"y").unwrap();
        // dropped without commit
    }
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Forward),
        vec![(b("keep"), b("1"))]
    );
    // An empty transaction commits trivially.
    s.begin().unwrap().commit(&WriteOptions::default()).unwrap();
}
