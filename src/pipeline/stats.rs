//! Counters the four-letter words report (`ServerStats`, the per-connection
//! statistics of `ServerCnxn`); `metrics.rs` has the rest of `mntr`.

use super::metrics::Summary;

/// Per-connection counters (`cons`); reset by `crst`.
#[derive(Debug, Clone)]
pub struct ConnStats {
    pub established_wall_ms: i64,
    pub packets_received: u64,
    pub packets_sent: u64,
    /// -1 until a reply to a request with a real xid (pings don't count).
    pub last_cxid: i64,
    /// -1 until the first reply.
    pub last_zxid: i64,
    /// `lop`: ZooKeeper's short name of the last op answered ("NA" before).
    pub last_op: &'static str,
    /// `lresp`: when the last reply went out, ms on the core's clock.
    pub last_response_ms: u64,
    /// `llat`, `minlat`, `avglat`, `maxlat`.
    pub last_latency_ms: u64,
    pub latency: Summary,
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
            last_cxid: -1,
            last_zxid: -1,
            last_op: "NA",
            last_response_ms: 0,
            last_latency_ms: 0,
            latency: Summary::default(),
        }
    }

    /// `ServerCnxn.updateStatsForResponse`.
    pub fn response(
        &mut self,
        cxid: i32,
        zxid: i64,
        op: &'static str,
        latency_ms: u64,
        now_ms: u64,
    ) {
        if cxid >= 0 {
            self.last_cxid = i64::from(cxid);
        }
        self.last_zxid = zxid;
        self.last_op = op;
        self.last_response_ms = now_ms;
        self.last_latency_ms = latency_ms;
        self.latency.add(latency_ms);
    }

    /// `avglat`: integer division, as `ServerCnxn.getAvgLatency`.
    pub fn avg_latency(&self) -> u64 {
        match self.latency.count() {
            0 => 0,
            n => self.latency.total() / n,
        }
    }

    /// `crst`: counters restart, the connection's identity stays.
    pub fn reset(&mut self) {
        *self = ConnStats {
            established_wall_ms: self.established_wall_ms,
            ..ConnStats::new()
        };
    }
}

impl Default for ConnStats {
    fn default() -> Self {
        Self::new()
    }
}

/// `BufferStats`: sizes of the responses sent (`*_client_response_size`).
#[derive(Debug, Clone, Copy)]
pub struct BufferStats {
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

impl Default for BufferStats {
    /// -1 everywhere until the first response, as in ZooKeeper.
    fn default() -> Self {
        BufferStats {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl BufferStats {
    pub fn record(&mut self, size: usize) {
        let size = size as i64;
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        if size > self.max {
            self.max = size;
        }
    }
}

/// Server-wide counters (`srvr`, `stat`, `mntr`); reset by `srst`.
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    /// Every request's latency (`Latency min/avg/max`).
    pub latency: Summary,
    pub client_response: BufferStats,
    pub auth_failed: u64,
}

impl ServerStats {
    /// "min/avg/max" as `srvr` prints it.
    pub fn latency_summary(&self) -> String {
        format!(
            "{}/{}/{}",
            self.latency.min(),
            crate::admin::java_fmt::java_double(self.latency.avg()),
            self.latency.max()
        )
    }

    /// `srst` (`ServerStats.reset`): latency, packet counts and response
    /// sizes; the auth-failure count stays, as in ZooKeeper.
    pub fn reset(&mut self) {
        self.latency.reset();
        self.packets_received = 0;
        self.packets_sent = 0;
        self.client_response = BufferStats::default();
    }
}
