//! Shared test helpers: the stores every table-layer test runs on.
//!
//! Each test calls [`backends`] and runs its scenario once per backend, so
//! the same assertions hold over the in-memory reference store and over the
//! LSM engine.

#![allow(dead_code)]

use std::sync::Arc;

use kv_api::{KvStore, MemStore};
use table_layer::Database;

/// A store that can be reopened the way its kind allows.
pub trait Backend {
    /// Name for assertion messages.
    fn name(&self) -> &'static str;
    /// The current store handle.
    fn store(&self) -> Arc<dyn KvStore>;
    /// Close and reopen the store (a no-op for MemStore, which only lives in
    /// memory: the table layer's state is still rebuilt from it).
    fn reopen(&mut self);
}

/// The in-memory reference store.
pub struct Mem(Arc<MemStore>);

impl Backend for Mem {
    fn name(&self) -> &'static str {
        "MemStore"
    }
    fn store(&self) -> Arc<dyn KvStore> {
        self.0.clone()
    }
    fn reopen(&mut self) {}
}

/// The LSM engine in a temporary directory, with a small write buffer so
/// that tests reach its table files, not only its memtable.
pub struct Engine {
    dir: tempfile::TempDir,
    store: Option<Arc<dyn KvStore>>,
}

impl Engine {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Self::open_at(dir.path());
        Engine {
            dir,
            store: Some(store),
        }
    }

    fn open_at(path: &std::path::Path) -> Arc<dyn KvStore> {
        Arc::new(
            engine::Db::open(path, engine::Options::with_write_buffer(64 << 10))
                .expect("open engine"),
        )
    }
}

impl Backend for Engine {
    fn name(&self) -> &'static str {
        "engine"
    }
    fn store(&self) -> Arc<dyn KvStore> {
        self.store.clone().expect("engine open")
    }
    fn reopen(&mut self) {
        if let Some(s) = self.store.take() {
            s.close().expect("close engine");
        }
        self.store = Some(Self::open_at(self.dir.path()));
    }
}

/// Every backend, freshly created and empty.
pub fn backends() -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(Mem(Arc::new(MemStore::new()))),
        Box::new(Engine::new()),
    ]
}

/// Open a database on a backend.
pub fn open(b: &dyn Backend) -> Database {
    Database::open(b.store()).expect("open database")
}

/// Splitmix64: a small deterministic generator for randomized tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
