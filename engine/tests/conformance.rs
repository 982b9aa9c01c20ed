//! The kv-api conformance suite against the engine: once with a tiny write
//! buffer (4 KiB) so data crosses memtables, flushes and many L0 tables while
//! the checks run, once with default options.

use std::sync::Arc;

use kv_api::conformance::TestStore;

fn open(opts: engine::Options) -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let db = engine::Db::open(dir.path(), opts).unwrap();
    TestStore::new(Arc::new(db)).keep_alive(dir)
}

mod tiny_write_buffer {
    use super::*;
    kv_api::conformance_suite!(|| {
        let mut o = engine::Options::with_write_buffer(4 * 1024);
        o.block_size = 256;
        o.block_cache_bytes = 64 * 1024;
        open(o)
    });
}

mod default_options {
    use super::*;
    kv_api::conformance_suite!(|| open(engine::Options::default()));
}

mod lz4_small_blocks {
    use super::*;
    kv_api::conformance_suite!(|| {
        let mut o = engine::Options::with_write_buffer(16 * 1024);
        o.compression = engine::Compression::Lz4;
        o.block_size = 512;
        o.bloom_bits_per_key = 0;
        open(o)
    });
}
