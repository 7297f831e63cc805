//! `twelve lessons verify`: every starter fails the checks it should, with the expected
//! message, and every solution passes every check.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::commands::{FAILED, TROUBLE, cancel_on_signals};
use super::paint::Paint;
use crate::check::{self, CancelToken, LessonReport, Outcome};
use crate::lesson::{Files, Lesson, Pack};

/// What verification found for one lesson.
#[derive(Debug)]
pub struct Verdict {
    pub problems: Vec<String>,
    pub lines: Vec<String>,
}

fn materialise(root: &Path, name: &str, shared: &Files, files: &Files) -> anyhow::Result<PathBuf> {
    let dir = root.join(name);
    crate::sandbox::write_files(&dir, shared.iter().chain(files))?;
    Ok(dir)
}

/// Judge a lesson's starter and solution reports.
pub fn judge(
    lesson: &Lesson,
    starter: &LessonReport,
    solution: &LessonReport,
    p: Paint,
) -> Verdict {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for sf in &lesson.starter_fails {
        let Some(c) = starter.checks.iter().find(|c| c.id == sf.check) else {
            continue;
        };
        match (&c.outcome, &c.failure) {
            (Outcome::Failed, Some(f)) => {
                let text = f.full_text();
                match &sf.message {
                    Some(m) if !text.contains(m.as_str()) => problems.push(format!(
                        "starter fails `{}` but without the expected message `{m}`; it said: {}",
                        c.id, f.message
                    )),
                    _ => lines.push(format!(
                        "{} starter fails `{}` as intended: {}",
                        p.green("✓"),
                        c.id,
                        f.message
                    )),
                }
            }
            (o, _) => problems.push(format!(
                "starter should fail `{}`, but the check {}",
                c.id,
                match o {
                    Outcome::Passed => "passed".to_string(),
                    other => format!("ended as {other:?}").to_lowercase(),
                }
            )),
        }
    }
    let also: Vec<&str> = starter
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .filter(|c| !lesson.starter_fails.iter().any(|sf| sf.check == c.id))
        .map(|c| c.id.as_str())
        .collect();
    if !also.is_empty() {
        lines.push(p.dim(&format!("· starter also fails: {}", also.join(", "))));
    }
    if lesson.starter_fails.is_empty() && starter.passed() {
        problems.push("the starter passes every check: it teaches nothing".into());
    }
    let failed: Vec<&check::CheckReport> = solution
        .checks
        .iter()
        .filter(|c| c.outcome != Outcome::Passed)
        .collect();
    if failed.is_empty() {
        lines.push(format!(
            "{} solution passes all {} checks ({} ms)",
            p.green("✓"),
            solution.checks.len(),
            solution.duration_ms
        ));
    }
    for c in failed {
        let why = c.failure.as_ref().map_or(String::new(), |f| {
            format!(
                "{} (expected {}; observed {})",
                f.message,
                f.expected,
                f.observed.lines().next().unwrap_or("")
            )
        });
        problems.push(format!("solution fails `{}`: {why}", c.id));
    }
    Verdict { problems, lines }
}

pub fn verify(pack: &Pack, only: &[String]) -> anyhow::Result<ExitCode> {
    let lessons: Vec<&Lesson> = if only.is_empty() {
        pack.lessons.iter().collect()
    } else {
        only.iter()
            .map(|k| {
                pack.find(k)
                    .ok_or_else(|| anyhow::anyhow!("no lesson `{k}`"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    crate::sandbox::Python::get()?;
    let tmp = tempfile::Builder::new()
        .prefix("twelve-verify-")
        .tempdir()?;
    let mut jobs_dirs = Vec::new();
    for l in &lessons {
        let s = materialise(
            tmp.path(),
            &format!("starter-{}", l.dir_name),
            &pack.shared,
            &l.starter,
        )?;
        let v = materialise(
            tmp.path(),
            &format!("solution-{}", l.dir_name),
            &pack.shared,
            &l.solution,
        )?;
        jobs_dirs.push((*l, s));
        jobs_dirs.push((*l, v));
    }
    let jobs: Vec<(&Lesson, &Path)> = jobs_dirs.iter().map(|(l, d)| (*l, d.as_path())).collect();
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    let reports = check::run_lessons(pack, &jobs, &cancel, None);
    if cancel.is_cancelled() {
        return Ok(ExitCode::from(TROUBLE));
    }
    let p = Paint::detect();
    let mut bad = 0;
    for (i, l) in lessons.iter().enumerate() {
        let v = judge(l, &reports[2 * i], &reports[2 * i + 1], p);
        println!(
            "{}",
            p.bold(&format!("Lesson {} · {}", l.number, l.dir_name))
        );
        for line in &v.lines {
            println!("  {line}");
        }
        for problem in &v.problems {
            println!("  {} {problem}", p.red("✗"));
        }
        if !v.problems.is_empty() {
            bad += 1;
        }
    }
    println!(
        "\n{} of {} lessons verified from {}",
        lessons.len() - bad,
        lessons.len(),
        pack.source
    );
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    })
}
