//! The static probes: what the app's files say about each factor, before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::app::App;
use super::report::{Evidence, Level};
use super::source::{Git, Lang, SourceFile, read_files};

fn re(s: &str) -> Regex {
    Regex::new(s).expect("valid regex")
}

macro_rules! regex {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re($re));
    };
}

fn ev(level: Level, text: impl Into<String>) -> Evidence {
    Evidence {
        level,
        text: text.into(),
    }
}

/// What the static probes found, and what the dynamic probes need to know.
#[derive(Debug, Default)]
pub struct Facts {
    pub evidence: BTreeMap<u8, Vec<Evidence>>,
    /// Environment variables the code reads whose name says "environment" (APP_ENV, NODE_ENV).
    pub env_name_vars: BTreeSet<String>,
    /// Paths in the code that look like admin endpoints, with where they are written; the
    /// ones whose words say they destroy data are not requested.
    pub admin_paths: Vec<(String, String, bool)>,
    /// A health-check path found in the code.
    pub health: Option<String>,
    /// Ports written into the code next to a listen call: (where, port).
    pub listen_literals: Vec<(String, u16)>,
    /// Files read (for the report).
    pub files: usize,
}

impl Facts {
    fn add(&mut self, factor: u8, e: Evidence) {
        self.evidence.entry(factor).or_default().push(e);
    }
}

/// Run every static probe on the app's folder.
pub fn scan(app: &App) -> Facts {
    let git = Git::read(&app.dir);
    let files = read_files(&app.dir, &git);
    let mut facts = Facts {
        files: files.len(),
        ..Facts::default()
    };
    codebase(app, &git, &files, &mut facts);
    dependencies(app, &files, &mut facts);
    config(app, &git, &files, &mut facts);
    backing_services(app, &files, &mut facts);
    processes(&files, &mut facts);
    port_binding(&files, &mut facts);
    concurrency(app, &files, &mut facts);
    parity(app, &files, &mut facts);
    logs(&files, &mut facts);
    admin(app, &files, &mut facts);
    facts.health = health_path(&files);
    facts
}

// ---------------------------------------------------------------------------------------
// I. Codebase

const ENV_DIRS: [&str; 10] = [
    "staging",
    "stage",
    "production",
    "prod",
    "development",
    "dev",
    "qa",
    "uat",
    "preprod",
    "preproduction",
];

fn codebase(app: &App, git: &Git, files: &[SourceFile], facts: &mut Facts) {
    if !git.available {
        facts.add(
            1,
            ev(
                Level::Unknown,
                "git is not installed: whether a repository holds the app is not known",
            ),
        );
    } else if let Some(top) = &git.top {
        let head = git
            .head
            .as_ref()
            .map_or("no commit yet".to_string(), |h| format!("HEAD {h}"));
        facts.add(
            1,
            ev(
                Level::Pass,
                format!(
                    "a git repository holds the app (`git -C {} rev-parse`: {top}, {head})",
                    app.shown
                ),
            ),
        );
        if git.dirty > 0 {
            facts.add(
                1,
                ev(
                    Level::Note,
                    format!(
                        "{} uncommitted change(s): what was audited is not exactly what the \
                         repository holds",
                        git.dirty
                    ),
                ),
            );
        }
    } else {
        facts.add(
            1,
            ev(
                Level::Fail,
                format!(
                    "no git repository holds `{}` (`git -C {} rev-parse` failed): the codebase \
                     is not tracked in revision control, so no deploy can say which code it runs",
                    app.shown, app.shown
                ),
            ),
        );
    }
    // Per-environment copies: folders named for an environment that hold code.
    let mut env_dirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.lang.is_code() && f.rel != "Procfile")
    {
        let parts: Vec<&str> = f.rel.split('/').collect();
        for (i, p) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
            if ENV_DIRS.contains(&p.to_ascii_lowercase().as_str()) {
                let dir = parts[..=i].join("/");
                env_dirs
                    .entry(dir)
                    .or_default()
                    .insert(parts[i + 1..].join("/"));
                break;
            }
        }
    }
    let mut copies = false;
    let dirs: Vec<(&String, &BTreeSet<String>)> = env_dirs.iter().collect();
    for (a, (da, fa)) in dirs.iter().enumerate() {
        for (db, fb) in dirs.iter().skip(a + 1) {
            let parent = |d: &str| {
                d.rsplit_once('/')
                    .map_or(String::new(), |(p, _)| p.to_string())
            };
            if parent(da) != parent(db) {
                continue;
            }
            let shared: Vec<&String> = fa.intersection(fb).collect();
            if !shared.is_empty() {
                copies = true;
                let names: Vec<&str> = shared.iter().take(4).map(|s| s.as_str()).collect();
                facts.add(
                    1,
                    ev(
                        Level::Fail,
                        format!(
                            "{da}/ and {db}/ hold copies of the same code ({}): one codebase \
                             deploys to every environment; per-environment copies drift apart",
                            names.join(", ")
                        ),
                    ),
                );
            }
        }
    }
    if !copies {
        for (d, fs) in &env_dirs {
            let names: Vec<&str> = fs.iter().take(3).map(String::as_str).collect();
            facts.add(
                1,
                ev(
                    Level::Warn,
                    format!(
                        "{d}/ holds code ({}): code kept for one environment is code the others \
                         never run",
                        names.join(", ")
                    ),
                ),
            );
        }
    }
    if env_dirs.is_empty() {
        facts.add(
            1,
            ev(
                Level::Pass,
                "no per-environment copies of the code (folders named staging, production, dev …)",
            ),
        );
    }
    regex!(ENV_IN_PATH, r"[/\w]\$\{?([A-Z_]*ENV[A-Z_]*)\}?");
    for (t, cmd) in &app.procfile {
        if let Some(c) = ENV_IN_PATH.captures(cmd) {
            facts.add(
                1,
                ev(
                    Level::Warn,
                    format!("the Procfile's `{t}` picks its code by ${}: `{cmd}`", &c[1]),
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// II. Dependencies

const NODE_BUILTINS: [&str; 44] = [
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
    "test",
    "sqlite",
];

/// Python's standard library module names, from the interpreter the checks use.
fn python_stdlib() -> Option<BTreeSet<String>> {
    static NAMES: LazyLock<Option<BTreeSet<String>>> = LazyLock::new(|| {
        let py = crate::sandbox::Python::get().ok()?;
        let out = std::process::Command::new(&py.path)
            .args([
                "-c",
                "import sys; print('\\n'.join(sorted(getattr(sys, 'stdlib_module_names', ()))))",
            ])
            .output()
            .ok()?;
        let names: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (!names.is_empty()).then_some(names)
    });
    NAMES.clone()
}

fn normalize_dist(name: &str) -> String {
    name.to_ascii_lowercase().replace(['-', '.'], "_")
}

/// Modules of the app itself: `name.py` files and folders.
fn local_modules(files: &[SourceFile]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let parts: Vec<&str> = f.rel.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            out.insert((*p).to_string());
        }
        let last = parts[parts.len() - 1];
        for ext in [".py", ".js", ".mjs", ".cjs", ".ts"] {
            if let Some(stem) = last.strip_suffix(ext) {
                out.insert(stem.to_string());
            }
        }
    }
    out
}

fn dependencies(app: &App, files: &[SourceFile], facts: &mut Facts) {
    let has = |name: &str| app.dir.join(name).is_file();
    let code = |lang: Lang| files.iter().filter(move |f| f.lang == lang && !f.is_test());
    let mut any_language = false;
    let locals = local_modules(files);

    // Python
    if code(Lang::Python).next().is_some() || has("requirements.txt") || has("pyproject.toml") {
        any_language = true;
        python_dependencies(app, files, &locals, facts);
    }

    // Node
    if code(Lang::Js).next().is_some() || has("package.json") {
        any_language = true;
        node_dependencies(app, files, &locals, facts);
    }

    // Go
    if code(Lang::Go).next().is_some() || has("go.mod") {
        any_language = true;
        if has("go.mod") {
            let text = std::fs::read_to_string(app.dir.join("go.mod")).unwrap_or_default();
            let requires = text.lines().any(|l| l.trim_start().starts_with("require"));
            if requires && !has("go.sum") {
                facts.add(
                    2,
                    ev(
                        Level::Fail,
                        "go.mod requires modules but there is no go.sum to pin their contents",
                    ),
                );
            } else if requires {
                facts.add(
                    2,
                    ev(
                        Level::Pass,
                        "go.mod and go.sum declare and pin the dependencies",
                    ),
                );
            } else {
                facts.add(
                    2,
                    ev(
                        Level::Pass,
                        "go.mod requires nothing beyond the standard library",
                    ),
                );
            }
        } else {
            facts.add(
                2,
                ev(
                    Level::Fail,
                    "Go code without a go.mod: nothing declares the module's dependencies",
                ),
            );
        }
    }

    // Rust
    if code(Lang::Rust).next().is_some() || has("Cargo.toml") {
        any_language = true;
        if has("Cargo.lock") {
            facts.add(
                2,
                ev(
                    Level::Pass,
                    "Cargo.toml declares the dependencies and Cargo.lock pins them",
                ),
            );
        } else if has("Cargo.toml") {
            facts.add(
                2,
                ev(
                    Level::Fail,
                    "Cargo.toml without a Cargo.lock: each build may resolve other versions",
                ),
            );
        } else {
            facts.add(2, ev(Level::Fail, "Rust code without a Cargo.toml"));
        }
    }

    // Ruby
    if code(Lang::Ruby).next().is_some() || has("Gemfile") {
        any_language = true;
        match (has("Gemfile"), has("Gemfile.lock")) {
            (true, true) => facts.add(
                2,
                ev(
                    Level::Pass,
                    "Gemfile declares the gems and Gemfile.lock pins them",
                ),
            ),
            (true, false) => facts.add(
                2,
                ev(
                    Level::Fail,
                    "a Gemfile without Gemfile.lock: each install may pick other versions",
                ),
            ),
            _ => facts.add(
                2,
                ev(
                    Level::Warn,
                    "Ruby code without a Gemfile: nothing declares its gems",
                ),
            ),
        }
    }

    // Java and friends
    if has("pom.xml") {
        any_language = true;
        let text = std::fs::read_to_string(app.dir.join("pom.xml")).unwrap_or_default();
        regex!(
            RANGE,
            r"<version>\s*(?:[\[(][^<]*|LATEST|RELEASE)\s*</version>"
        );
        if let Some(m) = RANGE.find(&text) {
            facts.add(
                2,
                ev(
                    Level::Fail,
                    format!("pom.xml asks for a version range: {}", m.as_str()),
                ),
            );
        } else {
            facts.add(2, ev(Level::Pass, "pom.xml names exact versions"));
        }
    }
    if has("build.gradle") || has("build.gradle.kts") {
        any_language = true;
        let locked = std::fs::read_dir(&app.dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".lockfile"))
            || app.dir.join("gradle/dependency-locks").is_dir();
        if locked {
            facts.add(
                2,
                ev(Level::Pass, "Gradle dependency locking pins the versions"),
            );
        } else {
            facts.add(2, ev(Level::Warn, "Gradle without dependency locking (gradle.lockfile): dynamic versions may drift"));
        }
    }
    if has("composer.json") {
        any_language = true;
        if has("composer.lock") {
            facts.add(
                2,
                ev(
                    Level::Pass,
                    "composer.json declares and composer.lock pins the packages",
                ),
            );
        } else {
            facts.add(2, ev(Level::Fail, "composer.json without composer.lock"));
        }
    }
    if !any_language {
        facts.add(
            2,
            ev(
                Level::Unknown,
                "no code in a language the audit knows (Python, Node, Go, Rust, Ruby, Java, PHP)",
            ),
        );
    }
    system_tools(files, facts);
}

fn python_dependencies(
    app: &App,
    files: &[SourceFile],
    locals: &BTreeSet<String>,
    facts: &mut Facts,
) {
    let has = |name: &str| app.dir.join(name).is_file();
    let locks = [
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "pylock.toml",
    ];
    let lock = locks.iter().find(|l| has(l));
    let mut declared: Option<BTreeSet<String>> = None;
    if let Some(l) = lock {
        facts.add(
            2,
            ev(Level::Pass, format!("{l} pins the Python dependencies")),
        );
    } else if has("requirements.txt") {
        let text = std::fs::read_to_string(app.dir.join("requirements.txt")).unwrap_or_default();
        let mut names = BTreeSet::new();
        let mut loose = Vec::new();
        regex!(REQ, r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$");
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("--") {
                continue;
            }
            if line.starts_with("-r") || line.starts_with("-c") {
                continue;
            }
            if line.starts_with("-e") || line.contains("://") && !line.contains('@') {
                loose.push(format!(
                    "requirements.txt:{} `{line}` (not a pinned release)",
                    i + 1
                ));
                continue;
            }
            let Some(c) = REQ.captures(line) else {
                continue;
            };
            names.insert(normalize_dist(&c[1]));
            let rest = c[3].trim();
            let pinned = rest.starts_with("==") && !rest.contains('*')
                || rest.starts_with("===")
                || rest.starts_with('@');
            if !pinned {
                loose.push(format!(
                    "requirements.txt:{} `{line}` has no exact version (==)",
                    i + 1
                ));
            }
        }
        if loose.is_empty() {
            facts.add(
                2,
                ev(
                    Level::Pass,
                    format!(
                        "requirements.txt pins every package it declares ({})",
                        names.len()
                    ),
                ),
            );
        } else {
            for l in loose {
                facts.add(
                    2,
                    ev(
                        Level::Fail,
                        format!("{l}: each install may pick another version"),
                    ),
                );
            }
        }
        declared = Some(names);
    } else if has("pyproject.toml") || has("setup.py") || has("Pipfile") {
        facts.add(2, ev(Level::Warn, "Python dependencies are declared (pyproject.toml, setup.py or Pipfile) but no lock file pins them"));
        declared = Some(BTreeSet::new());
    }
    // Imports that nothing declares.
    let Some(stdlib) = python_stdlib() else {
        return;
    };
    regex!(
        IMPORT,
        r"^\s*(?:import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)|from\s+([A-Za-z_][\w.]*)\s+import\b)"
    );
    let mut third: BTreeMap<String, String> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.lang == Lang::Python && !f.is_test())
    {
        for (i, line) in f.code.iter().enumerate() {
            let Some(c) = IMPORT.captures(line) else {
                continue;
            };
            let names: Vec<String> = match (c.get(1), c.get(2)) {
                (Some(m), _) => m
                    .as_str()
                    .split(',')
                    .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
                    .collect(),
                (None, Some(m)) => vec![m.as_str().to_string()],
                _ => continue,
            };
            for n in names {
                let top = n.split('.').next().unwrap_or("").to_string();
                if top.is_empty()
                    || top == "__future__"
                    || stdlib.contains(&top)
                    || locals.contains(&top)
                {
                    continue;
                }
                third.entry(top).or_insert_with(|| f.at(i));
            }
        }
    }
    match declared {
        None if third.is_empty() => facts.add(
            2,
            ev(
                Level::Pass,
                "the Python code imports only the standard library and its own modules",
            ),
        ),
        None => {
            for (name, at) in &third {
                facts.add(2, ev(Level::Fail, format!("{at} imports `{name}`, which no manifest declares (no requirements.txt, no lock file)")));
            }
        }
        Some(names) if !names.is_empty() => {
            for (name, at) in &third {
                if !names.contains(&normalize_dist(name)) {
                    facts.add(2, ev(Level::Warn, format!("{at} imports `{name}`, which requirements.txt does not name (unless a declared package provides it under another name)")));
                }
            }
        }
        Some(_) => {}
    }
}

fn node_dependencies(
    app: &App,
    files: &[SourceFile],
    locals: &BTreeSet<String>,
    facts: &mut Facts,
) {
    let has = |name: &str| app.dir.join(name).is_file();
    let locks = [
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "bun.lock",
    ];
    if has("package.json") {
        let text = std::fs::read_to_string(app.dir.join("package.json")).unwrap_or_default();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let deps: Vec<(String, String)> = ["dependencies", "optionalDependencies"]
            .iter()
            .filter_map(|k| doc.get(*k).and_then(serde_json::Value::as_object))
            .flat_map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            })
            .collect();
        if let Some(l) = locks.iter().find(|l| has(l)) {
            facts.add(
                2,
                ev(
                    Level::Pass,
                    format!("package.json declares the packages and {l} pins them"),
                ),
            );
        } else if deps.is_empty() {
            facts.add(
                2,
                ev(
                    Level::Pass,
                    "package.json declares no dependencies (Node's standard library only)",
                ),
            );
        } else {
            regex!(EXACT, r"^\d+\.\d+\.\d+(-[\w.]+)?$");
            let loose: Vec<String> = deps
                .iter()
                .filter(|(_, v)| !EXACT.is_match(v))
                .map(|(k, v)| format!("`{k}` is \"{v}\""))
                .collect();
            if loose.is_empty() {
                facts.add(
                    2,
                    ev(
                        Level::Pass,
                        "package.json names an exact version of every package",
                    ),
                );
            } else {
                facts.add(2, ev(Level::Fail, format!("package.json: {} and no lock file (package-lock.json, yarn.lock, pnpm-lock.yaml) pins them", loose.join(", "))));
            }
        }
        return;
    }
    regex!(
        REQUIRE,
        r#"(?:require\(\s*|\bfrom\s+|^\s*import\s+)["']([^"'./][^"']*)["']"#
    );
    let mut third: BTreeMap<String, String> = BTreeMap::new();
    for f in files.iter().filter(|f| f.lang == Lang::Js && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            for c in REQUIRE.captures_iter(line) {
                let spec = &c[1];
                if spec.starts_with("node:") {
                    continue;
                }
                let name = if spec.starts_with('@') {
                    spec.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
                } else {
                    spec.split('/').next().unwrap_or(spec).to_string()
                };
                if NODE_BUILTINS.contains(&name.as_str()) || locals.contains(&name) {
                    continue;
                }
                third.entry(name).or_insert_with(|| f.at(i));
            }
        }
    }
    if third.is_empty() {
        facts.add(
            2,
            ev(
                Level::Pass,
                "the JavaScript code requires only Node's standard library and its own files",
            ),
        );
    } else {
        for (name, at) in third {
            facts.add(
                2,
                ev(
                    Level::Fail,
                    format!("{at} requires `{name}`, and there is no package.json to declare it"),
                ),
            );
        }
    }
}

fn system_tools(files: &[SourceFile], facts: &mut Facts) {
    regex!(
        PY_TOOL,
        r#"(?:subprocess\.(?:run|call|check_call|check_output|Popen)|os\.(?:system|popen))\(\s*\[?\s*["']([A-Za-z][\w.+-]*)"#
    );
    regex!(
        JS_TOOL,
        r#"\b(?:exec|execSync|execFile|execFileSync|spawn|spawnSync)\(\s*["'`]([A-Za-z][\w.+-]*)"#
    );
    regex!(
        RB_TOOL,
        r#"(?:\bsystem\(\s*|%x\(|`)["']?([A-Za-z][\w.+-]*)"#
    );
    let mut seen = BTreeSet::new();
    for f in files
        .iter()
        .filter(|f| f.lang.is_code() && !f.is_test() && f.rel != "Procfile")
    {
        let pat: &Regex = match f.lang {
            Lang::Python => &PY_TOOL,
            Lang::Js => &JS_TOOL,
            Lang::Ruby => &RB_TOOL,
            _ => continue,
        };
        for (i, line) in f.code.iter().enumerate() {
            if let Some(c) = pat.captures(line) {
                let tool = c[1].to_string();
                if ["python", "python3", "node", "ruby", "sh", "bash"].contains(&tool.as_str()) {
                    continue;
                }
                if seen.insert(tool.clone()) {
                    facts.add(
                        2,
                        ev(
                            Level::Warn,
                            format!(
                                "{} runs `{tool}`, a system tool no manifest declares: a \
                                 machine without it breaks the app",
                                f.at(i)
                            ),
                        ),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// III. Config

regex!(
    SECRET_NAME_LITERAL,
    r#"(?i)\b([\w.]*(?:secret|password|passwd|token|api_?key|private_?key|access_?key|auth_?key|credentials?)[\w]*)["']?\s*(?::=|=>|:|=)\s*["']([^"'\s]{6,})["']"#
);

const KEY_PATTERNS: [(&str, &str); 7] = [
    (r"\bAKIA[0-9A-Z]{16}\b", "an AWS access key (AKIA…)"),
    (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        "a private key (-----BEGIN … PRIVATE KEY-----)",
    ),
    (r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", "a GitHub token (ghp_…)"),
    (
        r"\bgithub_pat_[A-Za-z0-9_]{30,}\b",
        "a GitHub token (github_pat_…)",
    ),
    (r"\bxox[baprs]-[0-9A-Za-z-]{10,}\b", "a Slack token (xox…)"),
    (
        r"\b[sr]k_live_[0-9A-Za-z]{16,}\b",
        "a Stripe live key (sk_live_…)",
    ),
    (r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key (AIza…)"),
];

fn mask(v: &str) -> String {
    let shown: String = v.chars().take(4).collect();
    format!("\"{shown}…\"")
}

/// A value that is a placeholder, a name or a reference rather than a credential.
fn placeholder(name: &str, value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    let n = name.to_ascii_uppercase();
    [
        "changeme",
        "example",
        "your",
        "xxx",
        "<",
        "${",
        "{{",
        "%s",
        "***",
        "placeholder",
        "dummy",
        "redacted",
    ]
    .iter()
    .any(|p| v.contains(p))
        || value.contains("://")
        || value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        || [
            "_NAME", "_HEADER", "_FIELD", "_PARAM", "_ENV", "_VAR", "_PATH", "_FILE", "_URL",
            "_URI", "_KEYS", "_TYPE", "_LENGTH", "_PREFIX", "_LABEL", "_COOKIE",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

fn config(app: &App, git: &Git, files: &[SourceFile], facts: &mut Facts) {
    let mut found = 0;
    let keys: Vec<(Regex, &str)> = KEY_PATTERNS.iter().map(|(p, w)| (re(p), *w)).collect();
    for f in files {
        for (i, line) in f.text.lines().enumerate() {
            for (pat, what) in &keys {
                if pat.is_match(line) {
                    found += 1;
                    facts.add(3, ev(Level::Fail, format!("{} holds {what}: credentials belong in the environment, never in the repository", f.at(i))));
                }
            }
        }
    }
    for f in files
        .iter()
        .filter(|f| f.lang != Lang::Other && !f.is_test())
    {
        let env_file = f
            .rel
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".env"));
        if env_file {
            continue;
        }
        for (i, line) in f.code.iter().enumerate() {
            if let Some(c) = SECRET_NAME_LITERAL.captures(line) {
                let (name, value) = (&c[1], &c[2]);
                if placeholder(name, value)
                    || line.contains("environ") && line.contains(name) && !line.contains(':')
                {
                    continue;
                }
                if is_default(line) {
                    continue;
                }
                found += 1;
                facts.add(
                    3,
                    ev(
                        Level::Fail,
                        format!(
                            "{} sets {name} to a literal ({}): anyone who can read the code \
                             (or its history) holds it; take it from the environment",
                            f.at(i),
                            mask(value)
                        ),
                    ),
                );
            }
        }
    }
    // Defaults for secrets: `os.environ.get("SECRET_KEY", "dev")`, `process.env.TOKEN || "x"`.
    regex!(
        SECRET_DEFAULT,
        r#"(?i)(?:environ\.get|getenv|ENV\.fetch)\(\s*["']([\w]*(?:SECRET|PASSWORD|TOKEN|API_?KEY|PRIVATE_?KEY)[\w]*)["']\s*,\s*["']([^"']+)["']|process\.env\.([\w]*(?:SECRET|PASSWORD|TOKEN|API_?KEY|PRIVATE_?KEY)[\w]*)\s*(?:\|\||\?\?)\s*["']([^"']+)["']"#
    );
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(c) = SECRET_DEFAULT.captures(line) {
                let name = c.get(1).or_else(|| c.get(3)).map_or("", |m| m.as_str());
                facts.add(3, ev(Level::Warn, format!("{} gives {name} a default in the code: a deploy that forgets it runs with a secret everyone can read", f.at(i))));
            }
        }
    }
    // .env files in the repository.
    for f in std::fs::read_dir(&app.dir).into_iter().flatten().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if !name.starts_with(".env")
            || [
                ".env.example",
                ".env.sample",
                ".env.template",
                ".env.dist",
                ".env.defaults",
            ]
            .contains(&name.as_str())
            || !f.path().is_file()
        {
            continue;
        }
        if git.tracked.contains(&name) {
            facts.add(3, ev(Level::Fail, format!("{name} is committed: the settings (and secrets) of a deploy are in the repository")));
        } else if git.top.is_some() && !Git::ignores(&app.dir, &name) {
            facts.add(3, ev(Level::Warn, format!("{name} is not ignored by git (add it to .gitignore): the next `git add .` commits it")));
        } else {
            facts.add(3, ev(Level::Note, format!("{name} is kept out of git")));
        }
    }
    // Values given to the audit that are also written in the code.
    regex!(SECRETISH, r"(?i)(SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL)");
    for (k, v) in &app.env {
        if v.len() < 8 || v.contains('{') || !SECRETISH.is_match(k) {
            continue;
        }
        if let Some((f, i)) = files.iter().find_map(|f| {
            f.text
                .lines()
                .position(|l| l.contains(v.as_str()))
                .map(|i| (f, i))
        }) {
            found += 1;
            facts.add(3, ev(Level::Fail, format!("the value given for {k} is written in {}: it is config, and it is also in the code", f.at(i))));
        }
    }
    // Settings grouped into named environments.
    regex!(
        NAMED_GROUP,
        r#"(?i)["']?\b(development|production|staging)\b["']?\s*(?::|=>|=)\s*(?:\{|dict\(|\[)"#
    );
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(c) = NAMED_GROUP.captures(line) {
                facts.add(3, ev(Level::Warn, format!("{} groups settings under a named environment (\"{}\"): each deploy's config belongs in its own environment variables, not in code", f.at(i), &c[1])));
                break;
            }
        }
    }
    if found == 0 {
        facts.add(
            3,
            ev(Level::Pass, format!("no credentials in the code: key patterns (AKIA…, private keys, tokens) and secret-named literals searched in {} files", files.len())),
        );
    }
}

/// A line that gives a default rather than setting the value (`x = env.get("A", "b")`).
fn is_default(line: &str) -> bool {
    regex!(
        DEFAULT,
        r"(environ\.get|getenv|ENV\.fetch|process\.env\.[\w]+\s*(\|\||\?\?))"
    );
    DEFAULT.is_match(line)
}

// ---------------------------------------------------------------------------------------
// IV. Backing services

/// Well-known ports of backing services.
pub fn service_of_port(port: u16) -> Option<&'static str> {
    Some(match port {
        6379 | 6380 => "redis",
        5432 => "postgres",
        3306 => "mysql",
        27017 => "mongodb",
        11211 => "memcached",
        5672 => "amqp",
        9200 => "elasticsearch",
        9092 => "kafka",
        4222 => "nats",
        _ => return None,
    })
}

fn service_of_var(app: &App, name: &str) -> Option<&'static str> {
    let value = app.env.get(name).map_or("", String::as_str);
    let scheme = value.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let n = name.to_ascii_uppercase();
    if app.kv.iter().any(|k| k == name) || n.contains("REDIS") {
        return Some("redis");
    }
    Some(match scheme.as_deref() {
        Some("redis" | "rediss") => "redis",
        Some("postgres" | "postgresql") => "postgres",
        Some("mysql" | "mysql2") => "mysql",
        Some("mongodb" | "mongodb+srv") => "mongodb",
        Some("amqp" | "amqps") => "amqp",
        Some("memcached") => "memcached",
        Some("sqlite" | "sqlite3") => "sqlite",
        _ => return None,
    })
}

/// Variables that attach a backing service: the stores, and URLs that are not plain web
/// addresses.
pub fn attached_vars(app: &App) -> Vec<String> {
    let mut out: Vec<String> = app.kv.clone();
    for (k, v) in &app.env {
        if out.contains(k) {
            continue;
        }
        if let Some((scheme, _)) = v.split_once("://") {
            let s = scheme.to_ascii_lowercase();
            if !s.is_empty()
                && s != "http"
                && s != "https"
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            {
                out.push(k.clone());
            }
        }
    }
    out
}

fn backing_services(app: &App, files: &[SourceFile], facts: &mut Facts) {
    regex!(
        HOST_PORT,
        r#"["'][^"']*?\b(?:localhost|127\.0\.0\.1|host\.docker\.internal|\[::1\]):(\d{2,5})\b[^"']*["']"#
    );
    regex!(
        LOCAL_URL,
        r#"["']([a-z][a-z0-9+.-]*)://[^"'/]*\b(?:localhost|127\.0\.0\.1)\b[^"']*["']"#
    );
    regex!(
        TOP_HOST,
        r#"^(?:(?:const|let|var|export\s+const)\s+)?([A-Za-z_]\w*(?:HOST|ADDR|ADDRESS|SERVER)\w*)\s*(?::=|=)\s*["'](?:localhost|127\.0\.0\.1|[\w-]+\.internal|[\w-]+\.local)["']"#
    );
    regex!(
        TOP_PORT,
        r"^(?:(?:const|let|var|export\s+const)\s+)?([A-Za-z_]\w*PORT\w*)\s*(?::=|=)\s*(\d{2,5})\b"
    );
    let mut literal_kinds: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut top_kinds: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut warned = 0;
    for f in files
        .iter()
        .filter(|f| f.lang.is_code() && !f.is_test() && f.rel != "Procfile")
    {
        let mut top_host: Option<(usize, String)> = None;
        let mut top_port: Option<(usize, String, u16)> = None;
        for (i, line) in f.code.iter().enumerate() {
            let top_level = !line.starts_with([' ', '\t']);
            if let Some(c) = HOST_PORT.captures(line) {
                if let Some(kind) = c[1].parse().ok().and_then(service_of_port) {
                    let at = f.at(i);
                    if top_level {
                        top_kinds.entry(kind).or_default().push(at.clone());
                    }
                    literal_kinds.entry(kind).or_default().push(at.clone());
                    warned += 1;
                    facts.add(4, ev(Level::Warn, format!("{at} names a {kind} by its address ({}): the deploy should attach it by URL from the environment", c[0].trim_matches(['"', '\'']))));
                    continue;
                }
            }
            if let Some(c) = LOCAL_URL.captures(line) {
                let scheme = c[1].to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    warned += 1;
                    facts.add(
                        4,
                        ev(
                            Level::Warn,
                            format!(
                                "{} writes a {scheme} URL on this machine into the code: {}",
                                f.at(i),
                                c[0].trim_matches(['"', '\''])
                            ),
                        ),
                    );
                }
            }
            if top_level {
                if let Some(c) = TOP_HOST.captures(line) {
                    top_host = Some((i, c[1].to_string()));
                }
                if let Some(c) = TOP_PORT.captures(line) {
                    if let Some(p) = c[2]
                        .parse::<u16>()
                        .ok()
                        .filter(|p| service_of_port(*p).is_some())
                    {
                        top_port = Some((i, c[1].to_string(), p));
                    }
                }
            }
        }
        if let (Some((hi, host)), Some((pi, port_name, port))) = (top_host, top_port) {
            let kind = service_of_port(port).unwrap_or("service");
            let at = format!("{}:{}-{}", f.rel, hi.min(pi) + 1, hi.max(pi) + 1);
            warned += 1;
            facts.add(4, ev(Level::Warn, format!("{at} fixes a {kind}'s address in constants ({host}, {port_name} = {port}): another store means another build")));
            top_kinds.entry(kind).or_default().push(at.clone());
            literal_kinds.entry(kind).or_default().push(at);
        }
    }
    let attached = attached_vars(app);
    let reads = |name: &str| {
        let word = re(&format!(r"\b{}\b", regex::escape(name)));
        files
            .iter()
            .any(|f| f.lang != Lang::Other && f.code.iter().any(|l| word.is_match(l)))
    };
    let mut unread = Vec::new();
    for var in &attached {
        if reads(var) {
            continue;
        }
        unread.push(var.clone());
        let kind = service_of_var(app, var);
        match kind.and_then(|k| top_kinds.get(k).map(|at| (k, at))) {
            Some((k, at)) => facts.add(
                4,
                ev(
                    Level::Fail,
                    format!(
                        "{var} attaches a {k}, but no file reads it, while {} names a {k} by an \
                         address written in the code: the app talks to the store in its code, \
                         not to the one the deploy attached",
                        at.join(", ")
                    ),
                ),
            ),
            None => facts.add(
                4,
                ev(
                    Level::Note,
                    format!("{var} is given, but no file of the app names it (a library may read it; or the app does not use what is attached)"),
                ),
            ),
        }
    }
    let _ = literal_kinds;
    if warned == 0 {
        let read: Vec<&String> = attached.iter().filter(|v| !unread.contains(v)).collect();
        if read.is_empty() {
            facts.add(4, ev(Level::Pass, "no backing-service addresses (localhost:6379, 127.0.0.1:5432 …) written in the code"));
        } else {
            facts.add(4, ev(Level::Pass, format!("backing services attached by URL from the environment ({}); no addresses written in the code", read.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))));
        }
    }
}

// ---------------------------------------------------------------------------------------
// VI. Processes

fn processes(files: &[SourceFile], facts: &mut Facts) {
    regex!(
        PY_GLOBAL,
        r"^([a-z_][a-z0-9_]*)\s*(?::\s*[\w\[\], .]+)?=\s*(?:\{\s*\}|\[\s*\]|dict\(\)|list\(\)|set\(\)|(?:collections\.)?(?:defaultdict|OrderedDict|Counter|deque)\()"
    );
    regex!(
        JS_GLOBAL,
        r"^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:\{\s*\}|\[\s*\]|new (?:Map|Set)\(\s*\))\s*;?\s*$"
    );
    for f in files
        .iter()
        .filter(|f| matches!(f.lang, Lang::Python | Lang::Js) && !f.is_test())
    {
        let pat: &Regex = if f.lang == Lang::Python {
            &PY_GLOBAL
        } else {
            &JS_GLOBAL
        };
        for (i, line) in f.code.iter().enumerate() {
            let Some(c) = pat.captures(line) else {
                continue;
            };
            let name = regex::escape(&c[1]);
            let changed = re(&format!(
                r"^\s+.*\b{name}(?:\[[^\]]*\]\s*(?:[+\-*]?=[^=])|\.(?:append|add|update|setdefault|pop|push|set|insert|extend|unshift|splice|delete|clear)\()|^\s+del\s+{name}\["
            ));
            if let Some(j) = f.code.iter().position(|l| changed.is_match(l)) {
                facts.add(
                    6,
                    ev(
                        Level::Warn,
                        format!(
                            "{} keeps `{}` in process memory and {} changes it: what one \
                             process holds, the others never see, and a restart loses it",
                            f.at(i),
                            &c[1],
                            f.at(j)
                        ),
                    ),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// VII. Port binding

fn port_binding(files: &[SourceFile], facts: &mut Facts) {
    regex!(
        PY_LISTEN,
        r#"(?:make_server|HTTPServer|TCPServer|bind|run|serve)\s*\(\s*\(?\s*["'][\w.:]*["']\s*,\s*(\d{2,5})\b"#
    );
    regex!(JS_LISTEN, r"\.listen\(\s*(\d{2,5})\b");
    regex!(
        GO_LISTEN,
        r#"(?:ListenAndServe|Listen)\(\s*(?:"tcp"\s*,\s*)?":(\d{2,5})""#
    );
    regex!(
        PORT_DEFAULT,
        r#"(?:environ\.get\(\s*["']PORT["']\s*,\s*["']?(\d+)|getenv\(\s*["']PORT["']\s*,\s*["']?(\d+)|process\.env\.PORT\s*(?:\|\||\?\?)\s*["']?(\d+)|ENV\.fetch\(\s*["']PORT["']\s*,\s*["']?(\d+))"#
    );
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            let c = match f.lang {
                Lang::Python => PY_LISTEN.captures(line),
                Lang::Js => JS_LISTEN.captures(line),
                Lang::Go => GO_LISTEN.captures(line),
                _ => None,
            };
            if let Some(port) = c.and_then(|c| c[1].parse::<u16>().ok()) {
                facts.listen_literals.push((f.at(i), port));
                facts.add(
                    7,
                    ev(
                        Level::Note,
                        format!("{} listens on port {port}, written in the code", f.at(i)),
                    ),
                );
            }
            if let Some(c) = PORT_DEFAULT.captures(line) {
                let d = (1..=4).find_map(|k| c.get(k)).map_or("", |m| m.as_str());
                facts.add(
                    7,
                    ev(
                        Level::Note,
                        format!("{} gives PORT a default ({d})", f.at(i)),
                    ),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// VIII. Concurrency

fn concurrency(app: &App, files: &[SourceFile], facts: &mut Facts) {
    let types: Vec<String> = app.procfile.iter().map(|(t, _)| t.clone()).collect();
    facts.add(
        8,
        ev(
            Level::Note,
            format!("Procfile process types: {}", types.join(", ")),
        ),
    );
    if !app.has_type("web") {
        facts.add(
            8,
            ev(
                Level::Note,
                "the Procfile has no `web` type: nothing is probed over HTTP",
            ),
        );
    }
    // Files that other process types start are theirs: threads there are the worker's own.
    let others: Vec<&str> = app
        .procfile
        .iter()
        .filter(|(t, _)| t != "web")
        .map(|(_, c)| c.as_str())
        .collect();
    let web = app.command_of("web").unwrap_or("");
    regex!(
        PY_THREAD,
        r"threading\.Thread\(\s*target\s*=\s*([\w.]+)|Thread\(\s*target\s*=\s*([\w.]+)"
    );
    regex!(JS_THREAD, r"new\s+Worker\(|setInterval\(");
    for f in files
        .iter()
        .filter(|f| matches!(f.lang, Lang::Python | Lang::Js) && !f.is_test())
    {
        let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
        if others.iter().any(|c| c.contains(name)) && !web.contains(name) {
            continue;
        }
        for (i, line) in f.code.iter().enumerate() {
            let hit = match f.lang {
                Lang::Python => PY_THREAD.captures(line).and_then(|c| {
                    let target = c.get(1).or_else(|| c.get(2))?.as_str().to_string();
                    let quiet = ["shutdown", "close", "stop", "serve_forever", "join"]
                        .iter()
                        .any(|w| target.ends_with(w));
                    (!quiet).then_some(target)
                }),
                _ => JS_THREAD.find(line).map(|m| m.as_str().to_string()),
            };
            if let Some(target) = hit {
                facts.add(
                    8,
                    ev(
                        Level::Warn,
                        format!(
                            "{} runs work in the background inside the process ({target}): work \
                             that grows with load belongs in a process type of its own (e.g. \
                             `worker`), scaled apart from `web`",
                            f.at(i)
                        ),
                    ),
                );
                break;
            }
        }
    }
    regex!(
        DAEMON,
        r"(?:--daemon\b|\bdaemonize\b|\bnohup\b|&\s*$|\bos\.fork\(|\bsetsid\b|\.pid['\x22]|pidfile)"
    );
    for (t, cmd) in &app.procfile {
        if DAEMON.is_match(cmd) {
            facts.add(8, ev(Level::Warn, format!("the Procfile's `{t}` may put itself in the background (`{cmd}`): the process manager must supervise it in the foreground")));
        }
    }
    for f in files
        .iter()
        .filter(|f| f.lang.is_code() && !f.is_test() && f.rel != "Procfile")
    {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(m) = DAEMON.find(line) {
                if m.as_str().trim() == "&" {
                    continue;
                }
                facts.add(8, ev(Level::Warn, format!("{} daemonizes or writes a PID file (`{}`): a process stays in the foreground, where the platform supervises it", f.at(i), m.as_str().trim())));
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// X. Dev/prod parity

regex!(
    ENV_NAME_VAR,
    r"^(?:[A-Z]+_)?(?:ENV|ENVIRONMENT|STAGE)$|^APP_MODE$"
);

/// Environment variables the code reads, by name.
fn env_reads(files: &[SourceFile]) -> BTreeMap<String, String> {
    regex!(
        READS,
        r#"(?:environ(?:\.get)?\s*[\[(]\s*["'](\w+)["']|getenv\(\s*["'](\w+)["']|process\.env\.(\w+)|process\.env\[\s*["'](\w+)["']|os\.(?:Getenv|LookupEnv)\(\s*"(\w+)"|ENV(?:\.fetch)?\s*[\[(]\s*["'](\w+)["']|env::var(?:_os)?\(\s*"(\w+)"|System\.getenv\(\s*"(\w+)"|\$_ENV\[\s*["'](\w+)|require\(\s*["'](\w+)["']\s*\))"#
    );
    regex!(SHELL_VAR, r"\$\{?([A-Z_][A-Z0-9_]*)\}?");
    let mut out = BTreeMap::new();
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            let pat: &Regex = if f.rel == "Procfile" {
                &SHELL_VAR
            } else {
                &READS
            };
            for c in pat.captures_iter(line) {
                if let Some(m) = (1..c.len()).find_map(|k| c.get(k)) {
                    out.entry(m.as_str().to_string()).or_insert_with(|| f.at(i));
                }
            }
        }
    }
    out
}

fn parity(app: &App, files: &[SourceFile], facts: &mut Facts) {
    let reads = env_reads(files);
    for (name, at) in &reads {
        if ENV_NAME_VAR.is_match(name) {
            facts.env_name_vars.insert(name.clone());
            facts.add(
                10,
                ev(
                    Level::Note,
                    format!("{at} reads {name}, the name of an environment"),
                ),
            );
        }
    }
    for (t, cmd) in &app.procfile {
        for name in &facts.env_name_vars.clone() {
            if cmd.contains(&format!("${name}")) || cmd.contains(&format!("${{{name}}}")) {
                facts.add(
                    10,
                    ev(Level::Note, format!("the Procfile's `{t}` uses ${name}")),
                );
            }
        }
    }
    regex!(
        BRANCH,
        r#"(?i)(?:==|!=|===|!==)\s*["'](development|production|staging|dev|prod|local)["']|["'](development|production|staging|dev|prod|local)["']\s*(?:==|!=|===|!==)|\bcase\s+["'](development|production|staging|dev|prod)["']|\bwhen\s+["'](development|production|staging|dev|prod)["']"#
    );
    let mut branched = false;
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(c) = BRANCH.captures(line) {
                let which = (1..=4).find_map(|k| c.get(k)).map_or("", |m| m.as_str());
                branched = true;
                facts.add(10, ev(Level::Warn, format!("{} branches on the environment's name (\"{which}\"): `{}`: code that runs in one environment only is code the others never tried", f.at(i), line.trim())));
            }
        }
    }
    regex!(
        STAND_IN,
        r"\b(?:class|function|def|type|struct)\s+((?:In)?Memory|Fake|Dummy|Mock|Stub|Local|Dev)\w*(?:KV|Store|Cache|DB|Db|Database|Redis|Queue|Backend|Client|Storage|Repo\w*)\b"
    );
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(m) = STAND_IN.captures(line) {
                facts.add(10, ev(Level::Warn, format!("{} defines {}: a stand-in for a backing service behaves unlike the real one", f.at(i), m[0].split_whitespace().last().unwrap_or(&m[1]))));
            }
        }
    }
    if !branched && facts.env_name_vars.is_empty() {
        facts.add(10, ev(Level::Pass, "the code reads no environment name (APP_ENV, NODE_ENV …) and never branches on one"));
    }
}

// ---------------------------------------------------------------------------------------
// XI. Logs

fn logs(files: &[SourceFile], facts: &mut Facts) {
    regex!(
        LOG_FILE,
        r#"(?:FileHandler\(|RotatingFileHandler|TimedRotatingFileHandler|basicConfig\([^)]*filename\s*=|createWriteStream\(\s*["'`][^"'`]*\.log|open\(\s*["'][^"']*\.log["']|\bfilename\s*:\s*["'][^"']*\.log|Logger\.new\(\s*["'][^"']*\.log)"#
    );
    for f in files.iter().filter(|f| f.lang.is_code() && !f.is_test()) {
        for (i, line) in f.code.iter().enumerate() {
            if let Some(m) = LOG_FILE.find(line) {
                facts.add(11, ev(Level::Note, format!("{} writes a log file (`{}`): the platform, not the app, decides where output goes", f.at(i), m.as_str())));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// XII. Admin processes

fn admin(app: &App, files: &[SourceFile], facts: &mut Facts) {
    let one_offs: Vec<&str> = app
        .procfile
        .iter()
        .map(|(t, _)| t.as_str())
        .filter(|t| super::app::ONE_OFF_TYPES.contains(t))
        .collect();
    if !one_offs.is_empty() {
        facts.add(
            12,
            ev(
                Level::Note,
                format!(
                    "one-off process types in the Procfile: {}",
                    one_offs.join(", ")
                ),
            ),
        );
    }
    regex!(PATH, r#"["'`](/[A-Za-z0-9_\-/.]*)["'`]"#);
    regex!(
        ADMIN_WORD,
        r"(?i)(admin|migrat|seed|maintenance|cron|/manage\b|/tasks?/|/jobs/run)"
    );
    regex!(
        DESTRUCTIVE,
        r"(?i)(reset|delete|drop|flush|destroy|purge|truncate|wipe|clear)"
    );
    let mut seen = BTreeSet::new();
    for f in files
        .iter()
        .filter(|f| f.lang.is_code() && !f.is_test() && f.rel != "Procfile")
    {
        for (i, line) in f.code.iter().enumerate() {
            for c in PATH.captures_iter(line) {
                let p = c[1].to_string();
                let static_file = [".css", ".js", ".png", ".html", ".svg", ".ico", ".py", ".db"]
                    .iter()
                    .any(|e| p.ends_with(e));
                if static_file || !ADMIN_WORD.is_match(&p) || p.len() < 3 || !seen.insert(p.clone())
                {
                    continue;
                }
                let destructive = DESTRUCTIVE.is_match(&p);
                facts.admin_paths.push((p.clone(), f.at(i), destructive));
                facts.add(12, ev(Level::Warn, format!("{} serves what looks like an admin task over HTTP ({p}): admin tasks run as one-off processes, with the release's code and config{}", f.at(i), if destructive { " (not requested: its name says it destroys data)" } else { "" })));
            }
        }
    }
}

/// A health-check path written in the code.
fn health_path(files: &[SourceFile]) -> Option<String> {
    let wanted = [
        "/health",
        "/healthz",
        "/healthcheck",
        "/health-check",
        "/ping",
        "/status",
        "/up",
        "/ready",
        "/readyz",
        "/livez",
    ];
    let mut found: Vec<usize> = Vec::new();
    for f in files.iter().filter(|f| f.lang.is_code()) {
        for line in &f.code {
            for (k, w) in wanted.iter().enumerate() {
                if line.contains(&format!("\"{w}\""))
                    || line.contains(&format!("'{w}'"))
                    || line.contains(&format!("`{w}`"))
                {
                    found.push(k);
                }
            }
        }
    }
    found.into_iter().min().map(|k| wanted[k].to_string())
}

/// Whether a file name says it is a log.
pub fn log_like(name: &str) -> bool {
    let n = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let ext = std::path::Path::new(&n)
        .extension()
        .map(|e| e.to_string_lossy().into_owned());
    matches!(ext.as_deref(), Some("log" | "out" | "err")) || n.contains("log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_literals() {
        let hit = |l: &str| {
            SECRET_NAME_LITERAL
                .captures(l)
                .map(|c| (c[1].to_string(), c[2].to_string()))
        };
        assert_eq!(
            hit(r#"        "SECRET_KEY": "prod-7f3a9c2e5b8d1046","#),
            Some(("SECRET_KEY".into(), "prod-7f3a9c2e5b8d1046".into()))
        );
        assert!(hit(r#"SECRET_KEY = require("SECRET_KEY")"#).is_none());
        let (n, v) = hit(r#"TOKEN_HEADER = "X-Auth-Token""#).unwrap();
        assert!(placeholder(&n, &v));
    }

    #[test]
    fn service_ports() {
        assert_eq!(service_of_port(6379), Some("redis"));
        assert_eq!(service_of_port(8080), None);
        assert!(log_like("shortlink.log"));
        assert!(!log_like("db.sqlite"));
    }
}
