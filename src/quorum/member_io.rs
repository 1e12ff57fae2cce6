//! The member's sockets: the election port ([`super::cnx`]) and the quorum
//! port ([`super::peers`]) behind the core's [`QuorumIo`], with
//! [`super::translate`] between the machine's messages and ZooKeeper's
//! bytes. Events from both ports go to the core's inbox as
//! [`CoreMsg::Member`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jute::data::Id;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::cnx::{CnxManager, CnxSettings};
use super::peer_addresses::{PeerAddresses, Resolver, SystemResolver, LOOKUP_TIMEOUT};
use super::peers::{PeerEvent, PeerSettings, Peers};
use super::settings::{MemberSettings, PeerAddrs};
use super::translate::{
    notification_from_frame, notification_to_frame, packet_to_wire, ping_to_wire, request_to_wire,
    WireCtx,
};
use super::wire::payload::ForwardedRequest;
use crate::pipeline::ensemble::{MemberEvent, QuorumIo};
use crate::pipeline::CoreMsg;
use crate::zab::{Notification, QuorumPacket, Sid, Zxid};

/// [`QuorumIo`] over real sockets.
pub struct SocketIo {
    election: CnxManager,
    peers: Peers,
    ctx: WireCtx,
}

impl QuorumIo for SocketIo {
    fn elect(&mut self, to: Sid, msg: &Notification) {
        self.election
            .send(to, notification_to_frame(msg, &self.ctx));
    }
    fn connect_leader(&mut self, leader: Sid) {
        self.peers.connect_leader(leader);
    }
    fn send(&mut self, to: Sid, packet: &QuorumPacket) {
        let _ = self.peers.send(to, packet_to_wire(packet, &self.ctx));
    }
    fn send_request(&mut self, to: Sid, req: &ForwardedRequest, auth: &[Id]) {
        let _ = self.peers.send(to, request_to_wire(req, auth));
    }
    fn send_ping(&mut self, to: Sid, zxid: Zxid, touches: &[(i64, i32)]) {
        let _ = self.peers.send(to, ping_to_wire(zxid, touches));
    }
    fn send_revalidate(&mut self, to: Sid, session: i64, timeout: i32) {
        let _ = self
            .peers
            .send(to, super::translate::revalidate_to_wire(session, timeout));
    }
    fn send_revalidate_reply(&mut self, to: Sid, session: i64, valid: bool) {
        let _ = self.peers.send(
            to,
            super::translate::revalidate_reply_to_wire(session, valid),
        );
    }
    fn send_snapshot(&mut self, to: Sid, zxid: Zxid, stream: Bytes) {
        let snap = packet_to_wire(
            &QuorumPacket::Snap {
                zxid,
                snapshot: Bytes::new(),
            },
            &self.ctx,
        );
        let _ = self.peers.send_snapshot(to, snap, stream);
    }
    fn disconnect(&mut self, peer: Sid) {
        self.peers.disconnect(peer);
    }
}

/// Binds both ports and starts their tasks and the two that feed the core.
pub async fn start(
    s: &MemberSettings,
    core: mpsc::Sender<CoreMsg>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketIo> {
    let me = s
        .me()
        .ok_or_else(|| std::io::Error::other(format!("server.{} has no addresses", s.my_sid)))?;
    let bind = |a: SocketAddr| {
        if s.listen_on_all_ips {
            SocketAddr::new(
                std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                a.port(),
            )
        } else {
            a
        }
    };
    let election_listener = TcpListener::bind(bind(me.election)).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("election port {}: {e}", me.election))
    })?;
    // The other members (voters and observers) as zoo.cfg names them, at the
    // addresses resolved at start; each dial looks the name up again. Our own
    // address stays as resolved at start: it is what we bound. Observers are
    // here so that their election connections and OBSERVERINFO are taken; the
    // machine decides what each sid may do.
    let resolver: Arc<dyn Resolver> = Arc::new(SystemResolver);
    let others = |port_name: &'static str, f: fn(&PeerAddrs) -> SocketAddr| {
        let named = s
            .members
            .iter()
            .filter(|(sid, _)| **sid != s.my_sid)
            .filter_map(|(sid, a)| Some((*sid, s.hosts.get(sid)?.host.clone(), f(a))));
        PeerAddresses::resolving(port_name, named, resolver.clone(), LOOKUP_TIMEOUT)
    };
    let sync_ms = s.tick_time_ms.saturating_mul(s.sync_limit);
    let (election, mut votes) = CnxManager::start(
        CnxSettings {
            my_sid: s.my_sid,
            my_address: me.election,
            peers: others("election", |a| a.election),
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_millis(sync_ms.max(1000)),
        },
        election_listener,
    );
    let (peer_tx, mut peer_rx) = mpsc::channel(1024);
    let mut peer_settings = PeerSettings::new(
        s.my_sid,
        Some(bind(me.quorum)),
        others("quorum", |a| a.quorum),
    );
    peer_settings.handshake_timeout =
        Duration::from_millis(s.tick_time_ms.saturating_mul(s.init_limit).max(1000));
    let peers = Peers::start(peer_settings, peer_tx)?;
    {
        // The ports close with the server.
        let (election, peers, stop) = (election.clone(), peers.clone(), shutdown.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            election.shutdown().await;
            peers.shutdown().await;
        });
    }
    let ctx = WireCtx {
        my_sid: s.my_sid,
        config_text: s.config_text.clone(),
        config_version: s.config_version,
    };

    let to_core = core.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            let got = tokio::select! {
                got = votes.recv() => got,
                _ = stop.cancelled() => None,
            };
            let Some(r) = got else {
                break;
            };
            match notification_from_frame(&r.payload) {
                Ok(msg) => {
                    let ev = MemberEvent::Election { from: r.sid, msg };
                    if to_core.send(CoreMsg::Member(ev)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    warn!(peer = r.sid, error = %e, "unreadable election notification, ignored")
                }
            }
        }
    });

    let stop = shutdown;
    tokio::spawn(async move {
        loop {
            let got = tokio::select! {
                got = peer_rx.recv() => got,
                _ = stop.cancelled() => None,
            };
            let Some(ev) = got else {
                break;
            };
            let ev = match ev {
                PeerEvent::Packet { sid, packet } => MemberEvent::Wire { from: sid, packet },
                PeerEvent::Snapshot { sid, zxid, stream } => MemberEvent::Snapshot {
                    from: sid,
                    zxid,
                    stream,
                },
                PeerEvent::Disconnected { sid } => MemberEvent::Disconnected { peer: sid },
                PeerEvent::Connected { .. } => continue,
            };
            if core.send(CoreMsg::Member(ev)).await.is_err() {
                break;
            }
        }
    });
    Ok(SocketIo {
        election,
        peers,
        ctx,
    })
}
