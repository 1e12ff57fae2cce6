//! Client connections: accepting, framing, the handshake, four-letter
//! words, and the coalescing writer; and the limits that protect the
//! server from its clients (connection counts and throttles at accept and
//! handshake, requests in process, per-connection back-pressure).

mod blue_throttle;
mod connection;
pub mod dual_stack;
mod four_letter;
mod listener;
pub mod load;
pub mod outbox;
mod settings;

pub use blue_throttle::BlueThrottleConfig;
pub use connection::ConnLimits;
pub use four_letter::FOUR_LETTER_WORDS;
pub use listener::{serve, Listener};
pub use load::{LargeRequestLimit, RequestThrottleConfig, ServerLoad};
pub use outbox::Outbox;
pub use settings::OUTBOX_LIMIT_PROPERTY;
