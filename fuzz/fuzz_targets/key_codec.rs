//! Memcomparable key decoding on arbitrary bytes. Oracles: no panic;
//! `skip_value` consumes exactly what `decode_value` does; values decoded
//! re-encode to bytes that decode to the same encoding again; ids too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use table_layer::SortOrder;
use table_layer::codec::key::{decode_id, decode_value, encode_id, encode_value, skip_value};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let order = if first & 1 == 0 {
        SortOrder::Asc
    } else {
        SortOrder::Desc
    };
    let mut input = rest;
    let mut values = Vec::new();
    while !input.is_empty() && values.len() < 64 {
        let mut skip = input;
        let skipped = skip_value(&mut skip, order);
        match decode_value(&mut input, order) {
            Ok(v) => {
                assert!(skipped.is_ok(), "skip failed where decode succeeded");
                assert_eq!(
                    skip.len(),
                    input.len(),
                    "skip and decode consumed different lengths"
                );
                values.push(v);
            }
            Err(_) => break,
        }
    }
    for v in &values {
        let mut enc = Vec::new();
        encode_value(&mut enc, v, order);
        let mut b = enc.as_slice();
        let again = decode_value(&mut b, order).expect("a re-encoded value decodes");
        assert!(b.is_empty(), "re-encoded value left bytes behind");
        let mut enc2 = Vec::new();
        encode_value(&mut enc2, &again, order);
        assert_eq!(enc, enc2, "value {v:?} does not survive a round trip");
    }
    let mut ids = rest;
    if let Ok(id) = decode_id(&mut ids) {
        let mut enc = Vec::new();
        encode_id(&mut enc, id);
        let mut b = enc.as_slice();
        assert_eq!(decode_id(&mut b).ok(), Some(id));
    }
});
