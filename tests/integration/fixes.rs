//! Alternative fixes and half-fixes, kept as files under `tests/fixes/NN-slug/CASE/`.
//!
//! Each case is a set of files laid over the lesson's starter (plus the shared client), with
//! an `expect.toml`:
//!
//! ```toml
//! description = "reads the port with int(os.getenv(...)) instead of os.environ"
//! outcome = "pass"                 # or "fail"
//! check = "two-instances"          # for "fail": the check that must fail ...
//! message = "PORT="                # ... with this text in its failure (optional)
//! remove = ["deploy/"]             # starter paths to delete first (optional)
//! ```
//!
//! Every lesson must have at least two passing and two failing cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use twelve::check::{self, CancelToken, Outcome};
use twelve::lesson::Pack;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    description: String,
    outcome: String,
    check: Option<String>,
    message: Option<String>,
    #[serde(default)]
    remove: Vec<String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lay a case's files over a lesson folder (all but its `expect.toml`).
fn copy_over(from: &Path, to: &Path) {
    twelve::sandbox::copy_tree(from, to).unwrap();
    std::fs::remove_file(to.join("expect.toml")).unwrap();
}

#[test]
fn alternative_fixes_pass_and_half_fixes_fail() {
    let pack = Pack::from_dir(&repo()).unwrap_or_else(|e| panic!("{e}"));
    let fixes = repo().join("tests/fixes");
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for lesson_dir in std::fs::read_dir(&fixes).unwrap().flatten() {
        let name = lesson_dir.file_name().to_string_lossy().to_string();
        let lesson = pack
            .lessons
            .iter()
            .find(|l| l.dir_name == name)
            .unwrap_or_else(|| panic!("tests/fixes/{name}: no such lesson"));
        for case in std::fs::read_dir(lesson_dir.path()).unwrap().flatten() {
            let case_name = case.file_name().to_string_lossy().to_string();
            let expect_path = case.path().join("expect.toml");
            let text = std::fs::read_to_string(&expect_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
            let expect: Expect =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
            let dir = tmp.path().join(format!("{name}--{case_name}"));
            twelve::sandbox::write_files(&dir, pack.shared.iter().chain(&lesson.starter)).unwrap();
            for r in &expect.remove {
                let p = dir.join(r);
                if p.is_dir() {
                    std::fs::remove_dir_all(&p).unwrap();
                } else {
                    std::fs::remove_file(&p).unwrap();
                }
            }
            copy_over(&case.path(), &dir);
            let c = counts.entry(name.clone()).or_default();
            match expect.outcome.as_str() {
                "pass" => c.0 += 1,
                "fail" => c.1 += 1,
                other => panic!(
                    "{}: outcome must be pass or fail, not {other}",
                    expect_path.display()
                ),
            }
            cases.push((lesson, dir, format!("{name}/{case_name}"), expect));
        }
    }
    for (lesson, (pass, fail)) in &counts {
        assert!(
            *pass >= 2 && *fail >= 2,
            "tests/fixes/{lesson}: needs at least two passing and two failing cases (has {pass} and {fail})"
        );
    }
    let jobs: Vec<_> = cases.iter().map(|(l, d, _, _)| (*l, d.as_path())).collect();
    let _heavy = super::harness::heavy();
    let reports = check::run_lessons(&pack, &jobs, &CancelToken::new(), None);
    let mut wrong = Vec::new();
    for ((_, _, label, expect), report) in cases.iter().zip(&reports) {
        let summary: Vec<String> = report
            .checks
            .iter()
            .map(|c| match &c.failure {
                None => format!("{}: {:?}", c.id, c.outcome),
                Some(f) => format!("{}: {:?}: {} / {}", c.id, c.outcome, f.message, f.observed),
            })
            .collect();
        let ok = match expect.outcome.as_str() {
            "pass" => report.passed(),
            _ => {
                let check = expect
                    .check
                    .as_deref()
                    .expect("a failing case names its check");
                report.checks.iter().any(|c| {
                    c.id == check
                        && c.outcome == Outcome::Failed
                        && expect.message.as_ref().is_none_or(|m| {
                            c.failure
                                .as_ref()
                                .is_some_and(|f| f.full_text().contains(m.as_str()))
                        })
                })
            }
        };
        if !ok {
            wrong.push(format!(
                "{label} ({}): expected {}{}; got:\n    {}",
                expect.description,
                expect.outcome,
                expect
                    .check
                    .as_ref()
                    .map_or(String::new(), |c| format!(" of `{c}`")),
                summary.join("\n    ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
