//! The lesson catalog: load and validate a lesson pack, embedded or from a folder.
//!
//! Pure data: nothing here runs anything. Every problem found is reported as
//! `file:line: what is wrong`, and all problems of a pack are reported at once.

pub mod challenge;
pub mod diff;
pub mod step;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use include_dir::{Dir, include_dir};
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

pub use step::{Step, StepSpec};

static EMBEDDED_LESSONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lessons");
static EMBEDDED_APPS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/sandbox-apps");

/// The manifesto.
pub const MANIFESTO: &str = "https://12factor.net";

/// The manifesto's page of factor `n` (1..=12), or its front page.
pub fn manifesto_page(n: u8) -> &'static str {
    const PAGES: [&str; 12] = [
        "https://12factor.net/codebase",
        "https://12factor.net/dependencies",
        "https://12factor.net/config",
        "https://12factor.net/backing-services",
        "https://12factor.net/build-release-run",
        "https://12factor.net/processes",
        "https://12factor.net/port-binding",
        "https://12factor.net/concurrency",
        "https://12factor.net/disposability",
        "https://12factor.net/dev-prod-parity",
        "https://12factor.net/logs",
        "https://12factor.net/admin-processes",
    ];
    usize::from(n)
        .checked_sub(1)
        .and_then(|i| PAGES.get(i))
        .copied()
        .unwrap_or(MANIFESTO)
}

/// Files by path relative to their folder (always with `/`).
pub type Files = BTreeMap<String, Vec<u8>>;

/// Where a pack came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    Embedded,
    Dir(PathBuf),
}

impl fmt::Display for PackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackSource::Embedded => write!(f, "the built-in lessons"),
            PackSource::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

/// A whole lesson pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub source: PackSource,
    pub lessons: Vec<Lesson>,
    /// Copied into every lesson folder (kv.py).
    pub shared: Files,
    /// Offline Python packages, `NAME-VERSION/...`.
    pub vendor: Files,
    /// What `pack.toml` says about the pack (defaults for the built-in lessons).
    pub info: PackInfo,
}

/// A pack's own description, from `pack.toml` at its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackInfo {
    /// The map's title.
    pub title: String,
    /// One line shown under the title.
    pub description: String,
    /// The closing page (markdown), shown when every lesson is passed.
    pub closing: Option<String>,
    /// Whether the pack's lessons are added to (or replace, by number) the built-in twelve.
    pub extends_builtin: bool,
}

impl Default for PackInfo {
    fn default() -> PackInfo {
        PackInfo {
            title: "The twelve factors".into(),
            description: String::new(),
            closing: None,
            extends_builtin: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackInfo {
    title: Option<String>,
    #[serde(default)]
    description: String,
    /// A markdown file, relative to the pack root.
    closing: Option<Spanned<String>>,
    extends: Option<Spanned<String>>,
}

/// The roman numeral of `n` (`XIII`); `0` for zero.
pub fn roman(mut n: u32) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = String::new();
    for (v, s) in [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ] {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

/// One lesson: text, hints, the apps and the checks.
#[derive(Debug, Clone)]
pub struct Lesson {
    /// The lesson number, from the folder's `NN-`.
    pub number: u8,
    /// The slug, e.g. `config`.
    pub id: String,
    /// The folder name, e.g. `03-config` (also the workspace folder).
    pub dir_name: String,
    /// The factor (1-12) the lesson teaches, if it teaches one of the twelve.
    pub factor: Option<u8>,
    /// How the map and headers number the lesson: `label` in lesson.toml, else the roman
    /// numeral of its number (`III`, `XIII`).
    pub label: String,
    /// The lesson's name on the map (for the twelve, the factor's name).
    pub factor_name: String,
    pub title: String,
    pub summary: String,
    pub hints: Vec<String>,
    /// The manifesto's page for this lesson (`link` in lesson.toml, else the factor's page).
    pub link: String,
    /// The lesson text (markdown).
    pub text: String,
    pub run: RunSpec,
    pub checks: Vec<Check>,
    pub starter_fails: Vec<StarterFail>,
    pub starter: Files,
    pub solution: Files,
    /// Helper scripts of the checks (`lessons/NN-slug/checks/`), copied to `{checks}`.
    pub check_files: Files,
    /// How to name `lesson.toml` in messages.
    pub toml_path: String,
    /// The rules the lesson text states, each with the checks that enforce it.
    pub rules: Vec<Rule>,
    /// Other fixes, right and wrong, with the verdict the checks must reach on each.
    pub variants: Vec<Variant>,
    /// What a check deploys: a copy of the lesson folder, or its last commit.
    pub deploy: Deploy,
    /// A shell script `lessons verify` runs in the solution's folder (and each variant's,
    /// unless the variant names its own) before checking it: `[verify] setup`.
    pub verify_setup: Option<String>,
}

/// What a check's sandbox holds of the learner's lesson folder (`deploy` in lesson.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deploy {
    /// The folder as it is on disk.
    #[default]
    Folder,
    /// The folder as the last commit of its git repository holds it (a copy of the folder
    /// when it is in no repository or nothing of it is committed; a check then says so).
    Commit,
}

/// A rule the lesson states, and the checks that enforce it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub text: String,
    pub checks: Vec<String>,
    pub line: usize,
}

/// What the checks must conclude about a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// A fix written differently from the reference (`lessons/NN-slug/variants/NAME.toml`): a
/// few changes to the solution (or the starter), and the verdict it must get.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub verdict: Verdict,
    pub why: String,
    /// For a wrong fix: the check that must fail ...
    pub check: Option<String>,
    /// ... and words its failure text must contain.
    pub message: Vec<String>,
    /// The variant's whole file set (base, edits and files applied).
    pub files: Files,
    /// How to name the variant file in messages.
    pub path: String,
    /// The script run in the variant's folder before it is checked (its own `setup`, else
    /// the lesson's `[verify] setup`; none when the variant says `setup = ""`).
    pub setup: Option<String>,
}

/// How `twelve run N` starts the learner's service.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub proc: Option<String>,
    pub command: Option<String>,
    pub stores: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Install what this requirements file declares from the offline index, and run the
    /// service isolated from the machine's packages (as the dependencies lesson's check does).
    pub install: Option<String>,
    /// Instances of the main process; more than one run behind a round-robin router.
    pub instances: usize,
    /// Further Procfile types to start alongside (one instance each), when declared.
    pub also: Vec<String>,
}

/// A check the starter must fail, and a fragment its failure must contain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarterFail {
    pub check: String,
    #[serde(default)]
    pub message: Option<String>,
    /// The entry's line in lesson.toml (0 when not read from a file).
    #[serde(skip)]
    pub line: usize,
}

/// One check: a scenario of steps.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub why: String,
    pub timeout: Duration,
    pub steps: Vec<StepSpec>,
    pub line: usize,
}

/// A problem at a place in a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything wrong with a pack.
#[derive(Debug, Clone, thiserror::Error)]
pub struct PackError {
    pub problems: Vec<Problem>,
    /// The lessons no problem names, for commands that can work on part of a pack (an author
    /// verifying one lesson while another is half-written).
    pub partial: Option<Box<Pack>>,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "the lesson pack has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl Pack {
    /// The pack built into the binary.
    pub fn embedded() -> Result<Pack, PackError> {
        let (lessons, apps) = embedded_files();
        Pack::from_files(PackSource::Embedded, &lessons, &apps)
    }

    /// A pack from a folder holding `lessons/` and `sandbox-apps/`.
    pub fn from_dir(dir: &Path) -> Result<Pack, PackError> {
        let problem = |message: String| PackError {
            problems: vec![Problem {
                file: dir.display().to_string(),
                line: None,
                message,
            }],
            partial: None,
        };
        if !dir.is_dir() {
            return Err(problem("no such folder".into()));
        }
        let lessons_dir = dir.join("lessons");
        if !lessons_dir.is_dir() {
            return Err(problem(
                "not a lesson pack: it has no `lessons/` folder".into(),
            ));
        }
        let mut lessons = Files::new();
        read_tree(&lessons_dir, &lessons_dir, &mut lessons).map_err(|e| problem(e.to_string()))?;
        let mut apps = Files::new();
        let apps_dir = dir.join("sandbox-apps");
        if apps_dir.is_dir() {
            read_tree(&apps_dir, &apps_dir, &mut apps).map_err(|e| problem(e.to_string()))?;
        }
        let info = read_pack_info(dir)?;
        let mut builtin = BTreeSet::new();
        if info.extends_builtin {
            // The pack's lessons replace the built-in ones of the same number; its shared
            // files and scenarios win over the built-in ones of the same name.
            let numbers: BTreeSet<&str> = lesson_dirs(&lessons)
                .into_iter()
                .filter_map(|d| d.get(..2))
                .collect();
            let (mut all_lessons, mut all_apps) = embedded_files();
            let dropped: BTreeSet<String> = lesson_dirs(&all_lessons)
                .into_iter()
                .filter(|d| d.get(..2).is_some_and(|n| numbers.contains(n)))
                .map(str::to_string)
                .collect();
            let keep = |p: &String| p.split_once('/').is_none_or(|(d, _)| !dropped.contains(d));
            all_lessons.retain(|p, _| keep(p));
            all_apps.retain(|p, _| keep(p));
            builtin = lesson_dirs(&all_lessons)
                .into_iter()
                .map(str::to_string)
                .collect();
            all_lessons.extend(lessons);
            all_apps.extend(apps);
            lessons = all_lessons;
            apps = all_apps;
        }
        let mut pack = Pack::from_files_in(
            PackSource::Dir(dir.to_path_buf()),
            &lessons,
            &apps,
            &builtin,
        );
        match &mut pack {
            Ok(p) => p.info = info,
            Err(e) => {
                if let Some(p) = e.partial.as_deref_mut() {
                    p.info = info;
                }
            }
        }
        pack
    }

    /// Load the pack from `dir` when given, else the embedded one.
    pub fn load(dir: Option<&Path>) -> Result<Pack, PackError> {
        match dir {
            Some(d) => Pack::from_dir(d),
            None => Pack::embedded(),
        }
    }

    /// Find a lesson by number (`3`, `03`), slug (`config`) or folder name (`03-config`).
    pub fn find(&self, key: &str) -> Option<&Lesson> {
        let key = key.trim();
        if let Ok(n) = key.parse::<u8>() {
            return self.lessons.iter().find(|l| l.number == n);
        }
        self.lessons
            .iter()
            .find(|l| l.id == key || l.dir_name == key)
    }

    fn from_files(source: PackSource, lessons: &Files, apps: &Files) -> Result<Pack, PackError> {
        Pack::from_files_in(source, lessons, apps, &BTreeSet::new())
    }

    /// [`Pack::from_files`] where the lessons in `builtin` come from the built-in pack (their
    /// problems name them as the built-in files).
    fn from_files_in(
        source: PackSource,
        lessons: &Files,
        apps: &Files,
        builtin: &BTreeSet<String>,
    ) -> Result<Pack, PackError> {
        let prefix = match &source {
            PackSource::Embedded => String::new(),
            PackSource::Dir(d) => format!("{}/", d.display()),
        };
        let mut problems = Vec::new();
        let shared = subtree(apps, "_shared");
        let vendor = subtree(apps, "_vendor");

        let dirs = lesson_dirs(lessons);
        let scenarios = load_scenarios(&prefix, lessons, &mut problems);
        let mut out = Vec::new();
        for &dir in &dirs {
            let ctx = LessonFiles {
                dir,
                prefix: if builtin.contains(dir) { "" } else { &prefix },
                lessons,
                apps,
                scenarios: &scenarios,
            };
            if let Some(lesson) = ctx.load(&mut problems) {
                out.push(lesson);
            }
        }
        if out.is_empty() && problems.is_empty() {
            problems.push(Problem {
                file: format!("{prefix}lessons"),
                line: None,
                message: "the pack holds no lessons".into(),
            });
        }
        let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
        let mut seen_numbers: BTreeMap<u8, String> = BTreeMap::new();
        for l in &out {
            if let Some(other) = seen_ids.insert(l.id.clone(), l.dir_name.clone()) {
                problems.push(Problem {
                    file: l.toml_path.clone(),
                    line: Some(1),
                    message: format!("duplicate lesson id `{}` (also in {other})", l.id),
                });
            }
            if let Some(other) = seen_numbers.insert(l.number, l.dir_name.clone()) {
                problems.push(Problem {
                    file: l.toml_path.clone(),
                    line: None,
                    message: format!("duplicate lesson number {} (also {other})", l.number),
                });
            }
        }
        for name in apps
            .keys()
            .filter_map(|p| p.split_once('/').map(|(d, _)| d))
        {
            if !name.starts_with('_') && !dirs.contains(name) {
                problems.push(Problem {
                    file: format!("{prefix}sandbox-apps/{name}"),
                    line: None,
                    message: format!("app folder without a lesson (no lessons/{name}/)"),
                });
            }
        }
        problems.dedup();
        out.sort_by_key(|l| l.number);
        if !problems.is_empty() {
            let mentions = |file: &str, dir: &str| {
                file.contains(&format!("lessons/{dir}/"))
                    || file.contains(&format!("sandbox-apps/{dir}/"))
                    || file.ends_with(&format!("sandbox-apps/{dir}"))
                    || file.ends_with(&format!("lessons/{dir}"))
            };
            out.retain(|l| !problems.iter().any(|p| mentions(&p.file, &l.dir_name)));
            let partial = Pack {
                source,
                lessons: out,
                shared,
                vendor,
                info: PackInfo::default(),
            };
            return Err(PackError {
                problems,
                partial: Some(Box::new(partial)),
            });
        }
        Ok(Pack {
            source,
            lessons: out,
            shared,
            vendor,
            info: PackInfo::default(),
        })
    }
}

/// The built-in lessons' and apps' files.
fn embedded_files() -> (Files, Files) {
    let mut lessons = Files::new();
    collect_embedded(&EMBEDDED_LESSONS, &mut lessons);
    let mut apps = Files::new();
    collect_embedded(&EMBEDDED_APPS, &mut apps);
    (lessons, apps)
}

/// The lesson folders of a `lessons/` tree (not `_scenarios` and the like).
fn lesson_dirs(lessons: &Files) -> BTreeSet<&str> {
    lessons
        .keys()
        .filter_map(|p| p.split_once('/').map(|(d, _)| d))
        .filter(|d| !d.starts_with('_'))
        .collect()
}

/// Read `pack.toml` at the root of a pack folder (the defaults when there is none).
fn read_pack_info(dir: &Path) -> Result<PackInfo, PackError> {
    let path = dir.join("pack.toml");
    let shown = path.display().to_string();
    let fail = |line: Option<usize>, message: String| PackError {
        problems: vec![Problem {
            file: shown.clone(),
            line,
            message,
        }],
        partial: None,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PackInfo::default()),
        Err(e) => return Err(fail(None, e.to_string())),
    };
    let raw: RawPackInfo = toml::from_str(&text).map_err(|e| {
        fail(
            e.span().map(|s| line_of(&text, s.start)),
            e.message().trim().to_string(),
        )
    })?;
    let extends_builtin = match &raw.extends {
        None => false,
        Some(e) if e.get_ref() == "builtin" => true,
        Some(e) => {
            return Err(fail(
                Some(line_of(&text, e.span().start)),
                format!(
                    "extends = \"{}\": the only pack a pack can extend is \"builtin\" \
                     (leave `extends` out for a pack that stands alone)",
                    e.get_ref()
                ),
            ));
        }
    };
    let closing = match &raw.closing {
        None => None,
        Some(c) => match std::fs::read_to_string(dir.join(c.get_ref())) {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(fail(
                    Some(line_of(&text, c.span().start)),
                    format!("closing = \"{}\": cannot read it ({e})", c.get_ref()),
                ));
            }
        },
    };
    Ok(PackInfo {
        title: raw.title.unwrap_or_else(|| PackInfo::default().title),
        description: raw.description,
        closing,
        extends_builtin,
    })
}

/// The pack's scenarios: every `lessons/_scenarios/NAME.toml`.
fn load_scenarios(
    prefix: &str,
    lessons: &Files,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Scenario> {
    let mut out = BTreeMap::new();
    for (rel, bytes) in lessons {
        let Some(name) = rel
            .strip_prefix("_scenarios/")
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        let path = format!("{prefix}lessons/{rel}");
        let Some(text) = utf8(&path, bytes, problems) else {
            continue;
        };
        match toml::from_str::<RawScenario>(text) {
            Ok(raw) => {
                let steps = raw
                    .steps
                    .into_iter()
                    .map(|st| (line_of(text, st.span().start), st.into_inner()))
                    .collect();
                out.insert(name.to_string(), Scenario { path, steps });
            }
            Err(e) => problems.push(Problem {
                file: path,
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_string(),
            }),
        }
    }
    out
}

/// How many newlines `bytes` holds.
fn text_lines(bytes: &[u8]) -> usize {
    bytes.split(|b| *b == b'\n').count() - 1
}

/// A pack file as text, or a problem saying it is not UTF-8 (with the line of the first bad
/// byte).
fn utf8<'b>(path: &str, bytes: &'b [u8], problems: &mut Vec<Problem>) -> Option<&'b str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem {
                file: path.to_string(),
                line: Some(text_lines(&bytes[..e.valid_up_to()]) + 1),
                message: "not UTF-8 text: lesson files must be saved as UTF-8".into(),
            });
            None
        }
    }
}

fn collect_embedded(dir: &Dir<'_>, out: &mut Files) {
    for f in dir.files() {
        out.insert(
            f.path().to_string_lossy().replace('\\', "/"),
            f.contents().to_vec(),
        );
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

/// Every file under `dir` (following links), by path relative to it; Python's caches left out.
pub fn read_folder(dir: &Path) -> std::io::Result<Files> {
    let mut out = Files::new();
    read_tree(dir, dir, &mut out)?;
    Ok(out)
}

/// Largest file a pack may hold: lesson text, code and check scripts are small; anything
/// bigger is a mistake (a database, a log, a build) that would be loaded into memory.
const MAX_PACK_FILE: u64 = 4 << 20;

fn read_tree(root: &Path, dir: &Path, out: &mut Files) -> std::io::Result<()> {
    let mut seen = Vec::new();
    read_tree_in(root, dir, out, &mut seen)
}

fn read_tree_in(
    root: &Path,
    dir: &Path,
    out: &mut Files,
    ancestors: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let real = dir.canonicalize()?;
    if let Some(a) = ancestors.iter().find(|a| **a == real) {
        return Err(std::io::Error::other(format!(
            "`{}` is a link back to `{}` (a symlink loop)",
            dir.display(),
            a.display()
        )));
    }
    ancestors.push(real);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "__pycache__" || name == ".DS_Store" || name == ".git" || name.ends_with(".pyc")
        {
            continue;
        }
        // Follow symlinks, so a pack may link to lessons kept elsewhere.
        let meta = std::fs::metadata(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("`{}`: {e}", path.display())))?;
        if meta.is_dir() {
            read_tree_in(root, &path, out, ancestors)?;
        } else if meta.len() > MAX_PACK_FILE {
            return Err(std::io::Error::other(format!(
                "`{}` is {:.1} MB; pack files are limited to {} MB",
                path.display(),
                meta.len() as f64 / 1_048_576.0,
                MAX_PACK_FILE >> 20
            )));
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read(&path)?);
        }
    }
    ancestors.pop();
    Ok(())
}

/// The files under `dir/` of a tree, with the prefix removed.
fn subtree(files: &Files, dir: &str) -> Files {
    let prefix = format!("{dir}/");
    files
        .iter()
        .filter_map(|(p, b)| p.strip_prefix(&prefix).map(|r| (r.to_string(), b.clone())))
        .filter(|(p, _)| !p.split('/').any(|part| part == "__pycache__"))
        .collect()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

static DIR_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$").expect("valid regex"));

/// `{checks}/SCRIPT` in a step: a check script of the lesson.
static CHECK_SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{checks\}/([A-Za-z0-9_.\-/]+)").expect("valid regex"));

/// A Python line importing the shared client.
static IMPORTS_KV: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(from\s+kv\s+import|import\s+kv\b)").expect("valid regex"));

/// `{{` and `}}` in a step's strings stand for literal braces: [`protect_braces`] hides them
/// from placeholder expansion and [`restore_braces`] turns them into `{` and `}`.
pub fn protect_braces(s: &str) -> String {
    s.replace("{{", "\u{1}").replace("}}", "\u{2}")
}

/// See [`protect_braces`].
pub fn restore_braces(s: &str) -> String {
    s.replace('\u{1}', "{").replace('\u{2}', "}")
}

/// Matches `{name}` and `{name.part...}` placeholders.
pub static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([a-z_]+(?:\.[A-Za-z0-9_\-]+)*)\}").expect("valid regex"));

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    id: String,
    /// The factor (1-12) the lesson teaches; absent for a lesson beyond the twelve.
    factor: Option<Spanned<i64>>,
    /// How the lesson is numbered on the map (`XIII`, `Bonus`); default: the roman numeral
    /// of its number.
    label: Option<Spanned<String>>,
    factor_name: String,
    title: String,
    summary: String,
    hints: Vec<String>,
    /// The manifesto's page for this lesson (default: 12factor.net's page of its factor).
    link: Option<String>,
    /// `"folder"` (the default) or `"commit"`.
    deploy: Option<Spanned<String>>,
    run: RawRun,
    #[serde(default)]
    verify: RawVerify,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    rule: String,
    #[serde(default)]
    checks: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    verdict: Verdict,
    why: String,
    #[serde(default)]
    base: Option<String>,
    check: Option<String>,
    #[serde(default)]
    message: OneOrMany,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    edit: Vec<Spanned<RawEdit>>,
    setup: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdit {
    file: String,
    find: String,
    replace: String,
    /// Replace every occurrence instead of demanding exactly one.
    #[serde(default)]
    all: bool,
}

/// A string or a list of strings.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    steps: Vec<Spanned<toml::Table>>,
}

/// A pack scenario (`lessons/_scenarios/NAME.toml`): steps lessons include by name.
#[derive(Debug, Clone)]
struct Scenario {
    path: String,
    /// (line in the scenario file, the step's table)
    steps: Vec<(usize, toml::Table)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    proc: Option<String>,
    command: Option<String>,
    #[serde(default)]
    stores: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    install: Option<String>,
    #[serde(default = "one")]
    instances: usize,
    #[serde(default)]
    also: Vec<String>,
}

fn one() -> usize {
    1
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    #[serde(default)]
    starter_fails: Vec<Spanned<StarterFail>>,
    setup: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    title: String,
    why: String,
    timeout: Option<String>,
    steps: Vec<Spanned<toml::Table>>,
}

struct LessonFiles<'a> {
    dir: &'a str,
    prefix: &'a str,
    lessons: &'a Files,
    apps: &'a Files,
    scenarios: &'a BTreeMap<String, Scenario>,
}

impl LessonFiles<'_> {
    fn load(&self, problems: &mut Vec<Problem>) -> Option<Lesson> {
        let dir = self.dir;
        let toml_path = format!("{}lessons/{dir}/lesson.toml", self.prefix);
        let md_path = format!("{}lessons/{dir}/lesson.md", self.prefix);
        let mut problem = |line: Option<usize>, message: String| {
            problems.push(Problem {
                file: toml_path.clone(),
                line,
                message,
            });
        };
        let Some(caps) = DIR_NAME.captures(dir) else {
            problems.push(Problem {
                file: format!("{}lessons/{dir}", self.prefix),
                line: None,
                message: "a lesson folder must be named NN-slug (two digits, a dash, \
                          lowercase words joined by dashes), e.g. 03-config"
                    .into(),
            });
            return None;
        };
        let number: u8 = caps[1].parse().unwrap_or(0);
        let slug = caps[2].to_string();

        let Some(raw_toml) = self.lessons.get(&format!("{dir}/lesson.toml")) else {
            problem(None, "missing file".into());
            return None;
        };
        let text = utf8(&toml_path, raw_toml, problems)?.to_string();
        let mut problem = |line: Option<usize>, message: String| {
            problems.push(Problem {
                file: toml_path.clone(),
                line,
                message,
            });
        };
        let raw: RawLesson = match toml::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map(|s| line_of(&text, s.start));
                problem(line, e.message().trim().to_string());
                return None;
            }
        };

        if raw.id != slug {
            problem(
                Some(find_line(&text, "id")),
                format!(
                    "id `{}` does not match the folder name `{dir}` (expected `{slug}`)",
                    raw.id
                ),
            );
        }
        let factor = match &raw.factor {
            None => None,
            Some(f) => match u8::try_from(*f.get_ref()) {
                Ok(n @ 1..=12) => Some(n),
                _ => {
                    problem(
                        Some(line_of(&text, f.span().start)),
                        format!(
                            "factor = {}: `factor` is the factor (1 to 12) the lesson teaches; \
                             leave it out for a lesson beyond the twelve, and set \
                             `label = \"XIII\"` (or \"Bonus\") for how the map numbers it",
                            f.get_ref()
                        ),
                    );
                    None
                }
            },
        };
        let label = match &raw.label {
            Some(l) if l.get_ref().trim().is_empty() || l.get_ref().chars().count() > 8 => {
                problem(
                    Some(line_of(&text, l.span().start)),
                    format!(
                        "label = \"{}\": a label is a short word of 1 to 8 characters, \
                         e.g. \"XIII\" or \"Bonus\"",
                        l.get_ref()
                    ),
                );
                roman(u32::from(number))
            }
            Some(l) => l.get_ref().trim().to_string(),
            None => roman(u32::from(number)),
        };
        if let Some(link) = &raw.link {
            let host = link.strip_prefix("https://").unwrap_or("");
            if host.is_empty() || host.starts_with('/') || link.chars().any(char::is_whitespace) {
                problem(
                    Some(find_line(&text, "link")),
                    format!("link `{link}` is not an https:// address"),
                );
            }
        }
        let deploy = match raw
            .deploy
            .as_ref()
            .map(|d| (d.get_ref().as_str(), d.span()))
        {
            None | Some(("folder", _)) => Deploy::Folder,
            Some(("commit", _)) => Deploy::Commit,
            Some((other, span)) => {
                problem(
                    Some(line_of(&text, span.start)),
                    format!(
                        "deploy = \"{other}\": a check deploys the lesson \"folder\" (the \
                         default) or its last \"commit\""
                    ),
                );
                Deploy::Folder
            }
        };
        if raw.hints.is_empty() {
            problem(
                Some(find_line(&text, "hints")),
                "no hints: give at least one".into(),
            );
        }
        if raw.checks.is_empty() {
            problem(
                None,
                "no checks: a lesson needs at least one `[[checks]]`".into(),
            );
        }
        let run_line = find_line(&text, "[run]");
        match (&raw.run.proc, &raw.run.command) {
            (Some(_), Some(_)) => problem(
                Some(run_line),
                "[run] has both `proc` and `command`: keep one".into(),
            ),
            (None, None) => problem(
                Some(run_line),
                "[run] needs `proc` (a Procfile type) or `command`".into(),
            ),
            _ => {}
        }
        let run_scope = Scope {
            stores: raw.run.stores.iter().cloned().collect(),
            ..Scope::default()
        };
        for v in raw.run.env.values().chain(raw.run.command.iter()) {
            if let Err(m) = run_scope.check_placeholders(v, true) {
                problem(Some(run_line), format!("[run]: {m}"));
            }
        }

        let mut checks = Vec::new();
        let mut ids = BTreeSet::new();
        for spanned in raw.checks {
            let line = line_of(&text, spanned.span().start);
            let rc = spanned.into_inner();
            if !ids.insert(rc.id.clone()) {
                problem(Some(line), format!("duplicate check id `{}`", rc.id));
            }
            let timeout = match rc.timeout.as_deref().map(step::parse_duration) {
                None => Duration::from_secs(30),
                Some(Ok(d)) => d,
                Some(Err(m)) => {
                    problem(Some(line), m);
                    Duration::from_secs(30)
                }
            };
            if rc.steps.is_empty() {
                problem(Some(line), format!("check `{}` has no steps", rc.id));
            }
            let mut scope = Scope::default();
            // After a step that cannot be read, later references may dangle only because of
            // it: report the first problem, not its echoes.
            let mut unreadable = false;
            let mut steps = Vec::new();
            // Expand `include` steps into the scenario's steps, which then count as written
            // at the include's line (and name the scenario file in problems).
            let mut tables: Vec<(usize, toml::Table, String)> = Vec::new();
            for st in rc.steps {
                let sline = line_of(&text, st.span().start);
                let table = st.into_inner();
                if table.get("kind").and_then(|k| k.as_str()) != Some("include") {
                    tables.push((sline, table, String::new()));
                    continue;
                }
                let name = table.get("scenario").and_then(|k| k.as_str()).unwrap_or("");
                if let Some(extra) = table.keys().find(|k| *k != "kind" && *k != "scenario") {
                    problem(
                        Some(sline),
                        format!("an `include` step takes only `scenario`, not `{extra}`"),
                    );
                }
                match self.scenarios.get(name) {
                    Some(sc) => {
                        for (l, t) in &sc.steps {
                            tables.push((sline, t.clone(), format!(" ({}:{l})", sc.path)));
                        }
                    }
                    None => problem(
                        Some(sline),
                        format!(
                            "check `{}` includes scenario `{name}`, but there is no \
                             lessons/_scenarios/{name}.toml (scenarios: {})",
                            rc.id,
                            Scope::describe(self.scenarios.keys())
                        ),
                    ),
                }
            }
            for (i, (sline, mut table, origin)) in tables.into_iter().enumerate() {
                let fail = match table.remove("fail") {
                    None => None,
                    Some(toml::Value::String(s)) => Some(s),
                    Some(_) => {
                        problem(Some(sline), format!("`fail` must be a string{origin}"));
                        None
                    }
                };
                let kind = table
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or("?")
                    .to_string();
                let step = match Step::deserialize(toml::Value::Table(table)) {
                    Ok(s) => s,
                    Err(e) => {
                        problem(
                            Some(sline),
                            format!(
                                "check `{}`, step {} ({kind}){origin}: {}",
                                rc.id,
                                i + 1,
                                e.message().trim()
                            ),
                        );
                        unreadable = true;
                        continue;
                    }
                };
                let errs = scope.admit(&step, fail.as_deref());
                for m in errs.into_iter().filter(|_| !unreadable) {
                    problem(
                        Some(sline),
                        format!(
                            "check `{}`, step {} ({}){origin}: {m}",
                            rc.id,
                            i + 1,
                            step.kind()
                        ),
                    );
                }
                steps.push(StepSpec {
                    line: sline,
                    fail,
                    step,
                });
            }
            checks.push(Check {
                id: rc.id,
                title: rc.title,
                why: rc.why,
                timeout,
                steps,
                line,
            });
        }
        let starter_fails: Vec<StarterFail> = raw
            .verify
            .starter_fails
            .into_iter()
            .map(|sf| {
                let line = line_of(&text, sf.span().start);
                StarterFail {
                    line,
                    ..sf.into_inner()
                }
            })
            .collect();
        for sf in &starter_fails {
            if !checks.iter().any(|c| c.id == sf.check) {
                problem(
                    Some(sf.line),
                    format!(
                        "verify.starter_fails names an unknown check `{}` (checks: {})",
                        sf.check,
                        Scope::describe(checks.iter().map(|c| &c.id))
                    ),
                );
            }
        }
        let mut rules = Vec::new();
        for r in raw.rules {
            let line = line_of(&text, r.span().start);
            let r = r.into_inner();
            for c in &r.checks {
                if !checks.iter().any(|k| &k.id == c) {
                    problem(
                        Some(line),
                        format!(
                            "rule \"{}\" names an unknown check `{c}` (checks: {})",
                            r.rule,
                            Scope::describe(checks.iter().map(|c| &c.id))
                        ),
                    );
                }
            }
            rules.push(Rule {
                text: r.rule,
                checks: r.checks,
                line,
            });
        }

        let text_md = match self.lessons.get(&format!("{dir}/lesson.md")) {
            Some(b) if !b.iter().all(u8::is_ascii_whitespace) => {
                utf8(&md_path, b, problems).unwrap_or_default().to_string()
            }
            Some(_) => {
                problems.push(Problem {
                    file: md_path.clone(),
                    line: None,
                    message: "the lesson text is empty".into(),
                });
                String::new()
            }
            None => {
                problems.push(Problem {
                    file: md_path.clone(),
                    line: None,
                    message: "missing file".into(),
                });
                String::new()
            }
        };
        let starter = subtree(self.apps, &format!("{dir}/starter"));
        let solution = subtree(self.apps, &format!("{dir}/solution"));
        for (name, files) in [("starter", &starter), ("solution", &solution)] {
            if files.is_empty() {
                problems.push(Problem {
                    file: format!("{}sandbox-apps/{dir}/{name}", self.prefix),
                    line: None,
                    message: "missing or empty folder".into(),
                });
            }
        }

        let check_files = subtree(self.lessons, &format!("{dir}/checks"));
        // Check scripts named in steps must exist now, not when a learner runs the check.
        for c in &checks {
            for st in &c.steps {
                for text in st.step.strings() {
                    for cap in CHECK_SCRIPT.captures_iter(text) {
                        let script = &cap[1];
                        let folder = format!("{}/", script.trim_end_matches('/'));
                        if !check_files.contains_key(script)
                            && !check_files.keys().any(|k| k.starts_with(&folder))
                        {
                            problems.push(Problem {
                                file: toml_path.clone(),
                                line: Some(st.line),
                                message: format!(
                                    "check `{}` runs {{checks}}/{script}, but there is no \
                                     lessons/{dir}/checks/{script} (scripts: {})",
                                    c.id,
                                    Scope::describe(check_files.keys())
                                ),
                            });
                        }
                    }
                }
            }
        }
        // Procfile types the checks start must be in the solution's Procfile (a starter may
        // lack one: adding it can be the lesson).
        let declared: BTreeSet<String> = solution
            .get("Procfile")
            .map(|b| parse_procfile(&String::from_utf8_lossy(b)))
            .unwrap_or_default()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        let mut named: Vec<(usize, String, String)> = Vec::new();
        for t in raw.run.proc.iter().chain(&raw.run.also) {
            named.push((run_line, t.clone(), "[run]".into()));
        }
        for c in &checks {
            for st in &c.steps {
                let proc = match &st.step {
                    Step::Start(s) => s.proc.as_ref(),
                    Step::Run(r) => r.proc.as_ref(),
                    _ => None,
                };
                if let Some(t) = proc.filter(|t| PLACEHOLDER.find(t).is_none()) {
                    named.push((st.line, t.clone(), format!("check `{}`", c.id)));
                }
            }
        }
        for (line, t, who) in named {
            if !declared.contains(&t) {
                problems.push(Problem {
                    file: toml_path.clone(),
                    line: Some(line),
                    message: format!(
                        "{who} starts the Procfile type `{t}`, but \
                         sandbox-apps/{dir}/solution/Procfile {} (types: {})",
                        if solution.contains_key("Procfile") {
                            format!("has no `{t}:` line")
                        } else {
                            "does not exist".to_string()
                        },
                        Scope::describe(&declared)
                    ),
                });
            }
        }
        // A service that imports the shared client needs it in the pack.
        let shared = subtree(self.apps, "_shared");
        for (name, files) in [("starter", &starter), ("solution", &solution)] {
            for (rel, bytes) in files
                .iter()
                .filter(|(r, _)| crate::check::files::is_python(r))
            {
                let text = String::from_utf8_lossy(bytes);
                if let Some((n, _)) = text
                    .lines()
                    .enumerate()
                    .find(|(_, l)| IMPORTS_KV.is_match(l))
                {
                    if !shared.contains_key("kv.py") && !files.contains_key("kv.py") {
                        problems.push(Problem {
                            file: format!("{}sandbox-apps/{dir}/{name}/{rel}", self.prefix),
                            line: Some(n + 1),
                            message: "imports kv, but the pack has no sandbox-apps/_shared/kv.py \
                                      (copy it from the built-in lessons)"
                                .into(),
                        });
                    }
                }
            }
        }
        let verify_setup = raw.verify.setup.filter(|s| !s.trim().is_empty());
        let variants = self.variants(
            &checks,
            &starter,
            &solution,
            verify_setup.as_deref(),
            problems,
        );
        Some(Lesson {
            number,
            id: slug,
            dir_name: dir.to_string(),
            factor,
            label,
            factor_name: raw.factor_name,
            title: raw.title,
            summary: raw.summary,
            hints: raw.hints,
            link: raw
                .link
                .unwrap_or_else(|| manifesto_page(factor.unwrap_or(0)).to_string()),
            text: text_md,
            run: RunSpec {
                proc: raw.run.proc,
                command: raw.run.command,
                stores: raw.run.stores,
                env: raw.run.env,
                install: raw.run.install,
                instances: raw.run.instances,
                also: raw.run.also,
            },
            checks,
            starter_fails,
            starter,
            solution,
            check_files,
            toml_path,
            rules,
            variants,
            deploy,
            verify_setup,
        })
    }

    /// Read `lessons/NN-slug/variants/*.toml` and build each variant's files.
    fn variants(
        &self,
        checks: &[Check],
        starter: &Files,
        solution: &Files,
        setup: Option<&str>,
        problems: &mut Vec<Problem>,
    ) -> Vec<Variant> {
        let dir = self.dir;
        let mut out = Vec::new();
        for (rel, bytes) in subtree(self.lessons, &format!("{dir}/variants")) {
            let Some(name) = rel.strip_suffix(".toml").filter(|n| !n.contains('/')) else {
                continue;
            };
            let path = format!("{}lessons/{dir}/variants/{rel}", self.prefix);
            let Some(text) = utf8(&path, &bytes, problems) else {
                continue;
            };
            let mut problem = |line: Option<usize>, message: String| {
                problems.push(Problem {
                    file: path.clone(),
                    line,
                    message,
                });
            };
            let raw: RawVariant = match toml::from_str(text) {
                Ok(r) => r,
                Err(e) => {
                    problem(
                        e.span().map(|s| line_of(text, s.start)),
                        e.message().trim().to_string(),
                    );
                    continue;
                }
            };
            let known = || Scope::describe(checks.iter().map(|c| &c.id));
            match (raw.verdict, &raw.check) {
                (Verdict::Fail, None) => problem(
                    Some(find_line(text, "verdict")),
                    format!(
                        "a wrong fix names the check that must fail: `check = \"...\"` (checks: {})",
                        known()
                    ),
                ),
                (_, Some(c)) if !checks.iter().any(|k| &k.id == c) => problem(
                    Some(find_line(text, "check")),
                    format!("unknown check `{c}` (checks: {})", known()),
                ),
                (Verdict::Pass, Some(_)) => problem(
                    Some(find_line(text, "check")),
                    "a right fix passes every check: `check` is only for `verdict = \"fail\"`"
                        .into(),
                ),
                _ => {}
            }
            let mut files = match raw.base.as_deref() {
                None | Some("solution") => solution.clone(),
                Some("starter") => starter.clone(),
                Some(other) => {
                    problem(
                        Some(find_line(text, "base")),
                        format!(
                            "unknown base `{other}`: use \"solution\" (the default) or \"starter\""
                        ),
                    );
                    continue;
                }
            };
            for r in &raw.remove {
                let prefix = format!("{}/", r.trim_end_matches('/'));
                let before = files.len();
                files.retain(|p, _| p != r && !p.starts_with(&prefix));
                if files.len() == before {
                    problem(
                        Some(find_line(text, "remove")),
                        format!("remove: the base has no `{r}`"),
                    );
                }
            }
            for (p, content) in raw.files {
                files.insert(p, content.into_bytes());
            }
            for e in raw.edit {
                let line = line_of(text, e.span().start);
                let e = e.into_inner();
                let Some(current) = files.get(&e.file) else {
                    problem(
                        Some(line),
                        format!("edit: the variant has no file `{}`", e.file),
                    );
                    continue;
                };
                let current = String::from_utf8_lossy(current).into_owned();
                let n = current.matches(&e.find).count();
                if n == 0 || (n > 1 && !e.all) {
                    problem(
                        Some(line),
                        format!(
                            "edit of `{}`: `find` occurs {n} times{}",
                            e.file,
                            if n == 0 {
                                " (it must match the base file exactly, spaces included)"
                            } else {
                                "; make it longer so it is unique, or set `all = true`"
                            }
                        ),
                    );
                    continue;
                }
                files.insert(e.file, current.replace(&e.find, &e.replace).into_bytes());
            }
            out.push(Variant {
                name: name.to_string(),
                verdict: raw.verdict,
                why: raw.why,
                check: raw.check,
                message: raw.message.into_vec(),
                files,
                path,
                setup: match raw.setup {
                    Some(s) if s.trim().is_empty() => None,
                    Some(s) => Some(s),
                    None => setup.map(str::to_string),
                },
            });
        }
        out
    }
}

/// Parse a Procfile: `type: command` lines; blank lines and `#` comments are skipped.
pub fn parse_procfile(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                return None;
            }
            let (t, c) = l.split_once(':')?;
            let t = t.trim();
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return None;
            }
            Some((t.to_string(), c.trim().to_string()))
        })
        .collect()
}

/// The first line starting with `needle` (for problems found after parsing).
fn find_line(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map_or(1, |i| i + 1)
}

/// What a check has defined so far, to validate references in later steps.
#[derive(Default)]
struct Scope {
    processes: BTreeMap<String, usize>,
    stores: BTreeSet<String>,
    /// Stores a `kv` action has stopped or paused, at this point of the check.
    broken: BTreeMap<String, step::KvAction>,
    routers: BTreeSet<String>,
    saved: BTreeSet<String>,
    background: BTreeSet<String>,
    snapshots: BTreeSet<String>,
}

impl Scope {
    /// Whether `target` names a process (`web`, `web.2`).
    fn has_process(&self, target: &str) -> bool {
        let (name, inst) = step::split_target(target);
        match (self.processes.get(name), inst) {
            (Some(_), None) => true,
            (Some(n), Some(i)) => i >= 1 && i <= *n,
            (None, _) => false,
        }
    }

    /// A `kv` action on a store: it must exist, and be in a state the action applies to.
    fn admit_kv_action(&mut self, name: &str, action: step::KvAction) -> Result<(), String> {
        use step::KvAction as A;
        if !self.stores.contains(name) {
            return Err(format!(
                "`action = \"{}\"` on store `{name}`, which was not started earlier in the \
                 check (stores: {}); start it with a `kv` step without `action` first",
                action.word(),
                Scope::describe(&self.stores)
            ));
        }
        let now = self.broken.get(name).copied();
        let wrong = |state: &str, hint: &str| {
            Err(format!(
                "`action = \"{}\"` on store `{name}`, which is {state} at this step{hint}",
                action.word()
            ))
        };
        match (action, now) {
            (A::Start, None) => wrong("running", ": use \"restart\" to stop and start it"),
            (A::Start, Some(A::Pause)) => wrong("paused", ": use \"resume\""),
            (A::Stop, Some(A::Stop)) => wrong("stopped already", ""),
            (A::Pause, Some(A::Pause)) => wrong("paused already", ""),
            (A::Pause, Some(_)) => wrong("stopped", ": start it first"),
            (A::Resume, None) => wrong("not paused", ""),
            (A::Resume, Some(A::Stop)) => wrong("stopped", ": use \"start\""),
            _ => {
                match action {
                    A::Stop | A::Pause => {
                        self.broken.insert(name.to_string(), action);
                    }
                    _ => {
                        self.broken.remove(name);
                    }
                }
                Ok(())
            }
        }
    }

    fn describe(set: impl IntoIterator<Item = impl AsRef<str>>) -> String {
        let v: Vec<String> = set
            .into_iter()
            .map(|s| format!("`{}`", s.as_ref()))
            .collect();
        if v.is_empty() {
            "none yet".into()
        } else {
            v.join(", ")
        }
    }

    fn check_target(&self, target: &str, routers_too: bool) -> Result<(), String> {
        if self.has_process(target) || (routers_too && self.routers.contains(target)) {
            return Ok(());
        }
        Err(format!(
            "target `{target}` refers to nothing started earlier in this check \
             (processes: {}{})",
            Scope::describe(self.processes.keys()),
            if routers_too {
                format!("; routers: {}", Scope::describe(&self.routers))
            } else {
                String::new()
            }
        ))
    }

    fn check_placeholders(&self, s: &str, in_start: bool) -> Result<(), String> {
        const ROOTS: &str = "{port}, {port.P}, {url.P}, {pid.P}, {dyno}, {kv.S}, {router}, \
            {router.R}, {saved.N}, {random.N}, {unused.N}, {free.N}, {sandbox}, {app}, {checks}, \
            {learner}";
        let s = &protect_braces(s);
        for cap in PLACEHOLDER.captures_iter(s) {
            let full = &cap[1];
            let (root, rest) = full.split_once('.').unwrap_or((full, ""));
            let ok = match (root, rest) {
                ("port" | "dyno", "") => in_start,
                ("port" | "url" | "pid", p) => self.has_process(p),
                ("kv", n) => self.stores.contains(n),
                ("router", "") => !self.routers.is_empty() && self.routers.contains("router"),
                ("router", n) => self.routers.contains(n),
                ("sandbox" | "app" | "checks" | "learner", "") => true,
                ("saved", n) => self.saved.contains(n),
                ("random" | "unused" | "free", n) => !n.is_empty(),
                _ => false,
            };
            let known_root = matches!(
                root,
                "port"
                    | "dyno"
                    | "url"
                    | "pid"
                    | "kv"
                    | "router"
                    | "sandbox"
                    | "app"
                    | "checks"
                    | "learner"
                    | "saved"
                    | "random"
                    | "unused"
                    | "free"
            );
            if !known_root {
                return Err(format!(
                    "unknown placeholder `{{{full}}}` (placeholders: {ROOTS}; write `{{{{` and \
                     `}}}}` for literal braces)"
                ));
            }
            if !ok {
                let known = match root {
                    "kv" => format!(" (stores: {})", Scope::describe(&self.stores)),
                    "saved" => format!(" (saved: {})", Scope::describe(&self.saved)),
                    "port" | "url" | "pid" => {
                        format!(" (processes: {})", Scope::describe(self.processes.keys()))
                    }
                    "router" => format!(" (routers: {})", Scope::describe(&self.routers)),
                    _ => String::new(),
                };
                return Err(format!(
                    "placeholder `{{{full}}}` refers to nothing defined before it{known}"
                ));
            }
        }
        Ok(())
    }

    /// Validate a step against what came before, then record what it defines.
    fn admit(&mut self, step: &Step, fail: Option<&str>) -> Vec<String> {
        let mut errs = Vec::new();
        let in_start = matches!(step, Step::Start(_));
        // A `run` step's `fail` text may quote what its command printed: `{output}`.
        let fail = fail.map(|f| match step {
            Step::Run(_) => f.replace("{output}", ""),
            _ => f.to_string(),
        });
        for s in step.strings().into_iter().chain(fail.as_deref()) {
            if let Err(e) = self.check_placeholders(s, in_start) {
                errs.push(e);
            }
        }
        let mut push = |r: Result<(), String>| {
            if let Err(e) = r {
                errs.push(e);
            }
        };
        match step {
            Step::Kv { name, action: None } => {
                if !self.stores.insert(name.clone()) {
                    push(Err(format!(
                        "store `{name}` was already started: to start it again after a stop, \
                         write `action = \"start\"`"
                    )));
                }
            }
            Step::Kv {
                name,
                action: Some(action),
            } => push(self.admit_kv_action(name, *action)),
            Step::Start(s) => {
                if s.proc.is_some() == s.command.is_some() {
                    push(Err(
                        "needs exactly one of `proc` (a Procfile type) or `command`".into(),
                    ));
                }
                if s.instances == 0 {
                    push(Err("`instances` must be at least 1".into()));
                }
                if let step::Ready::Stdout { stdout } = &s.ready {
                    push(Regex::new(stdout).map(|_| ()).map_err(|e| e.to_string()));
                }
                let n = self.processes.entry(s.process_name()).or_insert(0);
                *n = (*n).max(s.instances);
            }
            Step::Router { name, over } => {
                if !self.processes.contains_key(over) {
                    push(Err(format!(
                        "`over = \"{over}\"` names no process started earlier (processes: {})",
                        Scope::describe(self.processes.keys())
                    )));
                }
                self.routers.insert(name.clone());
            }
            Step::Http(h) => {
                if PLACEHOLDER.find(&h.target).is_none() {
                    push(self.check_target(&h.target, true));
                }
                if h.body.is_some() && h.json.is_some() {
                    push(Err("has both `body` and `json`: keep one".into()));
                }
                if h.concurrent == Some(0) {
                    push(Err("`concurrent` must be at least 1".into()));
                }
                if h.retry_within.is_some() && (h.background.is_some() || h.concurrent.is_some()) {
                    push(Err(
                        "`retry_within` retries one request: drop `background`/`concurrent`".into(),
                    ));
                }
                if h.concurrent.is_some() && h.background.is_some() {
                    push(Err(
                        "has both `concurrent` and `background`: keep one".into()
                    ));
                }
                if let Some(e) = &h.expect {
                    if e.unserved && (e.refused || e.status.is_some()) {
                        push(Err(
                            "`unserved` already says which answers pass: drop `refused` and `status`"
                                .into(),
                        ));
                    }
                }
                for (name, from) in &h.save {
                    let ok = from == "body"
                        || from == "status"
                        || from.starts_with("json.")
                        || from.starts_with("header.");
                    if !ok {
                        push(Err(format!(
                            "save `{name}` = `{from}`: use \"json.PATH\", \"header.NAME\", \
                             \"body\" or \"status\""
                        )));
                    }
                    self.saved.insert(name.clone());
                }
                if let Some(b) = &h.background {
                    if !self.background.insert(b.clone()) {
                        push(Err(format!("background request `{b}` is defined twice")));
                    }
                }
            }
            Step::Await { request } => {
                if !self.background.contains(request) {
                    push(Err(format!(
                        "awaits `{request}`, but no earlier http step has `background = \"{request}\"`"
                    )));
                }
            }
            Step::Run(r) => {
                if r.proc.is_some() == r.command.is_some() {
                    push(Err(
                        "needs exactly one of `proc` (a Procfile type) or `command`".into(),
                    ));
                }
            }
            Step::Signal { target, signal, .. } => {
                push(self.check_target(target, false));
                if crate::sandbox::process::parse_signal(signal).is_none() {
                    push(Err(format!(
                        "unknown signal `{signal}` (TERM, INT, HUP, QUIT, USR1, USR2, KILL, STOP, CONT)"
                    )));
                }
            }
            Step::Kill { target }
            | Step::Stop { target, .. }
            | Step::Restart { target, .. }
            | Step::ExpectExit { target, .. }
            | Step::ExpectRunning { target }
            | Step::Listening { target } => {
                push(self.check_target(target, false));
            }
            Step::ExpectOutput(e) => {
                push(self.check_target(&e.target, false));
                if e.contains.is_none() && e.matches.is_none() && e.not_contains.is_none() {
                    push(Err("needs `contains`, `matches` or `not_contains`".into()));
                }
                if let Some(m) = &e.matches {
                    let probe = PLACEHOLDER.replace_all(m, "x");
                    push(Regex::new(&probe).map(|_| ()).map_err(|e| e.to_string()));
                }
            }
            Step::ExpectKv(e) => {
                if !self.stores.contains(&e.store) {
                    push(Err(format!(
                        "store `{}` was not started earlier (stores: {})",
                        e.store,
                        Scope::describe(&self.stores)
                    )));
                } else if let Some(a) = self.broken.get(&e.store) {
                    let state = if *a == step::KvAction::Pause {
                        "paused: resume it"
                    } else {
                        "stopped: start it"
                    };
                    push(Err(format!(
                        "store `{}` is {state} before `expect_kv` reads it",
                        e.store
                    )));
                }
            }
            Step::Files(f) => {
                let set = [&f.snapshot, &f.unchanged, &f.no_new_files, &f.no_growth]
                    .iter()
                    .filter(|o| o.is_some())
                    .count();
                if set != 1 {
                    push(Err(
                        "needs exactly one of `snapshot`, `unchanged`, `no_new_files`, `no_growth`"
                            .into(),
                    ));
                }
                if let Some(s) = &f.snapshot {
                    self.snapshots.insert(s.clone());
                }
                for name in [&f.unchanged, &f.no_new_files, &f.no_growth]
                    .into_iter()
                    .flatten()
                {
                    if !self.snapshots.contains(name) {
                        push(Err(format!(
                            "compares with snapshot `{name}`, taken nowhere before"
                        )));
                    }
                }
            }
            Step::Source(s) => {
                for p in s.must_contain.iter().chain(&s.must_not_contain) {
                    let probe = PLACEHOLDER.replace_all(p, "x");
                    push(Regex::new(&probe).map(|_| ()).map_err(|e| e.to_string()));
                }
            }
            Step::NoTrace(n) => {
                if n.text.trim().is_empty() {
                    push(Err("`text` must not be empty".into()));
                }
            }
            Step::Include { scenario } => push(Err(format!(
                "scenario `{scenario}` includes another scenario: scenarios cannot nest"
            ))),
            Step::ReadOnly { .. } | Step::Install { .. } => {}
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Files {
        pairs
            .iter()
            .map(|(p, c)| ((*p).to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    const GOOD: &str = r#"
id = "config"
factor = 3
factor_name = "Config"
title = "T"
summary = "S"
hints = ["a", "b", "c"]

[run]
proc = "web"
stores = ["main"]
env = { REDIS_URL = "{kv.main}" }

[[verify.starter_fails]]
check = "c1"
message = "oops"

[[checks]]
id = "c1"
title = "t"
why = "w"

[[checks.steps]]
kind = "kv"
name = "a"

[[checks.steps]]
kind = "start"
proc = "web"
env = { PORT = "{port}", REDIS_URL = "{kv.a}" }

[[checks.steps]]
kind = "http"
target = "web"
method = "POST"
path = "/links"
json = { url = "https://x/{random.u}" }
save = { code = "json.code" }
fail = "store {kv.a} saw nothing"

[[checks.steps]]
kind = "http"
target = "web"
path = "/links/{saved.code}"
expect = { status = 200, json = { clicks = 0 } }
"#;

    fn pack_with(toml: &str) -> Result<Pack, PackError> {
        let lessons = files(&[
            ("03-config/lesson.toml", toml),
            ("03-config/lesson.md", "# Config\n"),
        ]);
        let apps = files(&[
            ("03-config/starter/app.py", "print()"),
            ("03-config/solution/app.py", "print()"),
            ("03-config/solution/Procfile", "web: python3 app.py\n"),
            ("_shared/kv.py", "# kv"),
        ]);
        Pack::from_files(PackSource::Embedded, &lessons, &apps)
    }

    #[test]
    fn a_good_lesson_loads() {
        let pack = pack_with(GOOD).unwrap();
        let l = &pack.lessons[0];
        assert_eq!(l.number, 3);
        assert_eq!(l.id, "config");
        assert_eq!(l.checks[0].steps.len(), 4);
        assert_eq!(l.checks[0].steps[2].line, 32);
        assert_eq!(
            l.checks[0].steps[2].fail.as_deref(),
            Some("store {kv.a} saw nothing")
        );
        assert!(pack.shared.contains_key("kv.py"));
        assert!(pack.find("3").is_some() && pack.find("config").is_some());
        assert!(pack.find("03-config").is_some() && pack.find("7").is_none());
    }

    fn problems(toml: &str) -> Vec<String> {
        pack_with(toml)
            .unwrap_err()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_lesson_links_its_factor_or_its_own_https_page() {
        let pack = pack_with(GOOD).unwrap();
        assert_eq!(
            pack.lessons[0].link,
            manifesto_page(pack.lessons[0].factor.unwrap_or(0))
        );
        let own = GOOD.replace(
            "summary = \"S\"",
            "summary = \"S\"\nlink = \"https://example.org/config\"",
        );
        assert_eq!(
            pack_with(&own).unwrap().lessons[0].link,
            "https://example.org/config"
        );
        let bad = GOOD.replace(
            "summary = \"S\"",
            "summary = \"S\"\nlink = \"http://example.org\"",
        );
        let p = problems(&bad);
        assert!(
            p.iter().any(|p| p.contains("is not an https:// address")),
            "{p:?}"
        );
        let embedded = Pack::embedded().unwrap();
        assert_eq!(embedded.lessons[2].link, "https://12factor.net/config");
        assert_eq!(
            embedded.lessons[11].link,
            "https://12factor.net/admin-processes"
        );
    }

    #[test]
    fn unknown_step_kind_names_file_and_line() {
        let bad = GOOD.replace("kind = \"kv\"", "kind = \"teleport\"");
        let p = problems(&bad);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("lessons/03-config/lesson.toml:23: "),
            "{p:?}"
        );
        assert!(p[0].contains("unknown variant `teleport`"), "{p:?}");
    }

    /// GOOD with `steps` appended to its check.
    fn with_steps(steps: &str) -> String {
        format!("{GOOD}{steps}")
    }

    #[test]
    fn kv_actions_load_and_bad_ones_name_file_and_line() {
        let ok = with_steps(
            "\n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"pause\"\n\
             \n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"resume\"\n\
             \n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"stop\"\n\
             \n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"start\"\n\
             \n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"restart\"\n",
        );
        let pack = pack_with(&ok).unwrap();
        assert!(matches!(
            pack.lessons[0].checks[0].steps[8].step,
            Step::Kv {
                action: Some(step::KvAction::Restart),
                ..
            }
        ));

        let unknown =
            with_steps("\n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"explode\"\n");
        let p = problems(&unknown);
        assert!(
            p[0].starts_with("lessons/03-config/lesson.toml:47: ")
                && p[0].contains("unknown variant `explode`")
                && p[0].contains("`pause`"),
            "{p:?}"
        );

        let never =
            with_steps("\n[[checks.steps]]\nkind = \"kv\"\nname = \"b\"\naction = \"stop\"\n");
        let p = problems(&never);
        assert!(
            p[0].contains(":47:") && p[0].contains("store `b`, which was not started earlier"),
            "{p:?}"
        );

        let twice =
            with_steps("\n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"resume\"\n");
        let p = problems(&twice);
        assert!(
            p[0].contains(":47:") && p[0].contains("not paused"),
            "{p:?}"
        );

        let stopped_read = with_steps(
            "\n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\naction = \"stop\"\n\
             \n[[checks.steps]]\nkind = \"expect_kv\"\nstore = \"a\"\nmin_writes = 1\n",
        );
        let p = problems(&stopped_read);
        assert!(
            p[0].contains(":52:") && p[0].contains("stopped: start it"),
            "{p:?}"
        );

        let again = with_steps("\n[[checks.steps]]\nkind = \"kv\"\nname = \"a\"\n");
        let p = problems(&again);
        assert!(
            p[0].contains("already started") && p[0].contains("action = \"start\""),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_key_is_reported() {
        let bad = GOOD.replace("summary = \"S\"", "summary = \"S\"\ncolour = 3");
        let p = problems(&bad);
        assert!(
            p[0].contains("lesson.toml:7:") && p[0].contains("colour"),
            "{p:?}"
        );
        let bad = GOOD.replace("name = \"a\"", "name = \"a\"\nsize = 3");
        let p = problems(&bad);
        assert!(
            p[0].contains(":23:") && p[0].contains("unknown field `size`"),
            "{p:?}"
        );
    }

    #[test]
    fn dangling_placeholders_are_reported() {
        let bad = GOOD.replace("{saved.code}", "{saved.nope}");
        let p = problems(&bad);
        assert!(
            p[0].contains(":41:") && p[0].contains("{saved.nope}"),
            "{p:?}"
        );
        let bad = GOOD.replace("{kv.a} saw", "{kv.b} saw");
        let p = problems(&bad);
        assert!(p[0].contains("{kv.b}") && p[0].contains("`a`"), "{p:?}");
    }

    #[test]
    fn syntax_errors_have_lines() {
        let bad = GOOD.replace("title = \"T\"", "title = T");
        let p = problems(&bad);
        assert!(
            p[0].starts_with("lessons/03-config/lesson.toml:5:"),
            "{p:?}"
        );
    }

    #[test]
    fn duplicates_and_missing_files() {
        let bad = format!(
            "{GOOD}\n[[checks]]\nid = \"c1\"\ntitle = \"t\"\nwhy = \"w\"\n[[checks.steps]]\nkind = \"kv\"\n"
        );
        assert!(
            problems(&bad)
                .iter()
                .any(|p| p.contains("duplicate check id `c1`"))
        );
        let lessons = files(&[("03-config/lesson.toml", GOOD)]);
        let err = Pack::from_files(PackSource::Embedded, &lessons, &Files::new()).unwrap_err();
        let all = err.to_string();
        assert!(
            all.contains("lessons/03-config/lesson.md: missing file"),
            "{all}"
        );
        assert!(
            all.contains("sandbox-apps/03-config/starter: missing"),
            "{all}"
        );
    }

    #[test]
    fn procfile_lines() {
        let p = parse_procfile(
            "# comment\nweb: python3 app.py\n\nworker:python3 worker.py\nbad line\n",
        );
        assert_eq!(
            p,
            vec![
                ("web".to_string(), "python3 app.py".to_string()),
                ("worker".to_string(), "python3 worker.py".to_string())
            ]
        );
    }

    #[test]
    fn the_embedded_pack_is_valid() {
        if let Err(e) = Pack::embedded() {
            panic!("{e}");
        }
    }
}
