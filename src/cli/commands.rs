//! The plain commands.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use super::paint::Paint;
use super::{ClassFormat, Cli, Command, Format, LessonsCommand, ReportFormat, report};
use crate::check::{self, CancelToken, LessonReport, Outcome};
use crate::lesson::{Lesson, Pack};
use crate::sandbox::{self, Python};
use crate::workspace::{Status, Workspace};

/// Exit codes: 0 passed, 1 a check failed, 2 usage, environment or pack error.
pub const FAILED: u8 = 1;
pub const TROUBLE: u8 = 2;
/// A check cancelled with Ctrl-C or a signal (128 + SIGINT, as shells report it).
pub const CANCELLED: u8 = 130;

pub fn run(mut cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(kind) = cli.store {
        crate::sandbox::store::use_kind(kind);
    }
    let Some(command) = cli.command.take() else {
        return crate::tui::run(cli.workspace.as_deref(), cli.lessons.as_deref());
    };
    match command {
        Command::Init {
            dir,
            classroom: None,
            ..
        } => init(dir, cli.lessons.as_deref()),
        Command::Init {
            dir,
            classroom: Some(kind),
            twelve_git,
        } => init_classroom(dir, cli.lessons.as_deref(), kind, twelve_git),
        Command::List => Ok(list(&Env::open(&cli)?)),
        Command::Check {
            lesson,
            all,
            format,
            verbose,
            save,
            grading,
        } => {
            let env = Env::open(&cli)?;
            let out = report::Outputs::new(&save, grading.as_deref(), &env.ws, &env.pack)?;
            check(&env, lesson.as_deref(), all, format, verbose, &out)
        }
        Command::Report { format, check } => progress_report(&Env::open(&cli)?, format, check),
        Command::Class { paths, format } => Ok(class(&cli, &paths, format)),
        Command::Lessons {
            command: LessonsCommand::New { name },
        } => {
            let pack = match &cli.lessons {
                Some(d) => d.clone(),
                None => std::env::current_dir()?,
            };
            super::scaffold::new_lesson(&pack, &name)
        }
        Command::Lessons {
            command: LessonsCommand::Notes { lesson },
        } => lesson_notes(&load_pack(cli.lessons.as_deref())?, &lesson),
        Command::Run { lesson, port, env } => {
            run_service(&Env::open(&cli)?, &lesson, port, &env.into_iter().collect())
        }
        Command::Hint { lesson } => hint(&Env::open(&cli)?, &lesson),
        Command::Solution { lesson, yes } => solution(&Env::open(&cli)?, &lesson, yes),
        Command::Reset {
            lesson,
            all,
            yes,
            clear_progress,
        } => reset(
            &Env::open(&cli)?,
            lesson.as_deref(),
            all,
            yes,
            clear_progress,
        ),
        Command::Update => {
            let env = Env::open(&cli)?;
            // `twelve --lessons DIR update`: from now on, the workspace uses that pack.
            if let Some(d) = &cli.lessons {
                let same = env
                    .ws
                    .lessons
                    .as_deref()
                    .and_then(|w| w.canonicalize().ok())
                    == d.canonicalize().ok();
                if !same {
                    env.ws.save_pack(d)?;
                    println!("The workspace now uses the lessons in {}.", d.display());
                }
            }
            update(&env)
        }
        Command::Mode { mode } => set_mode(&Env::open(&cli)?, mode),
        Command::Doctor => Ok(doctor(&cli)),
        Command::Audit {
            dir,
            env,
            env_file,
            kv,
            only,
            format,
            verbose,
        } => audit(dir, env, env_file, kv, only, format, verbose),
        Command::Kv { port } => kv(port),
        Command::Lessons {
            command:
                LessonsCommand::Verify {
                    only,
                    verbose,
                    no_variants,
                    format,
                },
        } => {
            if !matches!(format, Format::Human | Format::Json | Format::Junit) {
                bail!("`lessons verify --format` is human, json or junit");
            }
            let pack = match Pack::load(cli.lessons.as_deref()) {
                Ok(pack) => pack,
                // Named lessons can be verified while others in the pack are broken.
                Err(e) => match e.partial.as_deref() {
                    Some(partial)
                        if !only.is_empty() && only.iter().all(|k| partial.find(k).is_some()) =>
                    {
                        eprintln!("twelve: warning: other lessons are skipped; {e}");
                        partial.clone()
                    }
                    _ => return Err(anyhow::anyhow!("{e}")),
                },
            };
            super::verify::verify(
                &pack,
                &only,
                super::verify::Options {
                    verbose,
                    variants: !no_variants,
                    format,
                },
            )
        }
    }
}

/// Load the pack, turning pack errors into their full `file:line` listing.
pub fn load_pack(dir: Option<&Path>) -> anyhow::Result<Pack> {
    Pack::load(dir).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A workspace with its pack.
pub struct Env {
    pub ws: Workspace,
    pub pack: Pack,
}

impl Env {
    fn open(cli: &Cli) -> anyhow::Result<Env> {
        let ws = match &cli.workspace {
            Some(d) => {
                if !d.join(crate::workspace::STATE_DIR).is_dir() {
                    bail!(
                        "`{}` is not a workspace (it has no .twelve folder); create one with `twelve init`",
                        d.display()
                    );
                }
                Workspace::open(d.canonicalize()?)
            }
            None => {
                let here = std::env::current_dir()?;
                Workspace::find(&here).with_context(|| {
                    "no workspace here or in any parent folder; create one with `twelve init` and `cd` into it"
                        .to_string()
                })?
            }
        };
        if let (None, Some(d)) = (&cli.lessons, &ws.lessons) {
            if !d.is_dir() {
                bail!(
                    "{} names the lesson pack `{}`, which does not exist; put the pack back \
                     there, or edit `lessons` in that file",
                    ws.config_path().display(),
                    d.display()
                );
            }
        }
        let pack_dir = cli.lessons.clone().or_else(|| ws.lessons.clone());
        let pack = load_pack(pack_dir.as_deref())?;
        Ok(Env { ws, pack })
    }

    fn lesson(&self, key: &str) -> anyhow::Result<&Lesson> {
        self.pack.find(key).with_context(|| {
            let known: Vec<String> = self
                .pack
                .lessons
                .iter()
                .map(|l| format!("{} ({})", l.number, l.id))
                .collect();
            format!("no lesson `{key}`; the lessons are: {}", known.join(", "))
        })
    }

    fn progress(&self) -> crate::workspace::Progress {
        let (p, warning) = self.ws.load_progress();
        if let Some(w) = warning {
            eprintln!("twelve: {w}");
        }
        p
    }
}

fn init(dir: Option<PathBuf>, lessons: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pack = load_pack(lessons)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from("twelve-factor"));
    let ws = Workspace::init(&dir, &pack, lessons)?;
    let p = Paint::detect();
    println!(
        "{} a workspace with {} lessons in {}",
        p.green("Created"),
        pack.lessons.len(),
        ws.root.display()
    );
    println!("\nNext:\n  cd {}\n  twelve", shell_path(&dir));
    Ok(ExitCode::SUCCESS)
}

fn shell_path(p: &Path) -> String {
    crate::sandbox::http::shell_quote(&p.display().to_string())
}

fn list(env: &Env) -> ExitCode {
    let p = Paint::detect();
    let progress = env.progress();
    let next = progress.next_lesson(&env.pack).map(|l| l.number);
    for l in &env.pack.lessons {
        let lp = progress.lesson(l);
        let mark = match lp.status {
            Status::Passed => p.green("✓"),
            Status::Attempted => p.yellow("•"),
            Status::NotStarted => " ".into(),
        };
        let title = format!("{:>5}  {:<20} {}", l.label, l.factor_name, l.title);
        let arrow = if next == Some(l.number) {
            p.cyan("  ← next")
        } else {
            String::new()
        };
        let extra = if lp.attempts > 0 {
            p.dim(&format!(
                "  ({} attempt{}, {} hint{})",
                lp.attempts,
                plural(lp.attempts),
                lp.hints_revealed,
                plural(lp.hints_revealed)
            ))
        } else {
            String::new()
        };
        let stale = if lp.passed_but_failing_now() {
            p.yellow("  passed · last check failed")
        } else {
            String::new()
        };
        println!("{mark} {title}{stale}{extra}{arrow}");
    }
    println!(
        "\n{}/{} passed",
        progress.passed_count(&env.pack),
        env.pack.lessons.len()
    );
    ExitCode::SUCCESS
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Cancel `token` on Ctrl-C or SIGTERM; a second one kills everything and exits at once.
pub fn cancel_on_signals(token: &CancelToken) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let token = token.clone();
    std::thread::spawn(move || {
        let mut seen = 0;
        for _ in signals.forever() {
            seen += 1;
            token.cancel();
            if seen > 1 {
                // A second interrupt: the user wants out now. Destructors will not run, so
                // clean up explicitly first. This is the one place that exits directly.
                sandbox::cleanup_all();
                #[allow(clippy::exit)]
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

fn check(
    env: &Env,
    lesson: Option<&str>,
    all: bool,
    format: Format,
    verbose: bool,
    out: &report::Outputs,
) -> anyhow::Result<ExitCode> {
    let lessons: Vec<&Lesson> = match (lesson, all) {
        (_, true) => env.pack.lessons.iter().collect(),
        (Some(key), false) => vec![env.lesson(key)?],
        (None, false) => {
            // Inside a lesson folder: that lesson.
            let here = std::env::current_dir()?.canonicalize()?;
            match env
                .pack
                .lessons
                .iter()
                .find(|l| here.starts_with(env.ws.lesson_dir(l)))
            {
                Some(l) => vec![l],
                None => bail!("say which lesson to check (`twelve check 3`) or use --all"),
            }
        }
    };
    Python::get()?;
    let dirs: Vec<PathBuf> = lessons.iter().map(|l| env.ws.lesson_dir(l)).collect();
    for (l, d) in lessons.iter().zip(&dirs) {
        if !d.is_dir() {
            bail!(
                "the folder of lesson {} is missing: `{}` (restore it with `twelve reset {}`)",
                l.number,
                d.display(),
                l.number
            );
        }
    }
    // The JSON report carries the progress as the learner recorded it, before this run.
    let recorded = out
        .wants_progress(format)
        .then(|| report::recorded(&env.progress(), &env.pack));
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    let p = Paint::detect();
    let live = format == Format::Human && lessons.len() == 1 && std::io::stdout().is_terminal();
    let on_event = |e: check::Event| {
        if let check::Event::CheckStarted { index, .. } = e {
            let title = &lessons[0].checks[index].title;
            print!("  {} {title}…\r", p.dim("·"));
            let _ = std::io::stdout().flush();
        }
    };
    let jobs: Vec<(&Lesson, &Path)> = lessons
        .iter()
        .copied()
        .zip(dirs.iter().map(PathBuf::as_path))
        .collect();
    let reports = if live {
        println!(
            "{}",
            p.dim(&format!("checking lesson {}…", lessons[0].number))
        );
        vec![check::run_lesson_with(
            &env.pack,
            lessons[0],
            &dirs[0],
            &cancel,
            Some(&on_event),
            4,
        )]
    } else {
        check::run_lessons(&env.pack, &jobs, &cancel, None)
    };
    if live {
        print!("\x1b[2K");
    }
    // The verdict is shown even when it cannot be recorded (a read-only workspace).
    let unsaved = if cancel.is_cancelled() {
        None
    } else {
        env.ws
            .update_progress(|progress| {
                for (l, r) in lessons.iter().zip(&reports) {
                    if r.outcome != Outcome::Error {
                        progress.record(l, r);
                    }
                }
            })
            .map(|(_, warning)| {
                if let Some(w) = warning {
                    eprintln!("twelve: warning: {w}");
                }
            })
            .err()
    };
    match format {
        Format::Human => {
            for r in &reports {
                print!("{}", report::human(r, p, verbose));
            }
            if reports.len() > 1 {
                let passed = reports.iter().filter(|r| r.passed()).count();
                println!("\n{passed}/{} lessons passed", reports.len());
            }
            if let [r] = reports.as_slice() {
                if r.passed() {
                    let progress = env.progress();
                    match progress.next_lesson(&env.pack) {
                        Some(n) => println!(
                            "Next: lesson {} ({}) — `twelve solution {}` shows the reference fix.",
                            n.number, n.title, r.number
                        ),
                        None => println!("{}", p.green("All lessons passed. Well done!")),
                    }
                } else if r.outcome == Outcome::Failed {
                    println!(
                        "{}",
                        p.dim(&format!(
                            "Stuck? `twelve hint {}` reveals a hint.",
                            r.number
                        ))
                    );
                }
            }
        }
        Format::Json | Format::Junit | Format::Gradescope | Format::Md => {
            print!(
                "{}",
                out.render(format, &reports, recorded.as_ref(), verbose)
            );
        }
    }
    out.save(&reports, recorded.as_ref())?;
    if let Some(e) = unsaved {
        eprintln!("twelve: warning: this result could not be saved to your progress: {e:#}");
    }
    Ok(exit_for(&reports))
}

/// 0 when every lesson passed, 2 when one could not be checked, else 1.
pub fn exit_for(reports: &[LessonReport]) -> ExitCode {
    if reports.iter().any(|r| r.outcome == Outcome::Cancelled) {
        ExitCode::from(CANCELLED)
    } else if reports.iter().any(|r| r.outcome == Outcome::Error) {
        ExitCode::from(TROUBLE)
    } else if reports.iter().all(LessonReport::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

fn run_service(
    env: &Env,
    key: &str,
    port: u16,
    given: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let lesson = env.lesson(key)?;
    let dir = env.ws.lesson_dir(lesson);
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    let hook: crate::sandbox::output::LineHook = std::sync::Arc::new(|stream, line: &str| {
        use crate::sandbox::output::StreamKind;
        match stream {
            StreamKind::Stdout => println!("{line}"),
            StreamKind::Stderr => eprintln!("{line}"),
        }
    });
    let mut svc =
        crate::service::Service::start_with(&env.pack, lesson, &dir, port, Some(&hook), given)?;
    let p = Paint::detect();
    eprintln!(
        "{} lesson {} ({}) on {}",
        p.green("Running"),
        lesson.number,
        lesson.dir_name,
        p.bold(&svc.url)
    );
    for (name, url) in svc.stores() {
        eprintln!("  store `{name}`: {url}");
    }
    let vars: Vec<String> = svc.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    for line in format!("{} {}", vars.join(" "), svc.command).lines() {
        eprintln!("  {}", p.dim(line));
    }
    eprintln!("  {}", p.dim("Ctrl-C stops it."));
    loop {
        if let Some(exit) = svc.proc.try_exit() {
            // Let the last lines arrive.
            sandbox::wait_until(
                std::time::Instant::now() + Duration::from_millis(300),
                &|| false,
                || svc.proc.output.closed(),
            );
            eprintln!("{} the service ended ({exit})", p.yellow("Stopped:"));
            return Ok(ExitCode::from(FAILED));
        }
        if cancel.is_cancelled() {
            let exit = svc.stop();
            eprintln!("{} ({exit})", p.dim("stopped"));
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn hint(env: &Env, key: &str) -> anyhow::Result<ExitCode> {
    let lesson = env.lesson(key)?;
    let p = Paint::detect();
    let (progress, warning) = env.ws.update_progress(|progress| {
        let lp = progress.lesson_mut(lesson);
        lp.hints_revealed = (lp.hints_revealed + 1).min(lesson.hints.len() as u32);
    })?;
    if let Some(w) = warning {
        eprintln!("twelve: warning: {w}");
    }
    let shown = progress.lesson(lesson).hints_revealed as usize;
    for (i, h) in lesson.hints.iter().take(shown).enumerate() {
        let label = format!("Hint {}/{}:", i + 1, lesson.hints.len());
        println!(
            "{} {h}",
            if i + 1 == shown {
                p.bold(&label)
            } else {
                p.dim(&label)
            }
        );
    }
    if shown == lesson.hints.len() {
        println!(
            "{}",
            p.dim(&format!(
                "That was the last hint. `twelve solution {}` shows the reference fix.",
                lesson.number
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Ask a yes/no question on the terminal; without one, the answer is no.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// A coloured unified diff of the learner's files against the solution.
pub fn solution_diff(pack: &Pack, lesson: &Lesson, dir: &Path, p: Paint) -> String {
    use crate::lesson::diff::DiffLine;
    let mine = crate::lesson::read_folder(dir).unwrap_or_default();
    let mut out = String::new();
    for line in lesson.solution_diff(&pack.shared, &mine).lines() {
        let painted = match DiffLine::of(line) {
            DiffLine::Header => p.bold(line),
            DiffLine::Added => p.green(line),
            DiffLine::Removed => p.red(line),
            DiffLine::Hunk => p.cyan(line),
            DiffLine::Context => line.to_string(),
        };
        out.push_str(&painted);
        out.push('\n');
    }
    out
}

fn solution(env: &Env, key: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let lesson = env.lesson(key)?;
    let passed = env.progress().lesson(lesson).status == Status::Passed;
    if !passed
        && !yes
        && !confirm(&format!(
            "You have not passed lesson {} yet. Show the solution anyway?",
            lesson.number
        ))
    {
        eprintln!(
            "Not shown. (`twelve solution {} --yes` shows it without asking.)",
            lesson.number
        );
        return Ok(ExitCode::from(FAILED));
    }
    let diff = solution_diff(
        &env.pack,
        lesson,
        &env.ws.lesson_dir(lesson),
        Paint::detect(),
    );
    if diff.is_empty() {
        println!("Your files are the same as the reference solution.");
    } else {
        print!("{diff}");
    }
    Ok(ExitCode::SUCCESS)
}

fn reset(
    env: &Env,
    key: Option<&str>,
    all: bool,
    yes: bool,
    clear_progress: bool,
) -> anyhow::Result<ExitCode> {
    let lessons: Vec<&Lesson> = match (key, all) {
        (_, true) => env.pack.lessons.iter().collect(),
        (Some(k), false) => vec![env.lesson(k)?],
        (None, false) => bail!("say which lesson to reset (`twelve reset 3`) or use --all"),
    };
    let what = if all {
        "every lesson folder".to_string()
    } else {
        format!("`{}`", lessons[0].dir_name)
    };
    if !yes
        && !confirm(&format!(
            "Reset {what} to the starter files? Your changes there are lost (a git repository \
             in a lesson folder is kept)."
        ))
    {
        eprintln!("Nothing was reset. (`--yes` resets without asking.)");
        return Ok(ExitCode::from(FAILED));
    }
    let progress = env.progress();
    let has_progress = lessons
        .iter()
        .any(|l| progress.lessons.contains_key(&l.dir_name));
    let clear = clear_progress
        || (has_progress
            && !yes
            && confirm(&format!(
                "Also clear the progress of {what} (status, attempts, hints)?"
            )));
    for l in &lessons {
        env.ws.reset_lesson(&env.pack, l)?;
        println!("Reset {}", env.ws.lesson_dir(l).display());
    }
    if clear {
        env.ws.update_progress(|p| {
            for l in &lessons {
                p.lessons.remove(&l.dir_name);
            }
        })?;
        println!("Cleared the progress of {what}.");
    } else if has_progress {
        println!("Progress of {what} kept (`twelve reset --clear-progress` clears it too).");
    }
    Ok(ExitCode::SUCCESS)
}

/// Add the folders of lessons the workspace does not have yet; nothing else is written.
fn update(env: &Env) -> anyhow::Result<ExitCode> {
    let mut added = 0;
    for l in &env.pack.lessons {
        if env.ws.lesson_dir(l).exists() {
            continue;
        }
        env.ws.add_lesson(&env.pack, l)?;
        println!(
            "Added {} {} ({})",
            l.label,
            l.factor_name,
            env.ws.lesson_dir(l).display()
        );
        added += 1;
    }
    if added == 0 {
        println!(
            "The workspace already has every lesson of {}.",
            env.pack.source
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn doctor(cli: &Cli) -> ExitCode {
    let p = Paint::detect();
    let mut ok = true;
    let mut line = |good: bool, what: String, fix: &str| {
        if good {
            println!("{} {what}", p.green("✓"));
        } else {
            ok = false;
            println!("{} {what}\n    {} {fix}", p.red("✗"), p.bold("fix:"));
        }
    };
    match Python::get() {
        Ok(py) => line(
            true,
            format!(
                "python3 {}.{}.{} at {}",
                py.version.0,
                py.version.1,
                py.version.2,
                py.path.display()
            ),
            "",
        ),
        Err(e) => line(
            false,
            e.to_string(),
            "install Python 3.8 or newer (e.g. `apt-get install python3`, `brew install python`), or point TWELVE_PYTHON at one",
        ),
    }
    let git = std::process::Command::new("git").arg("--version").output();
    match git {
        Ok(o) if o.status.success() => line(
            true,
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
            "",
        ),
        _ => line(
            false,
            "git was not found".into(),
            "install git; lesson 1 is about version control",
        ),
    }
    match sandbox::free_port() {
        Ok(port) => line(true, format!("a free local port ({port})"), ""),
        Err(e) => line(
            false,
            format!("no free local port: {e}"),
            "check that 127.0.0.1 is usable",
        ),
    }
    match Pack::load(cli.lessons.as_deref()) {
        Ok(pack) => line(
            true,
            format!("{} lessons from {}", pack.lessons.len(), pack.source),
            "",
        ),
        Err(e) => line(
            false,
            format!("the lesson pack is broken:\n{e}"),
            "fix the files named above",
        ),
    }
    for (good, what, fix) in super::doctor::checks() {
        line(good, what, &fix);
    }
    let ws = cli.workspace.clone().map(Workspace::open).or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| Workspace::find(&d))
    });
    match ws {
        Some(w) => println!("{} workspace at {}", p.green("✓"), w.root.display()),
        None => println!(
            "{} no workspace here (create one with `twelve init`)",
            p.dim("·")
        ),
    }
    if std::io::stdout().is_terminal() {
        match crossterm::terminal::size() {
            Ok((w, h)) => line(
                w >= 80 && h >= 24,
                format!("terminal {w}×{h}"),
                "make the terminal at least 80×24 for the tutorial",
            ),
            Err(e) => line(
                false,
                format!("terminal size unknown: {e}"),
                "run in a real terminal",
            ),
        }
        let truecolor = std::env::var("COLORTERM")
            .is_ok_and(|v| v.contains("truecolor") || v.contains("24bit"));
        let colours = if std::env::var_os("NO_COLOR").is_some() {
            "colours off (NO_COLOR)".to_string()
        } else if truecolor {
            "truecolor".to_string()
        } else {
            format!(
                "256 colours or fewer (TERM={})",
                std::env::var("TERM").unwrap_or_default()
            )
        };
        println!("{} {colours}", p.green("✓"));
    } else {
        println!(
            "{} not a terminal: the tutorial needs one; the plain commands work anywhere",
            p.dim("·")
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(TROUBLE)
    }
}

fn kv(port: u16) -> anyhow::Result<ExitCode> {
    let server = crate::sandbox::kv::KvServer::start(port)
        .with_context(|| format!("cannot listen on port {port}"))?;
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    eprintln!(
        "built-in key-value store on {} (Redis protocol); Ctrl-C stops it",
        server.url()
    );
    while !cancel.is_cancelled() {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    Ok(ExitCode::SUCCESS)
}

/// `init --classroom`: a workspace (unless `dir` is one already) and the system's files.
fn init_classroom(
    dir: Option<PathBuf>,
    lessons: Option<&Path>,
    kind: crate::classroom::templates::Classroom,
    git: Option<String>,
) -> anyhow::Result<ExitCode> {
    use crate::classroom::templates::{self, Source, Written};
    let dir = dir.unwrap_or_else(|| PathBuf::from("twelve-factor"));
    let p = Paint::detect();
    let root = if dir.join(crate::workspace::STATE_DIR).is_dir() {
        println!(
            "{} is a workspace already: adding the classroom files",
            dir.display()
        );
        dir.canonicalize()?
    } else {
        init(Some(dir.clone()), lessons)?;
        dir.canonicalize()?
    };
    let source = Source::new(git);
    for w in templates::write(&root, kind, &source)? {
        match w {
            Written::Created(path) => println!("{} {}", p.green("Wrote"), path.display()),
            Written::Kept(path) => println!("{} {} (it exists)", p.dim("Kept"), path.display()),
        }
    }
    if source.is_placeholder() {
        eprintln!(
            "twelve: warning: CI installs twelve with `cargo install --git {}`: pass \
             `--twelve-git URL` or edit TWELVE_GIT in the files above",
            source.git
        );
    }
    if lessons.is_some() {
        eprintln!(
            "twelve: note: this workspace uses its own lesson pack; CI needs it too: commit the \
             pack and set TWELVE_LESSONS to its folder in the CI file"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `twelve report`.
fn progress_report(env: &Env, format: ReportFormat, check_now: bool) -> anyhow::Result<ExitCode> {
    use crate::classroom::envelope::CheckRun;
    use crate::classroom::learner::{ProgressReport, rows};
    let progress = env.progress();
    let verified = if check_now {
        Python::get()?;
        let dirs: Vec<PathBuf> = env
            .pack
            .lessons
            .iter()
            .map(|l| env.ws.lesson_dir(l))
            .collect();
        let jobs: Vec<(&Lesson, &Path)> = env
            .pack
            .lessons
            .iter()
            .zip(dirs.iter().map(PathBuf::as_path))
            .filter(|(_, d)| d.is_dir())
            .collect();
        let cancel = CancelToken::new();
        cancel_on_signals(&cancel)?;
        Some(CheckRun::new(
            check::run_lessons(&env.pack, &jobs, &cancel, None),
            None,
        ))
    } else {
        None
    };
    let learner = crate::classroom::origin::learner().or_else(|| {
        env.ws
            .root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
    });
    let r = ProgressReport::new(
        learner,
        progress.started.clone(),
        rows(&progress, &env.pack),
        verified,
    );
    match format {
        ReportFormat::Md => print!("{}", r.markdown()),
        ReportFormat::Html => print!("{}", r.html()),
        ReportFormat::Json => println!("{}", r.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `twelve class PATH...`.
fn class(cli: &Cli, paths: &[PathBuf], format: ClassFormat) -> ExitCode {
    // Names for lessons that only a progress file mentions; a broken pack only costs names.
    let pack = || Pack::load(cli.lessons.as_deref()).ok();
    let c = crate::classroom::class::load(paths, &pack);
    for k in &c.skipped {
        eprintln!("twelve: skipped {k}");
    }
    match format {
        ClassFormat::Md => print!("{}", c.markdown()),
        ClassFormat::Html => print!("{}", c.html()),
        ClassFormat::Csv => print!("{}", c.csv()),
        ClassFormat::Json => println!("{}", c.json()),
    }
    if c.learners.is_empty() {
        eprintln!("twelve: no report or workspace found in the paths given");
        ExitCode::from(TROUBLE)
    } else {
        ExitCode::SUCCESS
    }
}

/// `twelve lessons notes N`.
fn lesson_notes(pack: &Pack, key: &str) -> anyhow::Result<ExitCode> {
    let lesson = pack
        .find(key)
        .with_context(|| format!("no lesson `{key}` in {}", pack.source))?;
    print!("{}", crate::classroom::notes::render(pack, lesson));
    Ok(ExitCode::SUCCESS)
}

/// `twelve audit`: the probes on the user's own app (see `crate::audit`).
fn audit(
    dir: PathBuf,
    env: Vec<(String, String)>,
    env_file: Option<PathBuf>,
    kv: Vec<String>,
    only: Option<crate::audit::Only>,
    format: crate::audit::Format,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    let cancel = CancelToken::new();
    cancel_on_signals(&cancel)?;
    let opts = crate::audit::Options {
        given: crate::audit::Given {
            dir,
            env,
            env_file,
            kv,
        },
        only: only.map(|o| o.0).unwrap_or_default(),
    };
    Ok(crate::audit::command(
        &opts,
        format,
        verbose,
        Paint::detect().on,
        &cancel,
    ))
}

/// `twelve mode [guided|challenge]`: print the mode, or set it.
fn set_mode(env: &Env, mode: Option<crate::lesson::challenge::Mode>) -> anyhow::Result<ExitCode> {
    let Some(mode) = mode else {
        println!("{}", env.ws.mode().describe());
        return Ok(ExitCode::SUCCESS);
    };
    let rewritten = env.ws.set_mode(&env.pack, mode)?;
    println!("{}", mode.describe());
    println!(
        "{rewritten} starter file{} you had not changed now {} the {} way.",
        if rewritten == 1 { "" } else { "s" },
        if rewritten == 1 { "reads" } else { "read" },
        mode.label()
    );
    Ok(ExitCode::SUCCESS)
}
