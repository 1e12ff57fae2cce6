//! Counters the four-letter words and (later) metrics report.

use std::time::Instant;

/// Per-connection counters (`cons`).
#[derive(Debug, Clone)]
pub struct ConnStats {
    pub established: Instant,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_op: i32,
}

impl ConnStats {
    pub fn new() -> Self {
        ConnStats {
            established: Instant::now(),
            packets_received: 0,
            packets_sent: 0,
            last_cxid: 0,
            last_zxid: 0,
            last_op: 0,
        }
    }
}

impl Default for ConnStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Server-wide counters (`srvr`, `stat`, `mntr`); reset by `srst`.
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub expired_sessions: u64,
}
