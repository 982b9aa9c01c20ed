//! [`Table`]: an open table file, and [`TableIter`], its internal iterator.
//!
//! Opening a table reads its footer and its index, filter and range-deletion
//! blocks, verifying every checksum; they stay in memory while the table is
//! in the table cache. A point lookup asks the bloom filter, binary-searches
//! the in-memory index for the one data block that can hold the key, and
//! reads that block through the block cache. Every failed check is an
//! `Error::Corruption` naming the file and the offset of the bad block.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kv_api::{Direction, Error, Result};

use super::block::{Block, BlockIter};
use super::bloom::Bloom;
use super::{BLOCK_TRAILER_LEN, FOOTER_LEN, Footer, Handle};
use crate::cache::BlockCache;
use crate::coding::get_varint;
use crate::fs::{FileSystem, RandomAccessFile};
use crate::iter::InternalIterator;
use crate::key::{self, Kind};
use crate::memtable::Hit;
use crate::rangedel::{Fragments, Tombstone};
use crate::stats::Counters;

thread_local! {
    /// Per-thread buffers for point reads: the lookup key and the block
    /// iterator's key, reused so a read allocates nothing but its result.
    static KEY_BUFS: std::cell::Cell<(Vec<u8>, Vec<u8>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Largest block a table may claim (guards allocations against damage).
const MAX_BLOCK: u64 = 1 << 31;

/// An open table.
pub struct Table {
    number: u64,
    path: PathBuf,
    file: Arc<dyn RandomAccessFile>,
    cache: Arc<BlockCache>,
    /// Index entries: (last key range in `index_keys`, block handle).
    index_keys: Vec<u8>,
    index: Vec<(usize, usize, Handle)>,
    filter: Option<Bloom>,
    range_dels: Fragments,
}

impl Table {
    /// Open table `number` at `path`.
    pub fn open(
        fs: &dyn FileSystem,
        path: &Path,
        number: u64,
        cache: Arc<BlockCache>,
    ) -> Result<Table> {
        let file = fs
            .open_read(path)
            .map_err(|e| Error::io("open table", path, e))?;
        let len = file.len();
        if len < FOOTER_LEN as u64 {
            return Err(Error::corruption(
                path,
                0,
                format!("table of {len} bytes is shorter than its footer"),
            ));
        }
        let mut fb = [0u8; FOOTER_LEN];
        let foff = len - FOOTER_LEN as u64;
        file.read_exact_at(&mut fb, foff)
            .map_err(|e| Error::io("read table footer", path, e))?;
        let footer = Footer::decode(&fb).map_err(|d| Error::corruption(path, foff, d))?;
        let mut t = Table {
            number,
            path: path.to_path_buf(),
            file,
            cache,
            index_keys: Vec::new(),
            index: Vec::new(),
            filter: None,
            range_dels: Fragments::default(),
        };
        let index = t.read_block(footer.index, foff)?;
        let mut it = BlockIter::new(Arc::new(index), Direction::Forward);
        let bad_index = |_| Error::corruption(path, footer.index.offset, "malformed index block");
        it.seek_to_first().map_err(bad_index)?;
        while it.valid() {
            let ks = t.index_keys.len();
            t.index_keys.extend_from_slice(it.key());
            let v = it.value();
            let (offset, a) = get_varint(v).ok_or_else(|| bad_index(super::block::Corrupt))?;
            let (size, _) = get_varint(&v[a..]).ok_or_else(|| bad_index(super::block::Corrupt))?;
            if offset.saturating_add(size) > foff {
                return Err(bad_index(super::block::Corrupt));
            }
            t.index
                .push((ks, t.index_keys.len(), Handle { offset, size }));
            it.advance().map_err(bad_index)?;
        }
        if footer.filter.size > 0 {
            let raw = t.read_raw(footer.filter, foff)?;
            t.filter = Some(Bloom::new(raw).ok_or_else(|| {
                Error::corruption(path, footer.filter.offset, "malformed bloom filter")
            })?);
        }
        if footer.range_del.size > 0 {
            let blk = t.read_block(footer.range_del, foff)?;
            let bad = |_| {
                Error::corruption(
                    path,
                    footer.range_del.offset,
                    "malformed range deletion block",
                )
            };
            let mut it = BlockIter::new(Arc::new(blk), Direction::Forward);
            it.seek_to_first().map_err(bad)?;
            let mut tombs = Vec::new();
            while it.valid() {
                let k = it.key();
                if k.len() < key::TRAILER_LEN || key::kind_byte(k) != Kind::RangeDelete as u8 {
                    return Err(bad(super::block::Corrupt));
                }
                tombs.push(Tombstone {
                    start: key::user_key(k).to_vec(),
                    end: it.value().to_vec(),
                    seq: key::seq_of(k),
                });
                it.advance().map_err(bad)?;
            }
            t.range_dels = Fragments::build(tombs.iter());
        }
        Ok(t)
    }

    /// The file number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The table's range tombstones.
    pub fn fragments(&self) -> &Fragments {
        &self.range_dels
    }

    /// Read and verify the stored bytes of a block (decompressed).
    fn read_raw(&self, h: Handle, limit: u64) -> Result<Vec<u8>> {
        let end = h
            .offset
            .saturating_add(h.size)
            .saturating_add(BLOCK_TRAILER_LEN as u64);
        if h.size > MAX_BLOCK || end > limit {
            return Err(Error::corruption(
                &self.path,
                h.offset,
                "block handle points past the end of the table",
            ));
        }
        let mut buf = vec![0u8; h.size as usize + BLOCK_TRAILER_LEN];
        self.file
            .read_exact_at(&mut buf, h.offset)
            .map_err(|e| Error::io("read table block", &self.path, e))?;
        let n = h.size as usize;
        let kind = buf[n];
        let crc = u32::from_le_bytes([buf[n + 1], buf[n + 2], buf[n + 3], buf[n + 4]]);
        if crc32fast::hash(&buf[..n + 1]) != crc {
            return Err(Error::corruption(
                &self.path,
                h.offset,
                "block checksum mismatch",
            ));
        }
        buf.truncate(n);
        match kind {
            0 => Ok(buf),
            1 => {
                // LZ4 expands at most 255×: a larger stated size is damage,
                // and must not become a huge allocation.
                let size = crate::coding::u32_at(&buf, 0).unwrap_or(u32::MAX) as u64;
                if size > (buf.len() as u64).saturating_mul(255) + 16 {
                    return Err(Error::corruption(
                        &self.path,
                        h.offset,
                        format!(
                            "lz4 block of {} bytes claims {size} bytes uncompressed",
                            buf.len()
                        ),
                    ));
                }
                lz4_flex::block::decompress_size_prepended(&buf).map_err(|e| {
                    Error::corruption(
                        &self.path,
                        h.offset,
                        format!("lz4 block does not decompress: {e}"),
                    )
                })
            }
            2 => self.unzstd(&buf, h.offset),
            k => Err(Error::corruption(
                &self.path,
                h.offset,
                format!("unknown block compression type {k}"),
            )),
        }
    }

    /// Decompress a Zstandard block: u32 LE uncompressed size, then one
    /// zstd frame. Damage is a corruption error, never a panic or a huge
    /// allocation (the size is bounded before anything is allocated).
    fn unzstd(&self, buf: &[u8], offset: u64) -> Result<Vec<u8>> {
        let bad = |d: String| Error::corruption(&self.path, offset, d);
        let size = crate::coding::u32_at(buf, 0)
            .ok_or_else(|| bad("zstd block shorter than its size prefix".into()))?
            as u64;
        if size > MAX_BLOCK {
            return Err(bad(format!("zstd block claims {size} bytes uncompressed")));
        }
        let out = zstd::bulk::decompress(&buf[4..], size as usize)
            .map_err(|e| bad(format!("zstd block does not decompress: {e}")))?;
        if out.len() as u64 != size {
            return Err(bad(format!(
                "zstd block decompressed to {} bytes, its header says {size}",
                out.len()
            )));
        }
        Ok(out)
    }

    fn read_block(&self, h: Handle, limit: u64) -> Result<Block> {
        let raw = self.read_raw(h, limit)?;
        Block::new(raw).map_err(|_| Error::corruption(&self.path, h.offset, "malformed block"))
    }

    /// A data block, through the cache.
    fn data_block(&self, i: usize) -> Result<Arc<Block>> {
        let h = self.index[i].2;
        if let Some(b) = self.cache.get(self.number, h.offset) {
            return Ok(b);
        }
        let b = Arc::new(self.read_block(h, u64::MAX)?);
        Counters::add(
            &self.cache.reads.bytes_read,
            h.size + BLOCK_TRAILER_LEN as u64,
        );
        self.cache.insert(self.number, h.offset, Arc::clone(&b));
        Ok(b)
    }

    /// A data block for a compaction: from the cache if it is there, else
    /// from the file without filling the cache (a compaction reads each
    /// block once; caching them would evict what readers use).
    fn data_block_uncached(&self, i: usize) -> Result<Arc<Block>> {
        let h = self.index[i].2;
        if let Some(b) = self.cache.peek(self.number, h.offset) {
            return Ok(b);
        }
        Counters::add(
            &self.cache.reads.compaction_bytes_read,
            h.size + BLOCK_TRAILER_LEN as u64,
        );
        Ok(Arc::new(self.read_block(h, u64::MAX)?))
    }

    /// Index of the first data block whose last key is `>= target`.
    fn find_block(&self, target: &[u8]) -> usize {
        self.index
            .partition_point(|&(s, e, _)| key::compare(&self.index_keys[s..e], target).is_lt())
    }

    fn corrupt_block(&self, i: usize) -> Error {
        Error::corruption(
            &self.path,
            self.index[i].2.offset,
            "malformed entry in data block",
        )
    }

    /// False when the bloom filter rules out the key with hash `h`
    /// ([`crate::hash::hash64`] of the user key).
    #[inline]
    pub fn may_contain_hash(&self, h: u64) -> bool {
        self.filter.as_ref().is_none_or(|f| f.may_contain_hash(h))
    }

    /// The newest point version of `user` with sequence `<= snap`, and the
    /// newest covering range tombstone sequence `<= snap` (0: none).
    /// `hash` is [`crate::hash::hash64`] of `user`, computed once per read
    /// for every table it visits.
    pub fn get(&self, user: &[u8], hash: u64, snap: u64) -> Result<(Option<Hit>, u64)> {
        let tomb = self.range_dels.max_covering(user, snap);
        let filtered = self.filter.is_some();
        if !self.may_contain_hash(hash) {
            Counters::add(&self.cache.reads.bloom_useful, 1);
            return Ok((None, tomb));
        }
        let r = KEY_BUFS.with(|cell| {
            let mut bufs = cell.take();
            let r = self.get_inner(user, snap, tomb, &mut bufs);
            cell.set(bufs);
            r
        });
        if filtered {
            let c = match &r {
                Ok((None, _)) => &self.cache.reads.bloom_false_positive,
                _ => &self.cache.reads.bloom_true_positive,
            };
            Counters::add(c, 1);
        }
        r
    }

    fn get_inner(
        &self,
        user: &[u8],
        snap: u64,
        tomb: u64,
        bufs: &mut (Vec<u8>, Vec<u8>),
    ) -> Result<(Option<Hit>, u64)> {
        let target = &mut bufs.0;
        target.clear();
        target.extend_from_slice(user);
        target.extend_from_slice(&((snap.min(key::MAX_SEQUENCE) << 8) | 0xff).to_le_bytes());
        let i = self.find_block(target);
        if i >= self.index.len() {
            return Ok((None, tomb));
        }
        let block = self.data_block(i)?;
        let mut it =
            BlockIter::with_key_buffer(block, Direction::Forward, std::mem::take(&mut bufs.1));
        let sought = it.seek(target);
        let out = self.hit_at(&it, user, i, sought.is_err());
        bufs.1 = it.into_key_buffer();
        out.map(|h| (h, tomb))
    }

    fn hit_at(&self, it: &BlockIter, user: &[u8], i: usize, bad: bool) -> Result<Option<Hit>> {
        if bad {
            return Err(self.corrupt_block(i));
        }
        if !it.valid() || key::user_key(it.key()) != user {
            return Ok(None);
        }
        let k = it.key();
        let hit = match Kind::from_u8(key::kind_byte(k)) {
            Some(Kind::Put) => Hit {
                seq: key::seq_of(k),
                value: Some(it.value().to_vec()),
            },
            Some(Kind::Delete) => Hit {
                seq: key::seq_of(k),
                value: None,
            },
            _ => return Err(self.corrupt_block(i)),
        };
        Ok(Some(hit))
    }

    /// An internal iterator over the table in `dir`.
    pub fn iter(self: &Arc<Self>, dir: Direction) -> TableIter {
        TableIter {
            table: Arc::clone(self),
            dir,
            bi: 0,
            data: None,
            fill_cache: true,
        }
    }

    /// A forward iterator for a compaction: blocks it reads are not put in
    /// the block cache, and their bytes count as compaction reads.
    pub fn compaction_iter(self: &Arc<Self>) -> TableIter {
        TableIter {
            fill_cache: false,
            ..self.iter(Direction::Forward)
        }
    }

    /// Bytes of the table's data blocks (without meta blocks).
    pub fn data_blocks(&self) -> usize {
        self.index.len()
    }
}

/// A two-level iterator: the in-memory index picks blocks, a [`BlockIter`]
/// walks each.
pub struct TableIter {
    table: Arc<Table>,
    dir: Direction,
    bi: usize,
    data: Option<BlockIter>,
    fill_cache: bool,
}

impl TableIter {
    fn load(&mut self, i: usize) -> Result<&mut BlockIter> {
        self.bi = i;
        let b = if self.fill_cache {
            self.table.data_block(i)?
        } else {
            self.table.data_block_uncached(i)?
        };
        Ok(self.data.insert(BlockIter::new(b, self.dir)))
    }

    /// Move past exhausted blocks in the iterator's direction.
    fn skip_empty(&mut self) -> Result<()> {
        loop {
            match &self.data {
                Some(d) if !d.valid() => {}
                _ => return Ok(()),
            }
            let next = match self.dir {
                Direction::Forward => {
                    if self.bi + 1 >= self.table.index.len() {
                        self.data = None;
                        return Ok(());
                    }
                    self.bi + 1
                }
                Direction::Reverse => {
                    if self.bi == 0 {
                        self.data = None;
                        return Ok(());
                    }
                    self.bi - 1
                }
            };
            let t = Arc::clone(&self.table);
            self.load(next)?
                .seek_to_first()
                .map_err(|_| t.corrupt_block(next))?;
        }
    }
}

impl InternalIterator for TableIter {
    #[inline]
    fn valid(&self) -> bool {
        self.data.as_ref().is_some_and(BlockIter::valid)
    }

    #[inline]
    fn key(&self) -> &[u8] {
        self.data.as_ref().map_or(&[][..], |d| d.key())
    }

    #[inline]
    fn value(&self) -> &[u8] {
        self.data.as_ref().map_or(&[][..], |d| d.value())
    }

    fn advance(&mut self) -> Result<()> {
        if let Some(d) = &mut self.data {
            d.advance().map_err(|_| self.table.corrupt_block(self.bi))?;
        }
        self.skip_empty()
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        let n = self.table.index.len();
        let i = self.table.find_block(target);
        let t = Arc::clone(&self.table);
        match self.dir {
            Direction::Forward => {
                if i >= n {
                    self.data = None;
                    return Ok(());
                }
                self.load(i)?.seek(target).map_err(|_| t.corrupt_block(i))?;
            }
            Direction::Reverse => {
                if n == 0 {
                    self.data = None;
                    return Ok(());
                }
                if i >= n {
                    self.load(n - 1)?
                        .seek_to_first()
                        .map_err(|_| t.corrupt_block(n - 1))?;
                } else {
                    self.load(i)?.seek(target).map_err(|_| t.corrupt_block(i))?;
                }
            }
        }
        self.skip_empty()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        let n = self.table.index.len();
        if n == 0 {
            self.data = None;
            return Ok(());
        }
        let i = match self.dir {
            Direction::Forward => 0,
            Direction::Reverse => n - 1,
        };
        let t = Arc::clone(&self.table);
        self.load(i)?
            .seek_to_first()
            .map_err(|_| t.corrupt_block(i))?;
        self.skip_empty()
    }
}
