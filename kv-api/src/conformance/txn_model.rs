//! The model-based transaction case: one long transaction doing random
//! writes, savepoints and rollbacks while iterators made along the way stay
//! alive, checked against a `BTreeMap` model at every step and, after the
//! commit, against the store.

use super::Factory;
use super::model::{Model, apply_delete_range, check_read, random_key, random_value};
use super::rng::Rng;
use crate::{Direction, KeyRange, KvIterator, WriteOptions};

/// A live iterator with the entries it must still return.
struct LiveIter {
    it: Box<dyn KvIterator>,
    expect: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
}

/// Random puts, deletes and range deletes inside one transaction, with nested
/// savepoints rolled back or released at random and iterators that are
/// created, advanced a little at a time and dropped while writes continue
/// (each must keep returning the transaction's state at its creation). Reads
/// and scans are checked against the model after every step; the committed
/// store must equal the model at the end.
pub fn model_based_transactions(f: Factory) {
    for seed in 1..=6u64 {
        let s = f();
        let mut rng = Rng::new(seed * 7919);
        let mut model = Model::new();
        for _ in 0..40 {
            let (k, v) = (random_key(&mut rng), random_value(&mut rng));
            s.put(&k, &v).unwrap();
            model.insert(k, v);
        }
        if seed % 2 == 0 {
            s.flush().unwrap();
        }
        let mut t = s.begin().unwrap();
        let mut saved: Vec<Model> = Vec::new();
        let mut live: Vec<LiveIter> = Vec::new();
        for step in 0..400 {
            let ctx = format!("seed {seed} step {step}");
            match rng.below(100) {
                0..=34 => {
                    let (k, v) = (random_key(&mut rng), random_value(&mut rng));
                    t.put(&k, &v).unwrap();
                    model.insert(k, v);
                }
                35..=49 => {
                    let k = random_key(&mut rng);
                    t.delete(&k).unwrap();
                    model.remove(&k);
                }
                50..=54 => {
                    let (a, b) = (random_key(&mut rng), random_key(&mut rng));
                    let (start, end) = if a <= b { (a, b) } else { (b, a) };
                    t.delete_range(&start, &end).unwrap();
                    apply_delete_range(&mut model, &start, &end);
                }
                55..=62 => {
                    t.set_savepoint();
                    saved.push(model.clone());
                }
                63..=67 => match saved.pop() {
                    Some(m) => {
                        t.rollback_to_savepoint().unwrap();
                        model = m;
                    }
                    None => assert!(t.rollback_to_savepoint().is_err(), "{ctx}"),
                },
                68..=71 => {
                    if saved.pop().is_some() {
                        t.release_savepoint();
                    }
                }
                72..=79 => {
                    let dir = if rng.chance(50) {
                        Direction::Forward
                    } else {
                        Direction::Reverse
                    };
                    let it = t.iter(KeyRange::all(), dir).unwrap();
                    let mut expect: Vec<_> =
                        model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    if dir == Direction::Reverse {
                        expect.reverse();
                    }
                    live.push(LiveIter {
                        it,
                        expect: expect.into_iter(),
                    });
                }
                80..=91 if !live.is_empty() => {
                    let i = rng.below(live.len() as u64) as usize;
                    let l = &mut live[i];
                    for _ in 0..rng.below(4) + 1 {
                        let got = l.it.next().unwrap().map(|(k, v)| (k.to_vec(), v.to_vec()));
                        assert_eq!(got, l.expect.next(), "{ctx}: live iterator {i}");
                    }
                }
                92..=95 if !live.is_empty() => {
                    let i = rng.below(live.len() as u64) as usize;
                    live.swap_remove(i);
                }
                _ => check_read(&*t, &model, &mut rng, &ctx),
            }
            check_read(&*t, &model, &mut rng, &ctx);
        }
        // Iterators still alive at the commit finish with what they saw.
        for (i, l) in live.iter_mut().enumerate() {
            let rest: Vec<_> =
                std::iter::from_fn(|| l.it.next().unwrap().map(|(k, v)| (k.to_vec(), v.to_vec())))
                    .collect();
            let want: Vec<_> = l.expect.by_ref().collect();
            assert_eq!(rest, want, "seed {seed}: live iterator {i} at the end");
        }
        t.commit(&WriteOptions::default()).unwrap();
        check_read(
            &*s.store,
            &model,
            &mut rng,
            &format!("seed {seed} committed"),
        );
        let all = super::scan(&*s.store, KeyRange::all(), Direction::Forward);
        let want: Vec<_> = model.into_iter().collect();
        assert_eq!(all, want, "seed {seed}: committed state");
    }
}
