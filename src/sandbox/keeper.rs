//! Children die with `twelve`, whatever kills it.
//!
//! Destructors and signal handlers clean up when `twelve` ends by itself, by Ctrl-C or by a
//! panic; SIGKILL runs none of them. So `twelve` starts a *keeper*: a copy of itself
//! (`twelve __keeper`) in its own process group, holding the reading end of a pipe. Every
//! process group and sandbox folder is announced on the pipe when it starts and when it is
//! cleaned up. When the pipe closes (`twelve` ended, however), the keeper kills every group
//! still announced, kills processes still working in the folders, removes the folders, and
//! exits: within a moment of a `kill -9`.
//!
//! As a second line, every sandbox folder holds an `.owner` file (pid and start time), and
//! [`sweep`] removes folders whose owner is gone (for a keeper that was itself killed, or a
//! machine that lost power).

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{LazyLock, Mutex};

static PIPE: LazyLock<Mutex<Option<ChildStdin>>> = LazyLock::new(Mutex::default);
/// This program, when it may start a keeper (set by the binary, not by library tests).
static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
static STARTED: std::sync::Once = std::sync::Once::new();

/// The hidden subcommand the keeper runs as.
pub const SUBCOMMAND: &str = "__keeper";

/// Let this program start a keeper (`exe __keeper`) the first time it starts a process or
/// makes a sandbox folder.
pub fn enable(exe: PathBuf) {
    let _ = EXE.set(exe);
}

/// Start the keeper (once). Failing to start one is not fatal: the destructors and the next
/// command's [`sweep`] still clean up.
fn start(exe: &Path) {
    use std::os::unix::process::CommandExt as _;
    let mut pipe = PIPE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let child = Command::new(exe)
        .arg(SUBCOMMAND)
        // Holding no folder open: it must not keep anything of ours busy.
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a Ctrl-C or a hang-up sent to ours does not reach it first.
        .process_group(0)
        .spawn();
    if let Ok(mut c) = child {
        *pipe = c.stdin.take();
        // Not waited for: it outlives us by design; when we exit normally it sees the pipe
        // close and ends too.
        std::mem::forget(c);
    }
}

fn tell(line: &str) {
    if let Some(exe) = EXE.get() {
        STARTED.call_once(|| start(exe));
    }
    let mut pipe = PIPE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = pipe.as_mut() {
        if writeln!(p, "{line}").and_then(|()| p.flush()).is_err() {
            *pipe = None;
        }
    }
}

/// A process group started (`true`) or gone (`false`).
pub(crate) fn group(pgid: i32, alive: bool) {
    tell(&format!("{}g {pgid}", if alive { '+' } else { '-' }));
}

/// A sandbox folder made (`true`) or removed (`false`).
pub(crate) fn folder(path: &Path, alive: bool) {
    tell(&format!(
        "{}d {}",
        if alive { '+' } else { '-' },
        path.display()
    ));
}

/// The keeper's main loop: read announcements until the pipe closes, then clean up what is
/// left.
pub fn serve() {
    // Ignore the signals a terminal sends: the pipe closing is what ends the keeper.
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGQUIT,
    ] {
        let _ = signal_hook::flag::register(sig, std::sync::Arc::clone(&flag));
    }
    let mut groups: BTreeSet<i32> = BTreeSet::new();
    let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let (op, arg) = line.split_at(line.len().min(2));
        let arg = arg.trim_start();
        match op {
            "+g" => {
                if let Ok(p) = arg.parse() {
                    groups.insert(p);
                }
            }
            "-g" => {
                if let Ok(p) = arg.parse::<i32>() {
                    groups.remove(&p);
                }
            }
            "+d" => {
                folders.insert(PathBuf::from(arg));
            }
            "-d" => {
                folders.remove(Path::new(arg));
            }
            _ => {}
        }
    }
    for pgid in groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pgid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    for dir in folders {
        super::remove_abandoned(&dir);
    }
}

/// What `.owner` holds for this process: its pid and, where known, its start time (so a
/// reused pid is not taken for the owner).
pub(crate) fn owner_stamp() -> String {
    let pid = std::process::id();
    format!("{pid} {}", start_time(pid).unwrap_or_default())
}

fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime) is the 20th after the ")" of the command.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)
        .map(str::to_string)
}

fn owner_alive(stamp: &str) -> bool {
    let mut parts = stamp.split_whitespace();
    let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok();
    match (alive, parts.next(), start_time(pid)) {
        (false, _, _) => false,
        // The pid is taken by a process that started at another time: not the owner.
        (true, Some(want), Some(now)) => want == now,
        (true, _, _) => true,
    }
}

/// How old a sandbox folder without an `.owner` stamp must be before [`sweep`] takes it for
/// abandoned (a new one gets its stamp within microseconds of being made).
const UNSTAMPED_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove sandbox folders (in the temporary folder) whose owner is gone, with whatever still
/// runs in them. Returns how many were removed.
pub fn sweep() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(super::SANDBOX_PREFIX) || name.starts_with(super::VERIFY_PREFIX)) {
            continue;
        }
        let path = e.path();
        let abandoned = match std::fs::read_to_string(path.join(super::OWNER_FILE)) {
            Ok(stamp) => !owner_alive(&stamp),
            // No stamp: a folder being made or being removed this moment, or one whose maker
            // was killed between the two (then it is old).
            Err(_) => e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > UNSTAMPED_AGE)),
        };
        if abandoned {
            super::remove_abandoned(&path);
            removed += 1;
        }
    }
    removed
}
