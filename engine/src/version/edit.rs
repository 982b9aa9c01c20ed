//! Version edits: the records of the manifest. Each says what changed in
//! the set of live tables and counters; replaying them in order rebuilds the
//! current [`Version`](super::Version).
//!
//! ```text
//!   edit  = field*
//!   field = tag varint, then:
//!     1 FormatVersion  u32 varint        (first edit of every manifest)
//!     2 LogNumber      varint            (logs below it are flushed)
//!     3 NextFile       varint            (next unused file number)
//!     4 LastSequence   varint
//!     5 NewFile        level, number, size varints, smallest, largest
//!                      (varint length + bytes), smallest_seq, largest_seq
//!     6 DeletedFile    level, number varints
//! ```

use crate::coding::{Reader, put_len_prefixed, put_varint};

/// Version of the manifest format written by this code. Version 2 may hold
/// tables at levels 1-6 (compaction) whose largest key is an exclusive
/// bound ([`crate::key::range_end_bound`]); version 1 never did.
pub const MANIFEST_FORMAT_VERSION: u64 = 2;
/// Oldest manifest format version this code reads.
pub const MIN_MANIFEST_FORMAT_VERSION: u64 = 1;

/// A table as the manifest describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// File number (`NNNNNN.sst`).
    pub number: u64,
    /// Bytes.
    pub size: u64,
    /// Smallest internal key.
    pub smallest: Vec<u8>,
    /// Largest internal key.
    pub largest: Vec<u8>,
    /// Smallest sequence number.
    pub smallest_seq: u64,
    /// Largest sequence number.
    pub largest_seq: u64,
}

/// One manifest record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// Format version (only in a manifest's first edit).
    pub format_version: Option<u64>,
    /// Logs numbered below this hold nothing unflushed.
    pub log_number: Option<u64>,
    /// Next unused file number.
    pub next_file: Option<u64>,
    /// Last sequence number used.
    pub last_sequence: Option<u64>,
    /// Tables added, with their level.
    pub new_files: Vec<(usize, FileMeta)>,
    /// Tables removed: (level, number).
    pub deleted_files: Vec<(usize, u64)>,
}

impl VersionEdit {
    /// Encode as a manifest record payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let num = |out: &mut Vec<u8>, tag: u64, v: Option<u64>| {
            if let Some(v) = v {
                put_varint(out, tag);
                put_varint(out, v);
            }
        };
        num(&mut out, 1, self.format_version);
        num(&mut out, 2, self.log_number);
        num(&mut out, 3, self.next_file);
        num(&mut out, 4, self.last_sequence);
        for (level, f) in &self.new_files {
            put_varint(&mut out, 5);
            put_varint(&mut out, *level as u64);
            put_varint(&mut out, f.number);
            put_varint(&mut out, f.size);
            put_len_prefixed(&mut out, &f.smallest);
            put_len_prefixed(&mut out, &f.largest);
            put_varint(&mut out, f.smallest_seq);
            put_varint(&mut out, f.largest_seq);
        }
        for (level, n) in &self.deleted_files {
            put_varint(&mut out, 6);
            put_varint(&mut out, *level as u64);
            put_varint(&mut out, *n);
        }
        out
    }

    /// Decode a record payload, or say what is malformed.
    pub fn decode(buf: &[u8]) -> Result<VersionEdit, String> {
        let mut r = Reader::new(buf);
        let mut e = VersionEdit::default();
        let short = || "version edit cut short".to_string();
        while !r.is_empty() {
            let tag = r.varint().ok_or_else(short)?;
            match tag {
                1 => e.format_version = Some(r.varint().ok_or_else(short)?),
                2 => e.log_number = Some(r.varint().ok_or_else(short)?),
                3 => e.next_file = Some(r.varint().ok_or_else(short)?),
                4 => e.last_sequence = Some(r.varint().ok_or_else(short)?),
                5 => {
                    let level = r.varint().ok_or_else(short)? as usize;
                    if level >= super::NUM_LEVELS {
                        return Err(format!("table at level {level}, beyond the last level"));
                    }
                    let f = FileMeta {
                        number: r.varint().ok_or_else(short)?,
                        size: r.varint().ok_or_else(short)?,
                        smallest: r.len_prefixed().ok_or_else(short)?.to_vec(),
                        largest: r.len_prefixed().ok_or_else(short)?.to_vec(),
                        smallest_seq: r.varint().ok_or_else(short)?,
                        largest_seq: r.varint().ok_or_else(short)?,
                    };
                    if f.smallest.len() < crate::key::TRAILER_LEN
                        || f.largest.len() < crate::key::TRAILER_LEN
                    {
                        return Err(format!("table {} has a malformed key range", f.number));
                    }
                    e.new_files.push((level, f));
                }
                6 => {
                    let level = r.varint().ok_or_else(short)? as usize;
                    let n = r.varint().ok_or_else(short)?;
                    e.deleted_files.push((level, n));
                }
                t => return Err(format!("unknown version edit field {t}")),
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_golden_prefix() {
        let e = VersionEdit {
            format_version: Some(1),
            log_number: Some(7),
            next_file: Some(9),
            last_sequence: Some(300),
            new_files: vec![(
                0,
                FileMeta {
                    number: 8,
                    size: 4096,
                    smallest: crate::key::encode(b"a", 1, crate::key::Kind::Put),
                    largest: crate::key::encode(b"z", 2, crate::key::Kind::Put),
                    smallest_seq: 1,
                    largest_seq: 2,
                },
            )],
            deleted_files: vec![(0, 3)],
        };
        let b = e.encode();
        assert_eq!(&b[..8], &[1, 1, 2, 7, 3, 9, 4, 0xac]);
        assert_eq!(VersionEdit::decode(&b).unwrap(), e);
        assert!(VersionEdit::decode(&b[..b.len() - 1]).is_err());
        assert!(VersionEdit::decode(&[99, 1]).is_err());
    }
}
