//! `twelve class PATH...`: an instructor's roll-up of many learners, from JSON check reports
//! (CI artifacts), JSON progress reports and cloned workspaces (`.twelve/progress.toml`).
//!
//! A verdict is only as good as where it was made: re-executed in CI, or recorded on the
//! learner's machine (self-reported). Every cell keeps which one it is, and the outputs mark
//! self-reported ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::html::{self, Bar, Segment};
use super::learner::{LessonRow, cell, rows_without_pack};
use super::median;
use super::origin::Where;
use crate::check::Outcome;
use crate::lesson::Pack;
use crate::workspace::{LessonProgress, Progress, Status};

/// Where one learner stands on one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Passed,
    /// A check run found a check failing.
    Failed,
    /// Progress says attempted (no check run says more).
    Attempted,
    /// A check run could not judge it (cancelled, or the checks could not run).
    NotChecked,
    NotStarted,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Passed => "passed",
            State::Failed => "failed",
            State::Attempted => "attempted",
            State::NotChecked => "not checked",
            State::NotStarted => "not started",
        }
    }

    fn mark(self) -> &'static str {
        match self {
            State::Passed => "✓",
            State::Failed => "✗",
            State::Attempted => "•",
            State::NotChecked => "!",
            State::NotStarted => "·",
        }
    }

    fn class(self) -> &'static str {
        match self {
            State::Passed => "passed",
            State::Failed => "failed",
            State::Attempted => "attempted",
            State::NotChecked | State::NotStarted => "not-started",
        }
    }
}

/// The check a learner is stuck on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stuck {
    pub check: Option<String>,
    pub title: String,
    pub message: Option<String>,
}

/// One learner × lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub state: State,
    /// The state comes from checks re-executed in CI (else: self-reported).
    pub ci: bool,
    pub checks_before_pass: Option<u32>,
    pub stuck: Option<Stuck>,
    /// The learner worked on it: their progress says attempted or passed, or there is no
    /// progress to say. A CI run fails every untouched starter; that is not being stuck.
    pub worked_on: bool,
}

/// One learner.
#[derive(Debug, Clone, Serialize)]
pub struct Learner {
    pub name: String,
    /// The files this learner's data came from.
    pub sources: Vec<PathBuf>,
    /// By lesson folder name.
    pub cells: BTreeMap<String, Cell>,
    #[serde(skip)]
    run_generated: String,
}

impl Learner {
    pub fn passed(&self) -> usize {
        self.cells
            .values()
            .filter(|c| c.state == State::Passed)
            .count()
    }

    fn trust(&self) -> &'static str {
        let ci = self.cells.values().filter(|c| c.ci).count();
        match ci {
            0 => "self-reported",
            n if n == self.cells.len() => "ci",
            _ => "mixed",
        }
    }
}

/// A lesson the class has data on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LessonInfo {
    pub number: u8,
    pub lesson: String,
    pub title: String,
}

/// Per lesson, over the class.
#[derive(Debug, Clone, Serialize)]
pub struct LessonStats {
    pub lesson: LessonInfo,
    pub passed: usize,
    pub failing: usize,
    pub attempted: usize,
    pub median_checks_before_pass: Option<f64>,
    /// The most common check the learners who have not passed are stuck on ...
    pub stuck_on: Option<String>,
    /// ... how many of them ...
    pub stuck_count: usize,
    /// ... and its most common message (from check runs).
    pub stuck_message: Option<String>,
}

/// The whole roll-up.
#[derive(Debug, Clone, Serialize)]
pub struct Class {
    pub learners: Vec<Learner>,
    pub lessons: Vec<LessonInfo>,
    pub stats: Vec<LessonStats>,
    /// Files that were given or found but could not be read, with why.
    pub skipped: Vec<String>,
    pub check_runs: usize,
    pub ci_runs: usize,
    pub progress_files: usize,
}

/// What one input held.
enum Input {
    Run(Box<Run>),
    Progress {
        learner: Option<String>,
        rows: Vec<LessonRow>,
    },
}

/// The part of a check run the roll-up uses.
struct Run {
    learner: Option<String>,
    generated: String,
    ci: bool,
    lessons: Vec<Light>,
    progress: Vec<LessonRow>,
}

// Light versions of the documents, read straight from the text: serde skips everything the
// roll-up does not use (transcripts, output tails), which is most of a report's bytes.
#[derive(Deserialize)]
struct LightDoc {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    schema: Option<u64>,
    #[serde(default)]
    learner: Option<String>,
    #[serde(default)]
    generated: Option<String>,
    #[serde(default)]
    origin: Option<LightOrigin>,
    #[serde(default)]
    lessons: Vec<Light>,
    #[serde(default)]
    progress: Option<LightProgress>,
}

#[derive(Deserialize)]
struct LightOrigin {
    #[serde(rename = "where")]
    place: Where,
}

#[derive(Deserialize)]
struct LightProgress {
    #[serde(default)]
    started: Option<String>,
    #[serde(default)]
    lessons: Vec<Light>,
}

/// A lesson of a check run, or of a progress report: the fields of both.
#[derive(Deserialize)]
struct Light {
    number: u8,
    lesson: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    outcome: Option<Outcome>,
    #[serde(default)]
    checks: Vec<LightCheck>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    checks_before_pass: Option<u32>,
    #[serde(default)]
    last_result: Option<String>,
}

#[derive(Deserialize)]
struct LightCheck {
    id: String,
    title: String,
    outcome: Outcome,
    #[serde(default)]
    failure: Option<LightFailure>,
}

#[derive(Deserialize)]
struct LightFailure {
    message: String,
}

impl Light {
    /// As a progress row (a progress report's lesson).
    fn row(&self, started: Option<&str>) -> LessonRow {
        let p = LessonProgress {
            status: self.status.unwrap_or_default(),
            attempts: self.attempts,
            checks_before_pass: self.checks_before_pass,
            last_result: self.last_result.clone(),
            ..LessonProgress::default()
        };
        let mut row = rows_without_pack(&self.lesson, started, &p);
        row.number = self.number;
        row.title.clone_from(&self.title);
        row
    }
}

/// Read every path (files, or folders searched for reports and workspaces) into a roll-up.
/// `pack` is asked (once, and only when needed) for the names of lessons that only progress
/// files mention.
pub fn load(paths: &[PathBuf], pack: &dyn Fn() -> Option<Pack>) -> Class {
    let mut found: Vec<(PathBuf, Input)> = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        collect(p, 0, &mut found, &mut skipped, true);
    }
    let mut class = Class {
        learners: Vec::new(),
        lessons: Vec::new(),
        stats: Vec::new(),
        skipped,
        check_runs: 0,
        ci_runs: 0,
        progress_files: 0,
    };
    let mut learners: BTreeMap<String, Learner> = BTreeMap::new();
    let mut lessons: BTreeMap<String, LessonInfo> = BTreeMap::new();
    // Progress first, so that check runs (verdicts) are laid over it.
    found.sort_by_key(|(_, i)| matches!(i, Input::Run(_)));
    for (path, input) in found {
        match input {
            Input::Progress { learner, rows } => {
                class.progress_files += 1;
                let name = learner.unwrap_or_else(|| name_from_path(&path));
                let l = learner_entry(&mut learners, &name);
                l.sources.push(path);
                for row in rows {
                    note_lesson(&mut lessons, row.number, &row.lesson, &row.title);
                    l.cells.insert(row.lesson.clone(), cell_from_progress(&row));
                }
            }
            Input::Run(run) => {
                class.check_runs += 1;
                if run.ci {
                    class.ci_runs += 1;
                }
                let name = run.learner.clone().unwrap_or_else(|| name_from_path(&path));
                let l = learner_entry(&mut learners, &name);
                l.sources.push(path);
                for row in &run.progress {
                    note_lesson(&mut lessons, row.number, &row.lesson, &row.title);
                    l.cells
                        .entry(row.lesson.clone())
                        .or_insert_with(|| cell_from_progress(row));
                }
                // Of two check runs of one learner, the later one counts.
                if !l.run_generated.is_empty() && run.generated < l.run_generated {
                    continue;
                }
                l.run_generated.clone_from(&run.generated);
                let ci = run.ci;
                for r in &run.lessons {
                    note_lesson(&mut lessons, r.number, &r.lesson, &r.title);
                    let before = l.cells.get(&r.lesson).cloned();
                    l.cells
                        .insert(r.lesson.clone(), cell_from_run(r, ci, before));
                }
            }
        }
    }
    if lessons.values().any(|l| l.title.is_empty()) {
        if let Some(p) = pack() {
            for info in lessons.values_mut().filter(|l| l.title.is_empty()) {
                if let Some(l) = p.lessons.iter().find(|l| l.dir_name == info.lesson) {
                    info.title.clone_from(&l.factor_name);
                }
            }
        }
    }
    let mut lessons: Vec<LessonInfo> = lessons.into_values().collect();
    lessons.sort_by(|a, b| (a.number, &a.lesson).cmp(&(b.number, &b.lesson)));
    class.learners = learners.into_values().collect();
    class.stats = lessons.iter().map(|l| stats(l, &class.learners)).collect();
    class.lessons = lessons;
    class
}

fn learner_entry<'a>(learners: &'a mut BTreeMap<String, Learner>, name: &str) -> &'a mut Learner {
    learners.entry(name.to_string()).or_insert_with(|| Learner {
        name: name.to_string(),
        sources: Vec::new(),
        cells: BTreeMap::new(),
        run_generated: String::new(),
    })
}

fn note_lesson(lessons: &mut BTreeMap<String, LessonInfo>, number: u8, dir: &str, title: &str) {
    let e = lessons
        .entry(dir.to_string())
        .or_insert_with(|| LessonInfo {
            number,
            lesson: dir.to_string(),
            title: String::new(),
        });
    if e.title.is_empty() {
        e.title = title.to_string();
    }
}

fn cell_from_progress(row: &LessonRow) -> Cell {
    let state = match row.status {
        Status::Passed => State::Passed,
        Status::Attempted => State::Attempted,
        Status::NotStarted => State::NotStarted,
    };
    Cell {
        state,
        ci: false,
        worked_on: state != State::NotStarted,
        checks_before_pass: row.checks_before_pass,
        stuck: (state == State::Attempted)
            .then(|| row.last_problem())
            .flatten()
            .map(|t| Stuck {
                check: None,
                title: t.to_string(),
                message: None,
            }),
    }
}

fn cell_from_run(r: &Light, ci: bool, before: Option<Cell>) -> Cell {
    let state = match r.outcome {
        Some(Outcome::Passed) => State::Passed,
        Some(Outcome::Failed) => State::Failed,
        Some(Outcome::Error | Outcome::Cancelled) | None => State::NotChecked,
    };
    let stuck = r
        .checks
        .iter()
        .find(|c| c.outcome == Outcome::Failed)
        .map(|c| Stuck {
            check: Some(c.id.clone()),
            title: c.title.clone(),
            message: c.failure.as_ref().map(|f| f.message.clone()),
        });
    Cell {
        state,
        ci,
        worked_on: before.as_ref().is_none_or(|b| b.worked_on),
        // How many tries it took is only in the learner's own record.
        checks_before_pass: before.and_then(|b| b.checks_before_pass),
        stuck,
    }
}

/// A learner's name from a file: its stem, unless that is a generic report name, then the
/// folder's (a CI artifact unpacked as `alice/twelve-report.json`).
fn name_from_path(path: &Path) -> String {
    let generic = [
        "twelve-report",
        "report",
        "results",
        "progress",
        "twelve",
        "progress.toml",
    ];
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    if path.file_name().is_some_and(|n| n == "progress.toml") {
        // A workspace: .../alice/.twelve/progress.toml.
        return path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .map_or(stem, |n| n.to_string_lossy().to_string());
    }
    if generic.contains(&stem.as_str()) {
        if let Some(dir) = path.parent().and_then(Path::file_name) {
            return dir.to_string_lossy().to_string();
        }
    }
    stem
}

const MAX_DEPTH: usize = 6;

fn collect(
    path: &Path,
    depth: usize,
    found: &mut Vec<(PathBuf, Input)>,
    skipped: &mut Vec<String>,
    given: bool,
) {
    if path.is_dir() {
        let progress = path.join(crate::workspace::STATE_DIR).join("progress.toml");
        if progress.is_file() {
            read_progress(&progress, found, skipped);
            // A workspace's lesson folders hold no reports; a report next to them may.
            let report = path.join("twelve-report.json");
            if report.is_file() {
                read_json(&report, found, skipped, true);
            }
            return;
        }
        if depth >= MAX_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            skipped.push(format!("{}: cannot read the folder", path.display()));
            return;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            let name = e.file_name().map(|n| n.to_string_lossy().to_string());
            if name.as_deref().is_some_and(|n| {
                n.starts_with('.') || n == "node_modules" || n == "target" || n == "__pycache__"
            }) {
                continue;
            }
            if e.is_dir() || e.extension().is_some_and(|x| x == "json") {
                collect(&e, depth + 1, found, skipped, false);
            }
        }
    } else if path.file_name().is_some_and(|n| n == "progress.toml") {
        read_progress(path, found, skipped);
    } else if path.is_file() {
        read_json(path, found, skipped, given);
    } else {
        skipped.push(format!("{}: no such file or folder", path.display()));
    }
}

fn read_json(
    path: &Path,
    found: &mut Vec<(PathBuf, Input)>,
    skipped: &mut Vec<String>,
    loud: bool,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            skipped.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    match parse_light(&text) {
        Ok(input) => found.push((path.to_path_buf(), input)),
        // A folder searched may hold other JSON (package.json, a Gradescope results.json):
        // only files named on the command line are worth a complaint.
        Err(e) if loud => skipped.push(format!("{}: {e}", path.display())),
        Err(_) => {}
    }
}

/// What [`super::envelope::parse`] accepts, read into the light shapes.
fn parse_light(text: &str) -> Result<Input, String> {
    if text.trim_start().starts_with('[') {
        // Before schema 1: the bare list of lesson reports of a local run.
        let lessons: Vec<Light> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return Ok(Input::Run(Box::new(Run {
            learner: None,
            generated: String::new(),
            ci: false,
            lessons,
            progress: Vec::new(),
        })));
    }
    let doc: LightDoc = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match doc.schema {
        None => return Err("not a twelve report (no \"schema\")".into()),
        Some(s) if s > u64::from(super::SCHEMA) => {
            return Err(format!(
                "schema {s} is newer than this twelve reads ({}); update twelve",
                super::SCHEMA
            ));
        }
        Some(_) => {}
    }
    match doc.kind.as_deref() {
        Some("check") => {
            let (started, rows) = doc
                .progress
                .map_or((None, Vec::new()), |p| (p.started, p.lessons));
            Ok(Input::Run(Box::new(Run {
                learner: doc.learner,
                generated: doc.generated.unwrap_or_default(),
                ci: doc.origin.is_some_and(|o| o.place == Where::Ci),
                lessons: doc.lessons,
                progress: rows.iter().map(|r| r.row(started.as_deref())).collect(),
            })))
        }
        Some("progress") => Ok(Input::Progress {
            learner: doc.learner,
            rows: doc.lessons.iter().map(|r| r.row(None)).collect(),
        }),
        other => Err(format!(
            "a twelve document of kind {other:?}, not a check or progress report"
        )),
    }
}

/// Read a workspace's progress without touching it (no lock, nothing moved aside).
fn read_progress(path: &Path, found: &mut Vec<(PathBuf, Input)>, skipped: &mut Vec<String>) {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| toml::from_str::<Progress>(&t).map_err(|e| e.message().to_string()));
    match parsed {
        Ok(p) => {
            let rows = p
                .lessons
                .iter()
                .map(|(d, lp)| rows_without_pack(d, p.started.as_deref(), lp))
                .collect();
            found.push((
                path.to_path_buf(),
                Input::Progress {
                    learner: None,
                    rows,
                },
            ));
        }
        Err(e) => skipped.push(format!("{}: {e}", path.display())),
    }
}

/// Digits stand for ports, pids and times, which differ between learners: messages that
/// differ only there are one message.
fn message_shape(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut in_number = false;
    for c in m.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

fn most_common<'a>(items: impl Iterator<Item = (String, &'a str)>) -> Option<(&'a str, usize)> {
    // key -> (count, first exemplar, first position)
    let mut counts: BTreeMap<String, (usize, &'a str, usize)> = BTreeMap::new();
    for (i, (key, exemplar)) in items.enumerate() {
        counts.entry(key).or_insert((0, exemplar, i)).0 += 1;
    }
    counts
        .into_values()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)))
        .map(|(n, e, _)| (e, n))
}

fn stats(lesson: &LessonInfo, learners: &[Learner]) -> LessonStats {
    let cells: Vec<&Cell> = learners
        .iter()
        .filter_map(|l| l.cells.get(&lesson.lesson))
        .collect();
    let count = |s| cells.iter().filter(|c| c.state == s).count();
    let mut before: Vec<u32> = cells
        .iter()
        .filter(|c| c.state == State::Passed)
        .filter_map(|c| c.checks_before_pass)
        .collect();
    let stuck: Vec<&Stuck> = cells
        .iter()
        .filter(|c| c.state != State::Passed && c.worked_on)
        .filter_map(|c| c.stuck.as_ref())
        .collect();
    let top = most_common(stuck.iter().map(|s| (s.title.clone(), s.title.as_str())));
    let stuck_message = top.and_then(|(title, _)| {
        most_common(
            stuck
                .iter()
                .filter(|s| s.title == title)
                .filter_map(|s| s.message.as_deref())
                .map(|m| (message_shape(m), m)),
        )
        .map(|(m, _)| m.to_string())
    });
    LessonStats {
        lesson: lesson.clone(),
        passed: count(State::Passed),
        failing: count(State::Failed),
        attempted: count(State::Attempted),
        median_checks_before_pass: median(&mut before),
        stuck_on: top.map(|(t, _)| t.to_string()),
        stuck_count: top.map_or(0, |(_, n)| n),
        stuck_message,
    }
}

fn fmt_median(m: Option<f64>) -> String {
    m.map_or(String::new(), |m| {
        if m.fract() == 0.0 {
            format!("{m:.0}")
        } else {
            format!("{m:.1}")
        }
    })
}

impl Class {
    fn lead(&self) -> String {
        format!(
            "{} learner{} · {} check report{} ({} re-executed in CI) · {} progress record{} (self-reported)",
            self.learners.len(),
            plural(self.learners.len()),
            self.check_runs,
            plural(self.check_runs),
            self.ci_runs,
            self.progress_files,
            plural(self.progress_files)
        )
    }

    /// Lessons by how many learners are stuck on their most common failing check.
    fn stuck_lessons(&self) -> Vec<&LessonStats> {
        let mut v: Vec<&LessonStats> = self.stats.iter().filter(|s| s.stuck_count > 0).collect();
        v.sort_by(|a, b| {
            b.stuck_count
                .cmp(&a.stuck_count)
                .then(a.lesson.number.cmp(&b.lesson.number))
        });
        v
    }

    fn cell_text(l: &Learner, lesson: &LessonInfo) -> String {
        match l.cells.get(&lesson.lesson) {
            None => String::new(),
            Some(c) => {
                let mut s = c.state.mark().to_string();
                if !c.ci && c.state != State::NotStarted {
                    s.push('*');
                }
                s
            }
        }
    }

    /// Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from("# twelve: class roll-up\n\n");
        let _ = writeln!(s, "{}\n", self.lead());
        s.push_str(
            "✓ passed · ✗ failing · • attempted · ! not checked · · not started. \
             `*` marks a self-reported state (a progress file, or a check run on the learner's \
             machine: both can be edited); unmarked ones were re-executed in CI.\n\n",
        );
        let stuck = self.stuck_lessons();
        if !stuck.is_empty() {
            s.push_str("## Where the class is stuck\n\n");
            for st in stuck.iter().take(5) {
                let _ = write!(
                    s,
                    "- **Lesson {} · {}**: {} learner{} on “{}”",
                    st.lesson.number,
                    st.lesson.title,
                    st.stuck_count,
                    plural(st.stuck_count),
                    st.stuck_on.as_deref().unwrap_or("")
                );
                if let Some(m) = &st.stuck_message {
                    let _ = write!(s, ": {}", m.replace('\n', " "));
                }
                s.push('\n');
            }
            s.push('\n');
        }
        s.push_str("## Lessons\n\n| Lesson | Passed | Median checks before passing | Most common failing check | Its message |\n|---|--:|--:|---|---|\n");
        for st in &self.stats {
            let _ = writeln!(
                s,
                "| {} · {} | {}/{} | {} | {} | {} |",
                st.lesson.number,
                cell(&st.lesson.title),
                st.passed,
                self.learners.len(),
                fmt_median(st.median_checks_before_pass),
                st.stuck_on.as_deref().map_or(String::new(), |t| format!(
                    "{} ({})",
                    cell(t),
                    st.stuck_count
                )),
                cell(st.stuck_message.as_deref().unwrap_or("")),
            );
        }
        s.push_str("\n## Learners\n\n| Learner |");
        for l in &self.lessons {
            let _ = write!(s, " {} |", l.number);
        }
        s.push_str(" Passed |\n|---|");
        for _ in &self.lessons {
            s.push_str(":-:|");
        }
        s.push_str("--:|\n");
        for learner in &self.learners {
            let _ = write!(s, "| {} |", cell(&learner.name));
            for l in &self.lessons {
                let _ = write!(s, " {} |", Class::cell_text(learner, l));
            }
            let _ = writeln!(s, " {}/{} |", learner.passed(), self.lessons.len());
        }
        if !self.skipped.is_empty() {
            s.push_str("\n## Not read\n\n");
            for k in &self.skipped {
                let _ = writeln!(s, "- {k}");
            }
        }
        s
    }

    /// CSV: a row per learner, a column per lesson (its state).
    pub fn csv(&self) -> String {
        let mut s = String::from("learner,trust,passed");
        for l in &self.lessons {
            s.push(',');
            s.push_str(&csv_field(&l.lesson));
        }
        s.push('\n');
        for learner in &self.learners {
            let _ = write!(
                s,
                "{},{},{}",
                csv_field(&learner.name),
                learner.trust(),
                learner.passed()
            );
            for l in &self.lessons {
                s.push(',');
                if let Some(c) = learner.cells.get(&l.lesson) {
                    s.push_str(c.state.label());
                }
            }
            s.push('\n');
        }
        s
    }

    /// JSON (`kind: "class"`).
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            kind: &'static str,
            schema: u32,
            #[serde(flatten)]
            class: &'a Class,
        }
        serde_json::to_string_pretty(&Doc {
            kind: "class",
            schema: super::SCHEMA,
            class: self,
        })
        .unwrap_or_default()
    }

    /// One self-contained HTML page with a chart.
    pub fn html(&self) -> String {
        let n = self.learners.len();
        let mut b = format!(
            "<h1>Class roll-up</h1>\n<p class=\"sub\">{}</p>\n",
            html::escape(&self.lead())
        );
        b.push_str(
            "<p class=\"trust\"><strong>Which grades count.</strong> States re-executed in CI \
             are shown plain; a <code>*</code> marks a self-reported one (a progress file, or a \
             check run on the learner's machine), which the learner can edit.</p>\n",
        );
        b.push_str("<h2>Passed per lesson</h2>\n");
        let bars: Vec<Bar> = self
            .stats
            .iter()
            .map(|st| Bar {
                label: format!("{} · {}", st.lesson.number, st.lesson.title),
                segments: vec![
                    Segment {
                        value: st.passed as f64,
                        class: "pass",
                        title: format!("{} passed", st.passed),
                    },
                    Segment {
                        value: st.failing as f64,
                        class: "fail",
                        title: format!("{} failing", st.failing),
                    },
                    Segment {
                        value: st.attempted as f64,
                        class: "try",
                        title: format!("{} attempted", st.attempted),
                    },
                ],
                note: format!("{}/{n} passed", st.passed),
            })
            .collect();
        b.push_str(&html::bar_chart(
            "learners who passed, are failing, or attempted each lesson",
            &bars,
            n as f64,
        ));
        b.push_str(&html::legend(&[
            ("pass", "passed"),
            ("fail", "failing"),
            ("try", "attempted"),
            ("none", "no record"),
        ]));
        let stuck = self.stuck_lessons();
        if !stuck.is_empty() {
            b.push_str("<h2>Where the class is stuck</h2>\n<ul>\n");
            for st in stuck.iter().take(5) {
                let _ = writeln!(
                    b,
                    "<li><strong>Lesson {} · {}</strong>: {} learner{} on “{}”{}</li>",
                    st.lesson.number,
                    html::escape(&st.lesson.title),
                    st.stuck_count,
                    plural(st.stuck_count),
                    html::escape(st.stuck_on.as_deref().unwrap_or("")),
                    st.stuck_message
                        .as_deref()
                        .map_or(String::new(), |m| format!(
                            "<br><code>{}</code>",
                            html::escape(m)
                        ))
                );
            }
            b.push_str("</ul>\n");
        }
        b.push_str("<h2>Lessons</h2>\n<table>\n<tr><th>Lesson</th><th class=\"num\">Passed</th><th class=\"num\">Median checks before passing</th><th>Most common failing check</th><th>Its message</th></tr>\n");
        for st in &self.stats {
            let _ = writeln!(
                b,
                "<tr><td>{} · {}</td><td class=\"num\">{}/{n}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                st.lesson.number,
                html::escape(&st.lesson.title),
                st.passed,
                fmt_median(st.median_checks_before_pass),
                st.stuck_on.as_deref().map_or(String::new(), |t| format!(
                    "{} ({})",
                    html::escape(t),
                    st.stuck_count
                )),
                html::escape(st.stuck_message.as_deref().unwrap_or("")),
            );
        }
        b.push_str("</table>\n<h2>Learners</h2>\n<div class=\"matrix\"><table>\n<tr><th class=\"learner\">Learner</th>");
        for l in &self.lessons {
            let _ = write!(
                b,
                "<th title=\"{}\">{} · {}</th>",
                html::escape(&l.lesson),
                l.number,
                html::escape(&l.title)
            );
        }
        b.push_str("<th class=\"learner\">Passed</th></tr>\n");
        for learner in &self.learners {
            let _ = write!(b, "<tr><td>{}</td>", html::escape(&learner.name));
            for l in &self.lessons {
                let (class, title) = learner.cells.get(&l.lesson).map_or(
                    ("not-started", String::from("no record")),
                    |c| {
                        let mut t = c.state.label().to_string();
                        if let Some(st) = &c.stuck {
                            t.push_str(": ");
                            t.push_str(&st.title);
                        }
                        if !c.ci {
                            t.push_str(" (self-reported)");
                        }
                        (c.state.class(), t)
                    },
                );
                let _ = write!(
                    b,
                    "<td class=\"cell {class}\" title=\"{}\">{}</td>",
                    html::escape(&title),
                    html::escape(&Class::cell_text(learner, l))
                );
            }
            let _ = writeln!(
                b,
                "<td class=\"num\">{}/{}</td></tr>",
                learner.passed(),
                self.lessons.len()
            );
        }
        b.push_str("</table></div>\n");
        if !self.skipped.is_empty() {
            b.push_str("<h2>Not read</h2>\n<ul>\n");
            for k in &self.skipped {
                let _ = writeln!(b, "<li>{}</li>", html::escape(k));
            }
            b.push_str("</ul>\n");
        }
        html::page("twelve: class roll-up", &b)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_that_differ_in_numbers_are_one() {
        assert_eq!(
            message_shape("no answer on port 40321 after 500 ms"),
            "no answer on port # after # ms"
        );
        let items = [
            ("a".to_string(), "first a"),
            ("b".to_string(), "b"),
            ("a".to_string(), "second a"),
        ];
        assert_eq!(most_common(items.into_iter()), Some(("first a", 2)));
    }

    #[test]
    fn names_come_from_files_or_their_folders() {
        assert_eq!(name_from_path(Path::new("x/alice.json")), "alice");
        assert_eq!(name_from_path(Path::new("x/bob/twelve-report.json")), "bob");
        assert_eq!(
            name_from_path(Path::new("clones/carol/.twelve/progress.toml")),
            "carol"
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
