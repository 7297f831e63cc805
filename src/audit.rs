//! `twelve audit`: the course's probes pointed at any app with a Procfile, in any language.
//!
//! Static probes read the app's files ([`scan`]); dynamic probes are check scenarios built
//! from the engine's own step kinds ([`probe`]) and run by [`crate::check::run_check`], each
//! in a fresh sandbox holding a copy of the app, with the sandbox's guarantees (own HOME and
//! TMPDIR, process groups, limits, cleanup, fair time bounds). [`judge`] turns both into a
//! verdict per factor, with evidence and a transcript. See docs/audit.md.

pub mod app;
mod judge;
pub mod probe;
pub mod render;
pub mod report;
pub mod scan;
pub mod source;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub use app::{Given, UsageError};
pub use report::{AuditReport, Evidence, FactorReport, Level, Verdict};

use crate::check::CancelToken;
use judge::{Runs, Started};
use probe::{Builder, Engine, Ran, Reach, Role};

/// Output formats of `twelve audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Md,
}

/// What to audit and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub given: Given,
    /// Only these factors (1-12); empty: all.
    pub only: Vec<u8>,
}

/// The factors `--only` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Only(pub Vec<u8>);

/// Parse `--only` for the command line.
pub fn only_arg(s: &str) -> Result<Only, String> {
    parse_only(s).map(Only)
}

/// Parse `--only 3,7,9` (numbers 1-12, or roman numerals).
pub fn parse_only(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n = part.parse::<u8>().ok().or_else(|| {
            let upper = part.to_ascii_uppercase();
            [
                "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
            ]
            .iter()
            .position(|r| *r == upper)
            .and_then(|i| u8::try_from(i + 1).ok())
        });
        match n {
            Some(n @ 1..=12) => out.push(n),
            _ => return Err(format!("`{part}` is not a factor (1-12)")),
        }
    }
    if out.is_empty() {
        return Err("name at least one factor, e.g. --only 3,7,9".into());
    }
    Ok(out)
}

/// How many probes run at once (`TWELVE_JOBS` caps it).
fn width() -> usize {
    std::env::var("TWELVE_JOBS")
        .ok()
        .and_then(|j| j.parse::<usize>().ok())
        .filter(|j| *j > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get)
                .clamp(2, 3)
        })
}

/// The longer bound for a web process that is slow to come up.
const SLOW_WITHIN: Duration = Duration::from_secs(20);

/// Audit an app.
pub fn audit(opts: &Options, cancel: &CancelToken) -> Result<AuditReport, UsageError> {
    let started = Instant::now();
    let app = app::App::load(&opts.given)?;
    let facts = scan::scan(&app);
    let wanted = |f: u8| opts.only.is_empty() || opts.only.contains(&f);
    let mut notes = app.notes.clone();
    let health = app
        .health
        .clone()
        .or_else(|| facts.health.clone())
        .unwrap_or_else(|| "/".into());
    let dynamic = [3u8, 5, 6, 7, 8, 9, 10, 11, 12].iter().any(|f| wanted(*f));
    let mut runs: Vec<Ran> = Vec::new();
    let mut st = Started {
        reach: None,
        within: app.ready_within,
        slow: false,
        trouble: Some("no dynamic probe was asked for".into()),
        failure: None,
    };
    // The staging copy must outlive every probe; it is removed when this guard drops.
    let mut _staging = None;
    if dynamic {
        let dir = crate::sandbox::owned_tempdir("twelve-audit-")
            .map_err(|e| UsageError(format!("cannot create a temporary folder: {e}")))?;
        let staged = dir.path().join("app");
        app::stage(&app.dir, &staged)
            .map_err(|e| UsageError(format!("cannot copy `{}`: {e}", app.shown)))?;
        let engine = Engine::new(&staged, &app.shown);
        _staging = Some(dir);
        if app.has_type("web") {
            st = first_start(&app, &engine, &health, cancel, &mut runs);
        } else {
            st.trouble = Some("the Procfile has no `web` process type".into());
        }
        if let Some(t) = &st.trouble {
            if st.reach.is_none() {
                notes.push(format!("web did not start: {t}"));
            }
        }
        let b = Builder {
            app: &app,
            reach: st.reach.unwrap_or(Reach::Port),
            within: st.within,
            health: health.clone(),
        };
        let plans = plans(&app, &facts, &st, &b, &wanted);
        // A web process that binds a fixed port cannot run in two sandboxes at once.
        let w = if matches!(st.reach, Some(Reach::Foreign(_))) {
            1
        } else {
            width()
        };
        runs.extend(engine.run_all(&plans, w, cancel));
    }
    let evidence = judge::judge(&app, &facts, &st, &Runs::new(&runs));
    let mut factors = Vec::new();
    for (n, name) in report::FACTORS {
        if !wanted(n) {
            continue;
        }
        let (ev, used) = evidence.get(&n).cloned().unwrap_or_default();
        let mut transcript = Vec::new();
        let mut seen = BTreeSet::new();
        for id in used {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some(r) = runs.iter().find(|r| r.id == id) {
                if !transcript.is_empty() {
                    transcript.push(String::new());
                }
                transcript.extend(r.report.transcript.iter().cloned());
            }
        }
        factors.push(FactorReport {
            factor: n,
            name: name.to_string(),
            verdict: FactorReport::verdict_of(&ev),
            evidence: ev,
            transcript,
        });
    }
    if cancel.is_cancelled() {
        notes.push("cancelled: probes that did not run are unknown".into());
    }
    notes.push(format!(
        "{} files read; {} probes run",
        facts.files,
        runs.len()
    ));
    Ok(AuditReport {
        schema: report::SCHEMA,
        app: app.shown.clone(),
        factors,
        notes,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Start the web process once, alone: does it come up on its PORT, how soon, or where else?
fn first_start(
    app: &app::App,
    engine: &Engine,
    health: &str,
    cancel: &CancelToken,
    runs: &mut Vec<Ran>,
) -> Started {
    let b = Builder {
        app,
        reach: Reach::Port,
        within: app.ready_within,
        health: health.to_string(),
    };
    let smoke = engine.run(&b.smoke(app.ready_within), cancel);
    let mut st = Started {
        reach: None,
        within: app.ready_within,
        slow: false,
        trouble: None,
        failure: smoke.report.failure.clone(),
    };
    let classify = |r: &Ran, st: &mut Started| -> bool {
        let Some((role, f)) = r.failed() else {
            st.reach = Some(Reach::Port);
            return true;
        };
        let tail = judge::output_tail(f).map_or(String::new(), |t| format!(": {t}"));
        match role {
            Role::Served => {
                st.reach = Some(Reach::Port);
                st.trouble = Some(format!(
                    "web listened, but did not answer GET {health}: {}",
                    f.message
                ));
                true
            }
            Role::Start => {
                if let Some(port) = elsewhere(&f.observed) {
                    st.reach = Some(Reach::Foreign(port));
                    st.trouble = Some(format!("web listens on {port} instead of its PORT"));
                    true
                } else if f.message.contains("was not ready within") {
                    st.trouble = Some(f.message.clone());
                    false
                } else {
                    st.trouble = Some(format!("{}{tail}", f.message));
                    true
                }
            }
            _ => {
                st.trouble = Some(format!("{}{tail}", f.message));
                true
            }
        }
    };
    let decided = classify(&smoke, &mut st);
    runs.push(smoke);
    if decided || cancel.is_cancelled() {
        return st;
    }
    // Alive but not listening yet: give it longer, to tell a slow start from a deaf one.
    let again = engine.run(&b.smoke(SLOW_WITHIN), cancel);
    st.failure.clone_from(&again.report.failure);
    st.trouble = None;
    if classify(&again, &mut st) {
        if st.reach == Some(Reach::Port) {
            st.slow = true;
            st.within = SLOW_WITHIN;
        }
    } else {
        st.reach = Some(Reach::Deaf);
        st.trouble = Some(format!(
            "not listening on PORT after {}",
            humantime::format_duration(SLOW_WITHIN)
        ));
    }
    let mut again = again;
    again.id = "start-slow".into();
    runs.push(again);
    st
}

/// The port a process listens on instead of its PORT, from the readiness failure.
fn elsewhere(observed: &str) -> Option<u16> {
    let rest = observed.split("the process listens on ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Every probe worth running after the first start.
fn plans(
    app: &app::App,
    facts: &scan::Facts,
    st: &Started,
    b: &Builder<'_>,
    wanted: &dyn Fn(u8) -> bool,
) -> Vec<probe::Plan> {
    let mut p = Vec::new();
    let up = st.reach.is_some();
    let port = st.reach == Some(Reach::Port);
    let others: Vec<&str> = app
        .formation()
        .into_iter()
        .filter(|t| *t != "web")
        .collect();
    if port && (wanted(7) || wanted(8)) {
        p.push(b.formation());
    }
    if up && wanted(9) {
        p.push(b.sigterm());
    }
    if wanted(9) || (wanted(8) && !port) {
        for t in &others {
            p.push(b.sigterm_type(t));
        }
    }
    if port && wanted(6) {
        p.push(b.restart());
    }
    if up && wanted(5) {
        p.push(b.code_files());
    }
    if up && wanted(11) {
        p.extend(b.log_output());
        p.push(b.log_files());
    }
    if up && wanted(7) {
        p.push(b.no_port());
    }
    if up && wanted(3) {
        for var in app.env.keys().take(12) {
            p.push(b.without(var));
        }
    }
    if wanted(10) && app.has_type("web") {
        let attached = scan::attached_vars(app);
        for var in facts.env_name_vars.iter().take(2) {
            for value in ["development", "production"] {
                p.push(b.env_name(var, value, &attached));
            }
        }
    }
    if wanted(12) && app.has_type("release") && st.failure.as_ref().is_none_or(|f| f.kind != "run")
    {
        p.push(b.release_again());
    }
    if port && wanted(12) {
        for (i, (path, _, destructive)) in facts.admin_paths.iter().enumerate().take(4) {
            if !destructive {
                p.push(b.admin(i, path));
            }
        }
    }
    if wanted(5) && app.has_type("build") {
        p.push(b.build_bare());
        let values: Vec<(String, String)> = app
            .env
            .iter()
            .filter(|(_, v)| v.len() >= 6 && !v.contains('{'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !values.is_empty() {
            p.push(b.build_baked(&values));
        }
    }
    p
}

/// `twelve audit`: run, print in `format`, and exit 0 (nothing failed), 1 (a factor
/// failed), 2 (usage) or 130 (cancelled).
pub fn command(
    opts: &Options,
    format: Format,
    verbose: bool,
    color: bool,
    cancel: &CancelToken,
) -> ExitCode {
    let report = match audit(opts, cancel) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("twelve audit: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match format {
        Format::Human => render::human(&report, verbose, color),
        Format::Json => render::json(&report),
        Format::Junit => render::junit(&report),
        Format::Md => render::md(&report),
    };
    print!("{text}");
    if cancel.is_cancelled() {
        return ExitCode::from(130);
    }
    ExitCode::from(u8::from(report.failed()))
}

/// The folder to audit when none is given.
pub fn default_dir() -> PathBuf {
    PathBuf::from(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lists() {
        assert_eq!(parse_only("3,7, 9").unwrap(), vec![3, 7, 9]);
        assert_eq!(parse_only("iv,XII").unwrap(), vec![4, 12]);
        assert!(parse_only("13").is_err());
        assert!(parse_only("").is_err());
    }

    #[test]
    fn the_port_it_listens_on_instead() {
        assert_eq!(
            elsewhere("nothing on port 4242 within 2s; the process listens on 8080 instead"),
            Some(8080)
        );
        assert_eq!(elsewhere("nothing within 2s"), None);
    }
}
