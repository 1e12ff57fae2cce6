//! Every decoder that reads hostile bytes: what a client sends (request
//! header + body per op code, exactly as the connection dispatches them; the
//! ConnectRequest; multi requests) and what a damaged data directory holds
//! (txn log entries, whole txn log files, snapshots in all three
//! compressions).
//!
//! Invariants checked:
//! - no decoder panics, overflows its stack or allocates unboundedly (run
//!   with -rss_limit_mb / -malloc_limit_mb; see fuzz/run.sh);
//! - a record that decodes re-encodes to exactly the bytes it consumed in
//!   length (`serialized_len` agrees with what `serialize` writes), and
//!   decoding that encoding gives the same value (round trip);
//! - the server's dispatcher (`ClientOp::decode`) calls a body malformed
//!   exactly when the op's record does not decode.
//!
//! Input layout: the first byte selects the decoder (see [`Target`]), the
//! rest is the decoder's input.

#![no_main]

use std::fmt::Debug;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use ferrokeeper::acl::AclCache;
use ferrokeeper::persist::snapshot::load_into;
use ferrokeeper::persist::txnlog::format::{decode_txn, marshal_txn};
use ferrokeeper::persist::txnlog::{LogFile, RecoveryMode, TxnLogIterator};
use ferrokeeper::pipeline::ClientOp;
use ferrokeeper::tree::DataTree;
use jute::consts::OpCode;
use jute::multi::MultiRequest;
use jute::proto::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, ConnectRequest,
    CreateRequest, CreateTTLRequest, DeleteRequest, ExistsRequest, GetACLRequest,
    GetAllChildrenNumberRequest, GetChildren2Request, GetChildrenRequest, GetDataRequest,
    GetEphemeralsRequest, RemoveWatchesRequest, RequestHeader, SetACLRequest, SetDataRequest,
    SetWatches, SetWatches2, SyncRequest,
};
use jute::Record;
use libfuzzer_sys::fuzz_target;

/// What the first input byte selects (modulo 6).
enum Target {
    /// A request frame after the handshake: RequestHeader, then the body.
    ClientFrame,
    /// The first frame of a connection.
    Connect,
    /// A multi / multiRead body on its own.
    Multi,
    /// The txn bytes of one log entry (TxnHeader, body, optional TxnDigest).
    TxnEntry,
    /// A whole snapshot file; (selector / 6) % 3 picks none, gz or snappy.
    Snapshot,
    /// A whole txn log file.
    TxnLog,
}

fn target(selector: u8) -> Target {
    match selector % 6 {
        0 => Target::ClientFrame,
        1 => Target::Connect,
        2 => Target::Multi,
        3 => Target::TxnEntry,
        4 => Target::Snapshot,
        _ => Target::TxnLog,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    match target(selector) {
        Target::ClientFrame => client_frame(input),
        Target::Connect => connect_request(input),
        Target::Multi => {
            roundtrip::<MultiRequest>(input);
        }
        Target::TxnEntry => txn_entry(input),
        Target::Snapshot => snapshot_file(input, (selector / 6) % 3),
        Target::TxnLog => txn_log_file(input),
    }
});

/// Decodes a `T` from the front of `bytes` and, if that works, checks the
/// round trip. Returns whether the decode succeeded.
fn roundtrip<T: Record + PartialEq + Debug>(bytes: &[u8]) -> bool {
    let mut input = bytes;
    let Ok(first) = T::deserialize(&mut input) else {
        return false;
    };
    let consumed = bytes.len() - input.len();
    let encoded = jute::to_bytes(&first);
    assert_eq!(
        encoded.len(),
        first.serialized_len(),
        "serialized_len disagrees with serialize for {first:?}"
    );
    // Null strings/vectors become empty ones, nonzero booleans become 1 and
    // multi headers get their canonical fields, but every one of those keeps
    // its size: a decode never skips or invents bytes.
    assert_eq!(
        encoded.len(),
        consumed,
        "re-encoding {first:?} does not take the bytes it was decoded from"
    );
    match jute::from_bytes_exact::<T>(&encoded) {
        Ok(second) => assert_eq!(first, second, "round trip changed the value"),
        Err(e) => panic!("re-encoded {first:?} does not decode: {e}"),
    }
    true
}

/// A request frame as `net::connection` handles it after the handshake.
fn client_frame(frame: &[u8]) {
    // The connection closes on frames shorter than the header.
    if frame.len() < 8 {
        return;
    }
    let mut rest = frame;
    let header = match RequestHeader::deserialize(&mut rest) {
        Ok(h) => h,
        Err(e) => panic!("8-byte RequestHeader failed: {e}"),
    };
    let dispatched = ClientOp::decode(header.type_, rest);
    let Some(decoded) = body_roundtrip(header.type_, rest) else {
        return;
    };
    let malformed = matches!(dispatched, ClientOp::Malformed(_));
    assert_eq!(
        malformed, !decoded,
        "dispatcher and record disagree for op {}: {dispatched:?}",
        header.type_
    );
}

/// The body record of `op`, as `ClientOp::decode` picks it: `Some(decoded)`
/// for ops with a body, `None` for bodyless or unserved ops.
fn body_roundtrip(op: i32, body: &[u8]) -> Option<bool> {
    let code = OpCode::try_from(op).ok()?;
    let ok = match code {
        OpCode::Create | OpCode::Create2 | OpCode::CreateContainer => {
            roundtrip::<CreateRequest>(body)
        }
        OpCode::CreateTTL => roundtrip::<CreateTTLRequest>(body),
        OpCode::Delete => roundtrip::<DeleteRequest>(body),
        OpCode::Exists => roundtrip::<ExistsRequest>(body),
        OpCode::GetData => roundtrip::<GetDataRequest>(body),
        OpCode::SetData => roundtrip::<SetDataRequest>(body),
        OpCode::GetACL => roundtrip::<GetACLRequest>(body),
        OpCode::SetACL => roundtrip::<SetACLRequest>(body),
        OpCode::GetChildren => roundtrip::<GetChildrenRequest>(body),
        OpCode::GetChildren2 => roundtrip::<GetChildren2Request>(body),
        OpCode::GetAllChildrenNumber => roundtrip::<GetAllChildrenNumberRequest>(body),
        OpCode::GetEphemerals => roundtrip::<GetEphemeralsRequest>(body),
        OpCode::Check => roundtrip::<CheckVersionRequest>(body),
        OpCode::Multi | OpCode::MultiRead => roundtrip::<MultiRequest>(body),
        OpCode::Sync => roundtrip::<SyncRequest>(body),
        OpCode::Auth => roundtrip::<AuthPacket>(body),
        OpCode::SetWatches => roundtrip::<SetWatches>(body),
        OpCode::SetWatches2 => roundtrip::<SetWatches2>(body),
        OpCode::AddWatch => roundtrip::<AddWatchRequest>(body),
        OpCode::RemoveWatches => roundtrip::<RemoveWatchesRequest>(body),
        OpCode::CheckWatches => roundtrip::<CheckWatchesRequest>(body),
        _ => return None,
    };
    Some(ok)
}

/// The handshake frame, decoded as the connection decodes it.
fn connect_request(frame: &[u8]) {
    let mut input = frame;
    let Ok((first, has_read_only)) = ConnectRequest::deserialize_compat(&mut input) else {
        return;
    };
    let consumed = frame.len() - input.len();
    let mut encoded = Vec::new();
    first.serialize_compat(&mut encoded, has_read_only);
    assert_eq!(encoded.len(), first.serialized_len_compat(has_read_only));
    assert_eq!(
        encoded.len(),
        consumed,
        "{first:?} re-encodes to another size"
    );
    let mut again = &encoded[..];
    match ConnectRequest::deserialize_compat(&mut again) {
        Ok(second) => assert_eq!((first, has_read_only), second),
        Err(e) => panic!("re-encoded ConnectRequest does not decode: {e}"),
    }
}

/// One log entry's txn bytes, decoded as log replay decodes them.
fn txn_entry(bytes: &[u8]) {
    let Ok(first) = decode_txn(bytes) else {
        return;
    };
    // Not byte-for-byte: a pre-3.3 create is re-encoded as a current one and
    // bytes after the digest are dropped. The value must survive.
    let encoded = marshal_txn(&first.header, &first.body, first.digest.as_ref());
    match decode_txn(&encoded) {
        Ok(second) => assert_eq!(first, second, "txn round trip changed the value"),
        Err(e) => panic!("re-encoded {first:?} does not decode: {e}"),
    }
}

/// A private directory for the file decoders, on tmpfs when there is one.
fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let builder = tempfile::Builder::new().prefix("fk-fuzz-").tempdir_in(shm);
        let dir = match builder {
            Ok(d) => d,
            Err(_) => tempfile::tempdir().expect("no temporary directory for the fuzzer"),
        };
        // Kept for the life of the fuzzing process.
        dir.keep()
    })
}

/// Writes `bytes` to `name` in the scratch directory (replacing it).
fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    let mut f = std::fs::File::create(&path).expect("scratch file");
    f.write_all(bytes).expect("scratch write");
    path
}

/// A snapshot file loaded into a fresh tree, as recovery loads it.
fn snapshot_file(bytes: &[u8], compression: u8) {
    let name = match compression {
        0 => "snapshot.1b",
        1 => "snapshot.1b.gz",
        _ => "snapshot.1b.snappy",
    };
    let path = scratch_file(name, bytes);
    let mut tree = DataTree::default();
    let mut acls = AclCache::new();
    let mut sessions: Vec<(i64, i32)> = Vec::new();
    let _ = load_into(&path, &mut tree, &mut acls, &mut sessions);
}

/// A txn log file read to its end, as recovery reads it.
fn txn_log_file(bytes: &[u8]) {
    let path = scratch_file("log.1", bytes);
    let files = vec![LogFile {
        path,
        start_zxid: 1,
    }];
    // Strict: report a torn tail, never cut the file.
    for entry in TxnLogIterator::over_files(files, 0, RecoveryMode::Strict) {
        if entry.is_err() {
            break;
        }
    }
}
