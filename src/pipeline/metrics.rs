//! Summaries and counters behind `mntr` (ZooKeeper's `ServerMetrics`).
//!
//! Everything here is owned by the core task, so updates are plain field
//! writes: O(1), no locks, no atomics. Which ZooKeeper metric each field
//! stands for, and why the others are constant, is in `mntr.rs`.

use hashbrown::HashMap;

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
/// at most 2 KiB of samples.
pub const SET_RESERVOIR_SIZE: usize = 256;

/// Most keys (top-level znodes) a per-namespace summary set tracks. Java
/// keeps every name ever written, for the life of the process; here the
/// least recently used key makes room for a new one, so the sets' memory
/// depends on this bound, not on how many names clients have used.
pub const MAX_NAMESPACES: usize = 1024;

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
            // Grown as samples come: a key with a handful of samples (most
            // namespaces) holds a handful of words, not the whole reservoir.
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

    /// The unrounded median of the reservoir (`/metrics` of a basic
    /// summary); NaN when empty. Linear in the reservoir: a scrape asks
    /// this of every key of the per-namespace sets.
    pub fn median(&self) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let mut scratch = self.samples.clone();
        quantile_f64_unsorted(&mut scratch, 0.5)
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

/// [`quantile_f64`] of a non-empty sample in any order, found by selection
/// (linear) rather than by sorting; `sample` is reordered.
fn quantile_f64_unsorted(sample: &mut [u64], q: f64) -> f64 {
    let n = sample.len();
    let pos = q * (n as f64 + 1.0);
    let index = pos as usize;
    if index < 1 {
        return sample.iter().copied().min().unwrap_or(0) as f64;
    }
    if index >= n {
        return sample.iter().copied().max().unwrap_or(0) as f64;
    }
    // sorted[index] is the selected element; sorted[index - 1] the largest
    // of those placed before it.
    let (below, upper, _) = sample.select_nth_unstable(index);
    let upper = *upper as f64;
    let lower = below.iter().copied().max().unwrap_or(0) as f64;
    lower + (pos - pos.floor()) * (upper - lower)
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

/// The end of [`SummarySet`]'s recency list.
const NIL: usize = usize::MAX;

/// One key of a [`SummarySet`].
#[derive(Debug, Clone)]
struct SetEntry {
    key: String,
    summary: PercentileSummary<SET_RESERVOIR_SIZE>,
    /// When the key (last) entered the set: the order Java's map saw keys.
    born: u64,
    /// Neighbours in the recency list (`NIL` at the ends).
    older: usize,
    newer: usize,
}

/// `AvgMinMaxCounterSet`: one [`Summary`] per key (the top-level znode, for
/// the per-namespace metrics), remembered in the order keys first appeared
/// (which decides where Java's map lists them). `srst` zeroes the summaries
/// and keeps the keys, as ZooKeeper does.
///
/// At most [`MAX_NAMESPACES`] keys are kept: a new key over the bound
/// replaces the least recently updated one (O(1), through a recency list
/// threaded through the entries). With the Prometheus provider each key
/// also keeps a small sample reservoir, since Java then exports each key's
/// median (`read_per_namespace{key="x",quantile="0.5"}`); without it (Java's
/// default provider prints no quantile) no samples are kept at all.
#[derive(Debug, Clone)]
pub struct SummarySet {
    entries: Vec<SetEntry>,
    index: HashMap<String, usize>,
    /// Least and most recently updated entries.
    oldest: usize,
    newest: usize,
    next_born: u64,
    cap: usize,
    keep_samples: bool,
}

impl Default for SummarySet {
    fn default() -> Self {
        SummarySet::new(MAX_NAMESPACES, true)
    }
}

impl SummarySet {
    /// A set of at most `cap` keys (at least one), keeping a median's
    /// samples per key if `keep_samples`.
    pub fn new(cap: usize, keep_samples: bool) -> SummarySet {
        SummarySet {
            entries: Vec::new(),
            index: HashMap::new(),
            oldest: NIL,
            newest: NIL,
            next_born: 0,
            cap: cap.max(1),
            keep_samples,
        }
    }

    pub fn add(&mut self, key: &str, v: u64) {
        let i = match self.index.get(key) {
            Some(&i) => {
                self.unlink(i);
                i
            }
            None => self.insert(key),
        };
        self.link_newest(i);
        if let Some(e) = self.entries.get_mut(i) {
            if self.keep_samples {
                e.summary.add(v);
            } else {
                e.summary.summary.add(v);
            }
        }
    }

    /// A fresh entry for `key`, in a new slot or in the least recently
    /// used one's; not linked yet.
    fn insert(&mut self, key: &str) -> usize {
        let born = self.next_born;
        self.next_born += 1;
        let fresh = SetEntry {
            key: key.to_string(),
            summary: PercentileSummary::default(),
            born,
            older: NIL,
            newer: NIL,
        };
        let i = if self.entries.len() < self.cap {
            self.entries.push(fresh);
            self.entries.len() - 1
        } else {
            let victim = self.oldest;
            self.unlink(victim);
            let Some(slot) = self.entries.get_mut(victim) else {
                // Unreachable: a full set has an oldest entry.
                self.entries.push(fresh);
                return self.entries.len() - 1;
            };
            let old = std::mem::replace(slot, fresh);
            self.index.remove(&old.key);
            victim
        };
        self.index.insert(key.to_string(), i);
        i
    }

    fn unlink(&mut self, i: usize) {
        let Some(e) = self.entries.get(i) else { return };
        let (older, newer) = (e.older, e.newer);
        match self.entries.get_mut(older) {
            Some(o) => o.newer = newer,
            None => self.oldest = newer,
        }
        match self.entries.get_mut(newer) {
            Some(n) => n.older = older,
            None => self.newest = older,
        }
        if let Some(e) = self.entries.get_mut(i) {
            e.older = NIL;
            e.newer = NIL;
        }
    }

    fn link_newest(&mut self, i: usize) {
        let prev = self.newest;
        if let Some(p) = self.entries.get_mut(prev) {
            p.newer = i;
        } else {
            self.oldest = i;
        }
        if let Some(e) = self.entries.get_mut(i) {
            e.older = prev;
            e.newer = NIL;
        }
        self.newest = i;
    }

    /// Every key with its summary, in the order keys (last) appeared.
    pub fn in_order(&self) -> Vec<(&str, &PercentileSummary<SET_RESERVOIR_SIZE>)> {
        let mut by_birth: Vec<&SetEntry> = self.entries.iter().collect();
        by_birth.sort_unstable_by_key(|e| e.born);
        by_birth
            .into_iter()
            .map(|e| (e.key.as_str(), &e.summary))
            .collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn reset(&mut self) {
        self.entries
            .iter_mut()
            .for_each(|e| e.summary = PercentileSummary::default());
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

impl SyncReport {
    /// Folds a later report into this one, for reports the core takes as
    /// one: every batch is kept, and the slower flush and fsync stand for
    /// both (a sample of the worst rather than a sum no commit took).
    pub fn absorb(&mut self, later: SyncReport) {
        self.queued.extend(later.queued);
        self.flush_ms = self.flush_ms.max(later.flush_ms);
        self.fsync_ms = match (self.fsync_ms, later.fsync_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
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
    /// An ensemble member's part of the registry, counted where Java
    /// counts it (`pipeline/ensemble/`); a standalone server never adds to it.
    pub quorum: QuorumMetrics,
    // summary sets
    pub read_per_namespace: SummarySet,
    pub write_per_namespace: SummarySet,
}

/// The quorum-only metrics of ZooKeeper's registry (`ServerMetrics`), each
/// at the event Java counts it at.
#[derive(Debug, Clone, Default)]
pub struct QuorumMetrics {
    /// Leader: proposals made (`Leader.propose`).
    pub proposal_count: u64,
    /// Leader: proposals committed (`Leader.commit`).
    pub commit_count: u64,
    /// Follower, broadcasting: PROPOSALs and COMMITs received (`Follower.processPacket`).
    pub learner_proposal_received_count: u64,
    pub learner_commit_received_count: u64,
    /// Times the member started looking for a leader (`QuorumPeer.run`).
    pub looking_count: u64,
    /// Leader: learners synced by SNAP, and by DIFF or TRUNC (`LearnerHandler.syncFollower`).
    pub snap_count: u64,
    pub diff_count: u64,
    /// Leader: REVALIDATEs received from learners.
    pub revalidate_count: u64,
    /// ms from starting to look until following or leading.
    pub election_time: PercentileSummary,
    /// Follower: ms from finding the leader to the end of its sync.
    pub follower_sync_time: PercentileSummary,
    /// ms from starting to look until serving again, and that on a leader.
    pub unavailable_time: PercentileSummary,
    pub leader_unavailable_time: PercentileSummary,
    /// Leader: ms from a txn's creation to its quorum of ACKs.
    pub quorum_ack_latency: PercentileSummary,
    /// Follower: ms from a txn's creation to its PROPOSAL arriving, and to its COMMIT.
    pub proposal_latency: PercentileSummary,
    pub commit_propagation_latency: PercentileSummary,
    /// Every member: ms from a txn's creation to its ACK, made once it is
    /// logged (Java's AckRequestProcessor on the leader, SendAckRequestProcessor
    /// on a follower).
    pub proposal_ack_creation_latency: PercentileSummary,
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
        // An fsync counts even when no hand-over it covered was timed (an
        // ensemble's persistence commands carry no hand-over instant).
        if let Some(ms) = report.fsync_ms {
            self.fsynctime.add(ms);
        }
        let txns: usize = report.queued.iter().map(|(_, n)| n).sum();
        if txns == 0 {
            return;
        }
        self.sync_processor_batch_size.add(txns as u64);
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
    /// The per-namespace sets keep samples only for `prometheus`, the one
    /// provider that reports their medians.
    pub fn started(prometheus: bool) -> Metrics {
        let mut m = Metrics {
            read_per_namespace: SummarySet::new(MAX_NAMESPACES, prometheus),
            write_per_namespace: SummarySet::new(MAX_NAMESPACES, prometheus),
            ..Metrics::default()
        };
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
        let (_, r) = m.read_per_namespace.in_order()[0];
        assert_eq!(r.summary.total(), 12 + 5 + 68);
        assert_eq!(r.quantiles([0.5]), [85.0]);
        assert_eq!(r.median(), 85.0);
        let (_, w) = m.write_per_namespace.in_order()[0];
        assert_eq!(w.summary.total(), 17);
        m.reset();
        let (k, w) = m.write_per_namespace.in_order()[0];
        assert_eq!((k, w.summary.count()), ("fourlw", 0));
        assert!(w.quantiles([0.5])[0].is_nan());
        assert!(w.median().is_nan());
    }

    #[test]
    fn median_by_selection_is_the_sorted_one() {
        let mut p: PercentileSummary<64> = PercentileSummary::default();
        for n in 1..=40u64 {
            p.add((n * 7919) % 101);
            assert_eq!(p.median(), p.quantiles([0.5])[0], "after {n} samples");
        }
    }

    #[test]
    fn summary_sets_keep_the_most_recently_used_keys() {
        let mut set = SummarySet::new(3, true);
        for k in ["a", "b", "c"] {
            set.add(k, 1);
        }
        set.add("a", 2); // a is now the newest: b is the oldest
        set.add("d", 5);
        let keys: Vec<&str> = set.in_order().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "c", "d"], "b made room, first-seen order kept");
        let (_, a) = set.in_order()[0];
        assert_eq!((a.summary.count(), a.summary.total()), (2, 3));
        // A returning key starts afresh, as the newest.
        set.add("b", 9);
        let keys: Vec<&str> = set.in_order().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "d", "b"]);
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn a_churn_of_names_is_bounded_and_keeps_no_samples_without_prometheus() {
        let mut m = Metrics::started(false);
        for i in 0..(10 * MAX_NAMESPACES) {
            m.write_stat(&format!("/name{i}"), 10);
            m.write_stat(&format!("/name{i}"), 0);
        }
        assert_eq!(m.write_per_namespace.len(), MAX_NAMESPACES);
        let (k, s) = m.write_per_namespace.in_order()[MAX_NAMESPACES - 1];
        assert_eq!(k, format!("name{}", 10 * MAX_NAMESPACES - 1));
        assert_eq!(s.summary.count(), 2);
        assert!(s.median().is_nan(), "no reservoir without Prometheus");
        let mut p = Metrics::started(true);
        p.write_stat("/x", 10);
        assert_eq!(p.write_per_namespace.in_order()[0].1.median(), 12.0);
    }
}
