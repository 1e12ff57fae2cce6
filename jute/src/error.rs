//! The single error type of the crate.
//!
//! Decoding distinguishes two situations because callers react differently:
//! a *truncated* input may become decodable once more bytes arrive (or, inside
//! a complete frame, means the peer sent a short record), while *malformed*
//! input can never be decoded no matter how many bytes follow.

use std::fmt;

/// Why a decode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JuteError {
    /// The input ended before `reading` was complete.
    ///
    /// This also covers a length prefix (ustring, buffer) that announces more
    /// bytes than remain: that is exactly what a cut-off record looks like, and
    /// the decoder checks the prefix against the remaining input *before*
    /// allocating, so a hostile length never costs memory.
    Truncated {
        /// The field (`Record.field`) or primitive being read.
        reading: &'static str,
        /// Bytes the item needed from this point.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The bytes are present but can never be a valid encoding.
    Malformed {
        /// The field (`Record.field`) or primitive being read.
        reading: &'static str,
        /// What exactly is wrong.
        problem: Malformation,
    },
}

/// The kinds of malformed input, kept separate so a server can log or map
/// them precisely (ZooKeeper itself reports all of them as an `IOException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// A ustring or buffer length prefix below -1 (-1 is the null marker).
    NegativeLength(i32),
    /// ustring bytes that are not valid UTF-8.
    InvalidUtf8,
    /// A multi request/response header carries a type code the composite
    /// does not allow.
    UnknownOpType(i32),
    /// A multi request mixes read ops (getData/getChildren) with write ops;
    /// ZooKeeper refuses such a request while decoding it.
    MixedOpKinds,
    /// A create op in a multi request carries flags that are no `CreateMode`;
    /// ZooKeeper refuses such a request while decoding it.
    InvalidCreateFlags(i32),
    /// Bytes left over after a record that was required to fill its input.
    TrailingBytes(usize),
}

impl JuteError {
    /// True when more input could have made the decode succeed.
    pub fn is_truncated(&self) -> bool {
        matches!(self, JuteError::Truncated { .. })
    }

    /// True when the input can never be decoded.
    pub fn is_malformed(&self) -> bool {
        matches!(self, JuteError::Malformed { .. })
    }

    /// The field or primitive that was being read when decoding failed.
    pub fn reading(&self) -> &'static str {
        match self {
            JuteError::Truncated { reading, .. } | JuteError::Malformed { reading, .. } => reading,
        }
    }

    pub(crate) fn malformed(reading: &'static str, problem: Malformation) -> Self {
        JuteError::Malformed { reading, problem }
    }
}

impl fmt::Display for Malformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformation::NegativeLength(len) => write!(f, "negative length {len}"),
            Malformation::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Malformation::UnknownOpType(t) => write!(f, "invalid op type {t}"),
            Malformation::MixedOpKinds => f.write_str("read and write ops mixed in one multi"),
            Malformation::InvalidCreateFlags(flags) => write!(f, "invalid create flags {flags}"),
            Malformation::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
        }
    }
}

impl fmt::Display for JuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JuteError::Truncated {
                reading,
                needed,
                available,
            } => write!(
                f,
                "truncated input reading {reading}: needed {needed} bytes, {available} available"
            ),
            JuteError::Malformed { reading, problem } => {
                write!(f, "malformed input reading {reading}: {problem}")
            }
        }
    }
}

impl std::error::Error for JuteError {}
