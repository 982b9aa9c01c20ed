//! A sharded LRU cache with a capacity in "charge" units (bytes for blocks,
//! a count for open tables).
//!
//! Each shard is a hash map from key to a slot in a vector-backed doubly
//! linked list (indices instead of pointers, so no `unsafe`), behind its own
//! mutex; the shard is picked from the key's hash so threads reading
//! different blocks rarely meet on a lock. A hit moves the entry to the front
//! (O(1)); an insert evicts from the back until the shard fits.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use parking_lot::Mutex;

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

const NIL: usize = usize::MAX;

struct Node<K, V> {
    key: K,
    val: Option<V>,
    charge: usize,
    prev: usize,
    next: usize,
}

struct Shard<K, V> {
    map: Map<K>,
    nodes: Vec<Node<K, V>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    used: usize,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    fn unlink(&mut self, i: usize) {
        let (p, n) = (self.nodes[i].prev, self.nodes[i].next);
        if p != NIL {
            self.nodes[p].next = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            self.nodes[n].prev = p;
        } else {
            self.tail = p;
        }
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NIL;
        self.nodes[i].next = self.head;
        if self.head != NIL {
            self.nodes[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn get(&mut self, k: &K) -> Option<V> {
        let i = *self.map.get(k)?;
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        self.nodes[i].val.clone()
    }

    fn remove_index(&mut self, i: usize) {
        self.unlink(i);
        let node = &mut self.nodes[i];
        node.val = None;
        self.used -= node.charge;
        let key = node.key.clone();
        self.map.remove(&key);
        self.free.push(i);
    }

    fn insert(&mut self, k: K, v: V, charge: usize) {
        if let Some(&i) = self.map.get(&k) {
            self.remove_index(i);
        }
        if charge > self.cap {
            return; // larger than the whole shard: not cached
        }
        while self.used + charge > self.cap && self.tail != NIL {
            let t = self.tail;
            self.remove_index(t);
        }
        let node = Node {
            key: k.clone(),
            val: Some(v),
            charge,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.push_front(i);
        self.map.insert(k, i);
        self.used += charge;
    }

    fn remove(&mut self, k: &K) {
        if let Some(&i) = self.map.get(k) {
            self.remove_index(i);
        }
    }
}

/// A sharded LRU cache.
pub struct Lru<K, V> {
    shards: Vec<Mutex<Shard<K, V>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// A cache of `capacity` charge units split over `shards` shards.
    pub fn new(capacity: usize, shards: usize) -> Self {
        let shards = shards.max(1);
        let per = capacity / shards;
        Lru {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        map: Map::default(),
                        nodes: Vec::new(),
                        free: Vec::new(),
                        head: NIL,
                        tail: NIL,
                        used: 0,
                        cap: per,
                    })
                })
                .collect(),
        }
    }

    fn shard(&self, k: &K) -> &Mutex<Shard<K, V>> {
        let mut h = FastHasher::default();
        k.hash(&mut h);
        let i = (h.finish() % self.shards.len() as u64) as usize;
        &self.shards[i]
    }

    /// Look up and mark as recently used.
    pub fn get(&self, k: &K) -> Option<V> {
        self.shard(k).lock().get(k)
    }

    /// Insert (replacing), evicting least recently used entries as needed.
    pub fn insert(&self, k: K, v: V, charge: usize) {
        self.shard(&k).lock().insert(k, v, charge);
    }

    /// Drop an entry.
    pub fn remove(&self, k: &K) {
        self.shard(k).lock().remove(k);
    }

    /// Total charge held.
    pub fn used(&self) -> usize {
        self.shards.iter().map(|s| s.lock().used).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_within_capacity() {
        let c: Lru<u64, u64> = Lru::new(3, 1);
        c.insert(1, 10, 1);
        c.insert(2, 20, 1);
        c.insert(3, 30, 1);
        assert_eq!(c.get(&1), Some(10)); // 1 is now the most recent
        c.insert(4, 40, 1); // evicts 2
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some(10));
        assert_eq!(c.get(&3), Some(30));
        c.insert(5, 50, 2); // evicts 4 and 1
        assert_eq!(c.used(), 3);
        assert_eq!(c.get(&5), Some(50));
        c.insert(6, 60, 100); // too big: not cached
        assert_eq!(c.get(&6), None);
        c.remove(&5);
        assert_eq!(c.used(), 1);
    }
}
