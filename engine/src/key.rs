//! Internal keys: how user keys, sequence numbers and operation kinds are
//! combined and ordered inside memtables and tables.
//!
//! ```text
//!   internal key = user key bytes ++ trailer (8 bytes, little-endian u64)
//!   trailer      = sequence << 8 | kind
//!   order        = user key ascending (bytewise), then trailer descending
//! ```
//!
//! Sorting by trailer descending puts the newest version of a user key first,
//! so a point read at snapshot `s` seeks to `(key, s)` and the first entry at
//! or after it with the same user key is the answer. Every operation of a
//! batch has its own sequence number, which gives in-batch order for free: a
//! later put of the same key in the batch has the higher sequence and wins.

use std::cmp::Ordering;

/// Sequence numbers occupy the upper 56 bits of the trailer.
pub const MAX_SEQUENCE: u64 = (1 << 56) - 1;

/// Bytes of the trailer after the user key.
pub const TRAILER_LEN: usize = 8;

/// What an internal entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    /// A point deletion (tombstone).
    Delete = 0,
    /// A value.
    Put = 1,
    /// A range deletion `[user key, end)`; the end key is the value. Range
    /// tombstones live in their own structures, never in point streams.
    RangeDelete = 2,
}

impl Kind {
    /// Decode a kind byte.
    pub fn from_u8(b: u8) -> Option<Kind> {
        match b {
            0 => Some(Kind::Delete),
            1 => Some(Kind::Put),
            2 => Some(Kind::RangeDelete),
            _ => None,
        }
    }
}

/// Pack a sequence number and kind.
#[inline]
pub fn trailer(seq: u64, kind: Kind) -> u64 {
    (seq << 8) | kind as u64
}

/// Append the internal key `(user, seq, kind)` to `out`.
#[inline]
pub fn encode_into(out: &mut Vec<u8>, user: &[u8], seq: u64, kind: Kind) {
    out.extend_from_slice(user);
    out.extend_from_slice(&trailer(seq, kind).to_le_bytes());
}

/// The internal key `(user, seq, kind)`.
pub fn encode(user: &[u8], seq: u64, kind: Kind) -> Vec<u8> {
    let mut v = Vec::with_capacity(user.len() + TRAILER_LEN);
    encode_into(&mut v, user, seq, kind);
    v
}

/// The user key part of an internal key (empty when malformed: callers that
/// read from disk validate lengths first).
#[inline]
pub fn user_key(ikey: &[u8]) -> &[u8] {
    &ikey[..ikey.len().saturating_sub(TRAILER_LEN)]
}

/// The trailer of an internal key.
#[inline]
pub fn trailer_of(ikey: &[u8]) -> u64 {
    let n = ikey.len();
    if n < TRAILER_LEN {
        return 0;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&ikey[n - TRAILER_LEN..]);
    u64::from_le_bytes(b)
}

/// The sequence number of an internal key.
#[inline]
pub fn seq_of(ikey: &[u8]) -> u64 {
    trailer_of(ikey) >> 8
}

/// The kind byte of an internal key (may be invalid on damaged input).
#[inline]
pub fn kind_byte(ikey: &[u8]) -> u8 {
    trailer_of(ikey) as u8
}

/// The trailer of an exclusive upper bound: no real entry carries it.
pub const RANGE_END_TRAILER: u64 = (MAX_SEQUENCE << 8) | Kind::RangeDelete as u64;

/// The internal key that bounds a range ending before user key `end`
/// (exclusive): `(end, MAX_SEQUENCE, RangeDelete)` sorts before every real
/// version of `end`, so a table whose largest key is this bound does not
/// hold `end`. Used as a table's largest key when a range tombstone
/// `[start, end)` reaches past its last point entry.
pub fn range_end_bound(end: &[u8]) -> Vec<u8> {
    encode(end, MAX_SEQUENCE, Kind::RangeDelete)
}

/// True when `ikey` is an exclusive bound made by [`range_end_bound`].
#[inline]
pub fn is_range_end_bound(ikey: &[u8]) -> bool {
    ikey.len() >= TRAILER_LEN && trailer_of(ikey) == RANGE_END_TRAILER
}

/// Compare two internal keys: user key ascending, then trailer descending.
#[inline]
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    match user_key(a).cmp(user_key(b)) {
        Ordering::Equal => trailer_of(b).cmp(&trailer_of(a)),
        o => o,
    }
}

/// Compare an internal key with a `(user, trailer)` pair without building it.
#[inline]
pub fn compare_parts(a: &[u8], user: &[u8], tr: u64) -> Ordering {
    match user_key(a).cmp(user) {
        Ordering::Equal => tr.cmp(&trailer_of(a)),
        o => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_user_then_newest_first() {
        let a1 = encode(b"a", 1, Kind::Put);
        let a9 = encode(b"a", 9, Kind::Put);
        let a0 = encode(b"a\x00", 100, Kind::Put);
        let mut v = [a0.clone(), a1.clone(), a9.clone()];
        v.sort_by(|x, y| compare(x, y));
        assert_eq!(v, [a9.clone(), a1.clone(), a0]);
        assert_eq!(seq_of(&a9), 9);
        assert_eq!(user_key(&a9), b"a");
        assert_eq!(kind_byte(&a9), 1);
        // Pinned bytes: user key, then (9 << 8 | 1) little-endian.
        assert_eq!(a9, [b'a', 1, 9, 0, 0, 0, 0, 0, 0]);
    }
}
