//! The command line: argument parsing and the plain commands. `main.rs` only calls [`main`].

mod commands;
mod doctor;
pub mod paint;
pub mod report;
mod scaffold;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// An interactive tutorial for the Twelve-Factor App methodology.
///
/// Run `twelve` in a workspace for the tutorial, or `twelve init` to create one.
#[derive(Debug, Parser)]
#[command(name = "twelve", version, about, long_about = None)]
pub struct Cli {
    /// The workspace to use (default: found by walking up from the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Load the lessons from this folder (holding lessons/ and sandbox-apps/) instead of the
    /// built-in ones.
    #[arg(long, global = true, value_name = "DIR", env = "TWELVE_LESSONS")]
    pub lessons: Option<PathBuf>,

    /// The store a check's `kv` steps start: `builtin` (twelve's own) or `redis-server` (a
    /// private real Redis per store, which must be installed).
    #[arg(long, global = true, value_name = "STORE", env = "TWELVE_STORE", value_parser = crate::sandbox::store::parse_kind)]
    pub store: Option<crate::sandbox::store::StoreKind>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output formats of `check` and `lessons verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    /// Gradescope's autograder results.json (points: `--grading FILE`, docs/reports.md).
    Gradescope,
    /// A markdown summary (for `$GITHUB_STEP_SUMMARY` or a merge request).
    Md,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

/// Output formats of `class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassFormat {
    Md,
    Html,
    Csv,
    Json,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace with one folder per lesson (default: ./twelve-factor).
    Init {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Also write what this CI system or grader needs to check every push (an existing
        /// workspace gets just these files).
        #[arg(long, value_enum, value_name = "SYSTEM")]
        classroom: Option<crate::classroom::templates::Classroom>,
        /// The git repository CI installs twelve from (`cargo install --git URL`).
        #[arg(long, value_name = "URL", requires = "classroom")]
        twelve_git: Option<String>,
    },
    /// List the lessons and where you stand.
    List,
    /// Run a lesson's checks against your files.
    Check {
        /// A lesson number, id or folder name.
        lesson: Option<String>,
        /// Check every lesson (in parallel).
        #[arg(long, conflicts_with = "lesson")]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Show whole output tails.
        #[arg(long, short)]
        verbose: bool,
        /// Also write the same results in another format to a file (repeatable), e.g.
        /// `--save json=twelve-report.json --save md=summary.md`.
        #[arg(long, value_name = "FORMAT=PATH")]
        save: Vec<String>,
        /// Points for `--format gradescope` (default: .twelve/grading.toml, else 1 per check).
        #[arg(long, value_name = "FILE")]
        grading: Option<PathBuf>,
    },
    /// Start a lesson's service in the foreground (Ctrl-C stops it).
    ///
    /// The lesson's defaults give it what it needs (a built-in store in REDIS_URL, a
    /// development SECRET_KEY); a variable set in your environment, or with --env, wins:
    /// `REDIS_URL=redis://127.0.0.1:6379/0 twelve run 4` attaches your own Redis.
    Run {
        /// A lesson number, id or folder name.
        lesson: String,
        /// The port (default: 8000 when free, else any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// A setting for the service, winning over the lesson's default (repeatable).
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        env: Vec<(String, String)>,
    },
    /// Reveal the next hint of a lesson.
    Hint {
        /// A lesson number, id or folder name.
        lesson: String,
    },
    /// Show the reference solution as a diff against your files.
    Solution {
        /// A lesson number, id or folder name.
        lesson: String,
        /// Do not ask, even if the lesson is not passed yet.
        #[arg(long, short)]
        yes: bool,
    },
    /// Put a lesson's starter files back.
    Reset {
        /// A lesson number, id or folder name.
        lesson: Option<String>,
        /// Reset every lesson.
        #[arg(long, conflicts_with = "lesson")]
        all: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Also clear the lesson's progress (status, attempts, hints); on a terminal
        /// without this flag, twelve asks.
        #[arg(long)]
        clear_progress: bool,
    },
    /// Add the pack's new lessons to this workspace (your files and progress stay as they are).
    Update,
    /// Print the workspace's mode, or set it: `guided` (the default: starters mark each flaw
    /// and lessons list what to change) or `challenge` (no markers, no steps: only the hints).
    ///
    /// Setting it rewrites the starter files you have not changed; your edits stay.
    Mode {
        #[arg(value_enum)]
        mode: Option<crate::lesson::challenge::Mode>,
    },
    /// Check that this machine can run the tutorial.
    Doctor,
    /// Audit your own app against the twelve factors: the course's probes, run on any
    /// app with a Procfile, in any language (docs/audit.md).
    ///
    /// Each process starts in a sandbox copy of DIR. Exit 0 when no factor fails, 1 when
    /// one does, 2 for usage errors.
    Audit {
        /// The app's folder, holding a Procfile (default: the current folder).
        #[arg(value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// A setting for every process (repeatable); `{sandbox}` is the sandbox's root, e.g.
        /// DATABASE_URL=sqlite:///{sandbox}/db.
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        env: Vec<(String, String)>,
        /// Settings from a dotenv file (KEY=VALUE lines); --env wins.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
        /// Start a built-in store (Redis protocol) and pass its URL in this variable
        /// (repeatable).
        #[arg(long = "kv", value_name = "NAME")]
        kv: Vec<String>,
        /// Only these factors, e.g. 3,7,9.
        #[arg(long, value_name = "LIST", value_parser = crate::audit::only_arg)]
        only: Option<crate::audit::Only>,
        #[arg(long, value_enum, default_value_t = crate::audit::Format::Human)]
        format: crate::audit::Format,
        /// Show every piece of evidence, passing ones too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Run the built-in key-value store (Redis protocol) in the foreground.
    #[command(after_help = crate::sandbox::kv::HELP)]
    Kv {
        #[arg(long, default_value_t = 6379)]
        port: u16,
    },
    /// Your progress: each lesson's status, first pass, checks before passing, hints, time.
    Report {
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
        /// Also re-execute every lesson's checks now and show their verdicts.
        #[arg(long)]
        check: bool,
    },
    /// An instructor's roll-up of many learners: JSON reports (CI artifacts) and workspaces.
    Class {
        /// Report files, or folders to search for reports and workspaces.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ClassFormat::Md)]
        format: ClassFormat,
    },
    /// Commands for lesson authors.
    Lessons {
        #[command(subcommand)]
        command: LessonsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// Prove a lesson pack: every starter fails what it should, every solution passes all.
    Verify {
        /// Only these lessons.
        only: Vec<String>,
        /// List every variant and rule, and show output tails of failing checks.
        #[arg(long, short)]
        verbose: bool,
        /// Skip the lessons' variants (starters and solutions only).
        #[arg(long)]
        no_variants: bool,
        /// `human`, `json` (one object per lesson) or `junit` (one test case per lesson).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// An instructor's notes on a lesson: what to discuss, and the wrong fixes the checks reject.
    Notes { lesson: String },
    /// Write a new lesson NN-slug (lesson.toml, lesson.md, starter, solution, a variant) into
    /// the pack at --lessons DIR (default: the current folder), ready for `lessons verify NN`.
    New {
        #[arg(value_name = "NN-slug")]
        name: String,
    },
}

/// Parse arguments, run, and turn errors into exit code 2 with a message.
pub fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == crate::sandbox::keeper::SUBCOMMAND)
    {
        crate::sandbox::keeper::serve();
        return ExitCode::SUCCESS;
    }
    if let Ok(exe) = std::env::current_exe() {
        crate::sandbox::keeper::enable(exe);
    }
    // Folders left by a `twelve` that was killed before it could clean up.
    crate::sandbox::keeper::sweep();
    install_panic_cleanup();
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("twelve: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// On a panic, kill every process and remove every sandbox before the default report.
fn install_panic_cleanup() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        crate::sandbox::cleanup_all();
        previous(info);
    }));
}
