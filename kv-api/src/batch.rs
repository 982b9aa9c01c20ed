//! Atomic write batches and per-write options.
//!
//! A [`WriteBatch`] is an ordered list of puts, deletes and range deletes that a
//! store applies all-or-nothing: a concurrent reader, snapshot or crash
//! recovery sees either none of it or all of it. Operations apply in the order
//! they were added, so a put after a range delete that covers its key survives,
//! and a range delete after a put removes it.

use crate::{Error, Limits, Result};

/// One operation inside a [`WriteBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Remove `key` (a no-op when it is absent).
    Delete {
        /// The key.
        key: Vec<u8>,
    },
    /// Remove every key `k` with `start <= k < end`. A range with
    /// `start >= end` is empty and removes nothing.
    DeleteRange {
        /// Inclusive lower bound.
        start: Vec<u8>,
        /// Exclusive upper bound.
        end: Vec<u8>,
    },
}

impl BatchOp {
    /// Bytes of keys and values this operation carries.
    pub fn payload_len(&self) -> usize {
        match self {
            BatchOp::Put { key, value } => key.len() + value.len(),
            BatchOp::Delete { key } => key.len(),
            BatchOp::DeleteRange { start, end } => start.len() + end.len(),
        }
    }
}

/// An ordered set of writes applied atomically by
/// [`KvStore::write`](crate::KvStore::write).
///
/// ```
/// use kv_api::{KvStore, MemStore, WriteBatch, WriteOptions, KvRead};
/// let store = MemStore::new();
/// let mut batch = WriteBatch::new();
/// batch.put("a", "1");
/// batch.put("b", "2");
/// batch.delete("a");
/// store.write(batch, &WriteOptions::default())?;
/// assert_eq!(store.get(b"a")?, None);
/// assert_eq!(store.get(b"b")?, Some(b"2".to_vec()));
/// # Ok::<(), kv_api::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
    payload: usize,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> Self {
        WriteBatch {
            ops: Vec::with_capacity(n),
            payload: 0,
        }
    }

    /// Add a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.push(BatchOp::Put {
            key: key.into(),
            value: value.into(),
        })
    }

    /// Add a point delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.push(BatchOp::Delete { key: key.into() })
    }

    /// Add a delete of `[start, end)`.
    pub fn delete_range(
        &mut self,
        start: impl Into<Vec<u8>>,
        end: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.push(BatchOp::DeleteRange {
            start: start.into(),
            end: end.into(),
        })
    }

    /// Add any operation.
    pub fn push(&mut self, op: BatchOp) -> &mut Self {
        self.payload += op.payload_len();
        self.ops.push(op);
        self
    }

    /// The operations in the order they apply.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Take the operations.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Total bytes of keys and values in the batch.
    pub fn payload_len(&self) -> usize {
        self.payload
    }

    /// Remove every operation.
    pub fn clear(&mut self) {
        self.ops.clear();
        self.payload = 0;
    }

    /// Check every operation against `limits`. Stores call this before they
    /// write anything, so an invalid batch leaves no trace.
    pub fn validate(&self, limits: &Limits) -> Result<()> {
        if self.payload > limits.max_batch_bytes {
            return Err(Error::invalid(format!(
                "write batch of {} bytes exceeds the limit of {} bytes; split it into smaller batches",
                self.payload, limits.max_batch_bytes
            )));
        }
        for (i, op) in self.ops.iter().enumerate() {
            match op {
                BatchOp::Put { key, value } => {
                    limits.check_key(key).map_err(|e| in_op(e, i))?;
                    limits.check_value(value).map_err(|e| in_op(e, i))?;
                }
                BatchOp::Delete { key } => limits.check_key(key).map_err(|e| in_op(e, i))?,
                BatchOp::DeleteRange { start, end } => {
                    limits.check_key(start).map_err(|e| in_op(e, i))?;
                    limits.check_key(end).map_err(|e| in_op(e, i))?;
                }
            }
        }
        Ok(())
    }
}

fn in_op(e: Error, i: usize) -> Error {
    match e {
        Error::InvalidArgument(m) => {
            Error::InvalidArgument(format!("operation {i} of the batch: {m}"))
        }
        other => other,
    }
}

/// Options for one write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// When true, the write is on stable storage (fsynced) before the call
    /// returns: it survives a power loss. When false it is handed to the
    /// operating system before the call returns: it survives a crash of the
    /// process but may be lost with the machine. Backends without durability
    /// (such as [`MemStore`](crate::MemStore)) ignore it.
    pub sync: bool,
}

impl WriteOptions {
    /// Durable on return.
    pub const SYNC: WriteOptions = WriteOptions { sync: true };
    /// Buffered: survives a process crash, not a power loss.
    pub const BUFFERED: WriteOptions = WriteOptions { sync: false };
}

impl Default for WriteOptions {
    /// Buffered, as in RocksDB and LevelDB: the log is written on every call and
    /// fsynced by whichever later write asks for `sync`, by a flush, or by close.
    fn default() -> Self {
        WriteOptions::BUFFERED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_operation() {
        let limits = Limits {
            max_key_len: 4,
            max_value_len: 8,
            max_batch_bytes: 100,
        };
        let mut b = WriteBatch::new();
        b.put("ok", "fine").put("too-long-key", "v");
        let err = b.validate(&limits).unwrap_err().to_string();
        assert!(err.contains("operation 1"), "{err}");
        assert!(err.contains("key"), "{err}");

        let mut b = WriteBatch::new();
        b.put("k", vec![0u8; 9]);
        assert!(b.validate(&limits).is_err());

        let mut b = WriteBatch::new();
        for _ in 0..20 {
            b.put("kk", "vvvv");
        }
        assert_eq!(b.payload_len(), 120);
        assert!(
            b.validate(&limits)
                .unwrap_err()
                .to_string()
                .contains("split")
        );
    }
}
