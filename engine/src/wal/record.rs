//! Record framing for the log and the manifest: a length and two checksums
//! in front of every payload.
//!
//! ```text
//!   0      4            8            12
//!   ┌──────┬────────────┬────────────┬──────────────┐
//!   │ len  │ crc32(data)│ crc32(0..8)│ data (len B) │   integers little-endian
//!   └──────┴────────────┴────────────┴──────────────┘
//! ```
//!
//! The header checksum lets a reader tell a damaged header from a valid
//! one without trusting the length, which is what makes
//! [`resync_finds_record`] cheap: after a bad record, it looks for any valid
//! record further on. A bad record with nothing valid after it is a torn
//! tail (a write cut short by a crash); a bad record followed by valid ones
//! is damage in the middle, reported as corruption.

/// Bytes of the record header.
pub const HEADER_LEN: usize = 12;

/// Append `payload` framed as one record.
pub fn encode(out: &mut Vec<u8>, payload: &[u8]) {
    let len = payload.len() as u32;
    let crc = crc32fast::hash(payload);
    let mut head = [0u8; HEADER_LEN];
    head[0..4].copy_from_slice(&len.to_le_bytes());
    head[4..8].copy_from_slice(&crc.to_le_bytes());
    let hcrc = crc32fast::hash(&head[0..8]);
    head[8..12].copy_from_slice(&hcrc.to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
}

/// Reserve space for a header at the end of `out`, to be filled by
/// [`finish_in_place`] once the payload has been appended after it (saves a
/// copy of large batches).
pub fn begin_in_place(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    at
}

/// Fill the header reserved at `at`: the payload is everything after it.
pub fn finish_in_place(out: &mut [u8], at: usize) {
    let payload = &out[at + HEADER_LEN..];
    let len = payload.len() as u32;
    let crc = crc32fast::hash(payload);
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    out[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    let hcrc = crc32fast::hash(&out[at..at + 8]);
    out[at + 8..at + 12].copy_from_slice(&hcrc.to_le_bytes());
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// Offset of the record's header.
    pub offset: u64,
    /// What failed.
    pub detail: String,
    /// True when the file simply ends inside the record (a prefix of a
    /// valid record, as a torn append leaves).
    pub incomplete: bool,
}

/// Iterates over the records of a whole file held in memory.
pub struct RecordReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> RecordReader<'a> {
    /// Read records from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        RecordReader { data, pos: 0 }
    }

    /// The next record as `(offset, payload)`, `Ok(None)` at a clean end.
    pub fn next_record(&mut self) -> Result<Option<(u64, &'a [u8])>, BadRecord> {
        if self.pos == self.data.len() {
            return Ok(None);
        }
        match check_at(self.data, self.pos) {
            Ok(payload) => {
                let at = self.pos as u64;
                self.pos += HEADER_LEN + payload.len();
                Ok(Some((at, payload)))
            }
            Err((detail, incomplete)) => Err(BadRecord {
                offset: self.pos as u64,
                detail,
                incomplete,
            }),
        }
    }
}

/// Validate the record at `pos`: its payload, or what is wrong with it.
fn check_at(data: &[u8], pos: usize) -> Result<&[u8], (String, bool)> {
    let rest = &data[pos..];
    if rest.len() < HEADER_LEN {
        return Err((format!("{} bytes of a record header", rest.len()), true));
    }
    let hcrc = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
    if crc32fast::hash(&rest[0..8]) != hcrc {
        return Err(("record header checksum mismatch".into(), false));
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    let Some(payload) = rest.get(HEADER_LEN..HEADER_LEN + len) else {
        return Err((
            format!(
                "record of {len} bytes cut short at {} bytes",
                rest.len() - HEADER_LEN
            ),
            true,
        ));
    };
    if crc32fast::hash(payload) != crc {
        return Err(("record checksum mismatch".into(), false));
    }
    Ok(payload)
}

/// True when the record header at `offset` is all zeros (or the file ends
/// in fewer than [`HEADER_LEN`] zero bytes there): in a log, the end of the
/// written data, where its preallocated tail begins. A real header is never
/// all zeros: its checksum would have to be 0, but the CRC-32 of eight zero
/// bytes is `0x6522df69`, so this is unambiguous.
pub fn zero_header_at(data: &[u8], offset: u64) -> bool {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = start.saturating_add(HEADER_LEN).min(data.len());
    data[start..end].iter().all(|&b| b == 0)
}

/// The offset just past the last non-zero byte of `data` (0 when all zero).
pub fn end_of_nonzero(data: &[u8]) -> u64 {
    data.iter()
        .rposition(|&b| b != 0)
        .map_or(0, |p| p as u64 + 1)
}

/// True when some valid record starts after `offset` (used to tell damage
/// in the middle of a log from a torn tail).
pub fn resync_finds_record(data: &[u8], offset: u64) -> bool {
    let start = offset as usize + 1;
    (start..data.len().saturating_sub(HEADER_LEN - 1)).any(|p| check_at(data, p).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        encode(&mut out, b"abc");
        assert_eq!(&out[0..4], &3u32.to_le_bytes());
        assert_eq!(&out[4..8], &crc32fast::hash(b"abc").to_le_bytes());
        assert_eq!(&out[8..12], &crc32fast::hash(&out[0..8]).to_le_bytes());
        assert_eq!(&out[12..], b"abc");
        let mut inplace = Vec::new();
        let at = begin_in_place(&mut inplace);
        inplace.extend_from_slice(b"abc");
        finish_in_place(&mut inplace, at);
        assert_eq!(inplace, out);
    }

    #[test]
    fn zero_header_is_never_valid() {
        assert_ne!(crc32fast::hash(&[0u8; 8]), 0);
        let zeros = [0u8; 40];
        assert!(RecordReader::new(&zeros).next_record().is_err());
        assert!(zero_header_at(&zeros, 0));
        assert!(zero_header_at(&zeros, 35), "a short zero remainder");
        assert!(zero_header_at(&zeros, 40), "the end of the file");
        let mut data = Vec::new();
        encode(&mut data, b"");
        assert!(
            !zero_header_at(&data, 0),
            "an empty payload still has a header"
        );
        assert_eq!(end_of_nonzero(&data), 12);
        data.extend_from_slice(&[0u8; 20]);
        assert_eq!(end_of_nonzero(&data), 12);
        assert_eq!(end_of_nonzero(&zeros), 0);
    }

    #[test]
    fn torn_and_damaged_records() {
        let mut data = Vec::new();
        encode(&mut data, b"one");
        encode(&mut data, b"two");
        encode(&mut data, b"three");
        let mut r = RecordReader::new(&data);
        assert_eq!(r.next_record().unwrap(), Some((0, &b"one"[..])));
        // Cut inside the last record: incomplete, nothing valid after.
        let cut = &data[..data.len() - 2];
        let mut r = RecordReader::new(cut);
        r.next_record().unwrap();
        r.next_record().unwrap();
        let bad = r.next_record().unwrap_err();
        assert!(bad.incomplete);
        assert!(!resync_finds_record(cut, bad.offset));
        // Flip a byte of the first payload: damaged, and valid records follow.
        let mut flipped = data.clone();
        flipped[13] ^= 1;
        let bad = RecordReader::new(&flipped).next_record().unwrap_err();
        assert!(!bad.incomplete);
        assert!(resync_finds_record(&flipped, bad.offset));
    }
}
