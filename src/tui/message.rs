//! What flows through the TUI: [`Message`]s into `update` (from the input reader, the check
//! thread, the service's output, the file watcher and finished effects), and [`Effect`]s out of
//! it (work the runtime does on the model's behalf).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::text::Line;

use crate::check::{self, LessonReport};
use crate::sandbox::output::StreamKind;
use crate::workspace::{Progress, Workspace};

/// Everything that can change the model.
#[derive(Debug, Clone)]
pub enum Message {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Time passed (drives spinners and elapsed times).
    Tick,
    /// A check of run `id` started or finished.
    Check {
        id: u64,
        event: check::Event,
    },
    /// Run `id` of a lesson's checks ended.
    CheckDone {
        id: u64,
        report: LessonReport,
    },
    /// News from service run `id`.
    Service {
        id: u64,
        event: ServiceEvent,
    },
    /// Files of the watched lesson folder were saved.
    FilesChanged(Vec<PathBuf>),
    /// The author saved the open lesson's lesson.md in the pack: its new text.
    LessonTextChanged {
        lesson: usize,
        text: String,
    },
    /// The lesson folder was read.
    FilesLoaded {
        dir: PathBuf,
        files: BTreeMap<String, String>,
        order: Vec<String>,
    },
    /// Highlighting is warm: re-render with colours.
    SyntaxReady,
    /// python3 cannot be used.
    PythonMissing(String),
    SolutionReady {
        lines: Vec<Line<'static>>,
    },
    /// A lesson's text, rendered with highlighted code at `width`.
    TextRendered {
        lesson: usize,
        width: u16,
        lines: Vec<Line<'static>>,
    },
    /// A file of the lesson folder, highlighted.
    FileHighlighted {
        name: String,
        text: String,
        lines: Vec<Line<'static>>,
    },
    EditorClosed(Result<(), String>),
    /// The transcript went to a clipboard tool (its name), or there is none (the text).
    Copied(Result<String, String>),
    /// The transcript was written to the terminal as an OSC 52 clipboard request, or could
    /// not be (the text, to show for selecting by hand).
    CopiedToTerminal(Result<(), String>),
    WorkspaceCreated(Result<(Workspace, Progress), String>),
    /// Progress as the file holds it now (after our change, with other programs' changes).
    ProgressLoaded(Progress),
    /// A lesson's files were reset (or could not be).
    LessonReset(Result<(), String>),
    /// Something went wrong doing an effect; shown in the footer.
    Failed(String),
    /// SIGTERM or SIGHUP: leave cleanly.
    Terminate,
}

/// News from the learner's running service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceEvent {
    /// The process started; nothing may listen on its port yet.
    Started {
        url: String,
        command: String,
    },
    /// Its port accepts connections.
    Listening,
    Line(StreamKind, String),
    /// The process ended by itself.
    Exited(String),
    /// It could not start.
    Failed(String),
    /// It was stopped on request.
    Stopped(String),
}

/// Work for the runtime: everything that touches processes, threads, files or the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read the lesson folder.
    LoadFiles(PathBuf),
    /// Run the checks of `pack.lessons[lesson]` against `dir`, as run `id`.
    StartCheck {
        id: u64,
        lesson: usize,
        dir: PathBuf,
    },
    CancelCheck,
    StartService {
        id: u64,
        lesson: usize,
        dir: PathBuf,
    },
    StopService,
    /// Watch this folder for saved files (None: stop watching).
    Watch(Option<PathBuf>),
    /// Watch lesson `lesson`'s lesson.md at this path in the pack (None: stop watching).
    WatchText(Option<(usize, PathBuf)>),
    OpenEditor(PathBuf),
    /// Put text on the clipboard.
    Copy(String),
    /// Ask the terminal to put text on the clipboard (OSC 52), when no clipboard tool can.
    CopyToTerminal(String),
    /// Keep the TUI's settings in the workspace.
    SaveSettings(crate::workspace::TuiSettings),
    /// Apply a change to the progress file (merged with what other programs wrote).
    SaveProgress(crate::workspace::ProgressChange),
    ShowSolution {
        lesson: usize,
        dir: PathBuf,
    },
    ResetLesson {
        lesson: usize,
    },
    CreateWorkspace(PathBuf),
    /// Render a lesson's text with highlighted code, off the UI thread.
    RenderText {
        lesson: usize,
        width: u16,
        /// The markdown to render (the text may have changed since the pack was loaded).
        text: String,
        mode: crate::lesson::challenge::Mode,
    },
    /// Keep the mode and rewrite the untouched starter files to match it.
    SetMode(crate::lesson::challenge::Mode),
    /// Highlight a file's text, off the UI thread.
    HighlightFile {
        name: String,
        text: String,
    },
}
