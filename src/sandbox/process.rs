//! Supervised child processes: each leads its own process group, runs under resource limits
//! with exactly the environment it is given, has its output captured, and is killed (the whole
//! group) when its guard is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::output::{LineHook, Output, StreamKind};

/// Resource limits applied with the shell's `ulimit` before the command starts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU seconds (None: unlimited, for a learner's long-running `twelve run`).
    pub cpu_secs: Option<u64>,
    pub open_files: u64,
    /// Writable private memory (heap, anonymous mappings) in KiB: what a runaway allocation
    /// hits first, while thread stacks' and malloc arenas' reservations do not count.
    pub data_kib: u64,
    /// Address space in KiB, a backstop.
    pub address_space_kib: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_secs: Some(20),
            open_files: 1024,
            data_kib: 512 * 1024,
            address_space_kib: 4 * 1024 * 1024,
        }
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Shown in messages, e.g. `web.1`.
    pub name: String,
    /// A shell command line, run with `sh -c` like a Procfile entry.
    pub command: String,
    pub cwd: PathBuf,
    /// The complete environment (nothing is inherited).
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "exit code {c}"),
            (None, Some(s)) => {
                let name =
                    Signal::try_from(s).map_or_else(|_| format!("signal {s}"), |s| s.to_string());
                write!(f, "killed by {name}")
            }
            (None, None) => write!(f, "ended"),
        }
    }
}

impl From<std::process::ExitStatus> for ExitInfo {
    fn from(s: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        ExitInfo {
            code: s.code(),
            signal: s.signal(),
        }
    }
}

/// Process groups alive right now, so an interrupted or panicking `twelve` can kill them all.
static LIVE_GROUPS: LazyLock<Mutex<BTreeSet<i32>>> = LazyLock::new(Mutex::default);

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kill every process group this program started and has not reaped (for exit paths that
/// cannot run destructors: a second Ctrl-C, a panic hook).
pub fn kill_all() {
    for pgid in std::mem::take(&mut *live()) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

/// Parse a signal name: `TERM`, `SIGTERM`, `term`.
pub fn parse_signal(name: &str) -> Option<Signal> {
    let up = name.trim().to_ascii_uppercase();
    let up = up.strip_prefix("SIG").unwrap_or(&up);
    Some(match up {
        "TERM" => Signal::SIGTERM,
        "INT" => Signal::SIGINT,
        "HUP" => Signal::SIGHUP,
        "QUIT" => Signal::SIGQUIT,
        "USR1" => Signal::SIGUSR1,
        "USR2" => Signal::SIGUSR2,
        "KILL" => Signal::SIGKILL,
        // Pause and resume: a backing service that hangs, then comes back.
        "STOP" => Signal::SIGSTOP,
        "CONT" => Signal::SIGCONT,
        _ => return None,
    })
}

static LEADING_ASSIGNMENTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*((?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"[^"]*"|[^\s'"]*)\s+)*)(.*)$"#)
        .expect("valid regex")
});

/// Prefix a simple command with `exec` so the shell is replaced by the program: signals then
/// reach it directly and its exit status is the process's own. Compound commands (pipes, `;`,
/// `&&`) are left to the shell.
pub fn exec_form(command: &str) -> String {
    let compound = command
        .chars()
        .any(|c| matches!(c, ';' | '&' | '|' | '\n' | '(' | ')' | '`' | '<' | '>'))
        || command.contains("$(");
    if compound {
        return command.to_string();
    }
    let caps = LEADING_ASSIGNMENTS
        .captures(command)
        .expect("the pattern matches any text");
    let (assign, rest) = (&caps[1], &caps[2]);
    if rest.is_empty() || rest.starts_with("exec ") {
        return command.to_string();
    }
    format!("{assign}exec {rest}")
}

/// A running (or finished) child process; dropping it kills its whole process group.
#[must_use = "dropping the guard kills the process"]
pub struct Supervised {
    pub name: String,
    child: Child,
    pgid: i32,
    exit: Option<ExitInfo>,
    pub output: Arc<Output>,
    pub started: Instant,
}

impl fmt::Debug for Supervised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervised")
            .field("name", &self.name)
            .field("pid", &self.pgid)
            .finish_non_exhaustive()
    }
}

impl Supervised {
    /// Start `spec` in its own process group with captured stdout and stderr.
    pub fn spawn(spec: &Spec, hook: Option<LineHook>) -> std::io::Result<Supervised> {
        use std::os::unix::process::CommandExt;
        let l = spec.limits;
        let mut script = String::new();
        // Each `ulimit` alone: dash takes one option per call. Failures are ignored so a
        // platform without one of them still runs the command.
        if let Some(cpu) = l.cpu_secs {
            script.push_str(&format!("ulimit -t {cpu} 2>/dev/null; "));
        }
        script.push_str(&format!(
            "ulimit -n {} 2>/dev/null; ulimit -d {} 2>/dev/null; ulimit -v {} 2>/dev/null; ",
            l.open_files, l.data_kib, l.address_space_kib
        ));
        script.push_str(&exec_form(&spec.command));
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(script)
            .current_dir(&spec.cwd)
            .env_clear()
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        become_subreaper();
        let mut child = cmd.spawn()?;
        let pgid = child.id() as i32;
        live().insert(pgid);
        super::keeper::group(pgid, true);
        let output = Output::new(hook);
        if let Some(out) = child.stdout.take() {
            output.read_from(StreamKind::Stdout, out);
        }
        if let Some(err) = child.stderr.take() {
            output.read_from(StreamKind::Stderr, err);
        }
        Ok(Supervised {
            name: spec.name.clone(),
            child,
            pgid,
            exit: None,
            output,
            started: Instant::now(),
        })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    /// How it ended, if it has.
    pub fn try_exit(&mut self) -> Option<ExitInfo> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status.into());
            }
        }
        self.exit
    }

    /// Send `sig` to the whole process group.
    pub fn signal(&mut self, sig: Signal) {
        let _ = killpg(Pid::from_raw(self.pgid), sig);
    }

    /// Wait for the process to end until `deadline` or until `stop()` says so.
    pub fn wait_until(&mut self, deadline: Instant, stop: &dyn Fn() -> bool) -> Option<ExitInfo> {
        loop {
            if let Some(e) = self.try_exit() {
                return Some(e);
            }
            if Instant::now() >= deadline || stop() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM to the group, SIGKILL after `grace`; every process of the group is gone after.
    pub fn stop(&mut self, grace: Duration) -> ExitInfo {
        if self.try_exit().is_none() {
            self.signal(Signal::SIGTERM);
            self.wait_until(Instant::now() + grace, &|| false);
        }
        self.kill()
    }

    /// SIGKILL to the group and reap the leader.
    pub fn kill(&mut self) -> ExitInfo {
        // The group may outlive its leader (a child that forked): kill it either way.
        self.signal(Signal::SIGKILL);
        let info = match self.exit {
            Some(e) => e,
            None => {
                let status = self.child.wait().map_or(
                    ExitInfo {
                        code: None,
                        signal: Some(Signal::SIGKILL as i32),
                    },
                    ExitInfo::from,
                );
                self.exit = Some(status);
                status
            }
        };
        reap_group(self.pgid);
        live().remove(&self.pgid);
        super::keeper::group(self.pgid, false);
        info
    }
}

/// On Linux, make this process the reaper of its orphaned descendants, so processes that
/// outlive their parent in a killed group are reaped here instead of lingering as zombies
/// (some init processes, in containers, never reap).
fn become_subreaper() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let _ = nix::sys::prctl::set_child_subreaper(true);
        });
    }
}

/// After SIGKILL to a group: reap whatever of it became our child, until no process of the
/// group is left (or a short deadline passes).
fn reap_group(pgid: i32) {
    use nix::sys::wait::{WaitPidFlag, waitpid};
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        while let Ok(status) = waitpid(Pid::from_raw(-pgid), Some(WaitPidFlag::WNOHANG)) {
            if status == nix::sys::wait::WaitStatus::StillAlive {
                break;
            }
        }
        if killpg(Pid::from_raw(pgid), None::<Signal>) == Err(nix::errno::Errno::ESRCH)
            || Instant::now() >= deadline
        {
            return;
        }
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether any process of group `pgid` still exists (zombies count).
pub fn group_alive(pgid: i32) -> bool {
    killpg(Pid::from_raw(pgid), None::<Signal>) != Err(nix::errno::Errno::ESRCH)
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_form_replaces_the_shell_for_simple_commands() {
        assert_eq!(exec_form("python3 app.py"), "exec python3 app.py");
        assert_eq!(
            exec_form("FOO=1 BAR='a b' python3 app.py"),
            "FOO=1 BAR='a b' exec python3 app.py"
        );
        assert_eq!(exec_form("exec python3 app.py"), "exec python3 app.py");
        assert_eq!(exec_form("a && b"), "a && b");
        assert_eq!(
            exec_form("python3 build.py > out"),
            "python3 build.py > out"
        );
    }

    fn spec(cmd: &str) -> Spec {
        Spec {
            name: "t".into(),
            command: cmd.into(),
            cwd: std::env::temp_dir(),
            env: BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]),
            limits: Limits::default(),
        }
    }

    #[test]
    fn captures_output_and_exit_code() {
        let mut p = Supervised::spawn(&spec("echo hi; echo oops >&2; exit 3"), None).unwrap();
        let e = p.wait_until(Instant::now() + Duration::from_secs(5), &|| false);
        assert_eq!(e.unwrap().code, Some(3));
        let deadline = Instant::now() + Duration::from_secs(2);
        assert!(
            p.output
                .wait_for(deadline, &|| false, &|l| l.text == "oops")
                .is_some()
        );
        assert_eq!(p.output.tail(StreamKind::Stdout, 5), vec!["hi"]);
    }

    #[test]
    fn environment_is_exactly_what_is_given() {
        let mut s = spec("env");
        s.env.insert("ONLY_THIS".into(), "1".into());
        let mut p = Supervised::spawn(&s, None).unwrap();
        p.wait_until(Instant::now() + Duration::from_secs(5), &|| false);
        let deadline = Instant::now() + Duration::from_secs(2);
        p.output
            .wait_for(deadline, &|| false, &|l| l.text == "ONLY_THIS=1");
        let names: BTreeSet<String> = p
            .output
            .tail(StreamKind::Stdout, 50)
            .iter()
            .filter_map(|l| l.split('=').next().map(str::to_string))
            .collect();
        // sh itself may add PWD and SHLVL.
        let extra: Vec<_> = names
            .iter()
            .filter(|n| !["PATH", "ONLY_THIS", "PWD", "SHLVL", "_", "OLDPWD"].contains(&n.as_str()))
            .collect();
        assert!(extra.is_empty(), "unexpected variables: {extra:?}");
    }

    #[test]
    fn stop_kills_a_group_that_ignores_sigterm() {
        let mut p = Supervised::spawn(
            &spec("trap '' TERM; (trap '' TERM; sleep 30) & sleep 30"),
            None,
        )
        .unwrap();
        let pgid = p.pid();
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        let e = p.stop(Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(3));
        assert_eq!(e.signal, Some(Signal::SIGKILL as i32));
        // No process of the group is left, not even a zombie.
        assert!(!group_alive(pgid));
    }
}
