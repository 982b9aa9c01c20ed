//! Every decoder of on-disk bytes, fed random and mutated input: each must
//! return an error or a value, never panic (a seeded, deterministic stand-in
//! for fuzz targets; `ENGINE_FUZZ_ITERS` raises the count).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::Rng;
use engine::cache::BlockCache;
use engine::fs::{FaultFs, FileSystem};
use engine::sstable::block::{Block, BlockIter};
use engine::sstable::bloom::Bloom;
use engine::sstable::table::Table;
use engine::sstable::{Footer, builder::TableBuilder, builder::TableOptions};
use engine::version::edit::VersionEdit;
use engine::wal::record::{RecordReader, resync_finds_record};
use engine::wal::{batch, record};
use kv_api::{Direction, WriteBatch};

fn iters() -> usize {
    std::env::var("ENGINE_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

fn random_bytes(r: &mut Rng, max: u64) -> Vec<u8> {
    let n = r.below(max) as usize;
    (0..n).map(|_| r.next() as u8).collect()
}

fn mutate(r: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + r.below(4) {
        if v.is_empty() {
            break;
        }
        let i = r.below(v.len() as u64) as usize;
        match r.below(3) {
            0 => v[i] ^= 1 << r.below(8),
            1 => v[i] = r.next() as u8,
            _ => v.truncate(i),
        }
    }
    v
}

#[test]
fn log_records_batches_and_edits() {
    let mut r = Rng::new(1);
    let mut b = WriteBatch::new();
    b.put("key", "value").delete("gone").delete_range("a", "z");
    let mut good = Vec::new();
    batch::encode(&mut good, &b, 42);
    let edit = VersionEdit {
        log_number: Some(3),
        next_file: Some(9),
        ..VersionEdit::default()
    }
    .encode();
    for _ in 0..iters() {
        let input = if r.chance(50) {
            random_bytes(&mut r, 64)
        } else {
            mutate(&mut r, good.clone())
        };
        let _ = batch::decode(&input);
        let input = if r.chance(50) {
            random_bytes(&mut r, 64)
        } else {
            mutate(&mut r, edit.clone())
        };
        let _ = VersionEdit::decode(&input);
        let mut framed = Vec::new();
        record::encode(&mut framed, &good);
        record::encode(&mut framed, &edit);
        let framed = mutate(&mut r, framed);
        let mut rr = RecordReader::new(&framed);
        while let Ok(Some(_)) = rr.next_record() {}
        let _ = resync_finds_record(&framed, r.below(framed.len() as u64 + 1));
    }
}

#[test]
fn blocks_filters_and_footers() {
    let mut r = Rng::new(2);
    let mut bb = engine::sstable::block::BlockBuilder::new(4);
    for i in 0..50u32 {
        bb.add(
            &engine::key::encode(format!("k{i:03}").as_bytes(), 5, engine::key::Kind::Put),
            b"v",
        );
    }
    let mut good = Vec::new();
    bb.finish_into(&mut good);
    let mut fb = engine::sstable::bloom::BloomBuilder::default();
    fb.add_key(b"x");
    let filter = fb.finish(10);
    let footer = Footer::default().encode().to_vec();
    for _ in 0..iters() {
        let input = if r.chance(30) {
            random_bytes(&mut r, 200)
        } else {
            mutate(&mut r, good.clone())
        };
        if let Ok(blk) = Block::new(input) {
            let blk = Arc::new(blk);
            for dir in [Direction::Forward, Direction::Reverse] {
                let mut it = BlockIter::new(Arc::clone(&blk), dir);
                let mut n = 0;
                if it.seek_to_first().is_ok() {
                    while it.valid() && n < 200 {
                        let _ = (it.key(), it.value());
                        if it.advance().is_err() {
                            break;
                        }
                        n += 1;
                    }
                }
                let _ = it.seek(&random_bytes(&mut r, 20));
                if it.valid() {
                    let _ = (it.key(), it.value());
                }
            }
        }
        if let Some(f) = Bloom::new(mutate(&mut r, filter.clone())) {
            let _ = f.may_contain(&random_bytes(&mut r, 10));
        }
        let _ = Footer::decode(&mutate(&mut r, footer.clone()));
    }
}

#[test]
fn whole_tables() {
    let fs = FaultFs::new();
    let path = Path::new("/t/000001.sst");
    let file = fs.create(path).unwrap();
    let mut tb = TableBuilder::new(
        file,
        path.to_path_buf(),
        TableOptions {
            block_size: 128,
            restart_interval: 4,
            bloom_bits_per_key: 10,
            compression: engine::Compression::None,
        },
    );
    for i in 0..100u32 {
        tb.add(
            &engine::key::encode(format!("k{i:03}").as_bytes(), 5, engine::key::Kind::Put),
            b"value",
        )
        .unwrap();
    }
    tb.finish(&[engine::rangedel::Tombstone {
        start: b"k010".to_vec(),
        end: b"k020".to_vec(),
        seq: 9,
    }])
    .unwrap();
    let good = fs.read_all(path).unwrap();
    let mut r = Rng::new(3);
    for i in 0..iters() / 10 {
        let bad = mutate(&mut r, good.clone());
        let p = Path::new("/t").join(format!("{:06}.sst", i + 2));
        let mut f = fs.create(&p).unwrap();
        f.append(&bad).unwrap();
        let cache = Arc::new(BlockCache::new(1 << 20));
        if let Ok(t) = Table::open(&fs, &p, i as u64 + 2, cache) {
            let t = Arc::new(t);
            for k in ["k000", "k015", "k050", "zzz"] {
                let _ = t.get(k.as_bytes(), engine::hash::hash64(k.as_bytes()), u64::MAX);
            }
            for dir in [Direction::Forward, Direction::Reverse] {
                use engine::iter::InternalIterator;
                let mut it = t.iter(dir);
                let mut n = 0;
                if it.seek_to_first().is_ok() {
                    while it.valid() && n < 500 {
                        if it.advance().is_err() {
                            break;
                        }
                        n += 1;
                    }
                }
            }
        }
    }
}

/// A compressed block whose checksum is right but whose payload is not a
/// valid LZ4/Zstandard stream (or claims an absurd size): a corruption
/// error naming the table, never a panic or a huge allocation.
#[test]
fn compressed_blocks_with_valid_checksums_but_bad_payloads() {
    for (codec, type_byte) in [
        (engine::Compression::Lz4, 1u8),
        (engine::Compression::Zstd, 2u8),
    ] {
        let fs = FaultFs::new();
        let path = Path::new("/z/000001.sst");
        let mut tb = TableBuilder::new(
            fs.create(path).unwrap(),
            path.to_path_buf(),
            TableOptions {
                block_size: 1024,
                restart_interval: 16,
                bloom_bits_per_key: 10,
                compression: codec,
            },
        );
        for i in 0..200u32 {
            let k = engine::key::encode(format!("k{i:04}").as_bytes(), 5, engine::key::Kind::Put);
            tb.add(&k, "compressible value ".repeat(4).as_bytes())
                .unwrap();
        }
        tb.finish(&[]).unwrap();
        let good = fs.read_all(path).unwrap();
        // The first data block starts at 0: find its end by its trailer.
        let end = (1..good.len() - 5)
            .find(|&p| {
                good[p] == type_byte
                    && crc32fast::hash(&good[..p + 1]).to_le_bytes() == good[p + 1..p + 5]
            })
            .expect("a compressed first block");
        let mut r = Rng::new(u64::from(type_byte));
        for trial in 0..200u64 {
            let mut bad = good.clone();
            match trial % 4 {
                // An absurd uncompressed size.
                0 => bad[0..4].copy_from_slice(&u32::MAX.to_le_bytes()),
                // A plausible but wrong size.
                1 => bad[0] ^= 1 + (r.next() % 200) as u8,
                // Garbage in the stream.
                _ => {
                    for _ in 0..1 + r.below(8) {
                        let at = 4 + r.below(end as u64 - 4) as usize;
                        bad[at] ^= 1 + (r.next() % 255) as u8;
                    }
                }
            }
            let crc = crc32fast::hash(&bad[..end + 1]);
            bad[end + 1..end + 5].copy_from_slice(&crc.to_le_bytes());
            let p = Path::new("/z").join(format!("{:06}.sst", trial + 2));
            fs.create(&p).unwrap().append(&bad).unwrap();
            let t = Table::open(&fs, &p, trial + 2, Arc::new(BlockCache::new(1 << 20)))
                .expect("meta blocks are intact");
            match t.get(b"k0000", engine::hash::hash64(b"k0000"), u64::MAX) {
                Ok(_) if trial % 4 == 0 => panic!("{codec:?}: an absurd size was accepted"),
                // Some flips still decode (to different bytes that parse).
                Ok(_) => {}
                Err(kv_api::Error::Corruption { file, .. }) => assert_eq!(file, p),
                Err(e) => panic!("{codec:?}: not a corruption error: {e}"),
            }
        }
    }
}
