//! The runtime: carries out [`Effect`]s and owns what they start (the check thread, the
//! learner's service, the file watcher). Results come back as [`Message`]s, through the one
//! channel or directly as the return value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::check::{self, CancelToken};
use crate::lesson::Pack;
use crate::sandbox::output::LineHook;
use crate::service::Service;
use crate::workspace::Workspace;

use super::input::Input;
use super::message::{Effect, Message, ServiceEvent};
use super::model::Editor;
use super::terminal::Tui;
use super::watch::Watcher;

/// Files bigger than this are listed but not shown.
const MAX_FILE: u64 = 256 * 1024;

/// Handles to everything running on the model's behalf.
pub struct Runtime {
    tx: Sender<Message>,
    pack: Arc<Pack>,
    /// The pack folder given on the command line (for a workspace created here).
    lessons: Option<PathBuf>,
    workspace: Option<Workspace>,
    input: Input,
    check: Option<(CancelToken, JoinHandle<()>)>,
    service: Option<(u64, Service)>,
    /// Tells the thread waiting for the service's port to give up (the service went).
    port_wait: Option<Arc<AtomicBool>>,
    /// Services being stopped in the background.
    stopping: Vec<JoinHandle<()>>,
    watcher: Option<Watcher>,
    /// Watches the open lesson's lesson.md in a pack folder.
    text_watcher: Option<Watcher>,
}

impl Runtime {
    pub fn new(
        tx: Sender<Message>,
        pack: Arc<Pack>,
        lessons: Option<PathBuf>,
        workspace: Option<Workspace>,
        input: Input,
    ) -> Runtime {
        Runtime {
            tx,
            pack,
            lessons,
            workspace,
            input,
            check: None,
            service: None,
            port_wait: None,
            stopping: Vec::new(),
            watcher: None,
            text_watcher: None,
        }
    }

    /// Carry out one effect; messages it produces at once are returned.
    pub fn run(&mut self, effect: Effect, tui: &mut Tui) -> Vec<Message> {
        match effect {
            Effect::LoadFiles(dir) => {
                let (files, mut order) = read_lesson_files(&dir);
                // The lesson's own files first, the shared client after them.
                order.sort_by_key(|n| (self.pack.shared.contains_key(n), n != "app.py", n.clone()));
                vec![Message::FilesLoaded { dir, files, order }]
            }
            Effect::StartCheck { id, lesson, dir } => {
                self.start_check(id, lesson, dir);
                Vec::new()
            }
            Effect::CancelCheck => {
                if let Some((cancel, _)) = &self.check {
                    cancel.cancel();
                }
                Vec::new()
            }
            Effect::StartService { id, lesson, dir } => self.start_service(id, lesson, &dir),
            Effect::StopService => {
                self.stop_service();
                Vec::new()
            }
            Effect::Watch(dir) => {
                self.watcher = None;
                match dir.map(|d| Watcher::start(&d, self.tx.clone())) {
                    Some(Ok(w)) => {
                        self.watcher = Some(w);
                        Vec::new()
                    }
                    Some(Err(e)) => {
                        vec![Message::Failed(format!("Watch mode is unavailable: {e}"))]
                    }
                    None => Vec::new(),
                }
            }
            Effect::WatchText(target) => {
                self.text_watcher = None;
                if let Some((lesson, path)) = target.filter(|(_, p)| p.is_file()) {
                    let tx = self.tx.clone();
                    let file = path.clone();
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    // Best effort: an author's convenience, so a watcher that cannot start
                    // is no error.
                    self.text_watcher = Watcher::start_with(
                        &dir,
                        move |paths| {
                            if !paths.contains(&file) {
                                return None;
                            }
                            let text = std::fs::read_to_string(&file).ok()?;
                            Some(Message::LessonTextChanged { lesson, text })
                        },
                        tx,
                    )
                    .ok();
                }
                Vec::new()
            }
            Effect::OpenEditor(path) => vec![Message::EditorClosed(self.edit(&path, tui))],
            Effect::Copy(text) => {
                let tx = self.tx.clone();
                std::thread::spawn(move || {
                    let _ = tx.send(Message::Copied(super::clipboard::copy(&text)));
                });
                Vec::new()
            }
            Effect::CopyToTerminal(text) => match tui.copy_osc52(&text) {
                Ok(()) => vec![Message::CopiedToTerminal(Ok(()))],
                Err(_) => vec![Message::CopiedToTerminal(Err(text))],
            },
            Effect::SaveSettings(settings) => match &self.workspace {
                Some(ws) => match ws.save_tui_settings(&settings) {
                    Ok(()) => Vec::new(),
                    Err(e) => vec![Message::Failed(format!(
                        "Could not save the setting: {e:#}"
                    ))],
                },
                None => Vec::new(),
            },
            Effect::SaveProgress(change) => match &self.workspace {
                Some(ws) => match ws.apply(&change) {
                    Ok((p, None)) => vec![Message::ProgressLoaded(p)],
                    Ok((p, Some(w))) => vec![Message::ProgressLoaded(p), Message::Failed(w)],
                    Err(e) => vec![Message::Failed(format!(
                        "Could not save your progress: {e:#}"
                    ))],
                },
                None => Vec::new(),
            },
            Effect::ShowSolution { lesson, dir } => {
                let lines = super::diff::solution(&self.pack, &self.pack.lessons[lesson], &dir);
                vec![Message::SolutionReady { lines }]
            }
            Effect::ResetLesson { lesson } => {
                let r = match &self.workspace {
                    Some(ws) => ws
                        .reset_lesson(&self.pack, &self.pack.lessons[lesson])
                        .map_err(|e| format!("Could not reset: {e:#}")),
                    None => Err("There is no workspace.".into()),
                };
                vec![Message::LessonReset(r)]
            }
            Effect::SetMode(mode) => match &self.workspace {
                Some(ws) => match ws.set_mode(&self.pack, mode) {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![Message::Failed(format!("Could not set the mode: {e:#}"))],
                },
                None => Vec::new(),
            },
            Effect::RenderText {
                lesson,
                width,
                text,
                mode,
            } => {
                let pack = Arc::clone(&self.pack);
                let tx = self.tx.clone();
                std::thread::spawn(move || {
                    let text = crate::lesson::challenge::lesson_view_text(
                        &pack.lessons[lesson],
                        &text,
                        mode,
                    );
                    let lines = super::markdown::render(&text, width, true);
                    let _ = tx.send(Message::TextRendered {
                        lesson,
                        width,
                        lines,
                    });
                });
                Vec::new()
            }
            Effect::HighlightFile { name, text } => {
                let tx = self.tx.clone();
                std::thread::spawn(move || {
                    let lines = super::highlight::highlight(&text, &name);
                    let _ = tx.send(Message::FileHighlighted { name, text, lines });
                });
                Vec::new()
            }
            Effect::CreateWorkspace(dir) => {
                let r = Workspace::init(&dir, &self.pack, self.lessons.as_deref())
                    .map(|ws| {
                        let (p, _) = ws.load_progress();
                        self.workspace = Some(ws.clone());
                        (ws, p)
                    })
                    .map_err(|e| format!("{e:#}"));
                vec![Message::WorkspaceCreated(r)]
            }
        }
    }

    fn start_check(&mut self, id: u64, lesson: usize, dir: PathBuf) {
        if let Some((cancel, handle)) = self.check.take() {
            cancel.cancel();
            // It was told to stop; its events carry an old id and are ignored.
            drop(handle);
        }
        let cancel = CancelToken::new();
        let token = cancel.clone();
        let pack = Arc::clone(&self.pack);
        let tx = self.tx.clone();
        let handle = std::thread::spawn(move || {
            let sink = |event: check::Event| {
                let _ = tx.send(Message::Check { id, event });
            };
            let report = check::run_lesson(&pack, &pack.lessons[lesson], &dir, &token, Some(&sink));
            let _ = tx.send(Message::CheckDone { id, report });
        });
        self.check = Some((cancel, handle));
    }

    fn start_service(&mut self, id: u64, lesson: usize, dir: &Path) -> Vec<Message> {
        // A restart (after a save) keeps the address the learner is using: stop the old
        // service here, briefly, so its port is free again.
        let mut port = 0;
        self.forget_port();
        if let Some((old_id, mut svc)) = self.service.take() {
            port = svc.port;
            let exit = svc.stop_within(std::time::Duration::from_secs(1));
            drop(svc);
            let _ = self.tx.send(Message::Service {
                id: old_id,
                event: ServiceEvent::Stopped(exit.to_string()),
            });
        }
        let tx = self.tx.clone();
        let hook: LineHook = Arc::new(move |stream, line: &str| {
            let _ = tx.send(Message::Service {
                id,
                event: ServiceEvent::Line(stream, line.to_string()),
            });
        });
        let started = Service::start(
            &self.pack,
            &self.pack.lessons[lesson],
            dir,
            port,
            Some(&hook),
        )
        .or_else(|_| Service::start(&self.pack, &self.pack.lessons[lesson], dir, 0, Some(&hook)));
        match started {
            Ok(svc) => {
                let vars: Vec<String> = svc.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let event = ServiceEvent::Started {
                    url: svc.url.clone(),
                    command: format!("{} {}", vars.join(" "), svc.command),
                };
                self.port_wait = Some(wait_for_port(
                    svc.port,
                    svc.listener_group(),
                    id,
                    self.tx.clone(),
                ));
                self.service = Some((id, svc));
                vec![Message::Service { id, event }]
            }
            Err(e) => vec![Message::Service {
                id,
                event: ServiceEvent::Failed(format!("{e:#}")),
            }],
        }
    }

    /// Stop waiting for the service's port.
    fn forget_port(&mut self) {
        if let Some(gone) = self.port_wait.take() {
            gone.store(true, Ordering::SeqCst);
        }
    }

    /// Stop the service in the background (it gets a grace period to finish).
    fn stop_service(&mut self) {
        self.forget_port();
        if let Some((id, mut svc)) = self.service.take() {
            let tx = self.tx.clone();
            self.stopping.push(std::thread::spawn(move || {
                let exit = svc.stop();
                drop(svc);
                let _ = tx.send(Message::Service {
                    id,
                    event: ServiceEvent::Stopped(exit.to_string()),
                });
            }));
        }
    }

    /// Notice a service that ended by itself.
    pub fn poll(&mut self) -> Vec<Message> {
        self.stopping.retain(|h| !h.is_finished());
        let Some((id, svc)) = &mut self.service else {
            return Vec::new();
        };
        let Some(exit) = svc.proc.try_exit() else {
            return Vec::new();
        };
        let id = *id;
        // Let its last lines arrive before saying it ended.
        let out = svc.output();
        crate::sandbox::wait_until(
            Instant::now() + Duration::from_millis(200),
            &|| false,
            || out.closed(),
        );
        self.service = None;
        self.forget_port();
        vec![Message::Service {
            id,
            event: ServiceEvent::Exited(exit.to_string()),
        }]
    }

    fn edit(&mut self, path: &Path, tui: &mut Tui) -> Result<(), String> {
        let editor = editor_command().command;
        let pause = self.input.pause();
        tui.suspend();
        // Through the shell, so EDITOR="code --wait" works as it does in git.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("editor")
            .arg(path)
            .status();
        let back = tui.resume();
        drop(pause);
        back.map_err(|e| format!("Could not take the terminal back: {e}"))?;
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("The editor `{editor}` ended with {s}.")),
            Err(e) => Err(format!("Could not start the editor `{editor}`: {e}")),
        }
    }

    /// Stop everything: cancel the check and wait for it briefly, stop the service.
    pub fn shutdown(&mut self) {
        self.input.stop();
        self.watcher = None;
        self.text_watcher = None;
        self.forget_port();
        if let Some((cancel, handle)) = self.check.take() {
            cancel.cancel();
            let deadline = Instant::now() + Duration::from_secs(3);
            crate::sandbox::wait_until(deadline, &|| false, || handle.is_finished());
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        if let Some((_, mut svc)) = self.service.take() {
            svc.stop();
        }
        for h in self.stopping.drain(..) {
            let _ = h.join();
        }
    }
}

/// The editor, in git's order: `$VISUAL`, `$EDITOR`, then nano when it is installed (it shows
/// its keys on screen), vi last.
pub fn editor_command() -> Editor {
    for var in ["VISUAL", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return Editor {
                    command: v,
                    chosen: true,
                };
            }
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let nano = std::env::split_paths(&path).any(|d| d.join("nano").is_file());
    Editor {
        command: if nano { "nano" } else { "vi" }.to_string(),
        chosen: false,
    }
}

/// How often the port is tried while the service starts.
const PORT_POLL: Duration = Duration::from_millis(100);

/// Tell run `id` when `127.0.0.1:port` accepts a connection (until `gone` is set). With
/// `owner`, only a listener of that process group counts: another program that took the port
/// meanwhile is not the learner's service.
fn wait_for_port(port: u16, owner: Option<i32>, id: u64, tx: Sender<Message>) -> Arc<AtomicBool> {
    let gone = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&gone);
    std::thread::spawn(move || {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        while !flag.load(Ordering::SeqCst) {
            let tried = Instant::now();
            if std::net::TcpStream::connect_timeout(&addr, PORT_POLL).is_ok()
                && owner.is_none_or(|g| crate::sandbox::sockets::owns_port(g, port))
            {
                let _ = tx.send(Message::Service {
                    id,
                    event: ServiceEvent::Listening,
                });
                return;
            }
            std::thread::sleep(PORT_POLL.saturating_sub(tried.elapsed()));
        }
    });
    gone
}

/// The text files of a lesson folder by relative name, and the names in order.
pub fn read_lesson_files(dir: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out, 0);
    let order = out.keys().cloned().collect();
    (out, order)
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name == "__pycache__" || name.starts_with('.') || !super::watch::relevant(&path) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if meta.is_dir() {
            if depth < 4 {
                walk(root, &path, out, depth + 1);
            }
        } else if meta.len() > MAX_FILE {
            out.insert(rel, format!("({} bytes: too big to show)", meta.len()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8(bytes).unwrap_or_else(|_| "(a binary file)".to_string());
            out.insert(rel, text);
        }
    }
}
