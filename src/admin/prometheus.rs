//! `/metrics` for `metricsProvider.className=…PrometheusMetricsProvider`:
//! ZooKeeper 3.8.0's metrics in the Prometheus text exposition format
//! (0.0.4), named and typed as its `PrometheusMetricsProvider` registers
//! them with the Prometheus Java client 0.9.0:
//!
//! - each gauge → `gauge`; each gauge set → `gauge` with label `key`;
//! - each counter → `counter` (0.9.0 adds no `_total`); counter sets →
//!   `counter` with label `key`;
//! - each summary → `summary` with `{quantile="0.5"}` (basic) or 0.5/0.9/0.99
//!   (with percentiles), `_count` and `_sum`; summary sets the same per `key`;
//! - `exportJvmInfo` (default true) adds the client's process metrics; there
//!   is no JVM, so the `jvm_*` families are absent.
//!
//! Values are the ones `mntr` prints, read from the core in one step
//! ([`crate::pipeline::MetricsView`]), so a scrape and `mntr` taken at a
//! quiet moment agree. Two differences from Java, by nature: quantiles come
//! from the same 4096-sample uniform reservoir `mntr`'s percentiles use (the
//! Java client keeps a 10-minute sliding window), and the per-namespace
//! summary sets keep no samples, so their median is NaN (the Java client
//! also reports NaN once its window is empty).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::http::{self, Body};
use super::java_fmt::java_double;
use crate::pipeline::{AdminQuery, CoreMsg, MetricsView, SummaryView};

/// `TextFormat.CONTENT_TYPE_004`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where `/metrics` is served (`metricsProvider.httpHost` / `httpPort`).
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    pub host: String,
    pub port: u16,
    /// `metricsProvider.exportJvmInfo`: add the process metrics.
    pub export_process_info: bool,
}

/// Binds `/metrics` and serves it on a task; returns the bound address.
/// ZooKeeper fails its start when the provider cannot bind ("Cannot boot
/// MetricsProvider"), and so does FerroKeeper, naming the keys.
pub async fn start(
    settings: MetricsSettings,
    core: mpsc::Sender<CoreMsg>,
) -> std::io::Result<SocketAddr> {
    let listener = http::bind(&settings.host, settings.port)
        .await
        .map_err(|e| {
            std::io::Error::other(format!(
                "Cannot boot MetricsProvider org.apache.zookeeper.metrics.prometheus.\
                 PrometheusMetricsProvider: cannot serve /metrics on {}:{} \
                 (metricsProvider.httpHost / metricsProvider.httpPort): {e}",
                settings.host, settings.port
            ))
        })?;
    let addr = listener.local_addr()?;
    let ctx = Arc::new((settings, core));
    // Jetty's default idle timeout for a connector.
    tokio::spawn(http::serve(listener, Duration::from_secs(30), move |req| {
        let ctx = ctx.clone();
        async move { handle(&ctx.0, &ctx.1, req).await }
    }));
    Ok(addr)
}

async fn handle(
    settings: &MetricsSettings,
    core: &mpsc::Sender<CoreMsg>,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path();
    if path != "/metrics" {
        return http::error_page(StatusCode::NOT_FOUND, path, "Not Found");
    }
    // MetricsServlet answers GET, and POST the same way; HEAD is GET without a body.
    if ![Method::GET, Method::HEAD, Method::POST].contains(req.method()) {
        let msg = format!("HTTP method {} is not supported by this URL", req.method());
        return http::error_page(StatusCode::METHOD_NOT_ALLOWED, path, &msg);
    }
    let names: Vec<String> = http::query_pairs(req.uri().query())
        .into_iter()
        .filter(|(k, _)| k == "name[]")
        .map(|(_, v)| v)
        .collect();
    let (tx, rx) = oneshot::channel();
    let sent = core
        .send(CoreMsg::AdminQuery(AdminQuery::Metrics { reply: tx }))
        .await;
    let view = match (sent, rx.await) {
        (Ok(()), Ok(view)) => view,
        _ => {
            return http::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                path,
                "the server is shutting down",
            )
        }
    };
    let mut text = render(&view, &names);
    if settings.export_process_info {
        render_process(&mut text, &view, &names);
    }
    http::respond(StatusCode::OK, Some(CONTENT_TYPE), text)
}

/// `doubleToGoString`.
fn go_double(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        java_double(v)
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family in 0.0.4 text; `samples` are (suffix, labels, value).
struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl<'a> Family<'a> {
    fn open(out: &'a mut String, name: &'a str, help: &str, kind: &str) -> Family<'a> {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{}{suffix}", self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (k, v) in labels {
                let _ = write!(self.out, "{k}=\"{}\",", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", go_double(value));
    }

    /// A summary's quantiles, `_count` and `_sum`, under `labels`.
    fn summary(&mut self, labels: &[(&str, &str)], s: &SummaryView) {
        for (q, v) in &s.quantiles {
            let q = java_double(*q);
            let mut l = labels.to_vec();
            l.push(("quantile", &q));
            self.sample("", &l, *v);
        }
        self.sample("_count", labels, s.count as f64);
        self.sample("_sum", labels, s.sum as f64);
    }
}

/// Every ZooKeeper metric family; `only`, when not empty, keeps the named
/// ones (the client's `name[]` filter). Help text is the name, as
/// `PrometheusMetricsProvider` builds every metric with `build(name, name)`.
pub fn render(view: &MetricsView, only: &[String]) -> String {
    let wanted = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    let mut out = String::with_capacity(64 * 1024);
    for (name, v) in &view.gauges {
        if wanted(name) {
            Family::open(&mut out, name, name, "gauge").sample("", &[], v.as_f64());
        }
    }
    for (name, values) in &view.gauge_sets {
        if wanted(name) {
            let mut f = Family::open(&mut out, name, name, "gauge");
            for (key, v) in values {
                f.sample("", &[("key", key)], *v as f64);
            }
        }
    }
    for (name, v) in &view.counters {
        if wanted(name) {
            Family::open(&mut out, name, name, "counter").sample("", &[], *v as f64);
        }
    }
    for name in &view.counter_sets {
        if wanted(name) {
            Family::open(&mut out, name, name, "counter");
        }
    }
    for (name, s) in view.basic_summaries.iter().chain(&view.summaries) {
        if wanted(name) {
            Family::open(&mut out, name, name, "summary").summary(&[], s);
        }
    }
    for (name, values) in &view.basic_summary_sets {
        if wanted(name) {
            let mut f = Family::open(&mut out, name, name, "summary");
            for (key, s) in values {
                f.summary(&[("key", key)], s);
            }
        }
    }
    for name in &view.summary_sets {
        if wanted(name) {
            Family::open(&mut out, name, name, "summary");
        }
    }
    out
}

/// The Prometheus client's `StandardExports` (process metrics), from /proc.
fn render_process(out: &mut String, view: &MetricsView, only: &[String]) {
    let wanted = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    let gauge = |name: &str| {
        view.gauges
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_f64())
    };
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name, which may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Linux reports CPU times and the start time in USER_HZ, 100 everywhere.
    const TICKS: f64 = 100.0;
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    let cpu = match (field(11), field(12)) {
        (Some(u), Some(s)) => Some((u + s) / TICKS),
        _ => None,
    };
    let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    let start = match (boot, field(19)) {
        (Some(b), Some(t)) => Some(b + t / TICKS),
        _ => None,
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v * 1024.0)
    };
    let rows: [(&str, &str, &str, Option<f64>); 6] = [
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            cpu,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            start,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            "gauge",
            gauge("open_file_descriptor_count"),
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            "gauge",
            gauge("max_file_descriptor_count"),
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            "gauge",
            kb("VmSize:"),
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            kb("VmRSS:"),
        ),
    ];
    for (name, help, kind, value) in rows {
        if let (true, Some(v)) = (wanted(name), value) {
            Family::open(out, name, help, kind).sample("", &[], v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::MetricValue;

    fn summary(count: u64, sum: u64, quantiles: Vec<(f64, f64)>) -> SummaryView {
        SummaryView {
            avg: 0.0,
            min: 0,
            max: 0,
            count,
            sum,
            percentiles: None,
            quantiles,
        }
    }

    #[test]
    fn exposition_format_of_each_kind() {
        let view = MetricsView {
            gauges: vec![
                ("znode_count", MetricValue::Int(5)),
                ("avg_latency", MetricValue::Double(0.5)),
                ("uptime", MetricValue::Int(123_456_789)),
            ],
            gauge_sets: vec![("quota_count_limit_per_namespace", vec![("a\"b".into(), 10)])],
            counters: vec![("watch_bytes", 7)],
            counter_sets: vec!["quota_exceeded_error_per_namespace"],
            basic_summaries: vec![("fsynctime", summary(0, 0, vec![(0.5, f64::NAN)]))],
            summaries: vec![(
                "readlatency",
                summary(3, 6, vec![(0.5, 2.0), (0.9, 3.0), (0.99, 3.0)]),
            )],
            basic_summary_sets: vec![(
                "write_per_namespace",
                vec![("ns".into(), summary(1, 9, vec![(0.5, f64::NAN)]))],
            )],
            summary_sets: vec!["ack_latency"],
            ..Default::default()
        };
        let text = render(&view, &[]);
        let want = "\
# HELP znode_count znode_count
# TYPE znode_count gauge
znode_count 5.0
# HELP avg_latency avg_latency
# TYPE avg_latency gauge
avg_latency 0.5
# HELP uptime uptime
# TYPE uptime gauge
uptime 1.23456789E8
# HELP quota_count_limit_per_namespace quota_count_limit_per_namespace
# TYPE quota_count_limit_per_namespace gauge
quota_count_limit_per_namespace{key=\"a\\\"b\",} 10.0
# HELP watch_bytes watch_bytes
# TYPE watch_bytes counter
watch_bytes 7.0
# HELP quota_exceeded_error_per_namespace quota_exceeded_error_per_namespace
# TYPE quota_exceeded_error_per_namespace counter
# HELP fsynctime fsynctime
# TYPE fsynctime summary
fsynctime{quantile=\"0.5\",} NaN
fsynctime_count 0.0
fsynctime_sum 0.0
# HELP readlatency readlatency
# TYPE readlatency summary
readlatency{quantile=\"0.5\",} 2.0
readlatency{quantile=\"0.9\",} 3.0
readlatency{quantile=\"0.99\",} 3.0
readlatency_count 3.0
readlatency_sum 6.0
# HELP write_per_namespace write_per_namespace
# TYPE write_per_namespace summary
write_per_namespace{key=\"ns\",quantile=\"0.5\",} NaN
write_per_namespace_count{key=\"ns\",} 1.0
write_per_namespace_sum{key=\"ns\",} 9.0
# HELP ack_latency ack_latency
# TYPE ack_latency summary
";
        assert_eq!(text, want);
        let only = render(&view, &["watch_bytes".to_string()]);
        assert_eq!(
            only,
            "# HELP watch_bytes watch_bytes\n# TYPE watch_bytes counter\nwatch_bytes 7.0\n"
        );
    }

    #[test]
    fn go_doubles() {
        assert_eq!(go_double(f64::INFINITY), "+Inf");
        assert_eq!(go_double(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_double(f64::NAN), "NaN");
        assert_eq!(go_double(1.0), "1.0");
    }
}
