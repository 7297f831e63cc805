//! The result of running checks: plain, serialisable data.

use serde::{Deserialize, Serialize};

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// The learner's service did not do what the check expects.
    Failed,
    /// The check could not run (environment problem: no python3, no temp folder).
    Error,
    /// Stopped on request.
    Cancelled,
}

/// The output of one process when a check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTail {
    /// e.g. `web.1` or `run: python3 manage.py migrate`.
    pub process: String,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    /// Lines dropped because the output was longer than the cap.
    pub dropped_lines: u64,
    /// How it ended, if it did (`exit code 1`, `killed by SIGKILL`).
    pub exit: Option<String>,
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// 1-based step number in the check.
    pub step: usize,
    pub kind: String,
    /// Where the step is written in `lesson.toml`.
    pub line: usize,
    /// The learner-facing sentence (the step's `fail` text, or the engine's own).
    pub message: String,
    /// The engine's own account, when `message` came from the lesson.
    pub detail: Option<String>,
    pub expected: String,
    pub observed: String,
    pub outputs: Vec<OutputTail>,
}

impl Failure {
    /// All text of the failure, for matching expected messages.
    pub fn full_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.message,
            self.detail.as_deref().unwrap_or(""),
            self.expected,
            self.observed
        )
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub why: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub failure: Option<Failure>,
    /// Shell lines that reproduce the scenario by hand.
    pub transcript: Vec<String>,
}

/// One lesson's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonReport {
    pub number: u8,
    pub lesson: String,
    pub title: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub checks: Vec<CheckReport>,
}

impl LessonReport {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    /// "3/4 checks passed" style summary.
    pub fn summary(&self) -> String {
        let passed = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Passed)
            .count();
        let mut s = format!("{passed}/{} checks passed", self.checks.len());
        if let Some(c) = self.checks.iter().find(|c| c.outcome != Outcome::Passed) {
            s.push_str(&format!("; first problem: {}", c.title));
        }
        s
    }

    /// The lesson's outcome from its checks': error beats cancelled beats failed.
    pub fn combine(checks: &[CheckReport]) -> Outcome {
        let any = |o| checks.iter().any(|c| c.outcome == o);
        if any(Outcome::Error) {
            Outcome::Error
        } else if any(Outcome::Cancelled) {
            Outcome::Cancelled
        } else if any(Outcome::Failed) {
            Outcome::Failed
        } else {
            Outcome::Passed
        }
    }
}
