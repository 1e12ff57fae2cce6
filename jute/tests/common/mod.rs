//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fmt::Debug;

use jute::{to_bytes, Record};

/// Parses hex written for readability: whitespace, `|` and `_` are ignored.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'|' && *b != b'_')
        .collect();
    assert_eq!(digits.len() & 1, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Round-trips `value`, checks `serialized_len`, that decoding consumes
/// exactly the encoding, and that every strict prefix is reported as
/// truncated. `complete_prefixes` lists prefix lengths that legitimately
/// decode (optional trailing fields).
pub fn check_record_with<T: Record + Debug + PartialEq>(value: &T, complete_prefixes: &[usize]) {
    let bytes = to_bytes(value);
    assert_eq!(
        bytes.len(),
        value.serialized_len(),
        "serialized_len of {value:?}"
    );

    // Decoding leaves trailing bytes untouched.
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[0xde, 0xad]);
    let mut input = &padded[..];
    let decoded = T::deserialize(&mut input).unwrap();
    assert_eq!(&decoded, value);
    assert_eq!(input, &[0xde, 0xad]);

    for len in 0..bytes.len() {
        let mut input = &bytes[..len];
        let result = T::deserialize(&mut input);
        if complete_prefixes.contains(&len) {
            assert!(result.is_ok(), "prefix {len} of {value:?}: {result:?}");
        } else {
            let err = result.expect_err("a strict prefix must not decode");
            assert!(err.is_truncated(), "prefix {len} of {value:?}: {err}");
        }
    }
}

/// [`check_record_with`] for records without optional fields.
pub fn check_record<T: Record + Debug + PartialEq>(value: &T) {
    check_record_with(value, &[]);
}
