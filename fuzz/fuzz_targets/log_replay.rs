//! Recovery with a log of arbitrary bytes: the newest log of a real small
//! database (tables, manifest, CURRENT intact) is replaced by the input,
//! then the database is opened and read in full. Oracle: no panic; open
//! either fails with an error or gives a database that reads and writes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fs = hive_fuzz::template().crash();
    let log = hive_fuzz::file_named(&fs, |n| n.ends_with(".log")).expect("template has a log");
    hive_fuzz::replace(&fs, &log, data);
    hive_fuzz::open_and_read_all(&fs);
});
