//! The accept loop and the per-IP connection limit (maxClientCnxns).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::connection::{serve_connection, ConnLimits};
use crate::pipeline::CoreMsg;

/// A bound client port.
pub struct Listener {
    pub inner: TcpListener,
}

impl Listener {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let inner = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot bind client port {addr}: {e}"))
        })?;
        Ok(Listener { inner })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Counts connections per client IP; taken once per connection, never per request.
#[derive(Default)]
struct PerIpCount {
    counts: Mutex<HashMap<IpAddr, u32>>,
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
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

impl PerIpCount {
    fn try_take(self: &Arc<Self>, ip: IpAddr, max: u32) -> Option<PerIpGuard> {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let n = counts.entry(ip).or_insert(0);
        if max != 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(PerIpGuard {
            table: self.clone(),
            ip,
        })
    }
}

/// Accepts clients until the listener fails; each connection runs in its own task.
pub async fn serve(listener: Listener, core: mpsc::Sender<CoreMsg>, limits: ConnLimits) {
    let next_id = AtomicU64::new(1);
    let per_ip = Arc::new(PerIpCount::default());
    loop {
        let (stream, addr) = match listener.inner.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: keep serving the connections we have.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(guard) = per_ip.try_take(addr.ip(), limits.max_client_cnxns) else {
            warn!(
                "Too many connections from {} - max is {}",
                addr.ip(),
                limits.max_client_cnxns
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let core = core.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            serve_connection(stream, addr, id, core, limits).await;
            drop(guard);
        });
    }
}

#[allow(dead_code)]
fn _log_info() {
    info!("");
}
