//! Check reports as text for people (human), machines (json, schema 1), CI (junit, md) and
//! graders (gradescope); `--save FORMAT=PATH` writes more than one from the same run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};

use super::Format;
use super::paint::Paint;
use crate::check::{CheckReport, LessonReport, Outcome};
use crate::classroom::envelope::{CheckRun, PROGRESS_TRUST, RecordedProgress};
use crate::classroom::grading::Grading;
use crate::classroom::{gradescope, learner, summary};
use crate::lesson::Pack;
use crate::workspace::{Progress, Workspace};

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

/// Each transcript entry behind a prompt; the further lines of one entry (a heredoc holding a
/// check script) start at the margin, so the block runs when pasted.
fn transcript_text(entries: &[String]) -> String {
    let mut s = String::new();
    for e in entries {
        let mut lines = e.lines();
        s.push_str("      $ ");
        s.push_str(lines.next().unwrap_or(""));
        s.push('\n');
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
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
    s.push_str(&p.cyan(&transcript_text(&c.transcript)));
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

/// XML text: escaped, and without the characters XML 1.0 cannot hold at all.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' => out.push(c),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn count(r: &LessonReport, o: Outcome) -> usize {
    r.checks.iter().filter(|c| c.outcome == o).count()
}

/// JUnit XML: a test suite per lesson, a test case per check. Names are the lesson's folder
/// and the check's title and id, never a port or a time, so CI can follow a test across
/// runs; a failure's body holds everything the human report shows, output tails included.
pub fn junit(reports: &[LessonReport]) -> String {
    let total = |o| reports.iter().map(|r| count(r, o)).sum::<usize>();
    let tests: usize = reports.iter().map(|r| r.checks.len().max(1)).sum();
    let time: u64 = reports.iter().map(|r| r.duration_ms).sum();
    let empty_errors = reports
        .iter()
        .filter(|r| r.checks.is_empty() && r.outcome != Outcome::Passed)
        .count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"twelve\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        total(Outcome::Failed),
        total(Outcome::Error) + empty_errors,
        total(Outcome::Cancelled),
        time as f64 / 1000.0
    );
    let stamp = crate::workspace::now();
    for r in reports {
        let empty_error = usize::from(r.checks.is_empty() && r.outcome != Outcome::Passed);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
            xml(&r.lesson),
            r.checks.len().max(1),
            count(r, Outcome::Failed),
            count(r, Outcome::Error) + empty_error,
            count(r, Outcome::Cancelled),
            r.duration_ms as f64 / 1000.0,
            xml(stamp.trim_end_matches('Z')),
        );
        let _ = writeln!(
            s,
            "    <properties><property name=\"lesson\" value=\"{}\"/><property name=\"title\" value=\"{}\"/></properties>",
            r.number,
            xml(&r.title)
        );
        if r.checks.is_empty() {
            // A lesson with no check result still shows up, as one case.
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"lesson\" time=\"0.000\"",
                xml(&r.lesson)
            );
            if r.outcome == Outcome::Passed {
                s.push_str("/>\n");
            } else {
                s.push_str(">\n      <error message=\"the lesson could not be checked\"/>\n    </testcase>\n");
            }
        }
        for c in &r.checks {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(&r.lesson),
                xml(&format!("{} ({})", c.title, c.id)),
                c.duration_ms as f64 / 1000.0
            );
            match c.outcome {
                Outcome::Passed => s.push_str("/>\n"),
                Outcome::Cancelled => {
                    s.push_str(">\n      <skipped message=\"cancelled\"/>\n    </testcase>\n");
                }
                o => {
                    let tag = if o == Outcome::Error {
                        "error"
                    } else {
                        "failure"
                    };
                    let (msg, kind) = c
                        .failure
                        .as_ref()
                        .map_or((String::new(), String::new()), |f| {
                            (f.message.clone(), f.kind.clone())
                        });
                    let body = summary::failure_text(c, usize::MAX);
                    let _ = write!(
                        s,
                        ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>\n",
                        xml(&msg),
                        xml(&kind),
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

/// The extra outputs of a `check` (`--save`, `--grading`), prepared before any check runs so
/// that a typo costs nothing.
pub struct Outputs {
    saves: Vec<(Format, PathBuf)>,
    grading: Grading,
    started: Instant,
}

impl Outputs {
    /// `save` holds `FORMAT=PATH`s; `grading` a grading file (default: `.twelve/grading.toml`
    /// when there is one).
    pub fn new(
        save: &[String],
        grading: Option<&Path>,
        ws: &Workspace,
        pack: &Pack,
    ) -> anyhow::Result<Outputs> {
        let mut saves = Vec::new();
        for spec in save {
            let Some((format, path)) = spec.split_once('=') else {
                bail!("--save takes FORMAT=PATH (e.g. json=twelve-report.json), not `{spec}`");
            };
            let format = <Format as clap::ValueEnum>::from_str(format, true).map_err(|_| {
                anyhow::anyhow!(
                    "--save {spec}: unknown format `{format}` (human, json, junit, gradescope, md)"
                )
            })?;
            if path.is_empty() {
                bail!("--save {spec}: say where to write it");
            }
            saves.push((format, PathBuf::from(path)));
        }
        let default = ws.state_dir().join("grading.toml");
        let grading = match grading {
            Some(p) => Grading::load(p)?,
            None if default.is_file() => Grading::load(&default)?,
            None => Grading::default(),
        };
        let lessons: Vec<(u8, &str)> = pack
            .lessons
            .iter()
            .map(|l| (l.number, l.dir_name.as_str()))
            .collect();
        let unknown = grading.unknown_lessons(&lessons);
        if !unknown.is_empty() {
            bail!(
                "the grading file names lessons this pack does not have: {}",
                unknown.join(", ")
            );
        }
        Ok(Outputs {
            saves,
            grading,
            started: Instant::now(),
        })
    }

    /// Whether an output needs the learner's progress (the JSON report carries it).
    pub fn wants_progress(&self, format: Format) -> bool {
        format == Format::Json || self.saves.iter().any(|(f, _)| *f == Format::Json)
    }

    /// The report in one of the machine formats (`human` is printed by the caller).
    pub fn render(
        &self,
        format: Format,
        reports: &[LessonReport],
        recorded: Option<&RecordedProgress>,
        verbose: bool,
    ) -> String {
        match format {
            Format::Human => reports
                .iter()
                .map(|r| human(r, Paint { on: false }, verbose))
                .collect(),
            Format::Json => CheckRun::new(reports.to_vec(), recorded.cloned()).to_json() + "\n",
            Format::Junit => junit(reports),
            Format::Gradescope => {
                let r =
                    gradescope::results(reports, &self.grading, self.started.elapsed().as_secs());
                serde_json::to_string_pretty(&r).unwrap_or_default() + "\n"
            }
            Format::Md => summary::markdown(&CheckRun::new(reports.to_vec(), None)),
        }
    }

    /// Write every `--save`.
    pub fn save(
        &self,
        reports: &[LessonReport],
        recorded: Option<&RecordedProgress>,
    ) -> anyhow::Result<()> {
        for (format, path) in &self.saves {
            std::fs::write(path, self.render(*format, reports, recorded, false))
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        Ok(())
    }
}

/// The learner's progress as it stands, to carry in a JSON report (self-reported).
pub fn recorded(progress: &Progress, pack: &Pack) -> RecordedProgress {
    RecordedProgress {
        trust: PROGRESS_TRUST.to_string(),
        started: progress.started.clone(),
        lessons: learner::rows(progress, pack),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Failure, OutputTail};

    fn report() -> LessonReport {
        let failed = CheckReport {
            id: "smoke".into(),
            title: "The service <works>".into(),
            why: "why".into(),
            outcome: Outcome::Failed,
            duration_ms: 10,
            failure: Some(Failure {
                step: 1,
                kind: "start".into(),
                line: 3,
                message: "it ended before listening on port 41234".into(),
                detail: None,
                expected: "a listener".into(),
                observed: "exit code 1".into(),
                outputs: vec![OutputTail {
                    process: "web.1".into(),
                    stdout: vec![],
                    stderr: vec![
                        "Traceback (most recent call last):".into(),
                        "ModuleNotFoundError: No module named 'flask'\u{1b}".into(),
                    ],
                    dropped_lines: 0,
                    exit: Some("exit code 1".into()),
                }],
            }),
            transcript: vec!["PORT=41234 python3 app.py".into()],
        };
        let cancelled = CheckReport {
            id: "later".into(),
            title: "Later".into(),
            outcome: Outcome::Cancelled,
            failure: None,
            ..failed.clone()
        };
        let passed = CheckReport {
            id: "ok".into(),
            title: "Fine".into(),
            outcome: Outcome::Passed,
            failure: None,
            ..failed.clone()
        };
        let checks = vec![passed, failed, cancelled];
        LessonReport {
            number: 2,
            lesson: "02-dependencies".into(),
            title: "Dependencies".into(),
            outcome: LessonReport::combine(&checks),
            duration_ms: 30,
            checks,
        }
    }

    #[test]
    fn junit_holds_tracebacks_counts_and_stable_names() {
        let x = junit(&[report()]);
        assert!(
            x.contains("ModuleNotFoundError: No module named 'flask'"),
            "{x}"
        );
        assert!(!x.contains('\u{1b}'));
        assert!(
            x.contains(
                "<testsuites name=\"twelve\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""
            ),
            "{x}"
        );
        assert!(x.contains("skipped=\"1\" time=\"0.030\""), "{x}");
        assert!(
            x.contains("name=\"The service &lt;works&gt; (smoke)\""),
            "{x}"
        );
        assert!(x.contains("type=\"start\""), "{x}");
        assert!(x.contains("$ PORT=41234 python3 app.py"), "{x}");
        // The port is in the message, never in a name.
        for line in x.lines().filter(|l| l.contains("<testcase")) {
            assert!(!line.contains("41234"), "{line}");
        }
    }
}
