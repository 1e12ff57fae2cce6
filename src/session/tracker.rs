//! Session bookkeeping and tick-bucket expiry (ZooKeeper's `SessionTrackerImpl`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::SessionId;

/// One live session as the tracker sees it.
#[derive(Debug, Clone)]
struct Session {
    timeout_ms: i32,
    /// The tick boundary at which the session expires unless touched.
    expires_at_ms: u64,
    /// Set once a closeSession has been prepared: the session accepts no more
    /// requests and must not be expired a second time.
    closing: bool,
    /// Which server the client is attached to, as the leader knows it;
    /// `None` until the first request or reattach says.
    owner: Option<SessionOwner>,
}

/// Where a session's client is attached, as ZooKeeper's leader tracks it
/// (`SessionImpl.owner`): a request that arrives by any other way is
/// refused with SESSIONMOVED, so a write sent through a server the client
/// has left can never be applied after the client's later writes
/// (ZOOKEEPER-710).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOwner {
    /// A connection to this server.
    Local,
    /// A connection to the learner with this server id.
    Learner(u64),
}

/// What checking a request's owner against its session found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerCheck {
    Ok,
    /// Unknown, or already closing.
    Gone,
    /// Attached elsewhere: ZooKeeper's SessionMovedException.
    Moved,
}

/// What touching a session found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchOutcome {
    Alive,
    /// Unknown, or already closing: ZooKeeper answers SessionExpired.
    Gone,
}

/// Tracks every session's deadline in buckets of one tick.
///
/// Bound: one entry per live session; a client that connects and dies
/// leaves its session here for its timeout (at most `maxSessionTimeout`),
/// then expiry removes it, whatever the load (the core checks deadlines
/// after every pass: `tests/core_saturation.rs`, `compat-tests/expiry-load`).
/// Emptied buckets are dropped at once.
///
/// Times are milliseconds on a clock the caller supplies, so tests and the
/// simulator drive expiry without sleeping.
#[derive(Debug)]
pub struct SessionTracker {
    tick_ms: u64,
    sessions: HashMap<SessionId, Session>,
    buckets: BTreeMap<u64, HashSet<SessionId>>,
    next_session_id: SessionId,
}

impl SessionTracker {
    /// `server_id` goes into the top byte of every id, and `now_wall_ms` seeds
    /// the rest, exactly as `SessionTrackerImpl.initializeNextSessionId` does:
    /// ids from different servers, or from one server across restarts, differ.
    pub fn new(tick_ms: u64, server_id: u8, now_wall_ms: u64) -> Self {
        let mut next = (((now_wall_ms << 24) >> 8) as i64) | (i64::from(server_id) << 56);
        // The container marker must never be a session id.
        if next == i64::MIN {
            next += 1;
        }
        SessionTracker {
            tick_ms: tick_ms.max(1),
            sessions: HashMap::new(),
            buckets: BTreeMap::new(),
            next_session_id: next,
        }
    }

    /// The next tick boundary strictly after `time_ms`.
    fn round_to_next_tick(&self, time_ms: u64) -> u64 {
        (time_ms / self.tick_ms + 1) * self.tick_ms
    }

    /// Allocates a fresh id; the session itself is added by [`Self::add`]
    /// when its createSession txn is prepared.
    pub fn next_id(&mut self) -> SessionId {
        let id = self.next_session_id;
        self.next_session_id = self.next_session_id.wrapping_add(1);
        if self.next_session_id == i64::MIN {
            self.next_session_id += 1;
        }
        id
    }

    /// Adds (or refreshes) a session, e.g. from createSession or recovery.
    pub fn add(&mut self, id: SessionId, timeout_ms: i32, now_ms: u64) {
        if let Some(old) = self.sessions.remove(&id) {
            self.unbucket(id, old.expires_at_ms);
        }
        let expires_at_ms = self.round_to_next_tick(now_ms + timeout_ms.max(0) as u64);
        self.sessions.insert(
            id,
            Session {
                timeout_ms,
                expires_at_ms,
                closing: false,
                owner: None,
            },
        );
        self.buckets.entry(expires_at_ms).or_default().insert(id);
    }

    fn unbucket(&mut self, id: SessionId, at: u64) {
        if let Some(set) = self.buckets.get_mut(&at) {
            set.remove(&id);
            if set.is_empty() {
                self.buckets.remove(&at);
            }
        }
    }

    /// Pushes the deadline out by the session's timeout; every request and
    /// ping from the client does this.
    pub fn touch(&mut self, id: SessionId, now_ms: u64) -> TouchOutcome {
        let Some(s) = self.sessions.get(&id) else {
            return TouchOutcome::Gone;
        };
        if s.closing {
            return TouchOutcome::Gone;
        }
        let new_at = self.round_to_next_tick(now_ms + s.timeout_ms.max(0) as u64);
        let old_at = s.expires_at_ms;
        if new_at <= old_at {
            return TouchOutcome::Alive;
        }
        self.unbucket(id, old_at);
        if let Some(s) = self.sessions.get_mut(&id) {
            s.expires_at_ms = new_at;
        }
        self.buckets.entry(new_at).or_default().insert(id);
        TouchOutcome::Alive
    }

    /// Whether `id` may still issue requests.
    pub fn is_active(&self, id: SessionId) -> bool {
        self.sessions.get(&id).is_some_and(|s| !s.closing)
    }

    /// ZooKeeper's `checkSession(id, owner)`: the first owner to ask takes
    /// the session; another one is told it moved.
    pub fn check_owner(&mut self, id: SessionId, owner: SessionOwner) -> OwnerCheck {
        match self.sessions.get_mut(&id) {
            None => OwnerCheck::Gone,
            Some(s) if s.closing => OwnerCheck::Gone,
            Some(s) => match s.owner {
                None => {
                    s.owner = Some(owner);
                    OwnerCheck::Ok
                }
                Some(o) if o == owner => OwnerCheck::Ok,
                Some(_) => OwnerCheck::Moved,
            },
        }
    }

    /// The client reattached (or created its session) through `owner`.
    pub fn set_owner(&mut self, id: SessionId, owner: SessionOwner) {
        if let Some(s) = self.sessions.get_mut(&id).filter(|s| !s.closing) {
            s.owner = Some(owner);
        }
    }

    /// A new leader knows no owners: each session's next request or
    /// reattach sets it, as a leader's fresh `SessionTrackerImpl` does.
    pub fn forget_owners(&mut self) {
        for s in self.sessions.values_mut() {
            s.owner = None;
        }
    }

    pub fn contains(&self, id: SessionId) -> bool {
        self.sessions.contains_key(&id)
    }

    pub fn timeout_ms(&self, id: SessionId) -> Option<i32> {
        self.sessions.get(&id).map(|s| s.timeout_ms)
    }

    /// Marks the session as closing (closeSession prepared).
    pub fn set_closing(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    /// Forgets a session once its closeSession txn is applied.
    pub fn remove(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.remove(&id) {
            self.unbucket(id, s.expires_at_ms);
        }
    }

    /// When the earliest bucket falls due, if any session is tracked.
    pub fn next_expiry_ms(&self) -> Option<u64> {
        self.buckets.keys().next().copied()
    }

    /// Removes and returns every session whose bucket is due at `now_ms`,
    /// marking each closing; the caller turns each into a closeSession txn.
    pub fn take_expired(&mut self, now_ms: u64) -> Vec<SessionId> {
        let mut out = Vec::new();
        while let Some((&at, _)) = self.buckets.iter().next() {
            if at > now_ms {
                break;
            }
            if let Some(ids) = self.buckets.remove(&at) {
                let mut ids: Vec<_> = ids.into_iter().collect();
                ids.sort_unstable();
                for id in ids {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        if !s.closing {
                            s.closing = true;
                            out.push(id);
                        }
                    }
                }
            }
        }
        out
    }

    /// Every session with its timeout, for dumps and snapshots.
    pub fn sessions(&self) -> impl Iterator<Item = (SessionId, i32)> + '_ {
        self.sessions.iter().map(|(&id, s)| (id, s.timeout_ms))
    }

    /// When a session's bucket falls due (tracker clock), unless it is
    /// unknown or already closing.
    pub fn expires_at(&self, id: SessionId) -> Option<u64> {
        self.sessions
            .get(&id)
            .filter(|s| !s.closing)
            .map(|s| s.expires_at_ms)
    }

    /// Expiry buckets in time order, for the `dump` four-letter word.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, &HashSet<SessionId>)> {
        self.buckets.iter().map(|(&at, ids)| (at, ids))
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_server_id_and_are_unique() {
        let mut t = SessionTracker::new(2000, 1, 1_700_000_000_000);
        let a = t.next_id();
        let b = t.next_id();
        assert_eq!(a >> 56, 1);
        assert_ne!(a, b);
    }

    #[test]
    fn expiry_is_bucketed_to_ticks() {
        let mut t = SessionTracker::new(100, 1, 0);
        t.add(7, 250, 1_000);
        // 1000 + 250 = 1250 → next tick boundary 1300.
        assert_eq!(t.next_expiry_ms(), Some(1300));
        assert!(t.take_expired(1299).is_empty());
        assert_eq!(t.take_expired(1300), vec![7]);
        assert!(!t.is_active(7), "expired session is closing");
        assert_eq!(t.touch(7, 1301), TouchOutcome::Gone);
    }

    #[test]
    fn touch_moves_deadline_forward_only() {
        let mut t = SessionTracker::new(100, 1, 0);
        t.add(1, 1000, 0);
        assert_eq!(t.next_expiry_ms(), Some(1100));
        assert_eq!(t.touch(1, 500), TouchOutcome::Alive);
        assert_eq!(t.next_expiry_ms(), Some(1600));
        assert!(t.take_expired(1100).is_empty());
        assert_eq!(t.touch(2, 500), TouchOutcome::Gone);
    }

    #[test]
    fn the_first_owner_takes_the_session_and_another_is_told_it_moved() {
        let mut t = SessionTracker::new(100, 1, 0);
        t.add(1, 1000, 0);
        assert_eq!(t.check_owner(1, SessionOwner::Learner(2)), OwnerCheck::Ok);
        assert_eq!(t.check_owner(1, SessionOwner::Learner(2)), OwnerCheck::Ok);
        assert_eq!(t.check_owner(1, SessionOwner::Local), OwnerCheck::Moved);
        t.set_owner(1, SessionOwner::Local);
        assert_eq!(
            t.check_owner(1, SessionOwner::Learner(2)),
            OwnerCheck::Moved
        );
        t.forget_owners();
        assert_eq!(t.check_owner(1, SessionOwner::Learner(3)), OwnerCheck::Ok);
        assert_eq!(t.check_owner(9, SessionOwner::Local), OwnerCheck::Gone);
        t.set_closing(1);
        assert_eq!(t.check_owner(1, SessionOwner::Learner(3)), OwnerCheck::Gone);
    }

    #[test]
    fn remove_forgets_session() {
        let mut t = SessionTracker::new(100, 1, 0);
        t.add(1, 1000, 0);
        t.remove(1);
        assert!(t.is_empty());
        assert_eq!(t.next_expiry_ms(), None);
    }
}
