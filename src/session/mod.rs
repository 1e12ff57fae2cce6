//! Sessions: ids, passwords, timeouts and expiry.
//!
//! The tracker is owned by the pipeline's core task, like the tree; it knows
//! nothing of connections. Expiry works in buckets of one tick, as
//! ZooKeeper's `SessionTrackerImpl` does, so a session's deadline is always a
//! tick boundary and one timer covers every session that expires together.

mod password;
mod tracker;

pub use password::session_password;
pub use tracker::{OwnerCheck, SessionOwner, SessionTracker, TouchOutcome};

/// A ZooKeeper session id (the wire's `long sessionId`).
pub type SessionId = i64;
