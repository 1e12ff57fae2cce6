//! Multi request/response framing beyond the byte vectors in vectors.rs:
//! every variant round-trips, and decoding refuses what ZooKeeper's
//! `MultiOperationRecord` / `MultiResponse` refuse.

mod common;

use common::{check_record, hex};
use jute::consts::OpCode;
use jute::data::{Id, Stat, ACL};
use jute::multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
use jute::proto::*;
use jute::{from_bytes, JuteError, Malformation};

fn create(path: &str, flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(b"v".to_vec()),
        acl: vec![ACL {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }],
        flags,
    }
}

fn write_ops() -> Vec<MultiOp> {
    vec![
        MultiOp::Create(create("/a", 0)),
        MultiOp::Create2(create("/b", 2)),
        MultiOp::CreateContainer(create("/c", 4)),
        MultiOp::CreateTTL(CreateTTLRequest {
            path: "/t".into(),
            data: None,
            acl: vec![],
            flags: 5,
            ttl: 1000,
        }),
        MultiOp::Delete(DeleteRequest {
            path: "/d".into(),
            version: 3,
        }),
        MultiOp::SetData(SetDataRequest {
            path: "/s".into(),
            data: Some(vec![]),
            version: -1,
        }),
        MultiOp::Check(CheckVersionRequest {
            path: "/k".into(),
            version: 0,
        }),
    ]
}

#[test]
fn every_op_round_trips() {
    let ops = write_ops();
    let codes: Vec<OpCode> = ops.iter().map(MultiOp::op_code).collect();
    assert_eq!(
        codes,
        [
            OpCode::Create,
            OpCode::Create2,
            OpCode::CreateContainer,
            OpCode::CreateTTL,
            OpCode::Delete,
            OpCode::SetData,
            OpCode::Check
        ]
    );
    let request = MultiRequest { ops };
    assert_eq!(request.is_read(), Some(false));
    check_record(&request);

    let read = MultiRequest {
        ops: vec![
            MultiOp::GetChildren(GetChildrenRequest {
                path: "/".into(),
                watch: false,
            }),
            MultiOp::GetData(GetDataRequest {
                path: "/x".into(),
                watch: false,
            }),
        ],
    };
    assert_eq!(read.is_read(), Some(true));
    assert_eq!(read.ops[1].path(), "/x");
    check_record(&read);
    check_record(&MultiRequest::default());
    assert_eq!(MultiRequest::default().is_read(), None);
}

#[test]
fn every_result_round_trips() {
    let stat = Stat {
        mzxid: 4,
        ..Stat::default()
    };
    let response = MultiResponse {
        results: vec![
            OpResult::Create(CreateResponse { path: "/a".into() }),
            OpResult::Create2(Create2Response {
                path: "/b".into(),
                stat: stat.clone(),
            }),
            OpResult::Delete,
            OpResult::SetData(SetDataResponse { stat: stat.clone() }),
            OpResult::Check,
            OpResult::GetChildren(GetChildrenResponse {
                children: vec!["c1".into(), "c2".into()],
            }),
            OpResult::GetData(GetDataResponse {
                data: Some(b"d".to_vec()),
                stat,
            }),
            OpResult::Error(ErrorResponse { err: 0 }),
            OpResult::Error(ErrorResponse { err: -2 }),
        ],
    };
    check_record(&response);
    let headers: Vec<(i32, i32)> = response
        .results
        .iter()
        .map(|r| (r.op_code().code(), r.header_err()))
        .collect();
    assert_eq!(
        headers,
        [
            (1, 0),
            (15, 0),
            (2, 0),
            (5, 0),
            (13, 0),
            (8, 0),
            (4, 0),
            (-1, 0),
            (-1, -2)
        ]
    );
    check_record(&MultiResponse::default());
}

#[test]
fn decoding_stops_at_any_done_header() {
    // ZooKeeper only looks at `done`; the type and err of the closing header
    // are ignored, and so is anything after it.
    let bytes = hex("00000002 00 ffffffff 00000002 2f61 ffffffff | 00000007 01 00000009 | 0102");
    let mut input = &bytes[..];
    let request = <MultiRequest as jute::Record>::deserialize(&mut input).unwrap();
    assert_eq!(request.ops.len(), 1);
    assert_eq!(input, &[1, 2]);

    let response: MultiResponse =
        from_bytes(&hex("00000002 00 00000000 00000000 01 00000000")).unwrap();
    assert_eq!(response.results, [OpResult::Delete]);
}

#[test]
fn unknown_op_types_are_malformed() {
    // exists (3) is not allowed in a multi.
    let err = from_bytes::<MultiRequest>(&hex("00000003 00 ffffffff 00000001 2f 00")).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "MultiHeader.type_",
            problem: Malformation::UnknownOpType(3),
        }
    );
    // Nor deleteContainer (20), which is server-internal.
    let err =
        from_bytes::<MultiRequest>(&hex("00000014 00 ffffffff 00000001 2f ffffffff")).unwrap_err();
    assert!(err.is_malformed());

    // A response may not carry a createTTL (21) result: ZooKeeper answers
    // those with create2 (15).
    let err = from_bytes::<MultiResponse>(&hex("00000015 00 00000000 00000001 2f")).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "MultiHeader.type_",
            problem: Malformation::UnknownOpType(21),
        }
    );
}

#[test]
fn mixed_read_and_write_ops_are_malformed() {
    let bytes = hex("00000004 00 ffffffff 00000002 2f61 00 \
         00000002 00 ffffffff 00000002 2f61 ffffffff \
         ffffffff 01 ffffffff");
    let err = from_bytes::<MultiRequest>(&bytes).unwrap_err();
    assert_eq!(
        err,
        JuteError::Malformed {
            reading: "MultiHeader.type_",
            problem: Malformation::MixedOpKinds,
        }
    );
    // Encoding does not judge: the caller gets what it built.
    let mixed = MultiRequest {
        ops: vec![
            MultiOp::GetData(GetDataRequest::default()),
            MultiOp::Delete(DeleteRequest::default()),
        ],
    };
    assert_eq!(mixed.is_read(), None);
}

#[test]
fn create_flags_are_not_checked_when_decoding() {
    // ZooKeeper 3.8.0 rebuilds multi creates with
    // `CreateMode.fromFlag(flags, PERSISTENT)`, so invalid flags decode and
    // fail later, in prep (checked against Debian's Java server by the
    // differential test). create (1), create2 (15), createContainer (19).
    for op in ["00000001", "0000000f", "00000013"] {
        let bytes = hex(&format!(
            "{op} 00 ffffffff 00000002 2f61 ffffffff 00000000 00000007 ffffffff 01 ffffffff"
        ));
        let request: MultiRequest = from_bytes(&bytes).unwrap();
        assert_eq!(request.ops.len(), 1);
        assert_eq!(request.ops[0].path(), "/a");
    }
    // createTTL falls back to PERSISTENT in ZooKeeper, so it decodes.
    let bytes = hex(
        "00000015 00 ffffffff 00000002 2f61 ffffffff 00000000 00000007 00000000000003e8 \
         ffffffff 01 ffffffff",
    );
    let request: MultiRequest = from_bytes(&bytes).unwrap();
    assert!(matches!(&request.ops[0], MultiOp::CreateTTL(r) if r.flags == 7 && r.ttl == 1000));
}

#[test]
fn truncated_multi_is_truncated() {
    // The done header is mandatory.
    let bytes = hex("00000002 00 ffffffff 00000002 2f61 ffffffff");
    assert!(from_bytes::<MultiRequest>(&bytes)
        .unwrap_err()
        .is_truncated());
    assert!(from_bytes::<MultiResponse>(&[]).unwrap_err().is_truncated());
}
