//! Between the ZAB machine's messages ([`crate::zab`]) and the bytes of the
//! quorum and election ports ([`super::wire`]).
//!
//! The machine's [`zab::QuorumPacket`] leaves out what only the wire needs
//! (NEWLEADER's config text, FOLLOWERINFO's config version, the notification's
//! version and config) and what the machine does not decide (PING session
//! touches, REVALIDATE, forwarded requests' auth ids). [`WireCtx`] supplies
//! the first kind; the second kind has its own functions and [`Inbound`]
//! variants, so the member handles them without the machine.
//!
//! Every packet is built the way Java 3.8's leader and learner build it
//! (`Leader`, `LearnerHandler`, `Learner`); `compat-tests/quorum-wire` shows
//! the same shapes coming from a live Java ensemble:
//!
//! | packet | zxid | data |
//! |---|---|---|
//! | FOLLOWERINFO / OBSERVERINFO | acceptedEpoch << 32 | LearnerInfo(sid, protocol, config version) |
//! | LEADERINFO | newEpoch << 32 | int32 protocol version |
//! | ACKEPOCH | last logged zxid | int32 current epoch or -1 |
//! | DIFF / TRUNC / SNAP | as the machine says | null |
//! | NEWLEADER | newEpoch << 32 | config text (`QuorumMaj.toString()`) |
//! | UPTODATE | -1 | null |
//! | PROPOSAL / INFORM | txn zxid | txn bytes |
//! | ACK / COMMIT | zxid | null |
//! | PING (leader → learner) | last proposed | null |
//! | PING (learner → leader) | echoed | touches, never null ([`ping_to_wire`]) |
//! | SYNC | Java writes 0 | null |
//! | REQUEST | -1 | ForwardedRequest; authinfo a list, never null |
//! | REVALIDATE | -1 | (session, timeout) / (session, valid) |

use bytes::Bytes;
use jute::data::Id;
use jute::quorum::{LearnerInfo, QuorumPacket};

use super::wire::notification::{Notification as WireNotification, PeerState};
use super::wire::packet::{packet, PacketType};
use super::wire::payload::{
    decode_int_payload, decode_ping_touches, decode_revalidate_reply, decode_revalidate_request,
    encode_ping_touches, encode_revalidate_reply, encode_revalidate_request, int_payload,
    ForwardedRequest, LearnerInfoFields,
};
use super::wire::WireError;
use crate::zab::{self, ServerState, Txn, Zxid};

/// What the wire needs beyond the machine's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireCtx {
    pub my_sid: u64,
    /// `QuorumMaj.toString()` of the config we run
    /// ([`render_config_text`](super::wire::render_config_text)); it goes in
    /// NEWLEADER and in every notification.
    pub config_text: String,
    /// The config's version, announced in FOLLOWERINFO's LearnerInfo.
    pub config_version: i64,
}

/// Which end of a quorum connection we are. PING and REVALIDATE mean
/// different things in each direction and nothing on the wire says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We lead: the packet came from a learner.
    Leader,
    /// We follow: the packet came from the leader.
    Learner,
}

/// A decoded quorum packet, sorted by who handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// For the machine ([`zab::Node::on_quorum`]).
    Zab(zab::QuorumPacket),
    /// A client request a learner forwards, with its client's auth ids.
    Request {
        req: ForwardedRequest,
        auth: Vec<Id>,
    },
    /// A learner's PING reply: the zxid it echoes and the sessions its
    /// clients touched since the last one (session id, timeout).
    Ping {
        zxid: Zxid,
        touches: Vec<(i64, i32)>,
    },
    /// A learner asks whether a session (moving to it) is still valid.
    Revalidate { session: i64, timeout: i32 },
    /// The leader's answer to REVALIDATE.
    RevalidateReply { session: i64, valid: bool },
    /// SNAP: the serialized database follows on the stream, unframed
    /// ([`super::peers`] delivers it whole as `PeerEvent::Snapshot`).
    Snap { zxid: Zxid },
    /// A known type nothing here handles yet (reconfig's
    /// COMMITANDACTIVATE, INFORMANDACTIVATE).
    Other(PacketType),
    /// A type no ZooKeeper defines; Java logs it and carries on.
    Unknown(i32),
}

fn sid_to_wire(sid: u64) -> i64 {
    i64::try_from(sid).unwrap_or(i64::MAX)
}

/// A notification's leader: Java's `Long.MIN_VALUE` is a non-voter's vote for
/// nobody ([`zab::message::NO_LEADER`]); any other negative id is refused.
fn vote_to_wire(leader: u64) -> i64 {
    if leader == zab::message::NO_LEADER {
        i64::MIN
    } else {
        sid_to_wire(leader)
    }
}

fn vote_from_wire(leader: i64) -> Result<u64, WireError> {
    if leader == i64::MIN {
        return Ok(zab::message::NO_LEADER);
    }
    u64::try_from(leader).map_err(|_| WireError::BadSid {
        reading: "notification leader",
        value: leader,
    })
}

/// The wire form of a machine packet. `Snap` gives only the SNAP packet
/// (the stream goes after it: `Peers::send_snapshot`); `Request` gives a
/// REQUEST with no auth ids (use [`request_to_wire`] to attach the client's);
/// `Ping` gives the leader's form (a learner's echo carries touches:
/// [`ping_to_wire`]; Java's leader cannot read a null one).
pub fn packet_to_wire(p: &zab::QuorumPacket, ctx: &WireCtx) -> QuorumPacket {
    use zab::QuorumPacket as Z;
    let learner_info = |kind, zxid: &Zxid, sid: &u64, protocol_version: &i32| {
        let info = LearnerInfo {
            serverid: sid_to_wire(*sid),
            protocol_version: *protocol_version,
            config_version: ctx.config_version,
        };
        packet(kind, zxid.0, Some(jute::to_bytes(&info)))
    };
    match p {
        Z::FollowerInfo {
            zxid,
            sid,
            protocol_version,
        } => learner_info(PacketType::FollowerInfo, zxid, sid, protocol_version),
        Z::ObserverInfo {
            zxid,
            sid,
            protocol_version,
        } => learner_info(PacketType::ObserverInfo, zxid, sid, protocol_version),
        Z::LeaderInfo {
            zxid,
            protocol_version,
        } => packet(
            PacketType::LeaderInfo,
            zxid.0,
            Some(int_payload(*protocol_version)),
        ),
        Z::AckEpoch {
            zxid,
            current_epoch,
        } => packet(
            PacketType::AckEpoch,
            zxid.0,
            Some(int_payload(*current_epoch)),
        ),
        Z::Diff { zxid } => packet(PacketType::Diff, zxid.0, None),
        Z::Trunc { zxid } => packet(PacketType::Trunc, zxid.0, None),
        Z::Snap { zxid, .. } => snap_to_wire(*zxid),
        Z::NewLeader { zxid } => packet(
            PacketType::NewLeader,
            zxid.0,
            Some(ctx.config_text.as_bytes().to_vec()),
        ),
        Z::UpToDate => packet(PacketType::UpToDate, -1, None),
        Z::Proposal { txn } => packet(PacketType::Proposal, txn.zxid.0, Some(txn.data.to_vec())),
        Z::Ack { zxid } => packet(PacketType::Ack, zxid.0, None),
        Z::Commit { zxid } => packet(PacketType::Commit, zxid.0, None),
        Z::Inform { txn } => packet(PacketType::Inform, txn.zxid.0, Some(txn.data.to_vec())),
        Z::Ping { zxid } => packet(PacketType::Ping, zxid.0, None),
        Z::Sync { zxid } => packet(PacketType::Sync, zxid.0, None),
        Z::Request { data } => packet(PacketType::Request, -1, Some(data.to_vec())),
    }
}

/// The SNAP packet for `Action::SendSnapshot { zxid, .. }`; the stream
/// (`persist::snapshot::write_snap_sync`) follows it (`Peers::send_snapshot`).
pub fn snap_to_wire(zxid: Zxid) -> QuorumPacket {
    packet(PacketType::Snap, zxid.0, None)
}

/// The machine's SNAP from what the learner's transport delivered: the
/// packet's zxid and the whole stream after it (body and signature, as
/// `persist::snapshot::load_snap_sync` reads it).
pub fn snap_from_wire(zxid: i64, stream: Bytes) -> zab::QuorumPacket {
    zab::QuorumPacket::Snap {
        zxid: Zxid(zxid),
        snapshot: stream,
    }
}

/// REQUEST as `Learner.request` writes it: zxid -1, the request, and the
/// client's auth ids. The list is written even when empty (count 0): a
/// 3.8.0 leader turns a REQUEST with a null list into an error txn.
pub fn request_to_wire(req: &ForwardedRequest, auth: &[Id]) -> QuorumPacket {
    QuorumPacket {
        type_: PacketType::Request as i32,
        zxid: -1,
        data: Some(req.encode()),
        authinfo: auth.to_vec(),
    }
}

/// A learner's PING reply (`Learner.ping`): the leader's zxid echoed and the
/// touched sessions; the data is an empty buffer, not null, when there are none.
pub fn ping_to_wire(zxid: Zxid, touches: &[(i64, i32)]) -> QuorumPacket {
    packet(PacketType::Ping, zxid.0, Some(encode_ping_touches(touches)))
}

/// REVALIDATE from a learner (`Learner.validateSession`).
pub fn revalidate_to_wire(session: i64, timeout: i32) -> QuorumPacket {
    packet(
        PacketType::Revalidate,
        -1,
        Some(encode_revalidate_request(session, timeout)),
    )
}

/// The leader's REVALIDATE answer (`LearnerHandler`).
pub fn revalidate_reply_to_wire(session: i64, valid: bool) -> QuorumPacket {
    packet(
        PacketType::Revalidate,
        -1,
        Some(encode_revalidate_reply(session, valid)),
    )
}

/// Decodes a packet that reached `side`. Payloads are read as Java reads
/// them (extra bytes after a fixed field are ignored); a payload too short
/// for its fields is an error, which should close that connection.
pub fn packet_from_wire(p: &QuorumPacket, side: Side) -> Result<Inbound, WireError> {
    use zab::QuorumPacket as Z;
    let Some(kind) = PacketType::from_wire(p.type_) else {
        return Ok(Inbound::Unknown(p.type_));
    };
    let zxid = Zxid(p.zxid);
    let data = p.data.as_deref();
    let z = |packet| Ok(Inbound::Zab(packet));
    match kind {
        PacketType::FollowerInfo | PacketType::ObserverInfo => {
            let observer = kind == PacketType::ObserverInfo;
            let info = LearnerInfoFields::decode(data);
            let sid = info.sid.unwrap_or(-1);
            let sid = u64::try_from(sid).map_err(|_| WireError::BadSid {
                reading: if observer {
                    "OBSERVERINFO LearnerInfo"
                } else {
                    "FOLLOWERINFO LearnerInfo"
                },
                value: sid,
            })?;
            // LearnerHandler's default for learners that send only a sid.
            let protocol_version = info.protocol_version.unwrap_or(0x1);
            z(if observer {
                Z::ObserverInfo {
                    zxid,
                    sid,
                    protocol_version,
                }
            } else {
                Z::FollowerInfo {
                    zxid,
                    sid,
                    protocol_version,
                }
            })
        }
        PacketType::LeaderInfo => z(Z::LeaderInfo {
            zxid,
            protocol_version: decode_int_payload(data, "LEADERINFO protocol version")?,
        }),
        PacketType::AckEpoch => z(Z::AckEpoch {
            zxid,
            current_epoch: decode_int_payload(data, "ACKEPOCH current epoch")?,
        }),
        PacketType::Diff => z(Z::Diff { zxid }),
        PacketType::Trunc => z(Z::Trunc { zxid }),
        PacketType::Snap => Ok(Inbound::Snap { zxid }),
        PacketType::NewLeader => z(Z::NewLeader { zxid }),
        PacketType::UpToDate => z(Z::UpToDate),
        PacketType::Proposal => z(Z::Proposal {
            txn: Txn {
                zxid,
                data: Bytes::copy_from_slice(data.unwrap_or_default()),
            },
        }),
        PacketType::Ack => z(Z::Ack { zxid }),
        PacketType::Commit => z(Z::Commit { zxid }),
        PacketType::Inform => z(Z::Inform {
            txn: Txn {
                zxid,
                data: Bytes::copy_from_slice(data.unwrap_or_default()),
            },
        }),
        PacketType::Sync => z(Z::Sync { zxid }),
        PacketType::Ping => match side {
            Side::Learner => z(Z::Ping { zxid }),
            Side::Leader => Ok(Inbound::Ping {
                zxid,
                touches: decode_ping_touches(data)?,
            }),
        },
        PacketType::Revalidate => match side {
            Side::Leader => {
                let (session, timeout) = decode_revalidate_request(data)?;
                Ok(Inbound::Revalidate { session, timeout })
            }
            Side::Learner => {
                let (session, valid) = decode_revalidate_reply(data)?;
                Ok(Inbound::RevalidateReply { session, valid })
            }
        },
        PacketType::Request => Ok(Inbound::Request {
            req: ForwardedRequest::decode(data)?,
            auth: p.authinfo.clone(),
        }),
        PacketType::CommitAndActivate | PacketType::InformAndActivate => Ok(Inbound::Other(kind)),
    }
}

/// A packet a learner sent us, the leader.
pub fn packet_from_wire_at_leader(p: &QuorumPacket) -> Result<Inbound, WireError> {
    packet_from_wire(p, Side::Leader)
}

/// A packet the leader sent us, a learner.
pub fn packet_from_wire_at_learner(p: &QuorumPacket) -> Result<Inbound, WireError> {
    packet_from_wire(p, Side::Learner)
}

fn state_to_wire(s: ServerState) -> PeerState {
    match s {
        ServerState::Looking => PeerState::Looking,
        ServerState::Following => PeerState::Following,
        ServerState::Leading => PeerState::Leading,
        ServerState::Observing => PeerState::Observing,
    }
}

fn state_from_wire(s: PeerState) -> ServerState {
    match s {
        PeerState::Looking => ServerState::Looking,
        PeerState::Following => ServerState::Following,
        PeerState::Leading => ServerState::Leading,
        PeerState::Observing => ServerState::Observing,
    }
}

/// The election frame payload of a vote, as Java 3.8's `buildMsg` writes
/// it: the 44 + n byte layout, version 2, our config text.
pub fn notification_to_frame(n: &zab::Notification, ctx: &WireCtx) -> Vec<u8> {
    WireNotification::new(
        state_to_wire(n.state),
        vote_to_wire(n.leader),
        n.zxid.0,
        n.election_epoch,
        n.peer_epoch,
        ctx.config_text.as_bytes().to_vec(),
    )
    .encode()
}

/// A vote from an election frame payload (any layout Java accepts; the
/// sender's config, if any, is not the machine's business and is dropped).
pub fn notification_from_frame(bytes: &[u8]) -> Result<zab::Notification, WireError> {
    let n = WireNotification::decode(bytes)?;
    let leader = vote_from_wire(n.leader)?;
    Ok(zab::Notification {
        state: state_from_wire(n.state),
        leader,
        zxid: Zxid(n.zxid),
        election_epoch: n.election_epoch,
        peer_epoch: n.peer_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::wire::encode_quorum_packet;
    use crate::quorum::wire::notification::NotificationLayout;

    const CONFIG: &str = "server.1=127.0.0.1:2888:3888:participant\n\
                          server.2=127.0.0.1:2889:3889:participant\n\
                          version=0";

    fn ctx() -> WireCtx {
        WireCtx {
            my_sid: 3,
            config_text: CONFIG.to_owned(),
            config_version: 0x1_0000_0000,
        }
    }

    fn every_machine_packet() -> Vec<zab::QuorumPacket> {
        use zab::QuorumPacket as Z;
        let z = Zxid::new(1, 7);
        let request = ForwardedRequest {
            session_id: 0x0300_0000_0000_0001,
            cxid: 4,
            op: 9,
            body: vec![0, 0, 0, 1, b'/'],
        };
        vec![
            Z::FollowerInfo {
                zxid: Zxid::new(1, 0),
                sid: 3,
                protocol_version: zab::message::PROTOCOL_VERSION,
            },
            Z::ObserverInfo {
                zxid: Zxid::new(1, 0),
                sid: 4,
                protocol_version: zab::message::PROTOCOL_VERSION,
            },
            Z::LeaderInfo {
                zxid: Zxid::new(2, 0),
                protocol_version: zab::message::PROTOCOL_VERSION,
            },
            Z::AckEpoch {
                zxid: z,
                current_epoch: 1,
            },
            Z::AckEpoch {
                zxid: z,
                current_epoch: -1,
            },
            Z::Diff { zxid: z },
            Z::Trunc { zxid: z },
            Z::NewLeader {
                zxid: Zxid::new(2, 0),
            },
            Z::UpToDate,
            Z::Proposal {
                txn: Txn {
                    zxid: z,
                    data: Bytes::from_static(b"header+record+digest"),
                },
            },
            Z::Proposal {
                txn: Txn {
                    zxid: z,
                    data: Bytes::new(),
                },
            },
            Z::Ack { zxid: z },
            Z::Commit { zxid: z },
            Z::Inform {
                txn: Txn {
                    zxid: z,
                    data: Bytes::from_static(b"header+record+digest"),
                },
            },
            Z::Ping { zxid: z },
            Z::Sync { zxid: Zxid::ZERO },
            Z::Request {
                data: Bytes::from(request.encode()),
            },
            Z::Snap {
                zxid: z,
                snapshot: Bytes::from_static(b"sent separately"),
            },
        ]
    }

    /// Through bytes and back: what the other end's decoder makes of it.
    fn via_bytes(p: &QuorumPacket) -> QuorumPacket {
        let bytes = encode_quorum_packet(p);
        let (back, used) = crate::quorum::wire::decode_quorum_packet(&bytes, Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(used, bytes.len());
        back
    }

    #[test]
    fn every_machine_packet_round_trips() {
        use zab::QuorumPacket as Z;
        for p in every_machine_packet() {
            let wire = via_bytes(&packet_to_wire(&p, &ctx()));
            // Whoever receives it: learners get leader packets and vice versa; both
            // sides agree on everything except PING and REVALIDATE.
            let side = match p {
                Z::FollowerInfo { .. }
                | Z::ObserverInfo { .. }
                | Z::AckEpoch { .. }
                | Z::Ack { .. }
                | Z::Request { .. } => Side::Leader,
                _ => Side::Learner,
            };
            let back = packet_from_wire(&wire, side).unwrap();
            let want = match &p {
                Z::Snap { zxid, .. } => Inbound::Snap { zxid: *zxid },
                Z::Request { data } => Inbound::Request {
                    req: ForwardedRequest::decode(Some(data)).unwrap(),
                    auth: vec![],
                },
                other => Inbound::Zab(other.clone()),
            };
            assert_eq!(back, want, "{p:?}");
        }
    }

    #[test]
    fn the_side_decides_ping_and_revalidate() {
        let z = Zxid::new(1, 9);
        let touches = vec![(0x0300_0000_0000_0001, 30_000), (-2, 4000)];
        let echo = via_bytes(&ping_to_wire(z, &touches));
        assert_eq!(
            packet_from_wire_at_leader(&echo).unwrap(),
            Inbound::Ping { zxid: z, touches }
        );
        // An empty touch table is an empty buffer, never null.
        let empty = ping_to_wire(z, &[]);
        assert_eq!(empty.data, Some(vec![]));
        assert_eq!(
            packet_from_wire_at_leader(&via_bytes(&empty)).unwrap(),
            Inbound::Ping {
                zxid: z,
                touches: vec![]
            }
        );
        let ping = packet_to_wire(&zab::QuorumPacket::Ping { zxid: z }, &ctx());
        assert_eq!(
            packet_from_wire_at_learner(&ping).unwrap(),
            Inbound::Zab(zab::QuorumPacket::Ping { zxid: z })
        );
        // Touches not in whole 12-byte entries are refused.
        let mut bad = ping_to_wire(z, &[(1, 2)]);
        bad.data.as_mut().unwrap().pop();
        assert!(packet_from_wire_at_leader(&bad).is_err());

        let ask = via_bytes(&revalidate_to_wire(77, 5000));
        assert_eq!(ask.zxid, -1);
        assert_eq!(
            packet_from_wire_at_leader(&ask).unwrap(),
            Inbound::Revalidate {
                session: 77,
                timeout: 5000
            }
        );
        for valid in [true, false] {
            let reply = via_bytes(&revalidate_reply_to_wire(77, valid));
            assert_eq!(reply.zxid, -1);
            assert_eq!(
                packet_from_wire_at_learner(&reply).unwrap(),
                Inbound::RevalidateReply { session: 77, valid }
            );
        }
    }

    #[test]
    fn requests_carry_their_auth_ids() {
        let req = ForwardedRequest {
            session_id: 5,
            cxid: 1,
            op: 1,
            body: b"create".to_vec(),
        };
        let auth = vec![
            Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            },
            Id {
                scheme: "digest".into(),
                id: "u:x".into(),
            },
        ];
        let p = via_bytes(&request_to_wire(&req, &auth));
        assert_eq!(
            packet_from_wire_at_leader(&p).unwrap(),
            Inbound::Request {
                req: req.clone(),
                auth
            }
        );
        // Without auth ids the list is written as count 0, not null (-1).
        let bytes = encode_quorum_packet(&request_to_wire(&req, &[]));
        assert_eq!(
            &bytes[..12],
            &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert!(bytes.ends_with(&[0, 0, 0, 0]));
        assert!(!bytes.ends_with(&[0xff, 0xff, 0xff, 0xff]));
        // A request shorter than its 16-byte header is refused.
        let mut short = request_to_wire(&req, &[]);
        short.data = Some(vec![0; 15]);
        assert!(packet_from_wire_at_leader(&short).is_err());
    }

    /// The bytes Java 3.8.0 sent or accepted (compat-tests/quorum-wire).
    #[test]
    fn bytes_java_sends() {
        use zab::QuorumPacket as Z;
        let bytes = |p: &Z| encode_quorum_packet(&packet_to_wire(p, &ctx()));
        // ← LEADERINFO 00000011 0000000100000000 00000004 00010000 ffffffff
        assert_eq!(
            bytes(&Z::LeaderInfo {
                zxid: Zxid::new(1, 0),
                protocol_version: 0x10000
            }),
            [
                0, 0, 0, 0x11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0xff, 0xff, 0xff,
                0xff
            ]
        );
        // ← PING 00000005 <zxid> ffffffff ffffffff
        assert_eq!(
            bytes(&Z::Ping {
                zxid: Zxid::new(1, 7)
            }),
            [0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        // → FOLLOWERINFO zxid 0, LearnerInfo(3, 0x10000, config version).
        let info = bytes(&Z::FollowerInfo {
            zxid: Zxid::ZERO,
            sid: 3,
            protocol_version: 0x10000,
        });
        let mut want = vec![0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20];
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        want.extend_from_slice(&[0xff; 4]);
        assert_eq!(info, want);
        // → ACKEPOCH zxid 0, data 0; and -1 for an epoch already accepted.
        let ack_epoch = |e| {
            bytes(&Z::AckEpoch {
                zxid: Zxid::ZERO,
                current_epoch: e,
            })
        };
        assert_eq!(&ack_epoch(0)[12..20], &[0, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(
            &ack_epoch(-1)[12..20],
            &[0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]
        );
        // ← NEWLEADER zxid newEpoch<<32, data = the config text.
        let nl = packet_to_wire(
            &Z::NewLeader {
                zxid: Zxid::new(1, 0),
            },
            &ctx(),
        );
        assert_eq!(nl.data.as_deref(), Some(CONFIG.as_bytes()));
        // ← UPTODATE zxid -1, no data.
        assert_eq!(
            bytes(&Z::UpToDate),
            [
                0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff
            ]
        );
        // ← SYNC zxid 0, no data (the member passes zxid 0, as Java's leader writes).
        assert_eq!(
            bytes(&Z::Sync { zxid: Zxid::ZERO }),
            [0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            snap_to_wire(Zxid::new(1, 0)),
            packet_to_wire(
                &Z::Snap {
                    zxid: Zxid::new(1, 0),
                    snapshot: Bytes::from_static(b"not in the packet"),
                },
                &ctx()
            )
        );
        let stream = Bytes::from_static(b"body+signature");
        assert_eq!(
            snap_from_wire(0x1_0000_0000, stream.clone()),
            Z::Snap {
                zxid: Zxid::new(1, 0),
                snapshot: stream
            }
        );
        // ← SNAP zxid 0x100000000, no data; the stream follows it.
        assert_eq!(
            bytes(&Z::Snap {
                zxid: Zxid::new(1, 0),
                snapshot: Bytes::new()
            }),
            [0, 0, 0, 15, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        // ← REVALIDATE zxid -1, 9 bytes: session, valid=1.
        let reply = encode_quorum_packet(&revalidate_reply_to_wire(0x0300_00de_ad00_0001, true));
        assert_eq!(
            &reply[..16],
            &[0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9]
        );
        assert_eq!(&reply[16..25], &[3, 0, 0, 0xde, 0xad, 0, 0, 1, 1]);
    }

    /// OBSERVERINFO and INFORM as Java 3.8 builds them (`Learner.registerWithLeader`
    /// with `Leader.OBSERVERINFO`; `Leader.inform`: the proposal's zxid and data).
    #[test]
    fn observer_packets_in_javas_layout() {
        use zab::QuorumPacket as Z;
        // → OBSERVERINFO zxid acceptedEpoch<<32, LearnerInfo(4, 0x10000, config version).
        let info = encode_quorum_packet(&packet_to_wire(
            &Z::ObserverInfo {
                zxid: Zxid::new(2, 0),
                sid: 4,
                protocol_version: 0x10000,
            },
            &ctx(),
        ));
        let mut want = vec![0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 20];
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        want.extend_from_slice(&[0xff; 4]);
        assert_eq!(info, want);
        // An observer's LearnerInfo without a usable sid is refused as FOLLOWERINFO's is.
        let p = packet(PacketType::ObserverInfo, 0, Some(vec![0; 7]));
        assert!(matches!(
            packet_from_wire_at_leader(&p),
            Err(WireError::BadSid {
                reading: "OBSERVERINFO LearnerInfo",
                ..
            })
        ));
        // ← INFORM: type 8, the txn's zxid, the PROPOSAL's bytes.
        let txn = Txn {
            zxid: Zxid::new(2, 5),
            data: Bytes::from_static(b"hdr+txn+digest"),
        };
        let inform = packet_to_wire(&Z::Inform { txn: txn.clone() }, &ctx());
        let proposal = packet_to_wire(&Z::Proposal { txn }, &ctx());
        assert_eq!(inform.type_, 8);
        assert_eq!((inform.zxid, &inform.data), (proposal.zxid, &proposal.data));
        let bytes = encode_quorum_packet(&inform);
        assert_eq!(
            &bytes[..16],
            &[0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 14]
        );
        assert_eq!(&bytes[16..30], b"hdr+txn+digest");
    }

    #[test]
    fn refusals_and_leniency() {
        // FOLLOWERINFO without a usable sid.
        for data in [None, Some(vec![0; 7]), Some((-5i64).to_be_bytes().to_vec())] {
            let p = packet(PacketType::FollowerInfo, 0, data);
            assert!(matches!(
                packet_from_wire_at_leader(&p),
                Err(WireError::BadSid { .. })
            ));
        }
        // A pre-3.4 learner's 8-byte LearnerInfo: LearnerHandler's protocol default.
        let p = packet(
            PacketType::FollowerInfo,
            0,
            Some(2i64.to_be_bytes().to_vec()),
        );
        assert_eq!(
            packet_from_wire_at_leader(&p).unwrap(),
            Inbound::Zab(zab::QuorumPacket::FollowerInfo {
                zxid: Zxid::ZERO,
                sid: 2,
                protocol_version: 1
            })
        );
        for kind in [PacketType::LeaderInfo, PacketType::AckEpoch] {
            assert!(packet_from_wire_at_learner(&packet(kind, 0, Some(vec![0, 1]))).is_err());
            assert!(packet_from_wire_at_leader(&packet(kind, 0, None)).is_err());
        }
        assert!(
            packet_from_wire_at_learner(&packet(PacketType::Revalidate, -1, Some(vec![0; 8])))
                .is_err()
        );
        for kind in [PacketType::CommitAndActivate, PacketType::InformAndActivate] {
            assert_eq!(
                packet_from_wire_at_leader(&packet(kind, 0, None)).unwrap(),
                Inbound::Other(kind)
            );
        }
        let mut odd = packet(PacketType::Ack, 0, None);
        odd.type_ = 99;
        assert_eq!(
            packet_from_wire_at_learner(&odd).unwrap(),
            Inbound::Unknown(99)
        );
    }

    #[test]
    fn notifications_round_trip_in_javas_layout() {
        let states = [
            ServerState::Looking,
            ServerState::Following,
            ServerState::Leading,
            ServerState::Observing,
        ];
        for (i, state) in states.into_iter().enumerate() {
            let n = zab::Notification {
                state,
                leader: 2 + i as u64,
                zxid: Zxid::new(1, 5),
                election_epoch: 7,
                peer_epoch: 1,
            };
            let frame = notification_to_frame(&n, &ctx());
            // 44 + n bytes, version 2, our config text (Java's 182-byte frames are
            // 44 + 138 bytes of text).
            assert_eq!(frame.len(), 44 + CONFIG.len());
            assert_eq!(&frame[0..4], &(state as i32).to_be_bytes());
            assert_eq!(&frame[4..12], &(2 + i as i64).to_be_bytes());
            assert_eq!(&frame[12..20], &[0, 0, 0, 1, 0, 0, 0, 5]);
            assert_eq!(&frame[36..40], &[0, 0, 0, 2]);
            assert_eq!(&frame[44..], CONFIG.as_bytes());
            assert_eq!(notification_from_frame(&frame).unwrap(), n);
        }
    }

    #[test]
    fn notifications_from_older_layouts_and_bad_ones() {
        let wire = WireNotification::new(PeerState::Leading, 4, 0x2_0000_0003, 9, 2, vec![]);
        // The 28-byte layout has no peerEpoch: it is the zxid's epoch.
        let old = notification_from_frame(&wire.encode_as(NotificationLayout::Legacy28)).unwrap();
        assert_eq!((old.leader, old.peer_epoch), (4, 2));
        let mut negative = wire.clone();
        negative.leader = -1;
        assert!(matches!(
            notification_from_frame(&negative.encode()),
            Err(WireError::BadSid { value: -1, .. })
        ));
        // A looking observer's vote for nobody (Java 3.8's Observer: leader, zxid and
        // peer epoch all Long.MIN_VALUE) is read, and written back the same.
        let nobody = WireNotification::new(
            PeerState::Looking,
            i64::MIN,
            i64::MIN,
            3,
            i64::MIN,
            CONFIG.as_bytes().to_vec(),
        );
        let read = notification_from_frame(&nobody.encode()).unwrap();
        assert_eq!(read.leader, zab::message::NO_LEADER);
        assert_eq!((read.zxid, read.peer_epoch), (Zxid(i64::MIN), i64::MIN));
        assert_eq!(notification_to_frame(&read, &ctx()), nobody.encode());
        assert!(matches!(
            notification_from_frame(&[0; 30]),
            Err(WireError::BadNotificationLength(30))
        ));
    }
}
