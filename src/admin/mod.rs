//! Admin commands: the four-letter words, the HTTP AdminServer
//! (`server.rs`, ZooKeeper's Jetty `JettyAdminServer`) and the Prometheus
//! `/metrics` endpoint (`prometheus.rs`).
//!
//! Commands are answered by the core task, which owns every number they
//! report; the text follows ZooKeeper 3.8's output so scripts that parse it
//! keep working.

pub mod commands;
mod four_letter;
mod http;
pub mod java_fmt;
pub mod json;
pub mod prometheus;
pub mod server;

pub use four_letter::VERSION_LINE;
