//! The one error type of the snapshot code: every error names the file, and, where bytes
//! were being read or written, the offset and what was being read.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong (see [`SnapshotError`] for the file and offset).
#[derive(Debug)]
pub enum SnapshotErrorKind {
    /// An I/O call failed; `doing` says which ("opening", "writing", "fsync", ...).
    Io {
        doing: &'static str,
        source: io::Error,
    },
    /// The stream ended inside `reading` (a field name as ZooKeeper's archive tags it).
    Truncated { reading: &'static str },
    /// The bytes are there but cannot be what `reading` should be.
    Malformed {
        reading: &'static str,
        detail: String,
    },
    /// The file header's magic is not "ZKSN".
    BadMagic(i32),
    /// A seal's stored Adler-32 differs from the one computed over the stream.
    /// `seal` is 1 for the seal after the tree, 2 for the one after the zxid digest.
    ChecksumMismatch {
        seal: u8,
        stored: i64,
        computed: u32,
    },
    /// The compressed container (gzip or snappy-java framing) is damaged.
    Compression { detail: String },
    /// A method was called out of order (sessions → ACL cache → nodes → finish), or with
    /// a value the format cannot represent. A programming error, reported rather than
    /// panicking.
    Usage(String),
    /// Loading a node into the tree failed (e.g. its parent was never written).
    Tree { node: String, detail: String },
}

/// A snapshot read or write failure, naming the file and (when known) the offset.
///
/// Offsets count bytes of the *uncompressed* stream (for an uncompressed snapshot that is
/// the file offset): the Jute archive is what is being parsed, and that is where the
/// checksum is computed.
#[derive(Debug)]
pub struct SnapshotError {
    pub path: PathBuf,
    pub offset: Option<u64>,
    pub kind: SnapshotErrorKind,
}

pub type Result<T, E = SnapshotError> = std::result::Result<T, E>;

impl SnapshotError {
    pub(crate) fn new(path: &Path, offset: Option<u64>, kind: SnapshotErrorKind) -> Self {
        SnapshotError {
            path: path.to_path_buf(),
            offset,
            kind,
        }
    }

    pub(crate) fn io(path: &Path, doing: &'static str, source: io::Error) -> Self {
        SnapshotError::new(path, None, SnapshotErrorKind::Io { doing, source })
    }

    pub(crate) fn usage(path: &Path, what: impl Into<String>) -> Self {
        SnapshotError::new(path, None, SnapshotErrorKind::Usage(what.into()))
    }

    /// True for a checksum mismatch (corruption detected by the seal).
    pub fn is_checksum_mismatch(&self) -> bool {
        matches!(self.kind, SnapshotErrorKind::ChecksumMismatch { .. })
    }

    /// True when the stream simply ended too early (a snapshot cut short).
    pub fn is_truncated(&self) -> bool {
        match &self.kind {
            SnapshotErrorKind::Truncated { .. } => true,
            SnapshotErrorKind::Io { source, .. } => source.kind() == io::ErrorKind::UnexpectedEof,
            _ => false,
        }
    }
}

impl fmt::Display for SnapshotErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotErrorKind::Io { doing, source } => write!(f, "I/O error {doing}: {source}"),
            SnapshotErrorKind::Truncated { reading } => {
                write!(f, "snapshot ends in the middle of {reading}")
            }
            SnapshotErrorKind::Malformed { reading, detail } => {
                write!(f, "malformed {reading}: {detail}")
            }
            SnapshotErrorKind::BadMagic(m) => write!(
                f,
                "bad file header magic {m:#010x} (expected {:#010x} \"ZKSN\")",
                super::SNAP_MAGIC
            ),
            SnapshotErrorKind::ChecksumMismatch {
                seal,
                stored,
                computed,
            } => write!(
                f,
                "checksum mismatch in seal {seal}: file says {stored:#x}, contents give \
                 Adler-32 {computed:#x} (ZooKeeper: \"CRC corruption\")"
            ),
            SnapshotErrorKind::Compression { detail } => {
                write!(f, "damaged compressed stream: {detail}")
            }
            SnapshotErrorKind::Usage(what) => write!(f, "snapshot API misuse: {what}"),
            SnapshotErrorKind::Tree { node, detail } => {
                write!(f, "cannot load node {node:?} into the tree: {detail}")
            }
        }
    }
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot {}: {}", self.path.display(), self.kind)?;
        if let Some(offset) = self.offset {
            write!(f, " (at byte {offset} of the uncompressed stream)")?;
        }
        Ok(())
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SnapshotErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
