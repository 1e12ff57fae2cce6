//! The bytes on the election and quorum ports, exactly as Java ZooKeeper
//! 3.8 writes them (`QuorumCnxManager`, `FastLeaderElection`, `Learner`,
//! `LearnerHandler`, `Leader`). The jute records (QuorumPacket, LearnerInfo,
//! QuorumAuthPacket) live in `jute::quorum`; this module holds what Java
//! frames by hand around them.
//!
//! Every decoder takes untrusted bytes: lengths are judged against Java's
//! limits before anything is awaited or allocated, and every refusal is a
//! typed [`WireError`], never a panic. Decoders of stream formats (the
//! initial message, election frames, quorum packets, the SNAP stream) work
//! on "what has arrived so far" and answer `Ok(None)` while incomplete, so
//! they serve a blocking reader, a tokio codec and a fuzzer alike.
//! `compat-tests/quorum-wire` checks them against a live Java 3.8 ensemble.

mod cursor;

pub mod codec;
pub mod config_text;
pub mod error;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod initial;
pub mod notification;
pub mod packet;
pub mod payload;
pub mod snap;

pub use codec::{ElectionFrameCodec, QuorumPacketCodec};
pub use config_text::{parse_config_text, render_config_text};
pub use error::WireError;
pub use frame::{decode_election_frame, encode_election_frame, MAX_ELECTION_FRAME};
pub use initial::InitialMessage;
pub use notification::{Notification, PeerState};
pub use packet::{
    decode_quorum_packet, describe_packet, encode_quorum_packet, PacketLimit, PacketType,
    QuorumPacket,
};
pub use snap::{SnapEnd, SnapScanner};
