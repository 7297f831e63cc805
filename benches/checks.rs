//! Check latency: the wall time of each lesson's checks on its solution, of all lessons in
//! parallel (`check --all`), and the Python start-up floor measured in the same run.
//!
//! `cargo bench --bench checks` prints a table; nothing here asserts a threshold.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use twelve::check::{self, CancelToken};
use twelve::lesson::Pack;
use twelve::sandbox::Python;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pack = Pack::from_dir(&repo).unwrap_or_else(|e| panic!("{e}"));
    let python = Python::get().expect("python3");

    // The floor: starting the interpreter once, as every process of a check does.
    let runs = 10;
    let t = Instant::now();
    for _ in 0..runs {
        let ok = std::process::Command::new(&python.path)
            .args(["-c", "pass"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok);
    }
    let floor = t.elapsed() / runs;
    println!(
        "python3 start-up floor: {:.1} ms ({})",
        ms(floor),
        python.path.display()
    );

    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for l in &pack.lessons {
        let dir = tmp.path().join(&l.dir_name);
        twelve::sandbox::write_files(&dir, pack.shared.iter().chain(&l.solution)).unwrap();
        if let Some(script) = &l.verify_setup {
            twelve::sandbox::commit::run_setup(script, &dir).unwrap();
        }
        dirs.push(dir);
    }
    println!(
        "\n{:<24} {:>8} {:>10}  per check (ms)",
        "lesson", "checks", "wall (ms)"
    );
    let cancel = CancelToken::new();
    for (l, dir) in pack.lessons.iter().zip(&dirs) {
        // Best of three, to keep one slow start from skewing the figure.
        let mut best: Option<check::LessonReport> = None;
        for _ in 0..3 {
            let r = check::run_lesson(&pack, l, dir, &cancel, None);
            if best.as_ref().is_none_or(|b| r.duration_ms < b.duration_ms) {
                best = Some(r);
            }
        }
        let r = best.expect("three runs");
        let per: Vec<String> = r
            .checks
            .iter()
            .map(|c| format!("{}={}", c.id, c.duration_ms))
            .collect();
        let mark = if r.passed() { "" } else { "  (FAILED)" };
        println!(
            "{:<24} {:>8} {:>10}  {}{mark}",
            l.dir_name,
            r.checks.len(),
            r.duration_ms,
            per.join(" ")
        );
    }
    let jobs: Vec<_> = pack
        .lessons
        .iter()
        .zip(&dirs)
        .map(|(l, d)| (l, d.as_path()))
        .collect();
    let t = Instant::now();
    let reports = check::run_lessons(&pack, &jobs, &cancel, None);
    let all = t.elapsed();
    let passed = reports.iter().filter(|r| r.passed()).count();
    println!(
        "\ncheck --all on {} solutions: {:.0} ms ({passed}/{} passed)",
        reports.len(),
        ms(all),
        reports.len()
    );
}
