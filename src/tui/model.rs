//! The state of the TUI: plain data that only [`super::update::update`] changes and
//! [`super::view::view`] draws. Handles to processes and threads live in the runtime instead.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ratatui::text::Line;

use crate::check::{CheckReport, LessonReport};
use crate::lesson::{Lesson, Pack};
use crate::sandbox::output::StreamKind;
use crate::workspace::{Progress, TuiSettings, Workspace};

use super::theme::ColorMode;

/// Lines kept in the run panel (older ones are counted, not kept).
pub const RUN_LINES: usize = 1000;

/// The twelve factors, for the map (a pack may hold lessons for only some of them).
pub const FACTORS: [&str; 12] = [
    "Codebase",
    "Dependencies",
    "Config",
    "Backing services",
    "Build, release, run",
    "Processes",
    "Port binding",
    "Concurrency",
    "Disposability",
    "Dev/prod parity",
    "Logs",
    "Admin processes",
];

/// Which full screen is showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// Outside a workspace: offer to create one at `dir`.
    NoWorkspace {
        dir: PathBuf,
        error: Option<String>,
    },
    Map,
    Lesson,
    /// Every lesson passed.
    Complete,
}

/// A pane of the lesson view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pane {
    Text,
    Files,
    Checks,
    Run,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Text, Pane::Files, Pane::Checks, Pane::Run];

    pub fn index(self) -> usize {
        match self {
            Pane::Text => 0,
            Pane::Files => 1,
            Pane::Checks => 2,
            Pane::Run => 3,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Text => "Lesson",
            Pane::Files => "Files",
            Pane::Checks => "Checks",
            Pane::Run => "Run",
        }
    }
}

/// A yes/no question waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Quit while a check or the service is running.
    Quit,
    /// Show the solution before passing.
    Solution,
    /// Put the starter files back.
    Reset,
}

/// Something drawn over the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    /// The hints revealed so far.
    Hints,
    /// The solution as a diff against the learner's files.
    Solution {
        lines: Vec<Line<'static>>,
        scroll: usize,
    },
    /// A failure's transcript, to select by hand (no clipboard tool).
    Transcript {
        text: String,
    },
    /// The first pass of a lesson.
    Passed,
    /// Before the first edit with an editor nobody chose: which one opens, and how to choose.
    Editor {
        path: PathBuf,
    },
    /// No usable python3: the lessons cannot run until there is one.
    PythonMissing(String),
}

/// One check's row in the check panel.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckState {
    Pending,
    Running { since: Instant },
    Done(CheckReport),
}

/// A check in the panel: its title and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    pub title: String,
    pub state: CheckState,
}

/// The check run in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveCheck {
    /// Events of older runs carry another id and are ignored.
    pub id: u64,
    pub started: Instant,
    /// Started by watch mode (a save), not asked for: not counted as an attempt.
    pub automatic: bool,
}

/// The run panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPanel {
    /// The id of the service run shown (events of others are ignored).
    pub id: Option<u64>,
    pub state: RunState,
    pub url: Option<String>,
    pub command: Option<String>,
    pub lines: VecDeque<(StreamKind, String)>,
    pub dropped: u64,
    /// When the process started (the panel says how long it has been waiting for the port).
    pub since: Option<Instant>,
}

/// Where the learner's service stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RunState {
    #[default]
    Idle,
    /// Started, or asked to start, but nothing accepts connections on its port yet.
    Starting,
    /// Its port accepts connections.
    Running,
    Stopping,
    /// It ended by itself, or could not start (the message says how).
    Ended(String),
}

impl RunState {
    /// Whether a process may be alive.
    pub fn active(&self) -> bool {
        matches!(
            self,
            RunState::Starting | RunState::Running | RunState::Stopping
        )
    }
}

/// An open lesson.
#[derive(Debug, Clone)]
pub struct LessonView {
    /// Index into `pack.lessons`.
    pub index: usize,
    pub dir: PathBuf,
    /// The rendered text, wrapped to `text_width`.
    pub text: Vec<Line<'static>>,
    pub text_width: u16,
    pub text_coloured: bool,
    /// The files of the lesson folder (relative names) and their contents.
    pub files: Vec<String>,
    pub contents: BTreeMap<String, String>,
    pub selected_file: usize,
    /// The selected file, highlighted.
    pub file_lines: Vec<Line<'static>>,
    pub focus: Pane,
    /// Scroll offsets by [`Pane::index`]; the run panel follows the end when `None`.
    pub scroll: [usize; 4],
    pub run_follow: bool,
    pub checks: Vec<CheckRow>,
    pub active: Option<ActiveCheck>,
    /// A file changed while checking: check again when done.
    pub recheck: bool,
    pub report: Option<LessonReport>,
    pub run: RunPanel,
    /// The focused pane alone on the whole screen (`z`).
    pub zoom: bool,
    /// How far the file viewer is scrolled sideways (columns), when it does not wrap.
    pub file_col: usize,
}

impl LessonView {
    /// The selected file's name.
    pub fn file(&self) -> Option<&str> {
        self.files.get(self.selected_file).map(String::as_str)
    }

    /// The first check that did not pass, with its report.
    pub fn first_failure(&self) -> Option<&CheckReport> {
        self.checks.iter().find_map(|c| match &c.state {
            CheckState::Done(r) if r.failure.is_some() => Some(r),
            _ => None,
        })
    }
}

/// The editor `e` opens: `$VISUAL`, `$EDITOR`, or one found on `PATH` (then `chosen` is false).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    pub command: String,
    /// Set by the learner (`$VISUAL` or `$EDITOR`), not found by twelve.
    pub chosen: bool,
}

impl Default for Editor {
    fn default() -> Editor {
        Editor {
            command: "vi".into(),
            chosen: true,
        }
    }
}

/// Everything the TUI shows.
#[derive(Debug, Clone)]
pub struct Model {
    pub pack: Arc<Pack>,
    pub workspace: Option<Workspace>,
    pub progress: Progress,
    pub screen: Screen,
    /// The selected row of the map (an index into the pack's lessons).
    pub map_selected: usize,
    /// How far the completion screen is scrolled (it is long on small terminals).
    pub complete_scroll: u16,
    /// Show the welcome text on the map (first visit).
    pub welcome: bool,
    pub lesson: Option<LessonView>,
    pub overlay: Option<Overlay>,
    pub size: (u16, u16),
    /// Re-check when a file of the lesson is saved (kept in the workspace's settings).
    pub watch: bool,
    /// Wrap long lines in the file viewer instead of scrolling sideways (kept too).
    pub wrap: bool,
    /// Guided or challenge (kept in the workspace's settings; `C` on the map switches).
    pub mode: crate::lesson::challenge::Mode,
    /// The editor `e` opens.
    pub editor: Editor,
    /// The fallback editor the learner was told about (kept, so it is said once).
    pub editor_explained: Option<String>,
    pub color: ColorMode,
    /// Highlight code (set once the syntaxes are warm).
    pub colour_code: bool,
    /// The time views use for elapsed times (set by the loop; fixed in tests).
    pub now: Instant,
    /// Counts ticks, for the spinner.
    pub tick: u64,
    /// A one-line message in the footer.
    pub flash: Option<String>,
    /// Why checks and runs cannot work (no usable python3).
    pub python_error: Option<String>,
    pub quit: bool,
    pub next_id: u64,
}

impl Model {
    /// A model at the map (or the no-workspace screen when `workspace` is `None`).
    pub fn new(
        pack: Arc<Pack>,
        workspace: Option<Workspace>,
        progress: Progress,
        size: (u16, u16),
    ) -> Model {
        let screen = match &workspace {
            Some(_) => Screen::Map,
            None => Screen::NoWorkspace {
                dir: PathBuf::from("twelve-factor"),
                error: None,
            },
        };
        Model {
            pack,
            workspace,
            progress,
            screen,
            map_selected: 0,
            complete_scroll: 0,
            welcome: false,
            lesson: None,
            overlay: None,
            size,
            watch: true,
            wrap: false,
            mode: crate::lesson::challenge::Mode::Guided,
            editor: Editor::default(),
            editor_explained: None,
            color: ColorMode::TrueColor,
            colour_code: false,
            now: Instant::now(),
            tick: 0,
            flash: None,
            python_error: None,
            quit: false,
            next_id: 1,
        }
    }

    /// Lesson `index`'s text as the mode shows it (challenge: no "What to change").
    pub fn lesson_text(&self, index: usize) -> String {
        let lesson = &self.pack.lessons[index];
        crate::lesson::challenge::lesson_view_text(lesson, &lesson.text, self.mode)
    }

    /// The open lesson's catalog entry.
    pub fn current(&self) -> Option<&Lesson> {
        self.lesson
            .as_ref()
            .and_then(|v| self.pack.lessons.get(v.index))
    }

    /// Whether a check or the service is running.
    pub fn busy(&self) -> bool {
        self.lesson
            .as_ref()
            .is_some_and(|v| v.active.is_some() || v.run.state.active())
    }

    /// Take the workspace's saved settings.
    pub fn use_settings(&mut self, s: &TuiSettings) {
        self.watch = s.watch;
        self.wrap = s.wrap;
        self.editor_explained.clone_from(&s.editor_explained);
    }

    /// The settings to save in the workspace.
    pub fn settings(&self) -> TuiSettings {
        TuiSettings {
            watch: self.watch,
            wrap: self.wrap,
            editor_explained: self.editor_explained.clone(),
        }
    }

    /// A fresh id for a check or service run.
    pub fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}
