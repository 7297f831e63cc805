//! Time bounds that judge the program, not the machine.
//!
//! A lesson's bound says what the program must do ("listening within 1 s", "exits within 1 s
//! of SIGTERM"). On a busy machine a right fix can be kept from running for much of that
//! second: it is *runnable* but waits for a CPU. A [`FairClock`] samples the process group's
//! state and CPU time (Linux, `/proc/PID/stat`) and does not count that wait against the
//! program: its bound is `within + time spent runnable without running`. Time spent sleeping
//! (a nap, an untimed wait, ignoring SIGTERM) always counts, so a program that is slow by itself
//! fails however idle or busy the machine is. The stretch is capped, so every wait ends.
//! Elsewhere the clock is the wall clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// However busy the machine, a bound stretches to at most this many times itself.
const MAX_STRETCH: u32 = 6;
/// How often the group is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(15);

/// A bound of `within` for process group `pgid`, started now.
#[derive(Debug)]
pub struct FairClock {
    pgid: i32,
    within: Duration,
    start: Instant,
    last: Instant,
    /// Wall time during which some process of the group was runnable (or in disk wait).
    runnable: Duration,
    /// CPU time the group used, per process, at the last sample.
    cpu: BTreeMap<i32, Duration>,
    used: Duration,
    tick: Duration,
}

impl FairClock {
    pub fn new(pgid: i32, within: Duration) -> FairClock {
        let now = Instant::now();
        let mut c = FairClock {
            pgid,
            within,
            start: now,
            last: now,
            runnable: Duration::ZERO,
            cpu: BTreeMap::new(),
            used: Duration::ZERO,
            tick: clock_tick(),
        };
        // The CPU time used before the bound began is not part of it.
        for (pid, _, cpu) in c.group() {
            c.cpu.insert(pid, cpu);
        }
        c
    }

    /// Time the program was kept waiting for a CPU since the bound began.
    pub fn credit(&mut self) -> Duration {
        self.sample();
        self.runnable.saturating_sub(self.used)
    }

    /// Whether the bound has passed: the program's own time is over `within`.
    pub fn expired(&mut self) -> bool {
        let elapsed = self.start.elapsed();
        if elapsed <= self.within {
            return false;
        }
        elapsed > self.within * MAX_STRETCH || elapsed > self.within + self.credit()
    }

    /// The wall time since the bound began, and how much of it the machine took.
    pub fn summary(&mut self) -> String {
        let elapsed = self.start.elapsed();
        let credit = self.credit().min(elapsed);
        if credit < Duration::from_millis(50) {
            format!("{:.1}s", elapsed.as_secs_f64())
        } else {
            format!(
                "{:.1}s, of which {:.1}s waiting for a busy CPU (not counted)",
                elapsed.as_secs_f64(),
                credit.as_secs_f64()
            )
        }
    }

    fn sample(&mut self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let now = Instant::now();
        let interval = now - self.last;
        if interval < SAMPLE_EVERY {
            return;
        }
        self.last = now;
        let mut waiting = false;
        for (pid, state, cpu) in self.group() {
            waiting |= matches!(state, 'R' | 'D');
            let before = self.cpu.insert(pid, cpu).unwrap_or(Duration::ZERO);
            self.used += cpu.saturating_sub(before);
        }
        if waiting {
            self.runnable += interval;
        }
    }

    /// (pid, state, CPU time) of every process in the group.
    fn group(&self) -> Vec<(i32, char, Duration)> {
        let mut out = Vec::new();
        if !cfg!(target_os = "linux") {
            return out;
        }
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return out;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some((state, pgrp, cpu)) = parse_stat(&stat, self.tick) {
                if pgrp == self.pgid {
                    out.push((pid, state, cpu));
                }
            }
        }
        out
    }
}

/// State, process group and CPU time (user + system) from a `/proc/PID/stat` line.
fn parse_stat(stat: &str, tick: Duration) -> Option<(char, i32, Duration)> {
    // Fields after the ")" of the command: state ppid pgrp ... utime (12th) stime (13th).
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let pgrp = f.get(2)?.parse().ok()?;
    let utime: u32 = f.get(11)?.parse().ok()?;
    let stime: u32 = f.get(12)?.parse().ok()?;
    Some((state, pgrp, tick * (utime + stime)))
}

/// `/proc` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second for every
/// program, whatever the kernel's own tick rate.
fn clock_tick() -> Duration {
    Duration::from_millis(10)
}

/// Wait until `cond` holds, the fair bound passes, `hard` (the check's own deadline) comes,
/// or `stop` says so. Returns whether `cond` held.
pub fn wait(
    clock: &mut FairClock,
    hard: Instant,
    stop: &dyn Fn() -> bool,
    mut cond: impl FnMut() -> bool,
) -> bool {
    loop {
        if cond() {
            return true;
        }
        if clock.expired() || Instant::now() >= hard || stop() {
            return cond();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;

    #[test]
    fn stat_lines_are_read() {
        let line = "4242 (python3 (x)) R 1 4242 4242 0 -1 4194304 100 0 0 0 25 5 0 0 20 0 1 0";
        let (state, pgrp, cpu) = parse_stat(line, Duration::from_millis(10)).unwrap();
        assert_eq!(state, 'R');
        assert_eq!(pgrp, 4242);
        assert_eq!(cpu, Duration::from_millis(300));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_sleeping_program_gets_no_credit() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.4")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = i32::try_from(child.id()).unwrap();
        let mut clock = FairClock::new(pgid, Duration::from_millis(100));
        while !clock.expired() {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Expired at its bound: a sleeping program is never waiting for a CPU.
        assert!(
            clock.credit() < Duration::from_millis(60),
            "{:?}",
            clock.credit()
        );
        child.wait().unwrap();
    }
}
