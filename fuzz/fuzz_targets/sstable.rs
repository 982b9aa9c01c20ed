//! A table file of arbitrary bytes opened with the engine's reader, then
//! walked both ways, sought and point-read. Oracle: no panic, no unbounded
//! allocation (libFuzzer's -rss_limit_mb); errors are expected.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use engine::cache::BlockCache;
use engine::fs::FaultFs;
use engine::hash::hash64;
use engine::iter::InternalIterator;
use engine::sstable::table::Table;
use kv_api::Direction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fs = FaultFs::new();
    let path = Path::new("/t/000001.sst");
    hive_fuzz::replace(&fs, path, data);
    let Ok(table) = Table::open(&fs, path, 1, Arc::new(BlockCache::new(1 << 20))) else {
        return;
    };
    let table = Arc::new(table);
    for dir in [Direction::Forward, Direction::Reverse] {
        let mut it = table.iter(dir);
        if it.seek_to_first().is_ok() {
            let mut n = 0;
            while it.valid() && n < 100_000 {
                let _ = (it.key().len(), it.value().len());
                if it.advance().is_err() {
                    break;
                }
                n += 1;
            }
        }
        let mut it = table.iter(dir);
        let mut target = b"k0042".to_vec();
        target.extend_from_slice(&u64::MAX.to_le_bytes());
        let _ = it.seek(&target);
    }
    for k in [&b"k0042"[..], b"", b"\xff\xff"] {
        let _ = table.get(k, hash64(k), u64::MAX >> 8);
    }
});
