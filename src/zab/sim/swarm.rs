//! Randomized runs: one seed picks the ensemble size, network and disk
//! behaviour, tick skew, and a schedule of crashes, restarts, partitions,
//! connection breaks and clock jumps (the safety phase), then heals
//! everything (the liveness phase) and demands convergence and progress.

use super::cluster::{Cluster, Faults};
use super::rng::Rng;
use crate::zab::Sid;

#[derive(Clone, Debug)]
pub struct SwarmOptions {
    /// Fixed ensemble size; otherwise 3..=7 from the seed.
    pub members: Option<usize>,
    pub fault_ticks: u64,
    /// Bound on the liveness phase.
    pub heal_ticks: u64,
    pub trace: bool,
}

impl Default for SwarmOptions {
    fn default() -> Self {
        SwarmOptions {
            members: None,
            fault_ticks: 2000,
            heal_ticks: 3000,
            trace: false,
        }
    }
}

#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub members: usize,
    pub acked: usize,
    pub ticks: u64,
    pub failure: Option<String>,
    pub trace: Vec<String>,
}

fn pick(rng: &mut Rng, from: &[Sid]) -> Option<Sid> {
    if from.is_empty() {
        None
    } else {
        Some(from[rng.below(from.len() as u64) as usize])
    }
}

pub fn run_seed(seed: u64, opts: &SwarmOptions) -> Report {
    let mut rng = Rng::new(seed);
    let members = opts.members.unwrap_or(3 + rng.below(5) as usize);
    let faults = Faults {
        election_loss: rng.below(200),
        election_dup: rng.below(100),
        max_delay: 1 + rng.below(6),
        max_persist_delay: rng.below(6),
    };
    let (crash_rate, part_rate, write_rate) = (rng.below(6), rng.below(4), 100 + rng.below(400));
    let mut c = Cluster::new(members, rng.next_u64(), faults);
    if opts.trace {
        c.trace = Some(Vec::new());
    }
    for sid in c.sids() {
        if rng.chance(300) {
            c.host_mut(sid).skew = 2 + rng.below(10);
        }
    }
    let f = c.faults.clone();
    c.log(|| format!("SEED {seed} members={members} faults={f:?}"));
    let sids = c.sids();
    for _ in 0..opts.fault_ticks {
        c.step();
        if c.checker.failure.is_some() {
            break;
        }
        if rng.chance(write_rate) {
            let to = if rng.chance(700) {
                c.leader()
            } else {
                pick(&mut rng, &sids)
            };
            if let Some(to) = to {
                c.submit(to);
            }
        }
        let up: Vec<Sid> = sids
            .iter()
            .copied()
            .filter(|s| c.host(*s).is_up())
            .collect();
        let down: Vec<Sid> = sids
            .iter()
            .copied()
            .filter(|s| !c.host(*s).is_up())
            .collect();
        if rng.chance(crash_rate) {
            if let Some(s) = pick(&mut rng, &up) {
                c.crash(s);
            }
        }
        if rng.chance(30) {
            if let Some(s) = pick(&mut rng, &down) {
                c.restart(s);
            }
        }
        if rng.chance(part_rate) {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for s in &sids {
                if rng.chance(500) {
                    a.push(*s)
                } else {
                    b.push(*s)
                }
            }
            c.partition(&a, &b);
        }
        if rng.chance(8) {
            c.heal();
        }
        if rng.chance(3) {
            if let (Some(x), Some(y)) = (pick(&mut rng, &sids), pick(&mut rng, &sids)) {
                c.break_conn(x, y);
            }
        }
        if rng.chance(1) {
            if let Some(s) = pick(&mut rng, &up) {
                let n = 1 + rng.below(60);
                c.jump(s, n);
            }
        }
    }
    // Liveness phase: everyone back, no faults.
    c.heal();
    c.faults = Faults::none();
    for s in c.sids() {
        c.host_mut(s).skew = 0;
        c.host_mut(s).stall_disk = false;
        if !c.host(s).is_up() && c.checker.failure.is_none() {
            c.restart(s);
        }
    }
    let acked_before = c.checker.acked.len();
    let mut converged = false;
    for _ in 0..opts.heal_ticks {
        if c.checker.failure.is_some() {
            break;
        }
        c.step();
        let progress = c.checker.acked.len() - acked_before;
        if progress < 5 {
            if rng.chance(300) {
                if let Some(l) = c.leader() {
                    c.submit(l);
                }
            }
        } else if c.converged() {
            converged = true;
            break;
        }
    }
    if !converged && c.checker.failure.is_none() {
        let states: Vec<String> = c
            .hosts
            .iter()
            .map(|h| format!("{}:{:?}/{} db={}", h.sid, h.role.0, h.role.1, h.db.len()))
            .collect();
        let progress = c.checker.acked.len() - acked_before;
        c.checker.fail(format!(
            "no convergence after healing (progress {progress}): {}",
            states.join(" ")
        ));
    }
    Report {
        seed,
        members,
        acked: c.checker.acked.len(),
        ticks: c.now,
        failure: c.checker.failure.take(),
        trace: c.trace.take().unwrap_or_default(),
    }
}
