//! Four-letter-word answers, formatted as ZooKeeper 3.8 formats them.

use crate::pipeline::Core;

impl Core {
    /// The text answering `cmd`, or ZooKeeper's refusal when it is not
    /// whitelisted.
    pub fn admin_command(&mut self, cmd: &str) -> String {
        if !self.four_letter_enabled(cmd) {
            return format!("{cmd} is not executed because it is not in the whitelist.\n");
        }
        match cmd {
            "ruok" => "imok".to_string(),
            "isro" => "rw".to_string(),
            _ => self.render_admin(cmd),
        }
    }
}

/// The version line clients and scripts parse (`srvr`'s first line).
pub const VERSION_LINE: &str = concat!(
    "3.8.0-ferrokeeper-",
    env!("CARGO_PKG_VERSION"),
    ", built on 1970-01-01 00:00 UTC"
);
