//! `mntr`: the key set and order of Debian's Java ZooKeeper 3.8.0 running
//! standalone (captured in `compat-tests/fourletter/java-3.8.0/mntr.txt`),
//! with FerroKeeper's own values.
//!
//! ZooKeeper prints `zk_version` and `zk_server_state`, then its metrics
//! registry: gauges, gauge sets, counters, counter sets, basic summaries
//! (`avg_/min_/max_/cnt_/sum_`), summaries with percentiles (plus
//! `p50_/p95_/p99_/p999_`), basic summary sets, summary sets — each group in
//! `ConcurrentHashMap` order, which the arrays below reproduce verbatim.
//! Keys that only exist at run time (per namespace) are ordered with
//! [`concurrent_hash_map_order`].
//!
//! Every key is kept. Each one is either measured (M) or a constant that is
//! true of FerroKeeper (C), because the event it counts cannot happen here or
//! the machinery it times does not exist here (a summary with no samples
//! prints 0s, as ZooKeeper's does):
//!
//! | key | | FerroKeeper's value |
//! |---|---|---|
//! | version, server_state | M | version line; `standalone`, or an ensemble member's role from [`QuorumStatus`](super::quorum_status::QuorumStatus), which also brings `peer_state` after it |
//! | quorum_size; the leader's learners, synced_followers, synced_non_voting_followers, synced_observers, pending_syncs, leader_uptime, last/min/max_proposal_size | M | gauges registered only on a member (the leader's only on the leader), from `QuorumStatus`; listed in the registry's map order among the others |
//! | ephemerals_count, znode_count, watch_count, approximate_data_size, global_sessions | M | the tree, watch table and session tracker |
//! | num_alive_connections | M | client connections, plus the one asking (ZooKeeper counts it too) |
//! | avg/min/max_latency | M | every request's latency, from the read off the socket to the reply |
//! | outstanding_requests | M | requests in the core's FIFO, not yet answered |
//! | packets_sent / packets_received | M | replies, notifications, connect responses / requests, connects, 4lw words |
//! | last/min/max_client_response_size | M | size of each reply and notification (header + body); -1 before the first |
//! | auth_failed_count | M | failed addauth |
//! | open/max_file_descriptor_count | M | entries of /proc/self/fd; soft "Max open files" of /proc/self/limits |
//! | uptime | M | ms since the server started |
//! | local_sessions | C 0 | no local sessions (standalone, all sessions are global) |
//! | connection_drop_probability | M | the connection throttle's random-drop chance (0 unless `connection_throttle_freeze_time` is set) |
//! | outstanding_tls_handshake, non_mtls_remote/local_conn_count | C 0 | no TLS port |
//! | quota_{count,bytes}_{limit,usage}_per_namespace (gauge sets) | M | from the /zookeeper/quota subtree, as `QuotaMetricsUtils` reads it |
//! | watch_bytes, response_bytes | M | bytes of notifications / of replies (header + body) |
//! | bytes_received_count | M | bytes read: requests and connects with their length prefix, 4 per 4lw word |
//! | connection_request_count, connection_revalidate_count | M | ConnectRequests; those re-attaching a session |
//! | connection_drop_count | M | connections the client ended (EOF or read error) rather than the server |
//! | prep_processor_request_queued | M | requests that entered prep: every request but addauth, and ConnectRequests that create a session |
//! | outstanding_changes_queued / _removed | M | change records added in prep / dropped once applied |
//! | sync_processor_request_queued | M | txns handed to the sync stage (reads never go there, unlike ZooKeeper's SyncRequestProcessor) |
//! | stale_sessions_expired | M | sessions expired by the session tracker |
//! | proposal_count, commit_count, diff_count, snap_count, looking_count, revalidate_count, learner_proposal/commit_received_count | C 0 / M | quorum only: 0 standalone; on a member, counted where Java counts them (`QuorumMetrics`) |
//! | quit_leading_due_to_disloyal_voter, ensemble_auth_success/fail/skip, request_commit_queued, requests_not_forwarded_to_commit_processor, skip_learner_request_to_next_processor_count | C 0 | quorum only, and nothing here does what they count (reconfig's disloyal voters, quorum SASL, the CommitProcessor's queues) |
//! | stale_requests_dropped, request_throttle_wait_count | M | requests dropped as stale by the request throttler; times a request waited there |
//! | throttled_ops | M | requests answered THROTTLEDOP after waiting at the request throttler longer than `zookeeper.throttled_op_wait_time` |
//! | stale_requests, stale_replies | C 0 | stale requests are either dropped or not counted |
//! | large_requests_rejected | M | connections closed because a request over `zookeeper.largeRequestThreshold` would take the large bytes in process over `largeRequestMaxBytes` (at the length check and again once the frame is whole, as ZooKeeper counts both); frames over jute.maxbuffer are not counted here, as in ZooKeeper |
//! | connection_rejected | M | connections refused by maxClientCnxns, maxCnxns or the connection throttle (NIOServerCnxnFactory.doAccept and ClientCnxnLimitException count all three) |
//! | sessionless_connections_expired | M | connections closed for sending no ConnectRequest within `zookeeper.nio.sessionlessCnxnTimeout` |
//! | cnxn_closed_without_zk_server_running, unsuccessful_handshake, tls_handshake_exceeded, insecure_admin_count | C 0 | Netty/TLS/AdminServer only |
//! | dead_watchers_queued/cleared, add_dead_watcher_stall_time | C 0 | watches of a closed connection are removed at once; no dead-watcher cleaner |
//! | response_packet_cache_hits/misses, response_packet_get_children_cache_hits/misses | C 0 | no serialized-response cache |
//! | digest_mismatches_count | M | digest comparisons at recovery that disagreed (no quorum, so none later) |
//! | unrecoverable_error_count | C 0 | a failing txn log stops the server instead |
//! | node_{created,deleted,changed,children}_watch_count | M | watchers triggered per event that triggered any (a delete samples once, data and child watchers together) |
//! | prep_processor_queue_size / prep_processor_queue_time_ms | M | messages still in the core's inbox when a request is taken / ms a request waited there |
//! | prep_process_time, close_session_prep_time | M | ms in prep per request / per closeSession, read once per pass of the core loop: prep takes microseconds, so 0 |
//! | readlatency, updatelatency | M | latency of requests answered without / through a txn |
//! | propagation_latency | M | wall-clock ms from a txn's header time to its application |
//! | sync_processor_batch_size, sync_processor_queue_flush_time_ms | M | txns per group commit; ms per group commit (append + commit) |
//! | sync_processor_queue_size, sync_processor_queue_time_ms, sync_process_time, sync_processor_queue_and_flush_time_ms | M | per txn: txns still queued behind it when its group was taken, ms its batch waited, ms of its group commit, both together |
//! | fsynctime | M | ms per txn log fsync (none with the in-memory log or forceSync=no) |
//! | snapshottime, dbinittime, startup_snap_load_time, startup_txns_loaded, startup_txns_load_time | M | snapshot durations, the start-up snapshot included (ZooKeeper's loadData takes one); recovery at start, startup_txns_* only when a snapshot (or trusted logs) was found, as FileTxnSnapLog.restore (no samples when nothing is persisted) |
//! | proposal_process_time | M | per request, as ZooKeeper: prep's hand-off to the next stage, which FerroKeeper's prep does in the same step, so 0 |
//! | request_throttle_queue_time_ms | M | ms each request waited in the core's inbox, which stands for RequestThrottler's queue as well as prep's |
//! | connection_token_deficit | C no samples | no connection throttle |
//! | session_queues_drained, requests_in_session_queue, pending_session_queue_size, reads_after_write_in_session_queue, reads_issued_from_session_queue, read/write/commit_commit_proc_req_queued, read/write_commit_proc_issued, concurrent_request_processing_in_commit_processor, time_waiting_empty_pool_in_commit_processor_read_ms, write_batch_time_in_commit_processor, commit_process_time, read/write_commitproc_time_ms, local/server_write_committed_time_ms, read/write_final_proc_time_ms | C no samples | CommitProcessor, which standalone servers do not run (ZooKeeper's are 0 too) |
//! | leader_unavailable_time, unavailable_time, election_time, follower_sync_time, quorum_ack_latency, proposal_latency, commit_propagation_latency, proposal_ack_creation_latency | C no samples / M | quorum only: none standalone; on a member, sampled where Java samples them (`QuorumMetrics`) |
//! | observer_sync_time, inflight_snap/diff_count, learner_request_processor_queue_size, socket_closing_time, om_proposal/commit_process_time_ms | C no samples | quorum only: observers and the observer master are not built; no sync throttler |
//! | netty_queued_buffer_capacity | C no samples | Netty only |
//! | jvm_pause_time_ms | C no samples | no JVM, no GC pauses |
//! | dead_watchers_cleaner_latency | C no samples | no dead-watcher cleaner |
//! | read_per_namespace, write_per_namespace (summary sets) | M | bytes per read/write by top-level znode, as `DataTree.updateReadStat`/`updateWriteStat` count them |
//! | quota_exceeded_error_per_namespace (counter set) | C no keys | hard quotas are not enforced, so none is ever exceeded |
//! | learner_handler_qp_size/time_ms (summary sets) | M | on the leader, one key per learner sid (`LearnerStatus`); none elsewhere |
//! | ack_latency (summary set) | C no keys | Java 3.8.0's leader printed none either |
//!
//! After Java's keys come FerroKeeper's own, which Java has no key for, all
//! named `zk_ferrokeeper_*` (see [`MetricsView::own_counters`]):
//!
//! | key | | FerroKeeper's value |
//! |---|---|---|
//! | ferrokeeper_outbox_overflows | M | connections closed because a watch event found their outbox over twice its bound (replies never do: they pause reading instead) |

use std::fmt::Write as _;

use super::core::Core;
use super::metrics::{PercentileSummary, Summary};
use crate::admin::java_fmt::{concurrent_hash_map_order, java_double};
use crate::admin::VERSION_LINE;
use crate::tree::{DataTree, StatsTrack, LIMIT_NODE, QUOTA_ZOOKEEPER, STAT_NODE};

const GAUGES: [&str; 24] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_client_response_size",
    "connection_drop_probability",
    "watch_count",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "min_client_response_size",
    "non_mtls_local_conn_count",
];
/// `ZooKeeperServer.registerMetrics`' gauges in registration order; the
/// map's order of them is [`GAUGES`].
const GAUGE_REGISTRATION: [&str; 24] = [
    "avg_latency",
    "max_latency",
    "min_latency",
    "packets_received",
    "packets_sent",
    "num_alive_connections",
    "outstanding_requests",
    "uptime",
    "znode_count",
    "watch_count",
    "ephemerals_count",
    "approximate_data_size",
    "global_sessions",
    "local_sessions",
    "open_file_descriptor_count",
    "max_file_descriptor_count",
    "connection_drop_probability",
    "last_client_response_size",
    "max_client_response_size",
    "min_client_response_size",
    "outstanding_tls_handshake",
    "auth_failed_count",
    "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
];
/// `QuorumZooKeeperServer.registerMetrics` adds this gauge on every member...
const QUORUM_GAUGES: [&str; 1] = ["quorum_size"];
/// ... and `LeaderZooKeeperServer.registerMetrics` these on the leader, in
/// this order (both after [`GAUGE_REGISTRATION`]).
const LEADER_GAUGES: [&str; 9] = [
    "learners",
    "synced_followers",
    "synced_non_voting_followers",
    "synced_observers",
    "pending_syncs",
    "leader_uptime",
    "last_proposal_size",
    "max_proposal_size",
    "min_proposal_size",
];
const COUNTERS: [&str; 47] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
];
const BASIC_SUMMARIES: [&str; 41] = [
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
];
const SUMMARIES: [&str; 23] = [
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

/// A gauge's value: Java prints integers as they are and other numbers
/// with `Double.toString`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(i64),
    Double(f64),
}

impl Value {
    /// As Prometheus' client holds every value: a double.
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Double(v) => v,
        }
    }
}

/// One summary's numbers at one moment.
#[derive(Debug, Clone)]
pub struct SummaryView {
    pub avg: f64,
    pub min: u64,
    pub max: u64,
    pub count: u64,
    pub sum: u64,
    /// mntr's p50/p95/p99/p999 (summaries with percentiles only).
    pub percentiles: Option<[i64; 4]>,
    /// Prometheus' quantiles: 0.5 for a basic summary, 0.5/0.9/0.99 for
    /// one with percentiles; NaN while the summary has no sample.
    pub quantiles: Vec<(f64, f64)>,
}

impl SummaryView {
    /// A summary with no sample yet.
    pub fn empty(with_percentiles: bool) -> SummaryView {
        SummaryView {
            avg: 0.0,
            min: 0,
            max: 0,
            count: 0,
            sum: 0,
            percentiles: with_percentiles.then_some([0; 4]),
            quantiles: if with_percentiles {
                vec![(0.5, f64::NAN), (0.9, f64::NAN), (0.99, f64::NAN)]
            } else {
                vec![(0.5, f64::NAN)]
            },
        }
    }

    fn of_basic<const CAP: usize>(s: &PercentileSummary<CAP>) -> SummaryView {
        let [q50] = s.quantiles([0.5]);
        SummaryView {
            percentiles: None,
            quantiles: vec![(0.5, q50)],
            ..SummaryView::of_summary(&s.summary)
        }
    }

    /// A per-namespace key's: [`Self::of_basic`] with a median found in
    /// linear time.
    fn of_set_entry<const CAP: usize>(s: &PercentileSummary<CAP>) -> SummaryView {
        SummaryView {
            percentiles: None,
            quantiles: vec![(0.5, s.median())],
            ..SummaryView::of_summary(&s.summary)
        }
    }

    fn of_advanced(s: &PercentileSummary) -> SummaryView {
        let [q50, q90, q99] = s.quantiles([0.5, 0.9, 0.99]);
        SummaryView {
            percentiles: Some(s.percentiles()),
            quantiles: vec![(0.5, q50), (0.9, q90), (0.99, q99)],
            ..SummaryView::of_summary(&s.summary)
        }
    }

    /// The `AvgMinMaxCounter` part; the median is left unknown (NaN) for
    /// the callers above to fill in.
    fn of_summary(s: &Summary) -> SummaryView {
        SummaryView {
            avg: s.avg(),
            min: s.min(),
            max: s.max(),
            count: s.count(),
            sum: s.total(),
            percentiles: None,
            quantiles: vec![(0.5, f64::NAN)],
        }
    }
}

/// Every metric of ZooKeeper's registry with FerroKeeper's values, grouped
/// and ordered as `mntr` prints them. `mntr`, the AdminServer's `monitor`
/// and Prometheus' `/metrics` are all made from one of these, so they agree.
#[derive(Debug, Clone, Default)]
pub struct MetricsView {
    pub version: &'static str,
    pub server_state: &'static str,
    /// An ensemble member's `QuorumPeer.getDetailedPeerState`, which
    /// `QuorumZooKeeperServer.dumpMonitorValues` adds after server_state
    /// (`mntr` and `monitor` only: it is no metric).
    pub peer_state: Option<String>,
    pub gauges: Vec<(&'static str, Value)>,
    /// Per-namespace gauges (label `key`).
    pub gauge_sets: Vec<(&'static str, Vec<(String, i64)>)>,
    pub counters: Vec<(&'static str, u64)>,
    /// Counter sets; none ever has a key here (see the table).
    pub counter_sets: Vec<&'static str>,
    pub basic_summaries: Vec<(&'static str, SummaryView)>,
    /// Summaries with percentiles (ZooKeeper's `DetailLevel.ADVANCED`).
    pub summaries: Vec<(&'static str, SummaryView)>,
    /// Basic summary sets, per key, in map order.
    pub basic_summary_sets: Vec<(&'static str, Vec<(String, SummaryView)>)>,
    /// Summary sets with percentiles, per key, in map order (the leader's
    /// `learner_handler_qp_time_ms`, by learner sid).
    pub summary_sets: Vec<(&'static str, Vec<(String, SummaryView)>)>,
    /// FerroKeeper's own counters, which Java ZooKeeper has no key for.
    /// The rule for them: each is named `ferrokeeper_*` (so `zk_ferrokeeper_*`
    /// in `mntr`), and is listed after every key Java prints, in `mntr`,
    /// `monitor` and `/metrics` alike, so a tool written against Java's key
    /// set meets Java's keys first and can drop the rest by their prefix.
    pub own_counters: Vec<(&'static str, u64)>,
}

/// FerroKeeper's own counters, in the order they are printed.
const OWN_COUNTERS: [&str; 1] = [
    // connections closed because a watch event found their outbox over
    // twice its bound (`ServerLoad::outbox_overflows`)
    "ferrokeeper_outbox_overflows",
];

impl MetricsView {
    /// The flat (key, value) list of `mntr` (without `zk_`) and `monitor`.
    pub fn flatten(&self) -> Vec<(String, FlatValue)> {
        let mut out = Vec::with_capacity(512);
        out.push(("version".into(), FlatValue::Str(self.version.into())));
        out.push((
            "server_state".into(),
            FlatValue::Str(self.server_state.into()),
        ));
        if let Some(p) = &self.peer_state {
            out.push(("peer_state".into(), FlatValue::Str(p.clone().into())));
        }
        for (k, v) in &self.gauges {
            out.push((k.to_string(), FlatValue::Num(*v)));
        }
        for (set, values) in &self.gauge_sets {
            for (ns, v) in values {
                out.push((format!("{ns}_{set}"), FlatValue::Num(Value::Int(*v))));
            }
        }
        for (k, v) in &self.counters {
            out.push((k.to_string(), FlatValue::Num(Value::Int(*v as i64))));
        }
        for (k, s) in self.basic_summaries.iter().chain(&self.summaries) {
            flat_summary(&mut out, k, s);
            if let Some(p) = s.percentiles {
                for (name, v) in ["p50", "p95", "p99", "p999"].into_iter().zip(p) {
                    out.push((format!("{name}_{k}"), FlatValue::Num(Value::Int(v))));
                }
            }
        }
        for (set, values) in self.basic_summary_sets.iter().chain(&self.summary_sets) {
            for (ns, s) in values {
                let key = format!("{ns}_{set}");
                flat_summary(&mut out, &key, s);
                if let Some(p) = s.percentiles {
                    for (name, v) in ["p50", "p95", "p99", "p999"].into_iter().zip(p) {
                        out.push((format!("{name}_{key}"), FlatValue::Num(Value::Int(v))));
                    }
                }
            }
        }
        for (k, v) in &self.own_counters {
            out.push((k.to_string(), FlatValue::Num(Value::Int(*v as i64))));
        }
        out
    }
}

/// A value of the flat `mntr` list.
#[derive(Debug, Clone, PartialEq)]
pub enum FlatValue {
    Num(Value),
    Str(std::borrow::Cow<'static, str>),
}

impl std::fmt::Display for FlatValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlatValue::Num(Value::Int(v)) => write!(f, "{v}"),
            FlatValue::Num(Value::Double(v)) => f.write_str(&java_double(*v)),
            FlatValue::Str(s) => f.write_str(s),
        }
    }
}

/// `AvgMinMaxCounter.values()`.
fn flat_summary(out: &mut Vec<(String, FlatValue)>, key: &str, s: &SummaryView) {
    let n = |v: u64| FlatValue::Num(Value::Int(v as i64));
    out.push((format!("avg_{key}"), FlatValue::Num(Value::Double(s.avg))));
    out.push((format!("min_{key}"), n(s.min)));
    out.push((format!("max_{key}"), n(s.max)));
    out.push((format!("cnt_{key}"), n(s.count)));
    out.push((format!("sum_{key}"), n(s.sum)));
}

impl Core {
    /// The `mntr` reply. `asking` is 1 when a client connection asked (it
    /// counts as alive, as in ZooKeeper).
    pub(super) fn render_mntr(&self, asking: usize) -> String {
        let mut out = String::with_capacity(16 * 1024);
        for (k, v) in self.mntr_entries(asking) {
            let _ = writeln!(out, "zk_{k}\t{v}");
        }
        out
    }

    /// The (key, value) list of `mntr` and `monitor`: the default
    /// provider's keys, or with Prometheus configured, version and
    /// server_state followed by the provider's samples as doubles.
    pub(super) fn mntr_entries(&self, asking: usize) -> Vec<(String, FlatValue)> {
        let view = self.metrics_view(asking);
        let Some(process) = self.info.prometheus else {
            return view.flatten();
        };
        let families = crate::admin::prometheus::families(&view, process);
        let samples = crate::admin::prometheus::dump(&families);
        let mut out = Vec::with_capacity(samples.len() + 2);
        out.push(("version".into(), FlatValue::Str(view.version.into())));
        out.push((
            "server_state".into(),
            FlatValue::Str(view.server_state.into()),
        ));
        if let Some(p) = view.peer_state {
            out.push(("peer_state".into(), FlatValue::Str(p.into())));
        }
        out.extend(
            samples
                .into_iter()
                .map(|(k, v)| (k, FlatValue::Num(Value::Double(v)))),
        );
        out
    }

    /// Every metric now; `asking` as for [`Core::render_mntr`].
    pub fn metrics_view(&self, asking: usize) -> MetricsView {
        let empty = PercentileSummary::default();
        // Keys in Java's map order; each key's median only with Prometheus
        // (no reservoir is kept otherwise, and mntr prints none).
        let sets = |set: &super::metrics::SummarySet| {
            let entries = set.in_order();
            let mut keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
            concurrent_hash_map_order(&mut keys);
            let by_key: hashbrown::HashMap<&str, _> = entries.into_iter().collect();
            keys.into_iter()
                .filter_map(|k| {
                    by_key
                        .get(k)
                        .map(|s| (k.to_string(), SummaryView::of_set_entry(s)))
                })
                .collect::<Vec<_>>()
        };
        let quorum = self.quorum.as_ref();
        MetricsView {
            version: VERSION_LINE,
            server_state: self.server_state(),
            peer_state: quorum.map(|q| q.detailed_peer_state()),
            gauges: self
                .gauge_names()
                .into_iter()
                .map(|k| (k, self.gauge(k, asking)))
                .collect(),
            gauge_sets: quota_gauge_sets(&self.db.tree).into_iter().collect(),
            counters: COUNTERS.iter().map(|k| (*k, self.counter(k))).collect(),
            counter_sets: vec!["quota_exceeded_error_per_namespace"],
            basic_summaries: BASIC_SUMMARIES
                .iter()
                .map(|k| {
                    (
                        *k,
                        SummaryView::of_basic(self.basic_summary(k).unwrap_or(&empty)),
                    )
                })
                .collect(),
            summaries: SUMMARIES
                .iter()
                .map(|k| {
                    (
                        *k,
                        SummaryView::of_advanced(self.summary(k).unwrap_or(&empty)),
                    )
                })
                .collect(),
            // In the registry's map order (see the test below).
            basic_summary_sets: vec![
                (
                    "learner_handler_qp_size",
                    self.per_learner(|l| l.queued_packets.clone()),
                ),
                ("read_per_namespace", sets(&self.metrics.read_per_namespace)),
                (
                    "write_per_namespace",
                    sets(&self.metrics.write_per_namespace),
                ),
            ],
            summary_sets: vec![
                ("ack_latency", Vec::new()),
                (
                    "learner_handler_qp_time_ms",
                    self.per_learner(|l| l.queued_packet_time_ms.clone()),
                ),
            ],
            own_counters: OWN_COUNTERS
                .iter()
                .map(|k| (*k, self.own_counter(k)))
                .collect(),
        }
    }

    /// The gauges registered: ZooKeeperServer's, then on an ensemble
    /// member `quorum_size`, then on the leader its nine; in the order the
    /// registry's `ConcurrentHashMap` lists them.
    fn gauge_names(&self) -> Vec<&'static str> {
        let Some(q) = &self.quorum else {
            return GAUGES.to_vec();
        };
        let mut names = GAUGE_REGISTRATION.to_vec();
        names.extend(QUORUM_GAUGES);
        if q.leader.is_some() {
            names.extend(LEADER_GAUGES);
        }
        concurrent_hash_map_order(&mut names);
        names
    }

    /// One summary per learner of the leader, keyed by sid in map order.
    fn per_learner(
        &self,
        pick: impl Fn(&super::quorum_status::LearnerStatus) -> SummaryView,
    ) -> Vec<(String, SummaryView)> {
        let Some(leader) = self.quorum.as_ref().and_then(|q| q.leader.as_ref()) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = leader.learners.iter().map(|l| l.sid.to_string()).collect();
        concurrent_hash_map_order(&mut keys);
        keys.into_iter()
            .filter_map(|k| {
                let l = leader.learners.iter().find(|l| l.sid.to_string() == k)?;
                Some((k, pick(l)))
            })
            .collect()
    }

    /// `quorum_size` and the leader's gauges (0 where this member has no
    /// such gauge, which `gauge_names` then does not list).
    fn quorum_gauge(&self, key: &str) -> Option<i64> {
        let q = self.quorum.as_ref()?;
        if key == "quorum_size" {
            return Some(q.quorum_size() as i64);
        }
        let l = q.leader.as_ref()?;
        Some(match key {
            "learners" => l.learners.len() as i64,
            "synced_followers" => l.synced_followers(&q.config) as i64,
            "synced_non_voting_followers" => l.synced_non_voting_followers(&q.config) as i64,
            "synced_observers" => l.synced_observers() as i64,
            "pending_syncs" => l.pending_syncs as i64,
            "leader_uptime" => l.uptime_ms as i64,
            "last_proposal_size" => l.proposal_sizes.last,
            "max_proposal_size" => l.proposal_sizes.max,
            "min_proposal_size" => l.proposal_sizes.min,
            _ => return None,
        })
    }

    fn own_counter(&self, key: &str) -> u64 {
        match key {
            "ferrokeeper_outbox_overflows" => self.info.load.outbox_overflows(),
            _ => 0,
        }
    }

    fn gauge(&self, key: &str, asking: usize) -> Value {
        if let Some(v) = self.quorum_gauge(key) {
            return Value::Int(v);
        }
        let s = &self.stats;
        let v = match key {
            "ephemerals_count" => self.db.tree.ephemerals_count() as i64,
            "num_alive_connections" => (self.conns.len() + asking) as i64,
            "avg_latency" => return Value::Double(s.latency.avg()),
            "outstanding_requests" => self.outstanding() as i64,
            "znode_count" => self.db.tree.node_count() as i64,
            "global_sessions" => self.sessions.len() as i64,
            "last_client_response_size" => s.client_response.last,
            "packets_sent" => s.packets_sent as i64,
            "packets_received" => s.packets_received as i64,
            "max_client_response_size" => s.client_response.max,
            "connection_drop_probability" => {
                return Value::Double(self.info.load.connection_drop_chance())
            }
            "watch_count" => self.watches.watch_count() as i64,
            "auth_failed_count" => s.auth_failed as i64,
            "min_latency" => s.latency.min() as i64,
            "max_file_descriptor_count" => max_file_descriptors(),
            "approximate_data_size" => self.db.tree.approximate_data_size(),
            "open_file_descriptor_count" => open_file_descriptors(),
            "uptime" => self.started.elapsed().as_millis() as i64,
            "max_latency" => s.latency.max() as i64,
            "min_client_response_size" => s.client_response.min,
            // local_sessions, outstanding_tls_handshake, non_mtls_*: see the table
            _ => 0,
        };
        Value::Int(v)
    }

    fn counter(&self, key: &str) -> u64 {
        let m = &self.metrics;
        let q = &m.quorum;
        match key {
            "proposal_count" => q.proposal_count,
            "commit_count" => q.commit_count,
            "learner_proposal_received_count" => q.learner_proposal_received_count,
            "learner_commit_received_count" => q.learner_commit_received_count,
            "looking_count" => q.looking_count,
            "snap_count" => q.snap_count,
            "diff_count" => q.diff_count,
            "revalidate_count" => q.revalidate_count,
            "watch_bytes" => m.watch_bytes,
            "digest_mismatches_count" => m.digest_mismatches_count,
            "outstanding_changes_removed" => self.changes.removed_count,
            "connection_drop_count" => m.connection_drop_count,
            "bytes_received_count" => m.bytes_received,
            "prep_processor_request_queued" => m.prep_processor_request_queued,
            "connection_request_count" => m.connection_request_count,
            "response_bytes" => m.response_bytes,
            "connection_revalidate_count" => m.connection_revalidate_count,
            "stale_sessions_expired" => m.stale_sessions_expired,
            "sync_processor_request_queued" => m.sync_processor_request_queued,
            "outstanding_changes_queued" => self.changes.queued_count,
            "connection_rejected" => self.info.load.rejected(),
            "sessionless_connections_expired" => self.info.load.sessionless_expired(),
            "stale_requests_dropped" => self.info.load.stale_dropped(),
            "request_throttle_wait_count" => self.info.load.throttle_waits(),
            "throttled_ops" => self.info.load.throttled_ops(),
            "large_requests_rejected" => self.info.load.large_rejected(),
            // every other counter counts what cannot happen here: see the table
            _ => 0,
        }
    }

    fn basic_summary(&self, key: &str) -> Option<&PercentileSummary> {
        let m = &self.metrics;
        Some(match key {
            "node_created_watch_count" => &m.node_created_watch_count,
            "node_deleted_watch_count" => &m.node_deleted_watch_count,
            "node_changed_watch_count" => &m.node_changed_watch_count,
            "node_children_watch_count" => &m.node_children_watch_count,
            "prep_processor_queue_size" => &m.prep_processor_queue_size,
            "prep_process_time" => &m.prep_process_time,
            "proposal_process_time" => &m.proposal_process_time,
            "sync_processor_queue_size" => &m.sync_processor_queue_size,
            "sync_process_time" => &m.sync_process_time,
            "sync_processor_batch_size" => &m.sync_processor_batch_size,
            "fsynctime" => &m.fsynctime,
            "snapshottime" => &m.snapshottime,
            "dbinittime" => &m.dbinittime,
            "startup_snap_load_time" => &m.startup_snap_load_time,
            "startup_txns_load_time" => &m.startup_txns_load_time,
            "startup_txns_loaded" => &m.startup_txns_loaded,
            "election_time" => &m.quorum.election_time,
            "follower_sync_time" => &m.quorum.follower_sync_time,
            "unavailable_time" => &m.quorum.unavailable_time,
            "leader_unavailable_time" => &m.quorum.leader_unavailable_time,
            // no samples: see the table
            _ => return None,
        })
    }

    fn summary(&self, key: &str) -> Option<&PercentileSummary> {
        let m = &self.metrics;
        Some(match key {
            "prep_processor_queue_time_ms" => &m.prep_processor_queue_time_ms,
            "request_throttle_queue_time_ms" => &m.request_throttle_queue_time_ms,
            "close_session_prep_time" => &m.close_session_prep_time,
            "updatelatency" => &m.updatelatency,
            "readlatency" => &m.readlatency,
            "propagation_latency" => &m.propagation_latency,
            "sync_processor_queue_and_flush_time_ms" => &m.sync_processor_queue_and_flush_time_ms,
            "sync_processor_queue_time_ms" => &m.sync_processor_queue_time_ms,
            "sync_processor_queue_flush_time_ms" => &m.sync_processor_queue_flush_time_ms,
            "quorum_ack_latency" => &m.quorum.quorum_ack_latency,
            "proposal_latency" => &m.quorum.proposal_latency,
            "commit_propagation_latency" => &m.quorum.commit_propagation_latency,
            "proposal_ack_creation_latency" => &m.quorum.proposal_ack_creation_latency,
            // no samples: see the table
            _ => return None,
        })
    }
}

/// The four quota gauge sets in the order ZooKeeper's registry prints them,
/// each as (namespace, value) in map order (`QuotaMetricsUtils`): leaves
/// under /zookeeper/quota named zookeeper_limits give the limits (the hard
/// limit if set, else the soft one), leaves named zookeeper_stats the usage,
/// summed per top-level namespace.
fn quota_gauge_sets(tree: &DataTree) -> [(&'static str, Vec<(String, i64)>); 4] {
    let mut count_limit: Vec<(String, i64)> = Vec::new();
    let mut bytes_limit: Vec<(String, i64)> = Vec::new();
    let mut count_usage: Vec<(String, i64)> = Vec::new();
    let mut bytes_usage: Vec<(String, i64)> = Vec::new();
    let add =
        |v: &mut Vec<(String, i64)>, ns: &str, n: i64| match v.iter_mut().find(|(k, _)| k == ns) {
            Some(e) => e.1 += n,
            None => v.push((ns.to_string(), n)),
        };
    let mut stack: Vec<String> = vec![QUOTA_ZOOKEEPER.to_string()];
    while let Some(path) = stack.pop() {
        let Some(id) = tree.lookup(&path) else {
            continue;
        };
        if tree.num_children(id) > 0 {
            for name in tree.child_names(id) {
                stack.push(format!("{path}/{name}"));
            }
            continue;
        }
        let is_limit = path.ends_with(&format!("/{LIMIT_NODE}"));
        let is_stat = path.ends_with(&format!("/{STAT_NODE}"));
        if !is_limit && !is_stat {
            continue;
        }
        // `Quotas.trimQuotaPath`, then `PathUtils.getTopNamespace`.
        let trimmed = &path[QUOTA_ZOOKEEPER.len()..];
        let Some(ns) = trimmed.split('/').nth(1) else {
            continue;
        };
        let Some(data) = tree.node_data(id) else {
            continue;
        };
        let Ok(st) = StatsTrack::parse(data) else {
            continue;
        };
        let hard_or = |hard: i64, soft: i64| if hard > -1 { hard } else { soft };
        if is_limit {
            add(
                &mut count_limit,
                ns,
                hard_or(st.count_hard_limit(), st.count()),
            );
            add(
                &mut bytes_limit,
                ns,
                hard_or(st.byte_hard_limit(), st.bytes()),
            );
        } else {
            add(&mut count_usage, ns, st.count());
            add(&mut bytes_usage, ns, st.bytes());
        }
    }
    let mut sets = [
        ("quota_bytes_limit_per_namespace", bytes_limit),
        ("quota_count_usage_per_namespace", count_usage),
        ("quota_count_limit_per_namespace", count_limit),
        ("quota_bytes_usage_per_namespace", bytes_usage),
    ];
    for (_, values) in sets.iter_mut() {
        let mut names: Vec<String> = values.iter().map(|(k, _)| k.clone()).collect();
        concurrent_hash_map_order(&mut names);
        let mut ordered = Vec::with_capacity(values.len());
        for n in names {
            if let Some(e) = values.iter().find(|(k, _)| *k == n) {
                ordered.push(e.clone());
            }
        }
        *values = ordered;
    }
    sets
}

/// Entries of /proc/self/fd (`UnixOperatingSystemMXBean.getOpenFileDescriptorCount`).
fn open_file_descriptors() -> i64 {
    std::fs::read_dir("/proc/self/fd").map_or(-1, |d| d.count() as i64)
}

/// The soft limit on open files (`getMaxFileDescriptorCount`).
fn max_file_descriptors() -> i64 {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return -1;
    };
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .map_or(-1, |soft| match soft {
            "unlimited" => i64::MAX,
            n => n.parse().unwrap_or(-1),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{CoreConfig, ServerInfo};

    const JAVA_MNTR: &str = include_str!("../../compat-tests/fourletter/java-3.8.0/mntr.txt");

    fn core() -> Core {
        let (tx, _rx) = std::sync::mpsc::channel();
        Core::new(CoreConfig::default(), ServerInfo::default(), tx)
    }

    /// Keys but those naming a namespace (they depend on the data) and
    /// FerroKeeper's own.
    fn static_keys(text: &str) -> Vec<&str> {
        text.lines()
            .filter_map(|l| l.split('\t').next())
            .filter(|k| !k.ends_with("_per_namespace"))
            .filter(|k| !k.starts_with("zk_ferrokeeper_"))
            .collect()
    }

    #[test]
    fn keys_and_order_are_those_of_java_3_8_0() {
        let ours = core().render_mntr(1);
        assert_eq!(static_keys(&ours), static_keys(JAVA_MNTR));
        assert!(ours.ends_with('\n'));
    }

    #[test]
    fn own_keys_follow_java_s_keys_with_their_prefix() {
        let ours = core().render_mntr(1);
        let keys: Vec<&str> = ours.lines().filter_map(|l| l.split('\t').next()).collect();
        let first_own = keys
            .iter()
            .position(|k| k.starts_with("zk_ferrokeeper_"))
            .unwrap_or(keys.len());
        assert_eq!(keys[first_own..], ["zk_ferrokeeper_outbox_overflows"]);
        assert!(ours.contains("\nzk_ferrokeeper_outbox_overflows\t0\n"));
    }

    #[test]
    fn every_measured_metric_reaches_its_key() {
        let mut c = core();
        // Without the start-up sample of prep_processor_queue_size.
        c.metrics = super::super::metrics::Metrics::default();
        let m = &mut c.metrics;
        for n in [
            &mut m.bytes_received,
            &mut m.response_bytes,
            &mut m.watch_bytes,
            &mut m.connection_request_count,
            &mut m.connection_revalidate_count,
            &mut m.connection_drop_count,
            &mut m.prep_processor_request_queued,
            &mut m.sync_processor_request_queued,
            &mut m.stale_sessions_expired,
            &mut m.digest_mismatches_count,
        ] {
            *n = 7;
        }
        for s in [
            &mut m.node_created_watch_count,
            &mut m.node_deleted_watch_count,
            &mut m.node_changed_watch_count,
            &mut m.node_children_watch_count,
            &mut m.prep_processor_queue_size,
            &mut m.prep_process_time,
            &mut m.proposal_process_time,
            &mut m.sync_processor_queue_size,
            &mut m.sync_process_time,
            &mut m.sync_processor_batch_size,
            &mut m.fsynctime,
            &mut m.snapshottime,
            &mut m.dbinittime,
            &mut m.startup_snap_load_time,
            &mut m.startup_txns_load_time,
            &mut m.startup_txns_loaded,
        ] {
            s.add(7);
        }
        for s in [
            &mut m.readlatency,
            &mut m.updatelatency,
            &mut m.propagation_latency,
            &mut m.prep_processor_queue_time_ms,
            &mut m.request_throttle_queue_time_ms,
            &mut m.close_session_prep_time,
            &mut m.sync_processor_queue_time_ms,
            &mut m.sync_processor_queue_flush_time_ms,
            &mut m.sync_processor_queue_and_flush_time_ms,
        ] {
            s.add(7);
        }
        c.changes.queued_count = 7;
        c.changes.removed_count = 7;
        let out = c.render_mntr(1);
        let sevens: Vec<&str> = out
            .lines()
            .filter(|l| l.ends_with("\t7") || l.ends_with("\t7.0"))
            .filter_map(|l| l.split('\t').next())
            .filter(|k| {
                !["zk_p50_", "zk_p95_", "zk_p99_", "zk_p999_"]
                    .iter()
                    .any(|p| k.starts_with(p))
            })
            // Read from the OS, not set by this test: any value, 7 included.
            .filter(|k| !k.ends_with("_file_descriptor_count"))
            .collect();
        // 12 counters; 25 summaries × avg, min, max, sum (cnt is 1)
        assert_eq!(sevens.len(), 12 + 25 * 4, "{sevens:#?}");
    }

    #[test]
    fn hash_map_order_reproduces_the_java_gauge_order() {
        let mut keys = GAUGE_REGISTRATION.to_vec();
        concurrent_hash_map_order(&mut keys);
        assert_eq!(keys, GAUGES);
        let mut sets = vec![
            "quota_count_limit_per_namespace",
            "quota_bytes_limit_per_namespace",
            "quota_count_usage_per_namespace",
            "quota_bytes_usage_per_namespace",
        ];
        concurrent_hash_map_order(&mut sets);
        let printed = quota_gauge_sets(&core().db.tree).map(|(name, _)| name);
        assert_eq!(sets, printed);
        // The summary sets' maps (a leader's learner_handler_qp_size keys
        // come before the namespaces' in Java's mntr).
        let view = core().metrics_view(1);
        let mut basic = vec![
            "read_per_namespace",
            "write_per_namespace",
            "learner_handler_qp_size",
        ];
        concurrent_hash_map_order(&mut basic);
        let printed: Vec<&str> = view.basic_summary_sets.iter().map(|(n, _)| *n).collect();
        assert_eq!(basic, printed);
        let mut advanced = vec!["learner_handler_qp_time_ms", "ack_latency"];
        concurrent_hash_map_order(&mut advanced);
        let printed: Vec<&str> = view.summary_sets.iter().map(|(n, _)| *n).collect();
        assert_eq!(advanced, printed);
    }
}
