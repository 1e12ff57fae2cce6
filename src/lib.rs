//! FerroKeeper: an Apache ZooKeeper–compatible server.
//!
//! A request flows: [`net`] (framing, handshake, four-letter words) →
//! [`pipeline`] prep (validate, check [`acl`]s, assign the zxid, make a [`txn`])
//! → sync (append to the [`persist`] txn log, group commit) → final (apply
//! to the [`tree`], fire [`watch`]es, reply). [`session`] tracks sessions,
//! [`config`] reads zoo.cfg, [`admin`] answers four-letter words. [`quorum`]
//! holds what ensemble members exchange.

pub mod acl;
pub mod admin;
pub mod config;
pub mod database;
pub mod lifecycle;
pub mod net;
pub mod persist;
pub mod pipeline;
pub mod quorum;
pub mod server;
pub mod session;
pub mod tools;
pub mod tree;
pub mod txn;
pub mod watch;
pub mod zab;
