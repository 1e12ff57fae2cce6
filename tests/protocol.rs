//! Protocol basics over real TCP with the raw client: the handshake in both
//! forms, pings, timeout negotiation, ordering of pipelined replies and of
//! watch events, sequential names, multi results, four-letter words.

mod common;

use common::{
    four_letter, header_only_frame, new_session_request, open_acl, request_frame, Client,
    TestServer,
};
use ferrokeeper::config::ServerConfig;
use ferrokeeper::server::Settings;
use jute::consts::{CreateMode, ErrorCode, EventType, KeeperState, OpCode, PING_XID};
use jute::multi::{MultiOp, MultiRequest};
use jute::proto::{
    CheckVersionRequest, Create2Response, CreateRequest, CreateResponse, DeleteRequest,
    ErrorResponse, ExistsRequest, GetChildren2Request, GetChildren2Response, GetChildrenRequest,
    GetChildrenResponse, GetDataRequest, GetDataResponse, MultiHeader, SetDataRequest,
    SetDataResponse, WatcherEvent,
};
use jute::Record;

fn code(e: ErrorCode) -> i32 {
    e.code()
}

/// ConnectResponse: protocolVersion 4 + timeOut 4 + sessionId 8 + passwd
/// (4 + 16), then the optional readOnly byte.
const CONNECT_RESPONSE_LEN: usize = 4 + 4 + 8 + 4 + 16;

/// Opens a new session with or without the trailing readOnly byte and
/// checks the response, whose readOnly byte must mirror the request's.
async fn check_handshake(srv: &TestServer, with_ro: bool) -> i64 {
    let mut c = Client::open(srv.addr).await;
    let hs = c
        .handshake(&new_session_request(10_000), with_ro)
        .await
        .expect("handshake answered");
    let want_len = CONNECT_RESPONSE_LEN + usize::from(with_ro);
    assert_eq!(
        (hs.payload_len, hs.has_read_only),
        (want_len, with_ro),
        "request with readOnly byte: {with_ro}"
    );
    assert!(
        !hs.response.read_only,
        "a standalone server is not read-only"
    );
    assert_eq!(hs.response.protocol_version, 0);
    assert_eq!(hs.response.time_out, 10_000);
    assert_ne!(hs.response.session_id, 0);
    let pw = hs.response.passwd.clone().unwrap();
    assert_eq!(pw.len(), 16);
    assert_ne!(pw, vec![0u8; 16]);
    // The client is served normally afterwards.
    c.assert_serving().await;
    assert_eq!(c.ping().await.err, 0);
    hs.response.session_id
}

#[tokio::test]
async fn handshake_without_read_only_byte_gets_36_byte_response() {
    let srv = TestServer::start().await;
    let a = check_handshake(&srv, false).await;
    let b = check_handshake(&srv, false).await;
    assert_ne!(a, b, "each new session gets its own id");
}

/// ZooKeeper (`ZooKeeperServer.processConnectRequest` /
/// `finishSessionInit`) writes the readOnly byte back whenever the request
/// carried it (`cnxn.isOldClient == false`), for accepted and refused
/// sessions alike.
#[tokio::test]
async fn handshake_with_read_only_byte_gets_37_byte_response() {
    assert_eq!(CONNECT_RESPONSE_LEN + 1, 37);
    let srv = TestServer::start().await;
    let session = check_handshake(&srv, true).await;

    // A refused reconnect (wrong password) also mirrors the byte.
    for with_ro in [true, false] {
        let mut c = Client::open(srv.addr).await;
        let mut req = new_session_request(10_000);
        req.session_id = session;
        req.passwd = Some(vec![1; 16]);
        let hs = c.handshake(&req, with_ro).await.expect("answered");
        assert_eq!(hs.response.session_id, 0);
        assert_eq!(
            (hs.payload_len, hs.has_read_only),
            (CONNECT_RESPONSE_LEN + usize::from(with_ro), with_ro)
        );
        c.expect_closed().await;
    }
}

#[tokio::test]
async fn ping_reply_has_xid_minus_2_and_last_zxid() {
    let srv = TestServer::start().await;
    let mut c = srv.client().await;
    let xid = c
        .send(
            OpCode::Create.code(),
            &CreateRequest {
                path: "/p".into(),
                data: None,
                acl: open_acl(),
                flags: 0,
            },
        )
        .await;
    let created = c.read_reply().await;
    assert_eq!((created.header.xid, created.err()), (xid, 0));
    assert!(created.header.zxid > 0);

    // The raw frame: exactly a 16-byte ReplyHeader.
    c.send_raw(&header_only_frame(PING_XID, OpCode::Ping.code()))
        .await;
    let raw = c.read_frame().await.expect("ping answered");
    assert_eq!(raw.len(), 16);
    let mut input = &raw[..];
    let h = jute::proto::ReplyHeader::deserialize(&mut input).unwrap();
    assert_eq!(h.xid, -2);
    assert_eq!(h.err, 0);
    assert_eq!(h.zxid, created.header.zxid, "ping carries the last zxid");
}

/// Builds settings the way the binary does, from a zoo.cfg with
/// tickTime=100 and `extra` keys, so the 2×/20× tickTime defaults come from
/// the real configuration path. (Its clientPort is replaced by 127.0.0.1:0
/// when started, and its dataDir is never used: nothing is persisted.)
fn settings_from_cfg(extra: &str) -> Settings {
    let dir = std::env::temp_dir().join("ferrokeeper-itest-timeouts");
    let text = format!(
        "tickTime=100\n{extra}clientPort=2181\nclientPortAddress=127.0.0.1\ndataDir={}\n",
        dir.display()
    );
    let cfg = ServerConfig::from_str(&text, "test zoo.cfg").expect("config parses");
    let mut s = Settings::from_config(&cfg).expect("config is servable");
    s.info.four_letter_words = vec!["*".into()];
    s.persist = None;
    // ZooKeeper's default AdminServer port (8080) is not ours to take in tests.
    s.admin = None;
    s
}

#[tokio::test]
async fn session_timeout_is_negotiated_into_min_max() {
    let s = settings_from_cfg("");
    assert_eq!(s.core.min_session_timeout_ms, 200, "default min is 2 ticks");
    assert_eq!(
        s.core.max_session_timeout_ms, 2000,
        "default max is 20 ticks"
    );
    let srv = TestServer::start_settings(s).await;
    for (asked, got) in [
        (0, 200),
        (1, 200),
        (199, 200),
        (200, 200),
        (777, 777),
        (2000, 2000),
        (2001, 2000),
        (i32::MAX, 2000),
        (-5, 200),
    ] {
        let mut c = Client::open(srv.addr).await;
        let hs = c
            .handshake(&new_session_request(asked), true)
            .await
            .expect("handshake answered");
        assert_eq!(hs.response.time_out, got, "asked for {asked}");
        c.ping().await;
    }

    // Explicit bounds are honoured too.
    let s = settings_from_cfg("minSessionTimeout=300\nmaxSessionTimeout=400\n");
    let srv = TestServer::start_settings(s).await;
    for (asked, got) in [(1, 300), (350, 350), (30_000, 400)] {
        let c = Client::connect(srv.addr, asked).await;
        assert_eq!(c.timeout_ms, got, "asked for {asked}");
    }
}

/// 100 requests written in one go; the replies must come back in request
/// order, each seeing every earlier write.
#[tokio::test]
async fn pipelined_batch_replies_in_request_order() {
    let srv = TestServer::start().await;
    let mut c = srv.client().await;
    assert_eq!(
        c.create("/pipe", b"", CreateMode::Persistent).await,
        Ok("/pipe".into())
    );

    #[derive(Debug)]
    enum Expect {
        Created(String),
        Data(Vec<u8>, i32),
        SetVersion(i32),
        NoNode,
        Exists,
        Deleted,
        Children(usize),
        Unimplemented,
        Ping,
    }
    /// The batch being built: the bytes to send and, per request, its xid
    /// and the reply it must get. xids count up from 101.
    struct Batch {
        bytes: Vec<u8>,
        expect: Vec<(i32, Expect)>,
        xid: i32,
    }
    impl Batch {
        fn raw(&mut self, xid: i32, frame: Vec<u8>, e: Expect) {
            self.bytes.extend_from_slice(&frame);
            self.expect.push((xid, e));
        }
        fn req<R: Record>(&mut self, op: OpCode, body: &R, e: Expect) {
            self.xid += 1;
            self.raw(self.xid, request_frame(self.xid, op.code(), body), e);
        }
        fn exists(&mut self, path: String, e: Expect) {
            let body = ExistsRequest { path, watch: false };
            self.req(OpCode::Exists, &body, e);
        }
        fn children(&mut self, e: Expect) {
            let body = GetChildrenRequest {
                path: "/pipe".into(),
                watch: false,
            };
            self.req(OpCode::GetChildren, &body, e);
        }
    }
    let mut b = Batch {
        bytes: Vec::new(),
        expect: Vec::new(),
        xid: 100,
    };
    for i in 0..10usize {
        let path = format!("/pipe/n{i}");
        let data = format!("v{i}").into_bytes();
        let create = CreateRequest {
            path: path.clone(),
            data: Some(data.clone()),
            acl: open_acl(),
            flags: 0,
        };
        let get = GetDataRequest {
            path: path.clone(),
            watch: false,
        };
        b.req(OpCode::Create, &create, Expect::Created(path.clone()));
        b.req(OpCode::GetData, &get, Expect::Data(data.clone(), 0));
        let set = SetDataRequest {
            path: path.clone(),
            data: Some(b"new".to_vec()),
            version: 0,
        };
        b.req(OpCode::SetData, &set, Expect::SetVersion(1));
        b.req(OpCode::GetData, &get, Expect::Data(b"new".to_vec(), 1));
        // exists on the next node, not created yet.
        b.exists(format!("/pipe/n{}", i + 1), Expect::NoNode);
        b.exists(path.clone(), Expect::Exists);
        // n0..=ni, less those the i >= 8 rounds deleted before this one
        b.children(Expect::Children(i + 1 - i.saturating_sub(8)));
        if i % 2 == 0 {
            b.xid += 1;
            b.raw(b.xid, header_only_frame(b.xid, 999), Expect::Unimplemented);
        } else {
            let ping = header_only_frame(PING_XID, OpCode::Ping.code());
            b.raw(PING_XID, ping, Expect::Ping);
        }
        if i >= 8 {
            let gone = format!("/pipe/n{}", i - 8);
            let delete = DeleteRequest {
                path: gone.clone(),
                version: -1,
            };
            b.req(OpCode::Delete, &delete, Expect::Deleted);
            let get = GetDataRequest {
                path: gone,
                watch: false,
            };
            b.req(OpCode::GetData, &get, Expect::NoNode);
        }
    }
    // 10 rounds of 8, plus 2 deletes and reads; top up to exactly 100 with
    // reads of /pipe's children.
    for _ in 84..100 {
        b.children(Expect::Children(8));
    }
    let Batch { bytes, expect, .. } = b;
    assert_eq!(expect.len(), 100);
    c.send_raw(&bytes).await;

    let mut last_zxid = 0;
    for (i, (xid, e)) in expect.into_iter().enumerate() {
        let r = c.read_reply().await;
        assert_eq!(
            r.header.xid, xid,
            "reply #{i} out of order (expected {e:?})"
        );
        if !matches!(e, Expect::Unimplemented) {
            assert!(r.header.zxid >= last_zxid, "zxid went backwards at #{i}");
            last_zxid = r.header.zxid;
        }
        match e {
            Expect::Created(p) => assert_eq!(r.result::<CreateResponse>().unwrap().path, p),
            Expect::Data(d, v) => {
                let g = r.result::<GetDataResponse>().unwrap();
                assert_eq!(g.data.as_deref(), Some(&d[..]), "#{i}");
                assert_eq!(g.stat.version, v, "#{i}");
            }
            Expect::SetVersion(v) => {
                assert_eq!(r.result::<SetDataResponse>().unwrap().stat.version, v)
            }
            Expect::NoNode => assert_eq!(r.err(), code(ErrorCode::NoNode), "#{i}"),
            Expect::Exists => assert_eq!(r.err(), 0, "#{i}"),
            Expect::Deleted => assert_eq!(r.unit(), Ok(())),
            Expect::Children(n) => {
                assert_eq!(
                    r.result::<GetChildrenResponse>().unwrap().children.len(),
                    n,
                    "#{i}"
                )
            }
            Expect::Unimplemented => assert_eq!(r.err(), code(ErrorCode::Unimplemented)),
            Expect::Ping => assert_eq!(r.err(), 0),
        }
    }
    assert!(c.events.is_empty(), "no watches were set");
}

fn data_changed(path: &str) -> WatcherEvent {
    WatcherEvent {
        type_: EventType::NodeDataChanged.code(),
        state: KeeperState::SyncConnected.code(),
        path: path.into(),
    }
}

#[tokio::test]
async fn own_watch_event_arrives_before_the_triggering_reply() {
    let srv = TestServer::start().await;
    let mut c = srv.client().await;
    assert_eq!(
        c.create("/w", b"0", CreateMode::Persistent).await,
        Ok("/w".into())
    );
    assert!(c.get_data("/w", true).await.is_ok());
    let xid = c
        .send(
            OpCode::SetData.code(),
            &SetDataRequest {
                path: "/w".into(),
                data: Some(b"1".to_vec()),
                version: -1,
            },
        )
        .await;
    let first = c.next_frame().await;
    assert_eq!(
        first.header.xid, -1,
        "the notification must precede the setData reply, got {:?}",
        first.header
    );
    assert_eq!(first.header.zxid, -1);
    assert_eq!(first.decode::<WatcherEvent>(), data_changed("/w"));
    let second = c.next_frame().await;
    assert_eq!(second.header.xid, xid);
    assert_eq!(second.result::<SetDataResponse>().unwrap().stat.version, 1);

    // One-shot: a second change fires nothing. A ping sent after the second
    // reply is answered after anything that change could have queued.
    assert!(c.set_data("/w", b"2", -1).await.is_ok());
    c.ping().await;
    assert!(c.events.is_empty(), "watch fired twice: {:?}", c.events);

    // Child watch: the event precedes the create reply as well.
    let kids = c
        .call(
            OpCode::GetChildren2,
            &GetChildren2Request {
                path: "/w".into(),
                watch: true,
            },
        )
        .await
        .result::<GetChildren2Response>()
        .unwrap();
    assert!(kids.children.is_empty());
    let xid = c
        .send(
            OpCode::Create.code(),
            &CreateRequest {
                path: "/w/c".into(),
                data: None,
                acl: open_acl(),
                flags: 0,
            },
        )
        .await;
    let first = c.next_frame().await;
    assert_eq!(first.header.xid, -1, "child event first");
    let ev = first.decode::<WatcherEvent>();
    assert_eq!(ev.type_, EventType::NodeChildrenChanged.code());
    assert_eq!(ev.path, "/w");
    assert_eq!(c.next_frame().await.header.xid, xid);
}

#[tokio::test]
async fn other_sessions_watch_events_arrive() {
    let srv = TestServer::start().await;
    let mut writer = srv.client().await;
    let mut watcher = srv.client().await;
    assert_eq!(
        writer.create("/x", b"", CreateMode::Persistent).await,
        Ok("/x".into())
    );
    // Data watch, exists watch on a missing node, child watch.
    assert!(watcher.get_data("/x", true).await.is_ok());
    assert_eq!(
        watcher.exists("/x/new", true).await.err(),
        Some(code(ErrorCode::NoNode))
    );
    assert!(watcher
        .call(
            OpCode::GetChildren,
            &GetChildrenRequest {
                path: "/x".into(),
                watch: true,
            },
        )
        .await
        .result::<GetChildrenResponse>()
        .is_ok());

    assert!(writer.set_data("/x", b"changed", -1).await.is_ok());
    assert_eq!(watcher.next_event().await, data_changed("/x"));

    assert_eq!(
        writer.create("/x/new", b"", CreateMode::Persistent).await,
        Ok("/x/new".into())
    );
    let a = watcher.next_event().await;
    let b = watcher.next_event().await;
    // NodeCreated for the node, then NodeChildrenChanged for its parent.
    assert_eq!(
        (a.type_, a.path.as_str()),
        (EventType::NodeCreated.code(), "/x/new")
    );
    assert_eq!(
        (b.type_, b.path.as_str()),
        (EventType::NodeChildrenChanged.code(), "/x")
    );
    assert!(writer.events.is_empty(), "the writer set no watches");

    // The writer never sees the watcher's events, and the watcher's
    // watches are spent: a ping after a further change comes back alone.
    assert!(writer.set_data("/x", b"again", -1).await.is_ok());
    watcher.ping().await;
    assert!(watcher.events.is_empty(), "{:?}", watcher.events);
}

#[tokio::test]
async fn sequential_names_use_parent_cversion() {
    let srv = TestServer::start().await;
    let mut c = srv.client().await;
    assert_eq!(
        c.create("/seq", b"", CreateMode::Persistent).await,
        Ok("/seq".into())
    );
    let cversion = |stat: &jute::data::Stat| stat.cversion;

    let s = c.exists("/seq", false).await.unwrap();
    assert_eq!(cversion(&s), 0);
    assert_eq!(
        c.create("/seq/a-", b"", CreateMode::PersistentSequential)
            .await,
        Ok("/seq/a-0000000000".into())
    );
    assert_eq!(
        c.create("/seq/b", b"", CreateMode::Persistent).await,
        Ok("/seq/b".into())
    );
    // ZooKeeper stores a cversion that counts creates only (delete leaves
    // it alone) and shows clients 2 * stored - numChildren, so the delete
    // is visible as a change; sequential names use the stored count.
    assert_eq!(c.delete("/seq/b", -1).await, Ok(()));
    let s = c.exists("/seq", false).await.unwrap();
    assert_eq!((cversion(&s), s.num_children), (3, 1));
    assert_eq!(
        c.create("/seq/a-", b"", CreateMode::EphemeralSequential)
            .await,
        Ok("/seq/a-0000000002".into())
    );

    // Pipelined sequential creates count outstanding changes too.
    let mut bytes = Vec::new();
    for x in 1..=3 {
        let req = CreateRequest {
            path: "/seq/p".into(),
            data: None,
            acl: open_acl(),
            flags: CreateMode::PersistentSequential.flag(),
        };
        bytes.extend_from_slice(&request_frame(x * 1000, OpCode::Create2.code(), &req));
    }
    c.send_raw(&bytes).await;
    for (x, n) in [(1000, 3), (2000, 4), (3000, 5)] {
        let r = c.read_reply().await;
        assert_eq!(r.header.xid, x);
        let created = r.result::<Create2Response>().unwrap();
        assert_eq!(created.path, format!("/seq/p{n:010}"));
        assert_eq!(created.stat.czxid, r.header.zxid);
    }
    // Stored cversion 6 with 5 children.
    let s = c.exists("/seq", false).await.unwrap();
    assert_eq!((cversion(&s), s.num_children), (2 * 6 - 5, 5));
}

/// One multi sub-result as its header and body say.
#[derive(Debug, PartialEq)]
enum Sub {
    Error { header_err: i32, body_err: i32 },
    Create(String),
    Create2(String),
    SetData(i32),
    Delete,
    Check,
}

/// Parses a multi response frame by hand, keeping each header's `err`.
fn parse_multi(body: &[u8]) -> Vec<Sub> {
    let mut input = body;
    let mut out = Vec::new();
    loop {
        let h = MultiHeader::deserialize(&mut input).expect("multi header");
        if h.done {
            assert_eq!((h.type_, h.err), (-1, -1), "done header");
            break;
        }
        let sub = match h.type_ {
            -1 => Sub::Error {
                header_err: h.err,
                body_err: ErrorResponse::deserialize(&mut input).unwrap().err,
            },
            1 => Sub::Create(CreateResponse::deserialize(&mut input).unwrap().path),
            15 => Sub::Create2(Create2Response::deserialize(&mut input).unwrap().path),
            5 => Sub::SetData(
                SetDataResponse::deserialize(&mut input)
                    .unwrap()
                    .stat
                    .version,
            ),
            2 => Sub::Delete,
            13 => Sub::Check,
            t => panic!("unexpected multi result type {t}"),
        };
        if !matches!(sub, Sub::Error { .. }) {
            assert_eq!(h.err, 0, "a success result's header err is 0");
        }
        out.push(sub);
    }
    assert!(input.is_empty(), "bytes after the done header");
    out
}

fn create_op(path: &str) -> MultiOp {
    MultiOp::Create(CreateRequest {
        path: path.into(),
        data: Some(b"m".to_vec()),
        acl: open_acl(),
        flags: 0,
    })
}

#[tokio::test]
async fn multi_results_success_and_failure() {
    let srv = TestServer::start().await;
    let mut c = srv.client().await;
    assert_eq!(
        c.create("/m", b"", CreateMode::Persistent).await,
        Ok("/m".into())
    );

    let ok = MultiRequest {
        ops: vec![
            create_op("/m/a"),
            MultiOp::Create2(CreateRequest {
                path: "/m/b".into(),
                data: None,
                acl: open_acl(),
                flags: 0,
            }),
            MultiOp::SetData(SetDataRequest {
                path: "/m".into(),
                data: Some(b"d".to_vec()),
                version: 0,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/m".into(),
                version: 1,
            }),
            MultiOp::Delete(DeleteRequest {
                path: "/m/b".into(),
                version: -1,
            }),
        ],
    };
    let r = c.call(OpCode::Multi, &ok).await;
    assert_eq!(r.err(), 0);
    assert_eq!(
        parse_multi(&r.body),
        vec![
            Sub::Create("/m/a".into()),
            // ZooKeeper 3.8.0 rebuilds a multi's creates from their flags, so
            // a create2 inside a multi reports as a plain create (type 1, no
            // stat); seen against Debian's Java server by the differential test.
            Sub::Create("/m/b".into()),
            Sub::SetData(1),
            Sub::Check,
            Sub::Delete,
        ]
    );
    let zxid_ok = r.header.zxid;

    // The third of five ops fails: ops before it report 0, it reports its
    // own code, the ones after RuntimeInconsistency; the reply header's err
    // is 0 (ZooKeeper's FinalRequestProcessor leaves it OK for multi).
    let failing = MultiRequest {
        ops: vec![
            create_op("/m/c"),
            MultiOp::SetData(SetDataRequest {
                path: "/m".into(),
                data: None,
                version: -1,
            }),
            create_op("/m/missing/x"),
            create_op("/m/d"),
            MultiOp::Delete(DeleteRequest {
                path: "/m/a".into(),
                version: -1,
            }),
        ],
    };
    let r = c.call(OpCode::Multi, &failing).await;
    assert_eq!(r.err(), 0, "a failed multi is still err 0 in the header");
    assert!(r.header.zxid > zxid_ok, "a failed multi still uses a zxid");
    let err = |e: i32| Sub::Error {
        header_err: e,
        body_err: e,
    };
    assert_eq!(
        parse_multi(&r.body),
        vec![
            err(0),
            err(0),
            err(code(ErrorCode::NoNode)),
            err(code(ErrorCode::RuntimeInconsistency)),
            err(code(ErrorCode::RuntimeInconsistency)),
        ]
    );
    // Nothing of it was applied.
    assert!(c.exists("/m/c", false).await.is_err());
    assert!(c.exists("/m/d", false).await.is_err());
    assert!(c.exists("/m/a", false).await.is_ok());
    assert_eq!(c.exists("/m", false).await.unwrap().version, 1);

    // A failing check as the first op.
    let check_fail = MultiRequest {
        ops: vec![
            MultiOp::Check(CheckVersionRequest {
                path: "/m".into(),
                version: 7,
            }),
            create_op("/m/e"),
        ],
    };
    let r = c.call(OpCode::Multi, &check_fail).await;
    assert_eq!(r.err(), 0);
    assert_eq!(
        parse_multi(&r.body),
        vec![
            err(code(ErrorCode::BadVersion)),
            err(code(ErrorCode::RuntimeInconsistency)),
        ]
    );

    // An empty multi succeeds with an empty result list.
    let r = c.call(OpCode::Multi, &MultiRequest { ops: vec![] }).await;
    assert_eq!(r.err(), 0);
    assert_eq!(parse_multi(&r.body), vec![]);
}

#[tokio::test]
async fn four_letter_words() {
    let srv = TestServer::start().await;
    // A session is open meanwhile and is unaffected.
    let mut c = srv.client().await;
    assert_eq!(four_letter(srv.addr, "ruok").await, "imok");
    let srvr = four_letter(srv.addr, "srvr").await;
    assert!(srvr.starts_with("Zookeeper version:"), "{srvr:?}");
    assert!(srvr.contains("Mode: standalone"), "{srvr:?}");
    c.assert_serving().await;

    // The default whitelist is srvr only.
    let default = TestServer::start_with(|s| {
        s.info.four_letter_words = Settings::standalone_default().info.four_letter_words;
    })
    .await;
    let srvr = four_letter(default.addr, "srvr").await;
    assert!(srvr.starts_with("Zookeeper version:"), "{srvr:?}");
    // Refusals byte for byte as Debian's Java ZooKeeper 3.8.0 sent them.
    let java = |cmd: &str| {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/compat-tests/fourletter/java-3.8.0"
        );
        std::fs::read_to_string(format!("{dir}/refused-{cmd}.txt")).expect("capture exists")
    };
    for cmd in ["ruok", "stat", "mntr"] {
        assert_eq!(four_letter(default.addr, cmd).await, java(cmd));
    }
    assert_eq!(
        four_letter(default.addr, "conf").await,
        "conf is not executed because it is not in the whitelist.\n"
    );
    // stmk takes the mask that follows in the same packet and echoes it,
    // with no newline; gtmk reports it. Without the mask: no answer.
    assert_eq!(four_letter(srv.addr, "gtmk").await, "306");
    let mut stmk = Client::open(srv.addr).await;
    let mut word = b"stmk".to_vec();
    word.extend_from_slice(&1234i64.to_be_bytes());
    stmk.send_raw(&word).await;
    assert_eq!(stmk.read_to_end().await, b"1234");
    assert_eq!(four_letter(srv.addr, "gtmk").await, "1234");
    assert_eq!(four_letter(srv.addr, "stmk").await, "");
    // cons lists the session and the asking connection itself.
    let cons = four_letter(srv.addr, "cons").await;
    let lines: Vec<&str> = cons.lines().collect();
    assert_eq!(lines.len(), 3, "{cons:?}");
    assert!(
        lines[0].contains(",sid=0x") && lines[0].contains(",maxlat="),
        "{cons:?}"
    );
    assert!(
        lines[1].ends_with("[0](queued=0,recved=1,sent=0)"),
        "{cons:?}"
    );
    assert!(cons.ends_with(")\n\n"), "{cons:?}");
    // The first connection still works after all that.
    c.assert_serving().await;
    // A four-letter word is only recognised as the first bytes; after a
    // handshake, "ruok" is a length over jute.maxbuffer.
    let mut late = Client::connect(srv.addr, 30_000).await;
    late.send_raw(b"ruok").await;
    late.expect_closed().await;
}

/// Watch notifications fired inside a multi are filtered by the READ ACL
/// the node had when the sub-op fired them, as ZooKeeper's `DataTree`
/// checks it inside the apply — not by whatever is left once the whole multi
/// is applied. Found by the differential test (seed 3112): a session with
/// an exists watch on `/q`, then a multi creating `/q` with an ACL it cannot
/// READ and deleting it again. Debian's Java 3.8.0 sends that session
/// nothing (the watch is consumed by the filtered NodeCreated); FerroKeeper
/// looked the ACL up after the multi, found no node, and sent NodeCreated.
#[tokio::test]
async fn multi_watch_events_are_filtered_by_the_acl_the_node_had_then() {
    let srv = TestServer::start().await;
    let mut writer = srv.client().await;
    let mut watcher = srv.client().await;
    // Everything but READ, for everyone: the watcher may write but not read.
    let unreadable = vec![common::acl(30, "world", "anyone")];
    assert_eq!(
        writer.create("/m", b"", CreateMode::Persistent).await,
        Ok("/m".into())
    );
    assert_eq!(
        writer
            .create_acl(
                "/m/d",
                b"",
                unreadable.clone(),
                CreateMode::Persistent.flag()
            )
            .await,
        Ok("/m/d".into())
    );
    for path in ["/m/q", "/m/d", "/m/open"] {
        let _ = watcher.exists(path, true).await;
    }
    let create = |path: &str, acl: Vec<jute::data::ACL>| {
        MultiOp::Create(CreateRequest {
            path: path.into(),
            data: None,
            acl,
            flags: 0,
        })
    };
    let delete = |path: &str| {
        MultiOp::Delete(DeleteRequest {
            path: path.into(),
            version: -1,
        })
    };
    let multi = MultiRequest {
        ops: vec![
            // NodeCreated for an unreadable node: filtered, watch consumed.
            create("/m/q", unreadable.clone()),
            delete("/m/q"),
            // NodeDataChanged for an unreadable node: filtered, consumed.
            MultiOp::SetData(SetDataRequest {
                path: "/m/d".into(),
                data: Some(b"x".to_vec()),
                version: -1,
            }),
            delete("/m/d"),
            // The control: a readable node's NodeCreated is delivered.
            create("/m/open", open_acl()),
            delete("/m/open"),
        ],
    };
    let r = writer.call(OpCode::Multi, &multi).await;
    assert_eq!(r.err(), 0);
    assert!(
        parse_multi(&r.body)
            .iter()
            .all(|s| !matches!(s, Sub::Error { .. })),
        "every sub-op succeeds"
    );
    let ev = watcher.next_event().await;
    assert_eq!(
        (ev.type_, ev.path.as_str()),
        (EventType::NodeCreated.code(), "/m/open")
    );
    // Nothing else was queued before the ping's reply.
    watcher.ping().await;
    assert!(watcher.events.is_empty(), "{:?}", watcher.events);
}
