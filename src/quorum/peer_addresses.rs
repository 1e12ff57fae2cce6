//! Where the other voters are now: each peer's host name as zoo.cfg gives
//! it, next to the last address it resolved to.
//!
//! A peer's container can come back on a new IP under the same name, so a
//! dial resolves the name again first, as Java ZooKeeper 3.8 does:
//! `QuorumCnxManager.connectOne(sid)` calls `QuorumPeer.recreateSocketAddresses(sid)`
//! before each election dial to a peer it has no connection to, and
//! `Learner.findLeader` calls `QuorumServer.recreateSocketAddresses()`
//! before each `connectToLeader`. Both end in
//! `MultipleAddresses.recreateSocketAddress`: `InetAddress.getByName(host)`,
//! and on `UnknownHostException` the old address stays. Here the lookup runs
//! in the dialing task (never the core's), under a timeout; a name that
//! does not resolve, or not in time, keeps its last good address and is
//! looked up again at the next dial. IP literals are never looked up (nor
//! are they by `getByName`). Java 3.8 changes the address silently; a
//! change is logged here (info), since it is what an operator wants to see
//! when a restarted container is reached again.
//!
//! Each port has a book of its own (Java's `addr` and `electionAddr` are
//! separate `MultipleAddresses`, resolved separately too).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a dial waits for a peer's name to resolve before it uses the
/// last good address (glibc's own retries can take 10 s and more).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// A host name lookup in flight.
pub type Lookup = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'static>>;

/// Turns a host name into addresses, best first. Tests inject their own.
pub trait Resolver: Send + Sync + 'static {
    fn lookup(&self, host: &str) -> Lookup;
}

/// The system's resolver (getaddrinfo, through tokio's blocking pool).
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, host: &str) -> Lookup {
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// The peers of one port (election or quorum): cheap to clone, shared by
/// every dial.
#[derive(Clone)]
pub struct PeerAddresses {
    inner: Arc<Book>,
}

struct Book {
    /// "election" or "quorum", for the log.
    port_name: &'static str,
    peers: BTreeMap<u64, Peer>,
    resolver: Arc<dyn Resolver>,
    timeout: Duration,
}

struct Peer {
    /// `None` for an IP literal: nothing to look up.
    host: Option<String>,
    last: Mutex<Last>,
}

struct Last {
    addr: SocketAddr,
    /// The last lookup failed (logged once at warn until one succeeds).
    failing: bool,
}

impl PeerAddresses {
    /// Fixed addresses, never looked up (tests, probes).
    pub fn fixed(peers: BTreeMap<u64, SocketAddr>) -> Self {
        let named = peers
            .into_iter()
            .map(|(sid, a)| (sid, a.ip().to_string(), a));
        Self::resolving("peer", named, Arc::new(SystemResolver), LOOKUP_TIMEOUT)
    }

    /// `peers` as (sid, host as configured, address it resolved to at
    /// start); the port of that address is the one dialed for ever.
    pub fn resolving(
        port_name: &'static str,
        peers: impl IntoIterator<Item = (u64, String, SocketAddr)>,
        resolver: Arc<dyn Resolver>,
        timeout: Duration,
    ) -> Self {
        let peers = peers
            .into_iter()
            .map(|(sid, host, addr)| {
                let host = host.parse::<IpAddr>().is_err().then_some(host);
                let last = Mutex::new(Last {
                    addr,
                    failing: false,
                });
                (sid, Peer { host, last })
            })
            .collect();
        PeerAddresses {
            inner: Arc::new(Book {
                port_name,
                peers,
                resolver,
                timeout,
            }),
        }
    }

    /// Whether `sid` is one of the peers (a voter of our config, not us).
    pub fn contains(&self, sid: u64) -> bool {
        self.inner.peers.contains_key(&sid)
    }

    /// The peers' sids, in order.
    pub fn sids(&self) -> impl Iterator<Item = u64> + '_ {
        self.inner.peers.keys().copied()
    }

    /// The address `sid` resolved to last, without a lookup.
    pub fn last_known(&self, sid: u64) -> Option<SocketAddr> {
        let peer = self.inner.peers.get(&sid)?;
        Some(lock(&peer.last).addr)
    }

    /// Resolves `sid`'s name again and returns the address to dial: the new
    /// one, or the last good one if the name does not resolve (in time).
    /// `None` only for a sid that is not a peer.
    pub async fn refresh(&self, sid: u64) -> Option<SocketAddr> {
        let b = &*self.inner;
        let peer = b.peers.get(&sid)?;
        let Some(host) = &peer.host else {
            return Some(lock(&peer.last).addr);
        };
        let found = match tokio::time::timeout(b.timeout, b.resolver.lookup(host)).await {
            Ok(Ok(ips)) => ips.first().copied().ok_or_else(|| "no address".to_owned()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", b.timeout)),
        };
        let mut last = lock(&peer.last);
        match found {
            Ok(ip) => {
                let now = SocketAddr::new(ip, last.addr.port());
                if now != last.addr {
                    tracing::info!(
                        "server.{sid}'s {} address changed: {host} resolves to {now}, was {}",
                        b.port_name,
                        last.addr
                    );
                    last.addr = now;
                }
                last.failing = false;
            }
            Err(why) => {
                if last.failing {
                    tracing::debug!(
                        "server.{sid}: cannot resolve {host} ({why}); dialing {}",
                        last.addr
                    );
                } else {
                    tracing::warn!(
                        "server.{sid}: cannot resolve {host} ({why}); dialing its last address {} and resolving again at the next dial",
                        last.addr
                    );
                    last.failing = true;
                }
            }
        }
        Some(last.addr)
    }
}

impl std::fmt::Debug for PeerAddresses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (sid, peer) in &self.inner.peers {
            let last = lock(&peer.last).addr;
            match &peer.host {
                Some(host) => m.entry(sid, &format_args!("{host} ({last})")),
                None => m.entry(sid, &last),
            };
        }
        m.finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each critical section writes one value; a panic elsewhere cannot tear it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A resolver whose answers a test sets (no DNS needed).
#[cfg(test)]
pub(crate) mod test_resolver {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers from a table the test changes; counts lookups.
    #[derive(Default)]
    pub(crate) struct Table {
        /// Each lookup takes the first answer, the last one stays.
        names: Mutex<BTreeMap<String, VecDeque<Option<Vec<IpAddr>>>>>,
        hang: Mutex<bool>,
        pub(crate) lookups: AtomicUsize,
    }

    impl Table {
        /// `host` resolves to `ips` from now on (`None`: it does not resolve).
        pub(crate) fn set(&self, host: &str, ips: Option<&[&str]>) {
            self.script(host, &[ips]);
        }

        /// `host`'s next lookups give these answers in turn, then the last for ever.
        pub(crate) fn script(&self, host: &str, answers: &[Option<&[&str]>]) {
            let answers = answers
                .iter()
                .map(|a| a.map(|ips| ips.iter().map(|ip| ip.parse().expect("an IP")).collect()))
                .collect();
            lock(&self.names).insert(host.to_owned(), answers);
        }

        /// Lookups from now on never answer.
        pub(crate) fn hang(&self, hang: bool) {
            *lock(&self.hang) = hang;
        }

        pub(crate) fn resolver(self: &Arc<Self>) -> Arc<dyn Resolver> {
            Arc::new(Injected(self.clone()))
        }
    }

    struct Injected(Arc<Table>);

    impl Resolver for Injected {
        fn lookup(&self, host: &str) -> Lookup {
            let t = &self.0;
            t.lookups.fetch_add(1, Ordering::SeqCst);
            let hang = *lock(&t.hang);
            let answer = lock(&t.names).get_mut(host).and_then(|answers| {
                if answers.len() > 1 {
                    answers.pop_front().flatten()
                } else {
                    answers.front().cloned().flatten()
                }
            });
            Box::pin(async move {
                if hang {
                    std::future::pending::<()>().await;
                }
                answer.ok_or_else(|| io::Error::other("Name or service not known"))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_resolver::Table;
    use super::*;
    use std::sync::atomic::Ordering;

    fn book(table: &Arc<Table>) -> PeerAddresses {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        PeerAddresses::resolving(
            "election",
            [
                (2, "zoo2".to_owned(), at("172.18.0.3:3888")),
                (3, "10.0.0.9".to_owned(), at("10.0.0.9:3888")),
            ],
            table.resolver(),
            Duration::from_millis(200),
        )
    }

    #[tokio::test]
    async fn a_moved_peer_is_dialed_at_its_new_address_on_the_configured_port() {
        let table = Arc::new(Table::default());
        let peers = book(&table);
        table.set("zoo2", Some(&["172.18.0.3"]));
        assert_eq!(
            peers.refresh(2).await,
            Some("172.18.0.3:3888".parse().unwrap())
        );
        // The container came back elsewhere: the next dial goes there.
        table.set("zoo2", Some(&["172.18.0.7", "172.18.0.8"]));
        assert_eq!(
            peers.refresh(2).await,
            Some("172.18.0.7:3888".parse().unwrap())
        );
        assert_eq!(
            peers.last_known(2),
            Some("172.18.0.7:3888".parse().unwrap())
        );
        assert_eq!(table.lookups.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_name_that_stops_resolving_keeps_its_last_good_address_and_is_retried() {
        let table = Arc::new(Table::default());
        let peers = book(&table);
        table.set("zoo2", Some(&["172.18.0.5"]));
        let good: SocketAddr = "172.18.0.5:3888".parse().unwrap();
        assert_eq!(peers.refresh(2).await, Some(good));
        table.set("zoo2", None);
        assert_eq!(peers.refresh(2).await, Some(good));
        table.set("zoo2", Some(&[]));
        assert_eq!(peers.refresh(2).await, Some(good));
        // A lookup that hangs is abandoned after the timeout.
        table.hang(true);
        let t = tokio::time::Instant::now();
        assert_eq!(peers.refresh(2).await, Some(good));
        assert!(t.elapsed() >= Duration::from_millis(200));
        table.hang(false);
        // Each dial asked again, and the name is back on a new address.
        table.set("zoo2", Some(&["172.18.0.6"]));
        assert_eq!(
            peers.refresh(2).await,
            Some("172.18.0.6:3888".parse().unwrap())
        );
        assert_eq!(table.lookups.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn ip_literals_and_strangers_are_never_looked_up() {
        let table = Arc::new(Table::default());
        let peers = book(&table);
        assert_eq!(
            peers.refresh(3).await,
            Some("10.0.0.9:3888".parse().unwrap())
        );
        assert_eq!(peers.refresh(7).await, None);
        assert!(peers.contains(2) && peers.contains(3) && !peers.contains(1));
        assert_eq!(peers.sids().collect::<Vec<_>>(), [2, 3]);
        let v6 = PeerAddresses::fixed(BTreeMap::from([(4, "[::1]:2888".parse().unwrap())]));
        assert_eq!(v6.refresh(4).await, Some("[::1]:2888".parse().unwrap()));
        assert_eq!(table.lookups.load(Ordering::SeqCst), 0);
    }
}
