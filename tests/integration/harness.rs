//! A small builder around the real `twelve` binary: every test runs it in a temp folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Held by the tests that run many lessons at once, so their timing-sensitive checks (a
/// service must answer within 500 ms) do not compete with each other for 2 cores.
pub static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Take [`HEAVY`], whatever another test did with it.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A test pack from tests/packs/NAME, with the project's shared client added, in `dir`.
pub fn test_pack(name: &str, dir: &Path) -> PathBuf {
    let dst = dir.join(format!("pack-{name}"));
    copy_dir(&repo().join("tests/packs").join(name), &dst);
    let shared = dst.join("sandbox-apps/_shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::copy(
        repo().join("sandbox-apps/_shared/kv.py"),
        shared.join("kv.py"),
    )
    .unwrap();
    dst
}

/// Replace a lesson folder's files with the reference solution (plus the shared client).
pub fn solve(ws: &Path, lesson: &str) {
    let dir = ws.join(lesson);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(
        &repo().join("sandbox-apps").join(lesson).join("solution"),
        &dir,
    );
    copy_dir(&repo().join("sandbox-apps/_shared"), &dir);
    commit_if_deployed(&dir, lesson);
}

/// For a lesson whose checks deploy the last commit (lesson 1), commit the folder as
/// `lessons verify` does with the solution.
pub fn commit_if_deployed(dir: &Path, lesson: &str) {
    static PACK: std::sync::LazyLock<twelve::lesson::Pack> =
        std::sync::LazyLock::new(|| twelve::lesson::Pack::embedded().expect("the lessons load"));
    let l = PACK
        .lessons
        .iter()
        .find(|l| l.dir_name == lesson)
        .unwrap_or_else(|| panic!("no lesson {lesson}"));
    if let Some(script) = &l.verify_setup {
        twelve::sandbox::commit::run_setup(script, dir).expect("the setup commits");
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    twelve::sandbox::copy_tree(from, to).unwrap();
}

/// One run of the binary.
pub struct Twelve {
    cmd: Command,
    args: Vec<String>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Ran {
    #[track_caller]
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "exit code {} instead of {want}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks `{text}`:\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks `{text}`:\n{}\n--- stdout\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

impl Twelve {
    pub fn new(dir: &Path) -> Twelve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twelve"));
        cmd.current_dir(dir).env_remove("TWELVE_LESSONS");
        // The machine running the tests may itself be a CI runner: a test
        // that wants a CI origin sets these itself.
        for ci in [
            "CI",
            "GITHUB_ACTIONS",
            "GITLAB_CI",
            "TWELVE_CI",
            "TWELVE_STORE",
        ] {
            cmd.env_remove(ci);
        }
        cmd.env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Twelve {
            cmd,
            args: Vec::new(),
        }
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| (*s).to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    #[track_caller]
    pub fn run(mut self) -> Ran {
        self.cmd.args(&self.args);
        self.cmd.stdin(Stdio::null());
        let started = Instant::now();
        let child = self.cmd.spawn().expect("the twelve binary starts");
        let out: Output = child.wait_with_output().unwrap();
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    }
}

/// A `twelve` started in the background; if the test fails before it ends, it is
/// interrupted (so it cleans up its own processes) and then killed.
pub struct Background(pub std::process::Child);

impl std::ops::Deref for Background {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Background {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Processes whose command line contains `marker` (zombies have none and are not counted).
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(marker) {
            found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
        }
    }
    found
}

/// Sandbox folders left in `tmp`.
pub fn sandboxes_in(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("twelve-check-"))
        .collect()
}
