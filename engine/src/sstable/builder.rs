//! [`TableBuilder`]: writes a table from entries given in internal-key order.
//!
//! Output is buffered in memory and appended to the file in large chunks;
//! [`finish`](TableBuilder::finish) writes the filter, range-deletion and
//! index blocks and the footer, then fsyncs the file. The caller fsyncs the
//! directory and records the table in the manifest.

use std::path::PathBuf;

use kv_api::{Error, Result};

use super::block::BlockBuilder;
use super::bloom::BloomBuilder;
use super::{BLOCK_TRAILER_LEN, Compression, Footer, Handle};
use crate::coding::put_varint;
use crate::fs::WritableFile;
use crate::key::{self, Kind};
use crate::rangedel::Tombstone;

/// Settings for building tables.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions {
    /// Target data block size in bytes.
    pub block_size: usize,
    /// Entries between full keys inside a data block.
    pub restart_interval: usize,
    /// Bloom filter bits per key (0: no filter).
    pub bloom_bits_per_key: u32,
    /// Block compression.
    pub compression: Compression,
}

/// What a finished table holds, for the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSummary {
    /// File size in bytes.
    pub size: u64,
    /// Smallest internal key (range tombstone starts included).
    pub smallest: Vec<u8>,
    /// Largest internal key; for a range tombstone `[start, end)` at least
    /// the exclusive bound [`key::range_end_bound`]`(end)`, so the table's
    /// range covers what it deletes.
    pub largest: Vec<u8>,
    /// Smallest sequence number in the table.
    pub smallest_seq: u64,
    /// Largest sequence number in the table.
    pub largest_seq: u64,
    /// Point entries written.
    pub entries: u64,
}

const WRITE_CHUNK: usize = 256 * 1024;

/// Builds one table file.
pub struct TableBuilder {
    file: Box<dyn WritableFile>,
    path: PathBuf,
    opts: TableOptions,
    data: BlockBuilder,
    index: BlockBuilder,
    bloom: BloomBuilder,
    out: Vec<u8>,
    offset: u64,
    block_buf: Vec<u8>,
    last_user: Vec<u8>,
    smallest: Option<Vec<u8>>,
    largest: Vec<u8>,
    min_seq: u64,
    max_seq: u64,
    entries: u64,
}

impl TableBuilder {
    /// Start a table in `file` (freshly created at `path`).
    pub fn new(file: Box<dyn WritableFile>, path: PathBuf, opts: TableOptions) -> Self {
        TableBuilder {
            file,
            path,
            opts,
            data: BlockBuilder::new(opts.restart_interval),
            index: BlockBuilder::new(1),
            bloom: BloomBuilder::default(),
            out: Vec::with_capacity(WRITE_CHUNK + opts.block_size * 2),
            offset: 0,
            block_buf: Vec::new(),
            last_user: Vec::new(),
            smallest: None,
            largest: Vec::new(),
            min_seq: u64::MAX,
            max_seq: 0,
            entries: 0,
        }
    }

    /// Append a point entry; internal keys must be strictly increasing.
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        let user = key::user_key(ikey);
        if self.entries == 0 || user != self.last_user.as_slice() {
            if self.opts.bloom_bits_per_key > 0 {
                self.bloom.add_key(user);
            }
            self.last_user.clear();
            self.last_user.extend_from_slice(user);
        }
        if self.smallest.is_none() {
            self.smallest = Some(ikey.to_vec());
        }
        let seq = key::seq_of(ikey);
        self.min_seq = self.min_seq.min(seq);
        self.max_seq = self.max_seq.max(seq);
        self.entries += 1;
        self.data.add(ikey, value);
        if self.data.size_estimate() >= self.opts.block_size {
            self.finish_data_block()?;
        }
        Ok(())
    }

    fn finish_data_block(&mut self) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        self.largest.clear();
        self.largest.extend_from_slice(self.data.last_key());
        let last = self.largest.clone();
        let mut raw = std::mem::take(&mut self.block_buf);
        raw.clear();
        self.data.finish_into(&mut raw);
        let h = self.write_block(&raw, self.opts.compression)?;
        self.block_buf = raw;
        let mut hv = Vec::with_capacity(20);
        put_varint(&mut hv, h.offset);
        put_varint(&mut hv, h.size);
        self.index.add(&last, &hv);
        Ok(())
    }

    /// Append a block with its trailer; returns its handle.
    fn write_block(&mut self, raw: &[u8], compression: Compression) -> Result<Handle> {
        let compressed = match compression {
            Compression::Lz4 => Some(lz4_flex::block::compress_prepend_size(raw)),
            Compression::Zstd => zstd::bulk::compress(raw, super::ZSTD_LEVEL).ok().map(|c| {
                let mut out = Vec::with_capacity(c.len() + 4);
                out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
                out.extend_from_slice(&c);
                out
            }),
            Compression::None => None,
        };
        let (body, kind): (std::borrow::Cow<'_, [u8]>, u8) = match compressed {
            Some(c) if c.len() < raw.len() - raw.len() / 8 => (c.into(), compression.type_byte()),
            _ => (raw.into(), 0),
        };
        let h = Handle {
            offset: self.offset,
            size: body.len() as u64,
        };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&body);
        hasher.update(&[kind]);
        self.out.extend_from_slice(&body);
        self.out.push(kind);
        self.out.extend_from_slice(&hasher.finalize().to_le_bytes());
        self.offset += body.len() as u64 + BLOCK_TRAILER_LEN as u64;
        if self.out.len() >= WRITE_CHUNK {
            self.flush_out()?;
        }
        Ok(h)
    }

    fn flush_out(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.file
            .append(&self.out)
            .map_err(|e| Error::io("write table", &self.path, e))?;
        self.out.clear();
        Ok(())
    }

    /// Point entries added so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Bytes written so far (approximate file size).
    pub fn file_size(&self) -> u64 {
        self.offset
    }

    /// Write the meta blocks, footer and fsync. `range_dels` must be sorted
    /// by start, then sequence descending.
    pub fn finish(mut self, range_dels: &[Tombstone]) -> Result<TableSummary> {
        self.finish_data_block()?;
        let filter = if self.opts.bloom_bits_per_key > 0 && !self.bloom.is_empty() {
            let bytes = self.bloom.finish(self.opts.bloom_bits_per_key);
            self.write_block(&bytes, Compression::None)?
        } else {
            Handle::default()
        };
        let mut smallest = self.smallest.clone();
        let mut largest = if self.entries > 0 {
            Some(self.largest.clone())
        } else {
            None
        };
        let range_del = if range_dels.is_empty() {
            Handle::default()
        } else {
            let mut b = BlockBuilder::new(1);
            for t in range_dels {
                let k = key::encode(&t.start, t.seq, Kind::RangeDelete);
                b.add(&k, &t.end);
                self.min_seq = self.min_seq.min(t.seq);
                self.max_seq = self.max_seq.max(t.seq);
                if smallest
                    .as_ref()
                    .is_none_or(|s| key::compare(&k, s).is_lt())
                {
                    smallest = Some(k);
                }
                // The tombstone reaches up to (but excluding) `end`; the
                // table's range must cover it without claiming `end`
                // itself (a neighbouring table in the same level may start
                // there): the exclusive bound `(end, MAX_SEQUENCE,
                // RangeDelete)` sorts before every real version of `end`.
                let end_key = key::range_end_bound(&t.end);
                if largest
                    .as_ref()
                    .is_none_or(|l| key::compare(&end_key, l).is_gt())
                {
                    largest = Some(end_key);
                }
            }
            let mut raw = Vec::new();
            b.finish_into(&mut raw);
            self.write_block(&raw, Compression::None)?
        };
        let mut raw = Vec::new();
        self.index.finish_into(&mut raw);
        let index = self.write_block(&raw, Compression::None)?;
        let footer = Footer {
            index,
            filter,
            range_del,
        };
        self.out.extend_from_slice(&footer.encode());
        self.offset += super::FOOTER_LEN as u64;
        self.flush_out()?;
        self.file
            .sync()
            .map_err(|e| Error::io("fsync table", &self.path, e))?;
        Ok(TableSummary {
            size: self.offset,
            smallest: smallest.unwrap_or_default(),
            largest: largest.unwrap_or_default(),
            smallest_seq: if self.min_seq == u64::MAX {
                0
            } else {
                self.min_seq
            },
            largest_seq: self.max_seq,
            entries: self.entries,
        })
    }
}
