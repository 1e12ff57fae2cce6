//! The stream format of xerial snappy-java's `SnappyOutputStream` / `SnappyInputStream`,
//! which ZooKeeper's `SnapStream` uses for `zookeeper.snapshot.compression.method=snappy`.
//!
//! This is *not* Google's "framing format" (`sNaPpY` stream identifier, CRC-32C per frame)
//! that the `snap` crate's `read`/`write` modules speak; it is xerial's own (checked against
//! snappy-java 1.1.8.3 as Debian ships it, by `javap` of `SnappyCodec`, `SnappyOutputStream`
//! and `SnappyInputStream`):
//!
//! ```text
//! header   8 bytes  magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//!          int      version            (1)
//!          int      compatible version (1)
//! chunk*   int      n = compressed length (big-endian)
//!          n bytes  one raw Snappy block (no framing, no checksum)
//! ```
//!
//! The writer compresses its input in blocks of 32 KiB (`DEFAULT_BLOCK_SIZE`); `flush`
//! compresses whatever is pending, so blocks may be shorter. The reader accepts any block
//! size and, like `SnappyInputStream.hasNextChunk`, a second header in place of a chunk
//! length (concatenated streams) and fewer than 4 bytes at a chunk boundary as the end.
//! Raw blocks are compressed and decompressed by the `snap` crate's `raw` module.

use std::io::{self, BufRead, Read, Write};

/// `SnappyCodec.MAGIC_HEADER`.
pub const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// `SnappyCodec.DEFAULT_VERSION` and `MINIMUM_COMPATIBLE_VERSION`.
const VERSION: i32 = 1;
/// Magic + two ints.
pub const HEADER_LEN: usize = 16;
/// `SnappyOutputStream.DEFAULT_BLOCK_SIZE` (uncompressed bytes per chunk).
pub const BLOCK_SIZE: usize = 32 * 1024;
/// The first four magic bytes read as a big-endian int (`SnappyCodec.MAGIC_HEADER_HEAD`):
/// a chunk length equal to this is a concatenated stream's header.
const MAGIC_HEAD: i32 = i32::from_be_bytes([MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3]]);
/// Refuse chunks claiming more than this (compressed or not), so a damaged length cannot
/// make us allocate gigabytes. snappy-java itself writes 32 KiB blocks.
const MAX_CHUNK: usize = 64 << 20;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Writes the snappy-java stream format to `inner`.
pub struct XerialSnappyWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
    compressed: Vec<u8>,
    encoder: snap::raw::Encoder,
}

impl<W: Write> XerialSnappyWriter<W> {
    /// Starts a stream, writing the header at once.
    pub fn new(mut inner: W) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(&MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_be_bytes());
        header[12..16].copy_from_slice(&VERSION.to_be_bytes());
        inner.write_all(&header)?;
        Ok(XerialSnappyWriter {
            inner,
            pending: Vec::with_capacity(BLOCK_SIZE),
            compressed: Vec::new(),
            encoder: snap::raw::Encoder::new(),
        })
    }

    fn compress_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.compressed
            .resize(snap::raw::max_compress_len(self.pending.len()), 0);
        let n = self
            .encoder
            .compress(&self.pending, &mut self.compressed)
            .map_err(|e| invalid(format!("snappy compression failed: {e}")))?;
        let len = i32::try_from(n).map_err(|_| invalid("snappy block over 2 GiB".into()))?;
        self.inner.write_all(&len.to_be_bytes())?;
        self.inner.write_all(&self.compressed[..n])?;
        self.pending.clear();
        Ok(())
    }

    /// Compresses what is pending and returns the inner writer (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.compress_pending()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for XerialSnappyWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.pending.len();
        let n = room.min(buf.len());
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() == BLOCK_SIZE {
            self.compress_pending()?;
        }
        Ok(n)
    }

    /// Like `SnappyOutputStream.flush`: compresses the partial block, then flushes.
    fn flush(&mut self) -> io::Result<()> {
        self.compress_pending()?;
        self.inner.flush()
    }
}

/// Reads the snappy-java stream format, yielding the uncompressed bytes.
pub struct XerialSnappyReader<R: Read> {
    inner: R,
    block: Vec<u8>,
    pos: usize,
    compressed: Vec<u8>,
    decoder: snap::raw::Decoder,
    at_end: bool,
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> XerialSnappyReader<R> {
    /// Reads and checks the stream header.
    ///
    /// snappy-java falls back to decoding the whole input as one raw Snappy block when the
    /// magic is missing; ZooKeeper never writes such a file (and its own validity check
    /// rejects it), so this reader refuses it instead.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_up_to(&mut inner, &mut header)?;
        if got == 0 {
            return Err(invalid("empty snappy stream".into()));
        }
        if got < HEADER_LEN || header[..8] != MAGIC {
            return Err(invalid(
                "no snappy-java stream header (0x82 \"SNAPPY\" 0x00, version, compatible version)"
                    .into(),
            ));
        }
        Ok(XerialSnappyReader {
            inner,
            block: Vec::new(),
            pos: 0,
            compressed: Vec::new(),
            decoder: snap::raw::Decoder::new(),
            at_end: false,
        })
    }

    /// Decodes the next non-empty chunk into `block`; false at the end of the stream.
    fn next_chunk(&mut self) -> io::Result<bool> {
        loop {
            let mut len_bytes = [0u8; 4];
            // Fewer than 4 bytes here is the end of the stream for SnappyInputStream too.
            if read_up_to(&mut self.inner, &mut len_bytes)? < 4 {
                return Ok(false);
            }
            let len = i32::from_be_bytes(len_bytes);
            if len == MAGIC_HEAD {
                let mut rest = [0u8; HEADER_LEN - 4];
                if read_up_to(&mut self.inner, &mut rest)? < rest.len() || rest[..4] != MAGIC[4..] {
                    return Err(invalid(
                        "bad header of a concatenated snappy-java stream".into(),
                    ));
                }
                continue;
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|&n| n <= MAX_CHUNK)
                .ok_or_else(|| invalid(format!("invalid snappy chunk length {len}")))?;
            self.compressed.resize(len, 0);
            if read_up_to(&mut self.inner, &mut self.compressed)? < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("snappy chunk of {len} bytes cut short"),
                ));
            }
            let out_len = snap::raw::decompress_len(&self.compressed)
                .map_err(|e| invalid(format!("bad snappy block: {e}")))?;
            if out_len > MAX_CHUNK {
                return Err(invalid(format!(
                    "snappy block claims {out_len} uncompressed bytes"
                )));
            }
            self.block.resize(out_len, 0);
            let n = self
                .decoder
                .decompress(&self.compressed, &mut self.block)
                .map_err(|e| invalid(format!("bad snappy block: {e}")))?;
            self.block.truncate(n);
            self.pos = 0;
            if !self.block.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for XerialSnappyReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for XerialSnappyReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.block.len() && !self.at_end && !self.next_chunk()? {
            self.at_end = true;
            self.block.clear();
            self.pos = 0;
        }
        Ok(&self.block[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.block.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) -> Vec<u8> {
        let mut w = XerialSnappyWriter::new(Vec::new()).unwrap();
        w.write_all(data).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(&bytes[..8], &MAGIC);
        let mut r = XerialSnappyReader::new(&bytes[..]).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trips_across_block_boundaries() {
        for len in [
            0,
            1,
            BLOCK_SIZE - 1,
            BLOCK_SIZE,
            BLOCK_SIZE + 1,
            3 * BLOCK_SIZE + 17,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            assert_eq!(roundtrip(&data), data, "len {len}");
        }
    }

    #[test]
    fn header_is_snappy_javas() {
        let bytes = XerialSnappyWriter::new(Vec::new())
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            bytes,
            [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]
        );
    }

    #[test]
    fn concatenated_streams_read_as_one() {
        let mut a = XerialSnappyWriter::new(Vec::new()).unwrap();
        a.write_all(b"hello ").unwrap();
        let mut bytes = a.finish().unwrap();
        let mut b = XerialSnappyWriter::new(Vec::new()).unwrap();
        b.write_all(b"world").unwrap();
        bytes.extend(b.finish().unwrap());
        let mut out = Vec::new();
        XerialSnappyReader::new(&bytes[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        assert!(XerialSnappyReader::new(&b""[..]).is_err());
        assert!(XerialSnappyReader::new(&b"SNAPPY\0\0\0\0\0\x01\0\0\0\x01"[..]).is_err());
        let mut w = XerialSnappyWriter::new(Vec::new()).unwrap();
        w.write_all(&[7u8; 1000]).unwrap();
        let bytes = w.finish().unwrap();
        let cut = &bytes[..bytes.len() - 3];
        let mut out = Vec::new();
        assert!(XerialSnappyReader::new(cut)
            .unwrap()
            .read_to_end(&mut out)
            .is_err());
        let mut bad = bytes.clone();
        bad[16..20].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(XerialSnappyReader::new(&bad[..])
            .unwrap()
            .read_to_end(&mut out)
            .is_err());
    }
}
