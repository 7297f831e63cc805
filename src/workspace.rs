//! The learner's workspace: one folder per lesson plus `.twelve/` (settings and progress).
//!
//! Progress is written atomically (temporary file, fsync, rename), so a crash never leaves a
//! half-written file; a file that cannot be read is kept aside, never silently dropped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::check::LessonReport;
use crate::lesson::challenge::{self, Mode};
use crate::lesson::{Lesson, Pack};

/// The folder holding settings and progress.
pub const STATE_DIR: &str = ".twelve";

/// Where a lesson stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    NotStarted,
    Attempted,
    Passed,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::NotStarted => "not started",
            Status::Attempted => "attempted",
            Status::Passed => "passed",
        }
    }
}

/// One lesson's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    pub status: Status,
    pub attempts: u32,
    pub hints_revealed: u32,
    /// RFC 3339 time of the first pass.
    pub first_pass: Option<String>,
    /// RFC 3339 time of the last check.
    pub last_checked: Option<String>,
    /// e.g. "2/4 checks passed; first problem: ...".
    pub last_result: Option<String>,
    /// RFC 3339 time of the first check (absent in progress kept before it was recorded).
    pub first_checked: Option<String>,
    /// Check runs that failed before the first pass (set at the first pass).
    pub checks_before_pass: Option<u32>,
    /// Hints revealed when the lesson first passed.
    pub hints_at_pass: Option<u32>,
    /// Whether the last check passed (absent in progress kept before it was recorded).
    pub last_passed: Option<bool>,
}

impl LessonProgress {
    /// Passed once, but the last check failed: the files no longer pass.
    pub fn passed_but_failing_now(&self) -> bool {
        self.status == Status::Passed && self.last_passed == Some(false)
    }

    /// The status as the learner should read it: "passed · last check failed" when the
    /// lesson passed earlier and its last check did not.
    pub fn status_label(&self) -> &'static str {
        if self.passed_but_failing_now() {
            "passed · last check failed"
        } else {
            self.status.label()
        }
    }
}

/// Progress for the whole course, keyed by lesson folder name (`03-config`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// When the workspace was created (RFC 3339).
    pub started: Option<String>,
    pub lessons: BTreeMap<String, LessonProgress>,
}

impl Progress {
    pub fn lesson(&self, lesson: &Lesson) -> LessonProgress {
        self.lessons
            .get(&lesson.dir_name)
            .cloned()
            .unwrap_or_default()
    }

    pub fn lesson_mut(&mut self, lesson: &Lesson) -> &mut LessonProgress {
        self.lessons.entry(lesson.dir_name.clone()).or_default()
    }

    /// Count a check run of a lesson.
    pub fn record(&mut self, lesson: &Lesson, report: &LessonReport) {
        ProgressChange::checked(lesson, report).apply(self);
    }

    /// A check ran to a verdict. Attempts count the checks asked for before the first pass
    /// (`counts`): a check again after passing, or one watch mode started, is no struggle.
    fn record_result(&mut self, dir_name: &str, passed: bool, summary: &str, counts: bool) {
        let p = self.lessons.entry(dir_name.to_string()).or_default();
        let now = now();
        if p.attempts == 0 && p.first_checked.is_none() {
            p.first_checked = Some(now.clone());
        }
        let counted = counts && p.status != Status::Passed;
        if counted {
            p.attempts += 1;
        }
        p.last_checked = Some(now.clone());
        p.last_result = Some(summary.to_string());
        p.last_passed = Some(passed);
        if passed {
            p.status = Status::Passed;
            if p.first_pass.is_none() {
                p.first_pass = Some(now);
                p.checks_before_pass = Some(p.attempts - u32::from(counted));
                p.hints_at_pass = Some(p.hints_revealed);
            }
        } else if p.status == Status::NotStarted {
            p.status = Status::Attempted;
        }
    }

    /// The first lesson not passed yet, in pack order.
    pub fn next_lesson<'p>(&self, pack: &'p Pack) -> Option<&'p Lesson> {
        pack.lessons
            .iter()
            .find(|l| self.lesson(l).status != Status::Passed)
    }

    pub fn passed_count(&self, pack: &Pack) -> usize {
        pack.lessons
            .iter()
            .filter(|l| self.lesson(l).status == Status::Passed)
            .count()
    }
}

/// One change to progress, replayed on what the file holds at the moment it is saved: two
/// programs (the TUI and a `twelve hint` in another terminal) never erase each other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressChange {
    /// A check of a lesson ran to a verdict.
    Checked {
        lesson: String,
        passed: bool,
        summary: String,
    },
    /// Hints revealed so far (never goes down).
    Hints { lesson: String, revealed: u32 },
    /// A check that started by itself (watch mode, after a save) ran to a verdict: it
    /// records the result but is not counted as an attempt.
    CheckedAutomatically {
        lesson: String,
        passed: bool,
        summary: String,
    },
}

impl ProgressChange {
    pub fn checked(lesson: &Lesson, report: &LessonReport) -> ProgressChange {
        ProgressChange::Checked {
            lesson: lesson.dir_name.clone(),
            passed: report.passed(),
            summary: report.summary(),
        }
    }

    /// [`ProgressChange::checked`] for a check that watch mode started.
    pub fn checked_automatically(lesson: &Lesson, report: &LessonReport) -> ProgressChange {
        ProgressChange::CheckedAutomatically {
            lesson: lesson.dir_name.clone(),
            passed: report.passed(),
            summary: report.summary(),
        }
    }

    pub fn apply(&self, p: &mut Progress) {
        match self {
            ProgressChange::Checked {
                lesson,
                passed,
                summary,
            } => p.record_result(lesson, *passed, summary, true),
            ProgressChange::Hints { lesson, revealed } => {
                let lp = p.lessons.entry(lesson.clone()).or_default();
                lp.hints_revealed = lp.hints_revealed.max(*revealed);
            }
            ProgressChange::CheckedAutomatically {
                lesson,
                passed,
                summary,
            } => p.record_result(lesson, *passed, summary, false),
        }
    }
}

/// Settings kept in `.twelve/config.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Settings {
    /// A lesson pack folder given at `init` (absent: the built-in lessons).
    lessons: Option<PathBuf>,
    /// Guided (the default) or challenge: how much help the starters and lessons give.
    mode: Mode,
    /// The tutorial's own settings (`[tui]`).
    tui: TuiSettings,
}

/// The TUI's settings, kept in `.twelve/config.toml` under `[tui]` so they survive a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TuiSettings {
    /// Check again whenever a file of the open lesson is saved.
    pub watch: bool,
    /// Wrap long lines in the file viewer (otherwise it scrolls sideways).
    pub wrap: bool,
    /// The editor (found on PATH, no `$VISUAL`/`$EDITOR` set) the learner was told about.
    pub editor_explained: Option<String>,
}

impl Default for TuiSettings {
    fn default() -> TuiSettings {
        TuiSettings {
            watch: true,
            wrap: false,
            editor_explained: None,
        }
    }
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A learner's workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// The lesson pack chosen at `init`, if not the built-in one.
    pub lessons: Option<PathBuf>,
}

impl Workspace {
    /// Walk up from `start` to the first folder holding `.twelve/`.
    pub fn find(start: &Path) -> Option<Workspace> {
        let start = start.canonicalize().ok()?;
        start
            .ancestors()
            .find(|d| d.join(STATE_DIR).is_dir())
            .map(|root| Workspace::open(root.to_path_buf()))
    }

    /// Open a workspace at `root` (which holds `.twelve/`).
    pub fn open(root: PathBuf) -> Workspace {
        let settings: Settings = std::fs::read_to_string(root.join(STATE_DIR).join("config.toml"))
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default();
        // A relative pack path is relative to the workspace, so the two can move together.
        let lessons = settings.lessons.map(|p| root.join(p));
        Workspace { root, lessons }
    }

    /// Create a workspace in `dir` with every lesson's starter.
    pub fn init(dir: &Path, pack: &Pack, pack_dir: Option<&Path>) -> anyhow::Result<Workspace> {
        if dir.join(STATE_DIR).exists() {
            bail!(
                "`{}` is already a workspace; use `twelve reset` to restore a lesson",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir.join(STATE_DIR))
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let root = dir.canonicalize()?;
        let pack_dir = pack_dir.map(Path::canonicalize).transpose()?;
        let ws = Workspace {
            root,
            lessons: pack_dir.clone(),
        };
        let settings = Settings {
            lessons: pack_dir.as_deref().map(|p| relative_to(&ws.root, p)),
            ..Settings::default()
        };
        write_atomic(
            &ws.state_dir().join("config.toml"),
            toml::to_string(&settings)?.as_bytes(),
        )?;
        for lesson in &pack.lessons {
            let target = ws.lesson_dir(lesson);
            if target.exists() {
                bail!(
                    "`{}` already exists; choose an empty folder for the workspace",
                    target.display()
                );
            }
            ws.write_starter(pack, lesson)?;
        }
        std::fs::write(ws.root.join("README.md"), readme(pack))?;
        let progress = Progress {
            started: Some(now()),
            lessons: BTreeMap::new(),
        };
        ws.save_progress(&progress)?;
        Ok(ws)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    /// `.twelve/config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.state_dir().join("config.toml")
    }

    fn settings(&self) -> Settings {
        std::fs::read_to_string(self.config_path())
            .ok()
            .and_then(|t| toml::from_str::<Settings>(&t).ok())
            .unwrap_or_default()
    }

    /// Record `pack` as the workspace's lesson pack (relative to the workspace where it can
    /// be), keeping everything else the file holds.
    pub fn save_pack(&self, pack: &Path) -> anyhow::Result<()> {
        let pack = pack.canonicalize()?;
        let shown = relative_to(&self.root, &pack);
        self.save_setting("lessons", toml::Value::String(shown.display().to_string()))
    }

    /// Guided or challenge (guided when the file does not say).
    pub fn mode(&self) -> Mode {
        self.settings().mode
    }

    /// Keep `mode`, and give every lesson folder the starter files of that mode, where a
    /// file still is the other mode's starter as written (the learner's edits are never
    /// touched). Returns how many files were rewritten.
    pub fn set_mode(&self, pack: &Pack, mode: Mode) -> anyhow::Result<usize> {
        self.save_setting("mode", toml::Value::try_from(mode)?)?;
        let mut rewritten = 0;
        for lesson in &pack.lessons {
            let dir = self.lesson_dir(lesson);
            let from = challenge::starter_files(&lesson.starter, mode.toggled());
            let to = challenge::starter_files(&lesson.starter, mode);
            for (rel, bytes) in &to {
                let path = dir.join(rel);
                if from.get(rel) == Some(bytes)
                    || std::fs::read(&path).ok() != from.get(rel).cloned()
                {
                    continue;
                }
                // In place, so the file keeps its permissions.
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                rewritten += 1;
            }
        }
        Ok(rewritten)
    }

    /// The TUI's settings (the defaults when the file or its `[tui]` table is missing).
    pub fn tui_settings(&self) -> TuiSettings {
        self.settings().tui
    }

    /// Save the TUI's settings, keeping everything else the file holds.
    pub fn save_tui_settings(&self, tui: &TuiSettings) -> anyhow::Result<()> {
        self.save_setting("tui", toml::Value::try_from(tui)?)
    }

    /// Set one top-level key of `.twelve/config.toml`, keeping everything else it holds.
    fn save_setting(&self, key: &str, value: toml::Value) -> anyhow::Result<()> {
        let path = self.config_path();
        let mut table: toml::Table = match std::fs::read_to_string(&path) {
            Ok(t) => {
                toml::from_str(&t).with_context(|| format!("cannot read `{}`", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        };
        table.insert(key.into(), value);
        write_atomic(&path, toml::to_string(&table)?.as_bytes())
    }

    /// The folder of a lesson, named like the lesson (`03-config`).
    pub fn lesson_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join(&lesson.dir_name)
    }

    /// Write a lesson's starter as the workspace's mode shows it.
    fn write_starter(&self, pack: &Pack, lesson: &Lesson) -> anyhow::Result<()> {
        let dir = self.lesson_dir(lesson);
        let starter = challenge::starter_files(&lesson.starter, self.mode());
        crate::sandbox::write_files(&dir, pack.shared.iter().chain(&starter))
            .with_context(|| format!("cannot write `{}`", dir.display()))
    }

    /// Write the starter of a lesson the workspace does not have yet (`twelve update`).
    pub fn add_lesson(&self, pack: &Pack, lesson: &Lesson) -> anyhow::Result<()> {
        if self.lesson_dir(lesson).exists() {
            bail!("`{}` already exists", self.lesson_dir(lesson).display());
        }
        self.write_starter(pack, lesson)
    }

    /// Put a lesson's starter files back (everything else in its folder is removed).
    pub fn reset_lesson(&self, pack: &Pack, lesson: &Lesson) -> anyhow::Result<()> {
        let dir = self.lesson_dir(lesson);
        // Everything but a repository of the learner's: its history is theirs, not the
        // lesson's (lesson 1 has them commit), and a reset is one more change to commit.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name() == ".git" {
                    continue;
                }
                let p = e.path();
                let gone = if e.file_type().is_ok_and(|t| t.is_dir()) {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                gone.with_context(|| format!("cannot remove `{}`", p.display()))?;
            }
        }
        self.write_starter(pack, lesson)
    }

    fn progress_path(&self) -> PathBuf {
        self.state_dir().join("progress.toml")
    }

    /// Read progress. A file that cannot be read is moved aside as `progress.toml.damaged-<time>`
    /// and a fresh record is returned with a message saying so.
    pub fn load_progress(&self) -> (Progress, Option<String>) {
        let path = self.progress_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Progress::default(), None);
            }
            Err(e) => {
                return (
                    Progress::default(),
                    Some(format!("cannot read {}: {e}", path.display())),
                );
            }
        };
        let parsed = match std::str::from_utf8(&bytes) {
            Err(e) => Err(format!("not text at byte {}", e.valid_up_to())),
            Ok(text) => toml::from_str::<Progress>(text).map_err(|e| {
                let line = e
                    .span()
                    .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
                format!("line {line}: {}", e.message().trim())
            }),
        };
        match parsed {
            Ok(p) => (p, None),
            Err(why) => {
                // A unique name: two damaged files never share one backup.
                let stamp = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                let aside = path.with_file_name(format!(
                    "progress.toml.damaged-{stamp}-{}",
                    std::process::id()
                ));
                let msg = match std::fs::rename(&path, &aside) {
                    Ok(()) => format!(
                        "the progress file was damaged ({why}); it was kept as {} and progress starts afresh",
                        aside.display()
                    ),
                    Err(e) => format!(
                        "the progress file {} is damaged ({why}) and could not be moved aside ({e})",
                        path.display()
                    ),
                };
                (Progress::default(), Some(msg))
            }
        }
    }

    /// Write progress atomically.
    pub fn save_progress(&self, progress: &Progress) -> anyhow::Result<()> {
        let text = toml::to_string(progress)?;
        write_atomic(&self.progress_path(), text.as_bytes())
    }

    /// Load, change and save progress in one go, holding `.twelve/progress.lock` so that
    /// another `twelve` cannot write in between (no lost update).
    /// Also returns a warning to show when the file was damaged (and kept aside).
    pub fn update_progress(
        &self,
        f: impl FnOnce(&mut Progress),
    ) -> anyhow::Result<(Progress, Option<String>)> {
        let _lock = self.lock_progress()?;
        let (mut p, warning) = self.load_progress();
        f(&mut p);
        self.save_progress(&p)?;
        Ok((p, warning))
    }

    /// Apply one change to the progress on disk (see [`ProgressChange`]).
    pub fn apply(&self, change: &ProgressChange) -> anyhow::Result<(Progress, Option<String>)> {
        self.update_progress(|p| change.apply(p))
    }

    fn lock_progress(&self) -> anyhow::Result<nix::fcntl::Flock<std::fs::File>> {
        let path = self.state_dir().join("progress.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open `{}`", path.display()))?;
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| anyhow::anyhow!("cannot lock `{}`: {e}", path.display()))
    }
}

/// `path` relative to `base` when they share a parent (`../packs/mine`), else `path`.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    let b: Vec<_> = base.components().collect();
    let p: Vec<_> = path.components().collect();
    let common = b.iter().zip(&p).take_while(|(x, y)| x == y).count();
    // Only the root in common: an absolute path says more than `../../../..`.
    if common <= 1 {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Write `bytes` to `path` through a temporary file, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace `{}`", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn readme(pack: &Pack) -> String {
    let mut s = String::from(
        "# Your twelve-factor workspace\n\n\
         Each folder holds one lesson's service, broken in one way. Run `twelve` here for\n\
         the tutorial, or use the plain commands:\n\n\
         ```\n\
         twelve list            # the lessons and where you stand\n\
         twelve run 3           # start lesson 3's service with its default settings\n\
         twelve check 3         # run lesson 3's checks against your files\n\
         twelve hint 3          # one more hint\n\
         twelve solution 3      # the reference solution as a diff against your files\n\
         twelve reset 3         # put lesson 3's starter files back\n\
         ```\n\n\
         Progress is kept in `.twelve/progress.toml`.\n\n",
    );
    for l in &pack.lessons {
        s.push_str(&format!(
            "- `{}/`: {} ({})\n",
            l.dir_name, l.title, l.factor_name
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_puts_the_starter_back_and_keeps_the_learners_repository() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(STATE_DIR)).unwrap();
        let ws = Workspace::open(tmp.path().to_path_buf());
        let pack = Pack::embedded().unwrap();
        let lesson = pack.find("1").unwrap();
        let dir = ws.lesson_dir(lesson);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(dir.join("app.py"), "mine\n").unwrap();
        ws.reset_lesson(&pack, lesson).unwrap();
        assert!(dir.join(".git/HEAD").is_file(), "the repository stays");
        assert!(!dir.join("app.py").exists(), "the learner's new file goes");
        assert!(
            dir.join("deploy/staging/app.py").is_file(),
            "the starter is back"
        );
    }

    #[test]
    fn damaged_progress_is_kept_aside() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(STATE_DIR)).unwrap();
        let ws = Workspace::open(tmp.path().to_path_buf());
        std::fs::write(ws.progress_path(), "lessons = [[[").unwrap();
        let (p, msg) = ws.load_progress();
        assert_eq!(p, Progress::default());
        let msg = msg.unwrap();
        assert!(
            msg.contains("kept as") && msg.contains("progress.toml.damaged-"),
            "{msg}"
        );
        let aside: Vec<_> = std::fs::read_dir(ws.state_dir())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("progress.toml.damaged-")
            })
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read_to_string(aside[0].path()).unwrap(),
            "lessons = [[["
        );
    }

    #[test]
    fn tui_settings_survive_and_keep_the_rest_of_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(STATE_DIR)).unwrap();
        let ws = Workspace::open(tmp.path().to_path_buf());
        assert_eq!(ws.tui_settings(), TuiSettings::default());
        std::fs::write(ws.config_path(), "lessons = \"/packs/mine\"\n").unwrap();
        let mine = TuiSettings {
            watch: false,
            wrap: true,
            editor_explained: Some("nano".into()),
        };
        ws.save_tui_settings(&mine).unwrap();
        assert_eq!(ws.tui_settings(), mine);
        let ws = Workspace::open(tmp.path().to_path_buf());
        assert_eq!(ws.lessons, Some(PathBuf::from("/packs/mine")));
    }

    #[test]
    fn the_mode_is_kept_and_rewrites_only_untouched_starter_files() {
        let pack = Pack::embedded().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::init(&tmp.path().join("ws"), &pack, None).unwrap();
        assert_eq!(ws.mode(), Mode::Guided);
        let config = &pack.lessons[2];
        let app = ws.lesson_dir(config).join("app.py");
        let ports = &pack.lessons[6];
        let edited = ws.lesson_dir(ports).join("app.py");
        std::fs::write(&edited, "# Factor VII (Port binding): my own notes\n").unwrap();
        assert!(
            std::fs::read_to_string(&app)
                .unwrap()
                .contains("# Factor III")
        );

        let n = ws.set_mode(&pack, Mode::Challenge).unwrap();
        assert!(n >= 12, "{n} files rewritten");
        assert_eq!(Workspace::open(ws.root.clone()).mode(), Mode::Challenge);
        assert!(
            !std::fs::read_to_string(&app)
                .unwrap()
                .contains("Factor III")
        );
        // The learner's own file is theirs.
        assert_eq!(
            std::fs::read_to_string(&edited).unwrap(),
            "# Factor VII (Port binding): my own notes\n"
        );
        // A reset in challenge mode writes the stripped starter; settings survive.
        ws.save_tui_settings(&TuiSettings::default()).unwrap();
        ws.reset_lesson(&pack, ports).unwrap();
        assert!(
            !std::fs::read_to_string(&edited)
                .unwrap()
                .contains("Factor VII")
        );
        assert_eq!(ws.mode(), Mode::Challenge);

        ws.set_mode(&pack, Mode::Guided).unwrap();
        assert!(
            std::fs::read_to_string(&app)
                .unwrap()
                .contains("# Factor III")
        );
        assert!(
            std::fs::read_to_string(&edited)
                .unwrap()
                .contains("# Factor VII")
        );
    }

    #[test]
    fn only_checks_asked_for_before_the_first_pass_are_attempts() {
        let mut p = Progress::default();
        let change = |passed, automatic| {
            let (lesson, summary) = ("03-config".to_string(), String::new());
            if automatic {
                ProgressChange::CheckedAutomatically {
                    lesson,
                    passed,
                    summary,
                }
            } else {
                ProgressChange::Checked {
                    lesson,
                    passed,
                    summary,
                }
            }
        };
        for (passed, automatic) in [(false, true), (false, false), (true, true), (true, false)] {
            change(passed, automatic).apply(&mut p);
        }
        let lp = &p.lessons["03-config"];
        assert_eq!((lp.status, lp.attempts), (Status::Passed, 1));
        assert!(lp.first_pass.is_some());
    }

    #[test]
    fn progress_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(STATE_DIR)).unwrap();
        let ws = Workspace::open(tmp.path().to_path_buf());
        let mut p = Progress::default();
        p.lessons.insert(
            "03-config".into(),
            LessonProgress {
                status: Status::Passed,
                attempts: 2,
                hints_revealed: 1,
                first_pass: Some(now()),
                last_checked: None,
                last_result: Some("4/4 checks passed".into()),
                ..LessonProgress::default()
            },
        );
        ws.save_progress(&p).unwrap();
        assert_eq!(ws.load_progress(), (p, None));
    }

    #[test]
    fn concurrent_writers_lose_no_update() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(STATE_DIR)).unwrap();
        let root = tmp.path().to_path_buf();
        // 200 pairs: one writer records checks of a lesson, the other hints of another, each
        // through its own handle (as two programs would).
        let writers: Vec<_> = ["03-config", "07-port-binding"]
            .into_iter()
            .enumerate()
            .map(|(w, lesson)| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let ws = Workspace::open(root);
                    for i in 0..200 {
                        let change = if w == 0 {
                            ProgressChange::Checked {
                                lesson: lesson.into(),
                                passed: false,
                                summary: format!("{i}"),
                            }
                        } else {
                            ProgressChange::Hints {
                                lesson: lesson.into(),
                                revealed: i + 1,
                            }
                        };
                        ws.apply(&change).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let (p, warning) = Workspace::open(root).load_progress();
        assert_eq!(warning, None);
        assert_eq!(p.lessons["03-config"].attempts, 200);
        assert_eq!(p.lessons["07-port-binding"].hints_revealed, 200);
    }
}
