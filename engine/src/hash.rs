//! The 64-bit hash behind bloom filters. It is part of the table format (a
//! filter built by one version must answer the same in the next), so it is
//! defined here byte by byte rather than borrowed from a crate whose output
//! may change: 8-byte little-endian words folded with multiply-rotate, then
//! the MurmurHash3 finaliser (spelled out in `FORMAT.md`).

const P1: u64 = 0x9E37_79B9_7F4A_7C15;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// Hash `data` to 64 bits.
#[inline]
pub fn hash64(data: &[u8]) -> u64 {
    let mut h = P1 ^ (data.len() as u64).wrapping_mul(P2);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        h = (h ^ w.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        let w = u64::from_le_bytes(w);
        h = (h ^ w.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1);
    }
    fmix64(h)
}

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN_EMPTY: u64 = 11286133854226296554;
    const GOLDEN_17: u64 = 5142626428440342845;

    #[test]
    fn pinned_values() {
        // Golden values: changing the hash changes the table format.
        assert_eq!(hash64(b""), GOLDEN_EMPTY);
        assert_eq!(hash64(b"hello world, 17 B"), GOLDEN_17);
        let a = hash64(b"hello");
        let b = hash64(b"hellp");
        assert_ne!(a, b);
        assert_ne!(hash64(b"a"), hash64(b"a\x00"));
    }
}
