//! Four-letter-word answers, formatted as ZooKeeper 3.8 formats them.

use std::net::SocketAddr;

use crate::pipeline::Core;

/// What the words that need a running server answer while an ensemble
/// member is looking (no leader yet), as Java 3.8.0 does
/// (`compat-tests/quorum-admin/java-3.8.0/looking/`).
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

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
        let text = if !self.four_letter_enabled(cmd) {
            format!("{cmd} is not executed because it is not in the whitelist.\n")
        } else {
            match cmd {
                "ruok" => "imok".to_string(),
                "isro" if !self.serving() => "null".to_string(),
                "isro" => "rw".to_string(),
                // Words that read no server state answer while looking too.
                "gtmk" | "stmk" | "envi" => self.render_admin(cmd, peer, trace_mask),
                // `hash` prints the sentence without its newline.
                "hash" if !self.serving() => NOT_SERVING.to_string(),
                _ if !self.serving() => format!("{NOT_SERVING}\n"),
                _ => self.render_admin(cmd, peer, trace_mask),
            }
        };
        self.four_letter_sent(&text);
        text
    }
}

/// The version line clients and scripts parse (`srvr`'s first line), with
/// the build date (build.rs; SOURCE_DATE_EPOCH for reproducible builds).
pub const VERSION_LINE: &str = concat!(
    "3.8.0-ferrokeeper-",
    env!("CARGO_PKG_VERSION"),
    ", built on ",
    env!("FERROKEEPER_BUILD_DATE")
);

#[cfg(test)]
mod tests {
    use super::VERSION_LINE;

    /// The date clients parse (go-zookeeper's FLWSrvr reads
    /// `built on YYYY-MM-DD HH:mm UTC`) is the build's, not the epoch.
    #[test]
    fn version_line_carries_the_build_date() {
        let (_, date) = VERSION_LINE
            .split_once(", built on ")
            .expect("a built-on date");
        let b = date.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        assert_eq!(b.len(), "2026-12-07 14:10 UTC".len(), "{date}");
        assert!(
            digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13) && digits(14..16),
            "{date}"
        );
        assert_eq!(
            (b[4], b[7], b[10], b[13]),
            (b'-', b'-', b' ', b':'),
            "{date}"
        );
        assert!(date.ends_with(" UTC"), "{date}");
        assert!(!date.starts_with("1970"), "{date}");
    }
}
