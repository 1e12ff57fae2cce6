//! Jute: Apache ZooKeeper's wire and disk serialization, written by hand
//! (no code generator) against ZooKeeper 3.9's `zookeeper.jute`.
//!
//! Each IDL module has one Rust module, with its records in IDL order so the
//! two can be read side by side:
//!
//! | Rust module     | IDL module                                   |
//! |-----------------|----------------------------------------------|
//! | [`data`]        | `org.apache.zookeeper.data`                  |
//! | [`proto`]       | `org.apache.zookeeper.proto`                 |
//! | [`quorum`]      | `org.apache.zookeeper.server.quorum`         |
//! | [`persistence`] | `org.apache.zookeeper.server.persistence`    |
//! | [`txn`]         | `org.apache.zookeeper.txn`                   |
//!
//! The other modules have no IDL counterpart:
//!
//! - [`codec`] — the binary archive itself, the [`Record`] trait and the
//!   primitive read/write helpers for hand-framed data.
//! - [`multi`] — multi requests and responses, which ZooKeeper frames by hand
//!   (`MultiOperationRecord`, `MultiResponse`).
//! - [`consts`] — op codes, error codes, event types and states, permissions,
//!   create modes, watch modes, special xids.
//! - [`error`] — [`JuteError`].
//!
//! Naming: struct names are the IDL class names; field names are the IDL
//! names in snake_case, with `type` spelled `type_`.
//!
//! Type mapping: `int`→`i32`, `long`→`i64`, `boolean`→`bool`,
//! `ustring`→`String` (null decodes as empty), `buffer`→`Option<Vec<u8>>`
//! (null is `None`), `vector<T>`→`Vec<T>` (null decodes as empty).

// Struct and variant names follow ZooKeeper's (ACL, CreateTTLRequest, ...).
#![allow(clippy::upper_case_acronyms)]

pub mod codec;
pub mod consts;
pub mod data;
pub mod error;
pub mod multi;
pub mod persistence;
pub mod proto;
pub mod quorum;
pub mod txn;

pub use codec::{from_bytes, from_bytes_exact, to_bytes, Field, Record};
pub use error::{JuteError, Malformation};
