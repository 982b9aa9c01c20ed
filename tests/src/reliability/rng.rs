//! A small, seedable pseudo-random generator for the campaigns.
//!
//! Every campaign draws its choices (which statement, which row, when to
//! kill, which byte to flip) from a [`Rng`] seeded by one number, printed
//! when the campaign starts and in every failure message, so a failure is
//! replayed by running the same command with `RELIABILITY_SEED` set. It is
//! SplitMix64: tiny, fast and good enough to pick test cases; for
//! simplicity we do not pull in `rand` for this.

/// SplitMix64: a 64-bit state stepped by a constant and mixed.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for the `stream`-th independent use of `seed` (for
    /// example, the choices of commit number `stream`).
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut r = Rng::new(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for test-case selection.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// An index into a collection of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// A seed for a campaign: `RELIABILITY_SEED` when set (to replay a
/// failure), else one from the clock. Printed so that it can be replayed.
pub fn campaign_seed(campaign: &str) -> u64 {
    let seed = std::env::var("RELIABILITY_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            Rng::new(t ^ u64::from(std::process::id())).next_u64() % 1_000_000_000
        });
    eprintln!("[{campaign}] seed {seed} (replay with RELIABILITY_SEED={seed})");
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let mut a = Rng::derive(7, 3);
        let mut b = Rng::derive(7, 3);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let x = r.below(10);
            assert!(x < 10);
            seen[x as usize] = true;
            let y = r.range(5, 7);
            assert!((5..=7).contains(&y));
        }
        assert!(seen.iter().all(|&s| s), "every value of 0..10 drawn");
        assert_ne!(Rng::derive(7, 3).next_u64(), Rng::derive(7, 4).next_u64());
    }
}
