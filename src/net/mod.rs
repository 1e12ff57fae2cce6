//! Client connections: accepting, framing, the handshake, four-letter
//! words, and the coalescing writer.

mod connection;
mod four_letter;
mod listener;
pub mod outbox;

pub use connection::ConnLimits;
pub use four_letter::FOUR_LETTER_WORDS;
pub use listener::{serve, Listener};
pub use outbox::Outbox;
