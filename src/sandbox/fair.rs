//! Time bounds that judge the program, not the machine.
//!
//! A lesson's bound says what the program must do ("listening within 1 s", "exits within 1 s
//! of SIGTERM"). On a busy machine a right fix can be kept from running for much of that
//! second: it is *runnable* but waits for a CPU. A [`FairClock`] does not count that wait
//! against the program. On Linux the kernel keeps it for every thread (`run_delay`, the second
//! field of `/proc/PID/task/TID/schedstat`): the clock sums it over the threads of the
//! process groups it watches, and the bound becomes `within + time kept waiting for a CPU`.
//! Time spent sleeping (a nap, an untimed wait, ignoring SIGTERM) is never a wait for a CPU,
//! so a program that is slow by itself fails however idle or busy the machine is. The stretch
//! is capped, so every wait ends. Where the kernel does not say (macOS, a kernel without
//! scheduler statistics) the clock is the wall clock, and its summary says nothing of load.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// However busy the machine, a bound stretches to at most this many times itself.
pub const MAX_STRETCH: u32 = 10;
/// How often the threads are read again.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How often the members of the watched groups are looked for again.
const MEMBERS_EVERY: Duration = Duration::from_millis(250);

/// A bound of `within` for the processes of some process groups, started now.
#[derive(Debug)]
pub struct FairClock {
    pgids: Vec<i32>,
    within: Duration,
    start: Instant,
    last: Option<Instant>,
    members_at: Option<Instant>,
    members: Vec<i32>,
    /// Per thread: its run delay when first seen (0 for a thread first seen after the start,
    /// taken as born inside the bound; the credit is capped at the time passed either way),
    /// and when last read.
    delays: BTreeMap<i32, (Duration, Duration)>,
}

impl FairClock {
    /// A bound for process group `pgid`.
    pub fn new(pgid: i32, within: Duration) -> FairClock {
        FairClock::over(vec![pgid], within)
    }

    /// A bound for several process groups at once (the instances behind a router).
    pub fn over(pgids: Vec<i32>, within: Duration) -> FairClock {
        let now = Instant::now();
        // The leaders only, at first: a clock is made for every request, and looking through
        // all of /proc for other members waits until a bound is close to passing.
        let mut c = FairClock {
            members: pgids.clone(),
            pgids,
            within,
            start: now,
            last: None,
            members_at: Some(now),
            delays: BTreeMap::new(),
        };
        // What the threads waited before the bound began is not part of it.
        c.sample();
        for (base, last) in c.delays.values_mut() {
            *base = *last;
        }
        c
    }

    /// Watch one more process group, started after the clock: all of its wait counts.
    pub fn watch(&mut self, pgid: i32) {
        self.pgids.push(pgid);
        self.members_at = None;
    }

    /// Time the program was kept waiting for a CPU since the bound began (at most the time
    /// that has passed: threads waiting side by side do not add up past it).
    pub fn credit(&mut self) -> Duration {
        self.sample();
        let waited: Duration = self
            .delays
            .values()
            .map(|(b, l)| l.saturating_sub(*b))
            .sum();
        waited.min(self.start.elapsed())
    }

    /// The program's own time so far: the wall time less its wait for a CPU.
    pub fn own_time(&mut self) -> Duration {
        self.start.elapsed().saturating_sub(self.credit())
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
        let credit = self.credit();
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
        if self.last.is_some_and(|t| now - t < SAMPLE_EVERY) {
            return;
        }
        self.last = Some(now);
        if self.members_at.is_none_or(|t| now - t >= MEMBERS_EVERY) {
            self.members_at = Some(now);
            self.members = members(&self.pgids);
        }
        for &pid in &self.members {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for t in tasks.flatten() {
                let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                    continue;
                };
                let Some(delay) =
                    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
                        .ok()
                        .and_then(|s| run_delay(&s))
                else {
                    continue;
                };
                self.delays.entry(tid).or_insert((Duration::ZERO, delay)).1 = delay;
            }
        }
    }
}

/// The processes whose process group is one of `pgids` (the leaders always, when alive).
fn members(pgids: &[i32]) -> Vec<i32> {
    let mut out: Vec<i32> = pgids.to_vec();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if out.contains(&pid) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if parse_pgrp(&stat).is_some_and(|g| pgids.contains(&g)) {
            out.push(pid);
        }
    }
    out
}

/// The process group from a `/proc/PID/stat` line.
fn parse_pgrp(stat: &str) -> Option<i32> {
    // Fields after the ")" of the command: state ppid pgrp ...
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// The time a thread spent runnable but not running, from its `schedstat` line
/// (`time-on-cpu run-delay timeslices`, in nanoseconds).
fn run_delay(schedstat: &str) -> Option<Duration> {
    let ns: u64 = schedstat.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(ns))
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
    fn proc_lines_are_read() {
        let line = "4242 (python3 (x)) R 1 4243 4242 0 -1 4194304 100 0 0 0 25 5 0 0 20 0 1 0";
        assert_eq!(parse_pgrp(line), Some(4243));
        assert_eq!(
            run_delay("183265248 476093290 65\n"),
            Some(Duration::from_nanos(476_093_290))
        );
        assert_eq!(run_delay("garbage"), None);
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

    #[cfg(target_os = "linux")]
    #[test]
    fn a_program_kept_from_the_cpu_is_credited_its_wait() {
        if !std::path::Path::new("/proc/self/schedstat").exists() {
            return; // a kernel without scheduler statistics: the clock is the wall clock
        }
        // More busy threads than CPUs, and a busy child among them: it must wait its turn.
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinners: Vec<_> = (0..cpus * 2)
            .map(|_| {
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = i32::try_from(child.id()).unwrap();
        let mut clock = FairClock::new(pgid, Duration::from_secs(60));
        while child.try_wait().unwrap().is_none() {
            let _ = clock.credit();
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for s in spinners {
            s.join().unwrap();
        }
        let credit = clock.credit();
        assert!(credit > Duration::ZERO, "no wait credited");
        assert!(credit <= clock.start.elapsed());
    }
}
