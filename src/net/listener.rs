//! The accept loop and the connection limits checked at accept:
//! maxClientCnxns (per client IP) and `zookeeper.maxCnxns` (in all), both
//! as `NIOServerCnxnFactory.doAccept` applies them: the socket is accepted
//! and closed at once.
//!
//! A failing `accept` (EMFILE when out of file descriptors, ENFILE, ...)
//! pauses accepting for 10 ms, as ZooKeeper's `pauseAccept(10)` does, so
//! the loop neither spins nor dies; the connections already open are
//! served meanwhile. Failures are logged at most once a second.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::warn;

use super::connection::{serve_connection, ConnLimits, ConnShared};
use super::load::ServerLoad;
use crate::admin::java_fmt::{java_inet_addr, JavaSocketAddr};
use crate::pipeline::CoreMsg;

/// How long accepting pauses after `accept` fails (`pauseAccept(10)`).
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);

/// A bound client port.
pub struct Listener {
    pub inner: TcpListener,
}

impl Listener {
    /// Binds the client port; a wildcard address listens dual-stack
    /// ([`super::dual_stack`]), as ZooKeeper does.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let inner = super::dual_stack::bind(addr)
            .and_then(TcpListener::from_std)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot bind client port {addr}: {e}"))
            })?;
        Ok(Listener { inner })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Counts connections per client IP and in all; taken once per connection,
/// never per request. Bound: one entry per IP with a connection open now
/// (an IP's entry goes with its last connection), so at most `maxCnxns`
/// entries when that is set.
#[derive(Default)]
struct PerIpCount {
    counts: Mutex<CnxnCounts>,
}

#[derive(Default)]
struct CnxnCounts {
    per_ip: HashMap<IpAddr, u32>,
    total: u32,
}

/// Why a connection was refused at accept.
enum Refusal {
    /// maxCnxns: (connections now, the limit).
    Total(u32, u32),
    PerIp(u32),
}

struct PerIpGuard {
    table: Arc<PerIpCount>,
    ip: IpAddr,
}

impl Drop for PerIpGuard {
    fn drop(&mut self) {
        let mut counts = match self.table.counts.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

impl PerIpCount {
    /// Counts one more connection from `ip`, unless that would exceed
    /// `max_total` in all or `max_per_ip` from it (0: no limit).
    fn try_take(
        self: &Arc<Self>,
        ip: IpAddr,
        max_per_ip: u32,
        max_total: u32,
    ) -> Result<PerIpGuard, Refusal> {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        // doAccept checks the total first.
        if max_total != 0 && counts.total >= max_total {
            return Err(Refusal::Total(counts.total, max_total));
        }
        let n = counts.per_ip.entry(ip).or_insert(0);
        if max_per_ip != 0 && *n >= max_per_ip {
            return Err(Refusal::PerIp(max_per_ip));
        }
        *n += 1;
        counts.total += 1;
        Ok(PerIpGuard {
            table: self.clone(),
            ip,
        })
    }
}

/// Logs accept failures at most once per interval, with how many were
/// not logged (ZooKeeper's `RateLogger`).
struct RateLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLog {
    fn warn(&mut self, msg: &str) {
        let now = Instant::now();
        match self.last {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => self.suppressed += 1,
            _ => {
                if self.suppressed > 0 {
                    warn!(
                        "{msg} (and {} more like it in the last second)",
                        self.suppressed
                    );
                } else {
                    warn!("{msg}");
                }
                self.last = Some(now);
                self.suppressed = 0;
            }
        }
    }
}

/// Accepts clients until the listener fails; each connection runs in its own task.
pub async fn serve(
    listener: Listener,
    core: mpsc::Sender<CoreMsg>,
    limits: ConnLimits,
    load: Arc<ServerLoad>,
) {
    let next_id = AtomicU64::new(1);
    let counts = Arc::new(PerIpCount::default());
    let shared = Arc::new(ConnShared::new(limits, load));
    let mut errors = RateLog {
        last: None,
        suppressed: 0,
    };
    loop {
        let (stream, addr) = match listener.inner.accept().await {
            // IPv4 clients of the dual-stack socket as IPv4, as Java shows them.
            Ok((s, addr)) => (s, super::dual_stack::canonical_peer(addr)),
            Err(e) => {
                // EMFILE and friends: keep serving the connections we have,
                // and give them time to free descriptors.
                shared.load.note_accept_error();
                errors.warn(&format!("Error accepting new connection: {e}"));
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        let limits = &shared.limits;
        let guard = match counts.try_take(addr.ip(), limits.max_client_cnxns, limits.max_cnxns) {
            Ok(g) => g,
            Err(why) => {
                shared.load.note_rejected();
                match why {
                    Refusal::Total(n, max) => errors.warn(&format!(
                        "Too many connections {n} - max is {max}; refusing {}",
                        JavaSocketAddr(addr)
                    )),
                    Refusal::PerIp(max) => errors.warn(&format!(
                        "Too many connections from {} - max is {max}",
                        java_inet_addr(addr.ip())
                    )),
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let core = core.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            serve_connection(stream, addr, id, core, shared).await;
            drop(guard);
        });
    }
}
