//! `zookeeper.enforce.auth.*`: a session that has not authenticated with a
//! required scheme gets no request served.
//!
//! As `ZooKeeperServer.processPacket` with `AuthenticationHelper`: every
//! packet but auth and sasl is checked when it arrives, before prep. A
//! refused one is answered with its xid, zxid 0 and SessionClosedRequireSasl
//! (-124), which clients report as AUTHFAILED-like session closure; the
//! connection is then closed and reads nothing more. The session itself is
//! not closed (ZooKeeper only closes the socket): it expires unless the
//! client reconnects and authenticates first.

use jute::consts::{ErrorCode, OpCode};
use jute::proto::ReplyHeader;
use tracing::error;

use super::core::{ConnId, Core};
use super::ClientOp;
use crate::admin::java_fmt::JavaSocketAddr;

impl Core {
    /// Whether the request was refused (answered and its connection closed)
    /// because the session lacks a required authentication.
    pub(super) fn refuse_unauthenticated(
        &mut self,
        conn_id: ConnId,
        xid: i32,
        op: &ClientOp,
    ) -> bool {
        let exempt = match op {
            ClientOp::Auth(_) => true,
            ClientOp::Unimplemented(code) => *code == OpCode::Sasl as i32,
            _ => false,
        };
        if exempt {
            return false;
        }
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return false;
        };
        let Some(line) = self.cfg.auth.enforcement_refusal(&conn.auth) else {
            return false;
        };
        conn.stats.packets_sent += 1;
        self.stats.packets_sent += 1;
        error!(client = %JavaSocketAddr(conn.addr), session = format_args!("0x{:x}", conn.session), "{line}");
        conn.out.push_reply(
            &ReplyHeader {
                xid,
                zxid: 0,
                err: ErrorCode::SessionClosedRequireSasl as i32,
            },
            None,
        );
        conn.out.close();
        true
    }
}
