//! Untrusted input: malformed lengths, invalid UTF-8, random bytes. Decoding
//! must return errors, never panic, and never allocate on the strength of a
//! length prefix alone.

mod common;

use common::hex;
use jute::codec::{read_buffer, read_ustring, read_vector};
use jute::data::Stat;
use jute::multi::{MultiRequest, MultiResponse};
use jute::proto::*;
use jute::txn::{CloseSessionTxn, MultiTxn};
use jute::{from_bytes, from_bytes_exact, JuteError, Malformation, Record};

#[test]
fn huge_lengths_are_truncation_errors() {
    let bytes = hex("7fffffff 2f616263");
    let err = from_bytes::<SyncRequest>(&bytes).unwrap_err();
    assert_eq!(
        err,
        JuteError::Truncated {
            reading: "SyncRequest.path",
            needed: 0x7fff_ffff,
            available: 4,
        }
    );

    let bytes = hex("00000001 2f 7fffffff 00 ffffffff");
    let err = from_bytes::<SetDataRequest>(&bytes).unwrap_err();
    assert!(err.is_truncated());
    assert_eq!(err.reading(), "SetDataRequest.data");

    // A huge vector count fails once the elements run out.
    let bytes = hex("7fffffff 00000001 61");
    let err = from_bytes::<GetChildrenResponse>(&bytes).unwrap_err();
    assert!(err.is_truncated());
    assert_eq!(err.reading(), "GetChildrenResponse.children");
}

#[test]
fn negative_lengths() {
    let err = from_bytes::<SyncRequest>(&hex("fffffffe")).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "SyncRequest.path",
            problem: Malformation::NegativeLength(-2),
        }
    );
    assert!(err.is_malformed());

    let err = from_bytes::<GetDataResponse>(&hex("80000000")).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "GetDataResponse.data",
            problem: Malformation::NegativeLength(i32::MIN),
        }
    );

    // Vectors follow ZooKeeper's BinaryInputArchive: every negative count
    // yields no elements.
    let response: GetChildrenResponse = from_bytes(&hex("fffffffe")).unwrap();
    assert!(response.children.is_empty());
    let response: GetChildrenResponse = from_bytes(&hex("80000000")).unwrap();
    assert!(response.children.is_empty());
}

#[test]
fn invalid_utf8() {
    let err = from_bytes::<GetDataRequest>(&hex("00000002 2fff 00")).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "GetDataRequest.path",
            problem: Malformation::InvalidUtf8,
        }
    );
    // Buffers are raw bytes: no UTF-8 requirement.
    let mut input = &hex("00000002 2fff")[..];
    assert_eq!(
        read_buffer(&mut input, "b").unwrap(),
        Some(vec![0x2f, 0xff])
    );
}

#[test]
fn truncated_primitives_name_what_was_read() {
    let mut input = &[0u8, 0, 1][..];
    let err = read_ustring(&mut input, "thing").unwrap_err();
    assert_eq!(
        err,
        JuteError::Truncated {
            reading: "thing",
            needed: 4,
            available: 3,
        }
    );
    let err = from_bytes::<Stat>(&[0; 67]).unwrap_err();
    assert_eq!(
        err,
        JuteError::Truncated {
            reading: "Stat.pzxid",
            needed: 8,
            available: 7,
        }
    );
    // Nested records report the innermost field.
    let err = from_bytes::<ExistsResponse>(&[0; 10]).unwrap_err();
    assert_eq!(err.reading(), "Stat.mzxid");
}

#[test]
fn trailing_bytes() {
    let bytes = hex("00000001 00000004 ff");
    assert_eq!(
        from_bytes::<RequestHeader>(&bytes).unwrap(),
        RequestHeader { xid: 1, type_: 4 }
    );
    assert_eq!(
        from_bytes_exact::<RequestHeader>(&bytes).unwrap_err(),
        JuteError::Malformed {
            reading: "end of record",
            problem: Malformation::TrailingBytes(1),
        }
    );
    assert!(from_bytes_exact::<RequestHeader>(&bytes[..8]).is_ok());
}

#[test]
fn error_display() {
    let err = from_bytes::<SyncRequest>(&hex("00000005 2f")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "truncated input reading SyncRequest.path: needed 5 bytes, 1 available"
    );
    let err = from_bytes::<SyncRequest>(&hex("fffffff0")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed input reading SyncRequest.path: negative length -16"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(boxed.to_string().contains("negative length"));
}

#[test]
fn vector_reservation_is_bounded() {
    // Exercised again under a counting allocator in tests/alloc.rs; here
    // just the result.
    let mut input = &hex("7fffffff")[..];
    let err = read_vector::<Stat>(&mut input, "stats").unwrap_err();
    assert!(err.is_truncated());
}

/// Deterministic pseudo-random bytes (xorshift), no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn decode_all(bytes: &[u8]) {
    fn one<T: Record>(bytes: &[u8]) {
        let mut input = bytes;
        if T::deserialize(&mut input).is_ok() {
            assert!(input.len() <= bytes.len());
        }
    }
    one::<ConnectRequest>(bytes);
    one::<ConnectResponse>(bytes);
    one::<SetWatches2>(bytes);
    one::<CreateTTLRequest>(bytes);
    one::<GetACLResponse>(bytes);
    one::<WhoAmIResponse>(bytes);
    one::<MultiRequest>(bytes);
    one::<MultiResponse>(bytes);
    one::<MultiTxn>(bytes);
    one::<CloseSessionTxn>(bytes);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = (rng.next() % 64) as usize;
        let mut bytes = rng.bytes(len);
        // Small lengths and counts make decoders go deeper than random
        // 32-bit values would.
        for chunk in bytes.chunks_mut(4) {
            if rng.next() & 1 == 0 && chunk.len() == 4 {
                let small = (rng.next() % 6) as i32 - 1;
                chunk.copy_from_slice(&small.to_be_bytes());
            }
        }
        decode_all(&bytes);
    }
}

#[test]
fn mutated_valid_encodings_never_panic() {
    let samples: Vec<Vec<u8>> = vec![
        hex(
            "00000001 00 ffffffff 00000002 2f61 00000000 00000000 00000000 \
             00000002 00 ffffffff 00000002 2f62 ffffffff ffffffff 01 ffffffff",
        ),
        hex(
            "00000001 00 00000000 00000002 2f61 ffffffff 00 ffffff9b ffffff9b \
             ffffffff 01 ffffffff",
        ),
        hex("00000000 0000000000001122 00007530 0000000000000000 00000002 0000 00"),
    ];
    let mut rng = Rng(12345);
    for sample in &samples {
        for _ in 0..5_000 {
            let mut bytes = sample.clone();
            for _ in 0..(1 + rng.next() % 3) {
                let at = (rng.next() as usize) % bytes.len();
                bytes[at] = rng.next() as u8;
            }
            let cut = (rng.next() as usize) % (bytes.len() + 1);
            decode_all(&bytes[..cut]);
            decode_all(&bytes);
        }
    }
}
