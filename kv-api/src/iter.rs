//! Streaming iterators over a key range.
//!
//! [`KvIterator`] is a lending cursor: `next` hands out borrowed key and value
//! slices that stay valid until the next call, so a scan over a million keys
//! need not allocate a million vectors. A backend keeps only a block or a page
//! of entries in memory at a time, whatever the size of the range.
//!
//! Every iterator reads one consistent state: the store as of the moment the
//! iterator was created (or the snapshot or transaction it came from). Writes,
//! flushes and compactions that happen while it is alive do not show through.

use crate::Result;

/// A cursor over the entries of a [`KeyRange`](crate::KeyRange), in the
/// [`Direction`](crate::Direction) chosen when it was created.
///
/// ```
/// use kv_api::{Direction, KeyRange, KvRead, KvStore, MemStore};
/// let store = MemStore::new();
/// for k in ["a", "b", "c", "d"] {
///     store.put(k.as_bytes(), b"v")?;
/// }
/// let mut it = store.iter(KeyRange::all(), Direction::Reverse)?;
/// it.seek(b"c")?; // reverse: position at the last key <= "c"
/// let mut seen = Vec::new();
/// while let Some((k, _v)) = it.next()? {
///     seen.push(k.to_vec());
/// }
/// assert_eq!(seen, vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]);
/// # Ok::<(), kv_api::Error>(())
/// ```
pub trait KvIterator: Send {
    /// Move to the next entry in the iterator's direction and return it, or
    /// `None` when the range is exhausted. After an error the iterator is
    /// spent: later calls return an error or `None`, never a wrong entry.
    #[allow(clippy::type_complexity)]
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>>;

    /// Reposition so that the following [`next`](KvIterator::next) returns the
    /// first entry at or after `target` in the iterator's direction: the
    /// smallest key `>= target` going forward, the largest key `<= target` going
    /// in reverse. The result is always clamped to the iterator's range; seeking
    /// may move backwards as well as forwards.
    fn seek(&mut self, target: &[u8]) -> Result<()>;
}

impl<I: KvIterator + ?Sized> KvIterator for Box<I> {
    fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        (**self).next()
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        (**self).seek(target)
    }
}

/// An owned key/value pair.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Adapts a [`KvIterator`] into a standard [`Iterator`] of owned entries, for
/// code that prefers iterator combinators to a cursor loop (each entry is
/// copied).
pub struct OwnedEntries<I> {
    inner: I,
    failed: bool,
}

impl<I: KvIterator> OwnedEntries<I> {
    /// Wrap `inner`.
    pub fn new(inner: I) -> Self {
        OwnedEntries {
            inner,
            failed: false,
        }
    }
}

impl<I: KvIterator> Iterator for OwnedEntries<I> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.inner.next() {
            Ok(Some((k, v))) => Some(Ok((k.to_vec(), v.to_vec()))),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Drain an iterator into a vector (tests and small ranges only: this holds
/// the whole range in memory).
pub fn collect_entries(mut it: impl KvIterator) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    while let Some((k, v)) = it.next()? {
        out.push((k.to_vec(), v.to_vec()));
    }
    Ok(out)
}
