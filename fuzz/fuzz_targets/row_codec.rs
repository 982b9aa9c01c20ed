//! Row value decoding on arbitrary bytes, with a schema drawn from the
//! first bytes. Oracles: no panic; a decoded row re-encodes and decodes to
//! the same values (compared through their encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use table_layer::DataType;
use table_layer::codec::row::{decode_fields, encode_fields};

const TYPES: [DataType; 5] = [
    DataType::Integer,
    DataType::Real,
    DataType::Text,
    DataType::Blob,
    DataType::Boolean,
];

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (n % 20) as usize;
    if rest.len() < n {
        return;
    }
    let (schema, bytes) = rest.split_at(n);
    let types: Vec<DataType> = schema.iter().map(|b| TYPES[*b as usize % 5]).collect();
    let mut out = Vec::new();
    let Ok(version) = decode_fields(bytes, |_| Some(&types[..]), &mut out) else {
        return;
    };
    assert_eq!(out.len(), types.len());
    let mut enc = Vec::new();
    encode_fields(&mut enc, version, &types, out.iter());
    let mut again = Vec::new();
    let v2 = decode_fields(&enc, |_| Some(&types[..]), &mut again).expect("re-encoded row decodes");
    assert_eq!(v2, version);
    let mut enc2 = Vec::new();
    encode_fields(&mut enc2, v2, &types, again.iter());
    assert_eq!(enc, enc2, "row does not survive a round trip");
});
