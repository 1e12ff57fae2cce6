//! Counters the four-letter words and (later) metrics report.

/// Per-connection counters (`cons`).
#[derive(Debug, Clone)]
pub struct ConnStats {
    pub established_wall_ms: i64,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_op: i32,
}

impl ConnStats {
    pub fn new() -> Self {
        ConnStats {
            established_wall_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            packets_received: 0,
            packets_sent: 0,
            last_cxid: 0,
            last_zxid: 0,
            last_op: 0,
        }
    }
}

impl ConnStats {
    /// `crst`: counters restart, the connection's identity stays.
    pub fn reset(&mut self) {
        self.packets_received = 0;
        self.packets_sent = 0;
        self.last_cxid = 0;
        self.last_zxid = 0;
        self.last_op = 0;
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
    pub latency_count: u64,
    pub latency_total_ms: u64,
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
}

impl ServerStats {
    pub fn record_latency(&mut self, ms: u64) {
        if self.latency_count == 0 || ms < self.latency_min_ms {
            self.latency_min_ms = ms;
        }
        self.latency_max_ms = self.latency_max_ms.max(ms);
        self.latency_total_ms += ms;
        self.latency_count += 1;
    }

    /// (min, avg, max) in ms, 0 when nothing was measured.
    pub fn latency(&self) -> (u64, f64, u64) {
        if self.latency_count == 0 {
            return (0, 0.0, 0);
        }
        (
            self.latency_min_ms,
            self.latency_total_ms as f64 / self.latency_count as f64,
            self.latency_max_ms,
        )
    }

    /// "min/avg/max" as `srvr` prints it.
    pub fn latency_summary(&self) -> String {
        let (min, avg, max) = self.latency();
        format!("{min}/{avg:.4}/{max}")
    }

    /// `srst`.
    pub fn reset(&mut self) {
        *self = ServerStats::default();
    }
}
