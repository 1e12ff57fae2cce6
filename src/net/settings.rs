//! [`ConnLimits`] from a parsed zoo.cfg plus system properties, read with
//! the names, defaults and JDK conversions ZooKeeper 3.8 uses
//! (`Integer.getInteger`: `Integer.decode`, garbage falls back to the
//! default; `Boolean.parseBoolean` / `Boolean.getBoolean`: only `true`, in
//! any case, is true; `Double.parseDouble`).

use std::time::Duration;

use super::blue_throttle::BlueThrottleConfig;
use super::connection::ConnLimits;
use super::load::{LargeRequestLimit, RequestThrottleConfig};
use super::outbox::DEFAULT_OUTBOX_LIMIT;
use crate::config::java_values::{decode_int, java_bool};
use crate::config::ServerConfig;

/// Outbox bound, bytes. FerroKeeper's own: ZooKeeper has no such bound.
pub const OUTBOX_LIMIT_PROPERTY: &str = "zookeeper.ferrokeeper.outboxLimitBytes";

impl ConnLimits {
    /// The connection limits `cfg` asks for.
    pub fn from_config(cfg: &ServerConfig) -> ConnLimits {
        let props = &cfg.system_properties;
        let int = |name: &str, default: i32| -> i32 {
            props.get(name).and_then(decode_int).unwrap_or(default)
        };
        let double = |name: &str, default: f64| -> f64 {
            props
                .get(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(default)
        };
        // Boolean.parseBoolean(System.getProperty(name, "true")).
        let bool_default_true = |name: &str| props.get(name).is_none_or(java_bool);
        let bool_default_false = |name: &str| props.get(name).is_some_and(java_bool);
        let ms = |v: i32| Duration::from_millis(v.max(0) as u64);

        let request_throttle = RequestThrottleConfig {
            max_requests: int("zookeeper.request_throttle_max_requests", 0).max(0) as u32,
            stall: ms(int("zookeeper.request_throttle_stall_time", 100)),
            drop_stale: bool_default_true("zookeeper.request_throttle_drop_stale"),
            stale_connection_check: bool_default_true("zookeeper.request_stale_connection_check"),
            stale_latency_check: bool_default_false("zookeeper.request_stale_latency_check"),
            // ZooKeeperServer.throttledOpWaitTime; only > 0 turns it on.
            throttled_op_wait_ms: int("zookeeper.throttled_op_wait_time", 0).max(0) as u64,
        };
        let large_default = LargeRequestLimit::default();
        let large_requests = LargeRequestLimit::validated(
            int("zookeeper.largeRequestThreshold", large_default.threshold),
            int("zookeeper.largeRequestMaxBytes", large_default.max_bytes),
        );
        let d = BlueThrottleConfig::default();
        let connection_throttle = BlueThrottleConfig {
            tokens: int("zookeeper.connection_throttle_tokens", d.tokens),
            fill_time_ms: int("zookeeper.connection_throttle_fill_time", d.fill_time_ms),
            fill_count: int("zookeeper.connection_throttle_fill_count", d.fill_count),
            freeze_time_ms: int(
                "zookeeper.connection_throttle_freeze_time",
                d.freeze_time_ms,
            ),
            drop_increase: double(
                "zookeeper.connection_throttle_drop_increase",
                d.drop_increase,
            ),
            drop_decrease: double(
                "zookeeper.connection_throttle_drop_decrease",
                d.drop_decrease,
            ),
            decrease_ratio: double(
                "zookeeper.connection_throttle_decrease_ratio",
                d.decrease_ratio,
            ),
            weight_enabled: bool_default_false("zookeeper.connection_throttle_weight_enabled"),
            global_weight: int(
                "zookeeper.connection_throttle_global_session_weight",
                d.global_weight,
            ),
            local_weight: int(
                "zookeeper.connection_throttle_local_session_weight",
                d.local_weight,
            ),
            renew_weight: int(
                "zookeeper.connection_throttle_renew_session_weight",
                d.renew_weight,
            ),
        };
        let outbox_limit = props
            .get(OUTBOX_LIMIT_PROPERTY)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|v| *v > 0)
            .unwrap_or(DEFAULT_OUTBOX_LIMIT);
        ConnLimits {
            max_frame: cfg.jute_max_buffer as usize,
            max_client_cnxns: cfg.max_client_cnxns.max(0) as u32,
            max_cnxns: cfg.max_cnxns.max(0) as u32,
            sessionless_timeout: ms(int("zookeeper.nio.sessionlessCnxnTimeout", 10_000)),
            outbox_limit,
            global_outstanding_limit: i64::from(cfg.global_outstanding_limit),
            request_throttle,
            large_requests,
            connection_throttle,
            session_timeout_bounds: (cfg.min_session_timeout_ms, cfg.max_session_timeout_ms),
            flush_grace: ConnLimits::default().flush_grace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{PropertyOrigin, SystemProperties};

    fn limits(props: &[(&str, &str)]) -> ConnLimits {
        let mut sp = SystemProperties::new();
        for (k, v) in props {
            sp.set(
                k,
                v,
                PropertyOrigin::JvmFlag {
                    variable: "SERVER_JVMFLAGS".into(),
                },
            );
        }
        let mut cfg = ServerConfig::default_standalone();
        cfg.system_properties = sp;
        ConnLimits::from_config(&cfg)
    }

    #[test]
    fn defaults_are_zookeepers() {
        let l = limits(&[]);
        assert_eq!(l.sessionless_timeout, Duration::from_secs(10));
        assert_eq!(l.global_outstanding_limit, 1000);
        assert_eq!(l.max_cnxns, 0);
        assert_eq!(l.request_throttle.max_requests, 0);
        assert_eq!(l.request_throttle.stall, Duration::from_millis(100));
        assert!(l.request_throttle.drop_stale);
        assert!(l.request_throttle.stale_connection_check);
        assert!(!l.request_throttle.stale_latency_check);
        assert_eq!(l.connection_throttle, BlueThrottleConfig::default());
        assert_eq!(l.outbox_limit, DEFAULT_OUTBOX_LIMIT);
        assert_eq!(l.request_throttle.throttled_op_wait_ms, 0);
        assert_eq!(l.large_requests, LargeRequestLimit::default());
    }

    #[test]
    fn large_request_and_throttled_op_properties() {
        let l = limits(&[
            ("zookeeper.throttled_op_wait_time", "25"),
            ("zookeeper.largeRequestThreshold", "0x400"),
            ("zookeeper.largeRequestMaxBytes", "65536"),
        ]);
        assert_eq!(l.request_throttle.throttled_op_wait_ms, 25);
        assert_eq!(l.large_requests.threshold, 1024);
        assert_eq!(l.large_requests.max_bytes, 65536);
        // Invalid values fall back as ZooKeeper's setters make them.
        let l = limits(&[
            ("zookeeper.throttled_op_wait_time", "-3"),
            ("zookeeper.largeRequestThreshold", "0"),
            ("zookeeper.largeRequestMaxBytes", "-1"),
        ]);
        assert_eq!(l.request_throttle.throttled_op_wait_ms, 0);
        assert_eq!(l.large_requests, LargeRequestLimit::default());
    }

    #[test]
    fn properties_are_read_the_java_way() {
        let l = limits(&[
            ("zookeeper.request_throttle_max_requests", "0x10"),
            ("zookeeper.request_throttle_stall_time", "junk"),
            ("zookeeper.request_throttle_drop_stale", "TRUE"),
            ("zookeeper.request_stale_latency_check", "yes"),
            ("zookeeper.connection_throttle_tokens", "50"),
            ("zookeeper.connection_throttle_drop_increase", "0.5"),
            ("zookeeper.nio.sessionlessCnxnTimeout", "2000"),
        ]);
        assert_eq!(l.request_throttle.max_requests, 16);
        assert_eq!(l.request_throttle.stall, Duration::from_millis(100));
        assert!(l.request_throttle.drop_stale);
        assert!(!l.request_throttle.stale_latency_check);
        assert_eq!(l.connection_throttle.tokens, 50);
        assert_eq!(l.connection_throttle.drop_increase, 0.5);
        assert_eq!(l.sessionless_timeout, Duration::from_secs(2));
    }
}
