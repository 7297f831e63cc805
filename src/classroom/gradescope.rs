//! Gradescope's autograder `results.json`: a test per check, points from [`Grading`].
//!
//! The shape is Gradescope's (top-level `score`, `execution_time`, `output`, `tests[]` with
//! `name`, `number`, `score`, `max_score`, `status`, `output`, `visibility`); `extra_data`
//! carries twelve's own totals. Scores are kept in hundredths, so they add up exactly.

use serde::{Deserialize, Serialize};

use super::envelope::Totals;
use super::grading::Grading;
use super::summary::failure_text;
use crate::check::{LessonReport, Outcome};

/// The whole results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub score: f64,
    /// Seconds the checks took.
    pub execution_time: u64,
    pub output: String,
    pub visibility: String,
    pub stdout_visibility: String,
    pub tests: Vec<Test>,
    pub extra_data: Extra,
}

/// One check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Test {
    /// `Lesson 3 · Config: The service fails fast without its settings (fail-fast)`: stable
    /// across runs (no port, no time).
    pub name: String,
    /// `3.2`: lesson and check.
    pub number: String,
    pub score: f64,
    pub max_score: f64,
    /// `passed` or `failed`.
    pub status: String,
    pub output: String,
    pub visibility: String,
}

/// twelve's own counts, for instructors reading the raw file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extra {
    pub twelve: String,
    pub schema: u32,
    pub max_score: f64,
    pub totals: Totals,
}

/// Results of these lesson reports, graded with `grading`.
pub fn results(reports: &[LessonReport], grading: &Grading, execution_time_s: u64) -> Results {
    let mut tests = Vec::new();
    let (mut earned, mut possible) = (0_u64, 0_u64);
    for r in reports {
        let cents = grading.check_cents(r.number, &r.lesson, r.checks.len());
        for (i, (c, max)) in r.checks.iter().zip(cents).enumerate() {
            let passed = c.outcome == Outcome::Passed;
            let got = if passed { max } else { 0 };
            earned += got;
            possible += max;
            let output = match c.outcome {
                Outcome::Passed => "passed".to_string(),
                Outcome::Error => format!(
                    "could not be checked (a problem of the grader, not of your code):\n{}",
                    failure_text(c, 40)
                ),
                _ => failure_text(c, 40),
            };
            tests.push(Test {
                name: format!("Lesson {} · {}: {} ({})", r.number, r.title, c.title, c.id),
                number: format!("{}.{}", r.number, i + 1),
                score: points(got),
                max_score: points(max),
                status: if passed { "passed" } else { "failed" }.into(),
                output,
                visibility: grading.visibility.clone(),
            });
        }
    }
    let totals = Totals::of(reports);
    let output = format!(
        "{}/{} lessons passed, {}/{} checks: {} of {} points. Every check was re-executed \
         by twelve {} on the grader from the files you submitted.",
        totals.lessons_passed,
        totals.lessons,
        totals.passed,
        totals.checks,
        fmt_points(earned),
        fmt_points(possible),
        env!("CARGO_PKG_VERSION"),
    );
    Results {
        score: points(earned),
        execution_time: execution_time_s,
        output,
        visibility: grading.visibility.clone(),
        stdout_visibility: "hidden".into(),
        tests,
        extra_data: Extra {
            twelve: env!("CARGO_PKG_VERSION").to_string(),
            schema: super::SCHEMA,
            max_score: points(possible),
            totals,
        },
    }
}

fn points(cents: u64) -> f64 {
    cents as f64 / 100.0
}

fn fmt_points(cents: u64) -> String {
    if cents % 100 == 0 {
        (cents / 100).to_string()
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckReport;
    use crate::classroom::summary::tests::failed_check;

    fn lesson(number: u8, dir: &str, outcomes: &[Outcome]) -> LessonReport {
        let checks: Vec<CheckReport> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| CheckReport {
                id: format!("c{i}"),
                title: format!("Check {i}"),
                outcome: *o,
                failure: (*o != Outcome::Passed).then(|| failed_check().failure.unwrap()),
                ..failed_check()
            })
            .collect();
        LessonReport {
            number,
            lesson: dir.into(),
            title: dir.into(),
            outcome: LessonReport::combine(&checks),
            duration_ms: 1,
            checks,
        }
    }

    #[test]
    fn scores_add_up_per_check_and_per_lesson() {
        let reports = vec![
            lesson(
                1,
                "01-codebase",
                &[Outcome::Passed, Outcome::Passed, Outcome::Failed],
            ),
            lesson(3, "03-config", &[Outcome::Passed, Outcome::Error]),
        ];
        let r = results(&reports, &Grading::default(), 3);
        assert!((r.score - 3.0).abs() < 1e-9);
        assert!((r.extra_data.max_score - 5.0).abs() < 1e-9);
        assert_eq!(r.tests[2].status, "failed");
        assert!(r.tests[2].output.contains("ModuleNotFoundError"));
        assert_eq!(r.tests[4].number, "3.2");

        let g = Grading::parse("per = \"lesson\"\npoints = 10\n").unwrap();
        let r = results(&reports, &g, 3);
        let sum: f64 = r.tests.iter().map(|t| t.score).sum();
        let max: f64 = r.tests.iter().map(|t| t.max_score).sum();
        assert!((sum - r.score).abs() < 1e-9, "{sum} vs {}", r.score);
        assert!((max - 20.0).abs() < 1e-9);
        assert!((r.score - (3.34 + 3.33 + 5.0)).abs() < 1e-9, "{}", r.score);
        assert!(r.output.contains("11.67 of 20 points"), "{}", r.output);
    }
}
