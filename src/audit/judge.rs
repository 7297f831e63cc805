//! From what the probes observed to evidence, per factor.

use std::collections::BTreeMap;
use std::time::Duration;

use super::app::App;
use super::probe::{Ran, Reach, Role};
use super::report::{Evidence, Level};
use super::scan::{Facts, attached_vars, log_like};
use crate::check::Failure;

fn ev(level: Level, text: impl Into<String>) -> Evidence {
    Evidence {
        level,
        text: text.into(),
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// How the first start went.
#[derive(Debug, Clone)]
pub struct Started {
    /// How the web process can be reached; `None`: it did not start.
    pub reach: Option<Reach>,
    /// The readiness bound that worked.
    pub within: Duration,
    /// It came up, but only with the longer bound.
    pub slow: bool,
    /// Why it did not start (or what went wrong first), for the evidence.
    pub trouble: Option<String>,
    /// The failure of the first start, when there was one.
    pub failure: Option<Failure>,
}

/// The probes that ran, by id.
pub struct Runs<'a> {
    by_id: BTreeMap<&'a str, &'a Ran>,
}

impl<'a> Runs<'a> {
    pub fn new(runs: &'a [Ran]) -> Runs<'a> {
        Runs {
            by_id: runs.iter().map(|r| (r.id.as_str(), r)).collect(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&'a Ran> {
        self.by_id.get(id).copied()
    }

    fn prefixed(&self, p: &str) -> Vec<&'a Ran> {
        self.by_id
            .iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(_, r)| *r)
            .collect()
    }
}

/// Paths inside a probe's sandbox, as the app's own relative paths (`$SANDBOX/app/x` -> `x`).
pub fn tidy(s: &str) -> String {
    static SANDBOX_APP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:\$SANDBOX|/[^\s'\x22]*twelve-check-[A-Za-z0-9_]+)/app/")
            .expect("valid regex")
    });
    SANDBOX_APP.replace_all(s, "").into_owned()
}

/// The last lines a failing probe's processes printed, for the evidence.
pub fn output_tail(f: &Failure) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for o in &f.outputs {
        let mut own: Vec<&String> = o.stderr.iter().chain(o.stdout.iter()).collect();
        if own.is_empty() {
            continue;
        }
        own.reverse();
        own.truncate(3);
        own.reverse();
        let own: Vec<String> = own.iter().map(|l| clip(l.trim())).collect();
        lines.push(format!(
            "{}{}: {}",
            o.process,
            o.exit.as_ref().map_or(String::new(), |e| format!(" ({e})")),
            own.join(" | ")
        ));
        if lines.len() >= 2 {
            break;
        }
    }
    (!lines.is_empty()).then(|| tidy(&lines.join("; ")))
}

/// A failure in one line: the engine's message, and what it observed when that adds to it.
fn said(f: &Failure) -> String {
    let mut s = f.message.clone();
    let obs = f.observed.trim();
    if !obs.is_empty() && !s.contains(obs) && obs.len() < 160 && !obs.contains('\n') {
        s.push_str(&format!(" (observed: {obs})"));
    }
    tidy(&s)
}

/// At most 120 characters of `s`.
fn clip(s: &str) -> String {
    if s.chars().count() <= 120 {
        return s.to_string();
    }
    let cut: String = s.chars().take(117).collect();
    format!("{cut}…")
}

fn not_started(st: &Started) -> Evidence {
    ev(
        Level::Unknown,
        format!(
            "not tested: {}",
            st.trouble
                .clone()
                .unwrap_or_else(|| "the web process did not start".into())
        ),
    )
}

/// A probe that failed somewhere before its own steps (store, build, release, start).
fn setup_trouble(r: &Ran) -> Option<Evidence> {
    if r.broken() {
        let f = r.report.failure.as_ref();
        return Some(ev(
            Level::Unknown,
            format!(
                "the probe could not run: {}",
                f.map_or("cancelled".to_string(), said)
            ),
        ));
    }
    let (role, f) = r.failed()?;
    matches!(
        role,
        Role::Store
            | Role::Build
            | Role::Release
            | Role::Start
            | Role::Wait
            | Role::Pause
            | Role::Snapshot
    )
    .then(|| {
        ev(
            Level::Unknown,
            format!("not tested ({}): {}", r.report.title, said(f)),
        )
    })
}

/// Evidence for every factor from the static facts, the first start and the probes.
pub fn judge(
    app: &App,
    facts: &Facts,
    st: &Started,
    runs: &Runs<'_>,
) -> BTreeMap<u8, (Vec<Evidence>, Vec<String>)> {
    let mut out: BTreeMap<u8, (Vec<Evidence>, Vec<String>)> = BTreeMap::new();
    for f in 1..=12u8 {
        let mut e = facts.evidence.get(&f).cloned().unwrap_or_default();
        let mut used: Vec<String> = Vec::new();
        match f {
            2 => dependencies(st, &mut e),
            3 => config(app, st, runs, &mut e, &mut used),
            5 => build_release_run(app, st, runs, &mut e, &mut used),
            6 => processes(app, st, runs, &mut e, &mut used),
            7 => port_binding(st, runs, &mut e, &mut used),
            8 => concurrency(app, st, runs, &mut e, &mut used),
            9 => disposability(app, st, runs, &mut e, &mut used),
            10 => parity(app, facts, runs, &mut e, &mut used),
            11 => logs(st, runs, &mut e, &mut used),
            12 => admin(app, facts, st, runs, &mut e, &mut used),
            _ => {}
        }
        out.insert(f, (e, used));
    }
    out
}

fn dependencies(st: &Started, e: &mut Vec<Evidence>) {
    let Some(f) = &st.failure else {
        return;
    };
    let text = output_tail(f).unwrap_or_default();
    if [
        "ModuleNotFoundError",
        "No module named",
        "Cannot find module",
        "cannot load such file",
        "LoadError",
    ]
    .iter()
    .any(|w| text.contains(w))
    {
        e.push(ev(
            Level::Note,
            format!(
                "the web process could not load a module ({text}): install what the manifest \
                 declares on this machine, or give the Procfile a `build:` that does"
            ),
        ));
    }
}

fn config(app: &App, st: &Started, runs: &Runs<'_>, e: &mut Vec<Evidence>, used: &mut Vec<String>) {
    let mut tested = 0;
    for r in runs.prefixed("without-") {
        let var = r.id.trim_start_matches("without-");
        used.push(r.id.clone());
        let declared = app.required_by.get(var);
        let req = declared.map_or(String::new(), |w| format!(" (required by {w})"));
        if r.passed() {
            tested += 1;
            e.push(ev(
                Level::Pass,
                format!("without {var}{req}, web stops at once and names it"),
            ));
            continue;
        }
        if let Some(t) = setup_trouble(r) {
            e.push(t);
            continue;
        }
        let Some((_, f)) = r.failed() else {
            continue;
        };
        tested += 1;
        let level = if declared.is_some() {
            Level::Fail
        } else {
            Level::Note
        };
        if f.message.contains("did not finish within") {
            e.push(ev(
                level,
                if declared.is_some() {
                    format!("{var} is declared required{req}, but web starts without it: a deploy that forgets it runs anyway, wrongly")
                } else {
                    format!("without {var}, web still starts ({var} is optional, or has a default)")
                },
            ));
        } else if f.message.contains("exit code 0") {
            e.push(ev(
                if declared.is_some() {
                    Level::Warn
                } else {
                    Level::Note
                },
                format!("without {var}{req}, web exits with code 0, as if it had succeeded"),
            ));
        } else if f.message.contains("did not print") {
            e.push(ev(
                if declared.is_some() { Level::Warn } else { Level::Note },
                format!("without {var}{req}, web stops, but its output does not say that {var} is missing"),
            ));
        } else {
            e.push(ev(Level::Note, format!("without {var}: {}", said(f))));
        }
    }
    if tested == 0 && !app.env.is_empty() && st.reach.is_none() {
        e.push(not_started(st));
    }
}

fn build_release_run(
    app: &App,
    st: &Started,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    if let Some(r) = runs.get("build-bare") {
        used.push(r.id.clone());
        if r.passed() {
            e.push(ev(
                Level::Pass,
                "the build runs with no config at all: one build can be released anywhere",
            ));
        } else if let Some((Role::BuildBare, f)) = r.failed() {
            let tail = output_tail(f).map_or(String::new(), |t| format!(": {t}"));
            e.push(ev(
                Level::Warn,
                format!("the build fails without the deploy's config{tail}: a build that needs config cannot be released to another environment"),
            ));
        } else if let Some(t) = setup_trouble(r) {
            e.push(t);
        }
    }
    if let Some(r) = runs.get("build-baked") {
        used.push(r.id.clone());
        match r.failed() {
            None if r.passed() => e.push(ev(
                Level::Pass,
                "the build's output holds none of the config's values",
            )),
            Some((Role::Baked, f)) => {
                let var = app
                    .env
                    .iter()
                    .find(|(_, v)| v.len() >= 6 && f.observed.contains(v.as_str()))
                    .map_or("the config".to_string(), |(k, _)| {
                        format!("the value of {k}")
                    });
                let place = f.observed.split(": ").next().unwrap_or("").to_string();
                e.push(ev(
                    Level::Fail,
                    format!("the build wrote {var} into its output ({place}): config baked into a build makes it one deploy's build; read config when the release starts"),
                ));
            }
            _ => {
                if let Some(t) = setup_trouble(r) {
                    e.push(t);
                }
            }
        }
    }
    if let Some(f) = &st.failure {
        if f.kind == "run" && f.message.contains("build") && st.reach.is_none() {
            e.push(ev(Level::Unknown, format!("the build failed: {}", said(f))));
        }
    }
    let Some(r) = runs.get("code-files") else {
        if st.reach.is_none() {
            e.push(not_started(st));
        }
        return;
    };
    used.push(r.id.clone());
    match r.failed() {
        None if r.passed() => e.push(ev(
            Level::Pass,
            "the code folder is exactly as released after web started and served requests",
        )),
        Some((Role::Unchanged, f)) => e.push(ev(
            Level::Fail,
            format!("web writes into its own code folder while it runs: {}; the release must stay as built (state and caches belong in backing services or TMPDIR)", f.message),
        )),
        _ => e.extend(setup_trouble(r)),
    }
}

fn processes(
    app: &App,
    st: &Started,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    let Some(r) = runs.get("restart") else {
        e.push(if st.reach.is_none() {
            not_started(st)
        } else {
            ev(Level::Unknown, "not tested: the web process does not listen on its PORT, so two instances cannot run side by side")
        });
        return;
    };
    used.push(r.id.clone());
    if r.reached_past(Role::Scale) {
        e.push(ev(Level::Pass, "two web instances ran side by side"));
    }
    if r.reached_past(Role::AfterRestart) {
        e.push(ev(
            Level::Pass,
            "web.1 answered again after kill -9 and a restart",
        ));
    }
    match r.failed() {
        None => {}
        Some((Role::Scale, f)) => e.push(ev(Level::Fail, format!("a second instance cannot run beside the first: {}", said(f)))),
        Some((Role::Kill | Role::Restart | Role::AfterRestart, f)) => e.push(ev(
            Level::Fail,
            format!("after kill -9, web.1 did not come back: {}", said(f)),
        )),
        Some((Role::StateWrite, f)) => e.push(ev(
            Level::Unknown,
            format!("the [state] write of twelve.toml failed, so state was not tested: {}", said(f)),
        )),
        Some((Role::StateShared, f)) => e.push(ev(
            Level::Fail,
            format!("what web.1 stored, web.2 cannot read: {}; state must live in a backing service every process shares", said(f)),
        )),
        Some((Role::StateKept, f)) => e.push(ev(
            Level::Fail,
            format!("after kill -9 and a restart, web.1 lost what it stored: {}", said(f)),
        )),
        Some((Role::NoTrace, f)) => {
            let file = tidy(f.observed.trim_start_matches("found in "));
            if log_like(&file) {
                e.push(ev(Level::Note, format!("a request's value was written to {file} (a log file: see Logs)")));
            } else {
                e.push(ev(
                    Level::Warn,
                    format!("a value sent in a request was written to {file}: state kept on a local disk is lost with the process and unseen by the others"),
                ));
            }
        }
        Some(_) => e.extend(setup_trouble(r)),
    }
    if r.passed() || matches!(r.failed(), Some((Role::NoTrace, _))) {
        if app.state.is_some() {
            e.push(ev(Level::Pass, "what web.1 stored was read through web.2, and again from web.1 after its kill -9 and restart"));
        } else {
            e.push(ev(
                Level::Unknown,
                "whether state is shared could not be tested: declare a request that stores something and one that reads it back ([state] in twelve.toml)",
            ));
        }
    }
    if r.reached_past(Role::NoTrace) {
        e.push(ev(
            Level::Pass,
            "a value sent in a request was written to no file (sandbox, HOME, TMPDIR, /tmp)",
        ));
    }
}

fn port_binding(st: &Started, runs: &Runs<'_>, e: &mut Vec<Evidence>, used: &mut Vec<String>) {
    used.push("start".into());
    match st.reach {
        Some(Reach::Port) => e.push(ev(
            Level::Pass,
            format!("web listened on the random PORT it was given, within {}", secs(st.within)),
        )),
        Some(Reach::Foreign(p)) => e.push(ev(
            Level::Fail,
            format!("web ignores its PORT: it listens on {p} instead, so the router finds nothing where it looks and two instances cannot share a machine"),
        )),
        Some(Reach::Deaf) => e.push(ev(
            Level::Fail,
            format!("web never listened on the PORT it was given ({})", st.trouble.clone().unwrap_or_default()),
        )),
        None => {
            let text = st.failure.as_ref().and_then(output_tail).unwrap_or_default();
            if text.contains("Address already in use") || text.contains("EADDRINUSE") {
                e.push(ev(
                    Level::Fail,
                    format!("web tried to listen on a port of its own, which was taken ({text}): it should listen on PORT"),
                ));
            } else {
                e.push(not_started(st));
            }
        }
    }
    if let Some(r) = runs.get("formation") {
        used.push(r.id.clone());
        if r.reached_past(Role::Scale) && r.reached_past(Role::Served) {
            e.push(ev(
                Level::Pass,
                "two instances at once, each answering on its own PORT",
            ));
        }
        match r.failed() {
            None => e.push(ev(
                Level::Pass,
                "each instance listens on its PORT and on nothing else",
            )),
            Some((Role::Listening, f)) => e.push(ev(Level::Fail, f.message.clone())),
            Some((Role::Served, f)) => e.push(ev(
                Level::Fail,
                format!("an instance did not answer on its PORT: {}", said(f)),
            )),
            _ => {}
        }
    }
    if let Some(r) = runs.get("no-port") {
        used.push(r.id.clone());
        match r.failed() {
            None if r.passed() => e.push(ev(Level::Pass, "without PORT, web stops (non-zero exit) rather than choosing a port itself")),
            Some((Role::NoPort, f)) if f.message.contains("did not finish") => e.push(ev(
                Level::Warn,
                "without PORT, web keeps running: it picks a port of its own when the platform gives none",
            )),
            Some((Role::NoPort, f)) => e.push(ev(Level::Warn, format!("without PORT: {}", said(f)))),
            _ => e.extend(setup_trouble(r)),
        }
    }
}

fn concurrency(
    app: &App,
    st: &Started,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    if let Some(f) = &st.failure {
        if f.message.contains("no daemonizing") {
            e.push(ev(Level::Fail, f.message.clone()));
        }
    }
    let others: Vec<&str> = app
        .formation()
        .into_iter()
        .filter(|t| *t != "web")
        .collect();
    if let Some(r) = runs.get("formation") {
        used.push(r.id.clone());
        match r.failed() {
            None => e.push(ev(
                Level::Pass,
                format!(
                    "web scaled to 2 (both ready){}, and every process stayed in the foreground",
                    if others.is_empty() { String::new() } else { format!(", with {} beside it", others.join(", ")) }
                ),
            )),
            Some((Role::Listening, _)) => e.push(ev(
                Level::Pass,
                "web scaled to 2 (both ready), and every process stayed in the foreground",
            )),
            Some((Role::Scale, f)) => e.push(ev(Level::Fail, format!("web cannot run as two instances: {}", said(f)))),
            Some((Role::Others, f)) => e.push(ev(Level::Fail, format!("a process type did not start: {}", said(f)))),
            Some((Role::Running, f)) => e.push(ev(
                Level::Fail,
                format!("{}: a process must stay in the foreground, supervised by the platform (no daemonizing, no exiting)", f.message),
            )),
            _ => e.extend(setup_trouble(r)),
        }
    } else if st.reach.is_none() && app.has_type("web") {
        e.push(not_started(st));
    } else if st.reach.is_some() {
        e.push(ev(Level::Unknown, "not scaled: web does not listen on its PORT, so two instances would fight over one port"));
    }
}

fn disposability(
    app: &App,
    st: &Started,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    used.push("start".into());
    if st.reach == Some(Reach::Port) {
        if st.slow {
            e.push(ev(
                Level::Warn,
                format!("web took longer than {} to accept connections (ready within {}): slow starts make every deploy, restart and scale-up slow", secs(app.ready_within), secs(st.within)),
            ));
        } else {
            e.push(ev(
                Level::Pass,
                format!("web was ready within {}", secs(st.within)),
            ));
        }
    }
    match runs.get("sigterm") {
        None => {
            if app.has_type("web") {
                e.push(not_started(st));
            }
        }
        Some(r) => {
            used.push(r.id.clone());
            let grace = secs(app.grace);
            match r.failed() {
                None if r.passed() => {
                    e.push(ev(Level::Pass, format!("after SIGTERM, web exited with code 0 within {grace}")));
                    if r.roles.contains(&Role::InFlight) {
                        e.push(ev(Level::Pass, "the request in flight at SIGTERM was answered, and new connections were refused meanwhile"));
                    } else {
                        e.push(ev(Level::Note, "no slow path declared (`slow` in twelve.toml): a request in flight at SIGTERM was not tested"));
                    }
                }
                Some((Role::Exit, f)) if f.observed.starts_with("still running") => e.push(ev(
                    Level::Fail,
                    format!("web was still running {grace} after SIGTERM: the platform then kills it (SIGKILL) and cuts off what it was doing"),
                )),
                Some((Role::Exit, f)) => e.push(ev(
                    Level::Fail,
                    format!("web ended with {} after SIGTERM: it does not shut down gracefully (on SIGTERM: stop listening, finish the requests in flight, exit 0)", f.observed.trim()),
                )),
                Some((Role::Await, f)) => e.push(ev(
                    Level::Fail,
                    format!("the request in flight at SIGTERM was not answered: {}", said(f)),
                )),
                Some((Role::Refused, f)) => e.push(ev(
                    Level::Fail,
                    format!("after SIGTERM, web still accepted new connections: {}", said(f)),
                )),
                Some((Role::InFlight, f)) => e.push(ev(Level::Unknown, format!("the slow path could not be requested: {}", said(f)))),
                _ => e.extend(setup_trouble(r)),
            }
        }
    }
    for r in runs.prefixed("sigterm-") {
        let t = r.id.trim_start_matches("sigterm-");
        used.push(r.id.clone());
        let grace = secs(app.grace);
        match r.failed() {
            None if r.passed() => e.push(ev(Level::Pass, format!("after SIGTERM, {t} exited with code 0 within {grace}"))),
            Some((Role::Exit, f)) if f.observed.starts_with("still running") => e.push(ev(
                Level::Fail,
                format!("{t} was still running {grace} after SIGTERM: the platform then kills it mid-job"),
            )),
            Some((Role::Exit, f)) => e.push(ev(
                Level::Warn,
                format!(
                    "{t} ended with {} after SIGTERM, not exit 0: a job in hand is lost unless the queue gets it back{}",
                    f.observed.trim(),
                    output_tail(f).map_or(String::new(), |t| format!(" ({t})"))
                ),
            )),
            Some((Role::Running, f)) => e.push(ev(Level::Unknown, format!("{t} was not running to be stopped: {}", said(f)))),
            _ => e.extend(setup_trouble(r)),
        }
    }
}

fn parity(
    app: &App,
    facts: &Facts,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    let attached = attached_vars(app);
    let outcome = |r: &Ran| -> Option<&'static str> {
        if r.passed() {
            return Some("stops");
        }
        match r.failed()? {
            (Role::EnvRun, f) if f.message.contains("did not finish") => Some("runs"),
            (Role::EnvRun, f) if f.message.contains("exit code 0") => Some("exits 0"),
            _ => None,
        }
    };
    for var in &facts.env_name_vars {
        let (Some(dev), Some(prod)) = (
            runs.get(&format!("env-{var}-development")),
            runs.get(&format!("env-{var}-production")),
        ) else {
            continue;
        };
        used.push(dev.id.clone());
        used.push(prod.id.clone());
        let without = if attached.is_empty() {
            "its backing services".to_string()
        } else {
            attached.join(", ")
        };
        match (outcome(dev), outcome(prod)) {
            (Some(a), Some(b)) if a != b => e.push(ev(
                Level::Fail,
                format!("without {without}, web {a} with {var}=development but {b} with {var}=production: development runs without (or with stand-ins for) what production needs, so it never tries the real thing"),
            )),
            (Some(a), Some(_)) => e.push(ev(
                Level::Pass,
                format!("web behaves the same with {var}=development and {var}=production (without {without}, it {a} in both)"),
            )),
            _ => e.push(ev(Level::Unknown, format!("{var}: the two runs could not be compared"))),
        }
    }
}

fn logs(st: &Started, runs: &Runs<'_>, e: &mut Vec<Evidence>, used: &mut Vec<String>) {
    match runs.get("log-output") {
        Some(r) => {
            used.push(r.id.clone());
            match r.failed() {
                None if r.passed() => e.push(ev(Level::Pass, "a request showed up as a line on stdout/stderr within 1s (unbuffered)")),
                Some((Role::Output, f)) if f.observed.starts_with("nothing at all") => e.push(ev(
                    Level::Fail,
                    "within 1s of a request, nothing at all appeared on stdout or stderr: the platform sees no event (output written to a file, or block-buffered)",
                )),
                Some((Role::Output, f)) => e.push(ev(
                    Level::Warn,
                    format!("no line naming the request appeared on stdout/stderr within 1s; the last it printed: {}", clip(f.observed.lines().last().unwrap_or("").trim())),
                )),
                _ => e.extend(setup_trouble(r)),
            }
        }
        None => e.push(if st.reach.is_none() {
            not_started(st)
        } else {
            ev(
                Level::Unknown,
                "no request could be sent (web listens on no port the audit can find)",
            )
        }),
    }
    if let Some(r) = runs.get("log-files") {
        used.push(r.id.clone());
        match r.failed() {
            None if r.passed() => e.push(ev(Level::Pass, "no file appeared or grew in the app's folder, HOME or TMPDIR while it ran and served")),
            Some((Role::Growth, f)) => {
                let names: Vec<String> = f
                    .message
                    .rsplit_once(": ")
                    .map(|(_, n)| n.split(", ").map(str::to_string).collect())
                    .unwrap_or_default();
                let logs: Vec<&String> = names.iter().filter(|n| log_like(n)).collect();
                if logs.is_empty() {
                    e.push(ev(Level::Warn, format!("{} while it ran and served: if that is a log, it belongs on stdout", f.message)));
                } else {
                    e.push(ev(
                        Level::Fail,
                        format!("the app writes its own log file ({}): write events to stdout, unbuffered, and let the platform route them", logs.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                    ));
                }
            }
            _ => e.extend(setup_trouble(r)),
        }
    }
    if let Some(r) = runs.get("restart") {
        if let Some((Role::NoTrace, f)) = r.failed() {
            let file = tidy(f.observed.trim_start_matches("found in "));
            if log_like(&file) {
                e.push(ev(
                    Level::Fail,
                    format!("a request was written to the file {file}: logs go to stdout"),
                ));
            }
        }
    }
}

fn admin(
    app: &App,
    facts: &Facts,
    st: &Started,
    runs: &Runs<'_>,
    e: &mut Vec<Evidence>,
    used: &mut Vec<String>,
) {
    if let Some(f) = &st.failure {
        if f.kind == "run" && f.message.contains("release") {
            e.push(ev(Level::Fail, format!("the release failed: {}", said(f))));
        }
    }
    if let Some(r) = runs.get("release-again") {
        used.push("start".into());
        used.push(r.id.clone());
        match r.failed() {
            None if r.passed() => {
                e.push(ev(Level::Pass, "the release ran as a one-off process with the same config as web, twice, exit 0 both times (repeatable)"));
                if st.reach.is_some() {
                    e.push(ev(Level::Pass, "web started after the release, with the same environment"));
                }
            }
            Some((Role::ReleaseAgain, f)) => e.push(ev(
                Level::Fail,
                format!("the release failed when run a second time: {}; one-off tasks such as migrations must be safe to repeat", said(f)),
            )),
            _ => e.extend(setup_trouble(r)),
        }
    }
    for (i, (path, at, destructive)) in facts.admin_paths.iter().enumerate() {
        if *destructive {
            continue;
        }
        let Some(r) = runs.get(&format!("admin-{i}")) else {
            continue;
        };
        used.push(r.id.clone());
        match r.failed() {
            None if r.passed() => e.push(ev(
                Level::Pass,
                format!("{path} ({at}) is not served: POST and GET are refused"),
            )),
            Some((Role::Admin, f)) => {
                let status: u16 = f
                    .observed
                    .strip_prefix("HTTP ")
                    .and_then(|s| s.split_whitespace().next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let what = f
                    .message
                    .split(" answered")
                    .next()
                    .unwrap_or(&f.message)
                    .to_string();
                // A path that names a task (a migration, a seed) did the task; a page
                // called admin may only be a dashboard.
                let task = ["migrat", "seed", "maintenance", "cron", "task", "job"]
                    .iter()
                    .any(|w| path.to_ascii_lowercase().contains(w));
                if task && (200..300).contains(&status) {
                    e.push(ev(
                        Level::Fail,
                        format!("{what} answered {status}: an admin task runs inside the web process, on request; run it as a one-off process (a Procfile `release:` or `twelve run`-style command) with the same code and config"),
                    ));
                } else if (200..300).contains(&status) {
                    e.push(ev(Level::Warn, format!("{what} answered {status}: if it runs admin tasks, run them as one-off processes instead")));
                } else {
                    e.push(ev(Level::Warn, format!("{what}: {}", said(f))));
                }
            }
            _ => e.extend(setup_trouble(r)),
        }
    }
    let tested = e
        .iter()
        .any(|x| x.level != Level::Note && x.level != Level::Warn);
    if !tested && !app.has_type("release") && facts.admin_paths.is_empty() {
        e.push(ev(
            Level::Unknown,
            "no one-off process type (release:) and no admin endpoint found: nothing to run",
        ));
    }
}
