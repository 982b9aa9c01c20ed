//! Key ranges and scan direction.
//!
//! A [`KeyRange`] is any pair of [`Bound`]s over byte-string keys, ordered
//! bytewise (`memcmp` order, shorter prefix first). Ranges whose start lies
//! after their end are valid and simply empty: callers that compute bounds from
//! user input (a SQL `WHERE x > 5 AND x < 3`) need not special-case them.

use std::ops::{Bound, RangeBounds};

/// The order in which an iterator visits keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Ascending byte order.
    Forward,
    /// Descending byte order.
    Reverse,
}

/// A range of keys: a start bound and an end bound, each included, excluded
/// or open.
///
/// ```
/// use kv_api::KeyRange;
/// use std::ops::Bound;
/// let r = KeyRange::new(Bound::Included(b"a".to_vec()), Bound::Excluded(b"c".to_vec()));
/// assert!(r.contains(b"b"));
/// assert!(!r.contains(b"c"));
/// assert!(KeyRange::prefix(b"user/").contains(b"user/42"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<Vec<u8>>,
    /// Upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// A range from two bounds.
    pub fn new(start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Self {
        KeyRange { start, end }
    }

    /// Every key.
    pub fn all() -> Self {
        KeyRange::new(Bound::Unbounded, Bound::Unbounded)
    }

    /// The half-open range `[start, end)`.
    pub fn half_open(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> Self {
        KeyRange::new(Bound::Included(start.into()), Bound::Excluded(end.into()))
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        let end = match prefix_successor(prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        KeyRange::new(Bound::Included(prefix.to_vec()), end)
    }

    /// Convert any standard range over byte vectors or slices.
    pub fn from_bounds<T: AsRef<[u8]> + ?Sized, R: RangeBounds<T>>(r: R) -> Self {
        fn own<T: AsRef<[u8]> + ?Sized>(b: Bound<&T>) -> Bound<Vec<u8>> {
            match b {
                Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
                Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
                Bound::Unbounded => Bound::Unbounded,
            }
        }
        KeyRange::new(own(r.start_bound()), own(r.end_bound()))
    }

    /// True when `key` is inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.after_start(key) && self.before_end(key)
    }

    /// True when `key` is not below the start bound.
    pub fn after_start(&self, key: &[u8]) -> bool {
        match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        }
    }

    /// True when `key` is not above the end bound.
    pub fn before_end(&self, key: &[u8]) -> bool {
        match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        }
    }

    /// True when no key can be inside the range.
    pub fn is_empty(&self) -> bool {
        match (&self.start, &self.end) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => {
                // `..=[]`-style ranges can still be empty: nothing is below "".
                matches!(&self.end, Bound::Excluded(e) if e.is_empty())
            }
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s), Bound::Excluded(e)) => s >= e,
            (Bound::Excluded(s), Bound::Included(e)) => s >= e,
            (Bound::Excluded(s), Bound::Excluded(e)) => {
                // (s, e) is empty when e <= s or e is the immediate successor of s.
                s >= e || (e.len() == s.len() + 1 && e.starts_with(s) && e[s.len()] == 0)
            }
        }
    }

    /// Borrowing view usable with `BTreeMap::range`.
    pub fn as_slice_bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_ref_bound(&self.start), as_ref_bound(&self.end))
    }

    /// Narrow the range so that a forward scan starts at `key` (inclusive).
    /// The result is empty when `key` is past the end.
    pub fn clamp_start(&self, key: &[u8]) -> KeyRange {
        let start = if self.after_start(key) {
            Bound::Included(key.to_vec())
        } else {
            self.start.clone()
        };
        KeyRange::new(start, self.end.clone())
    }

    /// Narrow the range so that a reverse scan starts at `key` (inclusive).
    pub fn clamp_end(&self, key: &[u8]) -> KeyRange {
        let end = if self.before_end(key) {
            Bound::Included(key.to_vec())
        } else {
            self.end.clone()
        };
        KeyRange::new(self.start.clone(), end)
    }
}

impl Default for KeyRange {
    fn default() -> Self {
        KeyRange::all()
    }
}

fn as_ref_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The smallest key greater than every key that starts with `prefix`, or
/// `None` when no such key exists (the prefix is empty or all `0xFF`).
///
/// ```
/// assert_eq!(kv_api::prefix_successor(b"ab"), Some(b"ac".to_vec()));
/// assert_eq!(kv_api::prefix_successor(b"a\xff"), Some(b"b".to_vec()));
/// assert_eq!(kv_api::prefix_successor(b"\xff\xff"), None);
/// ```
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptiness() {
        let inc = |s: &[u8]| Bound::Included(s.to_vec());
        let exc = |s: &[u8]| Bound::Excluded(s.to_vec());
        assert!(KeyRange::new(inc(b"b"), inc(b"a")).is_empty());
        assert!(!KeyRange::new(inc(b"a"), inc(b"a")).is_empty());
        assert!(KeyRange::new(inc(b"a"), exc(b"a")).is_empty());
        assert!(KeyRange::new(exc(b"a"), exc(b"a\x00")).is_empty());
        assert!(!KeyRange::new(exc(b"a"), exc(b"a\x00\x00")).is_empty());
        assert!(KeyRange::new(Bound::Unbounded, exc(b"")).is_empty());
        assert!(!KeyRange::all().is_empty());
    }

    #[test]
    fn prefix_ranges() {
        let r = KeyRange::prefix(b"a\xff");
        assert!(r.contains(b"a\xff"));
        assert!(r.contains(b"a\xff\xff\x00"));
        assert!(!r.contains(b"b"));
        assert_eq!(
            KeyRange::prefix(b""),
            KeyRange::new(Bound::Included(vec![]), Bound::Unbounded)
        );
    }

    #[test]
    fn clamping() {
        let r = KeyRange::half_open(b"b".to_vec(), b"d".to_vec());
        assert_eq!(r.clamp_start(b"a"), r);
        assert_eq!(r.clamp_start(b"c").start, Bound::Included(b"c".to_vec()));
        assert!(r.clamp_start(b"e").is_empty());
        assert_eq!(r.clamp_end(b"c").end, Bound::Included(b"c".to_vec()));
        assert!(r.clamp_end(b"a").is_empty());
    }
}
