//! Byte-exact encodings computed by hand from zookeeper.jute (big-endian;
//! ustring/buffer = i32 length + bytes; vector = i32 count + elements).

mod common;

use common::hex;
use jute::data::{Id, Stat, ACL};
use jute::multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
use jute::persistence::FileHeader;
use jute::proto::*;
use jute::txn::TxnHeader;
use jute::{from_bytes, to_bytes, Record};

/// Encodes, compares with `expected`, decodes back.
fn assert_vector<T>(value: &T, expected: &str)
where
    T: jute::Record + std::fmt::Debug + PartialEq,
{
    let expected = hex(expected);
    assert_eq!(to_bytes(value), expected, "encoding of {value:?}");
    assert_eq!(&from_bytes::<T>(&expected).unwrap(), value);
}

/// The request every Java client sends for a new session with a 30 s
/// timeout: 45 bytes, hence the familiar frame length 0x2d.
#[test]
fn connect_request_new_session() {
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0x1122,
        time_out: 30_000,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only: false,
    };
    let with_ro = "00000000 | 0000000000001122 | 00007530 | 0000000000000000 \
                   | 00000010 00000000000000000000000000000000 | 00";
    assert_vector(&request, with_ro);
    assert_eq!(request.serialized_len(), 45);

    let without_ro = "00000000 | 0000000000001122 | 00007530 | 0000000000000000 \
                      | 00000010 00000000000000000000000000000000";
    let mut out = Vec::new();
    request.serialize_compat(&mut out, false);
    assert_eq!(out, hex(without_ro));
    assert_eq!(request.serialized_len_compat(false), 44);
}

#[test]
fn connect_request_with_and_without_read_only() {
    let old = hex("00000000 0000000000000005 00001388 0102030405060708 00000002 abcd");
    let mut input = &old[..];
    let (request, has_ro) = ConnectRequest::deserialize_compat(&mut input).unwrap();
    assert!(!has_ro);
    assert!(input.is_empty());
    assert_eq!(
        request,
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 5,
            time_out: 5000,
            session_id: 0x0102_0304_0506_0708,
            passwd: Some(vec![0xab, 0xcd]),
            read_only: false,
        }
    );
    assert_eq!(from_bytes::<ConnectRequest>(&old).unwrap(), request);

    // Any nonzero byte reads as true, like Java's readBoolean.
    for (flag, expected) in [("00", false), ("01", true), ("ff", true)] {
        let new = hex(&format!(
            "00000000 0000000000000005 00001388 0102030405060708 00000002 abcd {flag}"
        ));
        let mut input = &new[..];
        let (request, has_ro) = ConnectRequest::deserialize_compat(&mut input).unwrap();
        assert!(has_ro);
        assert!(input.is_empty());
        assert_eq!(request.read_only, expected);
    }

    // A null password (-1) is accepted too.
    let null_pw = hex("00000000 0000000000000000 00007530 0000000000000000 ffffffff 01");
    let request: ConnectRequest = from_bytes(&null_pw).unwrap();
    assert_eq!(request.passwd, None);
    assert!(request.read_only);
}

#[test]
fn connect_response_read_only_optional() {
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: 30_000,
        session_id: 0x0123_4567_89ab_cdef,
        passwd: Some(vec![0xaa; 16]),
        read_only: false,
    };
    let body = "00000000 | 00007530 | 0123456789abcdef | 00000010 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_vector(&response, &format!("{body} 00"));
    assert_eq!(response.serialized_len(), 37);

    let mut out = Vec::new();
    response.serialize_compat(&mut out, false);
    assert_eq!(out, hex(body));
    assert_eq!(response.serialized_len_compat(false), 36);

    let mut out = Vec::new();
    ConnectResponse {
        read_only: true,
        ..response.clone()
    }
    .serialize_compat(&mut out, true);
    assert_eq!(out, hex(&format!("{body} 01")));

    let old = hex(body);
    let mut input = &old[..];
    let (decoded, has_ro) = ConnectResponse::deserialize_compat(&mut input).unwrap();
    assert!(!has_ro);
    assert_eq!(decoded, response);
}

#[test]
fn request_and_reply_headers() {
    assert_vector(&RequestHeader { xid: 1, type_: 4 }, "00000001 00000004");
    assert_vector(&RequestHeader { xid: -2, type_: 11 }, "fffffffe 0000000b");
    assert_vector(
        &ReplyHeader {
            xid: -2,
            zxid: 0x10,
            err: -101,
        },
        "fffffffe 0000000000000010 ffffff9b",
    );
}

#[test]
fn stat_is_68_bytes_in_idl_order() {
    let stat = Stat {
        czxid: 1,
        mzxid: 2,
        ctime: 3,
        mtime: 4,
        version: 5,
        cversion: 6,
        aversion: 7,
        ephemeral_owner: 8,
        data_length: 9,
        num_children: 10,
        pzxid: 11,
    };
    assert_vector(
        &stat,
        "0000000000000001 0000000000000002 0000000000000003 0000000000000004 \
         00000005 00000006 00000007 \
         0000000000000008 \
         00000009 0000000a \
         000000000000000b",
    );
    assert_eq!(to_bytes(&stat).len(), 68);
}

#[test]
fn strings_buffers_and_vectors() {
    assert_vector(
        &GetDataRequest {
            path: "/a".into(),
            watch: true,
        },
        "00000002 2f61 01",
    );
    assert_vector(
        &CreateRequest {
            path: "/n".into(),
            data: Some(b"hi".to_vec()),
            acl: vec![ACL {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            flags: 1,
        },
        "00000002 2f6e | 00000002 6869 | 00000001 0000001f 00000005 776f726c64 \
         00000006 616e796f6e65 | 00000001",
    );
    // Null data versus empty data.
    assert_vector(
        &SetDataRequest {
            path: "/".into(),
            data: None,
            version: -1,
        },
        "00000001 2f ffffffff ffffffff",
    );
    assert_vector(
        &SetDataRequest {
            path: "/".into(),
            data: Some(vec![]),
            version: -1,
        },
        "00000001 2f 00000000 ffffffff",
    );
    assert_vector(
        &SetWatches {
            relative_zxid: 5,
            data_watches: vec!["/a".into()],
            exist_watches: vec![],
            child_watches: vec!["/b".into(), "/c".into()],
        },
        "0000000000000005 | 00000001 00000002 2f61 | 00000000 \
         | 00000002 00000002 2f62 00000002 2f63",
    );
    assert_vector(
        &WatcherEvent {
            type_: 3,
            state: 3,
            path: "/x".into(),
        },
        "00000003 00000003 00000002 2f78",
    );
    // Multi-byte UTF-8: the prefix counts bytes, not characters.
    assert_vector(&SyncRequest { path: "/é".into() }, "00000003 2f c3a9");
}

#[test]
fn nulls_decode_as_empty() {
    // A null ustring and a null vector decode as empty; they re-encode as
    // length 0, which is what the rest of the stack sees anyway.
    let bytes = hex("ffffffff 01");
    let request: GetChildrenRequest = from_bytes(&bytes).unwrap();
    assert_eq!(request.path, "");
    assert!(request.watch);

    let bytes = hex("ffffffff");
    let response: GetChildrenResponse = from_bytes(&bytes).unwrap();
    assert!(response.children.is_empty());
    assert_eq!(to_bytes(&response), hex("00000000"));

    // A null buffer stays null.
    let mut bytes = hex("ffffffff");
    bytes.extend_from_slice(&[0; 68]);
    let response: GetDataResponse = from_bytes(&bytes).unwrap();
    assert_eq!(response.data, None);
    assert_eq!(to_bytes(&response), bytes);
}

#[test]
fn disk_records() {
    assert_vector(
        &FileHeader {
            magic: i32::from_be_bytes(*b"ZKLG"),
            version: 2,
            dbid: 0,
        },
        "5a4b4c47 00000002 0000000000000000",
    );
    assert_vector(
        &TxnHeader {
            client_id: 0x100,
            cxid: 2,
            zxid: 0x1_0000_0003,
            time: 0x18b_cfe5_6800,
            type_: 1,
        },
        "0000000000000100 00000002 0000000100000003 0000018bcfe56800 00000001",
    );
}

#[test]
fn multi_request_vector() {
    let request = MultiRequest {
        ops: vec![
            MultiOp::Create(CreateRequest {
                path: "/a".into(),
                data: Some(vec![]),
                acl: vec![],
                flags: 0,
            }),
            MultiOp::Delete(DeleteRequest {
                path: "/b".into(),
                version: -1,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/c".into(),
                version: 5,
            }),
        ],
    };
    assert_vector(
        &request,
        "00000001 00 ffffffff | 00000002 2f61 00000000 00000000 00000000 \
         | 00000002 00 ffffffff | 00000002 2f62 ffffffff \
         | 0000000d 00 ffffffff | 00000002 2f63 00000005 \
         | ffffffff 01 ffffffff",
    );

    let read = MultiRequest {
        ops: vec![
            MultiOp::GetData(GetDataRequest {
                path: "/d".into(),
                watch: false,
            }),
            MultiOp::GetChildren(GetChildrenRequest {
                path: "/".into(),
                watch: false,
            }),
        ],
    };
    assert_vector(
        &read,
        "00000004 00 ffffffff | 00000002 2f64 00 \
         | 00000008 00 ffffffff | 00000001 2f 00 \
         | ffffffff 01 ffffffff",
    );

    assert_vector(&MultiRequest::default(), "ffffffff 01 ffffffff");
}

#[test]
fn multi_response_vector() {
    let response = MultiResponse {
        results: vec![
            OpResult::Create(CreateResponse { path: "/a".into() }),
            OpResult::Delete,
            OpResult::Check,
            OpResult::Error(ErrorResponse { err: -101 }),
        ],
    };
    assert_vector(
        &response,
        "00000001 00 00000000 | 00000002 2f61 \
         | 00000002 00 00000000 \
         | 0000000d 00 00000000 \
         | ffffffff 00 ffffff9b | ffffff9b \
         | ffffffff 01 ffffffff",
    );

    let stat_hex = "0000000000000001 0000000000000002 0000000000000003 0000000000000004 \
                    00000005 00000006 00000007 0000000000000008 00000009 0000000a \
                    000000000000000b";
    let stat = Stat {
        czxid: 1,
        mzxid: 2,
        ctime: 3,
        mtime: 4,
        version: 5,
        cversion: 6,
        aversion: 7,
        ephemeral_owner: 8,
        data_length: 9,
        num_children: 10,
        pzxid: 11,
    };
    let response = MultiResponse {
        results: vec![
            OpResult::Create2(Create2Response {
                path: "/t".into(),
                stat: stat.clone(),
            }),
            OpResult::SetData(SetDataResponse { stat: stat.clone() }),
        ],
    };
    assert_vector(
        &response,
        &format!(
            "0000000f 00 00000000 | 00000002 2f74 {stat_hex} \
             | 00000005 00 00000000 | {stat_hex} \
             | ffffffff 01 ffffffff"
        ),
    );

    let read = MultiResponse {
        results: vec![
            OpResult::GetData(GetDataResponse {
                data: None,
                stat: stat.clone(),
            }),
            OpResult::GetChildren(GetChildrenResponse {
                children: vec!["x".into()],
            }),
            OpResult::Error(ErrorResponse { err: -101 }),
        ],
    };
    assert_vector(
        &read,
        &format!(
            "00000004 00 00000000 | ffffffff {stat_hex} \
             | 00000008 00 00000000 | 00000001 00000001 78 \
             | ffffffff 00 ffffff9b | ffffff9b \
             | ffffffff 01 ffffffff"
        ),
    );
}
