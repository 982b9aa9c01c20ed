//! Sorted string tables: the immutable files that memtables are flushed to.
//!
//! ```text
//!   ┌──────────────┐
//!   │ data block 0 │  entries (internal key → value), ~block_size bytes,
//!   │ trailer      │  each block followed by: type u8 | crc32 u32 LE
//!   ├──────────────┤
//!   │ ...          │
//!   ├──────────────┤
//!   │ filter block │  bloom filter over the table's user keys
//!   ├──────────────┤
//!   │ range-del    │  range tombstones: key = internal key (start, seq,
//!   │ block        │  RangeDelete), value = end (omitted when none)
//!   ├──────────────┤
//!   │ index block  │  per data block: its last key → offset, size (varints)
//!   ├──────────────┤
//!   │ footer       │  64 bytes: handles, format version, crc, magic
//!   └──────────────┘
//! ```
//!
//! The exact bytes are in `engine/FORMAT.md`. The reader keeps the index,
//! filter and range tombstones of an open table in memory and reads data
//! blocks through the block cache.

pub mod block;
pub mod bloom;
pub mod builder;
pub mod table;

use crate::coding::u64_at;

/// Magic number at the very end of every table.
pub const TABLE_MAGIC: u64 = 0x4869_7665_5353_5401; // "HiveSST\x01"
/// Version of the table format written by this code (2 added Zstandard
/// blocks, type 2).
pub const TABLE_FORMAT_VERSION: u32 = 2;
/// Oldest table format version this code reads.
pub const MIN_TABLE_FORMAT_VERSION: u32 = 1;
/// Bytes of the footer.
pub const FOOTER_LEN: usize = 64;
/// Bytes after each block: compression type and checksum.
pub const BLOCK_TRAILER_LEN: usize = 5;

/// Block compression, chosen per level (see `Options::compression_per_level`).
///
/// Only data blocks are compressed, and a compressed block is kept only when
/// it saves at least 1/8 of the block; otherwise it is stored as is, so
/// incompressible data costs a compression attempt when written and nothing
/// when read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// Stored as is (cheapest to read: the levels read most often).
    #[default]
    None,
    /// LZ4 block compression: fast to decompress, moderate ratio.
    Lz4,
    /// Zstandard at level 3: a better ratio than LZ4 for about twice the
    /// decompression cost; for cold, large bottom levels.
    Zstd,
}

impl Compression {
    /// The block trailer's type byte of a block compressed this way.
    pub fn type_byte(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Lz4 => 1,
            Compression::Zstd => 2,
        }
    }
}

/// Zstandard compression level for [`Compression::Zstd`].
pub const ZSTD_LEVEL: i32 = 3;

/// Where a block lives in the file (size excludes the trailer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Handle {
    /// Byte offset.
    pub offset: u64,
    /// Length of the stored block contents.
    pub size: u64,
}

/// The fixed-size end of a table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footer {
    /// The index block.
    pub index: Handle,
    /// The filter block (size 0: none).
    pub filter: Handle,
    /// The range-deletion block (size 0: none).
    pub range_del: Handle,
}

impl Footer {
    /// The 64 footer bytes.
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut out = [0u8; FOOTER_LEN];
        let fields = [
            self.index.offset,
            self.index.size,
            self.filter.offset,
            self.filter.size,
            self.range_del.offset,
            self.range_del.size,
        ];
        for (i, f) in fields.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&f.to_le_bytes());
        }
        out[48..52].copy_from_slice(&TABLE_FORMAT_VERSION.to_le_bytes());
        let crc = crc32fast::hash(&out[0..52]);
        out[52..56].copy_from_slice(&crc.to_le_bytes());
        out[56..64].copy_from_slice(&TABLE_MAGIC.to_le_bytes());
        out
    }

    /// Parse footer bytes, or say what is wrong.
    pub fn decode(b: &[u8]) -> Result<Footer, String> {
        if b.len() != FOOTER_LEN {
            return Err("table shorter than its footer".into());
        }
        if u64_at(b, 56) != Some(TABLE_MAGIC) {
            return Err("bad table magic number (not a table, or damaged)".into());
        }
        let crc = u32::from_le_bytes([b[52], b[53], b[54], b[55]]);
        if crc32fast::hash(&b[0..52]) != crc {
            return Err("table footer checksum mismatch".into());
        }
        let version = u32::from_le_bytes([b[48], b[49], b[50], b[51]]);
        if !(MIN_TABLE_FORMAT_VERSION..=TABLE_FORMAT_VERSION).contains(&version) {
            return Err(format!(
                "table format version {version} is not supported (this build reads {MIN_TABLE_FORMAT_VERSION} to {TABLE_FORMAT_VERSION})"
            ));
        }
        let f = |i: usize| u64_at(b, i * 8).unwrap_or(0);
        Ok(Footer {
            index: Handle {
                offset: f(0),
                size: f(1),
            },
            filter: Handle {
                offset: f(2),
                size: f(3),
            },
            range_del: Handle {
                offset: f(4),
                size: f(5),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_round_trip_and_checks() {
        let f = Footer {
            index: Handle { offset: 1, size: 2 },
            filter: Handle { offset: 3, size: 4 },
            range_del: Handle { offset: 5, size: 6 },
        };
        let b = f.encode();
        assert_eq!(&b[0..8], &1u64.to_le_bytes());
        assert_eq!(&b[56..64], b"\x01TSSeviH");
        assert_eq!(Footer::decode(&b).unwrap(), f);
        let mut bad = b;
        bad[3] ^= 1;
        assert!(Footer::decode(&bad).unwrap_err().contains("checksum"));
        let mut bad = b;
        bad[60] ^= 1;
        assert!(Footer::decode(&bad).unwrap_err().contains("magic"));
    }
}
