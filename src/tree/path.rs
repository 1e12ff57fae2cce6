//! Znode path validation and the path arithmetic the tree and prep share.
//!
//! Validation reproduces `org.apache.zookeeper.common.PathUtils.validatePath` exactly,
//! including its error messages. Java works on UTF-16 code units, so positions in the
//! messages ("@i") are UTF-16 indexes and every character outside the Basic Multilingual
//! Plane is rejected (its surrogate halves fall in the forbidden `\ud800-\uf8ff` range).

use super::ephemeral::InvalidArgument;

/// Validates a path the way ZooKeeper validates client-supplied paths.
pub fn validate_path(path: &str) -> Result<(), InvalidArgument> {
    let reason = if path.is_ascii() {
        // ASCII bytes are exactly the UTF-16 code units, so skip the re-encoding.
        check_units(path.as_bytes())
    } else {
        let units: Vec<u16> = path.encode_utf16().collect();
        check_units(&units)
    };
    match reason {
        None => Ok(()),
        Some(Reason::Fixed(msg)) => Err(InvalidArgument(msg.to_owned())),
        Some(Reason::At(what, i)) => Err(InvalidArgument(format!(
            "Invalid path string \"{path}\" caused by {what} @{i}"
        ))),
    }
}

/// `PathUtils.validatePath(path, isSequential)`: a sequential create is validated with a
/// stand-in suffix "1", so a path ending in '/' is acceptable for it.
pub fn validate_path_seq(path: &str, is_sequential: bool) -> Result<(), InvalidArgument> {
    if is_sequential {
        validate_path(&format!("{path}1"))
    } else {
        validate_path(path)
    }
}

/// Validation of a path that may be absent (a jute string decoded as null).
///
/// Mirrors Java: a null path is "Path cannot be null", except in the sequential variant
/// where Java's string concatenation turns it into "null1".
pub fn validate_nullable_path(
    path: Option<&str>,
    is_sequential: bool,
) -> Result<(), InvalidArgument> {
    match (path, is_sequential) {
        (Some(p), seq) => validate_path_seq(p, seq),
        (None, true) => validate_path("null1"),
        (None, false) => Err(InvalidArgument("Path cannot be null".to_owned())),
    }
}

enum Reason {
    Fixed(&'static str),
    At(&'static str, usize),
}

/// The body of `validatePath` over code units (bytes for ASCII input, UTF-16 otherwise).
fn check_units<T: Copy + Into<u32>>(units: &[T]) -> Option<Reason> {
    let at = |i: usize| -> u32 { units.get(i).map_or(0, |&u| u.into()) };
    let slash = u32::from(b'/');
    let dot = u32::from(b'.');
    if units.is_empty() {
        return Some(Reason::Fixed("Path length must be > 0"));
    }
    if at(0) != slash {
        return Some(Reason::Fixed("Path must start with / character"));
    }
    if units.len() == 1 {
        return None;
    }
    if at(units.len() - 1) == slash {
        return Some(Reason::Fixed("Path must not end with / character"));
    }
    let len = units.len();
    let next_ends_component = |i: usize| i + 1 == len || at(i + 1) == slash;
    for i in 1..len {
        let c = at(i);
        let lastc = at(i - 1);
        if c == 0 {
            return Some(Reason::At("null character not allowed", i));
        } else if c == slash && lastc == slash {
            return Some(Reason::At("empty node name specified", i));
        } else if c == dot && lastc == dot {
            // i >= 2 here: at i == 1 the previous unit is the leading '/'.
            if at(i - 2) == slash && next_ends_component(i) {
                return Some(Reason::At("relative paths not allowed", i));
            }
        } else if c == dot {
            if lastc == slash && next_ends_component(i) {
                return Some(Reason::At("relative paths not allowed", i));
            }
        } else if (0x0001..=0x001f).contains(&c)
            || (0x007f..=0x009f).contains(&c)
            || (0xd800..=0xf8ff).contains(&c)
            || (0xfff0..=0xffff).contains(&c)
        {
            return Some(Reason::At("invalid character", i));
        }
    }
    None
}

/// The name a sequential create gets (`PrepRequestProcessor`): the requested path followed
/// by the parent's *persisted* cversion formatted like Java's `%010d`. Negative cversions
/// (after int overflow) keep the sign inside the ten columns, e.g. `-000000005`.
pub fn sequential_path(path: &str, parent_cversion: i32) -> String {
    format!("{path}{parent_cversion:010}")
}

/// Splits a path at its last '/' into (parent, child name) like `DataTree` does:
/// "/a/b" gives ("/a", "b") and "/a" gives ("", "a") — the root's key is "".
/// `None` when there is no '/' at all.
pub fn split_parent(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    Some((&path[..slash], &path[slash + 1..]))
}

/// Length of `s` in UTF-16 code units, i.e. Java's `String.length()`, which is what
/// ZooKeeper's size statistics count.
pub fn java_length(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}
