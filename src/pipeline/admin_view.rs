//! What the admin commands read from the core, formatted as ZooKeeper 3.8
//! formats it (`ServerStats.toString`, `ServerCnxn.dumpConnectionInfo`,
//! `ZooKeeperServer.dumpConf`, `dumpMonitorValues`).

use std::fmt::Write;

use super::core::Core;
use crate::admin::VERSION_LINE;
use crate::watch::WatcherId;

impl Core {
    pub(crate) fn four_letter_enabled(&self, cmd: &str) -> bool {
        self.info
            .four_letter_words
            .iter()
            .any(|w| w == "*" || w == cmd)
    }

    fn stats_block(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Latency min/avg/max: {}", self.stats.latency_summary());
        let _ = writeln!(s, "Received: {}", self.stats.packets_received);
        let _ = writeln!(s, "Sent: {}", self.stats.packets_sent);
        let _ = writeln!(s, "Connections: {}", self.conns.len());
        let _ = writeln!(s, "Outstanding: {}", self.fifo.len());
        let _ = writeln!(s, "Zxid: 0x{:x}", self.last_applied_zxid);
        let _ = writeln!(s, "Mode: standalone");
        s
    }

    fn conn_lines(&self, brief: bool) -> String {
        let mut s = String::new();
        let mut ids: Vec<_> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(c) = self.conns.get(&id) else {
                continue;
            };
            let _ = write!(
                s,
                " /{}:{}[1](queued=0,recved={},sent={}",
                c.addr.ip(),
                c.addr.port(),
                c.stats.packets_received,
                c.stats.packets_sent
            );
            if !brief {
                let _ = write!(
                    s,
                    ",sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x}",
                    c.session,
                    op_name(c.stats.last_op),
                    c.stats.established_wall_ms,
                    c.timeout_ms,
                    c.stats.last_cxid,
                    c.stats.last_zxid
                );
            }
            s.push_str(")\n");
        }
        s
    }

    fn session_of(&self, w: WatcherId) -> i64 {
        self.conns.get(&w.0).map_or(0, |c| c.session)
    }

    /// Every four-letter word but ruok/isro (answered in `admin`).
    pub(crate) fn render_admin(&mut self, cmd: &str) -> String {
        let mut s = String::new();
        match cmd {
            "srvr" | "stat" => {
                let _ = writeln!(s, "Zookeeper version: {VERSION_LINE}");
                if cmd == "stat" {
                    s.push_str("Clients:\n");
                    s.push_str(&self.conn_lines(true));
                    s.push('\n');
                }
                s.push_str(&self.stats_block());
                let _ = writeln!(s, "Node count: {}", self.tree.node_count());
            }
            "cons" => {
                s.push_str(&self.conn_lines(false));
                s.push('\n');
            }
            "crst" => {
                for c in self.conns.values_mut() {
                    c.stats.reset();
                }
                s.push_str("Connection stats reset.\n");
            }
            "srst" => {
                self.stats.reset();
                s.push_str("Server stats reset.\n");
            }
            "conf" => {
                s.push_str(&self.info.conf_text);
            }
            "envi" => {
                s.push_str("Environment:\n");
                let _ = writeln!(s, "zookeeper.version={VERSION_LINE}");
                let _ = writeln!(s, "host.name={}", hostname());
                let _ = writeln!(s, "os.name={}", std::env::consts::OS);
                let _ = writeln!(s, "os.arch={}", std::env::consts::ARCH);
                let _ = writeln!(
                    s,
                    "user.dir={}",
                    std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                );
            }
            "mntr" => {
                let (min, avg, max) = self.stats.latency();
                let ephemerals = self.tree.ephemerals_count();
                let rows: Vec<(&str, String)> = vec![
                    ("zk_version", VERSION_LINE.to_string()),
                    ("zk_server_state", "standalone".to_string()),
                    ("zk_ephemerals_count", ephemerals.to_string()),
                    ("zk_min_latency", min.to_string()),
                    ("zk_avg_latency", format!("{avg:.4}")),
                    ("zk_max_latency", max.to_string()),
                    (
                        "zk_packets_received",
                        self.stats.packets_received.to_string(),
                    ),
                    ("zk_packets_sent", self.stats.packets_sent.to_string()),
                    ("zk_num_alive_connections", self.conns.len().to_string()),
                    ("zk_outstanding_requests", self.fifo.len().to_string()),
                    ("zk_znode_count", self.tree.node_count().to_string()),
                    ("zk_watch_count", self.watches.watch_count().to_string()),
                    (
                        "zk_approximate_data_size",
                        self.tree.approximate_data_size().to_string(),
                    ),
                    ("zk_global_sessions", self.sessions.len().to_string()),
                    ("zk_local_sessions", "0".to_string()),
                    ("zk_last_proposal_size", "-1".to_string()),
                    ("zk_max_proposal_size", "-1".to_string()),
                    ("zk_min_proposal_size", "-1".to_string()),
                    ("zk_uptime", self.started.elapsed().as_millis().to_string()),
                ];
                for (k, v) in rows {
                    let _ = writeln!(s, "{k}\t{v}");
                }
            }
            "wchs" => {
                s.push_str(&self.watches.summary().format_4lw());
                s.push('\n');
            }
            "wchc" => {
                s.push_str(
                    &self
                        .watches
                        .watches_by_watcher()
                        .format_4lw(|w| self.session_of(w)),
                );
                s.push('\n');
            }
            "wchp" => {
                s.push_str(
                    &self
                        .watches
                        .watches_by_path()
                        .format_4lw(|w| self.session_of(w)),
                );
                s.push('\n');
            }
            "dump" => {
                s.push_str("SessionTracker dump:\n");
                let _ = writeln!(
                    s,
                    "Session Sets ({})/({}):",
                    self.sessions.buckets().count(),
                    self.sessions.len()
                );
                for (at, ids) in self.sessions.buckets() {
                    let _ = writeln!(s, "{} expire at {}:", ids.len(), at);
                    let mut ids: Vec<_> = ids.iter().copied().collect();
                    ids.sort_unstable();
                    for id in ids {
                        let _ = writeln!(s, "\t0x{id:x}");
                    }
                }
                s.push_str("ephemeral nodes dump:\n");
                let sessions = self.tree.ephemeral_sessions();
                let _ = writeln!(s, "Sessions with Ephemerals ({}):", sessions.len());
                for sid in sessions {
                    let _ = writeln!(s, "0x{sid:x}:");
                    let mut paths = self.tree.ephemerals(sid);
                    paths.sort();
                    for p in paths {
                        let _ = writeln!(s, "\t{p}");
                    }
                }
                s.push_str("Connections dump:\n");
            }
            "dirs" => {
                let _ = writeln!(s, "datadir_size: {}", dir_size(&self.info.data_dir));
                let _ = writeln!(s, "logdir_size: {}", dir_size(&self.info.data_log_dir));
            }
            "gtmk" => {
                s.push_str("0\n");
            }
            "stmk" => {
                s.push_str("0\n");
            }
            "hash" => {
                s.push_str("Digest in use: none\n");
            }
            _ => {}
        }
        s
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

fn dir_size(dir: &str) -> u64 {
    let path = std::path::Path::new(dir).join("version-2");
    std::fs::read_dir(&path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// ZooKeeper's short op names in `cons` (`Request.op2String`).
fn op_name(op: i32) -> &'static str {
    use jute::consts::OpCode;
    match OpCode::try_from(op) {
        Ok(OpCode::Create)
        | Ok(OpCode::Create2)
        | Ok(OpCode::CreateContainer)
        | Ok(OpCode::CreateTTL) => "CREA",
        Ok(OpCode::Delete) => "DELE",
        Ok(OpCode::Exists) => "EXIS",
        Ok(OpCode::GetData) => "GETD",
        Ok(OpCode::SetData) => "SETD",
        Ok(OpCode::GetACL) => "GETA",
        Ok(OpCode::SetACL) => "SETA",
        Ok(OpCode::GetChildren) | Ok(OpCode::GetChildren2) => "GETC",
        Ok(OpCode::Sync) => "SYNC",
        Ok(OpCode::Ping) => "PING",
        Ok(OpCode::Multi) => "MULT",
        Ok(OpCode::CloseSession) => "CLOS",
        Ok(OpCode::CreateSession) => "SESS",
        _ => "NA",
    }
}
