//! FerroKeeper: an Apache ZooKeeper–compatible server.
pub mod config;
pub mod tree;
