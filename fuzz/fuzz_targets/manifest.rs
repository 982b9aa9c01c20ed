//! Recovery with a manifest of arbitrary bytes: the manifest named by
//! CURRENT in a real small database is replaced by the input, then the
//! database is opened and read in full. Oracle: no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fs = hive_fuzz::template().crash();
    let m = hive_fuzz::file_named(&fs, |n| n.starts_with("MANIFEST-"))
        .expect("template has a manifest");
    hive_fuzz::replace(&fs, &m, data);
    hive_fuzz::open_and_read_all(&fs);
});
