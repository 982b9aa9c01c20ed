//! [`MergingIter`]: a k-way merge of internal iterators by internal key.
//!
//! A binary heap of child indices keyed by each child's current key (a
//! min-heap going forward, a max-heap in reverse). Advancing pops nothing:
//! the top child moves and is sifted down, which costs O(log k) comparisons
//! per entry. Versions of one user key from different sources come out in
//! internal-key order (newest first going forward), which is what
//! [`DbIter`](super::db_iter::DbIter) relies on.

use std::cmp::Ordering;

use kv_api::{Direction, Result};

use super::InternalIterator;
use crate::key;

/// A merge of several internal iterators going the same direction.
pub struct MergingIter {
    children: Vec<Box<dyn InternalIterator>>,
    heap: Vec<usize>,
    dir: Direction,
}

impl MergingIter {
    /// Merge `children` (all built with direction `dir`).
    pub fn new(children: Vec<Box<dyn InternalIterator>>, dir: Direction) -> Self {
        MergingIter {
            heap: Vec::with_capacity(children.len()),
            children,
            dir,
        }
    }

    #[inline]
    fn before(&self, a: usize, b: usize) -> bool {
        let o = key::compare(self.children[a].key(), self.children[b].key());
        match self.dir {
            Direction::Forward => o == Ordering::Less,
            Direction::Reverse => o == Ordering::Greater,
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                return;
            }
            let r = l + 1;
            let mut best = l;
            if r < n && self.before(self.heap[r], self.heap[l]) {
                best = r;
            }
            if self.before(self.heap[best], self.heap[i]) {
                self.heap.swap(best, i);
                i = best;
            } else {
                return;
            }
        }
    }

    fn rebuild(&mut self) {
        self.heap.clear();
        for (i, c) in self.children.iter().enumerate() {
            if c.valid() {
                self.heap.push(i);
            }
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
    }
}

impl InternalIterator for MergingIter {
    #[inline]
    fn valid(&self) -> bool {
        !self.heap.is_empty()
    }

    #[inline]
    fn key(&self) -> &[u8] {
        self.children[self.heap[0]].key()
    }

    #[inline]
    fn value(&self) -> &[u8] {
        self.children[self.heap[0]].value()
    }

    fn advance(&mut self) -> Result<()> {
        let Some(&top) = self.heap.first() else {
            return Ok(());
        };
        self.children[top].advance()?;
        if !self.children[top].valid() {
            let last = self.heap.len() - 1;
            self.heap.swap(0, last);
            self.heap.pop();
        }
        self.sift_down(0);
        Ok(())
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        for c in &mut self.children {
            c.seek(target)?;
        }
        self.rebuild();
        Ok(())
    }

    fn seek_to_first(&mut self) -> Result<()> {
        for c in &mut self.children {
            c.seek_to_first()?;
        }
        self.rebuild();
        Ok(())
    }
}
