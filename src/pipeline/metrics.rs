//! Summaries and counters behind `mntr` (ZooKeeper's `ServerMetrics`).
//!
//! Everything here is owned by the core task, so updates are plain field
//! writes: O(1), no locks, no atomics. Which ZooKeeper metric each field
//! stands for, and why the others are constant, is in `mntr.rs`.

use std::collections::HashMap;

use crate::admin::java_fmt::round4_half_up;

/// `AvgMinMaxCounter`: count, sum, min, max of non-negative samples.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    count: u64,
    total: u64,
    /// Meaningful only when `count > 0`.
    min: u64,
    max: u64,
}

impl Summary {
    pub fn add(&mut self, v: u64) {
        if self.count == 0 || v < self.min {
            self.min = v;
        }
        if self.count == 0 || v > self.max {
            self.max = v;
        }
        self.count += 1;
        self.total = self.total.saturating_add(v);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// 0 when empty, like `getMin` (which maps Long.MAX_VALUE to 0).
    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min
        }
    }

    pub fn max(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.max
        }
    }

    /// `getAvg`: total / count rounded half-up to 4 decimals; 0 when empty.
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        round4_half_up(self.total as f64 / self.count as f64)
    }

    pub fn reset(&mut self) {
        *self = Summary::default();
    }
}

/// Reservoir size of ZooKeeper's `ResettableUniformReservoir`.
const RESERVOIR_SIZE: usize = 4096;

/// Reservoir size per key of the per-namespace summary sets: they only feed
/// Prometheus' median, and there is one per top-level znode, so each keeps
/// at most 8 KiB of samples.
pub const SET_RESERVOIR_SIZE: usize = 1024;

/// `AvgMinMaxPercentileCounter`: a [`Summary`] plus p50/p95/p99/p999 from a
/// uniform reservoir of `CAP` samples (Vitter's algorithm R, as ZooKeeper's
/// reservoir does). The reservoir is allocated on the first sample.
#[derive(Debug, Clone, Default)]
pub struct PercentileSummary<const CAP: usize = RESERVOIR_SIZE> {
    pub summary: Summary,
    samples: Vec<u64>,
    seen: u64,
    rng: u64,
}

impl<const CAP: usize> PercentileSummary<CAP> {
    pub fn add(&mut self, v: u64) {
        self.summary.add(v);
        self.seen += 1;
        if self.samples.len() < CAP {
            if self.samples.capacity() == 0 {
                self.samples.reserve_exact(CAP);
            }
            self.samples.push(v);
        } else {
            let r = self.next_random() % self.seen;
            if let Some(slot) = self.samples.get_mut(r as usize) {
                *slot = v;
            }
        }
    }

    /// xorshift64*: enough for sampling, and needs no shared state.
    fn next_random(&mut self) -> u64 {
        if self.rng == 0 {
            self.rng = 0x9E37_79B9_7F4A_7C15 ^ self.seen;
        }
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Unrounded quantiles of the reservoir (`/metrics`); NaN when empty,
    /// as Prometheus' client reports a summary without observations.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        qs.map(|q| {
            if sorted.is_empty() {
                f64::NAN
            } else {
                quantile_f64(&sorted, q)
            }
        })
    }

    /// p50, p95, p99, p999 as `Math.round(snapshot.getValue(q))` with
    /// Dropwizard's `UniformSnapshot` interpolation; 0 when empty.
    pub fn percentiles(&self) -> [i64; 4] {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        [0.5, 0.95, 0.99, 0.999].map(|q| quantile(&sorted, q))
    }
}

/// `UniformSnapshot.getValue(quantile)`, rounded like `Math.round`.
fn quantile(sorted: &[u64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    (quantile_f64(sorted, q) + 0.5).floor() as i64
}

/// `UniformSnapshot.getValue(quantile)` of a non-empty sorted sample.
fn quantile_f64(sorted: &[u64], q: f64) -> f64 {
    let n = sorted.len();
    let pos = q * (n as f64 + 1.0);
    let index = pos as usize;
    if index < 1 {
        sorted[0] as f64
    } else if index >= n {
        sorted[n - 1] as f64
    } else {
        let lower = sorted[index - 1] as f64;
        let upper = sorted[index] as f64;
        lower + (pos - pos.floor()) * (upper - lower)
    }
}

/// `AvgMinMaxCounterSet`: one [`Summary`] per key (the top-level znode, for
/// the per-namespace metrics), remembered in the order keys first appeared
/// (which decides where Java's map lists them). `srst` zeroes the summaries
/// and keeps the keys, as ZooKeeper does. Each key also keeps a small
/// sample reservoir: with the Prometheus provider Java exports each key's
/// median (`read_per_namespace{key="x",quantile="0.5"}`), a real number
/// once the key has samples.
#[derive(Debug, Clone, Default)]
pub struct SummarySet {
    entries: Vec<(String, PercentileSummary<SET_RESERVOIR_SIZE>)>,
    index: HashMap<String, usize>,
}

impl SummarySet {
    pub fn add(&mut self, key: &str, v: u64) {
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.entries
                    .push((key.to_string(), PercentileSummary::default()));
                self.index.insert(key.to_string(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        if let Some((_, s)) = self.entries.get_mut(i) {
            s.add(v);
        }
    }

    /// In the order keys first appeared.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &PercentileSummary<SET_RESERVOIR_SIZE>)> {
        self.entries.iter().map(|(k, s)| (k.as_str(), s))
    }

    pub fn reset(&mut self) {
        self.entries
            .iter_mut()
            .for_each(|(_, s)| *s = PercentileSummary::default());
    }
}

/// What one group commit of the sync stage reports back to the core.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Per batch the core handed over: (ms it waited for the sync stage, txns).
    pub queued: Vec<(u64, usize)>,
    /// ms from taking the group to its commit returning (append + commit).
    pub flush_ms: u64,
    /// ms the commit spent in fsync, when it fsynced (`fsynctime`).
    pub fsync_ms: Option<u64>,
}

/// The `ServerMetrics` FerroKeeper measures; `srst` resets them all.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    // counters
    pub bytes_received: u64,
    pub response_bytes: u64,
    pub watch_bytes: u64,
    pub connection_request_count: u64,
    pub connection_revalidate_count: u64,
    pub connection_drop_count: u64,
    pub prep_processor_request_queued: u64,
    pub sync_processor_request_queued: u64,
    pub stale_sessions_expired: u64,
    // basic summaries: mntr prints no percentiles for these, but Prometheus
    // exports their median, so they keep a sample reservoir too
    /// `fsynctime`: ms per fsync of the txn log.
    pub fsynctime: PercentileSummary,
    /// ms per snapshot, from the walk's start to the file's rename.
    pub snapshottime: PercentileSummary,
    /// Start-up: whole recovery, snapshot load, log replay (ms), txns replayed.
    pub dbinittime: PercentileSummary,
    pub startup_snap_load_time: PercentileSummary,
    pub startup_txns_load_time: PercentileSummary,
    pub startup_txns_loaded: PercentileSummary,
    /// Digest comparisons at recovery that disagreed.
    pub digest_mismatches_count: u64,
    pub node_created_watch_count: PercentileSummary,
    pub node_deleted_watch_count: PercentileSummary,
    pub node_changed_watch_count: PercentileSummary,
    pub node_children_watch_count: PercentileSummary,
    pub prep_processor_queue_size: PercentileSummary,
    pub prep_process_time: PercentileSummary,
    /// Prep's hand-off of a request to the next stage (0: same step).
    pub proposal_process_time: PercentileSummary,
    pub sync_processor_queue_size: PercentileSummary,
    pub sync_process_time: PercentileSummary,
    pub sync_processor_batch_size: PercentileSummary,
    // summaries with percentiles
    pub readlatency: PercentileSummary,
    pub updatelatency: PercentileSummary,
    pub propagation_latency: PercentileSummary,
    pub prep_processor_queue_time_ms: PercentileSummary,
    /// ms a request waited in the inbox (ZooKeeper's RequestThrottler queue).
    pub request_throttle_queue_time_ms: PercentileSummary,
    pub close_session_prep_time: PercentileSummary,
    pub sync_processor_queue_time_ms: PercentileSummary,
    pub sync_processor_queue_flush_time_ms: PercentileSummary,
    pub sync_processor_queue_and_flush_time_ms: PercentileSummary,
    // summary sets
    pub read_per_namespace: SummarySet,
    pub write_per_namespace: SummarySet,
}

/// `DataTree.STAT_OVERHEAD_BYTES`: what a read is charged on top of path and data.
const STAT_OVERHEAD_BYTES: u64 = 6 * 8 + 5 * 4;

/// `PathUtils.getTopNamespace`: `path.split("/")[1]` (Java's `split` drops
/// trailing empty strings), so `/a/b` is `a` and `/` has none.
fn top_namespace(path: &str) -> Option<&str> {
    let mut parts: Vec<&str> = path.split('/').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts.get(1).copied()
}

impl Metrics {
    /// `DataTree.updateReadStat`: path length + `bytes` + the stat overhead.
    pub fn read_stat(&mut self, path: &str, bytes: usize) {
        if let Some(ns) = top_namespace(path) {
            let total =
                crate::tree::path::java_length(path) as u64 + bytes as u64 + STAT_OVERHEAD_BYTES;
            self.read_per_namespace.add(ns, total);
        }
    }

    /// `DataTree.updateWriteStat`: path length + `bytes`.
    pub fn write_stat(&mut self, path: &str, bytes: usize) {
        if let Some(ns) = top_namespace(path) {
            let total = crate::tree::path::java_length(path) as u64 + bytes as u64;
            self.write_per_namespace.add(ns, total);
        }
    }

    /// Folds in one group commit's report.
    pub fn sync_done(&mut self, report: &SyncReport) {
        let txns: usize = report.queued.iter().map(|(_, n)| n).sum();
        if txns == 0 {
            return;
        }
        self.sync_processor_batch_size.add(txns as u64);
        if let Some(ms) = report.fsync_ms {
            self.fsynctime.add(ms);
        }
        self.sync_processor_queue_flush_time_ms.add(report.flush_ms);
        let mut behind = txns;
        for &(queued_ms, n) in &report.queued {
            for _ in 0..n {
                behind -= 1;
                // What was still queued when this txn was taken.
                self.sync_processor_queue_size.add(behind as u64);
                self.sync_processor_queue_time_ms.add(queued_ms);
                self.sync_process_time.add(report.flush_ms);
                self.sync_processor_queue_and_flush_time_ms
                    .add(queued_ms + report.flush_ms);
            }
        }
    }

    /// The metrics of a server that has just started. PrepRequestProcessor
    /// samples its queue size before each take, so once it waits for the
    /// first request it already holds one sample (0); from then on it has
    /// one more than requests taken (Java 3.8.0: 8 samples after 7 requests).
    pub fn started() -> Metrics {
        let mut m = Metrics::default();
        m.prep_processor_queue_size.add(0);
        m
    }

    /// `srst` (`ServerMetrics.resetAll`): per-namespace keys stay, zeroed.
    pub fn reset(&mut self) {
        let read = std::mem::take(&mut self.read_per_namespace);
        let write = std::mem::take(&mut self.write_per_namespace);
        *self = Metrics {
            read_per_namespace: read,
            write_per_namespace: write,
            ..Metrics::default()
        };
        self.read_per_namespace.reset();
        self.write_per_namespace.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_avg_min_max_counter() {
        let mut s = Summary::default();
        assert_eq!((s.min(), s.avg(), s.max(), s.count()), (0, 0.0, 0, 0));
        for v in [15, 0, 2, 1] {
            s.add(v);
        }
        assert_eq!((s.min(), s.max(), s.count(), s.total()), (0, 15, 4, 18));
        assert_eq!(s.avg(), 4.5);
        s.reset();
        assert_eq!(s.count(), 0);
    }

    #[test]
    fn percentiles_interpolate_like_uniform_snapshot() {
        let mut p: PercentileSummary = PercentileSummary::default();
        assert_eq!(p.percentiles(), [0, 0, 0, 0]);
        for v in [1, 1, 2, 10] {
            p.add(v);
        }
        // n=4: p50 pos 2.5 → 1 + .5*(2-1) = 1.5 → 2; p95 pos 4.75 → last → 10
        assert_eq!(p.percentiles(), [2, 10, 10, 10]);
        for v in 0..10_000 {
            p.add(v % 100);
        }
        assert_eq!(p.samples.len(), RESERVOIR_SIZE);
        assert_eq!(p.summary.count(), 10_004);
    }

    #[test]
    fn namespaces_are_the_first_component() {
        assert_eq!(top_namespace("/a/b"), Some("a"));
        assert_eq!(top_namespace("/a"), Some("a"));
        assert_eq!(top_namespace("/zookeeper/quota"), Some("zookeeper"));
        assert_eq!(top_namespace("/"), None);
        assert_eq!(top_namespace(""), None);
    }

    #[test]
    fn per_namespace_bytes_follow_data_tree() {
        let mut m = Metrics::default();
        m.read_stat("/fourlw/data", 5);
        m.write_stat("/fourlw/data", 5);
        m.write_stat("/", 0);
        let (_, r) = m.read_per_namespace.iter().next().unwrap();
        assert_eq!(r.summary.total(), 12 + 5 + 68);
        assert_eq!(r.quantiles([0.5]), [85.0]);
        let (_, w) = m.write_per_namespace.iter().next().unwrap();
        assert_eq!(w.summary.total(), 17);
        m.reset();
        let (k, w) = m.write_per_namespace.iter().next().unwrap();
        assert_eq!((k, w.summary.count()), ("fourlw", 0));
        assert!(w.quantiles([0.5])[0].is_nan());
    }
}
