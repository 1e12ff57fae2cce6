//! `tokio_util::codec` adapters over the stream decoders, for tasks that
//! read a peer's socket with `FramedRead`: election frames after the initial
//! message, and quorum packets. A decode error is an `InvalidData` I/O error
//! carrying the [`WireError`], which ends the stream: the caller closes that
//! one connection.
//!
//! The SNAP stream is not packets: after a SNAP packet, walk
//! `FramedRead::read_buffer_mut()` (and further reads) with
//! [`SnapScanner`](super::SnapScanner) before decoding packets again.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::WireError;
use super::frame::{decode_election_frame, MAX_ELECTION_FRAME};
use super::packet::{decode_quorum_packet, encode_quorum_packet, PacketLimit, QuorumPacket};

fn invalid(e: WireError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

/// Election frames: int32 length (1..=512 KiB) + payload.
#[derive(Debug, Default, Clone, Copy)]
pub struct ElectionFrameCodec;

impl Decoder for ElectionFrameCodec {
    type Item = Vec<u8>;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Vec<u8>>, std::io::Error> {
        match decode_election_frame(src).map_err(invalid)? {
            Some((payload, used)) => {
                let payload = payload.to_vec();
                src.advance(used);
                Ok(Some(payload))
            }
            None => Ok(None),
        }
    }
}

impl Encoder<&[u8]> for ElectionFrameCodec {
    type Error = std::io::Error;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), std::io::Error> {
        if payload.is_empty() || payload.len() > MAX_ELECTION_FRAME {
            return Err(invalid(WireError::BadLength {
                reading: "outgoing election frame",
                len: payload.len() as i64,
                max: MAX_ELECTION_FRAME,
            }));
        }
        dst.reserve(4 + payload.len());
        dst.put_i32(payload.len() as i32);
        dst.put_slice(payload);
        Ok(())
    }
}

/// Quorum packets, back to back, each length judged against `limit`.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuorumPacketCodec {
    pub limit: PacketLimit,
}

impl Decoder for QuorumPacketCodec {
    type Item = QuorumPacket;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<QuorumPacket>, std::io::Error> {
        match decode_quorum_packet(src, self.limit).map_err(invalid)? {
            Some((packet, used)) => {
                src.advance(used);
                Ok(Some(packet))
            }
            None => Ok(None),
        }
    }
}

impl Encoder<&QuorumPacket> for QuorumPacketCodec {
    type Error = std::io::Error;

    fn encode(&mut self, packet: &QuorumPacket, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        dst.extend_from_slice(&encode_quorum_packet(packet));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::wire::packet::{packet, PacketType};

    #[test]
    fn packets_split_anywhere_come_out_whole() {
        let packets = [
            packet(PacketType::Ping, 7, None),
            packet(PacketType::Proposal, 8, Some(vec![1, 2, 3])),
        ];
        let mut wire = BytesMut::new();
        let mut codec = QuorumPacketCodec::default();
        for p in &packets {
            codec.encode(p, &mut wire).unwrap();
        }
        for cut in 0..wire.len() {
            let mut src = BytesMut::from(&wire[..cut]);
            let mut out = Vec::new();
            while let Some(p) = codec.decode(&mut src).unwrap() {
                out.push(p);
            }
            src.extend_from_slice(&wire[cut..]);
            while let Some(p) = codec.decode(&mut src).unwrap() {
                out.push(p);
            }
            assert_eq!(out, packets, "cut at {cut}");
            assert!(src.is_empty());
        }
    }

    #[test]
    fn frames_and_refusals() {
        let mut codec = ElectionFrameCodec;
        let mut wire = BytesMut::new();
        codec.encode(&b"vote"[..], &mut wire).unwrap();
        assert_eq!(&wire[..], &[0, 0, 0, 4, b'v', b'o', b't', b'e']);
        assert_eq!(codec.decode(&mut wire).unwrap(), Some(b"vote".to_vec()));
        assert!(codec.encode(&b""[..], &mut wire).is_err());
        let mut bad = BytesMut::from(&(-1i32).to_be_bytes()[..]);
        let e = codec.decode(&mut bad).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        // type 2, zxid 1, data length 0x7f000000: refused before any data arrives.
        let mut huge = BytesMut::new();
        huge.put_i32(2);
        huge.put_i64(1);
        huge.put_i32(0x7f00_0000);
        assert!(QuorumPacketCodec::default().decode(&mut huge).is_err());
    }
}
