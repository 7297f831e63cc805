//! `twelve lessons verify`: every starter fails the checks it should, with the expected
//! message, and every solution passes every check.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::commands::{FAILED, cancel_on_signals};
use super::paint::Paint;
use crate::check::{self, CancelToken, LessonReport, Outcome};
use crate::lesson::{Files, Lesson, Pack, Variant, Verdict};

/// What verification found for one lesson.
#[derive(Debug)]
pub struct Findings {
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
) -> Findings {
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
    Findings { problems, lines }
}

/// Challenge mode's starter (markers stripped, written at `dir`) must hold no marker, be valid
/// Python, and fail every check the guided starter must fail.
fn judge_challenge(
    lesson: &Lesson,
    report: &LessonReport,
    dir: &Path,
    found: &mut Findings,
    p: Paint,
) {
    let before = found.problems.len();
    let stripped = crate::lesson::challenge::strip_files(&lesson.starter);
    let mut python = Vec::new();
    for (rel, bytes) in &stripped {
        let text = String::from_utf8_lossy(bytes);
        for line in crate::lesson::challenge::markers_left(&text) {
            found.problems.push(format!(
                "challenge starter {rel}:{line} still holds a `Factor N` marker"
            ));
        }
        if crate::check::files::is_python(rel) {
            python.push(dir.join(rel));
        }
    }
    if !python.is_empty() {
        let out = crate::sandbox::Python::get().ok().and_then(|py| {
            std::process::Command::new(&py.path)
                .arg("-c")
                .arg("import ast, sys\nfor f in sys.argv[1:]:\n    ast.parse(open(f, encoding='utf-8').read(), f)")
                .args(&python)
                .output()
                .ok()
        });
        match out {
            Some(o) if o.status.success() => {}
            Some(o) => found.problems.push(format!(
                "challenge starter (markers stripped) is not valid Python: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            None => found
                .problems
                .push("challenge starter: python3 could not parse it".into()),
        }
    }
    for sf in &lesson.starter_fails {
        match report.checks.iter().find(|c| c.id == sf.check) {
            Some(c) if c.outcome == Outcome::Failed => {}
            Some(c) => found.problems.push(format!(
                "challenge starter (markers stripped) should fail `{}`, but it ended as {:?}",
                c.id, c.outcome
            )),
            None => found
                .problems
                .push(format!("challenge starter: no check `{}` ran", sf.check)),
        }
    }
    if found.problems.len() == before {
        found.lines.push(format!(
            "{} challenge starter (markers stripped) is valid Python and fails the same {} checks",
            p.green("✓"),
            lesson.starter_fails.len()
        ));
    }
}

/// What `lessons verify` covers and shows.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub verbose: bool,
    pub variants: bool,
    pub format: super::Format,
}

/// Judge a variant's report against the verdict it declares.
pub fn judge_variant(v: &Variant, report: &LessonReport) -> Result<String, String> {
    let summary = |c: &check::CheckReport| match &c.failure {
        None => format!("`{}` {:?}", c.id, c.outcome).to_lowercase(),
        Some(f) => format!("`{}` failed: {}", c.id, f.message),
    };
    match v.verdict {
        Verdict::Pass => {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| c.outcome != Outcome::Passed)
                .map(summary)
                .collect();
            if failed.is_empty() {
                Ok("passes every check".into())
            } else {
                Err(format!("a right fix was rejected: {}", failed.join("; ")))
            }
        }
        Verdict::Fail => {
            let id = v.check.as_deref().unwrap_or("");
            let Some(c) = report.checks.iter().find(|c| c.id == id) else {
                return Err(format!("no check `{id}` ran"));
            };
            match (&c.outcome, &c.failure) {
                (Outcome::Failed, Some(f)) => {
                    let text = f.full_text();
                    let missing: Vec<&String> = v
                        .message
                        .iter()
                        .filter(|m| !text.contains(m.as_str()))
                        .collect();
                    if missing.is_empty() {
                        Ok(format!("fails `{id}`: {}", f.message))
                    } else {
                        Err(format!(
                            "fails `{id}`, but its message lacks {}; it said: {}",
                            missing
                                .iter()
                                .map(|m| format!("`{m}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            f.message
                        ))
                    }
                }
                (Outcome::Passed, _) => {
                    Err(format!("a wrong fix was accepted: `{id}` passed{}", {
                        let others: Vec<String> = report
                            .checks
                            .iter()
                            .filter(|c| c.outcome == Outcome::Failed)
                            .map(summary)
                            .collect();
                        if others.is_empty() {
                            " (and so did every other check)".to_string()
                        } else {
                            format!(" (other checks: {})", others.join("; "))
                        }
                    }))
                }
                (o, _) => Err(format!("`{id}` ended as {o:?}").to_lowercase()),
            }
        }
    }
}

/// Where a lesson's rules stand: the lines to show and the rules no check enforces.
pub fn judge_rules(lesson: &Lesson, p: Paint, verbose: bool) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    if lesson.rules.is_empty() {
        lines.push(p.dim(
            "· no rules listed (a `[[rules]]` table maps each rule the text states to its checks)",
        ));
        return (lines, problems);
    }
    let enforced = lesson.rules.iter().filter(|r| !r.checks.is_empty()).count();
    lines.push(format!(
        "{} {} of {} rules enforced by a check",
        if enforced == lesson.rules.len() {
            p.green("✓")
        } else {
            p.red("✗")
        },
        enforced,
        lesson.rules.len()
    ));
    for r in &lesson.rules {
        if r.checks.is_empty() {
            problems.push(format!(
                "rule \"{}\" ({}:{}) is enforced by no check: add a check, or drop the sentence",
                r.text, lesson.toml_path, r.line
            ));
        } else if verbose {
            lines.push(p.dim(&format!("    {} ← {}", r.text, r.checks.join(", "))));
        }
    }
    (lines, problems)
}

pub fn verify(pack: &Pack, only: &[String], opts: Options) -> anyhow::Result<ExitCode> {
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
    let tmp = crate::sandbox::owned_tempdir(crate::sandbox::VERIFY_PREFIX)?;
    // Challenge mode's starters: the same files with their `Factor N` markers stripped.
    let stripped: std::collections::BTreeMap<String, Files> = lessons
        .iter()
        .map(|l| {
            (
                l.dir_name.clone(),
                crate::lesson::challenge::strip_files(&l.starter),
            )
        })
        .collect();
    // Per lesson: starter, solution, challenge starter, then each variant.
    let mut jobs_dirs = Vec::new();
    for l in &lessons {
        let mut sets: Vec<(String, &crate::lesson::Files, Option<&str>)> = vec![
            (format!("starter-{}", l.dir_name), &l.starter, None),
            (
                format!("solution-{}", l.dir_name),
                &l.solution,
                l.verify_setup.as_deref(),
            ),
            (
                format!("challenge-{}", l.dir_name),
                &stripped[&l.dir_name],
                None,
            ),
        ];
        if opts.variants {
            for v in &l.variants {
                sets.push((
                    format!("variant-{}-{}", l.dir_name, v.name),
                    &v.files,
                    v.setup.as_deref(),
                ));
            }
        }
        for (name, files, setup) in sets {
            let d = materialise(tmp.path(), &name, &pack.shared, files)?;
            if let Some(script) = setup {
                crate::sandbox::commit::run_setup(script, &d)
                    .map_err(|e| anyhow::anyhow!("{} ({name}): {e}", l.toml_path))?;
            }
            jobs_dirs.push((*l, d));
        }
    }
    let jobs: Vec<(&Lesson, &Path)> = jobs_dirs.iter().map(|(l, d)| (*l, d.as_path())).collect();
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    let reports = check::run_lessons(pack, &jobs, &cancel, None);
    if cancel.is_cancelled() {
        return Ok(ExitCode::from(super::commands::CANCELLED));
    }
    let human = opts.format == super::Format::Human;
    let p = if human {
        Paint::detect()
    } else {
        Paint { on: false }
    };
    let mut results: Vec<(&Lesson, Findings)> = Vec::new();
    let mut bad = 0;
    let mut at = 0;
    let mut variant_total = 0;
    for l in &lessons {
        let starter = &reports[at];
        let solution = &reports[at + 1];
        let challenge = &reports[at + 2];
        let challenge_dir = &jobs_dirs[at + 2].1;
        at += 3;
        let mut found = judge(l, starter, solution, p);
        judge_challenge(l, challenge, challenge_dir, &mut found, p);
        let (rule_lines, rule_problems) = judge_rules(l, p, opts.verbose);
        found.lines.extend(rule_lines);
        found.problems.extend(rule_problems);
        if opts.verbose {
            for (label, report) in [("starter", starter), ("solution", solution)] {
                for c in report
                    .checks
                    .iter()
                    .filter(|c| c.outcome == Outcome::Failed)
                {
                    if let Some(f) = &c.failure {
                        for o in &f.outputs {
                            let tail: Vec<&String> = o.stdout.iter().chain(&o.stderr).collect();
                            if !tail.is_empty() {
                                found.lines.push(p.dim(&format!(
                                    "    {label} `{}`, {}: {}",
                                    c.id,
                                    o.process,
                                    tail.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ⏎ ")
                                )));
                            }
                        }
                    }
                }
            }
        }
        if opts.variants {
            let n = l.variants.len();
            variant_total += n;
            let right = l
                .variants
                .iter()
                .filter(|v| v.verdict == Verdict::Pass)
                .count();
            let mut wrong_verdicts = 0;
            for var in &l.variants {
                let report = &reports[at];
                at += 1;
                match judge_variant(var, report) {
                    Ok(said) => {
                        if opts.verbose {
                            found.lines.push(format!(
                                "  {} {} ({}): {said}",
                                p.green("✓"),
                                var.name,
                                match var.verdict {
                                    Verdict::Pass => "right",
                                    Verdict::Fail => "wrong",
                                }
                            ));
                        }
                    }
                    Err(e) => {
                        wrong_verdicts += 1;
                        found.problems.push(format!(
                            "variant {} ({}; {}): {e}",
                            var.name, var.why, var.path
                        ));
                    }
                }
            }
            if n > 0 {
                found.lines.push(format!(
                    "{} {} of {n} variants judged as declared ({right} right, {} wrong)",
                    if wrong_verdicts == 0 {
                        p.green("✓")
                    } else {
                        p.red("✗")
                    },
                    n - wrong_verdicts,
                    n - right
                ));
            } else {
                found
                    .lines
                    .push(p.dim("· no variants (lessons/NN-slug/variants/*.toml)"));
            }
        }
        if human {
            println!(
                "{}",
                p.bold(&format!("Lesson {} · {}", l.number, l.dir_name))
            );
            for line in &found.lines {
                println!("  {line}");
            }
            for problem in &found.problems {
                println!("  {} {problem}", p.red("✗"));
            }
        }
        if !found.problems.is_empty() {
            bad += 1;
        }
        results.push((l, found));
    }
    match opts.format {
        super::Format::Json => println!("{}", json(&results)),
        super::Format::Junit => print!("{}", junit(&results)),
        _ => print_summary(pack, &lessons, bad, variant_total, opts),
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    })
}

/// The results as JSON: `{"lessons": [{number, label, lesson, verified, lines, problems}]}`.
fn json(results: &[(&Lesson, Findings)]) -> String {
    let lessons: Vec<serde_json::Value> = results
        .iter()
        .map(|(l, f)| {
            serde_json::json!({
                "number": l.number,
                "label": l.label,
                "lesson": l.dir_name,
                "title": l.title,
                "verified": f.problems.is_empty(),
                "lines": f.lines,
                "problems": f.problems,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "lessons": lessons })).unwrap_or_default()
}

/// The results as JUnit XML: one test case per lesson, failing with its problems.
fn junit(results: &[(&Lesson, Findings)]) -> String {
    let failures = results
        .iter()
        .filter(|(_, f)| !f.problems.is_empty())
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"twelve lessons verify\" \
         tests=\"{}\" failures=\"{failures}\">\n<testsuite name=\"lessons\" tests=\"{}\" \
         failures=\"{failures}\">\n",
        results.len(),
        results.len()
    );
    for (l, f) in results {
        let name = super::report::xml(&format!("{} {} {}", l.label, l.dir_name, l.title));
        if f.problems.is_empty() {
            out.push_str(&format!("<testcase name=\"{name}\"/>\n"));
        } else {
            out.push_str(&format!(
                "<testcase name=\"{name}\">\n<failure message=\"{}\">{}</failure>\n</testcase>\n",
                super::report::xml(&f.problems[0]),
                super::report::xml(&f.problems.join("\n"))
            ));
        }
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

fn print_summary(
    pack: &Pack,
    lessons: &[&Lesson],
    bad: usize,
    variant_total: usize,
    opts: Options,
) {
    println!(
        "\n{} of {} lessons verified from {}{}",
        lessons.len() - bad,
        lessons.len(),
        pack.source,
        if opts.variants {
            format!(" ({variant_total} variants)")
        } else {
            String::new()
        }
    );
}
