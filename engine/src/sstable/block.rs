//! Blocks: sorted entries with prefix-compressed keys and restart points,
//! the unit of reading, caching and checksumming in a table.
//!
//! ```text
//!   entry    = shared varint | unshared varint | value_len varint
//!              | key[shared..] (unshared bytes) | value
//!   block    = entry* | restart offset u32 LE * n | n u32 LE
//! ```
//!
//! Every `restart_interval`-th entry stores its whole key (`shared = 0`) and
//! its offset goes in the restart array, so a seek binary-searches the
//! restart keys (borrowed straight from the block, nothing decoded) and then
//! scans at most one interval. Reverse iteration decodes one restart interval
//! into a small buffer and walks it backwards.

use std::cmp::Ordering;
use std::sync::Arc;

use kv_api::Direction;

use crate::coding::{get_varint, put_varint, u32_at};
use crate::key;

/// Builds one block.
pub struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    counter: usize,
    interval: usize,
    last_key: Vec<u8>,
    entries: usize,
}

impl BlockBuilder {
    /// A builder storing a full key every `interval` entries.
    pub fn new(interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            interval: interval.max(1),
            last_key: Vec::new(),
            entries: 0,
        }
    }

    /// Append an entry; keys must arrive in increasing order.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter < self.interval {
            key.iter()
                .zip(self.last_key.iter())
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            0
        };
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, (key.len() - shared) as u64);
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.counter += 1;
        self.entries += 1;
    }

    /// Bytes the finished block would take.
    pub fn size_estimate(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// True when no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The last key added.
    pub fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    /// Finish the block into `out` (appended) and reset the builder.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.buf);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.counter = 0;
        self.last_key.clear();
        self.entries = 0;
    }
}

/// A malformed block entry (the caller adds file and offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A parsed, immutable block.
pub struct Block {
    data: Vec<u8>,
    restarts: usize,
    n_restarts: usize,
}

impl Block {
    /// Validate the restart array of `data` (block contents, no trailer).
    pub fn new(data: Vec<u8>) -> Result<Block, Corrupt> {
        let n = data.len();
        if n < 4 {
            return Err(Corrupt);
        }
        let n_restarts = u32_at(&data, n - 4).ok_or(Corrupt)? as usize;
        let restarts = n
            .checked_sub(4)
            .and_then(|x| x.checked_sub(n_restarts.checked_mul(4)?))
            .ok_or(Corrupt)?;
        if n_restarts == 0 {
            return Err(Corrupt);
        }
        let b = Block {
            data,
            restarts,
            n_restarts,
        };
        for i in 0..n_restarts {
            if b.restart(i) > restarts {
                return Err(Corrupt);
            }
        }
        Ok(b)
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.data.len()
    }

    #[inline]
    fn restart(&self, i: usize) -> usize {
        u32_at(&self.data, self.restarts + 4 * i).unwrap_or(u32::MAX) as usize
    }

    /// The full key stored at restart point `i`.
    #[inline]
    fn restart_key(&self, i: usize) -> Result<&[u8], Corrupt> {
        let off = self.restart(i);
        let e = parse(&self.data, off, self.restarts)?;
        if e.shared != 0 {
            return Err(Corrupt);
        }
        Ok(&self.data[e.kstart..e.kstart + e.unshared])
    }

    /// Index of the last restart whose key compares `Less` (or `<=` when
    /// `inclusive`) than `target`, if any.
    fn last_restart_before(
        &self,
        target: &[u8],
        inclusive: bool,
    ) -> Result<Option<usize>, Corrupt> {
        let (mut lo, mut hi) = (0usize, self.n_restarts);
        // Invariant: restarts < lo satisfy the predicate; >= hi do not.
        while lo < hi {
            let mid = (lo + hi) / 2;
            let o = key::compare(self.restart_key(mid)?, target);
            let ok = o == Ordering::Less || (inclusive && o == Ordering::Equal);
            if ok {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo.checked_sub(1))
    }
}

struct Parsed {
    shared: usize,
    unshared: usize,
    kstart: usize,
    vend: usize,
}

#[inline]
fn parse(data: &[u8], off: usize, limit: usize) -> Result<Parsed, Corrupt> {
    let buf = data.get(off..limit).ok_or(Corrupt)?;
    let (shared, a) = get_varint(buf).ok_or(Corrupt)?;
    let (unshared, b) = get_varint(&buf[a..]).ok_or(Corrupt)?;
    let (vlen, c) = get_varint(&buf[a + b..]).ok_or(Corrupt)?;
    let kstart = off + a + b + c;
    let vend = kstart
        .checked_add(unshared as usize)
        .and_then(|x| x.checked_add(vlen as usize))
        .ok_or(Corrupt)?;
    if vend > limit {
        return Err(Corrupt);
    }
    Ok(Parsed {
        shared: shared as usize,
        unshared: unshared as usize,
        kstart,
        vend,
    })
}

/// A cursor over one block in a fixed direction.
pub struct BlockIter {
    block: Arc<Block>,
    dir: Direction,
    valid: bool,
    // Forward state: the current key, value range and next entry offset.
    key: Vec<u8>,
    vs: usize,
    ve: usize,
    next: usize,
    // Reverse state: one decoded restart interval.
    run_keys: Vec<u8>,
    run: Vec<(usize, usize, usize, usize)>,
    run_pos: usize,
    run_restart: usize,
}

impl BlockIter {
    /// An unpositioned iterator.
    pub fn new(block: Arc<Block>, dir: Direction) -> Self {
        Self::with_key_buffer(block, dir, Vec::new())
    }

    /// An unpositioned iterator reusing `key` as its key buffer (point reads
    /// recycle one buffer per thread instead of allocating).
    pub fn with_key_buffer(block: Arc<Block>, dir: Direction, key: Vec<u8>) -> Self {
        BlockIter {
            block,
            dir,
            valid: false,
            key,
            vs: 0,
            ve: 0,
            next: 0,
            run_keys: Vec::new(),
            run: Vec::new(),
            run_pos: 0,
            run_restart: 0,
        }
    }

    /// Give back the key buffer.
    pub fn into_key_buffer(self) -> Vec<u8> {
        self.key
    }

    /// True when positioned on an entry.
    #[inline]
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current internal key.
    #[inline]
    pub fn key(&self) -> &[u8] {
        match self.dir {
            Direction::Forward => &self.key,
            Direction::Reverse => {
                let (ks, ke, _, _) = self.run[self.run_pos];
                &self.run_keys[ks..ke]
            }
        }
    }

    /// The current value.
    #[inline]
    pub fn value(&self) -> &[u8] {
        match self.dir {
            Direction::Forward => &self.block.data[self.vs..self.ve],
            Direction::Reverse => {
                let (_, _, vs, ve) = self.run[self.run_pos];
                &self.block.data[vs..ve]
            }
        }
    }

    fn parse_next(&mut self) -> Result<(), Corrupt> {
        // Invalid until an entry parses, so an error leaves no stale entry.
        self.valid = false;
        if self.next >= self.block.restarts {
            return Ok(());
        }
        let e = parse(&self.block.data, self.next, self.block.restarts)?;
        if e.shared > self.key.len() {
            return Err(Corrupt);
        }
        self.key.truncate(e.shared);
        self.key
            .extend_from_slice(&self.block.data[e.kstart..e.kstart + e.unshared]);
        self.vs = e.kstart + e.unshared;
        self.ve = e.vend;
        self.next = e.vend;
        self.valid = true;
        Ok(())
    }

    fn load_run(&mut self, r: usize) -> Result<(), Corrupt> {
        // Invalid until the caller positions in the run.
        self.valid = false;
        self.run_keys.clear();
        self.run.clear();
        self.run_restart = r;
        let mut off = self.block.restart(r);
        let end = if r + 1 < self.block.n_restarts {
            self.block.restart(r + 1)
        } else {
            self.block.restarts
        };
        let mut prev: (usize, usize) = (0, 0);
        while off < end {
            let e = parse(&self.block.data, off, self.block.restarts)?;
            if e.shared > prev.1 - prev.0 {
                return Err(Corrupt);
            }
            let ks = self.run_keys.len();
            self.run_keys.extend_from_within(prev.0..prev.0 + e.shared);
            self.run_keys
                .extend_from_slice(&self.block.data[e.kstart..e.kstart + e.unshared]);
            let ke = self.run_keys.len();
            self.run.push((ks, ke, e.kstart + e.unshared, e.vend));
            prev = (ks, ke);
            off = e.vend;
        }
        if self.run.is_empty() {
            return Err(Corrupt);
        }
        Ok(())
    }

    /// Position at the first entry in the iterator's direction.
    pub fn seek_to_first(&mut self) -> Result<(), Corrupt> {
        match self.dir {
            Direction::Forward => {
                self.next = 0;
                self.key.clear();
                self.parse_next()
            }
            Direction::Reverse => {
                if self.block.restarts == 0 {
                    self.valid = false;
                    return Ok(());
                }
                self.load_run(self.block.n_restarts - 1)?;
                self.run_pos = self.run.len() - 1;
                self.valid = true;
                Ok(())
            }
        }
    }

    /// Move one entry in the iterator's direction.
    pub fn advance(&mut self) -> Result<(), Corrupt> {
        match self.dir {
            Direction::Forward => self.parse_next(),
            Direction::Reverse => {
                if self.run_pos > 0 {
                    self.run_pos -= 1;
                } else if self.run_restart > 0 {
                    self.load_run(self.run_restart - 1)?;
                    self.run_pos = self.run.len() - 1;
                    self.valid = true;
                } else {
                    self.valid = false;
                }
                Ok(())
            }
        }
    }

    /// Forward: first entry `>= target`; reverse: last entry `<= target`.
    pub fn seek(&mut self, target: &[u8]) -> Result<(), Corrupt> {
        match self.dir {
            Direction::Forward => {
                let r = self.block.last_restart_before(target, false)?.unwrap_or(0);
                self.next = self.block.restart(r);
                self.key.clear();
                loop {
                    self.parse_next()?;
                    if !self.valid || key::compare(&self.key, target) != Ordering::Less {
                        return Ok(());
                    }
                }
            }
            Direction::Reverse => {
                let Some(r) = self.block.last_restart_before(target, true)? else {
                    self.valid = false;
                    return Ok(());
                };
                if self.block.restarts == 0 {
                    self.valid = false;
                    return Ok(());
                }
                self.load_run(r)?;
                let n = self.run.iter().take_while(|&&(ks, ke, _, _)| {
                    key::compare(&self.run_keys[ks..ke], target) != Ordering::Greater
                });
                let n = n.count();
                if n == 0 {
                    return Err(Corrupt);
                }
                self.run_pos = n - 1;
                self.valid = true;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kind;

    fn build(n: u32, interval: usize) -> Arc<Block> {
        let mut b = BlockBuilder::new(interval);
        for i in 0..n {
            b.add(
                &key::encode(format!("key{i:05}").as_bytes(), 7, Kind::Put),
                &i.to_le_bytes(),
            );
        }
        let mut out = Vec::new();
        b.finish_into(&mut out);
        Arc::new(Block::new(out).unwrap())
    }

    #[test]
    fn golden_block_bytes() {
        let mut b = BlockBuilder::new(2);
        b.add(b"abc", b"1");
        b.add(b"abd", b"2");
        b.add(b"b", b"3");
        let mut out = Vec::new();
        b.finish_into(&mut out);
        let want: Vec<u8> = [
            &[0, 3, 1, b'a', b'b', b'c', b'1'][..],
            &[2, 1, 1, b'd', b'2'],
            &[0, 1, 1, b'b', b'3'],
            &0u32.to_le_bytes(),
            &12u32.to_le_bytes(),
            &2u32.to_le_bytes(),
        ]
        .concat();
        assert_eq!(out, want);
    }

    #[test]
    fn forward_reverse_and_seek() {
        for interval in [1, 3, 16] {
            let blk = build(100, interval);
            let mut it = BlockIter::new(Arc::clone(&blk), Direction::Forward);
            it.seek_to_first().unwrap();
            let mut n = 0;
            while it.valid() {
                assert_eq!(key::user_key(it.key()), format!("key{n:05}").as_bytes());
                assert_eq!(it.value(), (n as u32).to_le_bytes());
                n += 1;
                it.advance().unwrap();
            }
            assert_eq!(n, 100);
            let mut it = BlockIter::new(Arc::clone(&blk), Direction::Reverse);
            it.seek_to_first().unwrap();
            let mut n = 100;
            while it.valid() {
                n -= 1;
                assert_eq!(key::user_key(it.key()), format!("key{n:05}").as_bytes());
                it.advance().unwrap();
            }
            assert_eq!(n, 0);
            // Seeks between keys.
            let t = key::encode(b"key00042x", 9, Kind::Put);
            let mut f = BlockIter::new(Arc::clone(&blk), Direction::Forward);
            f.seek(&t).unwrap();
            assert_eq!(key::user_key(f.key()), b"key00043");
            let mut r = BlockIter::new(Arc::clone(&blk), Direction::Reverse);
            r.seek(&t).unwrap();
            assert_eq!(key::user_key(r.key()), b"key00042");
            r.seek(&key::encode(b"a", 0, Kind::Put)).unwrap();
            assert!(!r.valid());
            f.seek(&key::encode(b"z", 0, Kind::Put)).unwrap();
            assert!(!f.valid());
        }
    }

    #[test]
    fn malformed_blocks_are_errors_not_panics() {
        assert!(Block::new(vec![]).is_err());
        assert!(Block::new(vec![0, 0, 0, 0]).is_err());
        assert!(Block::new(vec![9, 9, 9, 9, 1, 0, 0, 0]).is_err());
        let blk = build(10, 4);
        let mut data = blk.data.clone();
        for i in 0..data.len().saturating_sub(8) {
            data[i] ^= 0x5a;
            if let Ok(b) = Block::new(data.clone()) {
                let b = Arc::new(b);
                for dir in [Direction::Forward, Direction::Reverse] {
                    let mut it = BlockIter::new(Arc::clone(&b), dir);
                    let mut steps = 0;
                    if it.seek_to_first().is_ok() {
                        while it.valid() && steps < 100 {
                            let _ = (it.key(), it.value());
                            if it.advance().is_err() {
                                break;
                            }
                            steps += 1;
                        }
                    }
                    let _ = it.seek(&key::encode(b"key00005", 7, Kind::Put));
                }
            }
            data[i] ^= 0x5a;
        }
    }
}
