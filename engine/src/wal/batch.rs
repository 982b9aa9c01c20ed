//! The encoding of a write batch inside a log record.
//!
//! ```text
//!   first_seq u64 LE | count u32 LE | op × count
//!   op = 0x01 Put         key value     (each varint length + bytes)
//!      | 0x00 Delete      key
//!      | 0x02 DeleteRange start end
//! ```
//!
//! Operation `i` of the batch has sequence number `first_seq + i`, which is
//! how operations inside one batch stay ordered (a later put of a key beats
//! an earlier range delete over it).

use kv_api::{BatchOp, WriteBatch};

use crate::coding::{Reader, put_len_prefixed};
use crate::key::Kind;

/// Append the encoding of `batch` with sequence numbers from `first_seq`.
pub fn encode(out: &mut Vec<u8>, batch: &WriteBatch, first_seq: u64) {
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&(batch.len() as u32).to_le_bytes());
    for op in batch.ops() {
        match op {
            BatchOp::Put { key, value } => {
                out.push(Kind::Put as u8);
                put_len_prefixed(out, key);
                put_len_prefixed(out, value);
            }
            BatchOp::Delete { key } => {
                out.push(Kind::Delete as u8);
                put_len_prefixed(out, key);
            }
            BatchOp::DeleteRange { start, end } => {
                out.push(Kind::RangeDelete as u8);
                put_len_prefixed(out, start);
                put_len_prefixed(out, end);
            }
        }
    }
}

/// One decoded operation, borrowing from the record.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodedOp<'a> {
    /// Its sequence number.
    pub seq: u64,
    /// Put, Delete or RangeDelete.
    pub kind: Kind,
    /// The key (the range start for a range delete).
    pub key: &'a [u8],
    /// The value (the range end for a range delete; empty for a delete).
    pub value: &'a [u8],
}

/// Decode a batch record: its first sequence number and its operations, or
/// a description of what is malformed.
pub fn decode(payload: &[u8]) -> Result<(u64, Vec<DecodedOp<'_>>), String> {
    let mut r = Reader::new(payload);
    let first = r.u64().ok_or("batch header cut short")?;
    let count = r.u32().ok_or("batch header cut short")? as usize;
    if first
        .checked_add(count as u64)
        .is_none_or(|end| end > crate::key::MAX_SEQUENCE)
    {
        return Err(format!("batch sequence numbers from {first} overflow"));
    }
    let mut ops = Vec::with_capacity(count.min(1 << 16));
    for i in 0..count {
        let seq = first + i as u64;
        let kind = r
            .u8()
            .and_then(Kind::from_u8)
            .ok_or_else(|| format!("operation {i}: bad kind"))?;
        let key = r
            .len_prefixed()
            .ok_or_else(|| format!("operation {i}: key cut short"))?;
        let value = match kind {
            Kind::Delete => &[][..],
            _ => r
                .len_prefixed()
                .ok_or_else(|| format!("operation {i}: value cut short"))?,
        };
        ops.push(DecodedOp {
            seq,
            kind,
            key,
            value,
        });
    }
    if !r.is_empty() {
        return Err(format!(
            "{} trailing bytes after the batch",
            payload.len() - r.pos()
        ));
    }
    Ok((first, ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_batch_bytes_and_round_trip() {
        let mut b = WriteBatch::new();
        b.put("k", "v").delete("d").delete_range("a", "b");
        let mut out = Vec::new();
        encode(&mut out, &b, 5);
        let want: Vec<u8> = [
            &5u64.to_le_bytes()[..],
            &3u32.to_le_bytes(),
            &[1, 1, b'k', 1, b'v'],
            &[0, 1, b'd'],
            &[2, 1, b'a', 1, b'b'],
        ]
        .concat();
        assert_eq!(out, want);
        let (first, ops) = decode(&out).unwrap();
        assert_eq!(first, 5);
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[2].seq, 7);
        assert_eq!(ops[2].kind, Kind::RangeDelete);
        assert!(decode(&out[..out.len() - 1]).is_err());
    }
}
