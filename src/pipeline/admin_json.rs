//! What the AdminServer's commands read from the core, as the JSON data
//! ZooKeeper 3.8.0's `Commands.java` puts in its `CommandResponse`: the
//! same field names, nesting and value types (the reference replies are in
//! `compat-tests/admin/java-3.8.0/`). The numbers come from the same fields
//! the four-letter words print (`admin_view.rs`, `mntr.rs`), and the resets
//! are the same calls, so `mntr` and `/commands/monitor` agree.
//!
//! `command` and `error` are added by `crate::admin::commands`; a command
//! that fails puts its own `error` in the data, as ZooKeeper's do.

use serde_json::{json, Map, Value};

use super::admin_view::{environment_rows, version_dir_size};
use super::core::{AdminQuery, Core};
use crate::admin::java_fmt::java_socket_addr;
use crate::admin::VERSION_LINE;

/// The commands an ensemble member answers while looking (no server runs):
/// those Java 3.8.0's answered then (`compat-tests/quorum-admin/java-3.8.0/
/// looking/`; `set_trace_mask` taken to be like `get_trace_mask`). Its
/// `monitor` failed with an HTTP 500 (a NullPointerException in
/// `MonitorCommand`); FerroKeeper answers the not-serving error instead.
const ANSWERED_WHILE_LOOKING: [&str; 4] = [
    "environment",
    "get_trace_mask",
    "set_trace_mask",
    "zabstate",
];

/// The digest version of ZooKeeper 3.8's `DigestCalculator`.
const DIGEST_VERSION: i64 = 2;

type Data = Map<String, Value>;

impl Core {
    pub(super) fn admin_query(&mut self, q: AdminQuery) {
        match q {
            AdminQuery::Command { cmd, args, reply } => {
                let data = self.admin_json(cmd, &args);
                let _ = reply.send(data);
            }
            AdminQuery::Metrics { reply } => {
                let _ = reply.send(self.metrics_view(0));
            }
        }
    }

    /// The data of AdminServer command `cmd` (its primary name). `args` are
    /// the request's parameters, first value of each.
    pub fn admin_json(&mut self, cmd: &str, args: &[(String, String)]) -> Data {
        let mut d = Data::new();
        if !self.serving() && !ANSWERED_WHILE_LOOKING.contains(&cmd) {
            // `Commands.runCommand` for a server-required command with no
            // server running: `command`, then the error.
            d.insert("command".into(), json!(cmd));
            d.insert(
                "error".into(),
                json!("This ZooKeeper instance is not currently serving requests"),
            );
            return d;
        }
        match cmd {
            "connection_stat_reset" => self.reset_connection_stats(),
            "configuration" => self.json_conf(&mut d),
            "connections" => {
                d.insert("connections".into(), self.json_connections(false));
                d.insert("secure_connections".into(), json!([]));
            }
            "hash" => {
                let digests: Vec<Value> = self
                    .db
                    .digest_log
                    .iter()
                    .map(|(zxid, digest)| {
                        // Jackson orders ZxidDigest's properties as its fields are declared.
                        json!({"zxid": zxid, "digest": digest, "digest_version": DIGEST_VERSION})
                    })
                    .collect();
                d.insert("digests".into(), Value::Array(digests));
            }
            "dirs" => {
                d.insert(
                    "datadir_size".into(),
                    json!(version_dir_size(&self.info.data_dir)),
                );
                d.insert(
                    "logdir_size".into(),
                    json!(version_dir_size(&self.info.data_log_dir)),
                );
            }
            "dump" => self.json_dump(&mut d),
            "environment" => {
                for (k, v) in environment_rows() {
                    d.insert(k.into(), Value::String(v));
                }
            }
            "get_trace_mask" => {
                d.insert("tracemask".into(), json!(self.trace_mask));
            }
            "is_read_only" => {
                d.insert("read_only".into(), json!(false));
            }
            "last_snapshot" => self.json_last_snapshot(&mut d),
            "leader" => match &self.quorum {
                Some(q) => super::admin_quorum::leader_json(q, &mut d),
                // Only a quorum server has a leader.
                None => {
                    d.insert("error".into(), json!("server is not initialized"));
                }
            },
            "monitor" => {
                for (k, v) in self.mntr_entries(0) {
                    d.insert(k, flat_json(v));
                }
            }
            "set_trace_mask" => match args.iter().find(|(k, _)| k == "traceMask") {
                None => {
                    d.insert(
                        "error".into(),
                        json!("setTraceMask requires long traceMask argument"),
                    );
                }
                Some((_, v)) => match v.parse::<i64>() {
                    Ok(mask) => {
                        self.trace_mask = mask;
                        d.insert("tracemask".into(), json!(mask));
                    }
                    Err(_) => {
                        d.insert(
                            "error".into(),
                            json!(format!(
                                "setTraceMask requires long traceMask argument, got {v}"
                            )),
                        );
                    }
                },
            },
            "server_stats" | "stats" => {
                self.json_srvr(&mut d);
                if cmd == "stats" {
                    d.insert("connections".into(), self.json_connections(true));
                    d.insert("secure_connections".into(), json!([]));
                }
            }
            "stat_reset" => self.reset_server_stats(),
            "observers" => {
                let synced = self
                    .quorum
                    .as_ref()
                    .and_then(|q| q.leader.as_ref())
                    .map_or(0, |l| l.synced_observers());
                d.insert("synced_observers".into(), json!(synced));
                d.insert("observers".into(), json!([]));
            }
            "voting_view" => match &self.quorum {
                Some(q) => super::admin_quorum::voting_view_json(q, &mut d),
                None => {
                    d.insert("current_config".into(), json!({}));
                }
            },
            "watches" => {
                let mut m = Data::new();
                for (w, paths) in self.watches.watches_by_watcher().0 {
                    m.insert(self.session_of(w).to_string(), json!(paths));
                }
                d.insert("session_id_to_watched_paths".into(), Value::Object(m));
            }
            "watches_by_path" => {
                let mut m = Data::new();
                for (path, watchers) in self.watches.watches_by_path().0 {
                    let ids: Vec<i64> = watchers.iter().map(|w| self.session_of(*w)).collect();
                    m.insert(path, json!(ids));
                }
                d.insert("path_to_session_ids".into(), Value::Object(m));
            }
            "watch_summary" => {
                let s = self.watches.summary();
                d.insert("num_connections".into(), json!(s.num_connections));
                d.insert("num_paths".into(), json!(s.num_paths));
                d.insert("num_total_watches".into(), json!(s.total_watches));
            }
            "zabstate" => match self.quorum.as_ref().filter(|_| self.serving()) {
                Some(q) => {
                    super::admin_quorum::zabstate_json(q, self.db.last_processed_zxid, &mut d)
                }
                None => {
                    d.insert("voting".into(), json!(false));
                    d.insert("zabstate".into(), json!(""));
                }
            },
            // observer_connection_stat_reset, ruok: nothing to report.
            _ => {}
        }
        d
    }

    /// `ZooKeeperServerConf.toMap`.
    fn json_conf(&self, d: &mut Data) {
        let i = &self.info;
        d.insert("client_port".into(), json!(i.client_port));
        d.insert(
            "data_dir".into(),
            json!(format!("{}/version-2", i.data_dir)),
        );
        d.insert(
            "data_log_dir".into(),
            json!(format!("{}/version-2", i.data_log_dir)),
        );
        d.insert("tick_time".into(), json!(i.tick_time_ms));
        d.insert(
            "max_client_cnxns".into(),
            json!(i.max_client_cnxns_configured),
        );
        d.insert(
            "min_session_timeout".into(),
            json!(i.min_session_timeout_ms),
        );
        d.insert(
            "max_session_timeout".into(),
            json!(i.max_session_timeout_ms),
        );
        d.insert(
            "server_id".into(),
            json!(self.quorum.as_ref().map_or(0, |q| q.my_id)),
        );
        d.insert(
            "client_port_listen_backlog".into(),
            json!(i.client_port_listen_backlog),
        );
    }

    /// `ServerCnxn.getConnectionInfo(brief)` of every client connection.
    fn json_connections(&self, brief: bool) -> Value {
        let queued = self.outstanding_by_conn();
        let mut ids: Vec<_> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(c) = self.conns.get(&id) else {
                continue;
            };
            let st = &c.stats;
            let mut m = Data::new();
            m.insert(
                "remote_socket_address".into(),
                json!(jackson_socket_addr(&c.addr)),
            );
            m.insert("interest_ops".into(), json!(i32::from(c.session != 0)));
            m.insert(
                "outstanding_requests".into(),
                json!(queued.get(&id).copied().unwrap_or(0)),
            );
            m.insert("packets_received".into(), json!(st.packets_received));
            m.insert("packets_sent".into(), json!(st.packets_sent));
            if !brief {
                m.insert("session_id".into(), json!(c.session));
                m.insert("last_operation".into(), json!(st.last_op));
                m.insert("established".into(), json!(st.established_wall_ms));
                m.insert("session_timeout".into(), json!(c.timeout_ms));
                m.insert("last_cxid".into(), json!(st.last_cxid));
                m.insert("last_zxid".into(), json!(st.last_zxid));
                m.insert("last_response_time".into(), json!(st.last_response_ms));
                m.insert("last_latency".into(), json!(st.last_latency_ms));
                m.insert("min_latency".into(), json!(st.latency.min()));
                m.insert("avg_latency".into(), json!(st.avg_latency()));
                m.insert("max_latency".into(), json!(st.latency.max()));
            }
            out.push(Value::Object(m));
        }
        Value::Array(out)
    }

    /// `getSessionExpiryMap` (expiry time on the tracker's clock → ids)
    /// and `getEphemerals` (session → paths).
    fn json_dump(&self, d: &mut Data) {
        let mut expiry = Data::new();
        for (at, ids) in self.sessions.buckets() {
            let mut ids: Vec<i64> = ids.iter().copied().collect();
            ids.sort_unstable();
            expiry.insert(at.to_string(), json!(ids));
        }
        d.insert("expiry_time_to_session_ids".into(), Value::Object(expiry));
        let mut eph = Data::new();
        for sid in self.db.tree.ephemeral_sessions() {
            let mut paths = self.db.tree.ephemerals(sid);
            paths.sort();
            eph.insert(sid.to_string(), json!(paths));
        }
        d.insert("session_id_to_ephemeral_paths".into(), Value::Object(eph));
    }

    /// `FileTxnSnapLog.getLastSnapshotInfo`: the zxid in hex and the file's
    /// modification time in seconds; -1 for both before any snapshot.
    fn json_last_snapshot(&self, d: &mut Data) {
        let (zxid, secs) = match &self.last_snapshot {
            None => (-1, -1),
            Some((zxid, path)) => {
                let secs = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(-1, |d| d.as_secs() as i64);
                (*zxid, secs)
            }
        };
        // Long.toHexString: two's complement for negative values.
        d.insert("zxid".into(), json!(format!("{:x}", zxid as u64)));
        d.insert("timestamp".into(), json!(secs));
    }

    /// `SrvrCommand`: the version, `ServerStats` as Jackson serialises its
    /// getters, the response-size stats and the node count.
    fn json_srvr(&self, d: &mut Data) {
        let s = &self.stats;
        let buffer = json!({
            "last_buffer_size": s.client_response.last,
            "min_buffer_size": s.client_response.min,
            "max_buffer_size": s.client_response.max,
        });
        let data_dir_size = version_dir_size(&self.info.data_dir);
        let log_dir_size = version_dir_size(&self.info.data_log_dir);
        let mut st = Data::new();
        st.insert("packets_sent".into(), json!(s.packets_sent));
        st.insert("packets_received".into(), json!(s.packets_received));
        // FerroKeeper logs slow fsyncs but does not count them.
        st.insert("fsync_threshold_exceed_count".into(), json!(0));
        st.insert("client_response_stats".into(), buffer.clone());
        st.insert("data_dir_size".into(), json!(data_dir_size));
        st.insert("log_dir_size".into(), json!(log_dir_size));
        st.insert("provider_null".into(), json!(false));
        st.insert("server_state".into(), json!(self.server_state()));
        st.insert(
            "last_processed_zxid".into(),
            json!(self.db.last_processed_zxid),
        );
        st.insert("outstanding_requests".into(), json!(self.outstanding()));
        st.insert("avg_latency".into(), json!(s.latency.avg()));
        st.insert("max_latency".into(), json!(s.latency.max()));
        st.insert("min_latency".into(), json!(s.latency.min()));
        st.insert(
            "num_alive_client_connections".into(),
            json!(self.conns.len()),
        );
        st.insert(
            "uptime".into(),
            json!(self.started.elapsed().as_millis() as u64),
        );
        st.insert("auth_failed_count".into(), json!(s.auth_failed));
        st.insert("non_mtlsremote_conn_count".into(), json!(0));
        st.insert("non_mtlslocal_conn_count".into(), json!(0));
        d.insert("version".into(), json!(VERSION_LINE));
        d.insert("read_only".into(), json!(false));
        d.insert("server_stats".into(), Value::Object(st));
        d.insert("client_response".into(), buffer);
        if let Some(l) = self.quorum.as_ref().and_then(|q| q.leader.as_ref()) {
            let p = l.proposal_sizes;
            d.insert(
                "proposal_stats".into(),
                json!({"last_buffer_size": p.last, "min_buffer_size": p.min, "max_buffer_size": p.max}),
            );
        }
        d.insert("node_count".into(), json!(self.db.tree.node_count()));
    }
}

/// A `mntr` value as Jackson writes the Java number or string behind it.
fn flat_json(v: super::mntr::FlatValue) -> Value {
    use super::mntr::{FlatValue, Value as V};
    match v {
        FlatValue::Str(s) => json!(s),
        FlatValue::Num(V::Int(i)) => json!(i),
        // Jackson writes NaN and the infinities as strings ("NaN").
        FlatValue::Num(V::Double(f)) => serde_json::Number::from_f64(f).map_or_else(
            || json!(crate::admin::java_fmt::java_double(f)),
            Value::Number,
        ),
    }
}

/// Jackson's `InetSocketAddressSerializer`: `host:port` from the address's
/// Java text, in brackets for IPv6.
fn jackson_socket_addr(addr: &std::net::SocketAddr) -> String {
    java_socket_addr(addr).trim_start_matches('/').to_string()
}
