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
//! - `exportJvmInfo` (default true) makes the provider call the client's
//!   `DefaultExports.initialize()`: the six `process_*` families
//!   (`StandardExports`) and 24 `jvm_*` ones (memory, pools, buffer pools,
//!   GC, threads, classes, `jvm_info`). There is no JVM, so FerroKeeper
//!   serves the `process_*` ones only; `false` drops both, as in Java.
//!
//! Values are the ones `mntr` prints, read from the core in one step
//! ([`crate::pipeline::MetricsView`]), so a scrape and `mntr` taken at a
//! quiet moment agree. One difference from Java, by nature: quantiles come
//! from the uniform reservoir `mntr`'s percentiles use (4096 samples; 1024
//! per key of the per-namespace summary sets), where the Java client keeps
//! a 10-minute sliding window (and reports NaN once it is empty).
//!
//! Names, types, help texts, label names, quantiles and the sample layout
//! are checked against Java ZooKeeper 3.8.0's own `/metrics`, captured in
//! `compat-tests/admin/java-3.8.0/metrics.txt`.

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
    stop: tokio_util::sync::CancellationToken,
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
    tokio::spawn(stop.run_until_cancelled_owned(http::serve(
        listener,
        Duration::from_secs(30),
        move |req| {
            let ctx = ctx.clone();
            async move { handle(&ctx.0, &ctx.1, req).await }
        },
    )));
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
    let text = render(&families(&view, settings.export_process_info), &names);
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

/// One sample: the family name plus a suffix (`_count`, `_sum` or none),
/// its labels in order, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// One metric family as the Prometheus client collects it.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: &'static str,
    pub samples: Vec<Sample>,
}

impl Family {
    fn new(name: &str, help: &str, kind: &'static str) -> Family {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            samples: Vec::new(),
        }
    }

    fn sample(&mut self, suffix: &str, labels: &[(&'static str, &str)], value: f64) {
        self.samples.push(Sample {
            name: format!("{}{suffix}", self.name),
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            value,
        });
    }

    /// The names the registry files this family under
    /// (`CollectorRegistry.collectorNames`): a summary's `_count` and `_sum`
    /// too.
    fn names(&self) -> Vec<String> {
        if self.kind == "summary" {
            vec![
                format!("{}_count", self.name),
                format!("{}_sum", self.name),
                self.name.clone(),
            ]
        } else {
            vec![self.name.clone()]
        }
    }

    /// A summary's quantiles, `_count` and `_sum`, under `labels`.
    fn summary(&mut self, labels: &[(&'static str, &str)], s: &SummaryView) {
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

/// Every family the provider would collect: ZooKeeper's metrics (help text
/// is the name: `PrometheusMetricsProvider` builds each with
/// `build(name, name)`), then the process metrics when `process` is set.
pub fn families(view: &MetricsView, process: bool) -> Vec<Family> {
    let mut out = Vec::with_capacity(160);
    for (name, v) in &view.gauges {
        let mut f = Family::new(name, name, "gauge");
        f.sample("", &[], v.as_f64());
        out.push(f);
    }
    for (name, values) in &view.gauge_sets {
        let mut f = Family::new(name, name, "gauge");
        for (key, v) in values {
            f.sample("", &[("key", key)], *v as f64);
        }
        out.push(f);
    }
    for (name, v) in &view.counters {
        let mut f = Family::new(name, name, "counter");
        f.sample("", &[], *v as f64);
        out.push(f);
    }
    for name in &view.counter_sets {
        out.push(Family::new(name, name, "counter"));
    }
    for (name, s) in view.basic_summaries.iter().chain(&view.summaries) {
        let mut f = Family::new(name, name, "summary");
        f.summary(&[], s);
        out.push(f);
    }
    for (name, values) in view.basic_summary_sets.iter().chain(&view.summary_sets) {
        let mut f = Family::new(name, name, "summary");
        for (key, s) in values {
            f.summary(&[("key", key)], s);
        }
        out.push(f);
    }
    if process {
        out.extend(process_families(view));
    }
    // FerroKeeper's own, after all of Java's (see `MetricsView::own_counters`)
    for (name, v) in &view.own_counters {
        let mut f = Family::new(name, name, "counter");
        f.sample("", &[], *v as f64);
        out.push(f);
    }
    out
}

/// The families in text format 0.0.4 (`TextFormat.write004`); `only`, when
/// not empty, is the servlet's `name[]` filter, applied as the client's
/// `CollectorRegistry.filteredMetricFamilySamples` does (seen on Java
/// ZooKeeper 3.8.0 with client 0.9.0): a family is picked when `only` holds
/// one of its names (a summary answers to `x`, `x_count` and `x_sum`), then
/// only the samples whose own name is in `only` are kept, and a family left
/// with no sample is not written at all. So `name[]=readlatency_count`
/// yields the `readlatency` family with just its `_count` line.
pub fn render(families: &[Family], only: &[String]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    for f in families {
        let samples: Vec<&Sample> = if only.is_empty() {
            f.samples.iter().collect()
        } else {
            if !f.names().iter().any(|n| only.contains(n)) {
                continue;
            }
            let kept: Vec<&Sample> = f
                .samples
                .iter()
                .filter(|s| only.contains(&s.name))
                .collect();
            if kept.is_empty() {
                continue;
            }
            kept
        };
        let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {} {help}", f.name);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in samples {
            out.push_str(&s.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (k, v) in &s.labels {
                    let _ = write!(out, "{k}=\"{}\",", escape_label(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", go_double(s.value));
        }
    }
    out
}

/// `PrometheusMetricsProvider.dump`: what `mntr` and the AdminServer's
/// `monitor` list after version and server_state when Prometheus is the
/// provider: every sample as `name{label="value",...}` and its double.
pub fn dump(families: &[Family]) -> Vec<(String, f64)> {
    let mut out = Vec::with_capacity(600);
    for f in families {
        for s in &f.samples {
            let mut key = s.name.clone();
            if !s.labels.is_empty() {
                let labels: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect();
                let _ = write!(key, "{{{}}}", labels.join(","));
            }
            out.push((key, s.value));
        }
    }
    out
}

/// The Prometheus client's `StandardExports` (process metrics), from /proc.
fn process_families(view: &MetricsView) -> Vec<Family> {
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
    let rows: [(&str, &str, &'static str, Option<f64>); 6] = [
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
    rows.into_iter()
        .filter_map(|(name, help, kind, value)| {
            let mut f = Family::new(name, help, kind);
            f.sample("", &[], value?);
            Some(f)
        })
        .collect()
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
            summary_sets: vec![("ack_latency", Vec::new())],
            ..Default::default()
        };
        let fams = families(&view, false);
        let text = render(&fams, &[]);
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
        let only = render(&fams, &["watch_bytes".to_string()]);
        assert_eq!(
            only,
            "# HELP watch_bytes watch_bytes\n# TYPE watch_bytes counter\nwatch_bytes 7.0\n"
        );
    }

    /// `name[]` as the Java client 0.9.0 filters (captured from Java
    /// ZooKeeper 3.8.0 in compat-tests/admin/java-3.8.0/metrics-index.json).
    #[test]
    fn name_filter_keeps_the_named_samples_only() {
        let view = MetricsView {
            gauges: vec![("znode_count", MetricValue::Int(5))],
            counter_sets: vec!["quota_exceeded_error_per_namespace"],
            summaries: vec![("readlatency", summary(3, 6, vec![(0.5, 2.0), (0.9, 3.0)]))],
            basic_summary_sets: vec![(
                "write_per_namespace",
                vec![("ns".into(), summary(1, 9, vec![(0.5, 9.0)]))],
            )],
            ..Default::default()
        };
        let fams = families(&view, false);
        let only = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            render(&fams, &names)
        };
        assert_eq!(
            only(&["readlatency_count"]),
            "# HELP readlatency readlatency\n# TYPE readlatency summary\nreadlatency_count 3.0\n"
        );
        assert_eq!(
            only(&["readlatency", "znode_count"]),
            "# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count 5.0\n\
             # HELP readlatency readlatency\n# TYPE readlatency summary\n\
             readlatency{quantile=\"0.5\",} 2.0\nreadlatency{quantile=\"0.9\",} 3.0\n"
        );
        assert_eq!(
            only(&["write_per_namespace_sum"]),
            "# HELP write_per_namespace write_per_namespace\n\
             # TYPE write_per_namespace summary\nwrite_per_namespace_sum{key=\"ns\",} 9.0\n"
        );
        // A family with no samples, a sample name alone, an unknown name: nothing.
        assert_eq!(only(&["quota_exceeded_error_per_namespace"]), "");
        assert_eq!(only(&["readlatency_bucket", "no_such_metric"]), "");
    }

    #[test]
    fn dump_keys_as_the_provider_builds_them() {
        let view = MetricsView {
            gauges: vec![("znode_count", MetricValue::Int(5))],
            basic_summary_sets: vec![(
                "write_per_namespace",
                vec![("ns".into(), summary(1, 9, vec![(0.5, 4.0)]))],
            )],
            ..Default::default()
        };
        let d = dump(&families(&view, false));
        let keys: Vec<&str> = d.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "znode_count",
                "write_per_namespace{key=\"ns\",quantile=\"0.5\"}",
                "write_per_namespace_count{key=\"ns\"}",
                "write_per_namespace_sum{key=\"ns\"}",
            ]
        );
        assert_eq!(d[0].1, 5.0);
        assert_eq!(d[3].1, 9.0);
    }

    #[test]
    fn go_doubles() {
        assert_eq!(go_double(f64::INFINITY), "+Inf");
        assert_eq!(go_double(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_double(f64::NAN), "NaN");
        assert_eq!(go_double(1.0), "1.0");
    }
}
