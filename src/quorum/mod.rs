//! Replication between ensemble members.
//!
//! [`wire`] holds the byte formats of the election port and the quorum
//! port exactly as Java ZooKeeper 3.8 writes and reads them; the consensus
//! state machine and the connection managers build on it. [`cnx`] is the
//! election port's connection manager.

pub mod cnx;
pub mod settings;
pub mod wire;
