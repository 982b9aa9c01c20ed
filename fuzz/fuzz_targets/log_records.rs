//! Record framing (shared by logs and manifests) on arbitrary bytes, each
//! payload decoded as a write batch and as a version edit. Oracle: no
//! panic; a record reader always moves forward.
#![no_main]

use engine::version::edit::VersionEdit;
use engine::wal::batch;
use engine::wal::record::{RecordReader, resync_finds_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = RecordReader::new(data);
    let mut last = None;
    loop {
        match r.next_record() {
            Ok(Some((off, payload))) => {
                assert!(last.is_none_or(|l| off > l), "reader went backwards");
                last = Some(off);
                let _ = batch::decode(payload);
                let _ = VersionEdit::decode(payload);
            }
            Ok(None) => break,
            Err(bad) => {
                let _ = resync_finds_record(data, bad.offset);
                break;
            }
        }
    }
});
