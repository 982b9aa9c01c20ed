//! Single-threaded cases: ordering, bounds, seek, delete-range, sizes, limits,
//! lifecycle.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::{Factory, b, model_scan, scan, show};
use crate::{Direction, Error, KeyRange, WriteBatch, WriteOptions};

const BOTH: [Direction; 2] = [Direction::Forward, Direction::Reverse];

/// Binary keys sort bytewise: the empty key first, `0x00` bytes and prefixes
/// before extensions, `0xFF` bytes last, long keys in their place.
pub fn binary_key_ordering(f: Factory) {
    let s = f();
    let long_a = [vec![b'a'; 1000], vec![0]].concat();
    let long_b = vec![b'a'; 5000];
    let mut keys: Vec<Vec<u8>> = vec![
        b(""),
        b([0]),
        b([0, 0]),
        b([0, 1]),
        b([1]),
        b("a"),
        b("a\x00"),
        b("a\x00\x00"),
        b("a\x01"),
        b("ab"),
        b("b"),
        b([0x7f]),
        b([0x80]),
        b([0xfe, 0xff]),
        b([0xff]),
        b([0xff, 0x00]),
        b([0xff, 0xff]),
        b([0xff, 0xff, 0xff]),
        long_a,
        long_b,
    ];
    // Write in a scrambled order, half before a flush and half after.
    let n = keys.len();
    for (i, k) in keys.iter().enumerate().rev() {
        s.put(k, &(i as u32).to_be_bytes()).unwrap();
        if i == n / 2 {
            s.flush().unwrap();
        }
    }
    keys.sort();
    let fwd = scan(&*s.store, KeyRange::all(), Direction::Forward);
    let got: Vec<Vec<u8>> = fwd.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(got, keys, "forward order of binary keys: {}", show(&fwd));
    let rev = scan(&*s.store, KeyRange::all(), Direction::Reverse);
    let mut back: Vec<Vec<u8>> = rev.iter().map(|(k, _)| k.clone()).collect();
    back.reverse();
    assert_eq!(back, keys, "reverse order of binary keys");
    for k in &keys {
        assert!(s.get(k).unwrap().is_some(), "get {}", crate::display_key(k));
    }
    assert_eq!(s.get(b"\x00\x00\x00").unwrap(), None);
    assert_eq!(s.get(b"a\x00\x01").unwrap(), None);
    // The empty key can be overwritten and deleted like any other.
    s.put(b"", b"empty").unwrap();
    assert_eq!(s.get(b"").unwrap(), Some(b("empty")));
    s.delete(b"").unwrap();
    assert_eq!(s.get(b"").unwrap(), None);
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Forward).len(),
        keys.len() - 1
    );
}

/// Put, overwrite, delete and read back, across a flush; empty values are
/// values, not deletions.
pub fn point_reads_and_overwrites(f: Factory) {
    let s = f();
    assert_eq!(s.get(b"missing").unwrap(), None);
    s.delete(b"missing").unwrap(); // deleting an absent key is fine
    s.put(b"k1", b"v1").unwrap();
    s.put(b"k2", b"").unwrap();
    assert_eq!(s.get(b"k1").unwrap(), Some(b("v1")));
    assert_eq!(
        s.get(b"k2").unwrap(),
        Some(b("")),
        "an empty value is a value"
    );
    s.flush().unwrap();
    s.put(b"k1", b"v1b").unwrap();
    assert_eq!(s.get(b"k1").unwrap(), Some(b("v1b")));
    s.delete(b"k2").unwrap();
    assert_eq!(s.get(b"k2").unwrap(), None);
    s.flush().unwrap();
    assert_eq!(s.get(b"k1").unwrap(), Some(b("v1b")));
    assert_eq!(s.get(b"k2").unwrap(), None);
    s.put(b"k2", b"again").unwrap();
    assert_eq!(s.get(b"k2").unwrap(), Some(b("again")));
    // Many versions of one key, flushed in between.
    for i in 0..50u32 {
        s.put(b"hot", &i.to_be_bytes()).unwrap();
        if i % 10 == 0 {
            s.flush().unwrap();
        }
    }
    assert_eq!(s.get(b"hot").unwrap(), Some(49u32.to_be_bytes().to_vec()));
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Forward)
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>(),
        vec![b("hot"), b("k1"), b("k2")]
    );
    // An empty batch is a valid no-op.
    s.write(WriteBatch::new(), &WriteOptions::SYNC).unwrap();
}

/// Every combination of unbounded, included and excluded start and end
/// bounds, at present and absent keys, in both directions, equals the model.
pub fn every_bound_combination(f: Factory) {
    let s = f();
    let present: Vec<Vec<u8>> = [
        &b""[..],
        b"\x00",
        b"\x00\x00",
        b"a",
        b"a\x00",
        b"ab",
        b"b",
        b"\xff",
        b"\xff\xff",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    let absent: Vec<Vec<u8>> = [&b"\x00\x01"[..], b"aa", b"c", b"\xfe", b"\xff\xff\xff"]
        .iter()
        .map(|k| k.to_vec())
        .collect();
    let mut model = BTreeMap::new();
    for (i, k) in present.iter().enumerate() {
        let v = format!("v{i}").into_bytes();
        s.put(k, &v).unwrap();
        model.insert(k.clone(), v);
        if i == 4 {
            s.flush().unwrap();
        }
    }
    // A deleted key must not reappear at any bound.
    s.put(b"aa", b"gone").unwrap();
    s.delete(b"aa").unwrap();

    let mut bounds = vec![Bound::Unbounded];
    for p in present.iter().chain(absent.iter()) {
        bounds.push(Bound::Included(p.clone()));
        bounds.push(Bound::Excluded(p.clone()));
    }
    for start in &bounds {
        for end in &bounds {
            let range = KeyRange::new(start.clone(), end.clone());
            for dir in BOTH {
                let got = scan(&*s.store, range.clone(), dir);
                let want = model_scan(&model, &range, dir);
                assert_eq!(
                    got,
                    want,
                    "range {range:?} {dir:?}: got {} want {}",
                    show(&got),
                    show(&want)
                );
            }
        }
    }
}

fn even_key(i: u16) -> Vec<u8> {
    (i * 2).to_be_bytes().to_vec()
}

/// Reverse iteration and seek: to present and absent keys, before and after
/// the range, backwards and forwards, after partial iteration.
pub fn reverse_iteration_and_seek(f: Factory) {
    let s = f();
    for i in 0..200u16 {
        s.put(&even_key(i), &i.to_be_bytes()).unwrap();
        if i == 120 {
            s.flush().unwrap();
        }
    }
    let next_key =
        |it: &mut Box<dyn crate::KvIterator>| it.next().unwrap().map(|(k, _)| k.to_vec());

    let mut it = s.iter(KeyRange::all(), Direction::Forward).unwrap();
    it.seek(&7u16.to_be_bytes()).unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(8u16.to_be_bytes())),
        "forward seek to absent key"
    );
    it.seek(&100u16.to_be_bytes()).unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(100u16.to_be_bytes())),
        "forward seek to present key"
    );
    assert_eq!(next_key(&mut it), Some(b(102u16.to_be_bytes())));
    it.seek(&2u16.to_be_bytes()).unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(2u16.to_be_bytes())),
        "forward seek backwards"
    );
    it.seek(&1000u16.to_be_bytes()).unwrap();
    assert_eq!(next_key(&mut it), None, "forward seek past the last key");
    it.seek(b"").unwrap();
    assert_eq!(next_key(&mut it), Some(b(0u16.to_be_bytes())));

    let mut it = s.iter(KeyRange::all(), Direction::Reverse).unwrap();
    assert_eq!(next_key(&mut it), Some(b(398u16.to_be_bytes())));
    it.seek(&7u16.to_be_bytes()).unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(6u16.to_be_bytes())),
        "reverse seek to absent key"
    );
    assert_eq!(next_key(&mut it), Some(b(4u16.to_be_bytes())));
    it.seek(&300u16.to_be_bytes()).unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(300u16.to_be_bytes())),
        "reverse seek forwards"
    );
    it.seek(b"\x00").unwrap();
    assert_eq!(next_key(&mut it), None, "reverse seek below the first key");
    it.seek(b"\xff\xff\xff").unwrap();
    assert_eq!(next_key(&mut it), Some(b(398u16.to_be_bytes())));

    // Seeks are clamped to the iterator's range.
    let range = KeyRange::new(
        Bound::Excluded(b(100u16.to_be_bytes())),
        Bound::Included(b(200u16.to_be_bytes())),
    );
    let mut it = s.iter(range.clone(), Direction::Forward).unwrap();
    it.seek(b"").unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(102u16.to_be_bytes())),
        "seek before range start"
    );
    it.seek(&250u16.to_be_bytes()).unwrap();
    assert_eq!(next_key(&mut it), None, "seek after range end");
    let mut it = s.iter(range, Direction::Reverse).unwrap();
    it.seek(b"\xff").unwrap();
    assert_eq!(
        next_key(&mut it),
        Some(b(200u16.to_be_bytes())),
        "reverse seek after range end"
    );
    it.seek(&100u16.to_be_bytes()).unwrap();
    assert_eq!(next_key(&mut it), None, "reverse seek onto excluded start");

    // Full reverse scan equals the forward scan reversed.
    let mut fwd = scan(&*s.store, KeyRange::all(), Direction::Forward);
    fwd.reverse();
    assert_eq!(fwd, scan(&*s.store, KeyRange::all(), Direction::Reverse));
    // Exhausted iterators stay exhausted.
    let mut it = s
        .iter(KeyRange::prefix(b"\xff"), Direction::Forward)
        .unwrap();
    assert_eq!(next_key(&mut it), None);
    assert_eq!(next_key(&mut it), None);
}

fn k2(i: u32) -> Vec<u8> {
    format!("k{i:02}").into_bytes()
}

/// Delete-range removes `[start, end)`, respects operation order inside a
/// batch, is a no-op when empty, hides flushed data, and leaves snapshots be.
pub fn delete_range_semantics(f: Factory) {
    let s = f();
    let mut model = BTreeMap::new();
    for i in 0..100 {
        s.put(&k2(i), b"v").unwrap();
        model.insert(k2(i), b("v"));
    }
    s.flush().unwrap();
    let before = s.snapshot().unwrap();

    let mut batch = WriteBatch::new();
    batch.delete_range(k2(10), k2(20));
    s.write(batch, &WriteOptions::default()).unwrap();
    for i in 10..20 {
        model.remove(&k2(i));
    }
    assert_eq!(s.get(&k2(10)).unwrap(), None);
    assert_eq!(s.get(&k2(19)).unwrap(), None);
    assert_eq!(
        s.get(&k2(20)).unwrap(),
        Some(b("v")),
        "end bound is exclusive"
    );
    assert_eq!(s.get(&k2(9)).unwrap(), Some(b("v")));

    // A put after the range delete shows through it.
    s.put(&k2(15), b"new").unwrap();
    model.insert(k2(15), b("new"));

    // Order inside one batch: put, delete-range over it, put again.
    let mut batch = WriteBatch::new();
    batch
        .put(k2(30), "x")
        .delete_range(k2(25), k2(35))
        .put(k2(32), "y");
    s.write(batch, &WriteOptions::default()).unwrap();
    for i in 25..35 {
        model.remove(&k2(i));
    }
    model.insert(k2(32), b("y"));
    assert_eq!(
        s.get(&k2(30)).unwrap(),
        None,
        "delete-range after a put in the same batch"
    );
    assert_eq!(
        s.get(&k2(32)).unwrap(),
        Some(b("y")),
        "put after delete-range in the same batch"
    );

    // Empty and inverted ranges remove nothing.
    let mut batch = WriteBatch::new();
    batch
        .delete_range(k2(50), k2(50))
        .delete_range(k2(60), k2(55));
    s.write(batch, &WriteOptions::default()).unwrap();

    for dir in BOTH {
        assert_eq!(
            scan(&*s.store, KeyRange::all(), dir),
            model_scan(&model, &KeyRange::all(), dir)
        );
    }
    s.flush().unwrap();
    // Range delete over flushed data, then everything, then rewrite.
    let mut batch = WriteBatch::new();
    batch.delete_range(k2(40), k2(90));
    s.write(batch, &WriteOptions::default()).unwrap();
    model.retain(|k, _| !(k.as_slice() >= &k2(40)[..] && k.as_slice() < &k2(90)[..]));
    for dir in BOTH {
        let range = KeyRange::half_open(k2(35), k2(95));
        assert_eq!(
            scan(&*s.store, range.clone(), dir),
            model_scan(&model, &range, dir)
        );
    }
    s.flush().unwrap();
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Forward),
        model_scan(&model, &KeyRange::all(), Direction::Forward)
    );

    let mut batch = WriteBatch::new();
    batch.delete_range(b(""), b(b"\xff\xff"));
    s.write(batch, &WriteOptions::default()).unwrap();
    assert!(scan(&*s.store, KeyRange::all(), Direction::Forward).is_empty());
    s.put(&k2(42), b"back").unwrap();
    assert_eq!(
        scan(&*s.store, KeyRange::all(), Direction::Reverse),
        vec![(k2(42), b("back"))]
    );

    // The snapshot from before all of it still sees the original 100 keys.
    assert_eq!(
        scan(&*before, KeyRange::all(), Direction::Forward).len(),
        100
    );
    assert_eq!(before.get(&k2(15)).unwrap(), Some(b("v")));
}

/// Values of several megabytes and many medium values round-trip through
/// gets, iterators and flushes.
pub fn large_values(f: Factory) {
    let s = f();
    let pattern = |seed: u8, len: usize| -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    let big1 = pattern(1, 1 << 20);
    let big3 = pattern(3, 3 << 20);
    s.put(b"big1", &big1).unwrap();
    s.put(b"big3", &big3).unwrap();
    for i in 0..100u32 {
        s.put(
            format!("med{i:03}").as_bytes(),
            &pattern(i as u8, 64 * 1024),
        )
        .unwrap();
    }
    let check = || {
        assert_eq!(s.get(b"big1").unwrap().as_deref(), Some(&big1[..]));
        assert_eq!(s.get(b"big3").unwrap().as_deref(), Some(&big3[..]));
        let meds = scan(&*s.store, KeyRange::prefix(b"med"), Direction::Reverse);
        assert_eq!(meds.len(), 100);
        for (k, v) in meds {
            let i: u32 = std::str::from_utf8(&k[3..]).unwrap().parse().unwrap();
            assert_eq!(
                v,
                pattern(i as u8, 64 * 1024),
                "value of {}",
                crate::display_key(&k)
            );
        }
        let bigs = scan(&*s.store, KeyRange::prefix(b"big"), Direction::Forward);
        assert_eq!(
            bigs,
            vec![(b("big1"), big1.clone()), (b("big3"), big3.clone())]
        );
    };
    check();
    s.flush().unwrap();
    check();
}

/// Keys and values over the store's limits are rejected with
/// `InvalidArgument` before anything of the batch is written.
pub fn size_limits_reject_before_writing(f: Factory) {
    let s = f();
    let limits = s.limits();
    assert!(
        limits.max_key_len >= 1024 && limits.max_value_len >= 1 << 20,
        "limits too small to be useful: {limits:?}"
    );

    let max_key = vec![7u8; limits.max_key_len];
    s.put(&max_key, b"at the limit").unwrap();
    assert_eq!(s.get(&max_key).unwrap(), Some(b("at the limit")));

    let long_key = vec![7u8; limits.max_key_len + 1];
    let mut batch = WriteBatch::new();
    batch.put("first", "ok").put(long_key.clone(), "v");
    match s.write(batch, &WriteOptions::default()) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains("key"), "message should name the key: {msg}")
        }
        other => panic!("oversized key: expected InvalidArgument, got {other:?}"),
    }
    assert_eq!(
        s.get(b"first").unwrap(),
        None,
        "nothing of a rejected batch is written"
    );
    assert!(matches!(
        s.get(&long_key),
        Ok(None) | Err(Error::InvalidArgument(_))
    ));

    let mut batch = WriteBatch::new();
    batch
        .put("first", "ok")
        .put("big", vec![0u8; limits.max_value_len + 1]);
    assert!(matches!(
        s.write(batch, &WriteOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(s.get(b"first").unwrap(), None);

    let mut batch = WriteBatch::new();
    batch.delete(long_key.clone());
    assert!(matches!(
        s.write(batch, &WriteOptions::default()),
        Err(Error::InvalidArgument(_))
    ));

    // Transactions reject the single write and stay usable.
    let mut t = s.begin().unwrap();
    t.put(b"t1", b"v").unwrap();
    assert!(matches!(
        t.put(&long_key, b"v"),
        Err(Error::InvalidArgument(_))
    ));
    t.commit(&WriteOptions::default()).unwrap();
    assert_eq!(s.get(b"t1").unwrap(), Some(b("v")));
    // The store is still healthy.
    s.put(b"after", b"ok").unwrap();
    assert_eq!(s.get(b"after").unwrap(), Some(b("ok")));
}

/// An iterator reads the state as of its creation, whatever is written or
/// flushed while it is alive.
pub fn iterator_sees_state_at_creation(f: Factory) {
    let s = f();
    let mut model = BTreeMap::new();
    for i in 0..500u32 {
        let (k, v) = (format!("key{i:04}").into_bytes(), i.to_le_bytes().to_vec());
        s.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    for dir in BOTH {
        let mut it = s.iter(KeyRange::all(), dir).unwrap();
        let first = it.next().unwrap().map(|(k, v)| (k.to_vec(), v.to_vec()));
        // Mutate everything while the iterator is open.
        let mut batch = WriteBatch::new();
        for i in (0..500u32).step_by(2) {
            batch.put(format!("key{i:04}"), "changed");
        }
        for i in (1..500u32).step_by(4) {
            batch.delete(format!("key{i:04}"));
        }
        batch.put("key0250x", "inserted");
        s.write(batch, &WriteOptions::default()).unwrap();
        s.flush().unwrap();
        let mut got: Vec<_> = first.into_iter().collect();
        while let Some((k, v)) = it.next().unwrap() {
            got.push((k.to_vec(), v.to_vec()));
        }
        assert_eq!(
            got,
            model_scan(&model, &KeyRange::all(), dir),
            "iterator {dir:?} saw later writes"
        );
        // Restore the original state for the other direction.
        let mut batch = WriteBatch::new();
        batch.delete("key0250x");
        for (k, v) in &model {
            batch.put(k.clone(), v.clone());
        }
        s.write(batch, &WriteOptions::default()).unwrap();
    }
}

/// After `close`, the store and snapshots taken from it return
/// `Error::Closed`; closing twice is harmless.
pub fn close_makes_handles_fail(f: Factory) {
    let s = f();
    s.put(b"k", b"v").unwrap();
    let snap = s.snapshot().unwrap();
    s.close().unwrap();
    s.close().unwrap();
    assert!(matches!(s.get(b"k"), Err(Error::Closed)), "get after close");
    assert!(
        matches!(s.put(b"k", b"v2"), Err(Error::Closed)),
        "put after close"
    );
    assert!(
        matches!(s.snapshot(), Err(Error::Closed)),
        "snapshot after close"
    );
    assert!(matches!(s.begin(), Err(Error::Closed)), "begin after close");
    assert!(
        matches!(
            s.iter(KeyRange::all(), Direction::Forward),
            Err(Error::Closed)
        ),
        "iter after close"
    );
    assert!(
        matches!(snap.get(b"k"), Err(Error::Closed)),
        "snapshot get after close"
    );
}

/// Statistics name the backend and carry counters.
pub fn stats_are_reported(f: Factory) {
    let s = f();
    s.put(b"a", b"1").unwrap();
    let _ = s.get(b"a").unwrap();
    let stats = s.stats();
    assert!(!stats.backend().is_empty());
    assert!(!stats.entries().is_empty(), "stats should report counters");
    let _ = stats.to_string();
}
