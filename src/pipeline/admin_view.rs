//! What the four-letter words read from the core, formatted as ZooKeeper
//! 3.8.0 formats it: line for line, key for key, newline for newline (the
//! reference captures are in `compat-tests/fourletter/java-3.8.0/`). Sources:
//! `command/*Command.java`, `ServerStats.toString`,
//! `ServerCnxn.dumpConnectionInfo`, `ZooKeeperServer.dumpConf`,
//! `Environment.list`, `SessionTrackerImpl.dumpSessions`,
//! `DataTree.dumpEphemerals`, `NIOServerCnxnFactory.dumpConnections`.
//! `mntr` is in `mntr.rs`.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;

use super::core::{wall_ms, ConnId, Core, Origin, Pending};
use crate::admin::java_fmt::{java_date_utc, java_socket_addr};
use crate::admin::VERSION_LINE;
use crate::watch::WatcherId;

impl Core {
    pub(crate) fn four_letter_enabled(&self, cmd: &str) -> bool {
        self.info
            .four_letter_words
            .iter()
            .any(|w| w == "*" || w == cmd)
    }

    /// `packetReceived(4)`: a four-letter word is a packet of 4 bytes, on
    /// the server's counters (the asking connection's own are in `cons`).
    pub(crate) fn four_letter_received(&mut self) {
        self.stats.packets_received += 1;
        self.metrics.bytes_received += 4;
    }

    /// The packets a four-letter word's reply counts as sent. ZooKeeper
    /// writes it through a `BufferedWriter` (8192 chars) into its
    /// `SendBufferWriter`, and each write to the socket is one packet: one
    /// for every 8192 UTF-16 units begun, none for an empty reply. Counted
    /// when the reply is produced, so the word's own reply is not in the
    /// numbers it prints (`ruok` then `srvr` on a fresh server: Received 2,
    /// Sent 1, as Java 3.8.0 prints).
    pub(crate) fn four_letter_sent(&mut self, text: &str) {
        let units = text.encode_utf16().count() as u64;
        self.stats.packets_sent += units.div_ceil(8192);
    }

    /// `ServerStats.toString`; `Connections` counts the asking connection.
    fn stats_block(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Latency min/avg/max: {}", self.stats.latency_summary());
        let _ = writeln!(s, "Received: {}", self.stats.packets_received);
        let _ = writeln!(s, "Sent: {}", self.stats.packets_sent);
        let _ = writeln!(s, "Connections: {}", self.conns.len() + 1);
        let _ = writeln!(s, "Outstanding: {}", self.outstanding());
        let _ = writeln!(s, "Zxid: 0x{:x}", self.db.last_processed_zxid);
        let _ = writeln!(s, "Mode: {}", self.server_state());
        s
    }

    /// Whether a server runs behind the words: always standalone; on an
    /// ensemble member once it leads, follows or observes and has reached
    /// the broadcast phase (Java's `isZKServerRunning`: false while looking,
    /// and while a learner syncs with its leader, whose ZooKeeperServer
    /// starts only at UPTODATE). Until then srvr says "not currently
    /// serving", so a `Mode: follower` means the member takes sessions.
    pub(crate) fn serving(&self) -> bool {
        self.quorum.as_ref().is_none_or(|q| {
            q.state != super::quorum_status::PeerState::Looking
                && q.zab_state == super::quorum_status::ZabState::Broadcast
        })
    }

    /// `ZooKeeperServer.getState()`: `standalone`, or the member's role.
    pub(super) fn server_state(&self) -> &'static str {
        self.quorum
            .as_ref()
            .map_or("standalone", |q| q.server_state())
    }

    /// Requests of each connection not answered yet (`queued=`).
    pub(super) fn outstanding_by_conn(&self) -> HashMap<ConnId, usize> {
        let mut out = HashMap::new();
        for p in self.outstanding_entries() {
            let conn = match p {
                Pending::Txn {
                    origin: Origin::Client { conn, .. } | Origin::Connect { conn, .. },
                    ..
                }
                | Pending::Forwarded {
                    origin: Origin::Client { conn, .. } | Origin::Connect { conn, .. },
                    ..
                }
                | Pending::Applied {
                    origin: Origin::Client { conn, .. } | Origin::Connect { conn, .. },
                    ..
                }
                | Pending::Read { conn, .. }
                | Pending::ForwardedSync { conn, .. }
                | Pending::Revalidating { conn, .. }
                | Pending::Error { conn, .. } => *conn,
                Pending::Txn { .. } | Pending::Forwarded { .. } | Pending::Applied { .. } => {
                    continue
                }
            };
            *out.entry(conn).or_insert(0) += 1;
        }
        out
    }

    /// `dumpConnectionInfo` of every connection, one per line, the asking
    /// one (`peer`, which has sent its word and nothing else) last.
    fn conn_lines(&self, brief: bool, peer: SocketAddr) -> String {
        let queued = self.outstanding_by_conn();
        let mut s = String::new();
        let mut ids: Vec<_> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(c) = self.conns.get(&id) else {
                continue;
            };
            let st = &c.stats;
            // interest ops: reading (OP_READ) once the session is set up
            let ops = if c.session != 0 { 1 } else { 0 };
            let _ = write!(
                s,
                " {}[{ops}](queued={},recved={},sent={}",
                java_socket_addr(&c.addr),
                queued.get(&id).copied().unwrap_or(0),
                st.packets_received,
                st.packets_sent
            );
            if !brief && c.session != 0 {
                let _ = write!(
                    s,
                    ",sid=0x{:x},lop={},est={},to={}",
                    c.session, st.last_op, st.established_wall_ms, c.timeout_ms
                );
                if st.last_cxid >= 0 {
                    let _ = write!(s, ",lcxid=0x{:x}", st.last_cxid);
                }
                let _ = write!(
                    s,
                    ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
                    st.last_zxid,
                    st.last_response_ms,
                    st.last_latency_ms,
                    st.latency.min(),
                    st.avg_latency(),
                    st.latency.max()
                );
            }
            s.push_str(")\n");
        }
        let _ = writeln!(
            s,
            " {}[0](queued=0,recved=1,sent=0)",
            java_socket_addr(&peer)
        );
        s
    }

    /// `crst` / `connection_stat_reset`.
    pub(super) fn reset_connection_stats(&mut self) {
        for c in self.conns.values_mut() {
            c.stats.reset();
        }
    }

    /// `srst` / `stat_reset` (`ServerStats.reset`, which resets
    /// `ServerMetrics` too).
    pub(super) fn reset_server_stats(&mut self) {
        self.stats.reset();
        if self.info.prometheus.is_some() {
            // PrometheusMetricsProvider.resetAllValues does nothing.
            return;
        }
        self.metrics.reset();
        self.changes.queued_count = 0;
        self.changes.removed_count = 0;
    }

    pub(super) fn session_of(&self, w: WatcherId) -> i64 {
        self.conns.get(&w.0).map_or(0, |c| c.session)
    }

    /// Every four-letter word but ruok/isro (answered in `admin`). `peer` is
    /// the asking connection; `trace_mask` what followed `stmk`.
    pub(crate) fn render_admin(
        &mut self,
        cmd: &str,
        peer: SocketAddr,
        trace_mask: Option<i64>,
    ) -> String {
        let mut s = String::new();
        match cmd {
            "srvr" | "stat" => {
                let _ = writeln!(s, "Zookeeper version: {VERSION_LINE}");
                if cmd == "stat" {
                    s.push_str("Clients:\n");
                    s.push_str(&self.conn_lines(true, peer));
                    s.push('\n');
                }
                s.push_str(&self.stats_block());
                let _ = writeln!(s, "Node count: {}", self.db.tree.node_count());
                if let Some(p) = self.quorum.as_ref().and_then(|q| q.leader.as_ref()) {
                    let p = p.proposal_sizes;
                    let _ = writeln!(
                        s,
                        "Proposal sizes last/min/max: {}/{}/{}",
                        p.last, p.min, p.max
                    );
                }
            }
            "cons" => {
                s.push_str(&self.conn_lines(false, peer));
                s.push('\n');
            }
            "crst" => {
                self.reset_connection_stats();
                s.push_str("Connection stats reset.\n");
            }
            "srst" => {
                self.reset_server_stats();
                s.push_str("Server stats reset.\n");
            }
            "conf" => self.render_conf(&mut s),
            "envi" => render_envi(&mut s),
            "mntr" => s = self.render_mntr(1),
            "wchs" => s = self.watches.summary().format_4lw(),
            "wchc" => {
                s = self
                    .watches
                    .watches_by_watcher()
                    .format_4lw(|w| self.session_of(w))
            }
            "wchp" => {
                s = self
                    .watches
                    .watches_by_path()
                    .format_4lw(|w| self.session_of(w))
            }
            "dump" => self.render_dump(&mut s),
            "dirs" => {
                let _ = writeln!(s, "datadir_size: {}", version_dir_size(&self.info.data_dir));
                let _ = writeln!(
                    s,
                    "logdir_size: {}",
                    version_dir_size(&self.info.data_log_dir)
                );
            }
            "gtmk" => s = self.trace_mask.to_string(),
            "stmk" => {
                // Without the 8-byte mask ZooKeeper fails the read and closes
                // the connection without a word.
                if let Some(mask) = trace_mask {
                    self.trace_mask = mask;
                    s = mask.to_string();
                }
            }
            "hash" => {
                for (zxid, digest) in &self.db.digest_log {
                    let _ = writeln!(s, "{zxid:x}: {digest}");
                }
            }
            _ => {}
        }
        s
    }

    /// `ZooKeeperServer.dumpConf`; the directory sizes are measured now.
    fn render_conf(&self, s: &mut String) {
        let i = &self.info;
        let _ = writeln!(s, "clientPort={}", i.client_port);
        let _ = writeln!(s, "secureClientPort=-1");
        let _ = writeln!(s, "dataDir={}/version-2", i.data_dir);
        let _ = writeln!(s, "dataDirSize={}", version_dir_size(&i.data_dir));
        let _ = writeln!(s, "dataLogDir={}/version-2", i.data_log_dir);
        let _ = writeln!(s, "dataLogSize={}", version_dir_size(&i.data_log_dir));
        let _ = writeln!(s, "tickTime={}", i.tick_time_ms);
        let _ = writeln!(s, "maxClientCnxns={}", i.max_client_cnxns_configured);
        let _ = writeln!(s, "minSessionTimeout={}", i.min_session_timeout_ms);
        let _ = writeln!(s, "maxSessionTimeout={}", i.max_session_timeout_ms);
        let _ = writeln!(
            s,
            "clientPortListenBacklog={}",
            i.client_port_listen_backlog
        );
        let Some(q) = &self.quorum else {
            let _ = writeln!(s, "serverId=0");
            return;
        };
        let _ = writeln!(s, "serverId={}", q.my_id);
        super::admin_quorum::render_conf(q, s);
    }

    /// `LearnerSessionTracker.dumpSessions`: a follower or observer expires
    /// no session (the leader does), so it lists every session it knows with
    /// its timeout, ordered as a `TreeSet<Long>` orders the ids (signed), as
    /// a Java 3.8.0 follower does (`compat-tests/fourletter/java-3.8.0-follower/dump.txt`).
    fn render_learner_sessions(&self, s: &mut String) {
        let mut sessions: Vec<_> = self.sessions.sessions().collect();
        sessions.sort_unstable();
        let _ = writeln!(s, "Global Sessions({}):", sessions.len());
        for (id, timeout_ms) in sessions {
            let _ = writeln!(s, "0x{id:x}\t{timeout_ms}ms");
        }
    }

    /// `DumpCommand`: session expiry buckets, ephemerals, and connections
    /// by expiry time. FerroKeeper does not time connections out on their
    /// own: a connection goes when its session expires, so it is listed
    /// under its session's bucket; connections without a session (like the
    /// asking one) never expire and are not listed.
    fn render_dump(&self, s: &mut String) {
        // Bucket times are on the core's clock; dates are wall-clock.
        let wall_of = |at_ms: u64| wall_ms() - self.now_ms() as i64 + at_ms as i64;
        s.push_str("SessionTracker dump:\n");
        if matches!(self.server_state(), "follower" | "observer") {
            self.render_learner_sessions(s);
        } else {
            let _ = writeln!(
                s,
                "Session Sets ({})/({}):",
                self.sessions.buckets().count(),
                self.sessions.len()
            );
            for (at, ids) in self.sessions.buckets() {
                let _ = writeln!(s, "{} expire at {}:", ids.len(), java_date_utc(wall_of(at)));
                let mut ids: Vec<_> = ids.iter().copied().collect();
                ids.sort_unstable();
                for id in ids {
                    let _ = writeln!(s, "\t0x{id:x}");
                }
            }
        }
        s.push_str("ephemeral nodes dump:\n");
        let sessions = self.db.tree.ephemeral_sessions();
        let _ = writeln!(s, "Sessions with Ephemerals ({}):", sessions.len());
        for sid in sessions {
            let _ = writeln!(s, "0x{sid:x}:");
            let mut paths = self.db.tree.ephemerals(sid);
            paths.sort();
            for p in paths {
                let _ = writeln!(s, "\t{p}");
            }
        }
        s.push_str("Connections dump:\n");
        let mut by_expiry: std::collections::BTreeMap<u64, Vec<(SocketAddr, i64)>> =
            Default::default();
        let mut listed = 0;
        for c in self.conns.values() {
            if let Some(at) = self.sessions.expires_at(c.session) {
                by_expiry.entry(at).or_default().push((c.addr, c.session));
                listed += 1;
            }
        }
        let _ = writeln!(s, "Connections Sets ({})/({listed}):", by_expiry.len());
        for (at, mut conns) in by_expiry {
            conns.sort_unstable();
            let _ = writeln!(
                s,
                "{} expire at {}:",
                conns.len(),
                java_date_utc(wall_of(at))
            );
            for (addr, session) in conns {
                let _ = writeln!(
                    s,
                    "\tip: {} sessionId: 0x{session:x}",
                    java_socket_addr(&addr)
                );
            }
        }
    }
}

/// `Environment.list()` as `envi` prints it. The JVM's entries have no JVM behind them here:
/// `java.*` are `<NA>` (the JVM's own word for a missing property) except
/// `java.io.tmpdir`, this process's temporary directory. The `os.memory.*`
/// entries, the JVM heap's free/max/total, become the memory the system has
/// available, the memory this process may use (the cgroup limit, else all
/// of it) and the memory it holds (resident set), in MB.
fn render_envi(s: &mut String) {
    s.push_str("Environment:\n");
    for (k, v) in environment_rows() {
        let _ = writeln!(s, "{k}={v}");
    }
}

/// The rows of `Environment.list()` (see [`render_envi`]), shared by `envi`
/// and the AdminServer's `environment`.
pub(crate) fn environment_rows() -> [(&'static str, String); 18] {
    const NA: &str = "<NA>";
    let (user, home) = user_name_and_home();
    let mb = |kb: Option<u64>| kb.map_or(NA.to_string(), |kb| format!("{}MB", kb / 1024));
    let rows: [(&str, String); 18] = [
        ("zookeeper.version", VERSION_LINE.to_string()),
        ("host.name", read_trimmed("/proc/sys/kernel/hostname")),
        ("java.version", NA.into()),
        ("java.vendor", NA.into()),
        ("java.home", NA.into()),
        ("java.class.path", NA.into()),
        ("java.library.path", NA.into()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", NA.into()),
        ("os.name", read_trimmed("/proc/sys/kernel/ostype")),
        ("os.arch", java_os_arch().into()),
        ("os.version", read_trimmed("/proc/sys/kernel/osrelease")),
        ("user.name", user),
        ("user.home", home),
        (
            "user.dir",
            std::env::current_dir().map_or(NA.into(), |d| d.display().to_string()),
        ),
        ("os.memory.free", mb(meminfo_kb("MemAvailable:"))),
        ("os.memory.max", mb(memory_limit_kb())),
        ("os.memory.total", mb(status_kb("VmRSS:"))),
    ];
    rows
}

/// A /proc file's text, or `<NA>`.
fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or("<NA>".into(), |t| t.trim().to_string())
}

/// `os.arch` as the JVM names it (`amd64` for x86_64, `x86` for i386).
fn java_os_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "x86",
        other => other,
    }
}

/// A `Key:   123 kB` line of a /proc file, in kB.
fn proc_kb(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn meminfo_kb(key: &str) -> Option<u64> {
    proc_kb("/proc/meminfo", key)
}

fn status_kb(key: &str) -> Option<u64> {
    proc_kb("/proc/self/status", key)
}

/// The cgroup (v2) memory limit if there is one, else the machine's memory.
fn memory_limit_kb() -> Option<u64> {
    let total = meminfo_kb("MemTotal:");
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(|bytes| bytes / 1024);
    match (cgroup, total) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    }
}

/// This process's user name and home directory from /etc/passwd (what
/// the JVM's `user.name` and `user.home` come from), by real uid.
fn user_name_and_home() -> (String, String) {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| "<NA>".into());
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next().map(str::to_string))
        });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry = uid.and_then(|uid| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[2] == uid).then(|| (f[0].to_string(), f[5].to_string()))
        })
    });
    entry.unwrap_or_else(|| (env("USER"), env("HOME")))
}

/// `getDataDirSize` / `getLogDirSize`: bytes of every file under
/// `dir/version-2`, recursively; 0 if it does not exist.
pub(super) fn version_dir_size(dir: &str) -> u64 {
    fn size(p: &Path, depth: usize) -> u64 {
        let Ok(meta) = std::fs::metadata(p) else {
            return 0;
        };
        if !meta.is_dir() {
            return meta.len();
        }
        if depth == 0 {
            return 0;
        }
        std::fs::read_dir(p).map_or(0, |rd| {
            rd.filter_map(Result::ok)
                .map(|e| size(&e.path(), depth - 1))
                .sum()
        })
    }
    size(&Path::new(dir).join("version-2"), 16)
}
