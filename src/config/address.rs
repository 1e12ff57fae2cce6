//! Host/port values as ZooKeeper writes and splits them.
//!
//! Addresses are kept as strings and not resolved here: Java resolves some
//! of them while parsing, but name resolution belongs to the network layer,
//! which must retry it anyway (ZooKeeper re-resolves quorum peers on every
//! connection attempt).

use std::fmt;
use std::net::IpAddr;

use super::java_values::parse_int;

/// An address to listen on: a host (name or IP literal) or every interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListenAddress {
    /// `None` means all interfaces, as Java's `new InetSocketAddress(port)`.
    /// IPv6 literals are stored without brackets.
    pub host: Option<String>,
    /// TCP port; 0 asks the OS for an ephemeral port.
    pub port: u16,
}

impl ListenAddress {
    /// Every interface, `port`.
    pub fn any(port: u16) -> Self {
        ListenAddress { host: None, port }
    }

    /// `host`:`port`; brackets around an IPv6 literal are removed.
    pub fn new(host: &str, port: u16) -> Self {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        ListenAddress {
            host: Some(host.to_owned()),
            port,
        }
    }

    /// Whether this binds every interface (no host, `0.0.0.0` or `::`),
    /// which is Java's `InetAddress.isAnyLocalAddress`.
    pub fn is_wildcard(&self) -> bool {
        match &self.host {
            None => true,
            Some(h) => h.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified()),
        }
    }

    /// The host to bind or connect to; `0.0.0.0` for the wildcard.
    pub fn host_or_wildcard(&self) -> &str {
        self.host.as_deref().unwrap_or("0.0.0.0")
    }
}

impl fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host_or_wildcard();
        if host.contains(':') {
            write!(f, "[{host}]:{}", self.port)
        } else {
            write!(f, "{host}:{}", self.port)
        }
    }
}

/// A port as Java accepts it: `Integer.parseInt`, then 0..=65535
/// (`InetSocketAddress` rejects anything else).
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    parse_int(s).and_then(|p| u16::try_from(p).ok())
}

/// `String.split(String.valueOf(sep))`: trailing empty strings are removed,
/// and an input without the separator is returned whole (even when empty).
pub(crate) fn java_split(s: &str, sep: char) -> Vec<&str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `ConfigUtils.getHostAndPort`: splits `host:port[:...]` on `:`, where the
/// host may be a bracketed IPv6 literal (`[::1]:2888:3888`).
pub(crate) fn host_and_port_parts(s: &str) -> Result<Vec<String>, String> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(format!("{s:?} starts with '[' but has no matching ']'"));
        };
        let host = &rest[..close];
        let after = &rest[close + 1..];
        // Java skips the one character after ']' (normally ':') without checking it.
        let mut after_chars = after.chars();
        if after_chars.next().is_none() {
            return Ok(vec![host.to_owned()]);
        }
        let tail = after_chars.as_str();
        if tail.is_empty() {
            return Err(format!("{s:?} doesn't have a port after the colon"));
        }
        let mut parts = vec![host.to_owned()];
        parts.extend(java_split(tail, ':').into_iter().map(str::to_owned));
        return Ok(parts);
    }
    Ok(java_split(s, ':').into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_java() {
        assert_eq!(java_split("a:b:c", ':'), vec!["a", "b", "c"]);
        assert_eq!(java_split("a:b::", ':'), vec!["a", "b"]);
        assert_eq!(java_split(":a", ':'), vec!["", "a"]);
        assert_eq!(java_split("", ':'), vec![""]);
        assert_eq!(java_split("::", ':'), Vec::<&str>::new());
        assert_eq!(java_split("a", ':'), vec!["a"]);
    }

    #[test]
    fn host_and_port() {
        assert_eq!(
            host_and_port_parts("zk1:2888:3888").unwrap(),
            vec!["zk1", "2888", "3888"]
        );
        assert_eq!(
            host_and_port_parts("[::1]:2888:3888:observer").unwrap(),
            vec!["::1", "2888", "3888", "observer"]
        );
        assert_eq!(host_and_port_parts("[::1]").unwrap(), vec!["::1"]);
        assert!(host_and_port_parts("[::1:2888").is_err());
        assert!(host_and_port_parts("[::1]:").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("2181"), Some(2181));
        assert_eq!(parse_port("0"), Some(0));
        assert_eq!(parse_port("65535"), Some(65535));
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("-1"), None);
        assert_eq!(parse_port("21 81"), None);
    }

    #[test]
    fn listen_address() {
        assert!(ListenAddress::any(1).is_wildcard());
        assert!(ListenAddress::new("0.0.0.0", 1).is_wildcard());
        assert!(ListenAddress::new("[::]", 1).is_wildcard());
        assert!(!ListenAddress::new("127.0.0.1", 1).is_wildcard());
        assert!(!ListenAddress::new("zk1", 1).is_wildcard());
        assert_eq!(ListenAddress::new("[::1]", 2181).to_string(), "[::1]:2181");
        assert_eq!(ListenAddress::new("::1", 2181).host.as_deref(), Some("::1"));
        assert_eq!(ListenAddress::any(2181).to_string(), "0.0.0.0:2181");
    }
}
