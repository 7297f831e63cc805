//! `twelve report`: one learner's progress, as markdown, self-contained HTML or JSON.
//!
//! Progress is what the learner's machine recorded in `.twelve/progress.toml`; anybody can edit
//! that file, and the report says so. With `--check` the report also carries a check run made
//! now ([`CheckRun`]), which is as trustworthy as the place it ran (CI, or a laptop).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::envelope::CheckRun;
use super::html::{self, Bar, Segment};
use super::origin::{Origin, Where};
use super::{SCHEMA, human_duration, seconds_between};
use crate::check::Outcome;
use crate::lesson::Pack;
use crate::workspace::{LessonProgress, Progress, Status};

/// One lesson in a progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonRow {
    pub number: u8,
    /// The folder name (`03-config`).
    pub lesson: String,
    #[serde(default)]
    pub factor_name: String,
    #[serde(default)]
    pub title: String,
    pub status: Status,
    /// Every check run of the lesson.
    pub attempts: u32,
    /// Failed check runs before the first pass (absent: not passed, or not known).
    #[serde(default)]
    pub checks_before_pass: Option<u32>,
    pub hints_revealed: u32,
    #[serde(default)]
    pub hints_total: Option<u32>,
    /// Hints revealed when the lesson first passed.
    #[serde(default)]
    pub hints_at_pass: Option<u32>,
    #[serde(default)]
    pub first_checked: Option<String>,
    #[serde(default)]
    pub first_pass: Option<String>,
    /// Seconds from the workspace's creation to the first pass.
    #[serde(default)]
    pub since_start_s: Option<u64>,
    #[serde(default)]
    pub last_checked: Option<String>,
    /// e.g. "2/4 checks passed; first problem: ...".
    #[serde(default)]
    pub last_result: Option<String>,
    /// Whether the last check passed (a lesson passed earlier may fail now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_passed: Option<bool>,
}

impl LessonRow {
    /// The status as it stands now: "passed · last check failed" for a pass gone stale.
    pub fn status_label(&self) -> &'static str {
        if self.status == Status::Passed && self.last_passed == Some(false) {
            "passed · last check failed"
        } else {
            self.status.label()
        }
    }
}

impl LessonRow {
    /// A row from one lesson's recorded progress.
    pub fn new(
        number: u8,
        lesson: &str,
        names: (&str, &str),
        hints_total: Option<u32>,
        started: Option<&str>,
        p: &LessonProgress,
    ) -> LessonRow {
        // Progress written before `checks_before_pass` was kept: a lesson passed at its only
        // check run was passed at once; otherwise it is not known.
        let checks_before_pass = p
            .checks_before_pass
            .or((p.status == Status::Passed && p.attempts == 1).then_some(0));
        LessonRow {
            number,
            lesson: lesson.to_string(),
            factor_name: names.0.to_string(),
            title: names.1.to_string(),
            status: p.status,
            attempts: p.attempts,
            checks_before_pass,
            hints_revealed: p.hints_revealed,
            hints_total,
            hints_at_pass: p.hints_at_pass,
            first_checked: p.first_checked.clone(),
            first_pass: p.first_pass.clone(),
            since_start_s: match (started, &p.first_pass) {
                (Some(s), Some(f)) => seconds_between(s, f),
                _ => None,
            },
            last_checked: p.last_checked.clone(),
            last_result: p.last_result.clone(),
            last_passed: p.last_passed,
        }
    }

    /// The check that failed at the last check run, from its summary.
    pub fn last_problem(&self) -> Option<&str> {
        self.last_result
            .as_deref()?
            .split_once("first problem: ")
            .map(|(_, t)| t.trim())
    }

    /// `Config — Store config in the environment`, or the folder name when that is all.
    fn name(&self) -> String {
        match (self.factor_name.is_empty(), self.title.is_empty()) {
            (true, true) => self.lesson.clone(),
            (true, false) => self.title.clone(),
            (false, true) => self.factor_name.clone(),
            (false, false) => format!("{} — {}", self.factor_name, self.title),
        }
    }

    fn label(&self) -> String {
        if self.factor_name.is_empty() {
            format!("{} · {}", self.number, self.lesson)
        } else {
            format!("{} · {}", self.number, self.factor_name)
        }
    }
}

/// Rows for every lesson of the pack (in pack order), then any lesson the progress names that
/// the pack does not hold.
pub fn rows(progress: &Progress, pack: &Pack) -> Vec<LessonRow> {
    let started = progress.started.as_deref();
    let mut out: Vec<LessonRow> = pack
        .lessons
        .iter()
        .map(|l| {
            LessonRow::new(
                l.number,
                &l.dir_name,
                (&l.factor_name, &l.title),
                Some(l.hints.len() as u32),
                started,
                &progress.lesson(l),
            )
        })
        .collect();
    for (dir, p) in &progress.lessons {
        if pack.lessons.iter().all(|l| &l.dir_name != dir) {
            out.push(rows_without_pack(dir, started, p));
        }
    }
    out
}

/// A row when only the folder name is known (`07-port-binding`).
pub fn rows_without_pack(dir: &str, started: Option<&str>, p: &LessonProgress) -> LessonRow {
    let number = dir
        .split_once('-')
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    LessonRow::new(number, dir, ("", ""), None, started, p)
}

/// Counts over a progress report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressTotals {
    pub lessons: usize,
    pub passed: usize,
    pub attempted: usize,
    pub not_started: usize,
    pub check_runs: u32,
    pub hints: u32,
}

/// `twelve report --format json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgressReport {
    pub schema: u32,
    pub twelve: String,
    pub generated: String,
    #[serde(default)]
    pub learner: Option<String>,
    /// Where the report was made (the progress in it is self-reported wherever that is).
    pub origin: Origin,
    /// How far to trust it, in words.
    pub trust: String,
    #[serde(default)]
    pub started: Option<String>,
    pub totals: ProgressTotals,
    pub lessons: Vec<LessonRow>,
    /// Checks re-executed when the report was made (`twelve report --check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<CheckRun>,
}

impl ProgressReport {
    pub fn new(
        learner: Option<String>,
        started: Option<String>,
        lessons: Vec<LessonRow>,
        verified: Option<CheckRun>,
    ) -> ProgressReport {
        let count = |s| lessons.iter().filter(|l| l.status == s).count();
        let totals = ProgressTotals {
            lessons: lessons.len(),
            passed: count(Status::Passed),
            attempted: count(Status::Attempted),
            not_started: count(Status::NotStarted),
            check_runs: lessons.iter().map(|l| l.attempts).sum(),
            hints: lessons.iter().map(|l| l.hints_revealed).sum(),
        };
        let origin = Origin::detect();
        let trust = match &verified {
            Some(run) => format!(
                "Statuses, attempts, hints and times are self-reported (read from \
                 .twelve/progress.toml, which the learner can edit). The column \"checked now\" \
                 was re-executed when this report was made: {}",
                run.origin.trust()
            ),
            None => "Read from .twelve/progress.toml on the learner's machine, \
                     which the learner can edit. The grade that counts is the one CI re-executed \
                     (`twelve check --all` in CI); `twelve report --check` re-executes the \
                     checks now."
                .to_string(),
        };
        ProgressReport {
            schema: SCHEMA,
            twelve: env!("CARGO_PKG_VERSION").to_string(),
            generated: crate::workspace::now(),
            learner,
            origin,
            trust,
            started,
            totals,
            lessons,
            verified,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&super::envelope::Document::Progress(self.clone()))
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    fn who(&self) -> String {
        self.learner
            .clone()
            .unwrap_or_else(|| "this workspace".into())
    }

    /// The verdict of the check run made now, for a lesson.
    fn checked_now(&self, lesson: &str) -> Option<Outcome> {
        self.verified
            .as_ref()?
            .lessons
            .iter()
            .find(|r| r.lesson == lesson)
            .map(|r| r.outcome)
    }

    fn trusted(&self) -> bool {
        self.verified
            .as_ref()
            .is_some_and(|v| v.origin.place == Where::Ci)
    }

    /// Markdown, for a terminal, a pull request or `$GITHUB_STEP_SUMMARY`.
    pub fn markdown(&self) -> String {
        let mut s = format!("# twelve: progress of {}\n\n", self.who());
        let _ = writeln!(s, "> **{}** {}\n", self.trust_label(), self.trust);
        let _ = writeln!(
            s,
            "{}/{} lessons passed · {} · {}{}\n",
            self.totals.passed,
            self.totals.lessons,
            counted(self.totals.check_runs, "check run"),
            counted(self.totals.hints, "hint"),
            self.started
                .as_deref()
                .map_or(String::new(), |t| format!(" · started {t}"))
        );
        let now = self.verified.is_some();
        s.push_str(
            "| # | Lesson | Status | First pass | Checks before pass | Hints | Time from start |",
        );
        s.push_str(if now { " Checked now |\n" } else { "\n" });
        s.push_str("|--:|---|---|---|--:|--:|--:|");
        s.push_str(if now { "---|\n" } else { "\n" });
        for l in &self.lessons {
            let _ = write!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                l.number,
                cell(&l.name()),
                status_mark(l.status),
                l.first_pass.as_deref().unwrap_or(""),
                l.checks_before_pass
                    .map_or(String::new(), |n| n.to_string()),
                hints(l),
                l.since_start_s.map_or(String::new(), human_duration),
            );
            if now {
                let _ = write!(s, " {} |", outcome_mark(self.checked_now(&l.lesson)));
            }
            s.push('\n');
        }
        let stuck: Vec<&LessonRow> = self
            .lessons
            .iter()
            .filter(|l| l.status == Status::Attempted)
            .collect();
        if !stuck.is_empty() {
            s.push_str("\n## Not passed yet\n\n");
            for l in stuck {
                let _ = writeln!(
                    s,
                    "- **{}**: {} check run{}; last: {}",
                    l.label(),
                    l.attempts,
                    if l.attempts == 1 { "" } else { "s" },
                    l.last_result.as_deref().unwrap_or("?")
                );
            }
        }
        s
    }

    fn trust_label(&self) -> &'static str {
        if self.trusted() {
            "Re-executed in CI."
        } else if self.verified.is_some() {
            "Re-executed on this machine."
        } else {
            "Self-reported."
        }
    }

    /// One self-contained HTML page with a chart.
    pub fn html(&self) -> String {
        let mut b = format!(
            "<h1>Progress of {}</h1>\n<p class=\"sub\">{}/{} lessons passed · {} · {}{}</p>\n",
            html::escape(&self.who()),
            self.totals.passed,
            self.totals.lessons,
            counted(self.totals.check_runs, "check run"),
            counted(self.totals.hints, "hint"),
            self.started
                .as_deref()
                .map_or(String::new(), |t| format!(" · started {}", html::escape(t)))
        );
        let _ = writeln!(
            b,
            "<p class=\"trust{}\"><strong>{}</strong> {}</p>",
            if self.trusted() { " ci" } else { "" },
            self.trust_label(),
            html::escape(&self.trust)
        );
        b.push_str("<h2>Check runs per lesson</h2>\n");
        let bars: Vec<Bar> = self
            .lessons
            .iter()
            .map(|l| {
                let mut segments = Vec::new();
                match (l.status, l.checks_before_pass) {
                    (Status::Passed, Some(before)) => {
                        segments.push(Segment {
                            value: f64::from(before),
                            class: "fail",
                            title: format!("{before} failed before the first pass"),
                        });
                        segments.push(Segment {
                            value: 1.0,
                            class: "pass",
                            title: "the passing run".into(),
                        });
                    }
                    (Status::Passed, None) => segments.push(Segment {
                        value: f64::from(l.attempts.max(1)),
                        class: "pass",
                        title: format!("passed; {} check runs in all", l.attempts),
                    }),
                    _ => segments.push(Segment {
                        value: f64::from(l.attempts),
                        class: "try",
                        title: format!("{} check runs, not passed yet", l.attempts),
                    }),
                }
                let note = match l.status {
                    Status::Passed => l.since_start_s.map_or("passed".into(), |s| {
                        format!("passed at {}", human_duration(s))
                    }),
                    Status::Attempted => format!("{} runs", l.attempts),
                    Status::NotStarted => "not started".into(),
                };
                Bar {
                    label: l.label(),
                    segments,
                    note,
                }
            })
            .collect();
        b.push_str(&html::bar_chart(
            "check runs per lesson: failed before passing, and the passing run",
            &bars,
            0.0,
        ));
        b.push_str(&html::legend(&[
            ("fail", "failed before the first pass"),
            ("pass", "passed"),
            ("try", "not passed yet"),
        ]));
        b.push_str("<h2>Lessons</h2>\n<table>\n<tr><th class=\"num\">#</th><th>Lesson</th><th>Status</th><th>First pass</th><th class=\"num\">Checks before pass</th><th class=\"num\">Hints</th><th class=\"num\">Time from start</th>");
        let now = self.verified.is_some();
        b.push_str(if now {
            "<th>Checked now</th></tr>\n"
        } else {
            "</tr>\n"
        });
        for l in &self.lessons {
            let class = status_class(l.status);
            let _ = write!(
                b,
                "<tr><td class=\"num\">{}</td><td>{}<br><span class=\"not-started\">{}</span></td><td class=\"{class}\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                l.number,
                html::escape(&l.label()),
                html::escape(l.last_problem().map_or(&l.title, |p| p)),
                l.status_label(),
                html::escape(l.first_pass.as_deref().unwrap_or("")),
                l.checks_before_pass
                    .map_or(String::new(), |n| n.to_string()),
                html::escape(&hints(l)),
                l.since_start_s.map_or(String::new(), human_duration),
            );
            if now {
                let o = self.checked_now(&l.lesson);
                let _ = write!(
                    b,
                    "<td class=\"{}\">{}</td>",
                    match o {
                        Some(Outcome::Passed) => "passed",
                        Some(_) => "failed",
                        None => "not-started",
                    },
                    outcome_mark(o)
                );
            }
            b.push_str("</tr>\n");
        }
        b.push_str("</table>\n");
        html::page(&format!("twelve: progress of {}", self.who()), &b)
    }
}

/// `1 hint`, `3 hints`.
fn counted(n: u32, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn hints(l: &LessonRow) -> String {
    match l.hints_total {
        Some(t) => format!("{}/{t}", l.hints_revealed),
        None => l.hints_revealed.to_string(),
    }
}

fn status_mark(s: Status) -> &'static str {
    match s {
        Status::Passed => "✓ passed",
        Status::Attempted => "✗ attempted",
        Status::NotStarted => "· not started",
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Attempted => "attempted",
        Status::NotStarted => "not-started",
    }
}

fn outcome_mark(o: Option<Outcome>) -> &'static str {
    match o {
        Some(Outcome::Passed) => "✓ passed",
        Some(Outcome::Failed) => "✗ failed",
        Some(Outcome::Error) => "! not checked",
        Some(Outcome::Cancelled) => "… cancelled",
        None => "",
    }
}

/// A markdown table cell: no pipes or line breaks.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress() -> Progress {
        let mut p = Progress {
            started: Some("2025-03-01T09:00:00Z".into()),
            ..Progress::default()
        };
        p.lessons.insert(
            "01-codebase".into(),
            LessonProgress {
                status: Status::Passed,
                attempts: 3,
                hints_revealed: 1,
                first_pass: Some("2025-03-01T09:20:00Z".into()),
                checks_before_pass: Some(2),
                ..LessonProgress::default()
            },
        );
        p.lessons.insert(
            "03-config".into(),
            LessonProgress {
                status: Status::Attempted,
                attempts: 4,
                last_result: Some("1/5 checks passed; first problem: Fails fast | loud".into()),
                ..LessonProgress::default()
            },
        );
        p
    }

    fn report() -> ProgressReport {
        let p = progress();
        let rows = p
            .lessons
            .iter()
            .map(|(d, lp)| rows_without_pack(d, p.started.as_deref(), lp))
            .collect();
        ProgressReport::new(Some("alice".into()), p.started.clone(), rows, None)
    }

    #[test]
    fn rows_carry_checks_before_pass_and_time_from_start() {
        let r = report();
        let l1 = &r.lessons[0];
        assert_eq!(l1.number, 1);
        assert_eq!(l1.checks_before_pass, Some(2));
        assert_eq!(l1.since_start_s, Some(20 * 60));
        assert_eq!(r.lessons[1].last_problem(), Some("Fails fast | loud"));
        assert_eq!(r.totals.passed, 1);
        assert_eq!(r.totals.check_runs, 7);
    }

    #[test]
    fn the_report_says_it_is_self_reported() {
        let r = report();
        let md = r.markdown();
        assert!(md.contains("**Self-reported.**"), "{md}");
        assert!(md.contains("| 1 | 01-codebase | ✓ passed |"), "{md}");
        assert!(md.contains("20 min"), "{md}");
        assert!(md.contains("first problem: Fails fast | loud"), "{md}");
        let page = r.html();
        assert!(page.contains("<svg") && page.contains("Self-reported."));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["kind"], "progress");
        assert_eq!(json["schema"], 1);
        assert!(json["trust"].as_str().unwrap().contains("can edit"));
    }

    #[test]
    fn recording_keeps_checks_before_the_first_pass() {
        use crate::workspace::ProgressChange;
        let mut p = Progress::default();
        let checked = |passed| ProgressChange::Checked {
            lesson: "03-config".into(),
            passed,
            summary: String::new(),
        };
        checked(false).apply(&mut p);
        ProgressChange::Hints {
            lesson: "03-config".into(),
            revealed: 2,
        }
        .apply(&mut p);
        checked(false).apply(&mut p);
        checked(true).apply(&mut p);
        checked(false).apply(&mut p);
        checked(true).apply(&mut p);
        let lp = &p.lessons["03-config"];
        // Checks after the first pass are not attempts.
        assert_eq!(lp.attempts, 3);
        assert_eq!(lp.checks_before_pass, Some(2));
        assert_eq!(lp.hints_at_pass, Some(2));
        assert!(lp.first_checked.is_some());
    }

    #[test]
    fn old_progress_passed_at_once_counts_zero_checks_before() {
        let lp = LessonProgress {
            status: Status::Passed,
            attempts: 1,
            ..LessonProgress::default()
        };
        assert_eq!(
            rows_without_pack("02-x", None, &lp).checks_before_pass,
            Some(0)
        );
        let lp = LessonProgress { attempts: 3, ..lp };
        assert_eq!(
            rows_without_pack("02-x", None, &lp).checks_before_pass,
            None
        );
    }
}
