//! The byte streams under the Jute archive: `SnapStream`'s compression choice plus the
//! `CheckedInputStream` / `CheckedOutputStream` (Adler-32) that sits on top of it.
//!
//! As in ZooKeeper the checksum is computed over the *uncompressed* archive bytes — the
//! checked stream wraps the compressor, not the other way round — and it covers exactly
//! the bytes the archive has written or consumed so far. The reader therefore never reads
//! ahead at the checked layer: buffering happens below it (in the file reader or the
//! decompressor), and the checksum is updated only for bytes actually parsed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::error::{Result, SnapshotError, SnapshotErrorKind};
use super::xsnappy::{XerialSnappyReader, XerialSnappyWriter};
use crate::config::SnapshotCompression;

const IO_BUF: usize = 64 * 1024;
/// Largest piece allocated at once for a length-prefixed field, so a damaged length
/// prefix in a short file costs no more memory than the file has bytes.
const READ_CHUNK: usize = 64 * 1024;

/// Reading side: decompressed bytes with a running Adler-32 and offset.
///
/// Over a file it owns its decompressing reader; over any other stream
/// ([`CheckedInput::over`], e.g. a learner's socket during a SNAP sync) it
/// consumes exactly the bytes it parses from the caller's `BufRead`, so what
/// follows the snapshot on that stream stays there.
pub struct CheckedInput<R = Box<dyn BufRead + Send>> {
    src: R,
    adler: adler2::Adler32,
    offset: u64,
    path: PathBuf,
    /// Longest buffer or string accepted (`jute.maxbuffer`), if limited.
    max_len: Option<usize>,
}

impl CheckedInput {
    /// Opens `path` with the given compression (`SnapStream.getInputStream`).
    pub fn open(path: &Path, compression: SnapshotCompression) -> Result<Self> {
        let file = File::open(path).map_err(|e| SnapshotError::io(path, "opening", e))?;
        let src: Box<dyn BufRead + Send> = match compression {
            SnapshotCompression::None => Box::new(BufReader::with_capacity(IO_BUF, file)),
            SnapshotCompression::Gzip => Box::new(BufReader::with_capacity(
                IO_BUF,
                MultiGzDecoder::new(BufReader::with_capacity(IO_BUF, file)),
            )),
            SnapshotCompression::Snappy => {
                let r = XerialSnappyReader::new(BufReader::with_capacity(IO_BUF, file)).map_err(
                    |e| {
                        SnapshotError::new(
                            path,
                            Some(0),
                            SnapshotErrorKind::Compression {
                                detail: e.to_string(),
                            },
                        )
                    },
                )?;
                Box::new(r)
            }
        };
        Ok(CheckedInput {
            src,
            adler: adler2::Adler32::new(),
            offset: 0,
            path: path.to_path_buf(),
            max_len: None,
        })
    }
}

impl<R: BufRead> CheckedInput<R> {
    /// Reads from `src` as it is (no decompression). `label` names the stream
    /// in errors (a peer's address, say); `max_len` refuses any length-prefixed
    /// field longer than that before reading it, as Jute's
    /// `BinaryInputArchive.checkLength` refuses lengths over `jute.maxbuffer`.
    pub fn over(src: R, label: &Path, max_len: Option<usize>) -> Self {
        CheckedInput {
            src,
            adler: adler2::Adler32::new(),
            offset: 0,
            path: label.to_path_buf(),
            max_len,
        }
    }

    /// The stream, positioned right after the last byte parsed.
    pub fn into_inner(self) -> R {
        self.src
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the uncompressed stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Adler-32 of everything consumed so far (`CheckedInputStream.getChecksum`).
    pub fn checksum(&self) -> u32 {
        self.adler.checksum()
    }

    /// An error at the current offset.
    pub fn error(&self, kind: SnapshotErrorKind) -> SnapshotError {
        SnapshotError::new(&self.path, Some(self.offset), kind)
    }

    pub fn malformed(&self, reading: &'static str, detail: impl Into<String>) -> SnapshotError {
        self.error(SnapshotErrorKind::Malformed {
            reading,
            detail: detail.into(),
        })
    }

    fn io_error(&self, e: io::Error, reading: &'static str) -> SnapshotError {
        let kind = match e.kind() {
            io::ErrorKind::UnexpectedEof => SnapshotErrorKind::Truncated { reading },
            // What flate2 and the snappy reader report for damaged compressed data.
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
                SnapshotErrorKind::Compression {
                    detail: format!("{e} (while reading {reading})"),
                }
            }
            _ => SnapshotErrorKind::Io {
                doing: "reading",
                source: e,
            },
        };
        self.error(kind)
    }

    /// Fills `buf`; `Ok(false)` if the stream ended before its first byte, a `Truncated`
    /// error if it ended inside.
    pub fn read_exact_or_eof(&mut self, buf: &mut [u8], reading: &'static str) -> Result<bool> {
        let mut got = 0;
        while got < buf.len() {
            let avail = match self.src.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(e, reading)),
            };
            if avail.is_empty() {
                if got == 0 {
                    return Ok(false);
                }
                return Err(self.error(SnapshotErrorKind::Truncated { reading }));
            }
            let n = avail.len().min(buf.len() - got);
            buf[got..got + n].copy_from_slice(&avail[..n]);
            self.src.consume(n);
            self.adler.write_slice(&buf[got..got + n]);
            self.offset += n as u64;
            got += n;
        }
        Ok(true)
    }

    pub fn read_exact(&mut self, buf: &mut [u8], reading: &'static str) -> Result<()> {
        if buf.is_empty() || self.read_exact_or_eof(buf, reading)? {
            Ok(())
        } else {
            Err(self.error(SnapshotErrorKind::Truncated { reading }))
        }
    }

    pub fn read_int(&mut self, reading: &'static str) -> Result<i32> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b, reading)?;
        Ok(i32::from_be_bytes(b))
    }

    pub fn read_long(&mut self, reading: &'static str) -> Result<i64> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b, reading)?;
        Ok(i64::from_be_bytes(b))
    }

    /// A Jute `buffer`: int length then bytes; -1 is null. Other negative lengths are
    /// refused, as `BinaryInputArchive.checkLength` refuses them.
    pub fn read_buffer(&mut self, reading: &'static str) -> Result<Option<Vec<u8>>> {
        let len = self.read_int(reading)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len)
            .map_err(|_| self.malformed(reading, format!("negative length {len}")))?;
        if let Some(max) = self.max_len.filter(|&max| len > max) {
            return Err(self.malformed(
                reading,
                format!("length {len} is over the limit of {max} bytes (jute.maxbuffer)"),
            ));
        }
        // Grow as bytes actually arrive (see READ_CHUNK).
        let mut out = Vec::with_capacity(len.min(READ_CHUNK));
        while out.len() < len {
            let start = out.len();
            let n = (len - start).min(READ_CHUNK);
            out.resize(start + n, 0);
            self.read_exact(&mut out[start..], reading)?;
        }
        Ok(Some(out))
    }

    /// A Jute `ustring`; null (-1) is `None`. Must be UTF-8: ZooKeeper writes Java strings
    /// with `String.getBytes(UTF_8)`, which always gives valid UTF-8.
    pub fn read_string(&mut self, reading: &'static str) -> Result<Option<String>> {
        let start = self.offset;
        match self.read_buffer(reading)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                SnapshotError::new(
                    &self.path,
                    Some(start),
                    SnapshotErrorKind::Malformed {
                        reading,
                        detail: "not valid UTF-8".into(),
                    },
                )
            }),
        }
    }
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
    // Boxed: the Snappy encoder keeps its hash table inline (about 2 KiB).
    Snappy(Box<XerialSnappyWriter<BufWriter<File>>>),
}

impl Sink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Gzip(w) => w.write_all(bytes),
            Sink::Snappy(w) => w.write_all(bytes),
        }
    }
}

/// Writing side: `CheckedOutputStream` over the compressor over a buffered file.
pub struct CheckedOutput {
    sink: Sink,
    adler: adler2::Adler32,
    offset: u64,
    path: PathBuf,
}

impl CheckedOutput {
    /// Wraps a freshly created file (`SnapStream.getOutputStream`).
    pub fn new(file: File, path: &Path, compression: SnapshotCompression) -> Result<Self> {
        let buffered = BufWriter::with_capacity(IO_BUF, file);
        let sink = match compression {
            SnapshotCompression::None => Sink::Plain(buffered),
            // GZIPOutputStream uses the Deflater's default level, as flate2's default does.
            SnapshotCompression::Gzip => {
                Sink::Gzip(GzEncoder::new(buffered, flate2::Compression::default()))
            }
            SnapshotCompression::Snappy => Sink::Snappy(Box::new(
                XerialSnappyWriter::new(buffered)
                    .map_err(|e| SnapshotError::io(path, "writing the snappy header", e))?,
            )),
        };
        Ok(CheckedOutput {
            sink,
            adler: adler2::Adler32::new(),
            offset: 0,
            path: path.to_path_buf(),
        })
    }

    /// Appends archive bytes, adding them to the checksum.
    pub fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sink.write_all(bytes).map_err(|e| {
            SnapshotError::new(
                &self.path,
                Some(self.offset),
                SnapshotErrorKind::Io {
                    doing: "writing",
                    source: e,
                },
            )
        })?;
        self.adler.write_slice(bytes);
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Adler-32 of everything written so far (`CheckedOutputStream.getChecksum`).
    pub fn checksum(&self) -> u32 {
        self.adler.checksum()
    }

    /// Uncompressed bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Ends the compressed stream and flushes everything to the file (not fsynced).
    pub fn finish(self) -> Result<File> {
        let path = self.path;
        let buffered = match self.sink {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w
                .finish()
                .map_err(|e| SnapshotError::io(&path, "finishing the gzip stream", e))?,
            Sink::Snappy(w) => w
                .finish()
                .map_err(|e| SnapshotError::io(&path, "finishing the snappy stream", e))?,
        };
        buffered
            .into_inner()
            .map_err(|e| SnapshotError::io(&path, "flushing", e.into_error()))
    }
}
