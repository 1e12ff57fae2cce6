//! FastLeaderElection notifications (`FastLeaderElection.buildMsg`, read by
//! `WorkerReceiver.run`).
//!
//! Current layout, 44 + n bytes: int32 state, int64 leader, int64 zxid,
//! int64 electionEpoch, int64 peerEpoch, int32 version (2), int32 n, n bytes
//! of config text. Readers also accept the 28-byte form of servers before
//! ZOOKEEPER-107 (no peerEpoch: it is the zxid's epoch) and the 40-byte form
//! before 3.4.6 (no version). The config is read only when version > 1.

use super::cursor::{checked_len, Cursor};
use super::error::WireError;

/// `Notification.CURRENTVERSION`.
pub const NOTIFICATION_VERSION: i32 = 2;
/// The shortest notification any ZooKeeper sends.
pub const MIN_NOTIFICATION_LEN: usize = 28;

/// `QuorumPeer.ServerState` as numbered on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

impl PeerState {
    pub fn from_wire(v: i32) -> Option<Self> {
        Some(match v {
            0 => PeerState::Looking,
            1 => PeerState::Following,
            2 => PeerState::Leading,
            3 => PeerState::Observing,
            _ => return None,
        })
    }
}

/// The three layouts a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationLayout {
    /// 28 bytes: state, leader, zxid, electionEpoch.
    Legacy28,
    /// 40 bytes: adds peerEpoch (36 bytes written, 4 zero bytes after).
    Legacy40,
    /// 44 + n bytes: adds version and (if version > 1) the config.
    Versioned,
}

/// One vote as sent between election peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub state: PeerState,
    /// Proposed (LOOKING) or elected leader's sid.
    pub leader: i64,
    /// Proposed leader's last logged zxid.
    pub zxid: i64,
    /// The sender's logical clock (election round).
    pub election_epoch: i64,
    /// Proposed leader's current epoch.
    pub peer_epoch: i64,
    /// 0 for the legacy layouts.
    pub version: i32,
    /// The sender's config text (`QuorumVerifier.toString()` as UTF-8);
    /// `None` unless version > 1.
    pub config: Option<Vec<u8>>,
}

impl Notification {
    /// A notification in the current layout, version 2.
    pub fn new(
        state: PeerState,
        leader: i64,
        zxid: i64,
        election_epoch: i64,
        peer_epoch: i64,
        config: Vec<u8>,
    ) -> Self {
        Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            version: NOTIFICATION_VERSION,
            config: Some(config),
        }
    }

    /// The bytes `buildMsg` writes (the frame payload).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(NotificationLayout::Versioned)
    }

    /// The bytes of one of the accepted layouts (older layouts drop fields).
    pub fn encode_as(&self, layout: NotificationLayout) -> Vec<u8> {
        let config = self.config.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(44 + config.len());
        out.extend_from_slice(&(self.state as i32).to_be_bytes());
        out.extend_from_slice(&self.leader.to_be_bytes());
        out.extend_from_slice(&self.zxid.to_be_bytes());
        out.extend_from_slice(&self.election_epoch.to_be_bytes());
        if layout == NotificationLayout::Legacy28 {
            return out;
        }
        out.extend_from_slice(&self.peer_epoch.to_be_bytes());
        if layout == NotificationLayout::Legacy40 {
            // 3.4.0–3.4.5 allocated 40 bytes and wrote 36; the rest stays zero.
            out.extend_from_slice(&[0; 4]);
            return out;
        }
        out.extend_from_slice(&self.version.to_be_bytes());
        let len = i32::try_from(config.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(config);
        out
    }

    /// Decodes a whole frame payload as `WorkerReceiver` does. Every case
    /// Java skips ("short response", buffer underflow, bad config length,
    /// unknown state) is an error here; bytes after the config are ignored,
    /// as in Java.
    pub fn decode(payload: &[u8]) -> Result<Notification, WireError> {
        let capacity = payload.len();
        let layout = match capacity {
            28 => NotificationLayout::Legacy28,
            40 => NotificationLayout::Legacy40,
            n if n >= 44 => NotificationLayout::Versioned,
            n => return Err(WireError::BadNotificationLength(n)),
        };
        let mut c = Cursor::new(payload);
        let state = c.i32("notification state")?;
        let leader = c.i64("notification leader")?;
        let zxid = c.i64("notification zxid")?;
        let election_epoch = c.i64("notification electionEpoch")?;
        let (peer_epoch, version) = match layout {
            NotificationLayout::Legacy28 => (zxid >> 32, 0),
            NotificationLayout::Legacy40 => (c.i64("notification peerEpoch")?, 0),
            NotificationLayout::Versioned => (
                c.i64("notification peerEpoch")?,
                c.i32("notification version")?,
            ),
        };
        let config = if version > 1 {
            let len = c.i32("notification config length")?;
            let len = checked_len(len, capacity, "notification config")?;
            Some(c.take(len, "notification config")?.to_vec())
        } else {
            None
        };
        let state = PeerState::from_wire(state).ok_or(WireError::UnknownState(state))?;
        Ok(Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            version,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification::new(
            PeerState::Following,
            2,
            0x1_0000_0005,
            7,
            1,
            b"server.1=a:1:2:participant\nversion=0".to_vec(),
        )
    }

    #[test]
    fn versioned_bytes_match_build_msg() {
        let n = sample();
        let b = n.encode();
        let cfg = n.config.as_deref().unwrap();
        assert_eq!(b.len(), 44 + cfg.len());
        assert_eq!(&b[0..4], &[0, 0, 0, 1]);
        assert_eq!(&b[4..12], &[0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(&b[12..20], &[0, 0, 0, 1, 0, 0, 0, 5]);
        assert_eq!(&b[20..28], &[0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(&b[28..36], &[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&b[36..40], &[0, 0, 0, 2]);
        assert_eq!(&b[40..44], &(cfg.len() as i32).to_be_bytes());
        assert_eq!(&b[44..], cfg);
        assert_eq!(Notification::decode(&b).unwrap(), n);
    }

    #[test]
    fn legacy_layouts() {
        let n = sample();
        let b28 = n.encode_as(NotificationLayout::Legacy28);
        assert_eq!(b28.len(), 28);
        let d = Notification::decode(&b28).unwrap();
        assert_eq!((d.peer_epoch, d.version, d.config), (1, 0, None));
        let mut n2 = n.clone();
        n2.peer_epoch = 9;
        let b40 = n2.encode_as(NotificationLayout::Legacy40);
        assert_eq!(b40.len(), 40);
        let d = Notification::decode(&b40).unwrap();
        assert_eq!((d.peer_epoch, d.version, d.config), (9, 0, None));
        // Version 1 (3.4.6 – 3.4.x): 44 bytes read, no config even if one follows.
        let mut v1 = n.clone();
        v1.version = 1;
        let d = Notification::decode(&v1.encode()).unwrap();
        assert_eq!((d.version, d.config), (1, None));
    }

    #[test]
    fn refusals() {
        let b = sample().encode();
        for n in (0..28).chain(29..40).chain(41..44) {
            assert_eq!(
                Notification::decode(&b[..n]),
                Err(WireError::BadNotificationLength(n))
            );
        }
        // Config cut short.
        assert!(matches!(
            Notification::decode(&b[..b.len() - 1]),
            Err(WireError::Truncated { .. })
        ));
        // Config length beyond the message or negative.
        for len in [-1i32, b.len() as i32 + 1, i32::MAX] {
            let mut bad = b.clone();
            bad[40..44].copy_from_slice(&len.to_be_bytes());
            assert!(matches!(
                Notification::decode(&bad),
                Err(WireError::BadLength { .. }) | Err(WireError::Truncated { .. })
            ));
        }
        let mut bad = b.clone();
        bad[0..4].copy_from_slice(&4i32.to_be_bytes());
        assert_eq!(Notification::decode(&bad), Err(WireError::UnknownState(4)));
        // Bytes after the config are ignored, as Java ignores them.
        let mut extra = b.clone();
        extra.extend_from_slice(b"xx");
        assert_eq!(Notification::decode(&extra).unwrap(), sample());
    }
}
