//! Recognising four-letter words on the first four bytes of a connection.
//!
//! ZooKeeper reads the first four bytes as a frame length; when they spell a
//! known command instead, the connection is an admin query. The set below is
//! ZooKeeper 3.9's `FourLetterCommands`.

/// Every four-letter word ZooKeeper knows.
pub const FOUR_LETTER_WORDS: &[&str] = &[
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat",
    "wchc", "wchp", "wchs", "mntr", "isro", "hash",
];

/// The telnet "interrupt process" sequence; ZooKeeper closes on it.
pub const TELNET_CLOSE: [u8; 4] = [0xff, 0xf4, 0xff, 0xfd];

/// The command named by a connection's first four bytes, if any.
pub fn detect(first4: &[u8; 4]) -> Option<&'static str> {
    FOUR_LETTER_WORDS
        .iter()
        .copied()
        .find(|w| w.as_bytes() == first4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_known_words_only() {
        assert_eq!(detect(b"ruok"), Some("ruok"));
        assert_eq!(detect(b"mntr"), Some("mntr"));
        assert_eq!(detect(b"\0\0\0\x2c"), None);
        assert_eq!(detect(b"RUOK"), None);
    }
}
