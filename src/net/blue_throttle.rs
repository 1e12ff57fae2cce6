//! Connection throttling: ZooKeeper 3.8's `BlueThrottle`, a token bucket
//! with optional BLUE-style random dropping, consulted once per
//! ConnectRequest (`ZooKeeperServer.processConnectRequest`). A refused
//! handshake closes the connection without an answer
//! (`ClientCnxnLimitException`).
//!
//! Semantics kept from the Java code, quirks included:
//! - `tokens` = 0 disables the throttle (the default).
//! - The bucket refills only once more than `fill_time` ms have passed
//!   since the last refill, by `elapsed * fill_count / fill_time` tokens,
//!   capped at `tokens`; the remainder of the interval is lost.
//! - With `freeze_time` != -1, at most once per `freeze_time` ms the drop
//!   chance rises by `drop_increase` when the bucket is empty, or falls by
//!   `drop_decrease` when the deficit is at most `decrease_ratio * tokens`;
//!   every check is first dropped with that chance.
//! - With `weight_enabled`, a new session costs the global-session weight
//!   (3), a reconnect the renew weight (2), and `tokens` and `fill_count`
//!   are multiplied by the global weight.

use std::time::Instant;

/// `zookeeper.connection_throttle_*` as ZooKeeper reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct BlueThrottleConfig {
    pub tokens: i32,
    pub fill_time_ms: i32,
    pub fill_count: i32,
    pub freeze_time_ms: i32,
    pub drop_increase: f64,
    pub drop_decrease: f64,
    pub decrease_ratio: f64,
    pub weight_enabled: bool,
    pub global_weight: i32,
    pub local_weight: i32,
    pub renew_weight: i32,
}

impl Default for BlueThrottleConfig {
    fn default() -> Self {
        BlueThrottleConfig {
            tokens: 0,
            fill_time_ms: 1,
            fill_count: 1,
            freeze_time_ms: -1,
            drop_increase: 0.02,
            drop_decrease: 0.002,
            decrease_ratio: 0.0,
            weight_enabled: false,
            global_weight: 3,
            local_weight: 1,
            renew_weight: 2,
        }
    }
}

impl BlueThrottleConfig {
    /// The weights as `BlueThrottle`'s static initialiser corrects them:
    /// non-positive weights fall back to their defaults, and the global and
    /// renew weights are at least the local one.
    fn effective_weights(&self) -> (i32, i32, i32) {
        let local = if self.local_weight <= 0 {
            1
        } else {
            self.local_weight
        };
        let global = if self.global_weight <= 0 {
            3
        } else if self.global_weight < self.local_weight {
            self.local_weight
        } else {
            self.global_weight
        };
        let renew = if self.renew_weight <= 0 {
            2
        } else if self.renew_weight < self.local_weight {
            self.local_weight
        } else {
            self.renew_weight
        };
        (global, local, renew)
    }
}

/// The bucket; one per server, taken once per handshake.
#[derive(Debug)]
pub struct BlueThrottle {
    max_tokens: i64,
    fill_time: i64,
    fill_count: i64,
    freeze_time: i64,
    drop_increase: f64,
    drop_decrease: f64,
    decrease_point: f64,
    weight_enabled: bool,
    global_weight: i32,
    renew_weight: i32,
    tokens: i64,
    last_time: i64,
    last_freeze: i64,
    drop: f64,
    rng: u64,
    epoch: Instant,
}

/// What kind of handshake asks for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    NewSession,
    Reconnect,
}

impl BlueThrottle {
    pub fn new(cfg: &BlueThrottleConfig) -> BlueThrottle {
        let (global, _local, renew) = cfg.effective_weights();
        let scale = if cfg.weight_enabled {
            i64::from(global)
        } else {
            1
        };
        let max_tokens = i64::from(cfg.tokens) * scale;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        BlueThrottle {
            max_tokens,
            fill_time: i64::from(cfg.fill_time_ms),
            fill_count: i64::from(cfg.fill_count) * scale,
            freeze_time: i64::from(cfg.freeze_time_ms),
            drop_increase: cfg.drop_increase,
            drop_decrease: cfg.drop_decrease,
            decrease_point: cfg.decrease_ratio,
            weight_enabled: cfg.weight_enabled,
            global_weight: global,
            renew_weight: renew,
            tokens: max_tokens,
            last_time: 0,
            last_freeze: 0,
            drop: 0.0,
            rng: seed | 1,
            epoch: Instant::now(),
        }
    }

    /// Whether the throttle is on at all (`tokens` > 0).
    pub fn enabled(&self) -> bool {
        self.max_tokens != 0
    }

    /// Tokens a handshake of this kind needs.
    pub fn tokens_needed(&self, kind: Handshake) -> i64 {
        if !self.weight_enabled {
            return 1;
        }
        // Local sessions are not supported, so a new session is global.
        match kind {
            Handshake::NewSession => i64::from(self.global_weight),
            Handshake::Reconnect => i64::from(self.renew_weight),
        }
    }

    /// `checkLimit` now.
    pub fn check(&mut self, kind: Handshake) -> bool {
        let now = self.epoch.elapsed().as_millis() as i64;
        let need = self.tokens_needed(kind);
        self.check_at(now, need)
    }

    /// `checkLimit(need)` at `now` ms since this throttle was made.
    pub fn check_at(&mut self, now: i64, need: i64) -> bool {
        if self.max_tokens == 0 {
            return true;
        }
        let diff = now - self.last_time;
        if diff > self.fill_time {
            // Java divides by fillTime here; a fill time of 0 or less cannot
            // get here with diff <= 0, and is treated as "refill fully".
            let refill = if self.fill_time > 0 {
                diff.saturating_mul(self.fill_count) / self.fill_time
            } else {
                self.max_tokens
            };
            self.tokens = (self.tokens + refill).min(self.max_tokens);
            self.last_time = now;
        }
        if self.freeze_time != -1 && !self.check_blue(now) {
            return false;
        }
        if self.tokens < need {
            return false;
        }
        self.tokens -= need;
        true
    }

    fn check_blue(&mut self, now: i64) -> bool {
        let length = self.max_tokens - self.tokens;
        let limit = self.max_tokens;
        let diff = now - self.last_freeze;
        let threshold = (self.max_tokens as f64 * self.decrease_point).round() as i64;
        if diff > self.freeze_time {
            if length == limit && self.drop < 1.0 {
                self.drop = (self.drop + self.drop_increase).min(1.0);
            } else if length <= threshold && self.drop > 0.0 {
                self.drop = (self.drop - self.drop_decrease).max(0.0);
            }
            self.last_freeze = now;
        }
        self.next_unit() >= self.drop
    }

    /// The current chance of a random drop.
    pub fn drop_chance(&self) -> f64 {
        self.drop
    }

    /// Tokens missing from a full bucket.
    #[cfg(test)]
    fn deficit(&self) -> i64 {
        self.max_tokens - self.tokens
    }

    /// A uniform value in [0, 1) (xorshift64*; only fairness matters here).
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(tokens: i32, fill_time: i32, fill_count: i32) -> BlueThrottle {
        BlueThrottle::new(&BlueThrottleConfig {
            tokens,
            fill_time_ms: fill_time,
            fill_count,
            ..Default::default()
        })
    }

    #[test]
    fn zero_tokens_means_off() {
        let mut t = bucket(0, 1, 1);
        assert!(!t.enabled());
        assert!((0..10_000).all(|_| t.check_at(0, 1)));
    }

    #[test]
    fn bucket_empties_and_refills_by_whole_intervals() {
        let mut t = bucket(3, 100, 1);
        assert!(t.check_at(0, 1) && t.check_at(0, 1) && t.check_at(0, 1));
        assert!(!t.check_at(50, 1));
        // Not more than fill_time yet: nothing refilled.
        assert!(!t.check_at(100, 1));
        // 250 ms after the last refill (at 0): 250*1/100 = 2 tokens.
        assert!(t.check_at(250, 1));
        assert!(t.check_at(250, 1));
        assert!(!t.check_at(250, 1));
        // Refill is capped at the bucket size.
        assert!((0..3).all(|_| t.check_at(100_000, 1)));
        assert!(!t.check_at(100_000, 1));
        assert_eq!(t.deficit(), 3);
    }

    #[test]
    fn weights_scale_the_bucket_and_the_cost() {
        let mut t = BlueThrottle::new(&BlueThrottleConfig {
            tokens: 2,
            fill_time_ms: 1_000_000,
            weight_enabled: true,
            ..Default::default()
        });
        // 2 * 3 = 6 tokens: two new sessions, or three reconnects.
        assert_eq!(t.tokens_needed(Handshake::NewSession), 3);
        assert_eq!(t.tokens_needed(Handshake::Reconnect), 2);
        assert!(t.check_at(0, 3));
        assert!(t.check_at(0, 2));
        assert!(!t.check_at(0, 2));
        assert!(t.check_at(0, 1));
    }

    #[test]
    fn blue_drop_chance_rises_while_empty_and_falls_after() {
        let mut t = BlueThrottle::new(&BlueThrottleConfig {
            tokens: 1,
            fill_time_ms: 1_000_000,
            freeze_time_ms: 10,
            drop_increase: 0.5,
            drop_decrease: 0.25,
            decrease_ratio: 1.0,
            ..Default::default()
        });
        assert!(t.check_at(0, 1));
        // Empty bucket: after each freeze interval the chance rises by 0.5.
        let _ = t.check_at(11, 1);
        assert_eq!(t.drop_chance(), 0.5);
        let _ = t.check_at(22, 1);
        assert_eq!(t.drop_chance(), 1.0);
        // At chance 1 everything is dropped, even with tokens back.
        t.tokens = 1;
        assert!(!t.check_at(23, 1));
        // Deficit 0 <= 1.0 * tokens: the chance falls again.
        let _ = t.check_at(34, 1);
        assert_eq!(t.drop_chance(), 0.75);
    }

    #[test]
    fn weights_are_corrected_like_java() {
        let cfg = BlueThrottleConfig {
            global_weight: 0,
            local_weight: 4,
            renew_weight: 1,
            ..Default::default()
        };
        assert_eq!(cfg.effective_weights(), (3, 4, 4));
    }
}
