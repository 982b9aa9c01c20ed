//! The data every workload writes: 16-byte keys (`%016d` of the key number),
//! 100-byte incompressible values, and deterministic random orders, so every
//! engine sees exactly the same operations.

/// xorshift64*: deterministic, fast, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `%016d` of `i` (the low 16 digits), without allocating.
pub fn key(mut i: u64) -> [u8; 16] {
    let mut k = [b'0'; 16];
    for d in k.iter_mut().rev() {
        *d = b'0' + (i % 10) as u8;
        i /= 10;
    }
    k
}

/// A key that sorts among the existing ones but is never written.
pub fn missing_key(i: u64) -> [u8; 17] {
    let mut k = [b'x'; 17];
    k[..16].copy_from_slice(&key(i));
    k
}

/// A pool of random bytes; values are 100-byte windows of it (so values
/// neither compress nor repeat in a way an engine could exploit).
pub struct Values {
    pool: Vec<u8>,
}

/// Bytes per value.
pub const VALUE_LEN: usize = 100;
/// Bytes per key.
pub const KEY_LEN: usize = 16;

impl Values {
    /// The pool (1 MiB, fixed seed).
    pub fn new() -> Self {
        let mut r = Rng(0x0123_4567_89AB_CDEF);
        Values {
            pool: (0..(1 << 20) + VALUE_LEN).map(|_| r.next() as u8).collect(),
        }
    }

    /// The value for write number `i`.
    pub fn get(&self, i: u64) -> &[u8] {
        let off = (i.wrapping_mul(2_654_435_761) % (1 << 20)) as usize;
        &self.pool[off..off + VALUE_LEN]
    }
}

/// `0..n` in a random order fixed by `seed`.
pub fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut r = Rng(seed | 1);
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_like_numbers_and_missing_keys_fall_between() {
        assert_eq!(&key(42), b"0000000000000042");
        assert!(key(9) < key(10));
        assert!(key(5)[..] < missing_key(5)[..] && missing_key(5)[..] < key(6)[..]);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v = shuffled(1000, 3);
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
