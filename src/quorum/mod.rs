//! Replication between ensemble members.
//!
//! [`wire`] holds the byte formats of the election port and the quorum
//! port exactly as Java ZooKeeper 3.8 writes and reads them; the consensus
//! state machine and the connection managers build on it. [`cnx`] is the
//! election port's connection manager. [`translate`] converts between the
//! ZAB machine's messages and the wire forms; [`peers`] is the quorum
//! port's transport (leader–learner connections). [`peer_addresses`]
//! resolves the peers' host names again before each dial.

pub mod cnx;
pub mod member_io;
pub mod peer_addresses;
pub mod peers;
pub mod settings;
pub mod translate;
pub mod wire;
