//! The terminal user interface, in the Elm style: a [`model::Model`], messages from one
//! channel, [`update::update`] returning effects for the [`runtime::Runtime`], and
//! [`view::view`] drawing the model.
//!
//! Threads (input reader, check runner, service output, file watcher, signals) only send
//! [`message::Message`]s; the event loop here is the only code that changes the model.

mod clipboard;
pub mod diff;
pub mod highlight;
pub mod input;
pub mod layout;
pub mod markdown;
pub mod message;
pub mod model;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;
pub mod watch;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod snapshot_tests;

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::lesson::Pack;
use crate::workspace::Workspace;

use message::Message;
use model::Model;

/// How often the screen refreshes while something runs (spinners, elapsed times).
const TICK: Duration = Duration::from_millis(100);

/// Open the tutorial.
pub fn run(workspace: Option<&Path>, lessons: Option<&Path>) -> anyhow::Result<ExitCode> {
    let ws = match workspace {
        Some(d) => {
            if !d.join(crate::workspace::STATE_DIR).is_dir() {
                bail!(
                    "`{}` is not a workspace (it has no .twelve folder); create one with `twelve init`",
                    d.display()
                );
            }
            Some(Workspace::open(d.canonicalize()?))
        }
        None => Workspace::find(&std::env::current_dir()?),
    };
    let pack_dir = lessons
        .map(Path::to_path_buf)
        .or_else(|| ws.as_ref().and_then(|w| w.lessons.clone()));
    let pack = Arc::new(Pack::load(pack_dir.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?);
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the tutorial needs a terminal; the plain commands work anywhere (`twelve --help`)");
    }
    let (progress, warning) = ws
        .as_ref()
        .map(Workspace::load_progress)
        .unwrap_or_default();

    let (tx, rx) = mpsc::channel();
    let mut tui = terminal::Tui::init().context("cannot set up the terminal")?;
    let size = tui
        .terminal
        .size()
        .map_or((80, 24), |s| (s.width, s.height));
    let mut model = Model::new(Arc::clone(&pack), ws.clone(), progress, size);
    model.color = theme::ColorMode::detect();
    model.flash = warning;
    model.editor = runtime::editor_command();
    if let Some(w) = &ws {
        model.use_settings(&w.tui_settings());
        model.mode = w.mode();
    }

    let input = input::Input::spawn(tx.clone());
    let mut runtime = runtime::Runtime::new(
        tx.clone(),
        Arc::clone(&pack),
        lessons.map(Path::to_path_buf),
        ws,
        input,
    );
    spawn_background(&tx);
    let signals = forward_signals(&tx);

    let result = event_loop(&mut model, &mut runtime, &mut tui, &rx);
    runtime.shutdown();
    if let Some(h) = signals {
        h.close();
    }
    drop(tui);
    // A backstop: nothing this program started outlives it.
    crate::sandbox::cleanup_all();
    result.map(|()| ExitCode::SUCCESS)
}

/// Work that must not delay the first frame: find python3, warm the highlighter.
fn spawn_background(tx: &mpsc::Sender<Message>) {
    let t = tx.clone();
    std::thread::spawn(move || {
        if let Err(e) = crate::sandbox::Python::get() {
            let _ = t.send(Message::PythonMissing(e.to_string()));
        }
    });
    let t = tx.clone();
    std::thread::spawn(move || {
        highlight::warm();
        let _ = t.send(Message::SyntaxReady);
    });
}

/// SIGTERM and SIGHUP (and SIGINT sent by `kill`) end the TUI cleanly.
fn forward_signals(tx: &mpsc::Sender<Message>) -> Option<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).ok()?;
    let handle = signals.handle();
    let t = tx.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            let _ = t.send(Message::Terminate);
        }
    });
    Some(handle)
}

fn event_loop(
    model: &mut Model,
    runtime: &mut runtime::Runtime,
    tui: &mut terminal::Tui,
    rx: &mpsc::Receiver<Message>,
) -> anyhow::Result<()> {
    let panic_test = std::env::var_os("TWELVE_TEST_PANIC").is_some_and(|v| v == "1");
    let mut queue: VecDeque<Message> = VecDeque::new();
    for e in update::start(model) {
        queue.extend(runtime.run(e, tui));
    }
    let mut first = true;
    let mut last_tick = Instant::now();
    loop {
        while let Some(msg) = queue.pop_front() {
            model.now = Instant::now();
            for e in update::update(model, msg) {
                queue.extend(runtime.run(e, tui));
            }
        }
        if model.quit {
            return Ok(());
        }
        model.now = Instant::now();
        tui.terminal.draw(|f| view::view(model, f))?;
        if first {
            first = false;
            assert!(
                !panic_test,
                "TWELVE_TEST_PANIC=1: panicking after the first frame, as asked"
            );
        }
        let wait = if model.busy() {
            TICK
        } else {
            Duration::from_secs(1)
        };
        match rx.recv_timeout(wait) {
            Ok(m) => queue.push_back(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        // Take everything that is waiting, so a flood of output costs one frame, not many.
        while queue.len() < 5000 {
            match rx.try_recv() {
                Ok(m) => queue.push_back(m),
                Err(_) => break,
            }
        }
        queue.extend(runtime.poll());
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            queue.push_back(Message::Tick);
        }
    }
}
