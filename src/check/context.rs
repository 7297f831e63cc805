//! One check's execution: the sandbox, what it started, and each step kind.

use std::collections::BTreeMap;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use regex::Regex;

use super::CancelToken;
use super::files::{self, Snapshot};
use super::report::{Failure, OutputTail};
use crate::lesson::step::split_target;
use crate::lesson::step::{
    ExitExpect, ExpectKv, ExpectOutput, Http, HttpExpect, KvAction, Ready, Run, Start, Stream,
};
use crate::lesson::{Check, Lesson, PLACEHOLDER, Pack, Step, StepSpec, parse_procfile};
use crate::sandbox::fair::{self, FairClock};
use crate::sandbox::http::{self, HttpError, Request, Response, shell_quote};
use crate::sandbox::output::{Line, StreamKind};
use crate::sandbox::process::{self, ExitInfo, Limits, Spec, Supervised};
use crate::sandbox::router::Router;
use crate::sandbox::store::{self, Store};
use crate::sandbox::{self, Python, Sandbox};

const READY_WITHIN: Duration = Duration::from_secs(5);
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
const RUN_WITHIN: Duration = Duration::from_secs(10);
const STOP_GRACE: Duration = Duration::from_secs(3);
const EXIT_WITHIN: Duration = Duration::from_secs(5);
const OUTPUT_WITHIN: Duration = Duration::from_secs(1);
const TAIL: usize = 20;

/// Why a step failed, before it is placed in the report.
pub(super) struct StepFail {
    message: String,
    expected: String,
    observed: String,
    /// A process ended when it should not have: that, not the step's `fail` sentence (which
    /// names the cause the step was written to catch), is the headline.
    crashed: bool,
    /// What a `run` step's command printed, for `{output}` in its `fail` text.
    printed: Option<String>,
}

impl StepFail {
    fn crashed(mut self) -> StepFail {
        self.crashed = true;
        self
    }
}

type StepResult = Result<(), StepFail>;

fn fail(
    message: impl Into<String>,
    expected: impl Into<String>,
    observed: impl Into<String>,
) -> StepFail {
    StepFail {
        message: message.into(),
        expected: expected.into(),
        observed: observed.into(),
        crashed: false,
        printed: None,
    }
}

/// One running instance of a process type.
struct Instance {
    dyno: String,
    port: u16,
    env: BTreeMap<String, String>,
    command: String,
    proc: Supervised,
    /// Shell variable holding its pid in the transcript.
    var: String,
}

/// A named process with its instances.
struct Group {
    isolated: bool,
    ready: Ready,
    within: Duration,
    instances: Vec<Instance>,
}

/// A one-off process that ran to completion (kept for the report's output tails).
struct Finished {
    label: String,
    proc: Supervised,
}

type Pending = (Box<Http>, Request, JoinHandle<Result<Response, HttpError>>);

pub(super) struct Ctx<'a> {
    // Field order is drop order: processes first, then the services they used, then the
    // folder.
    groups: BTreeMap<String, Group>,
    finished: Vec<Finished>,
    background: BTreeMap<String, Pending>,
    routers: BTreeMap<String, Router>,
    stores: BTreeMap<String, Store>,
    sb: Sandbox,
    pack: &'a Pack,
    check: &'a Check,

    cancel: &'a CancelToken,
    saved: BTreeMap<String, String>,
    random: BTreeMap<String, String>,
    snapshots: BTreeMap<String, Snapshot>,
    /// The wall-clock limit no step waits past: the check's timeout at its longest stretch.
    deadline: Instant,
    /// The check's own timeout, on a clock that does not count the time its processes were
    /// kept waiting for a busy CPU.
    clock: FairClock,
    /// The lesson's own check scripts, for the transcript.
    lesson: &'a Lesson,
    /// The learner's lesson folder, which the transcript names for `{app}`.
    learner_dir: std::path::PathBuf,
    /// Transcript lines before this index set up what the commands after refer to.
    preamble: usize,
    /// Check scripts already written out in the transcript.
    written: std::collections::BTreeSet<String>,
    /// The port and name of the instance started last (for `{port}` in `fail` texts).
    last_started: Option<(u16, String)>,
    pub(super) transcript: Vec<String>,
    /// Processes started so far (names their own HOME and TMPDIR).
    spawned: usize,
    /// Ports `{unused.X}` names, kept unused until the check ends.
    held: Vec<sandbox::HeldPort>,
    /// When the check began (what `no_trace` counts as new).
    began: std::time::SystemTime,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        pack: &'a Pack,
        lesson: &'a Lesson,
        check: &'a Check,
        learner_dir: &'a Path,
        python: &Python,
        cancel: &'a CancelToken,
    ) -> anyhow::Result<Ctx<'a>> {
        use anyhow::Context as _;
        let sb = Sandbox::new(python).context("cannot create a temporary folder")?;
        // Deploys of a lesson that deploys commits run the folder's last commit.
        let commit = (lesson.deploy == crate::lesson::Deploy::Commit)
            .then(|| sandbox::commit::export_head(learner_dir, &sb.app))
            .flatten();
        if commit.is_none() {
            sandbox::copy_tree(learner_dir, &sb.app)
                .with_context(|| format!("cannot copy `{}`", learner_dir.display()))?;
        }
        // The shared client, where the learner's folder lacks it.
        for (rel, bytes) in &pack.shared {
            let p = sb.app.join(rel);
            if !p.exists() {
                sandbox::write_files(&sb.app, [(rel, bytes)])?;
            }
        }
        if !lesson.check_files.is_empty() {
            sandbox::write_files(&sb.root.join("checks"), &lesson.check_files)?;
        }
        let mut transcript = vec![
            format!("# {}", check.title),
            format!("cd {}", shell_quote(&learner_dir.display().to_string())),
        ];
        if let Some(id) = &commit {
            transcript.push(format!(
                "# the check ran commit {id}, the folder's last: `git stash` first to run exactly that"
            ));
        }
        let preamble = transcript.len();
        Ok(Ctx {
            groups: BTreeMap::new(),
            finished: Vec::new(),
            background: BTreeMap::new(),
            routers: BTreeMap::new(),
            stores: BTreeMap::new(),
            sb,
            pack,
            check,

            cancel,
            saved: BTreeMap::new(),
            random: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            deadline: Instant::now() + check.timeout * fair::MAX_STRETCH,
            clock: FairClock::over(Vec::new(), check.timeout),
            last_started: None,
            lesson,
            learner_dir: learner_dir.to_path_buf(),
            preamble,
            written: std::collections::BTreeSet::new(),
            transcript,
            spawned: 0,
            held: Vec::new(),
            began: std::time::SystemTime::now(),
        })
    }

    /// Run every step in order; the first failure ends the check.
    pub(super) fn run(&mut self) -> Result<(), Failure> {
        for (i, spec) in self.check.steps.iter().enumerate() {
            let result = if self.cancel.is_cancelled() {
                Err(fail("cancelled", "", ""))
            } else if self.clock.expired() {
                Err(fail(
                    format!(
                        "the check took longer than its limit of {} ({})",
                        humantime::format_duration(self.check.timeout),
                        self.clock.summary()
                    ),
                    "",
                    "",
                ))
            } else {
                self.step(spec)
            };
            if let Err(f) = result {
                return Err(self.failure(i, spec, f));
            }
        }
        Ok(())
    }

    fn failure(&mut self, index: usize, spec: &StepSpec, mut f: StepFail) -> Failure {
        if f.printed.is_some() && spec.fail.as_deref().is_some_and(|t| t.contains("{output}")) {
            // The headline quotes what the command printed; the output tail shows it again.
            if let Some((exit, _)) = f.observed.split_once("; it printed:") {
                f.observed = exit.to_string();
            }
        }
        let (message, detail) = match &spec.fail {
            Some(template) if f.crashed => {
                let last = self.last_started.clone();
                let local = last.as_ref().map(|(p, d)| (*p, d.as_str()));
                (f.message, Some(self.expand(template, local, false)))
            }
            Some(template) => {
                let last = self.last_started.clone();
                let local = last.as_ref().map(|(p, d)| (*p, d.as_str()));
                let text = self.expand(template, local, false);
                // A check script's own words, where the `fail` text asks for them.
                let text = match &f.printed {
                    Some(said) => text.replace("{output}", said),
                    None => text.replace("{output}", "(it printed nothing)"),
                };
                (text, Some(f.message))
            }
            None => (f.message, None),
        };
        // Sentences name the check's temporary folder as the transcript does.
        let root = self.sb.root.display().to_string();
        let tidy = |s: String| s.replace(&root, "$SANDBOX");
        Failure {
            step: index + 1,
            kind: spec.step.kind().to_string(),
            line: spec.line,
            message: tidy(message),
            detail: detail.map(tidy),
            expected: f.expected,
            observed: f.observed,
            outputs: self.tails(),
        }
    }

    /// The output of every process this check started.
    fn tails(&mut self) -> Vec<OutputTail> {
        // Let output still in the pipes arrive (a traceback printed just before the failing
        // response): wait until nothing new came for 30 ms, at most 300 ms.
        let outputs: Vec<_> = self
            .groups
            .values()
            .flat_map(|g| {
                g.instances
                    .iter()
                    .map(|i| std::sync::Arc::clone(&i.proc.output))
            })
            .collect();
        let count = || {
            outputs
                .iter()
                .map(|o| o.lines().len() as u64 + o.dropped())
                .sum::<u64>()
        };
        let give_up = Instant::now() + Duration::from_millis(300);
        let mut last = count();
        while Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(30));
            let now = count();
            if now == last {
                break;
            }
            last = now;
        }
        let mut out = Vec::new();
        let tail = |label: String, p: &mut Supervised| OutputTail {
            process: label,
            stdout: p.output.tail(StreamKind::Stdout, TAIL),
            stderr: p.output.tail(StreamKind::Stderr, TAIL),
            dropped_lines: p.output.dropped(),
            exit: p.try_exit().map(|e| e.to_string()),
        };
        for g in self.groups.values_mut() {
            for inst in &mut g.instances {
                out.push(tail(inst.dyno.clone(), &mut inst.proc));
            }
        }
        for f in &mut self.finished {
            out.push(tail(f.label.clone(), &mut f.proc));
        }
        out
    }

    /// `min(now + d, the check's deadline)`.
    fn until(&self, d: Duration) -> Instant {
        (Instant::now() + d).min(self.deadline)
    }

    /// Expand placeholders. `local` is (port, dyno) inside a `start` step.
    fn expand(&mut self, s: &str, local: Option<(u16, &str)>, regex_escape: bool) -> String {
        let protected = crate::lesson::protect_braces(s);
        let s = protected.as_str();
        let mut out = String::new();
        let mut last = 0;
        let caps: Vec<(usize, usize, String)> = PLACEHOLDER
            .captures_iter(s)
            .map(|c| {
                let m = c.get(0).expect("whole match");
                (m.start(), m.end(), c[1].to_string())
            })
            .collect();
        for (start, end, name) in caps {
            out.push_str(&s[last..start]);
            let value = self
                .value_of(&name, local)
                .unwrap_or_else(|| s[start..end].to_string());
            if regex_escape {
                out.push_str(&regex::escape(&value));
            } else {
                out.push_str(&value);
            }
            last = end;
        }
        out.push_str(&s[last..]);
        let literal = crate::lesson::restore_braces(&out);
        if regex_escape && literal != out {
            // Literal braces in a regular expression are matched as written.
            return crate::lesson::restore_braces(
                &out.replace('\u{1}', "\\{").replace('\u{2}', "\\}"),
            );
        }
        literal
    }

    fn value_of(&mut self, name: &str, local: Option<(u16, &str)>) -> Option<String> {
        let (root, rest) = name.split_once('.').unwrap_or((name, ""));
        Some(match (root, rest) {
            ("port", "") => local?.0.to_string(),
            ("dyno", "") => local?.1.to_string(),
            ("port", p) => self.instance(p)?.port.to_string(),
            ("url", p) => format!("http://127.0.0.1:{}", self.instance(p)?.port),
            ("pid", p) => self.instance(p)?.proc.pid().to_string(),
            ("kv", n) => self.stores.get(n)?.url(),
            ("router", "") => self.routers.get("router")?.url(),
            ("router", n) => self.routers.get(n)?.url(),
            ("sandbox", "") => self.sb.root.display().to_string(),
            ("app", "") => self.sb.app.display().to_string(),
            ("learner", "") => std::path::absolute(&self.learner_dir)
                .unwrap_or_else(|_| self.learner_dir.clone())
                .display()
                .to_string(),
            ("checks", "") => self.sb.root.join("checks").display().to_string(),
            ("saved", n) => self.saved.get(n)?.clone(),
            ("unused" | "free", n) => {
                let key = format!("{root}.{n}");
                if let Some(v) = self.random.get(&key) {
                    return Some(v.clone());
                }
                let port = if root == "unused" {
                    let held = sandbox::hold_port().ok()?;
                    let port = held.port;
                    self.held.push(held);
                    port
                } else {
                    sandbox::free_port().ok()?
                };
                self.random.insert(key, port.to_string());
                port.to_string()
            }
            ("random", n) => self
                .random
                .entry(n.to_string())
                .or_insert_with(|| {
                    let mut rng = fastrand::Rng::new();
                    (0..10)
                        .map(|_| rng.alphanumeric().to_ascii_lowercase())
                        .collect()
                })
                .clone(),
            _ => return None,
        })
    }

    fn instance(&self, target: &str) -> Option<&Instance> {
        let (name, idx) = split_target(target);
        let g = self.groups.get(name)?;
        g.instances.get(idx.unwrap_or(1).checked_sub(1)?)
    }

    /// Indices of the instances `target` names: one (`web.2`) or all (`web`).
    fn targets(&self, target: &str) -> Result<(String, Vec<usize>), StepFail> {
        let (name, idx) = split_target(target);
        let Some(g) = self.groups.get(name) else {
            return Err(fail(
                format!("no process `{target}` was started"),
                format!("a process named `{target}`"),
                "none",
            ));
        };
        let all: Vec<usize> = (0..g.instances.len()).collect();
        match idx {
            None => Ok((name.to_string(), all)),
            Some(i) if i >= 1 && i <= g.instances.len() => Ok((name.to_string(), vec![i - 1])),
            Some(_) => Err(fail(
                format!("`{target}` does not exist"),
                target.to_string(),
                format!("{} instance(s)", g.instances.len()),
            )),
        }
    }

    /// A shell-ready rendering of a value for the transcript.
    fn show(&mut self, value: &str) -> String {
        let value = self.by_hand(value);
        if value.contains("$SANDBOX") || value.contains("$CHECKS") {
            format!("\"{}\"", value.replace('"', "\\\""))
        } else {
            shell_quote(&value)
        }
    }

    /// `text` as a learner types it, once the check's folder is gone: the copy of their files
    /// is their lesson folder, a check script is the pack's own file (or, for the built-in
    /// lessons, one the transcript writes out first), anything else in the sandbox is under
    /// `$SANDBOX`.
    fn by_hand(&mut self, text: &str) -> String {
        let root = self.sb.root.display().to_string();
        if !text.contains(&root) {
            return text.to_string();
        }
        let checks = format!("{root}/checks");
        let mut out = text.to_string();
        if out.contains(&checks) {
            let replacement = match &self.pack.source {
                crate::lesson::PackSource::Dir(d) => {
                    let d = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
                    d.join("lessons")
                        .join(&self.lesson.dir_name)
                        .join("checks")
                        .display()
                        .to_string()
                }
                crate::lesson::PackSource::Embedded => {
                    self.write_out_scripts(&out, &checks);
                    "$CHECKS".to_string()
                }
            };
            out = out.replace(&checks, &replacement);
        }
        out = out.replace(
            &self.sb.app.display().to_string(),
            &self.learner_dir.display().to_string(),
        );
        if out.contains(&root) {
            let line = "export SANDBOX=$(mktemp -d)".to_string();
            if !self.transcript.contains(&line) {
                self.transcript.insert(self.preamble, line);
                self.preamble += 1;
            }
            out = out.replace(&root, "$SANDBOX");
        }
        out
    }

    /// Add to the transcript's preamble the check scripts `text` names (built-in lessons
    /// have no file on disk to point at), each as a heredoc that writes it into `$CHECKS`.
    fn write_out_scripts(&mut self, text: &str, checks: &str) {
        let line = "export CHECKS=$(mktemp -d)   # the lesson's check scripts, written out below"
            .to_string();
        if !self.transcript.contains(&line) {
            self.transcript.insert(self.preamble, line);
            self.preamble += 1;
        }
        let named = Regex::new(&format!(r"{}/([A-Za-z0-9_.\-/]+)", regex::escape(checks)))
            .expect("valid regex");
        let wanted: Vec<String> = named
            .captures_iter(text)
            .map(|c| c[1].trim_end_matches('/').to_string())
            .collect();
        for want in wanted {
            let folder = format!("{want}/");
            let files: Vec<(String, Vec<u8>)> = self
                .lesson
                .check_files
                .iter()
                .filter(|(k, _)| **k == want || k.starts_with(&folder))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (rel, bytes) in files {
                if !self.written.insert(rel.clone()) {
                    continue;
                }
                self.transcript
                    .insert(self.preamble, script_heredoc(&rel, &bytes));
                self.preamble += 1;
            }
        }
    }

    fn step(&mut self, spec: &StepSpec) -> StepResult {
        match &spec.step {
            Step::Kv { name, action: None } => self.kv(name),
            Step::Kv {
                name,
                action: Some(a),
            } => self.kv_action(name, *a),
            Step::Start(s) => self.start(s),
            Step::Router { name, over } => self.router(name, over),
            Step::Http(h) => self.http(h),
            Step::Await { request } => self.await_request(request),
            Step::Run(r) => self.run_once(r),
            Step::Signal {
                target,
                signal,
                expect_exit,
            } => self.signal(target, signal, expect_exit.as_ref()),
            Step::Kill { target } => self.kill(target),
            Step::ExpectExit {
                target,
                code,
                within,
            } => {
                let (name, idx) = self.targets(target)?;
                let e = ExitExpect {
                    code: *code,
                    within: *within,
                };
                self.transcript.push(format!(
                    "wait ${}; echo \"exit: $?\"",
                    name.replace(['.', '-'], "_").to_uppercase()
                ));
                self.expect_exits(&name, &idx, &e, "the signal")
            }
            Step::Stop {
                target,
                grace,
                expect_exit,
            } => self.stop(target, grace.unwrap_or(STOP_GRACE), expect_exit.as_ref()),
            Step::Restart { target, env } => self.restart(target, env),
            Step::ExpectOutput(e) => self.expect_output(e),
            Step::ExpectKv(e) => self.expect_kv(e),
            Step::Files(f) => self.files(f),
            Step::ReadOnly { path } => {
                let p = self.sb.app.join(path);
                self.transcript
                    .push(format!("chmod -R a-w {}", shell_quote(path)));
                sandbox::make_read_only(&p).map_err(|e| {
                    fail(
                        format!("cannot make `{path}` read-only: {e}"),
                        format!("a folder `{path}` in the lesson folder"),
                        e.to_string(),
                    )
                })
            }
            Step::Source(s) => {
                // Placeholders in patterns stand for literal values.
                let mut s = s.clone();
                for p in s
                    .must_contain
                    .iter_mut()
                    .chain(s.must_not_contain.iter_mut())
                {
                    *p = self.expand(p, None, true);
                }
                files::source(&self.sb.app, &self.pack.shared, &s, &self.sb.bin)
                    .map_err(|(m, e, o)| fail(m, e, o))
            }
            Step::ExpectRunning { target } => self.expect_running(target),
            Step::Listening { target } => self.listening(target),
            Step::NoTrace(n) => self.no_trace(n),
            Step::Include { .. } => unreachable!("expanded when the pack was loaded"),
            Step::Install { requirements } => {
                self.transcript.push(format!(
                    "# install what {requirements} declares from the lesson pack's offline index \
                     (sandbox-apps/_vendor) into \"$SANDBOX/site\"; isolated processes then run with \
                     PATH holding only python, `python3 -s -S`, and PYTHONPATH=\"$SANDBOX/site\""
                ));
                let root = self.sb.root.display().to_string();
                self.by_hand(&root);
                files::install(&self.sb.app, requirements, &self.pack.vendor, &self.sb.site)
                    .map_err(|(m, e, o)| fail(m, e, o))
            }
        }
    }

    fn kv(&mut self, name: &str) -> StepResult {
        let dir = self.sb.root.join("stores").join(name);
        let server =
            Store::start(store::kind(), &dir).map_err(|e| fail(e.clone(), "a store", e))?;
        self.transcript.push(format!(
            "{} &  {}=$!   # store `{name}`: {}",
            server.command(),
            store_var(name),
            server.url()
        ));
        self.stores.insert(name.to_string(), server);
        Ok(())
    }

    /// Break a store on purpose (stop, pause) or mend it (start, restart, resume).
    fn kv_action(&mut self, name: &str, action: KvAction) -> StepResult {
        let var = store_var(name);
        let Some(store) = self.stores.get_mut(name) else {
            return Err(fail(format!("no store `{name}`"), "", ""));
        };
        let port = store.port();
        let line = match action {
            KvAction::Stop => {
                store.stop();
                format!("kill -KILL ${var}   # store `{name}` stops: connections dropped")
            }
            KvAction::Pause => {
                store.pause();
                format!(
                    "kill -STOP ${var}   # store `{name}` hangs: accepts connections, answers nothing"
                )
            }
            KvAction::Resume => {
                store.resume();
                format!("kill -CONT ${var}   # store `{name}` answers again")
            }
            KvAction::Start | KvAction::Restart => {
                let restart = action == KvAction::Restart;
                let result = if restart {
                    store.restart()
                } else {
                    store.start_again()
                };
                let cmd = store.command();
                let line = if restart {
                    format!(
                        "kill -KILL ${var}; {cmd} &  {var}=$!   # store `{name}` restarts, empty"
                    )
                } else {
                    format!("{cmd} &  {var}=$!   # store `{name}` starts again, empty")
                };
                self.transcript.push(line);
                return result.map_err(|e| {
                    fail(
                        e.clone(),
                        format!("store `{name}` listening on port {port} again"),
                        e,
                    )
                });
            }
        };
        self.transcript.push(line);
        // Stopped means the port is closed by the time the next step runs.
        if action == KvAction::Stop {
            let deadline = self.until(Duration::from_secs(5));
            let cancel = self.cancel;
            sandbox::wait_until(deadline, &|| cancel.is_cancelled(), || {
                !sandbox::port_open(port)
            });
        }
        Ok(())
    }

    /// The shell command of a Procfile type, read from the learner's Procfile.
    fn procfile_command(&self, proc_type: &str) -> Result<String, StepFail> {
        let path = self.sb.app.join("Procfile");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Err(fail(
                format!("there is no Procfile, so the process type `{proc_type}` is unknown"),
                format!("a Procfile with a line `{proc_type}: <command>`"),
                "no Procfile in the lesson folder",
            ));
        };
        let entries = parse_procfile(&text);
        if let Some((_, cmd)) = entries.iter().find(|(t, _)| t == proc_type) {
            return Ok(cmd.clone());
        }
        let types: Vec<&str> = entries.iter().map(|(t, _)| t.as_str()).collect();
        Err(fail(
            format!("the Procfile declares no `{proc_type}` process type"),
            format!("a line `{proc_type}: <command>` in the Procfile"),
            if types.is_empty() {
                "a Procfile with no entries".to_string()
            } else {
                format!("process types: {}", types.join(", "))
            },
        ))
    }

    fn spawn(
        &mut self,
        dyno: &str,
        command: &str,
        env: &BTreeMap<String, String>,
        isolated: bool,
    ) -> Result<Supervised, StepFail> {
        let mut full = self.sb.base_env(isolated);
        // Every process gets a HOME and a TMPDIR of its own, fresh at each start (like a
        // platform's ephemeral disk): a file left there is no way to share or keep state.
        self.spawned += 1;
        let own = self
            .sb
            .root
            .join("proc")
            .join(format!("{dyno}-{}", self.spawned));
        for (var, sub) in [("HOME", "home"), ("TMPDIR", "tmp")] {
            let d = own.join(sub);
            let _ = std::fs::create_dir_all(&d);
            full.insert(var.into(), d.display().to_string());
        }
        full.extend(env.clone());
        let spec = Spec {
            name: dyno.to_string(),
            command: command.to_string(),
            cwd: self.sb.app.clone(),
            env: full,
            limits: Limits::default(),
        };
        let proc = Supervised::spawn(&spec, None).map_err(|e| {
            fail(
                format!("could not start `{command}`: {e}"),
                "the process to start",
                e.to_string(),
            )
        })?;
        self.clock.watch(proc.pid());
        Ok(proc)
    }

    /// The process groups that answer requests sent to `target` (an instance, or every
    /// instance behind a router).
    fn servers_of(&self, target: &str) -> Vec<i32> {
        if self.routers.contains_key(target) {
            return self
                .groups
                .values()
                .flat_map(|g| g.instances.iter().map(|i| i.proc.pid()))
                .collect();
        }
        self.instance(target)
            .map(|i| vec![i.proc.pid()])
            .unwrap_or_default()
    }

    fn transcript_start(&mut self, env: &BTreeMap<String, String>, command: &str, var: &str) {
        let mut line = String::new();
        for (k, v) in env {
            let v = self.show(v);
            line.push_str(&format!("{k}={v} "));
        }
        let command = self.by_hand(command);
        line.push_str(&format!("sh -c {} &  {var}=$!", shell_quote(&command)));
        self.transcript.push(line);
    }

    fn start(&mut self, s: &Start) -> StepResult {
        let name = s.process_name();
        let command = match (&s.proc, &s.command) {
            (Some(p), _) => self.procfile_command(p)?,
            (None, Some(c)) => self.expand(c, None, false),
            (None, None) => unreachable!("validated when the pack was loaded"),
        };
        let mut group = self.groups.remove(&name).unwrap_or(Group {
            isolated: s.isolated,
            ready: s.ready.clone(),
            within: s.within.unwrap_or(READY_WITHIN),
            instances: Vec::new(),
        });
        let first = group.instances.len();
        let mut result = Ok(());
        for i in first..first + s.instances {
            let dyno = format!("{name}.{}", i + 1);
            let port = match sandbox::free_port() {
                Ok(p) => p,
                Err(e) => {
                    result = Err(fail(
                        format!("no free port: {e}"),
                        "a free port",
                        e.to_string(),
                    ));
                    break;
                }
            };
            let mut env = BTreeMap::new();
            env.insert("PORT".to_string(), port.to_string());
            env.insert("DYNO".to_string(), dyno.clone());
            for (k, v) in &s.env {
                let v = self.expand(v, Some((port, &dyno)), false);
                env.insert(k.clone(), v);
            }
            self.last_started = Some((port, dyno.clone()));
            match self.spawn(&dyno, &command, &env, s.isolated) {
                Ok(proc) => {
                    let inst = Instance {
                        var: dyno.replace(['.', '-'], "_").to_uppercase(),
                        dyno,
                        port,
                        env,
                        command: command.clone(),
                        proc,
                    };
                    self.transcript_start(&inst.env, &inst.command, &inst.var);
                    group.instances.push(inst);
                }
                Err(f) => {
                    result = Err(f);
                    break;
                }
            }
        }
        let ready = group.ready.clone();
        let within = group.within;
        self.groups.insert(name.clone(), group);
        result?;
        for i in first..first + s.instances {
            let mut attempts = 0;
            loop {
                match self.wait_ready(&name, i, &ready, within) {
                    Ok(()) => break,
                    Err(f) if attempts < 3 && self.port_was_taken(&name, i) => {
                        // Another program (another `twelve`, another learner) took the port
                        // between its choice and the bind: pick another, invisibly.
                        attempts += 1;
                        let _ = f;
                        self.start_again_elsewhere(&name, i, s)?;
                    }
                    Err(f) => return Err(f),
                }
            }
        }
        Ok(())
    }

    /// Whether instance `i` of `name` died because its port was already taken by a process
    /// that is not its own.
    fn port_was_taken(&mut self, name: &str, i: usize) -> bool {
        let inst = &mut self.groups.get_mut(name).expect("group exists").instances[i];
        // Only the port the engine picked: a step that names PORT itself (a second listener
        // on a port already taken) means the conflict. Whoever took the picked port may be
        // gone again by now (another check's short-lived service), so it is not asked to
        // still listen.
        let own_port = inst.env.get("PORT") == Some(&inst.port.to_string());
        if inst.proc.try_exit().is_none() || !own_port {
            return false;
        }
        inst.proc
            .output
            .lines()
            .iter()
            .any(|l| l.text.contains("Address already in use") || l.text.contains("EADDRINUSE"))
    }

    fn start_again_elsewhere(&mut self, name: &str, i: usize, s: &Start) -> StepResult {
        let port = sandbox::free_port()
            .map_err(|e| fail(format!("no free port: {e}"), "a free port", e.to_string()))?;
        let (dyno, old, command, isolated) = {
            let g = &self.groups[name];
            let inst = &g.instances[i];
            (
                inst.dyno.clone(),
                inst.port,
                inst.command.clone(),
                g.isolated,
            )
        };
        let mut env = BTreeMap::new();
        env.insert("PORT".to_string(), port.to_string());
        env.insert("DYNO".to_string(), dyno.clone());
        for (k, v) in &s.env {
            let v = self.expand(v, Some((port, &dyno)), false);
            env.insert(k.clone(), v);
        }
        self.transcript.push(format!(
            "# port {old} was taken by another program before {dyno} could bind it: \
             started again on {port}"
        ));
        let proc = self.spawn(&dyno, &command, &env, isolated)?;
        self.last_started = Some((port, dyno.clone()));
        let inst = &mut self.groups.get_mut(name).expect("group exists").instances[i];
        inst.port = port;
        inst.env = env;
        inst.proc = proc;
        Ok(())
    }

    fn wait_ready(&mut self, name: &str, i: usize, ready: &Ready, within: Duration) -> StepResult {
        let hard = self.deadline;
        let cancel = self.cancel;
        let stop = || cancel.is_cancelled();
        let inst = &mut self.groups.get_mut(name).expect("group exists").instances[i];
        let started = Instant::now();
        // The bound counts the program's own time, not time a busy machine kept it waiting.
        let mut clock = FairClock::new(inst.proc.pid(), within);
        let what = match ready {
            Ready::None => return Ok(()),
            Ready::Port => format!("{} accepting connections on PORT={}", inst.dyno, inst.port),
            Ready::Stdout { stdout } => {
                format!("{} printing a line matching /{stdout}/", inst.dyno)
            }
        };
        let ok = match ready {
            Ready::None => true,
            Ready::Port => {
                let port = inst.port;
                let proc = &mut inst.proc;
                let pgid = proc.pid();
                // Only a listener of the started process counts: another program on the
                // same port is not the learner's service.
                let ours = || sandbox::port_open(port) && sandbox::sockets::owns_port(pgid, port);
                fair::wait(&mut clock, hard, &stop, || {
                    ours() || proc.try_exit().is_some()
                }) && ours()
                    && proc.try_exit().is_none()
            }
            Ready::Stdout { stdout } => {
                let re = Regex::new(stdout).map_err(|e| fail(e.to_string(), "", ""))?;
                let out = std::sync::Arc::clone(&inst.proc.output);
                let mut exited = false;
                loop {
                    let slice = (Instant::now() + Duration::from_millis(50)).min(hard);
                    if out
                        .wait_for(slice, &stop, &|l: &Line| {
                            l.stream == StreamKind::Stdout && re.is_match(&l.text)
                        })
                        .is_some()
                    {
                        break true;
                    }
                    if exited || clock.expired() || Instant::now() >= hard || stop() {
                        break false;
                    }
                    // One more look after the process ended, for lines still in the pipe.
                    exited = inst.proc.try_exit().is_some();
                }
            }
        };
        if ok {
            return Ok(());
        }
        let failing = Some((inst.port, inst.dyno.clone()));
        let _ = started;
        if matches!(ready, Ready::Port) && inst.proc.try_exit().is_some_and(|e| e.code == Some(0)) {
            // A process that daemonizes exits at once, with success, and what it forked
            // binds the port later (much later on a busy machine): wait for it, to say so.
            let port = inst.port;
            let mut after = FairClock::new(inst.proc.pid(), within);
            fair::wait(&mut after, hard, &stop, || sandbox::port_open(port));
        }
        let result = Self::not_ready(inst, ready, within, &what, &mut clock);
        self.last_started = failing;
        result
    }

    fn not_ready(
        inst: &mut Instance,
        ready: &Ready,
        within: Duration,
        what: &str,
        clock: &mut FairClock,
    ) -> StepResult {
        let what = what.to_string();
        if let Some(exit) = inst.proc.try_exit() {
            if matches!(ready, Ready::Port) && sandbox::port_open(inst.port) {
                return Err(daemonized(inst, exit, "right after it started", what));
            }
            return Err(fail(
                format!(
                    "{} stopped before it was ready ({exit}); its output is below",
                    inst.dyno
                ),
                what,
                format!("the process ended with {exit}"),
            )
            .crashed());
        }
        let waited = clock.summary();
        let mut observed = format!("nothing within {waited}");
        if matches!(ready, Ready::Port) {
            let others = sandbox::sockets::listening_ports(inst.proc.pid());
            if !others.is_empty() {
                let list: Vec<String> = others.iter().map(ToString::to_string).collect();
                observed = format!(
                    "nothing on port {} within {waited}; the process listens on {} instead",
                    inst.port,
                    list.join(", ")
                );
            }
        }
        Err(fail(
            format!(
                "{} was not ready within {}: it did not {}",
                inst.dyno,
                humantime::format_duration(within),
                match ready {
                    Ready::Port => format!(
                        "accept connections on the port it was given (PORT={})",
                        inst.port
                    ),
                    _ => "print the expected line".to_string(),
                }
            ),
            what,
            observed,
        ))
    }

    fn router(&mut self, name: &str, over: &str) -> StepResult {
        let ports: Vec<u16> = self
            .groups
            .get(over)
            .map(|g| g.instances.iter().map(|i| i.port).collect())
            .unwrap_or_default();
        let r = Router::start(ports.clone()).map_err(|e| {
            fail(
                format!("could not start the router: {e}"),
                "a router",
                e.to_string(),
            )
        })?;
        let list: Vec<String> = ports.iter().map(ToString::to_string).collect();
        self.transcript.push(format!(
            "# router `{name}` on port {}: round-robin over {over} (ports {})",
            r.port(),
            list.join(", ")
        ));
        self.routers.insert(name.to_string(), r);
        Ok(())
    }

    fn request_for(&mut self, h: &Http) -> Result<(Request, String), StepFail> {
        let target = self.expand(&h.target, None, false);
        let port = if let Some(r) = self.routers.get(&target) {
            r.port()
        } else if let Some(i) = self.instance(&target) {
            i.port
        } else {
            return Err(fail(
                format!("nothing named `{target}` to send a request to"),
                "a started process or router",
                "none",
            ));
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, v) in &h.headers {
            let v = self.expand(v, None, false);
            headers.push((k.clone(), v));
        }
        let body = if let Some(j) = &h.json {
            headers.push(("Content-Type".into(), "application/json".into()));
            let v = self.expand_json(j);
            serde_json::to_vec(&v).unwrap_or_default()
        } else if let Some(b) = &h.body {
            self.expand(b, None, false).into_bytes()
        } else {
            Vec::new()
        };
        let path = self.expand(&h.path, None, false);
        let req = Request {
            method: h.method.to_uppercase(),
            port,
            path,
            headers,
            body,
            timeout: h.timeout.unwrap_or(HTTP_TIMEOUT),
            servers: self.servers_of(&target),
        };
        Ok((req, target))
    }

    fn expand_json(&mut self, v: &toml::Value) -> serde_json::Value {
        match v {
            toml::Value::String(s) => serde_json::Value::String(self.expand(s, None, false)),
            toml::Value::Integer(i) => serde_json::Value::from(*i),
            toml::Value::Float(f) => serde_json::Value::from(*f),
            toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
            toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
            toml::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|v| self.expand_json(v)).collect())
            }
            toml::Value::Table(t) => serde_json::Value::Object(
                t.iter()
                    .map(|(k, v)| (k.clone(), self.expand_json(v)))
                    .collect(),
            ),
        }
    }

    fn http(&mut self, h: &Http) -> StepResult {
        let (req, target) = self.request_for(h)?;
        let line = http::curl_line(&req);
        if let Some(name) = &h.background {
            self.transcript
                .push(format!("{line} &   # `{name}`, awaited later"));
            let r = req.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            let handle = std::thread::spawn(move || {
                http::send_notify(&r, move |port| {
                    let _ = tx.send(port);
                })
            });
            // Return once the service has the request in hand (it accepted the connection),
            // so later steps act while it is in flight: a connection still waiting in the
            // listen queue has not reached the service yet.
            if let Ok(Some(client_port)) = rx.recv_timeout(req.timeout) {
                if let Some(pgid) = self.instance(&target).map(|i| i.proc.pid()) {
                    let deadline = self.until(Duration::from_secs(1));
                    let cancel = self.cancel;
                    sandbox::wait_until(deadline, &|| cancel.is_cancelled(), || {
                        sandbox::sockets::accepted(pgid, req.port, client_port) != Some(false)
                    });
                }
            }
            self.background
                .insert(name.clone(), (Box::new(h.clone()), req, handle));
            return Ok(());
        }
        let unserved = h.expect.as_ref().is_some_and(|e| e.unserved);
        if unserved {
            self.transcript.push(format!(
                "{line}   # must not be served: exit, refuse, drop or answer 5xx"
            ));
            return self.unserved(h, &req, &target);
        }
        if let Some(n) = h.concurrent {
            self.transcript.push(format!(
                "for i in $(seq {n}); do {line} & done; wait   # {n} at once"
            ));
            let results: Vec<Result<Response, HttpError>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..n).map(|_| s.spawn(|| http::send(&req))).collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(HttpError::Closed("the request thread failed".into()))
                        })
                    })
                    .collect()
            });
            for (i, result) in results.into_iter().enumerate() {
                self.judge(h, &req, &target, result).map_err(|mut f| {
                    f.message = format!("of {n} requests sent at once, #{}: {}", i + 1, f.message);
                    f
                })?;
            }
            return Ok(());
        }
        if let Some(within) = h.retry_within {
            self.transcript.push(format!(
                "until {line}; do sleep 0.05; done   # retried for up to {}",
                humantime::format_duration(within)
            ));
            let mut clock = FairClock::over(req.servers.clone(), within);
            loop {
                let result = http::send(&req);
                match self.judge(h, &req, &target, result) {
                    Ok(()) => return Ok(()),
                    Err(f)
                        if clock.expired()
                            || Instant::now() >= self.deadline
                            || self.cancel.is_cancelled() =>
                    {
                        return Err(f);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
        self.transcript.push(line);
        let refused = h.expect.as_ref().is_some_and(|e| e.refused);
        let mut result = http::send(&req);
        if refused {
            // A process told to stop needs a moment to close its port: keep trying until the
            // connection is refused or the step's timeout passes.
            let mut clock = FairClock::over(req.servers.clone(), req.timeout);
            while result.is_ok()
                && !clock.expired()
                && Instant::now() < self.deadline
                && !self.cancel.is_cancelled()
            {
                std::thread::sleep(Duration::from_millis(20));
                let mut quick = req.clone();
                quick.timeout = Duration::from_millis(500);
                result = http::send(&quick);
            }
        }
        self.judge(h, &req, &target, result)
    }

    /// A request that must not be served: the service has no way to do the work right (its
    /// config or backing service is missing), so it must exit, refuse, or answer an error.
    fn unserved(&mut self, h: &Http, req: &Request, target: &str) -> StepResult {
        let what = format!("{} {}", req.method, req.path);
        // Wait until it listens or ends, so a slow start is not taken for a refusal.
        let mut clock = FairClock::over(req.servers.clone(), req.timeout);
        let hard = self.deadline;
        let cancel = self.cancel;
        let port = req.port;
        let routed = self.routers.contains_key(target);
        let (name, idx) = split_target(target);
        let idx = idx.unwrap_or(1).saturating_sub(1);
        let mut exited = None;
        fair::wait(&mut clock, hard, &|| cancel.is_cancelled(), || {
            if !routed {
                if let Some(inst) = self
                    .groups
                    .get_mut(name)
                    .and_then(|g| g.instances.get_mut(idx))
                {
                    exited = inst.proc.try_exit();
                }
            }
            exited.is_some() || sandbox::port_open(port)
        });
        if exited.is_some() {
            return Ok(());
        }
        match http::send(req) {
            Ok(resp) if resp.status < 500 => Err(fail(
                format!(
                    "{what} to {target} answered {}: the service did the work without what it \
                     needs, where it should fail",
                    resp.status
                ),
                "no service: an exit, a refused or dropped connection, or a 5xx answer",
                describe(&resp),
            )),
            // Refused, dropped, timed out or a 5xx: not served.
            _ => {
                let _ = h;
                Ok(())
            }
        }
    }

    /// Every instance of `target` is still running.
    fn expect_running(&mut self, target: &str) -> StepResult {
        let (name, idx) = self.targets(target)?;
        let group = self.groups.get_mut(&name).expect("target exists");
        for &i in &idx {
            let inst = &mut group.instances[i];
            if let Some(exit) = inst.proc.try_exit() {
                if exit.code == Some(0) && inst.port != 0 && sandbox::port_open(inst.port) {
                    let what = format!("{} still running", inst.dyno);
                    return Err(daemonized(inst, exit, "", what));
                }
                return Err(fail(
                    format!("{} is no longer running: it ended with {exit}", inst.dyno),
                    format!("{} still running", inst.dyno),
                    format!("ended with {exit}"),
                ));
            }
        }
        self.transcript
            .push(format!("jobs   # {target}: every instance still running"));
        Ok(())
    }

    /// Every instance of `target` listens on its PORT and nothing else.
    fn listening(&mut self, target: &str) -> StepResult {
        let (name, idx) = self.targets(target)?;
        let group = self.groups.get(&name).expect("target exists");
        if !cfg!(target_os = "linux") {
            self.transcript.push(format!(
                "# {target}: which ports it listens on is not known on this system; not judged"
            ));
            return Ok(());
        }
        for &i in &idx {
            let inst = &group.instances[i];
            let ports = sandbox::sockets::listening_ports(inst.proc.pid());
            let others: Vec<String> = ports
                .iter()
                .filter(|p| **p != inst.port)
                .map(ToString::to_string)
                .collect();
            if !others.is_empty() {
                return Err(fail(
                    format!(
                        "{} listens on port {} as well as on its PORT={}: the platform routes \
                         only to PORT, so a second port is a service nobody asked for",
                        inst.dyno,
                        others.join(", "),
                        inst.port
                    ),
                    format!("listening on {} only", inst.port),
                    format!(
                        "listening on {}",
                        ports
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        self.transcript.push(format!(
            "ss -ltnp   # {target}: listens on its PORT and on nothing else"
        ));
        Ok(())
    }

    /// No file written since the check began holds `text`.
    fn no_trace(&mut self, n: &crate::lesson::step::NoTrace) -> StepResult {
        let text = self.expand(&n.text, None, false);
        let paths: Vec<std::path::PathBuf> = if n.paths.is_empty() {
            let mut v = vec![self.sb.root.clone()];
            v.extend(files::temp_dirs());
            v
        } else {
            n.paths
                .iter()
                .map(|p| std::path::PathBuf::from(self.expand(p, None, false)))
                .collect()
        };
        self.transcript.push(format!(
            "grep -rl {} \"$SANDBOX\" /tmp   # must find nothing",
            shell_quote(&text)
        ));
        // Other checks' sandboxes hold their own random values, never this one's.
        let app = self.sb.app.clone();
        // What the service wrote outside the sandbox stays where it is: the same program
        // checked at the same time elsewhere on the machine (a classroom server, a verify of
        // the pack) may share that file, and removing it would take away that check's evidence.
        let traces = files::find_traces(&paths, &text, self.began, &app);
        match traces.first() {
            None => Ok(()),
            Some(found) => {
                let shown = found
                    .display()
                    .to_string()
                    .replace(&self.sb.root.display().to_string(), "$SANDBOX");
                let outside = if found.starts_with(&self.sb.root) {
                    ""
                } else {
                    " (the file is left there: remove it when you are done)"
                };
                Err(fail(
                    format!(
                        "`{text}`, which only the store should hold, was written to \
                         {shown}{outside}: the service keeps state on a disk, where other \
                         processes and restarts cannot rely on it"
                    ),
                    format!("`{text}` in no file"),
                    format!("found in {shown}"),
                ))
            }
        }
    }

    fn await_request(&mut self, name: &str) -> StepResult {
        let Some((h, req, handle)) = self.background.remove(name) else {
            return Err(fail(format!("no request `{name}` in flight"), "", ""));
        };
        self.transcript.push(format!("wait   # for `{name}`"));
        // The request has its own timeout, so joining is bounded.
        let result = handle
            .join()
            .unwrap_or_else(|_| Err(HttpError::Closed("the request thread failed".into())));
        let target = h.target.clone();
        self.judge(&h, &req, &target, result)
    }

    fn judge(
        &mut self,
        h: &Http,
        req: &Request,
        target: &str,
        result: Result<Response, HttpError>,
    ) -> StepResult {
        let default = HttpExpect::default();
        let expect = h.expect.as_ref().unwrap_or(&default);
        let what = format!("{} {}", req.method, req.path);
        let resp = match result {
            // A connection accepted by a socket that is closing and then reset without a
            // byte of answer was not served either.
            Err(HttpError::Refused(_) | HttpError::Closed(_)) if expect.refused => return Ok(()),
            Err(e) => {
                let mut message = format!("{what} to {target} failed: {e}");
                let stopped = self.exit_of(target);
                if let Some(exit) = &stopped {
                    message.push_str(&format!(" ({target} has stopped: {exit})"));
                }
                let f = fail(
                    message,
                    if expect.refused {
                        "the connection to be refused".to_string()
                    } else {
                        expect
                            .status
                            .as_ref()
                            .map_or("a response".into(), |s| format!("HTTP {s}"))
                    },
                    e.to_string(),
                );
                return Err(if stopped.is_some() { f.crashed() } else { f });
            }
            Ok(r) => r,
        };
        let observed = describe(&resp);
        if expect.refused {
            return Err(fail(
                format!("{what} to {target} was answered, but the connection should be refused"),
                "the connection refused",
                observed,
            ));
        }
        if let Some(s) = &expect.status {
            if !s.accepts(resp.status) {
                return Err(fail(
                    format!("{what} answered {} instead of {s}", resp.status),
                    format!("HTTP {s}"),
                    observed,
                ));
            }
        }
        let body = resp.text();
        for want in &expect.body_contains {
            let want = self.expand(want, None, false);
            if !body.contains(&want) {
                return Err(fail(
                    format!("the response to {what} does not contain `{want}`"),
                    format!("a body containing `{want}`"),
                    observed,
                ));
            }
        }
        for bad in &expect.body_not_contains {
            let bad = self.expand(bad, None, false);
            if body.contains(&bad) {
                return Err(fail(
                    format!("the response to {what} contains `{bad}`"),
                    format!("a body without `{bad}`"),
                    observed,
                ));
            }
        }
        for (name, want) in &expect.headers {
            let want = self.expand(want, None, false);
            match resp.header(name) {
                Some(got) if got == want => {}
                got => {
                    return Err(fail(
                        format!("the response to {what} has the wrong {name} header"),
                        format!("{name}: {want}"),
                        got.map_or(format!("no {name} header"), |g| format!("{name}: {g}")),
                    ));
                }
            }
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
        if !expect.json.is_empty() {
            let Some(doc) = &json else {
                return Err(fail(
                    format!("the response to {what} is not JSON"),
                    "a JSON body",
                    observed,
                ));
            };
            for (path, want) in &expect.json {
                let want = self.expand_json(want);
                let got = json_path(doc, path);
                let ok = match (&want, got) {
                    (serde_json::Value::String(w), Some(_)) if w == "*" => true,
                    (w, Some(g)) => json_equal(w, g),
                    (_, None) => false,
                };
                if !ok {
                    return Err(fail(
                        format!(
                            "the response to {what} has {} for `{path}`",
                            got.map_or("nothing".into(), ToString::to_string)
                        ),
                        if want == serde_json::Value::String("*".into()) {
                            format!("a field `{path}`")
                        } else {
                            format!("`{path}` = {want}")
                        },
                        observed,
                    ));
                }
            }
        }
        for (name, from) in &h.save {
            let value = if from == "body" {
                Some(body.clone())
            } else if from == "status" {
                Some(resp.status.to_string())
            } else if let Some(hdr) = from.strip_prefix("header.") {
                resp.header(hdr).map(str::to_string)
            } else if let Some(p) = from.strip_prefix("json.") {
                json.as_ref()
                    .and_then(|d| json_path(d, p))
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            } else {
                None
            };
            let Some(value) = value else {
                return Err(fail(
                    format!("the response to {what} has no {from} to remember as `{name}`"),
                    format!("a {from} in the response"),
                    observed,
                ));
            };
            self.saved.insert(name.clone(), value);
        }
        Ok(())
    }

    fn exit_of(&mut self, target: &str) -> Option<String> {
        let (name, idx) = split_target(target);
        let inst = self
            .groups
            .get_mut(name)?
            .instances
            .get_mut(idx.unwrap_or(1).checked_sub(1)?)?;
        inst.proc.try_exit().map(|e| e.to_string())
    }

    fn run_once(&mut self, r: &Run) -> StepResult {
        let command = match (&r.proc, &r.command) {
            (Some(p), _) => self.procfile_command(p)?,
            (None, Some(c)) => self.expand(c, None, false),
            (None, None) => unreachable!("validated when the pack was loaded"),
        };
        let mut env = BTreeMap::new();
        for (k, v) in &r.env {
            let v = self.expand(v, None, false);
            env.insert(k.clone(), v);
        }
        let mut line = String::new();
        for (k, v) in &env {
            let v = self.show(v);
            line.push_str(&format!("{k}={v} "));
        }
        let by_hand = self.by_hand(&command);
        line.push_str(&format!(
            "sh -c {}; echo \"exit: $?\"",
            shell_quote(&by_hand)
        ));
        self.transcript.push(line);
        let mut proc = self.spawn("run", &command, &env, r.isolated)?;
        // Messages name the command as the learner could type it, without the temporary path.
        let command = command.replace(&self.sb.root.display().to_string(), "$SANDBOX");
        let label = format!("run: {command}");
        let within = r.within.unwrap_or(RUN_WITHIN);
        let hard = self.deadline;
        let cancel = self.cancel;
        let mut clock = FairClock::new(proc.pid(), within);
        fair::wait(&mut clock, hard, &|| cancel.is_cancelled(), || {
            proc.try_exit().is_some()
        });
        let exit = proc.try_exit();
        // Let the readers drain what is still in the pipes.
        sandbox::wait_until(
            Instant::now() + Duration::from_millis(500),
            &|| false,
            || proc.output.closed(),
        );
        // A command that ended during the drain did finish: judge its exit, not the clock.
        let exit = exit.or_else(|| proc.try_exit());
        let Some(exit) = exit else {
            proc.stop(Duration::from_millis(200));
            self.finished.push(Finished { label, proc });
            return Err(fail(
                format!(
                    "`{command}` did not finish within {}",
                    humantime::format_duration(within)
                ),
                format!("the command to finish with {}", r.expect_exit),
                "still running; it was stopped",
            ));
        };
        let lines = proc.output.lines();
        self.finished.push(Finished { label, proc });
        if !r.expect_exit.accepts(exit.code) {
            let said: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            let mut f = fail(
                format!("`{command}` ended with {exit}, expected {}", r.expect_exit),
                r.expect_exit.to_string(),
                format!("{exit}; it printed:\n{}", tail_text(&said.join("\n"))),
            );
            f.printed = Some(tail_text(&said.join("\n")).trim().to_string());
            return Err(f);
        }
        let text = |which: Option<StreamKind>| -> String {
            lines
                .iter()
                .filter(|l| which.is_none_or(|w| l.stream == w))
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let checks: [(&Vec<String>, Option<StreamKind>, &str); 3] = [
            (&r.stdout_contains, Some(StreamKind::Stdout), "stdout"),
            (&r.stderr_contains, Some(StreamKind::Stderr), "stderr"),
            (&r.output_contains, None, "its output"),
        ];
        for (wants, stream, label) in checks {
            let hay = text(stream);
            for want in wants {
                let want = self.expand(want, None, false);
                if !hay.contains(&want) {
                    return Err(fail(
                        format!("`{command}` did not print `{want}` on {label}"),
                        format!("`{want}` on {label}"),
                        tail_text(&hay),
                    ));
                }
            }
        }
        let hay = text(None);
        for bad in &r.output_not_contains {
            let bad = self.expand(bad, None, false);
            if hay.contains(&bad) {
                return Err(fail(
                    format!("`{command}` printed `{bad}`"),
                    format!("no `{bad}` in its output"),
                    tail_text(&hay),
                ));
            }
        }
        Ok(())
    }

    fn signal(&mut self, target: &str, signal: &str, expect: Option<&ExitExpect>) -> StepResult {
        let sig = process::parse_signal(signal)
            .ok_or_else(|| fail(format!("unknown signal {signal}"), "", ""))?;
        let (name, idx) = self.targets(target)?;
        let group = self.groups.get_mut(&name).expect("target exists");
        for &i in &idx {
            let inst = &mut group.instances[i];
            self.transcript.push(format!(
                "kill -{} -- -${}   # the process group of {}",
                signal.trim_start_matches("SIG"),
                inst.var,
                inst.dyno
            ));
            inst.proc.signal(sig);
        }
        if let Some(e) = expect {
            self.expect_exits(
                &name,
                &idx,
                e,
                &format!("SIG{}", signal.trim_start_matches("SIG")),
            )?;
        }
        Ok(())
    }

    fn expect_exits(
        &mut self,
        name: &str,
        idx: &[usize],
        e: &ExitExpect,
        cause: &str,
    ) -> StepResult {
        let within = e.within.unwrap_or(EXIT_WITHIN);
        let hard = self.deadline;
        let cancel = self.cancel;
        let group = self.groups.get_mut(name).expect("target exists");
        // One bound for all instances, which were signalled together.
        let clocks: Vec<(usize, FairClock)> = idx
            .iter()
            .map(|&i| (i, FairClock::new(group.instances[i].proc.pid(), within)))
            .collect();
        for (i, mut clock) in clocks {
            let inst = &mut group.instances[i];
            let proc = &mut inst.proc;
            fair::wait(&mut clock, hard, &|| cancel.is_cancelled(), || {
                proc.try_exit().is_some()
            });
            let Some(exit) = inst.proc.try_exit() else {
                return Err(fail(
                    format!(
                        "{} was still running {} after {cause}",
                        inst.dyno,
                        humantime::format_duration(within)
                    ),
                    format!("{} within {}", e.code, humantime::format_duration(within)),
                    format!("still running after {}", clock.summary()),
                ));
            };
            if !e.code.accepts(exit.code) {
                let mut message = format!("{} ended with {exit} after {cause}", inst.dyno);
                if exit.signal.is_some() || exit.code == Some(143) || exit.code == Some(-15) {
                    message.push_str(": it did not handle the signal itself");
                }
                return Err(fail(message, e.code.to_string(), exit.to_string()));
            }
        }
        Ok(())
    }

    fn kill(&mut self, target: &str) -> StepResult {
        let (name, idx) = self.targets(target)?;
        let group = self.groups.get_mut(&name).expect("target exists");
        for &i in &idx {
            let inst = &mut group.instances[i];
            self.transcript
                .push(format!("kill -KILL -- -${}   # {}", inst.var, inst.dyno));
            inst.proc.kill();
        }
        Ok(())
    }

    fn stop(&mut self, target: &str, grace: Duration, expect: Option<&ExitExpect>) -> StepResult {
        let (name, idx) = self.targets(target)?;
        let group = self.groups.get_mut(&name).expect("target exists");
        let mut exits = Vec::new();
        for &i in &idx {
            let inst = &mut group.instances[i];
            self.transcript.push(format!(
                "kill -TERM -- -${v}; sleep {}; kill -KILL -- -${v}   # {}",
                grace.as_secs().max(1),
                inst.dyno,
                v = inst.var
            ));
            exits.push((inst.dyno.clone(), inst.proc.stop(grace)));
        }
        if let Some(e) = expect {
            for (dyno, exit) in exits {
                if !e.code.accepts(exit.code) {
                    return Err(fail(
                        format!("{dyno} ended with {exit} when stopped"),
                        e.code.to_string(),
                        exit.to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn restart(&mut self, target: &str, env: &BTreeMap<String, String>) -> StepResult {
        let (name, idx) = self.targets(target)?;
        for i in idx {
            let (dyno, port, command, isolated, ready, within, mut new_env) = {
                let g = self.groups.get_mut(&name).expect("target exists");
                let inst = &mut g.instances[i];
                inst.proc.stop(STOP_GRACE);
                (
                    inst.dyno.clone(),
                    inst.port,
                    inst.command.clone(),
                    g.isolated,
                    g.ready.clone(),
                    g.within,
                    inst.env.clone(),
                )
            };
            for (k, v) in env {
                let v = self.expand(v, Some((port, &dyno)), false);
                new_env.insert(k.clone(), v);
            }
            let var = dyno.replace(['.', '-'], "_").to_uppercase();
            self.transcript
                .push(format!("kill -TERM -- -${var}; wait   # restart {dyno}"));
            self.transcript_start(&new_env, &command, &var);
            let proc = self.spawn(&dyno, &command, &new_env, isolated)?;
            let g = self.groups.get_mut(&name).expect("target exists");
            // The old guard is dropped here; it has already stopped.
            g.instances[i].proc = proc;
            g.instances[i].env = new_env;
            self.wait_ready(&name, i, &ready, within)?;
        }
        Ok(())
    }

    fn expect_output(&mut self, e: &ExpectOutput) -> StepResult {
        let Some(inst) = self.instance(&e.target) else {
            return Err(fail(format!("no process `{}`", e.target), "", ""));
        };
        let dyno = inst.dyno.clone();
        let pgid = inst.proc.pid();
        let out = std::sync::Arc::clone(&inst.proc.output);
        let in_stream = |l: &Line| match e.stream {
            Stream::Stdout => l.stream == StreamKind::Stdout,
            Stream::Stderr => l.stream == StreamKind::Stderr,
            Stream::Both => true,
        };
        let stream_name = match e.stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Both => "its output",
        };
        let within = e.within.unwrap_or(OUTPUT_WITHIN);
        let want: Option<(String, Regex)> = if let Some(c) = &e.contains {
            let c = self.expand(c, None, false);
            Some((
                format!("`{c}`"),
                Regex::new(&regex::escape(&c)).expect("escaped"),
            ))
        } else if let Some(m) = &e.matches {
            let m = self.expand(m, None, true);
            let re = Regex::new(&m).map_err(|err| fail(err.to_string(), "", ""))?;
            Some((format!("a line matching /{m}/"), re))
        } else {
            None
        };
        if let Some((label, re)) = want {
            // A fair bound: time the process waited for a busy CPU is not its own.
            let hard = self.deadline;
            let cancel = self.cancel;
            let mut clock = FairClock::new(pgid, within);
            let found = loop {
                let slice = (Instant::now() + Duration::from_millis(50)).min(hard);
                let hit = out.wait_for(slice, &|| cancel.is_cancelled(), &|l: &Line| {
                    in_stream(l) && re.is_match(&l.text)
                });
                if hit.is_some()
                    || clock.expired()
                    || Instant::now() >= hard
                    || cancel.is_cancelled()
                {
                    break hit;
                }
            };
            if found.is_none() {
                let seen: Vec<String> = out
                    .lines()
                    .iter()
                    .filter(|l| in_stream(l))
                    .map(|l| l.text.clone())
                    .collect();
                let observed = if seen.is_empty() {
                    format!("nothing at all on {stream_name}")
                } else {
                    tail_text(&seen.join("\n"))
                };
                return Err(fail(
                    format!(
                        "{dyno} did not print {label} on {stream_name} within {}",
                        humantime::format_duration(within)
                    ),
                    format!("{label} on {stream_name}"),
                    observed,
                ));
            }
        }
        if let Some(bad) = &e.not_contains {
            let bad = self.expand(bad, None, false);
            if let Some(l) = out
                .lines()
                .iter()
                .find(|l| in_stream(l) && l.text.contains(&bad))
            {
                return Err(fail(
                    format!("{dyno} printed `{bad}` on {stream_name}"),
                    format!("no `{bad}` on {stream_name}"),
                    l.text.clone(),
                ));
            }
        }
        Ok(())
    }

    fn expect_kv(&mut self, e: &ExpectKv) -> StepResult {
        let present: Vec<String> = e
            .keys_present
            .iter()
            .map(|k| self.expand(k, None, false))
            .collect();
        let absent: Vec<String> = e
            .keys_absent
            .iter()
            .map(|k| self.expand(k, None, false))
            .collect();
        let list = e
            .list_len
            .as_ref()
            .map(|l| (self.expand(&l.key, None, false), l.len));
        let Some(store) = self.stores.get(&e.store) else {
            return Err(fail(format!("no store `{}`", e.store), "", ""));
        };
        let judge = || -> StepResult {
            let writes = store.writes();
            if let Some(min) = e.min_writes {
                if writes < min {
                    return Err(fail(
                        format!(
                            "store `{}` saw {writes} write{} (at least {min} expected)",
                            e.store,
                            if writes == 1 { "" } else { "s" }
                        ),
                        format!("at least {min} writes"),
                        format!("{writes} writes; keys: {}", key_list(&store.keys("*"))),
                    ));
                }
            }
            if let Some(max) = e.max_writes {
                if writes > max {
                    return Err(fail(
                        format!(
                            "store `{}` saw {writes} writes (at most {max} expected)",
                            e.store
                        ),
                        format!("at most {max} writes"),
                        format!("{writes} writes; keys: {}", key_list(&store.keys("*"))),
                    ));
                }
            }
            for p in &present {
                if store.keys(p).is_empty() {
                    return Err(fail(
                        format!("store `{}` holds no key matching `{p}`", e.store),
                        format!("a key matching `{p}`"),
                        format!("keys: {}", key_list(&store.keys("*"))),
                    ));
                }
            }
            for p in &absent {
                let found = store.keys(p);
                if !found.is_empty() {
                    return Err(fail(
                        format!(
                            "store `{}` holds `{}`, which should not be there",
                            e.store, found[0]
                        ),
                        format!("no key matching `{p}`"),
                        format!("keys: {}", key_list(&found)),
                    ));
                }
            }
            if let Some((key, len)) = &list {
                let got = store.list_len(key);
                if got != *len {
                    return Err(fail(
                        format!(
                            "list `{key}` in store `{}` has {got} item(s), expected {len}",
                            e.store
                        ),
                        format!("{len} item(s) in `{key}`"),
                        format!("{got}: {:?}", store.list(key)),
                    ));
                }
            }
            Ok(())
        };
        let deadline = self.until(e.within.unwrap_or(Duration::ZERO));
        loop {
            match judge() {
                Ok(()) => return Ok(()),
                Err(f) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || self.cancel.is_cancelled() {
                        return Err(f);
                    }
                    store.wait_for_change(left.min(Duration::from_millis(50)));
                }
            }
        }
    }

    fn files(&mut self, f: &crate::lesson::step::Files) -> StepResult {
        let dir = self.sb.app.join(&f.path);
        let snap = files::snapshot(&dir).map_err(|e| {
            fail(
                format!("cannot read `{}`: {e}", f.path),
                format!("a folder `{}`", f.path),
                e.to_string(),
            )
        })?;
        if let Some(name) = &f.snapshot {
            self.transcript.push(format!(
                "find {} -type f | sort | xargs sha256sum > /tmp/{name}.sums   # snapshot `{name}`",
                shell_quote(&f.path)
            ));
            self.snapshots.insert(name.clone(), snap);
            return Ok(());
        }
        let (name, mode) = if let Some(n) = &f.unchanged {
            (n, files::Compare::Unchanged)
        } else if let Some(n) = &f.no_new_files {
            (n, files::Compare::NoNewFiles)
        } else if let Some(n) = &f.no_growth {
            (n, files::Compare::NoGrowth)
        } else {
            unreachable!("validated when the pack was loaded")
        };
        let before = self
            .snapshots
            .get(name)
            .ok_or_else(|| fail(format!("no snapshot `{name}`"), "", ""))?;
        self.transcript.push(format!(
            "find {} -type f | sort | xargs sha256sum | diff /tmp/{name}.sums -   # compare with `{name}`",
            shell_quote(&f.path)
        ));
        files::compare(before, &snap, mode, &f.path).map_err(|(m, e, o)| fail(m, e, o))
    }
}

/// A shell heredoc that writes a check script to `$CHECKS/REL` (pasted, it runs as is).
fn script_heredoc(rel: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut end = "EOF".to_string();
    while text.lines().any(|l| l == end) {
        end.push('_');
    }
    let path = format!("\"$CHECKS/{rel}\"");
    let mkdir = match rel.rsplit_once('/') {
        Some((dir, _)) => format!("mkdir -p \"$CHECKS/{dir}\" && "),
        None => String::new(),
    };
    let mut s = format!("{mkdir}cat > {path} <<'{end}'\n{text}");
    if !text.ends_with('\n') {
        s.push('\n');
    }
    s.push_str(&end);
    s
}

/// The shell variable holding a store's pid in the transcript: `KV_MAIN`.
fn store_var(name: &str) -> String {
    format!("KV_{}", name.replace(['.', '-'], "_").to_uppercase())
}

fn describe(resp: &Response) -> String {
    let mut s = format!("HTTP {} {}", resp.status, resp.reason);
    for (k, v) in &resp.headers {
        if ["location", "content-type"].contains(&k.to_ascii_lowercase().as_str()) {
            s.push_str(&format!("\n{k}: {v}"));
        }
    }
    let body = resp.text();
    if !body.trim().is_empty() {
        let cut: String = body.chars().take(600).collect();
        s.push_str("\n\n");
        s.push_str(cut.trim_end());
        if cut.len() < body.len() {
            s.push_str(" …");
        }
    }
    s
}

fn tail_text(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let from = lines.len().saturating_sub(12);
    let t = lines[from..].join("\n");
    if t.trim().is_empty() {
        "(no output)".into()
    } else {
        t
    }
}

fn key_list(keys: &[String]) -> String {
    if keys.is_empty() {
        return "(none)".into();
    }
    let shown: Vec<&str> = keys.iter().take(10).map(String::as_str).collect();
    let more = keys.len().saturating_sub(10);
    if more > 0 {
        format!("{} … and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn json_path<'v>(doc: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(doc, |v, part| match v {
        serde_json::Value::Object(m) => m.get(part),
        serde_json::Value::Array(a) => a.get(part.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Numbers compare by value (3 == 3.0); everything else exactly.
fn json_equal(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    match (want.as_f64(), got.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => want == got,
    }
}

/// A started process ended while something it left behind answers on its port.
fn daemonized(inst: &Instance, exit: ExitInfo, when: &str, what: String) -> StepFail {
    let when = if when.is_empty() {
        String::new()
    } else {
        format!(" {when}")
    };
    fail(
        format!(
            "{} ended ({exit}){when}, while something it left behind answers on its PORT={}: \
             the process must stay in the foreground (no daemonizing), so the platform can \
             supervise it",
            inst.dyno, inst.port
        ),
        what,
        format!(
            "the process ended with {exit}; port {} still answers",
            inst.port
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_heredoc_ends_on_a_line_the_script_lacks() {
        let plain = script_heredoc("a.py", b"print(1)\n");
        assert_eq!(plain, "cat > \"$CHECKS/a.py\" <<'EOF'\nprint(1)\nEOF");
        let tricky = script_heredoc("spy/x.py", b"s = \"\"\"\nEOF\n\"\"\"");
        assert!(
            tricky.starts_with("mkdir -p \"$CHECKS/spy\" && cat > \"$CHECKS/spy/x.py\" <<'EOF_'\n"),
            "{tricky}"
        );
        assert!(tricky.ends_with("\"\"\"\nEOF_"), "{tricky}");
        assert_eq!(store_var("cache-2"), "KV_CACHE_2");
    }

    #[test]
    fn targets_split() {
        assert_eq!(split_target("web.2"), ("web", Some(2)));
        assert_eq!(split_target("web"), ("web", None));
        assert_eq!(split_target("a.b"), ("a.b", None));
    }

    #[test]
    fn json_paths_and_numbers() {
        let d: serde_json::Value = serde_json::json!({"a": {"b": [1, {"c": 3}]}});
        assert_eq!(json_path(&d, "a.b.1.c"), Some(&serde_json::json!(3)));
        assert!(json_equal(&serde_json::json!(3.0), &serde_json::json!(3)));
        assert!(!json_equal(&serde_json::json!("3"), &serde_json::json!(3)));
    }
}
