//! ZAB, ZooKeeper's atomic broadcast, as a pure deterministic state machine.
//!
//! Design (etcd raft's Step/Tick/Ready shape): a [`Node`] has no sockets,
//! disks, clocks, threads or global randomness. The host feeds it election
//! notifications ([`Node::on_election`]), quorum packets
//! ([`Node::on_quorum`]), connection breaks, persistence completions
//! ([`Node::persisted`]), client writes ([`Node::propose`]) and a `tick()` at
//! the configured interval; every timeout (tickTime, initLimit, syncLimit,
//! finalizeWait, notification backoff) is a tick count derived from
//! [`ZabConfig`]. After each call the host takes the [`Action`]s and carries
//! them out in order: send, persist, apply.
//!
//! The storage contract is explicit because ZooKeeper's data-loss bugs are
//! about it: durable changes are [`PersistOp`] commands with ids, executed in
//! issue order and reported back; every ACK (of a PROPOSAL, of NEWLEADER,
//! ACKEPOCH after an acceptedEpoch write, the leader's self-ACK) is emitted
//! only once the writes it vouches for are durable. The machine keeps its own
//! view of the log (see [`log`]), so it never reads the host's disk.
//!
//! Roles by concern: [`election`] (FastLeaderElection), [`leader`]
//! (discovery, sync, broadcast), [`learner`], [`sync`] (DIFF/TRUNC/SNAP
//! choice). [`sim`] runs whole ensembles of nodes from one seed.

pub mod election;
#[cfg(test)]
mod handler_tests;
pub mod leader;
pub mod learner;
pub mod log;
pub mod message;
pub mod node;
pub mod sim;
pub mod sync;
pub mod types;

pub use message::{Action, Notification, PersistOp, QuorumPacket};
pub use node::{Node, ProposeError, Restored};
pub use sync::LogHistory;
pub use types::{Epoch, ServerState, Sid, Txn, ZabConfig, Zxid};
