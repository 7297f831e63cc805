//! The step kinds of a check scenario, as written in `lesson.toml` (see docs/lesson-format.md).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// One step of a check, with where it was written.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// 1-based line in `lesson.toml` where the step's table starts.
    pub line: usize,
    /// The learner-facing sentence shown when the step fails (may hold placeholders).
    pub fail: Option<String>,
    pub step: Step,
}

/// What a step does.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Start a store (no `action`), or act on one started earlier.
    Kv {
        #[serde(default = "default_store")]
        name: String,
        #[serde(default)]
        action: Option<KvAction>,
    },
    Start(Start),
    Router {
        #[serde(default = "default_router")]
        name: String,
        over: String,
    },
    Http(Box<Http>),
    Await {
        request: String,
    },
    Run(Run),
    Signal {
        target: String,
        #[serde(default = "default_signal")]
        signal: String,
        #[serde(default)]
        expect_exit: Option<ExitExpect>,
    },
    Kill {
        target: String,
    },
    /// Wait for processes to end by themselves (after an earlier signal).
    ExpectExit {
        target: String,
        #[serde(default)]
        code: ExitCodeExpect,
        #[serde(default, deserialize_with = "opt_duration")]
        within: Option<Duration>,
    },
    Stop {
        target: String,
        #[serde(default, deserialize_with = "opt_duration")]
        grace: Option<Duration>,
        #[serde(default)]
        expect_exit: Option<ExitExpect>,
    },
    Restart {
        target: String,
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    ExpectOutput(ExpectOutput),
    ExpectKv(ExpectKv),
    Files(Files),
    ReadOnly {
        path: String,
    },
    Source(Source),
    Install {
        #[serde(default = "default_requirements")]
        requirements: String,
    },
    /// Every instance of a process is still running (none exited, none daemonized away).
    ExpectRunning {
        target: String,
    },
    /// Every instance listens on its own `PORT` and on nothing else.
    Listening {
        target: String,
    },
    /// No file under the sandbox or the machine's temporary folders, written since the check
    /// began, holds `text` (state kept on a shared disk).
    NoTrace(NoTrace),
    /// A pack scenario's steps, inserted here when the pack is loaded.
    Include {
        scenario: String,
    },
}

impl Step {
    /// The `kind` as written in the lesson file.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Kv { .. } => "kv",
            Step::Start(_) => "start",
            Step::Router { .. } => "router",
            Step::Http(_) => "http",
            Step::Await { .. } => "await",
            Step::Run(_) => "run",
            Step::Signal { .. } => "signal",
            Step::Kill { .. } => "kill",
            Step::ExpectExit { .. } => "expect_exit",
            Step::Stop { .. } => "stop",
            Step::Restart { .. } => "restart",
            Step::ExpectOutput(_) => "expect_output",
            Step::ExpectKv(_) => "expect_kv",
            Step::Files(_) => "files",
            Step::ReadOnly { .. } => "read_only",
            Step::Source(_) => "source",
            Step::Install { .. } => "install",
            Step::ExpectRunning { .. } => "expect_running",
            Step::Listening { .. } => "listening",
            Step::NoTrace(_) => "no_trace",
            Step::Include { .. } => "include",
        }
    }

    /// Every string of the step that may hold placeholders, for validation.
    pub fn strings(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            Step::Start(s) => {
                out.extend(s.command.as_deref());
                out.extend(s.env.values().map(String::as_str));
                if let Ready::Stdout { stdout } = &s.ready {
                    out.push(stdout);
                }
            }
            Step::Http(h) => {
                out.push(&h.target);
                out.push(&h.path);
                out.extend(h.body.as_deref());
                out.extend(h.headers.values().map(String::as_str));
                if let Some(json) = &h.json {
                    collect_toml_strings(json, &mut out);
                }
                if let Some(e) = &h.expect {
                    out.extend(e.body_contains.iter().map(String::as_str));
                    out.extend(e.body_not_contains.iter().map(String::as_str));
                    out.extend(e.headers.values().map(String::as_str));
                    for v in e.json.values() {
                        collect_toml_strings(v, &mut out);
                    }
                }
            }
            Step::Run(r) => {
                out.extend(r.command.as_deref());
                out.extend(r.env.values().map(String::as_str));
                out.extend(r.stdout_contains.iter().map(String::as_str));
                out.extend(r.stderr_contains.iter().map(String::as_str));
                out.extend(r.output_contains.iter().map(String::as_str));
                out.extend(r.output_not_contains.iter().map(String::as_str));
            }
            Step::Restart { env, .. } => out.extend(env.values().map(String::as_str)),
            Step::ExpectOutput(e) => {
                out.extend(e.contains.as_deref());
                out.extend(e.matches.as_deref());
                out.extend(e.not_contains.as_deref());
            }
            Step::Source(s) => {
                out.extend(s.must_contain.iter().map(String::as_str));
                out.extend(s.must_not_contain.iter().map(String::as_str));
            }
            Step::NoTrace(n) => {
                out.push(&n.text);
                out.extend(n.paths.iter().map(String::as_str));
            }
            Step::ExpectKv(e) => {
                out.extend(e.keys_present.iter().map(String::as_str));
                out.extend(e.keys_absent.iter().map(String::as_str));
                if let Some(l) = &e.list_len {
                    out.push(&l.key);
                }
            }
            _ => {}
        }
        out
    }
}

fn collect_toml_strings<'a>(v: &'a toml::Value, out: &mut Vec<&'a str>) {
    match v {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(a) => a.iter().for_each(|v| collect_toml_strings(v, out)),
        toml::Value::Table(t) => t.values().for_each(|v| collect_toml_strings(v, out)),
        _ => {}
    }
}

fn default_store() -> String {
    "main".into()
}
fn default_router() -> String {
    "router".into()
}
fn default_signal() -> String {
    "TERM".into()
}
fn default_requirements() -> String {
    "requirements.txt".into()
}
fn default_instances() -> usize {
    1
}
fn default_method() -> String {
    "GET".into()
}

/// What a `kv` step does to a store started earlier: break it on purpose, or mend it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvAction {
    /// Start again on the same port, after a `stop`.
    Start,
    /// Close the listener and drop every connection.
    Stop,
    /// Stop, then start again on the same port, empty.
    Restart,
    /// Accept connections but answer nothing (a hung store).
    Pause,
    /// Answer again after a `pause`.
    Resume,
}

impl KvAction {
    pub fn word(self) -> &'static str {
        match self {
            KvAction::Start => "start",
            KvAction::Stop => "stop",
            KvAction::Restart => "restart",
            KvAction::Pause => "pause",
            KvAction::Resume => "resume",
        }
    }
}

/// `start`: launch a process type (from the learner's Procfile) or a command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    pub name: Option<String>,
    pub proc: Option<String>,
    pub command: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "default_instances")]
    pub instances: usize,
    #[serde(default)]
    pub ready: Ready,
    #[serde(default, deserialize_with = "opt_duration")]
    pub within: Option<Duration>,
    #[serde(default)]
    pub isolated: bool,
}

impl Start {
    /// The process name: explicit, else the proc type, else "app".
    pub fn process_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.proc.clone())
            .unwrap_or_else(|| "app".into())
    }
}

/// How a started process is known to be ready.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Ready {
    #[default]
    Port,
    None,
    Stdout {
        stdout: String,
    },
}

impl<'de> Deserialize<'de> for Ready {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Table { stdout: String },
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(r#"`ready` must be "port", "none" or { stdout = "regex" }"#)
        })? {
            Raw::Word(w) if w == "port" => Ok(Ready::Port),
            Raw::Word(w) if w == "none" => Ok(Ready::None),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                r#"unknown readiness "{w}": use "port", "none" or {{ stdout = "regex" }}"#
            ))),
            Raw::Table { stdout } => Ok(Ready::Stdout { stdout }),
        }
    }
}

/// `http`: one request, judged now or at a later `await`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub target: String,
    #[serde(default = "default_method")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub json: Option<toml::Value>,
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    pub background: Option<String>,
    /// Send this many copies of the request at once (each is judged by `expect`).
    pub concurrent: Option<usize>,
    /// Send again (every 50 ms) until `expect` holds, for at most this long.
    #[serde(default, deserialize_with = "opt_duration")]
    pub retry_within: Option<Duration>,
    pub expect: Option<HttpExpect>,
    #[serde(default)]
    pub save: BTreeMap<String, String>,
}

/// Expectations on an HTTP response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    pub status: Option<StatusExpect>,
    #[serde(default)]
    pub refused: bool,
    /// The request must not be served: the process has exited, the connection is refused or
    /// dropped, or the answer is a 5xx (a service without its backing service or config).
    #[serde(default)]
    pub unserved: bool,
    #[serde(default)]
    pub body_contains: Vec<String>,
    #[serde(default)]
    pub body_not_contains: Vec<String>,
    #[serde(default)]
    pub json: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// One accepted status code or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusExpect {
    One(u16),
    Any(Vec<u16>),
}

impl StatusExpect {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusExpect::One(s) => *s == status,
            StatusExpect::Any(v) => v.contains(&status),
        }
    }
}

impl std::fmt::Display for StatusExpect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusExpect::One(s) => write!(f, "{s}"),
            StatusExpect::Any(v) => {
                let all: Vec<String> = v.iter().map(ToString::to_string).collect();
                write!(f, "one of {}", all.join(", "))
            }
        }
    }
}

/// `run`: a one-off process to completion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub command: Option<String>,
    pub proc: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "opt_duration")]
    pub within: Option<Duration>,
    #[serde(default)]
    pub expect_exit: ExitCodeExpect,
    #[serde(default)]
    pub stdout_contains: Vec<String>,
    #[serde(default)]
    pub stderr_contains: Vec<String>,
    #[serde(default)]
    pub output_contains: Vec<String>,
    #[serde(default)]
    pub output_not_contains: Vec<String>,
    #[serde(default)]
    pub isolated: bool,
}

/// What exit code is expected: a number, any non-zero code, or anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCodeExpect {
    Code(i32),
    NonZero,
    Any,
}

impl Default for ExitCodeExpect {
    fn default() -> Self {
        ExitCodeExpect::Code(0)
    }
}

impl ExitCodeExpect {
    /// Whether a process that ended with `code` (None: killed by a signal) meets it.
    pub fn accepts(self, code: Option<i32>) -> bool {
        match self {
            ExitCodeExpect::Any => true,
            ExitCodeExpect::NonZero => code != Some(0),
            ExitCodeExpect::Code(c) => code == Some(c),
        }
    }
}

impl std::fmt::Display for ExitCodeExpect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitCodeExpect::Code(c) => write!(f, "exit code {c}"),
            ExitCodeExpect::NonZero => write!(f, "a non-zero exit code"),
            ExitCodeExpect::Any => write!(f, "any exit"),
        }
    }
}

impl<'de> Deserialize<'de> for ExitCodeExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i32),
            Word(String),
        }
        match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom(r#"expected an exit code, "nonzero" or "any""#))?
        {
            Raw::Int(c) => Ok(ExitCodeExpect::Code(c)),
            Raw::Word(w) if w == "nonzero" => Ok(ExitCodeExpect::NonZero),
            Raw::Word(w) if w == "any" => Ok(ExitCodeExpect::Any),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                r#"unknown exit expectation "{w}": use a number, "nonzero" or "any""#
            ))),
        }
    }
}

/// `expect_exit` of `signal`/`stop`: the code and how long to wait for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitExpect {
    #[serde(default)]
    pub code: ExitCodeExpect,
    #[serde(default, deserialize_with = "opt_duration")]
    pub within: Option<Duration>,
}

/// Which output stream to look at.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    #[default]
    Stdout,
    Stderr,
    Both,
}

/// `expect_output`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectOutput {
    pub target: String,
    #[serde(default)]
    pub stream: Stream,
    pub contains: Option<String>,
    pub matches: Option<String>,
    pub not_contains: Option<String>,
    #[serde(default, deserialize_with = "opt_duration")]
    pub within: Option<Duration>,
}

/// `expect_kv`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectKv {
    #[serde(default = "default_store")]
    pub store: String,
    pub min_writes: Option<u64>,
    pub max_writes: Option<u64>,
    #[serde(default)]
    pub keys_present: Vec<String>,
    #[serde(default)]
    pub keys_absent: Vec<String>,
    pub list_len: Option<ListLen>,
    #[serde(default, deserialize_with = "opt_duration")]
    pub within: Option<Duration>,
}

/// A list's expected length.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListLen {
    pub key: String,
    pub len: usize,
}

/// `files`: snapshot a folder, or compare it with a snapshot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    #[serde(default = "default_dot")]
    pub path: String,
    pub snapshot: Option<String>,
    pub unchanged: Option<String>,
    pub no_new_files: Option<String>,
    pub no_growth: Option<String>,
}

fn default_dot() -> String {
    ".".into()
}

/// `source`: patterns and paths in the learner's files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    #[serde(default = "default_glob")]
    pub files: String,
    #[serde(default)]
    pub must_not_contain: Vec<String>,
    #[serde(default)]
    pub must_contain: Vec<String>,
    #[serde(default)]
    pub absent: Vec<String>,
    #[serde(default)]
    pub present: Vec<String>,
    /// What of a Python file patterns see: all of it, or its code only.
    #[serde(default)]
    pub scope: SourceScope,
}

/// What of a Python file a `source` pattern is matched against.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceScope {
    /// The whole text.
    #[default]
    Text,
    /// Code without comments and docstrings (Python's own tokenizer decides).
    Code,
    /// Code without comments and without any string literal.
    Names,
}

/// `no_trace`: a value the check made up must not be found on disk outside the store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoTrace {
    pub text: String,
    /// Folders to search; default: the sandbox and the machine's temporary folders.
    #[serde(default)]
    pub paths: Vec<String>,
}

fn default_glob() -> String {
    "**/*.py".into()
}

/// Split a target into its process name and instance number: `web.2` -> (`web`, 2),
/// `web` -> (`web`, none).
pub fn split_target(target: &str) -> (&str, Option<usize>) {
    match target.rsplit_once('.') {
        Some((n, i)) if !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()) => {
            (n, i.parse().ok())
        }
        _ => (target, None),
    }
}

/// Parse "500ms", "2s", "1m".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. \"500ms\" or \"2s\""))
}

pub(crate) fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Other(toml::Value),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(s)) => parse_duration(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
        Some(Raw::Other(v)) => Err(serde::de::Error::custom(format!(
            "a duration is a string with its unit, e.g. \"500ms\", \"2s\" or \"1m\" (not {v})"
        ))),
    }
}
