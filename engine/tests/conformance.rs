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
        let mut o =
            engine::Options::with_write_buffer(16 * 1024).compression(engine::Compression::Lz4);
        o.block_size = 512;
        o.bloom_bits_per_key = 0;
        open(o)
    });
}

mod tiny_levels_compacting {
    use super::*;
    // Levels of a few KiB: the suite's data crosses flushes, trivial moves
    // and multi-level compactions, with zstd below L1.
    kv_api::conformance_suite!(|| {
        let mut o = engine::Options::with_write_buffer(4 * 1024).tiny_levels();
        o.compression_per_level = vec![
            engine::Compression::None,
            engine::Compression::Lz4,
            engine::Compression::Zstd,
        ];
        o.block_size = 256;
        open(o)
    });
}
