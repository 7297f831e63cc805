//! The JSON documents `twelve` writes, with a schema version (docs/reports.md):
//! `check --format json` (a [`CheckRun`]) and `report --format json` (a
//! [`super::learner::ProgressReport`]). Both carry `"schema": 1` and a `"kind"`.

use serde::{Deserialize, Serialize};

use super::SCHEMA;
use super::learner::{LessonRow, ProgressReport};
use super::origin::{Origin, Where};
use crate::check::{LessonReport, Outcome};

/// Any document `twelve` writes, told apart by its `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Document {
    Check(CheckRun),
    Progress(ProgressReport),
}

/// The result of `twelve check` as CI keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRun {
    pub schema: u32,
    /// The version of `twelve` that ran the checks.
    pub twelve: String,
    /// When (RFC 3339).
    pub generated: String,
    /// Whose work it is (see [`super::origin::learner`]).
    #[serde(default)]
    pub learner: Option<String>,
    /// Where the checks were executed.
    pub origin: Origin,
    pub totals: Totals,
    pub lessons: Vec<LessonReport>,
    /// The learner's recorded progress as it was before this run: self-reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RecordedProgress>,
}

/// Progress carried along in a check report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedProgress {
    /// Always says that this part is self-reported.
    pub trust: String,
    #[serde(default)]
    pub started: Option<String>,
    pub lessons: Vec<LessonRow>,
}

/// Counts over a check run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub lessons: usize,
    pub lessons_passed: usize,
    pub checks: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Checks that did not run to a verdict (cancelled).
    pub skipped: usize,
}

impl Totals {
    pub fn of(reports: &[LessonReport]) -> Totals {
        let mut t = Totals {
            lessons: reports.len(),
            lessons_passed: reports.iter().filter(|r| r.passed()).count(),
            ..Totals::default()
        };
        for c in reports.iter().flat_map(|r| &r.checks) {
            t.checks += 1;
            match c.outcome {
                Outcome::Passed => t.passed += 1,
                Outcome::Failed => t.failed += 1,
                Outcome::Error => t.errors += 1,
                Outcome::Cancelled => t.skipped += 1,
            }
        }
        t
    }
}

/// The sentence every embedded progress carries.
pub const PROGRESS_TRUST: &str = "self-reported: read from the learner's .twelve/progress.toml, \
     which the learner can edit; only the check results above were re-executed";

impl CheckRun {
    /// A check run made here and now.
    pub fn new(reports: Vec<LessonReport>, progress: Option<RecordedProgress>) -> CheckRun {
        CheckRun {
            schema: SCHEMA,
            twelve: env!("CARGO_PKG_VERSION").to_string(),
            generated: crate::workspace::now(),
            learner: super::origin::learner(),
            origin: Origin::detect(),
            totals: Totals::of(&reports),
            lessons: reports,
            progress,
        }
    }

    /// The JSON text (`{"kind": "check", "schema": 1, ...}`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&Document::Check(self.clone()))
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Read a document: any schema-1 document, or the bare list of lesson reports that
/// `check --format json` printed before schema 1 (read as a local check run).
pub fn parse(text: &str) -> Result<Document, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if value.is_array() {
        let lessons: Vec<LessonReport> = serde_json::from_value(value)
            .map_err(|e| format!("a list, but not of lessons: {e}"))?;
        return Ok(Document::Check(CheckRun {
            schema: 0,
            twelve: String::new(),
            generated: String::new(),
            learner: None,
            origin: Origin {
                place: Where::Local,
                system: None,
                commit: None,
                run_url: None,
            },
            totals: Totals::of(&lessons),
            lessons,
            progress: None,
        }));
    }
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        None => return Err("not a twelve report (no \"schema\")".into()),
        Some(s) if s > u64::from(SCHEMA) => {
            return Err(format!(
                "schema {s} is newer than this twelve reads ({SCHEMA}); update twelve"
            ));
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckReport;

    fn lesson(outcomes: &[Outcome]) -> LessonReport {
        let checks: Vec<CheckReport> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| CheckReport {
                id: format!("c{i}"),
                title: format!("Check {i}"),
                why: String::new(),
                outcome: *o,
                duration_ms: 1,
                failure: None,
                transcript: Vec::new(),
            })
            .collect();
        LessonReport {
            number: 3,
            lesson: "03-config".into(),
            title: "Config".into(),
            outcome: LessonReport::combine(&checks),
            duration_ms: 3,
            checks,
        }
    }

    #[test]
    fn a_check_run_round_trips_with_its_schema_and_totals() {
        let run = CheckRun::new(
            vec![lesson(&[
                Outcome::Passed,
                Outcome::Failed,
                Outcome::Cancelled,
            ])],
            None,
        );
        let text = run.to_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["kind"], "check");
        assert_eq!(v["totals"]["skipped"], 1);
        assert_eq!(v["lessons"][0]["checks"][1]["outcome"], "failed");
        let Document::Check(back) = parse(&text).unwrap() else {
            panic!("not a check run")
        };
        assert_eq!(back.lessons, run.lessons);
    }

    #[test]
    fn the_old_bare_list_still_reads_and_newer_schemas_are_refused() {
        let old = serde_json::to_string(&vec![lesson(&[Outcome::Passed])]).unwrap();
        let Document::Check(run) = parse(&old).unwrap() else {
            panic!("not a check run")
        };
        assert_eq!(run.schema, 0);
        assert_eq!(run.totals.lessons_passed, 1);
        let newer = r#"{"schema": 99, "kind": "check"}"#;
        assert!(parse(newer).unwrap_err().contains("newer"));
        assert!(parse("{}").unwrap_err().contains("schema"));
    }
}
