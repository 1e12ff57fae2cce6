//! The start-up samples of ZooKeeper's `ServerMetrics`, as Java ZooKeeper
//! 3.8.0 records them (seen in compat-tests/admin/java-3.8.0/metrics.txt on
//! an empty data directory, and in its source): `loadData` always ends with
//! a snapshot (one `snapshottime` sample), and `FileTxnSnapLog.restore`
//! replays the logs, recording `startup_txns_*`, only after a snapshot was
//! found.

mod common;

use std::path::Path;

use ferrokeeper::pipeline::Pipeline;
use ferrokeeper::server::Settings;

/// Sample counts of the start-up summaries after one recovery of `dir`.
fn startup_counts(dir: &Path) -> [(&'static str, u64); 5] {
    let s = Settings::standalone_default();
    let mut core = Pipeline::new(s.core, s.info).core;
    core.recover(&common::persist_settings(dir, dir))
        .expect("recover");
    let view = core.metrics_view(0);
    let count = |name: &str| {
        view.basic_summaries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.count)
            .unwrap_or_else(|| panic!("no summary {name}"))
    };
    [
        "snapshottime",
        "dbinittime",
        "startup_snap_load_time",
        "startup_txns_load_time",
        "startup_txns_loaded",
    ]
    .map(|n| (n, count(n)))
}

#[test]
fn an_empty_data_dir_records_the_snapshot_but_no_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        startup_counts(dir.path()),
        [
            ("snapshottime", 1),
            ("dbinittime", 1),
            ("startup_snap_load_time", 1),
            ("startup_txns_load_time", 0),
            ("startup_txns_loaded", 0),
        ]
    );
}

#[test]
fn a_restart_from_a_snapshot_records_the_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    startup_counts(dir.path());
    assert_eq!(
        startup_counts(dir.path()),
        [
            ("snapshottime", 1),
            ("dbinittime", 1),
            ("startup_snap_load_time", 1),
            ("startup_txns_load_time", 1),
            ("startup_txns_loaded", 1),
        ]
    );
}
