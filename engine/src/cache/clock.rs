//! A sharded CLOCK cache with a capacity in "charge" units (bytes for
//! blocks): the block cache's store.
//!
//! ```text
//!   shard = RwLock { map: key → slot, slots: [key, value, charge, ref bit] }
//!                                       ▲ hand sweeps on insert
//! ```
//!
//! A hit takes the shard's *shared* lock, looks the key up and sets the
//! slot's reference bit (a relaxed atomic store): readers never serialise
//! on a hit and never touch other entries. An insert takes the exclusive
//! lock and, while the shard is over capacity, sweeps the clock hand: a
//! slot with its bit set gets a second chance (bit cleared), one without is
//! evicted. CLOCK approximates LRU (it is what many buffer pools use); a
//! strict LRU moves the entry on every hit, touching two neighbours and
//! needing the exclusive lock — in profiles of random point reads that was
//! the single most expensive function of the read path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

/// A fast, non-cryptographic hasher for small integer keys.
#[derive(Default)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (h >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517C_C1B7_2722_0A95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
}

type Map<K> = HashMap<K, usize, BuildHasherDefault<FastHasher>>;

struct Slot<K, V> {
    key: K,
    val: Option<V>,
    charge: usize,
    referenced: AtomicBool,
}

struct Shard<K, V> {
    map: Map<K>,
    slots: Vec<Slot<K, V>>,
    free: Vec<usize>,
    hand: usize,
    used: usize,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    fn remove_slot(&mut self, i: usize) {
        let s = &mut self.slots[i];
        if s.val.take().is_some() {
            self.used -= s.charge;
            let key = s.key.clone();
            self.map.remove(&key);
            self.free.push(i);
        }
    }

    /// Evict until `charge` more fits (or nothing is left).
    fn make_room(&mut self, charge: usize) {
        let n = self.slots.len();
        // Two sweeps clear every bit, so this ends.
        let mut budget = 2 * n + 1;
        while self.used + charge > self.cap && budget > 0 && n > 0 {
            budget -= 1;
            let i = self.hand;
            self.hand = (self.hand + 1) % n;
            let s = &self.slots[i];
            if s.val.is_none() {
                continue;
            }
            if s.referenced.swap(false, Ordering::Relaxed) {
                continue;
            }
            self.remove_slot(i);
        }
    }

    fn insert(&mut self, k: K, v: V, charge: usize) {
        if let Some(&i) = self.map.get(&k) {
            self.remove_slot(i);
        }
        if charge > self.cap {
            return; // larger than the whole shard: not cached
        }
        self.make_room(charge);
        let slot = Slot {
            key: k.clone(),
            val: Some(v),
            charge,
            referenced: AtomicBool::new(false),
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.map.insert(k, i);
        self.used += charge;
    }
}

/// A sharded CLOCK cache.
pub struct Clock<K, V> {
    shards: Vec<RwLock<Shard<K, V>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Clock<K, V> {
    /// A cache of `capacity` charge units split over `shards` shards.
    pub fn new(capacity: usize, shards: usize) -> Self {
        let shards = shards.max(1);
        let per = capacity / shards;
        Clock {
            shards: (0..shards)
                .map(|_| {
                    RwLock::new(Shard {
                        map: Map::default(),
                        slots: Vec::new(),
                        free: Vec::new(),
                        hand: 0,
                        used: 0,
                        cap: per,
                    })
                })
                .collect(),
        }
    }

    fn shard(&self, k: &K) -> &RwLock<Shard<K, V>> {
        let mut h = FastHasher::default();
        k.hash(&mut h);
        let i = (h.finish() % self.shards.len() as u64) as usize;
        &self.shards[i]
    }

    /// The value for `k`, marking it recently used.
    pub fn get(&self, k: &K) -> Option<V> {
        let s = self.shard(k).read();
        let slot = &s.slots[*s.map.get(k)?];
        slot.referenced.store(true, Ordering::Relaxed);
        slot.val.clone()
    }

    /// Insert (or replace) `k`, evicting entries not used since the hand
    /// last passed them until it fits.
    pub fn insert(&self, k: K, v: V, charge: usize) {
        self.shard(&k).write().insert(k, v, charge);
    }

    /// Remove `k`.
    pub fn remove(&self, k: &K) {
        let mut s = self.shard(k).write();
        if let Some(&i) = s.map.get(k) {
            s.remove_slot(i);
        }
    }

    /// Charge held.
    pub fn used(&self) -> usize {
        self.shards.iter().map(|s| s.read().used).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_is_used_within_capacity() {
        let c: Clock<u64, u64> = Clock::new(3, 1);
        c.insert(1, 10, 1);
        c.insert(2, 20, 1);
        c.insert(3, 30, 1);
        assert_eq!(c.get(&1), Some(10)); // 1 gets a second chance
        c.insert(4, 40, 1); // evicts 2 (unused), not 1
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some(10));
        assert_eq!(c.get(&3), Some(30));
        assert_eq!(c.get(&4), Some(40));
        c.insert(5, 50, 2); // every bit set: one sweep clears, then evicts
        assert_eq!(c.used(), 3);
        assert_eq!(c.get(&5), Some(50));
        c.insert(6, 60, 100); // too big: not cached
        assert_eq!(c.get(&6), None);
        c.remove(&5);
        assert_eq!(c.used(), 1);
        c.insert(5, 51, 1);
        c.insert(5, 52, 1); // replace
        assert_eq!(c.get(&5), Some(52));
        assert_eq!(c.used(), 2);
    }

    #[test]
    fn never_exceeds_capacity_under_random_use() {
        let c: Clock<u64, u64> = Clock::new(1000, 4);
        let mut x = 1u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (x >> 33) % 500;
            if x % 3 == 0 {
                c.insert(k, k, 1 + (x >> 60) as usize);
            } else if let Some(v) = c.get(&k) {
                assert_eq!(v, k);
            }
            assert!(c.used() <= 1000);
        }
    }
}
