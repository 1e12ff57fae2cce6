//! Inputs found by the cargo-fuzz targets in fuzz/ (and by reviewing what
//! they exercise) that once crashed or misbehaved, kept as plain tests so
//! `cargo test` guards the fixes. Each test names the target that found it.

use ferrokeeper::persist::txnlog::format::decode_txn;
use ferrokeeper::txn::TxnBody;
use jute::consts::OpCode;
use jute::txn::TxnHeader;

/// A multi txn whose only sub-txn is a multi whose only sub-txn is a multi…
/// `depth` levels deep; the innermost multi is empty.
fn nested_multi_body(depth: usize) -> Vec<u8> {
    // Per level: Txn count (1), Txn.type (multi), Txn.data length, then the
    // level inside; the innermost MultiTxn is an empty vector (4 bytes).
    let mut out = Vec::with_capacity(depth * 12 + 4);
    for level in 0..depth {
        let inner_len = 12 * (depth - 1 - level) + 4;
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&(OpCode::Multi as i32).to_be_bytes());
        out.extend_from_slice(&(inner_len as i32).to_be_bytes());
    }
    out.extend_from_slice(&0i32.to_be_bytes());
    out
}

fn multi_header() -> Vec<u8> {
    jute::to_bytes(&TxnHeader {
        client_id: 1,
        cxid: 1,
        zxid: 1,
        time: 0,
        type_: OpCode::Multi as i32,
    })
}

/// jute_decode (TxnEntry): a multi nested in a multi recursed once per level,
/// so a log entry of a few hundred KiB overflowed the stack of whichever
/// thread replayed the log. ZooKeeper refuses a multi inside a multi
/// (`DataTree.processTxn`: "Invalid type of op"), and so must we — at any
/// depth, cheaply.
#[test]
fn nested_multi_txn_is_refused_not_recursed() {
    let mut entry = multi_header();
    entry.extend_from_slice(&nested_multi_body(100_000));
    let err = decode_txn(&entry).expect_err("a multi inside a multi must not decode");
    assert!(err.contains("multi"), "unexpected error: {err}");

    // One level of nesting is just as invalid.
    let mut shallow = multi_header();
    shallow.extend_from_slice(&nested_multi_body(1));
    assert!(decode_txn(&shallow).is_err());
    assert!(TxnBody::from_bytes(OpCode::Multi as i32, &nested_multi_body(2)).is_err());

    // An empty multi (no nesting) still decodes.
    let mut empty = multi_header();
    empty.extend_from_slice(&nested_multi_body(0));
    let txn = decode_txn(&empty).expect("empty multi decodes");
    assert_eq!(txn.body, TxnBody::Multi(Vec::new()));
}
