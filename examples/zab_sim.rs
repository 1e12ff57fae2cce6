//! Runs the ZAB simulator over a range of seeds.
//!
//! `cargo run --release --example zab_sim -- --seeds 1-10000 [--members 5] [--trace]`
//! A failing seed is printed with the command that replays it; `--trace`
//! prints every event of each seed run (use it with a single seed).

use std::time::Instant;

use ferrokeeper::zab::sim::swarm::{run_seed, SwarmOptions};

fn parse_range(s: &str) -> Option<(u64, u64)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => s.parse().ok().map(|a| (a, a)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut range = (1, 100);
    let mut opts = SwarmOptions::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--seeds" => {
                i += 1;
                match args.get(i).and_then(|s| parse_range(s)) {
                    Some(r) => range = r,
                    None => return eprintln!("--seeds wants N or A-B"),
                }
            }
            "--members" => {
                i += 1;
                opts.members = args.get(i).and_then(|s| s.parse().ok());
            }
            "--trace" => opts.trace = true,
            other => return eprintln!("unknown argument {other}"),
        }
        i += 1;
    }
    let start = Instant::now();
    let (mut ok, mut failed, mut ticks, mut acked) = (0u64, 0u64, 0u64, 0usize);
    for seed in range.0..=range.1 {
        let r = run_seed(seed, &opts);
        for line in &r.trace {
            println!("{line}");
        }
        ticks += r.ticks;
        acked += r.acked;
        match r.failure {
            None => ok += 1,
            Some(f) => {
                failed += 1;
                println!(
                    "FAIL seed {seed} ({} members): {f}\n  replay: cargo run --release --example zab_sim -- --seeds {seed} --trace",
                    r.members
                );
            }
        }
    }
    println!(
        "{ok} passed, {failed} failed; {ticks} ticks, {acked} acknowledged writes in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
