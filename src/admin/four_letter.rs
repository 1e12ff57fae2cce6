//! Four-letter-word answers, formatted as ZooKeeper 3.8 formats them.

use std::net::SocketAddr;

use crate::pipeline::Core;

impl Core {
    /// The text answering `cmd` sent by `peer`, or ZooKeeper's refusal when
    /// it is not whitelisted. `trace_mask` is what followed `stmk`.
    ///
    /// Like `NIOServerCnxn.checkFourLetterWord`, the word counts as a
    /// received packet of 4 bytes before the whitelist is consulted.
    pub fn admin_command(
        &mut self,
        cmd: &str,
        peer: SocketAddr,
        trace_mask: Option<i64>,
    ) -> String {
        self.four_letter_received();
        if !self.four_letter_enabled(cmd) {
            return format!("{cmd} is not executed because it is not in the whitelist.\n");
        }
        match cmd {
            "ruok" => "imok".to_string(),
            "isro" => "rw".to_string(),
            _ => self.render_admin(cmd, peer, trace_mask),
        }
    }
}

/// The version line clients and scripts parse (`srvr`'s first line).
pub const VERSION_LINE: &str = concat!(
    "3.8.0-ferrokeeper-",
    env!("CARGO_PKG_VERSION"),
    ", built on 1970-01-01 00:00 UTC"
);
