//! The model-based case: random operation sequences checked step by step
//! against a `BTreeMap`, with snapshots taken along the way and checked
//! against copies of the model from their moment.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::rng::Rng;
use super::{Factory, model_scan, scan, show};
use crate::{Direction, KeyRange, KvRead, Snapshot, WriteBatch, WriteOptions};

pub(super) type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Bytes that keys are built from: few enough that keys collide, including
/// the extremes of the byte order.
const ALPHABET: [u8; 6] = [0x00, 0x01, b'a', b'b', 0xfe, 0xff];

pub(super) fn random_key(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(5) as usize;
    (0..len).map(|_| *rng.pick(&ALPHABET)).collect()
}

pub(super) fn random_value(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.chance(3) {
        2000 + rng.below(3000)
    } else {
        rng.below(12)
    };
    let fill = rng.next_u64() as u8;
    vec![fill; len as usize]
}

fn random_bound(rng: &mut Rng) -> Bound<Vec<u8>> {
    match rng.below(3) {
        0 => Bound::Unbounded,
        1 => Bound::Included(random_key(rng)),
        _ => Bound::Excluded(random_key(rng)),
    }
}

pub(super) fn apply_delete_range(model: &mut Model, start: &[u8], end: &[u8]) {
    model.retain(|k, _| !(k.as_slice() >= start && k.as_slice() < end));
}

pub(super) fn check_read(r: &dyn KvRead, model: &Model, rng: &mut Rng, ctx: &str) {
    for _ in 0..3 {
        let k = random_key(rng);
        assert_eq!(
            r.get(&k).unwrap(),
            model.get(&k).cloned(),
            "{ctx}: get {}",
            crate::display_key(&k)
        );
    }
    let range = KeyRange::new(random_bound(rng), random_bound(rng));
    let dir = if rng.chance(50) {
        Direction::Forward
    } else {
        Direction::Reverse
    };
    let got = scan(r, range.clone(), dir);
    let want = model_scan(model, &range, dir);
    assert_eq!(
        got,
        want,
        "{ctx}: scan {range:?} {dir:?}: got {} want {}",
        show(&got),
        show(&want)
    );
    if rng.chance(30) {
        // Seek somewhere inside a full scan and compare the tail.
        let target = random_key(rng);
        let mut it = r.iter(range.clone(), dir).unwrap();
        it.seek(&target).unwrap();
        let mut tail = Vec::new();
        while let Some((k, v)) = it.next().unwrap() {
            tail.push((k.to_vec(), v.to_vec()));
        }
        let want_tail: Vec<_> = want
            .into_iter()
            .filter(|(k, _)| match dir {
                Direction::Forward => k.as_slice() >= target.as_slice(),
                Direction::Reverse => k.as_slice() <= target.as_slice(),
            })
            .collect();
        assert_eq!(
            tail,
            want_tail,
            "{ctx}: seek to {} in {range:?} {dir:?}",
            crate::display_key(&target)
        );
    }
}

/// Random puts, deletes, range deletes, mixed batches, transactions and
/// flushes, checked against a `BTreeMap` after every step, with up to four
/// live snapshots checked against the model as of their creation.
pub fn model_based_random_operations(f: Factory) {
    for seed in 1..=6u64 {
        let s = f();
        let mut rng = Rng::new(seed);
        let mut model = Model::new();
        let mut snaps: Vec<(Box<dyn Snapshot>, Model)> = Vec::new();
        for step in 0..300 {
            let ctx = format!("seed {seed} step {step}");
            match rng.below(100) {
                0..=34 => {
                    let (k, v) = (random_key(&mut rng), random_value(&mut rng));
                    s.put(&k, &v).unwrap();
                    model.insert(k, v);
                }
                35..=49 => {
                    let k = random_key(&mut rng);
                    s.delete(&k).unwrap();
                    model.remove(&k);
                }
                50..=54 => {
                    let (a, c) = (random_key(&mut rng), random_key(&mut rng));
                    let mut batch = WriteBatch::new();
                    batch.delete_range(a.clone(), c.clone());
                    s.write(batch, &WriteOptions::default()).unwrap();
                    apply_delete_range(&mut model, &a, &c);
                }
                55..=69 => {
                    let mut batch = WriteBatch::new();
                    for _ in 0..1 + rng.below(8) {
                        match rng.below(10) {
                            0..=5 => {
                                let (k, v) = (random_key(&mut rng), random_value(&mut rng));
                                batch.put(k.clone(), v.clone());
                                model.insert(k, v);
                            }
                            6..=8 => {
                                let k = random_key(&mut rng);
                                batch.delete(k.clone());
                                model.remove(&k);
                            }
                            _ => {
                                let (a, c) = (random_key(&mut rng), random_key(&mut rng));
                                batch.delete_range(a.clone(), c.clone());
                                apply_delete_range(&mut model, &a, &c);
                            }
                        }
                    }
                    let sync = WriteOptions {
                        sync: rng.chance(20),
                    };
                    s.write(batch, &sync).unwrap();
                }
                70..=77 => {
                    // A transaction alone commits; its reads see its writes.
                    let mut t = s.begin().unwrap();
                    let mut tmodel = model.clone();
                    for _ in 0..1 + rng.below(5) {
                        if rng.chance(70) {
                            let (k, v) = (random_key(&mut rng), random_value(&mut rng));
                            t.put(&k, &v).unwrap();
                            tmodel.insert(k, v);
                        } else if rng.chance(80) {
                            let k = random_key(&mut rng);
                            t.delete(&k).unwrap();
                            tmodel.remove(&k);
                        } else {
                            let (a, c) = (random_key(&mut rng), random_key(&mut rng));
                            t.delete_range(&a, &c).unwrap();
                            apply_delete_range(&mut tmodel, &a, &c);
                        }
                        check_read(&*t, &tmodel, &mut rng, &format!("{ctx} (in transaction)"));
                    }
                    if rng.chance(80) {
                        t.commit(&WriteOptions::default()).unwrap();
                        model = tmodel;
                    } else {
                        t.rollback();
                    }
                }
                78..=83 => {
                    if snaps.len() >= 4 || (rng.chance(30) && !snaps.is_empty()) {
                        let i = rng.below(snaps.len() as u64) as usize;
                        snaps.swap_remove(i);
                    } else {
                        snaps.push((s.snapshot().unwrap(), model.clone()));
                    }
                }
                84..=87 => s.flush().unwrap(),
                _ => {}
            }
            check_read(&*s.store, &model, &mut rng, &ctx);
            for (i, (snap, smodel)) in snaps.iter().enumerate() {
                check_read(&**snap, smodel, &mut rng, &format!("{ctx} (snapshot {i})"));
            }
        }
        // A final full comparison both ways.
        for dir in [Direction::Forward, Direction::Reverse] {
            assert_eq!(
                scan(&*s.store, KeyRange::all(), dir),
                model_scan(&model, &KeyRange::all(), dir),
                "seed {seed} final"
            );
        }
    }
}
