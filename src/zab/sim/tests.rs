//! Bounded randomized runs for `cargo test`.

use super::swarm::{run_seed, SwarmOptions};

fn run_range(seeds: std::ops::Range<u64>, opts: &SwarmOptions) {
    for seed in seeds {
        let r = run_seed(seed, opts);
        if let Some(f) = r.failure {
            let mut o = opts.clone();
            o.trace = true;
            let t = run_seed(seed, &o).trace;
            let tail = t.len().saturating_sub(150);
            panic!(
                "seed {seed} ({} members) failed: {f}\nreplay: cargo run --release --example zab_sim -- --seeds {seed} --trace\n{}",
                r.members,
                t[tail..].join("\n")
            );
        }
        assert!(
            r.acked >= 5,
            "seed {seed}: only {} writes acknowledged",
            r.acked
        );
    }
}

#[test]
fn swarm_seeds() {
    run_range(1..401, &SwarmOptions::default());
}

#[test]
fn same_seed_same_run() {
    let o = SwarmOptions {
        trace: true,
        fault_ticks: 800,
        ..SwarmOptions::default()
    };
    let a = run_seed(7, &o);
    let b = run_seed(7, &o);
    assert_eq!(a.trace, b.trace);
    assert!(a.trace.len() > 100);
}
