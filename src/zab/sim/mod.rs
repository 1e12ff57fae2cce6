//! A deterministic simulator for the ZAB machine: 3–7 members in one
//! thread, everything (faults, delays, workload) drawn from one u64 seed, so
//! any failure replays exactly. See [`swarm`] for randomized runs and
//! `scenarios` (tests) for the scripted ZooKeeper bug replays.
//!
//! Run many seeds with `cargo run --release --example zab_sim -- --seeds 1-1000`;
//! `--trace` prints every event of one seed: tick, event, details
//! (`SEND a->b`, `RECV b<-a`, `DURABLE sid #id op`, `STATE`, `ACKED`, faults).

pub mod check;
pub mod cluster;
pub mod rng;
pub mod swarm;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod tests;
