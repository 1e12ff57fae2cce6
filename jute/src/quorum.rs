//! `module org.apache.zookeeper.server.quorum`: records exchanged between
//! ensemble members. Same order as the IDL.

use crate::codec::jute_record;
use crate::data::Id;

jute_record! {
    /// Sent by a follower or observer when it connects to the leader.
    LearnerInfo {
        serverid: i64,
        protocol_version: i32,
        config_version: i64,
    }
}

jute_record! {
    /// Every message of the leader–learner protocol.
    QuorumPacket {
        /// Packet type (REQUEST, PROPOSAL, ACK, COMMIT, PING, ...).
        type_: i32,
        zxid: i64,
        /// Payload; its meaning depends on `type_`.
        data: Option<Vec<u8>>,
        /// Auth identities of the session, for forwarded requests.
        authinfo: Vec<Id>,
    }
}

jute_record! {
    /// One step of quorum (server-to-server) SASL authentication.
    QuorumAuthPacket {
        magic: i64,
        status: i32,
        token: Option<Vec<u8>>,
    }
}
