//! Every record of zookeeper.jute round-trips, reports its exact length, and
//! is reported as truncated at every strict prefix. Values are non-default
//! and include null and empty buffers and vectors.

mod common;

use common::{check_record, check_record_with};
use jute::data::*;
use jute::persistence::*;
use jute::proto::*;
use jute::quorum::*;
use jute::txn::*;
use jute::Record;

fn s(text: &str) -> String {
    text.to_owned()
}

fn buf(bytes: &[u8]) -> Option<Vec<u8>> {
    Some(bytes.to_vec())
}

fn stat(seed: i64) -> Stat {
    Stat {
        czxid: seed,
        mzxid: seed + 1,
        ctime: 1_700_000_000_000 + seed,
        mtime: 1_700_000_000_001 + seed,
        version: 3,
        cversion: -1,
        aversion: 7,
        ephemeral_owner: 0x0123_4567_89ab_cdef,
        data_length: 5,
        num_children: 2,
        pzxid: i64::MIN,
    }
}

fn acls() -> Vec<ACL> {
    vec![
        ACL {
            perms: 31,
            id: Id {
                scheme: s("world"),
                id: s("anyone"),
            },
        },
        ACL {
            perms: 1,
            id: Id {
                scheme: s("digest"),
                id: s("bob:Zm9vYmFy"),
            },
        },
    ]
}

fn paths() -> Vec<String> {
    vec![s("/a"), s("/b/c"), s(""), s("/ünïcödé")]
}

#[test]
fn data_module() {
    check_record(&Id {
        scheme: s("ip"),
        id: s("127.0.0.1"),
    });
    check_record(&acls()[1]);
    check_record(&stat(42));
    check_record(&Stat::default());
    check_record(&StatPersisted {
        czxid: 1,
        mzxid: 2,
        ctime: 3,
        mtime: 4,
        version: 5,
        cversion: 6,
        aversion: 7,
        ephemeral_owner: -8,
        pzxid: 9,
    });
    check_record(&ClientInfo {
        auth_scheme: s("sasl"),
        user: s("zk/host@REALM"),
    });
}

#[test]
fn connect_records() {
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0x1_0000_0005,
        time_out: 30_000,
        session_id: 0x7766_5544_3322_1100,
        passwd: buf(&[9; 16]),
        read_only: true,
    };
    let full = jute::to_bytes(&request).len();
    // The prefix without the readOnly byte is a valid old-client request.
    check_record_with(&request, &[full - 1]);
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: 4_000,
        session_id: -1,
        passwd: None,
        read_only: true,
    };
    let full = jute::to_bytes(&response).len();
    check_record_with(&response, &[full - 1]);
}

#[test]
fn proto_module() {
    check_record(&SetWatches {
        relative_zxid: 77,
        data_watches: paths(),
        exist_watches: vec![],
        child_watches: vec![s("/x")],
    });
    check_record(&SetWatches2 {
        relative_zxid: -1,
        data_watches: vec![s("/d")],
        exist_watches: vec![s("/e")],
        child_watches: vec![],
        persistent_watches: paths(),
        persistent_recursive_watches: vec![s("/r")],
    });
    check_record(&RequestHeader { xid: 12, type_: 4 });
    check_record(&MultiHeader {
        type_: 1,
        done: false,
        err: -1,
    });
    check_record(&AuthPacket {
        type_: 0,
        scheme: s("digest"),
        auth: buf(b"user:pass"),
    });
    check_record(&ReplyHeader {
        xid: -2,
        zxid: 99,
        err: -101,
    });
    check_record(&GetDataRequest {
        path: s("/p"),
        watch: true,
    });
    check_record(&SetDataRequest {
        path: s("/p"),
        data: None,
        version: -1,
    });
    check_record(&ReconfigRequest {
        joining_servers: s("server.4=h:2888:3888;2181"),
        leaving_servers: s("2,3"),
        new_members: s(""),
        cur_config_id: -1,
    });
    check_record(&SetDataResponse { stat: stat(1) });
    check_record(&GetSASLRequest { token: buf(b"tok") });
    check_record(&SetSASLRequest { token: buf(b"") });
    check_record(&SetSASLResponse { token: None });
    check_record(&CreateRequest {
        path: s("/n"),
        data: buf(b"data"),
        acl: acls(),
        flags: 3,
    });
    check_record(&CreateTTLRequest {
        path: s("/ttl"),
        data: buf(b""),
        acl: acls(),
        flags: 5,
        ttl: 60_000,
    });
    check_record(&DeleteRequest {
        path: s("/d"),
        version: 4,
    });
    check_record(&GetChildrenRequest {
        path: s("/"),
        watch: false,
    });
    check_record(&GetAllChildrenNumberRequest { path: s("/q") });
    check_record(&GetChildren2Request {
        path: s("/q"),
        watch: true,
    });
    check_record(&CheckVersionRequest {
        path: s("/c"),
        version: 0,
    });
    check_record(&GetMaxChildrenRequest { path: s("/m") });
    check_record(&GetMaxChildrenResponse { max: 10 });
    check_record(&SetMaxChildrenRequest {
        path: s("/m"),
        max: 11,
    });
    check_record(&SyncRequest { path: s("/s") });
    check_record(&SyncResponse { path: s("/s") });
    check_record(&GetACLRequest { path: s("/acl") });
    check_record(&SetACLRequest {
        path: s("/acl"),
        acl: acls(),
        version: 2,
    });
    check_record(&SetACLResponse { stat: stat(5) });
    check_record(&AddWatchRequest {
        path: s("/w"),
        mode: 1,
    });
    check_record(&WatcherEvent {
        type_: 3,
        state: 3,
        path: s("/w"),
    });
    check_record(&ErrorResponse { err: -110 });
    check_record(&CreateResponse {
        path: s("/n0000000001"),
    });
    check_record(&Create2Response {
        path: s("/n"),
        stat: stat(8),
    });
    check_record(&ExistsRequest {
        path: s("/e"),
        watch: true,
    });
    check_record(&ExistsResponse { stat: stat(9) });
    check_record(&GetDataResponse {
        data: buf(&[0, 1, 2, 255]),
        stat: stat(10),
    });
    check_record(&GetDataResponse {
        data: None,
        stat: stat(10),
    });
    check_record(&GetChildrenResponse { children: paths() });
    check_record(&GetAllChildrenNumberResponse { total_number: 1234 });
    check_record(&GetChildren2Response {
        children: paths(),
        stat: stat(11),
    });
    check_record(&GetACLResponse {
        acl: acls(),
        stat: stat(12),
    });
    check_record(&CheckWatchesRequest {
        path: s("/cw"),
        type_: 2,
    });
    check_record(&RemoveWatchesRequest {
        path: s("/rw"),
        type_: 3,
    });
    check_record(&GetEphemeralsRequest {
        prefix_path: s("/app"),
    });
    check_record(&GetEphemeralsResponse {
        ephemerals: paths(),
    });
    check_record(&WhoAmIResponse {
        client_info: vec![
            ClientInfo {
                auth_scheme: s("ip"),
                user: s("10.0.0.1"),
            },
            ClientInfo {
                auth_scheme: s("digest"),
                user: s("bob"),
            },
        ],
    });
}

#[test]
fn quorum_module() {
    check_record(&LearnerInfo {
        serverid: 3,
        protocol_version: 0x10000,
        config_version: 0x1_0000_0000,
    });
    check_record(&QuorumPacket {
        type_: 5,
        zxid: 0x2_0000_0001,
        data: buf(b"payload"),
        authinfo: vec![acls()[0].id.clone(), acls()[1].id.clone()],
    });
    check_record(&QuorumPacket {
        type_: 4,
        zxid: 0,
        data: None,
        authinfo: vec![],
    });
    check_record(&QuorumAuthPacket {
        magic: 0x1234,
        status: 0,
        token: buf(b"t"),
    });
}

#[test]
fn persistence_module() {
    check_record(&FileHeader {
        magic: 0x5a4b_4c47,
        version: 2,
        dbid: 0,
    });
}

#[test]
fn txn_module() {
    check_record(&TxnDigest {
        version: 2,
        tree_digest: 0x0fed_cba9_8765_4321,
    });
    check_record(&TxnHeader {
        client_id: 0x1000,
        cxid: 7,
        zxid: 0x3_0000_0002,
        time: 1_700_000_000_000,
        type_: 1,
    });
    check_record(&CreateTxnV0 {
        path: s("/v0"),
        data: buf(b"x"),
        acl: acls(),
        ephemeral: true,
    });
    check_record(&CreateTxn {
        path: s("/c"),
        data: None,
        acl: acls(),
        ephemeral: false,
        parent_c_version: 12,
    });
    check_record(&CreateTTLTxn {
        path: s("/t"),
        data: buf(b"y"),
        acl: vec![],
        parent_c_version: 1,
        ttl: 1000,
    });
    check_record(&CreateContainerTxn {
        path: s("/k"),
        data: buf(b""),
        acl: acls(),
        parent_c_version: 2,
    });
    check_record(&DeleteTxn { path: s("/d") });
    check_record(&SetDataTxn {
        path: s("/s"),
        data: buf(b"new"),
        version: 8,
    });
    check_record(&CheckVersionTxn {
        path: s("/v"),
        version: 3,
    });
    check_record(&SetACLTxn {
        path: s("/a"),
        acl: acls(),
        version: 1,
    });
    check_record(&SetMaxChildrenTxn {
        path: s("/m"),
        max: 5,
    });
    check_record(&CreateSessionTxn { time_out: 30_000 });
    check_record(&CloseSessionTxn {
        paths2_delete: paths(),
    });
    check_record(&ErrorTxn { err: -101 });
    let inner = jute::to_bytes(&DeleteTxn { path: s("/x") });
    check_record(&Txn {
        type_: 2,
        data: Some(inner.clone()),
    });
    check_record(&MultiTxn {
        txns: vec![
            Txn {
                type_: 2,
                data: Some(inner),
            },
            Txn {
                type_: -1,
                data: Some(jute::to_bytes(&ErrorTxn { err: 0 })),
            },
        ],
    });
    check_record(&MultiTxn::default());
}

#[test]
fn defaults_round_trip() {
    // Default values: empty strings and vectors, null buffers.
    fn rt<T: Record + std::fmt::Debug + PartialEq + Default>() {
        check_record(&T::default());
    }
    rt::<Id>();
    rt::<ACL>();
    rt::<ClientInfo>();
    rt::<CreateRequest>();
    rt::<CreateTTLRequest>();
    rt::<SetWatches2>();
    rt::<GetACLResponse>();
    rt::<WhoAmIResponse>();
    rt::<QuorumPacket>();
    rt::<CreateTxn>();
    rt::<CloseSessionTxn>();
    rt::<Txn>();
}
