//! FerroKeeper: an Apache ZooKeeper–compatible server.
pub mod acl;
pub mod config;
pub mod watch;
