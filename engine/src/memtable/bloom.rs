//! A bloom filter over the user keys of one memtable, filled as keys are
//! inserted (atomic bit sets, no lock), so a point read of a key the
//! memtable does not hold skips the skip-list search, which costs a cache
//! miss per node visited. RocksDB offers the same
//! (`memtable_whole_key_filtering`); here it is always on.
//!
//! Layout and probing follow the table filter (see `sstable::bloom`):
//! 512-bit buckets, 6 probes inside one bucket. It is sized from the write
//! buffer (one bucket per 4 KiB of memtable, about 20 bits per key for
//! 150-byte entries), so it never needs to grow.

use std::sync::atomic::{AtomicU64, Ordering};

const PROBES: u32 = 6;

/// A concurrent, fixed-size bloom filter.
pub struct MemBloom {
    words: Box<[AtomicU64]>,
    buckets: u32,
}

impl MemBloom {
    /// A filter for a memtable of about `bytes` bytes.
    pub fn new(bytes: usize) -> Self {
        let buckets = (bytes / 4096).clamp(16, 1 << 24) as u32;
        MemBloom {
            words: (0..buckets as usize * 8)
                .map(|_| AtomicU64::new(0))
                .collect(),
            buckets,
        }
    }

    #[inline]
    fn base(&self, h: u64) -> usize {
        ((((h >> 32) * u64::from(self.buckets)) >> 32) as usize) * 8
    }

    /// Record the key with hash `h`. The bits are set before the key's
    /// sequence number is published (with release ordering), so a reader
    /// that sees the sequence sees the bits.
    #[inline]
    pub fn insert(&self, h: u64) {
        let base = self.base(h);
        let mut p = h as u32;
        for _ in 0..PROBES {
            let bit = (p >> 23) as usize;
            self.words[base + bit / 64].fetch_or(1 << (bit % 64), Ordering::Relaxed);
            p = p.wrapping_mul(0x9E37_79B9);
        }
    }

    /// False when the key with hash `h` was certainly never inserted.
    #[inline]
    pub fn may_contain(&self, h: u64) -> bool {
        let base = self.base(h);
        let mut p = h as u32;
        for _ in 0..PROBES {
            let bit = (p >> 23) as usize;
            if self.words[base + bit / 64].load(Ordering::Relaxed) & (1 << (bit % 64)) == 0 {
                return false;
            }
            p = p.wrapping_mul(0x9E37_79B9);
        }
        true
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash64;

    #[test]
    fn inserted_keys_are_found_and_most_others_are_not() {
        let b = MemBloom::new(4 << 20);
        for i in 0..20_000u32 {
            b.insert(hash64(&i.to_be_bytes()));
        }
        assert!((0..20_000u32).all(|i| b.may_contain(hash64(&i.to_be_bytes()))));
        let fp = (20_000..40_000u32)
            .filter(|i| b.may_contain(hash64(&i.to_be_bytes())))
            .count();
        assert!(fp < 200, "{fp} false positives in 20000");
    }
}
