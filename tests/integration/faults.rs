//! `kill -9` of `twelve` at random moments: its keeper kills what it started, and the next
//! command removes what is left on disk.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{Twelve, heavy, repo, sandboxes_in};

/// Processes (not zombies) whose working folder is under `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cwd) = std::fs::read_link(e.path().join("cwd")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, a)| a.trim_start().starts_with('Z'))
        });
        if cwd.starts_with(dir) && !zombie {
            found.push(format!(
                "{} in {}",
                e.file_name().to_string_lossy(),
                cwd.display()
            ));
        }
    }
    found
}

#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_twelve_check_leaves_no_process_and_no_folder() {
    // TWELVE_FAULT_KILLS=50 for the full fault test; a handful by default.
    let kills: usize = std::env::var("TWELVE_FAULT_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    // Lessons whose checks run a formation (web and worker) and wait on signals.
    for lesson in ["08-concurrency", "09-disposability"] {
        twelve::sandbox::copy_tree(
            &repo().join("sandbox-apps").join(lesson).join("solution"),
            &tmp.path().join("ws").join(lesson),
        )
        .unwrap();
    }
    let _heavy = heavy();
    let mut rng = fastrand::Rng::with_seed(12);
    for i in 0..kills {
        let lesson = if i % 2 == 0 { "9" } else { "8" };
        let mut child = Command::new(env!("CARGO_BIN_EXE_twelve"))
            .args(["check", lesson])
            .current_dir(tmp.path().join("ws"))
            .env("TMPDIR", &sandboxes)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A random moment of the check's life: this is the fault being injected, not a wait.
        std::thread::sleep(Duration::from_millis(rng.u64(30..1500)));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // The keeper acts as soon as the pipe closes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_under(&sandboxes).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_under(&sandboxes),
        Vec::<String>::new(),
        "after {kills} kills"
    );
    // One more command sweeps folders whose owner is gone.
    Twelve::new(&tmp.path().join("ws"))
        .env("TMPDIR", &sandboxes)
        .args(&["list"])
        .run()
        .code(0);
    assert_eq!(
        sandboxes_in(&sandboxes),
        Vec::<String>::new(),
        "after {kills} kills"
    );
}
