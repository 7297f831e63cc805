//! Check reports as text for people (human), machines (json) and CI (junit).

use std::fmt::Write as _;

use super::paint::Paint;
use crate::check::{CheckReport, LessonReport, Outcome};

/// A report as a person reads it in a terminal.
pub fn human(r: &LessonReport, p: Paint, verbose: bool) -> String {
    let mut s = String::new();
    let head = format!("Lesson {} · {}", r.number, r.title);
    let _ = writeln!(s, "{}", p.bold(&head));
    for c in &r.checks {
        s.push_str(&check_line(c, p));
        if c.outcome != Outcome::Passed && c.outcome != Outcome::Cancelled {
            s.push_str(&failure_details(c, p, verbose));
        }
    }
    let verdict = match r.outcome {
        Outcome::Passed => p.green(&format!("✓ lesson {} passed ({})", r.number, r.summary())),
        Outcome::Failed => p.red(&format!("✗ lesson {}: {}", r.number, r.summary())),
        Outcome::Error => p.red(&format!("! lesson {} could not be checked", r.number)),
        Outcome::Cancelled => p.yellow(&format!("… lesson {} cancelled", r.number)),
    };
    let _ = writeln!(
        s,
        "{verdict} {}",
        p.dim(&format!("in {} ms", r.duration_ms))
    );
    s
}

fn check_line(c: &CheckReport, p: Paint) -> String {
    let (mark, title) = match c.outcome {
        Outcome::Passed => (p.green("✓"), c.title.clone()),
        Outcome::Failed => (p.red("✗"), p.bold(&c.title)),
        Outcome::Error => (p.red("!"), p.bold(&c.title)),
        Outcome::Cancelled => (p.yellow("…"), c.title.clone()),
    };
    format!(
        "  {mark} {title} {}\n",
        p.dim(&format!("({} ms)", c.duration_ms))
    )
}

fn indent(text: &str, by: &str) -> String {
    text.lines().fold(String::new(), |mut s, l| {
        s.push_str(by);
        s.push_str(l);
        s.push('\n');
        s
    })
}

fn failure_details(c: &CheckReport, p: Paint, verbose: bool) -> String {
    let mut s = String::new();
    let Some(f) = &c.failure else {
        return s;
    };
    let _ = writeln!(s, "    {}", p.red(&f.message));
    if let Some(d) = &f.detail {
        let _ = writeln!(s, "    {}", p.dim(d));
    }
    if !f.expected.is_empty() {
        let _ = write!(
            s,
            "    {}\n{}",
            p.bold("expected:"),
            indent(&f.expected, "      ")
        );
    }
    if !f.observed.is_empty() {
        let _ = write!(
            s,
            "    {}\n{}",
            p.bold("observed:"),
            indent(&f.observed, "      ")
        );
    }
    for o in &f.outputs {
        let lines: Vec<&String> = o.stdout.iter().chain(&o.stderr).collect();
        if lines.is_empty() && o.exit.is_none() {
            continue;
        }
        let exit = o
            .exit
            .as_deref()
            .map_or(String::new(), |e| format!(" — {e}"));
        let _ = writeln!(
            s,
            "    {}",
            p.bold(&format!("output of {}{exit}:", o.process))
        );
        if o.dropped_lines > 0 {
            let _ = writeln!(
                s,
                "      {}",
                p.dim(&format!("({} earlier lines dropped)", o.dropped_lines))
            );
        }
        let take = if verbose { usize::MAX } else { 12 };
        for l in o.stdout.iter().rev().take(take).rev() {
            let _ = writeln!(s, "      {l}");
        }
        for l in o.stderr.iter().rev().take(take).rev() {
            let _ = writeln!(s, "      {}", p.yellow(l));
        }
        if lines.is_empty() {
            let _ = writeln!(s, "      {}", p.dim("(no output)"));
        }
    }
    let _ = writeln!(s, "    {} {}", p.bold("why:"), c.why);
    let _ = writeln!(s, "    {}", p.bold("to reproduce by hand:"));
    s.push_str(&p.cyan(&indent(&c.transcript.join("\n"), "      $ ")));
    let _ = writeln!(
        s,
        "    {}",
        p.dim(&format!(
            "(step {}, {}, lesson.toml line {})",
            f.step, f.kind, f.line
        ))
    );
    s
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: a test suite per lesson, a test case per check.
pub fn junit(reports: &[LessonReport]) -> String {
    let mut s =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"twelve\">\n");
    for r in reports {
        let failures = r
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .count();
        let errors = r
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Error)
            .count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
            xml(&r.lesson),
            r.checks.len(),
            r.duration_ms as f64 / 1000.0
        );
        for c in &r.checks {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(&r.lesson),
                xml(&c.title),
                c.duration_ms as f64 / 1000.0
            );
            match (&c.outcome, &c.failure) {
                (Outcome::Passed, _) => s.push_str("/>\n"),
                (Outcome::Cancelled, _) => {
                    s.push_str("><skipped message=\"cancelled\"/></testcase>\n");
                }
                (o, f) => {
                    let tag = if *o == Outcome::Error {
                        "error"
                    } else {
                        "failure"
                    };
                    let msg = f.as_ref().map_or(String::new(), |f| f.message.clone());
                    let body = f.as_ref().map_or(String::new(), |f| {
                        format!(
                            "expected: {}\nobserved: {}\n\n{}",
                            f.expected,
                            f.observed,
                            c.transcript.join("\n")
                        )
                    });
                    let _ = write!(
                        s,
                        ">\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                        xml(&msg),
                        xml(&body)
                    );
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}
