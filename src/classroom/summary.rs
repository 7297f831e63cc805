//! Plain text of a failed check (for JUnit bodies and Gradescope outputs) and the markdown
//! summary of a check run (`check --format md`, for `$GITHUB_STEP_SUMMARY` and merge requests).

use std::fmt::Write as _;

use super::envelope::CheckRun;
use super::learner::cell;
use crate::check::{CheckReport, Outcome};

/// Everything a failed check says, as plain text: the message, expected and observed, every
/// process's output tail (a traceback, an exit status), why, and how to reproduce it.
/// `tail` caps the lines shown per stream (`usize::MAX`: all that were captured).
pub fn failure_text(c: &CheckReport, tail: usize) -> String {
    let mut s = String::new();
    let Some(f) = &c.failure else {
        return match c.outcome {
            Outcome::Cancelled => "cancelled before it ran to a verdict\n".into(),
            _ => String::new(),
        };
    };
    let _ = writeln!(s, "{}", f.message);
    if let Some(d) = &f.detail {
        let _ = writeln!(s, "{d}");
    }
    if !f.expected.is_empty() {
        let _ = writeln!(s, "\nexpected:\n{}", indent(&f.expected));
    }
    if !f.observed.is_empty() {
        let _ = writeln!(s, "observed:\n{}", indent(&f.observed));
    }
    for o in &f.outputs {
        if o.stdout.is_empty() && o.stderr.is_empty() && o.exit.is_none() {
            continue;
        }
        let exit = o
            .exit
            .as_deref()
            .map_or(String::new(), |e| format!(" ({e})"));
        let _ = writeln!(s, "output of {}{exit}:", o.process);
        if o.dropped_lines > 0 {
            let _ = writeln!(s, "  ({} earlier lines dropped)", o.dropped_lines);
        }
        for (name, lines) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            if lines.is_empty() {
                continue;
            }
            let skip = lines.len().saturating_sub(tail);
            if skip > 0 {
                let _ = writeln!(s, "  [{name}, last {} of {} lines]", tail, lines.len());
            } else {
                let _ = writeln!(s, "  [{name}]");
            }
            for l in &lines[skip..] {
                let _ = writeln!(s, "  {l}");
            }
        }
    }
    if !c.why.is_empty() {
        let _ = writeln!(s, "\nwhy: {}", c.why);
    }
    if !c.transcript.is_empty() {
        s.push_str("\nto reproduce by hand:\n");
        for l in &c.transcript {
            let _ = writeln!(s, "  $ {l}");
        }
    }
    let _ = writeln!(
        s,
        "\n(step {}, {}, lesson.toml line {})",
        f.step, f.kind, f.line
    );
    s
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The markdown summary of a check run.
pub fn markdown(run: &CheckRun) -> String {
    let t = run.totals;
    let mut s = format!(
        "## twelve: {}/{} lessons passed ({}/{} checks)\n\n",
        t.lessons_passed, t.lessons, t.passed, t.checks
    );
    let _ = writeln!(s, "{}", run.origin.trust());
    if let Some(url) = &run.origin.run_url {
        let _ = writeln!(s, "[The run]({url}).");
    }
    s.push_str("\n| Lesson | Result | Checks | First problem |\n|---|---|--:|---|\n");
    for r in &run.lessons {
        let passed = r
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Passed)
            .count();
        let first = r
            .checks
            .iter()
            .find(|c| c.outcome != Outcome::Passed)
            .map_or(String::new(), |c| cell(&c.title));
        let _ = writeln!(
            s,
            "| {} · {} | {} | {passed}/{} | {first} |",
            r.number,
            cell(&r.title),
            mark(r.outcome),
            r.checks.len()
        );
    }
    for r in run.lessons.iter().filter(|r| !r.passed()) {
        for c in r.checks.iter().filter(|c| {
            matches!(c.outcome, Outcome::Failed | Outcome::Error) && c.failure.is_some()
        }) {
            let _ = write!(
                s,
                "\n<details><summary>Lesson {} · {}: {}</summary>\n\n```text\n{}```\n\n</details>\n",
                r.number,
                html_text(&r.title),
                html_text(&c.title),
                failure_text(c, 20).replace("```", "'''")
            );
        }
    }
    s
}

/// Text inside a `<summary>`, where markdown does not escape for us.
fn html_text(s: &str) -> String {
    super::html::escape(s)
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "✅ passed",
        Outcome::Failed => "❌ failed",
        Outcome::Error => "⚠️ not checked",
        Outcome::Cancelled => "⏸ cancelled",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::check::{Failure, LessonReport, OutputTail};

    pub(crate) fn failed_check() -> CheckReport {
        CheckReport {
            id: "smoke".into(),
            title: "The service works".into(),
            why: "a service that does not start serves nobody".into(),
            outcome: Outcome::Failed,
            duration_ms: 300,
            failure: Some(Failure {
                step: 2,
                kind: "start".into(),
                line: 40,
                message: "the service ended before it listened on port 40321".into(),
                detail: None,
                expected: "a listener on 40321".into(),
                observed: "exit code 1".into(),
                outputs: vec![OutputTail {
                    process: "web.1".into(),
                    stdout: vec![],
                    stderr: vec![
                        "Traceback (most recent call last):".into(),
                        "  File \"app.py\", line 1, in <module>".into(),
                        "ModuleNotFoundError: No module named 'flask'".into(),
                    ],
                    dropped_lines: 0,
                    exit: Some("exit code 1".into()),
                }],
            }),
            transcript: vec!["PORT=40321 python3 app.py".into()],
        }
    }

    #[test]
    fn failure_text_holds_the_traceback_and_the_reproduction() {
        let t = failure_text(&failed_check(), 2);
        assert!(
            t.contains("ModuleNotFoundError: No module named 'flask'"),
            "{t}"
        );
        assert!(t.contains("[stderr, last 2 of 3 lines]"), "{t}");
        assert!(t.contains("  $ PORT=40321 python3 app.py"), "{t}");
        assert!(t.contains("why: a service"), "{t}");
    }

    #[test]
    fn the_markdown_summary_has_a_row_per_lesson_and_the_failures() {
        let checks = vec![failed_check()];
        let run = CheckRun::new(
            vec![LessonReport {
                number: 2,
                lesson: "02-dependencies".into(),
                title: "Declare | isolate".into(),
                outcome: Outcome::Failed,
                duration_ms: 1,
                checks,
            }],
            None,
        );
        let md = markdown(&run);
        assert!(md.contains("0/1 lessons passed"), "{md}");
        assert!(
            md.contains("| 2 · Declare \\| isolate | ❌ failed | 0/1 | The service works |"),
            "{md}"
        );
        assert!(md.contains("ModuleNotFoundError"), "{md}");
    }
}
