//! Where a forecast's fixed cost goes: phase timers (wall and the process's CPU time, all
//! threads) printed to stderr when the environment variable `REBATESIM_TIMING` is set, a
//! profiling aid for `benches/README.md`'s measurements. Off (the default) a timer reads
//! neither clock and prints nothing; results never depend on it.

use std::time::Instant;

/// Laps of one run of phases.
pub(crate) struct Timer {
    what: &'static str,
    on: bool,
    wall: Instant,
    cpu: u64,
}

impl Timer {
    /// A timer for the phases of `what`, on when `REBATESIM_TIMING` is set.
    pub(crate) fn start(what: &'static str) -> Timer {
        let on = std::env::var_os("REBATESIM_TIMING").is_some();
        Timer {
            what,
            on,
            wall: Instant::now(),
            cpu: if on { cpu_ns() } else { 0 },
        }
    }

    /// Print the time since the last lap (or the start) as `phase`'s.
    pub(crate) fn lap(&mut self, phase: &str) {
        if !self.on {
            return;
        }
        let (wall, cpu) = (Instant::now(), cpu_ns());
        eprintln!(
            "[timing] {} {phase}: cpu {:.3} s wall {:.3} s",
            self.what,
            cpu.saturating_sub(self.cpu) as f64 * 1e-9,
            (wall - self.wall).as_secs_f64()
        );
        self.wall = wall;
        self.cpu = cpu;
    }
}

/// CPU time of every thread of the process so far, in nanoseconds (Linux's per-thread
/// `schedstat`; 0 where it cannot be read). Threads that ended before are not counted: the
/// pool's live for the process.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
