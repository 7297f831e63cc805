//! `update`: the only place the model changes. It does no I/O: whatever needs the world
//! (processes, threads, files, the terminal) is returned as an [`Effect`] for the runtime.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::text::Line;

use crate::check::{Event, LessonReport, Outcome};
use crate::workspace::{ProgressChange, Status};

use super::layout;
use super::markdown;
use super::message::{Effect, Message, ServiceEvent};
use super::model::{
    ActiveCheck, CheckRow, CheckState, Confirm, LessonView, Model, Overlay, Pane, RUN_LINES,
    RunPanel, RunState, Screen,
};

/// Lines a wheel notch scrolls.
const WHEEL: isize = 3;
/// Columns ← → scroll the file viewer.
const SIDEWAYS: isize = 8;

/// Decide the first screen: the next unfinished lesson, the map with a welcome on the first
/// visit, or the completion screen.
pub fn start(m: &mut Model) -> Vec<Effect> {
    if m.workspace.is_none() {
        return Vec::new();
    }
    if !m.pack.lessons.is_empty() && m.progress.passed_count(&m.pack) == m.pack.lessons.len() {
        m.screen = Screen::Complete;
        return Vec::new();
    }
    let touched = m
        .progress
        .lessons
        .values()
        .any(|l| l.attempts > 0 || l.status != Status::NotStarted);
    let next = m.progress.next_lesson(&m.pack).map(|l| l.number);
    let index = next.and_then(|n| m.pack.lessons.iter().position(|l| l.number == n));
    if let Some(i) = index {
        m.map_selected = i;
    }
    match index {
        Some(i) if touched => open_lesson(m, i),
        _ => {
            m.welcome = true;
            m.screen = Screen::Map;
            Vec::new()
        }
    }
}

/// Apply one message.
pub fn update(m: &mut Model, msg: Message) -> Vec<Effect> {
    match msg {
        Message::Key(k) if k.kind == KeyEventKind::Press => key(m, k),
        Message::Key(_) => Vec::new(),
        Message::Mouse(e) => mouse(m, e),
        Message::Resize(w, h) => {
            m.size = (w, h);
            rewrap(m)
        }
        Message::Tick => {
            m.tick = m.tick.wrapping_add(1);
            Vec::new()
        }
        Message::Check { id, event } => {
            check_event(m, id, event);
            Vec::new()
        }
        Message::CheckDone { id, report } => check_done(m, id, report),
        Message::Service { id, event } => {
            service_event(m, id, event);
            Vec::new()
        }
        Message::FilesChanged(paths) => files_changed(m, &paths),
        Message::LessonTextChanged { lesson, text } => lesson_text_changed(m, lesson, text),
        Message::FilesLoaded { dir, files, order } => files_loaded(m, &dir, files, order),
        Message::SyntaxReady => {
            m.colour_code = true;
            let mut effects = rewrap(m);
            effects.extend(refresh_file(m));
            effects
        }
        Message::TextRendered {
            lesson,
            width,
            lines,
        } => {
            if let Some(v) = m
                .lesson
                .as_mut()
                .filter(|v| v.index == lesson && v.text_width == width)
            {
                v.text = lines;
                v.text_coloured = true;
            }
            Vec::new()
        }
        Message::FileHighlighted { name, text, lines } => {
            if let Some(v) = m.lesson.as_mut() {
                if v.file() == Some(name.as_str()) && v.contents.get(&name) == Some(&text) {
                    v.file_lines = lines;
                }
            }
            Vec::new()
        }
        Message::PythonMissing(e) => {
            m.overlay = Some(Overlay::PythonMissing(e.clone()));
            m.python_error = Some(e);
            Vec::new()
        }
        Message::SolutionReady { lines } => {
            m.overlay = Some(Overlay::Solution { lines, scroll: 0 });
            Vec::new()
        }
        Message::EditorClosed(r) => {
            if let Err(e) = r {
                m.flash = Some(e);
            }
            m.lesson
                .as_ref()
                .map(|v| vec![Effect::LoadFiles(v.dir.clone())])
                .unwrap_or_default()
        }
        Message::Copied(Ok(tool)) => {
            m.flash = Some(format!("Copied the transcript to the clipboard ({tool})."));
            Vec::new()
        }
        // No clipboard tool (a server, a container, SSH): most terminals take OSC 52.
        Message::Copied(Err(text)) => vec![Effect::CopyToTerminal(text)],
        Message::CopiedToTerminal(Ok(())) => {
            m.flash = Some(
                "Copied through the terminal (OSC 52). Nothing to paste? Y shows the lines.".into(),
            );
            Vec::new()
        }
        Message::CopiedToTerminal(Err(text)) => {
            m.overlay = Some(Overlay::Transcript { text });
            Vec::new()
        }
        Message::WorkspaceCreated(Ok((ws, progress))) => {
            m.flash = Some(format!("Created your workspace in {}", ws.root.display()));
            // A new workspace has the default settings (update does no I/O to read them).
            m.use_settings(&crate::workspace::TuiSettings::default());
            m.workspace = Some(ws);
            m.progress = progress;
            m.welcome = true;
            m.screen = Screen::Map;
            Vec::new()
        }
        Message::WorkspaceCreated(Err(e)) => {
            if let Screen::NoWorkspace { error, .. } = &mut m.screen {
                *error = Some(e);
            }
            Vec::new()
        }
        Message::LessonReset(r) => {
            m.flash = Some(match r {
                Ok(()) => "The lesson's starter files are back.".into(),
                Err(e) => e,
            });
            m.lesson
                .as_ref()
                .map(|v| vec![Effect::LoadFiles(v.dir.clone())])
                .unwrap_or_default()
        }
        Message::Failed(e) => {
            m.flash = Some(e);
            Vec::new()
        }
        Message::ProgressLoaded(p) => {
            m.progress = p;
            Vec::new()
        }
        Message::Terminate => quit(m),
    }
}

fn quit(m: &mut Model) -> Vec<Effect> {
    m.quit = true;
    vec![
        Effect::CancelCheck,
        Effect::StopService,
        Effect::Watch(None),
    ]
}

fn key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    // In raw mode Ctrl-C is a key like any other: it means "get me out".
    if k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('c' | 'C')) {
        return quit(m);
    }
    m.flash = None;
    if m.overlay.is_some() {
        return overlay_key(m, k);
    }
    match m.screen.clone() {
        Screen::NoWorkspace { dir, .. } => match k.code {
            KeyCode::Enter | KeyCode::Char('y' | 'Y') => vec![Effect::CreateWorkspace(dir)],
            KeyCode::Char('q') | KeyCode::Esc => quit(m),
            _ => Vec::new(),
        },
        Screen::Map => map_key(m, k),
        Screen::Complete => match k.code {
            KeyCode::Down | KeyCode::Char('j') => {
                m.complete_scroll = m.complete_scroll.saturating_add(1).min(60);
                Vec::new()
            }
            KeyCode::Up | KeyCode::Char('k') => {
                m.complete_scroll = m.complete_scroll.saturating_sub(1);
                Vec::new()
            }
            KeyCode::Enter | KeyCode::Esc | KeyCode::Char('m') => {
                m.screen = Screen::Map;
                Vec::new()
            }
            KeyCode::Char('?') => {
                m.overlay = Some(Overlay::Help);
                Vec::new()
            }
            KeyCode::Char('q') => quit(m),
            _ => Vec::new(),
        },
        Screen::Lesson => lesson_key(m, k),
    }
}

fn ask_quit(m: &mut Model) -> Vec<Effect> {
    if m.busy() {
        m.overlay = Some(Overlay::Confirm(Confirm::Quit));
        Vec::new()
    } else {
        quit(m)
    }
}

fn overlay_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(overlay) = m.overlay.clone() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Confirm(c) => match k.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                m.overlay = None;
                match c {
                    Confirm::Quit => quit(m),
                    Confirm::Solution => show_solution(m),
                    Confirm::Reset => match &m.lesson {
                        Some(v) => vec![Effect::ResetLesson { lesson: v.index }],
                        None => Vec::new(),
                    },
                }
            }
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                m.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Hints => match k.code {
            KeyCode::Char('h') => reveal_hint(m),
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {
                m.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Solution { lines, scroll } => {
            let page = (m.size.1.saturating_sub(8) as isize).max(1);
            let delta = match k.code {
                KeyCode::Down | KeyCode::Char('j') => 1,
                KeyCode::Up | KeyCode::Char('k') => -1,
                KeyCode::PageDown | KeyCode::Char(' ') => page,
                KeyCode::PageUp => -page,
                KeyCode::Home | KeyCode::Char('g') => isize::MIN / 2,
                KeyCode::End | KeyCode::Char('G') => isize::MAX / 2,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | 's') => {
                    m.overlay = None;
                    return Vec::new();
                }
                _ => 0,
            };
            let max = lines
                .len()
                .saturating_sub(usize::from(m.size.1.saturating_sub(6)));
            let scroll = scroll.saturating_add_signed(delta).min(max);
            m.overlay = Some(Overlay::Solution { lines, scroll });
            Vec::new()
        }
        Overlay::Passed => match k.code {
            KeyCode::Char('s') => {
                m.overlay = None;
                show_solution(m)
            }
            KeyCode::Char('n') => {
                m.overlay = None;
                next_lesson(m, 1)
            }
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {
                m.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Editor { path } => match k.code {
            KeyCode::Enter | KeyCode::Char('e' | 'y' | 'Y') => {
                m.overlay = None;
                m.editor_explained = Some(m.editor.command.clone());
                vec![Effect::SaveSettings(m.settings()), Effect::OpenEditor(path)]
            }
            KeyCode::Esc | KeyCode::Char('q' | 'n' | 'N') => {
                m.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        },
        Overlay::Help | Overlay::Transcript { .. } | Overlay::PythonMissing(_) => {
            if matches!(
                k.code,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | '?')
            ) {
                m.overlay = None;
            }
            Vec::new()
        }
    }
}

fn map_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Down | KeyCode::Char('j') => {
            m.map_selected = (m.map_selected + 1).min(m.pack.lessons.len().saturating_sub(1));
        }
        KeyCode::Up | KeyCode::Char('k') => m.map_selected = m.map_selected.saturating_sub(1),
        KeyCode::Home | KeyCode::Char('g') => m.map_selected = 0,
        KeyCode::End | KeyCode::Char('G') => {
            m.map_selected = m.pack.lessons.len().saturating_sub(1);
        }
        KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => {
            if m.map_selected < m.pack.lessons.len() {
                return open_lesson(m, m.map_selected);
            }
            m.flash = Some("This lesson pack holds no lessons.".into());
            return Vec::new();
        }
        KeyCode::Char('?') => m.overlay = Some(Overlay::Help),
        KeyCode::Char('C') if m.workspace.is_some() => {
            m.mode = m.mode.toggled();
            m.flash = Some(format!(
                "Mode: {}. Starter files you have not changed are rewritten to match.",
                m.mode.describe()
            ));
            return vec![Effect::SetMode(m.mode)];
        }
        KeyCode::Char('q') => return ask_quit(m),
        // The map is the top: Esc has nowhere to go back to, and must not quit (a learner
        // presses it twice to leave a lesson). It only puts the welcome away.
        KeyCode::Esc => {
            if m.welcome {
                m.welcome = false;
            } else {
                m.flash = Some("This is the lesson map: Enter opens a lesson, q quits.".into());
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Open lesson `index` (stopping whatever the previous one was running).
pub fn open_lesson(m: &mut Model, index: usize) -> Vec<Effect> {
    let mut effects = leave_lesson(m);
    let Some(ws) = &m.workspace else {
        return effects;
    };
    let lesson = &m.pack.lessons[index];
    let dir = ws.lesson_dir(lesson);
    let width = layout::text_width(m.size.0, m.size.1, false);
    let view = LessonView {
        index,
        dir: dir.clone(),
        text: markdown::render(&m.lesson_text(index), width, false),
        text_width: width,
        text_coloured: false,
        files: Vec::new(),
        contents: std::collections::BTreeMap::new(),
        selected_file: 0,
        file_lines: Vec::new(),
        focus: Pane::Text,
        scroll: [0; 4],
        run_follow: true,
        checks: pending_rows(lesson),
        active: None,
        recheck: false,
        report: None,
        run: RunPanel::default(),
        zoom: false,
        file_col: 0,
    };
    m.map_selected = index;
    m.lesson = Some(view);
    m.screen = Screen::Lesson;
    m.welcome = false;
    effects.push(Effect::LoadFiles(dir.clone()));
    effects.push(Effect::Watch(Some(dir)));
    if m.colour_code {
        effects.push(Effect::RenderText {
            lesson: index,
            width,
            text: lesson.text.clone(),
            mode: m.mode,
        });
    }
    if let crate::lesson::PackSource::Dir(d) = &m.pack.source {
        let md = d.join("lessons").join(&lesson.dir_name).join("lesson.md");
        effects.push(Effect::WatchText(Some((index, md))));
    }
    effects
}

fn pending_rows(lesson: &crate::lesson::Lesson) -> Vec<CheckRow> {
    lesson
        .checks
        .iter()
        .map(|c| CheckRow {
            title: c.title.clone(),
            state: CheckState::Pending,
        })
        .collect()
}

/// Close the open lesson: its check is cancelled, its service stopped, its folder unwatched.
fn leave_lesson(m: &mut Model) -> Vec<Effect> {
    let Some(v) = m.lesson.take() else {
        return Vec::new();
    };
    let mut effects = vec![Effect::Watch(None), Effect::WatchText(None)];
    if v.active.is_some() {
        effects.push(Effect::CancelCheck);
    }
    if v.run.state.active() {
        effects.push(Effect::StopService);
        m.flash = Some("The service of the lesson you left was stopped.".into());
    }
    effects
}

fn back_to_map(m: &mut Model) -> Vec<Effect> {
    let effects = leave_lesson(m);
    m.screen = Screen::Map;
    effects
}

fn next_lesson(m: &mut Model, step: isize) -> Vec<Effect> {
    let Some(v) = &m.lesson else {
        return Vec::new();
    };
    let target = v
        .index
        .checked_add_signed(step)
        .filter(|i| *i < m.pack.lessons.len());
    match target {
        Some(i) => open_lesson(m, i),
        None if step > 0 && m.progress.passed_count(&m.pack) == m.pack.lessons.len() => {
            let effects = leave_lesson(m);
            m.screen = Screen::Complete;
            effects
        }
        None => {
            m.flash = Some(
                if step > 0 {
                    "This is the last lesson."
                } else {
                    "This is the first lesson."
                }
                .into(),
            );
            Vec::new()
        }
    }
}

fn lesson_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    let page = isize::try_from(layout::inner_size(m.size, v.focus, v.zoom, v.focus).1)
        .unwrap_or(10)
        .max(2)
        - 1;
    match k.code {
        KeyCode::Char('q') => return ask_quit(m),
        KeyCode::Char('?') => m.overlay = Some(Overlay::Help),
        KeyCode::Esc => {
            if v.active.is_some() {
                m.flash = Some("Cancelling the check…".into());
                return vec![Effect::CancelCheck];
            }
            return back_to_map(m);
        }
        KeyCode::Char('m') => return back_to_map(m),
        KeyCode::Tab => v.focus = Pane::ALL[(v.focus.index() + 1) % 4],
        KeyCode::BackTab => v.focus = Pane::ALL[(v.focus.index() + 3) % 4],
        KeyCode::Char(digit @ '1'..='4') => v.focus = Pane::ALL[usize::from(digit as u8 - b'1')],
        KeyCode::Down | KeyCode::Char('j') => scroll(m, None, 1),
        KeyCode::Up | KeyCode::Char('k') => scroll(m, None, -1),
        KeyCode::PageDown | KeyCode::Char(' ') => scroll(m, None, page),
        KeyCode::PageUp => scroll(m, None, -page),
        KeyCode::Home | KeyCode::Char('g') => scroll(m, None, isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => scroll(m, None, isize::MAX / 2),
        KeyCode::Char(']') => return select_file(m, 1),
        KeyCode::Char('[') => return select_file(m, -1),
        KeyCode::Right if v.focus == Pane::Files => sideways(m, SIDEWAYS),
        KeyCode::Left if v.focus == Pane::Files => sideways(m, -SIDEWAYS),
        KeyCode::Char('0') if v.focus == Pane::Files => v.file_col = 0,
        KeyCode::Char('W') => {
            m.wrap = !m.wrap;
            v.file_col = 0;
            v.scroll[Pane::Files.index()] = 0;
            m.flash = Some(
                if m.wrap {
                    "Files: long lines wrap (W scrolls them sideways instead)."
                } else {
                    "Files: long lines scroll sideways with ← → (W wraps them)."
                }
                .into(),
            );
            return vec![Effect::SaveSettings(m.settings())];
        }
        KeyCode::Char('z') => {
            if layout::narrow(m.size.0) {
                m.flash = Some("The pane already has the whole screen (Tab switches).".into());
                return Vec::new();
            }
            v.zoom = !v.zoom;
            return rewrap(m);
        }
        KeyCode::Char('c') => return start_check(m, false),
        KeyCode::Char('r') => return toggle_run(m),
        KeyCode::Char('w') => {
            m.watch = !m.watch;
            m.flash = Some(
                if m.watch {
                    "Watch mode on: saving a file of the lesson checks it again."
                } else {
                    "Watch mode off: press c to check."
                }
                .into(),
            );
            return vec![Effect::SaveSettings(m.settings())];
        }
        KeyCode::Char('e') => {
            let Some(path) = v.file().map(|f| v.dir.join(f)) else {
                m.flash = Some("The lesson folder has no files to edit.".into());
                return Vec::new();
            };
            // Once, when twelve picked the editor: say which, and how to choose another.
            if !m.editor.chosen && m.editor_explained.as_ref() != Some(&m.editor.command) {
                m.overlay = Some(Overlay::Editor { path });
                return Vec::new();
            }
            return vec![Effect::OpenEditor(path)];
        }
        KeyCode::Char('h') => return reveal_hint(m),
        KeyCode::Char('s') => {
            let passed = m
                .current()
                .is_some_and(|l| m.progress.lesson(l).status == Status::Passed);
            if passed {
                return show_solution(m);
            }
            m.overlay = Some(Overlay::Confirm(Confirm::Solution));
        }
        KeyCode::Char('x') => m.overlay = Some(Overlay::Confirm(Confirm::Reset)),
        KeyCode::Char(key @ ('y' | 'Y')) => {
            return match v.first_failure() {
                Some(r) if !r.transcript.is_empty() => {
                    let text = r.transcript.join("\n");
                    if key == 'Y' {
                        m.overlay = Some(Overlay::Transcript { text });
                        return Vec::new();
                    }
                    vec![Effect::Copy(text)]
                }
                _ => {
                    m.flash = Some("Nothing to copy: no failed check with a transcript.".into());
                    Vec::new()
                }
            };
        }
        KeyCode::Char('n') => return next_lesson(m, 1),
        KeyCode::Char('p') => return next_lesson(m, -1),
        _ => {}
    }
    Vec::new()
}

fn show_solution(m: &mut Model) -> Vec<Effect> {
    match &m.lesson {
        Some(v) => vec![Effect::ShowSolution {
            lesson: v.index,
            dir: v.dir.clone(),
        }],
        None => Vec::new(),
    }
}

fn reveal_hint(m: &mut Model) -> Vec<Effect> {
    let Some(lesson) = m.current().cloned() else {
        return Vec::new();
    };
    if lesson.hints.is_empty() {
        m.flash = Some("This lesson has no hints.".into());
        return Vec::new();
    }
    let total = lesson.hints.len() as u32;
    let lp = m.progress.lesson_mut(&lesson);
    let was = lp.hints_revealed;
    let first_view = m.overlay != Some(Overlay::Hints) && was > 0;
    m.overlay = Some(Overlay::Hints);
    // Opening the overlay shows what was revealed before; `h` inside reveals the next one.
    if first_view || was >= total {
        return Vec::new();
    }
    lp.hints_revealed = was + 1;
    vec![Effect::SaveProgress(ProgressChange::Hints {
        lesson: lesson.dir_name.clone(),
        revealed: was + 1,
    })]
}

/// Check the open lesson; `automatic` when watch mode starts it (a save), not the learner.
fn start_check(m: &mut Model, automatic: bool) -> Vec<Effect> {
    if let Some(e) = &m.python_error {
        m.flash = Some(format!("Cannot check: {e}"));
        return Vec::new();
    }
    let id = m.fresh_id();
    let now = m.now;
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    if v.active.is_some() {
        m.flash = Some("A check is already running (Esc cancels it).".into());
        return Vec::new();
    }
    for row in &mut v.checks {
        row.state = CheckState::Pending;
    }
    v.active = Some(ActiveCheck {
        id,
        started: now,
        automatic,
    });
    v.scroll[Pane::Checks.index()] = 0;
    // The results are what the learner looks at next; the focused pane gets the most room.
    v.focus = Pane::Checks;
    vec![Effect::StartCheck {
        id,
        lesson: v.index,
        dir: v.dir.clone(),
    }]
}

fn check_event(m: &mut Model, id: u64, event: Event) {
    let now = m.now;
    let Some(v) = m.lesson.as_mut() else { return };
    if v.active.map(|a| a.id) != Some(id) {
        return;
    }
    match event {
        Event::CheckStarted { index, .. } => {
            if let Some(row) = v.checks.get_mut(index) {
                row.state = CheckState::Running { since: now };
            }
        }
        Event::CheckFinished { index, report, .. } => {
            if let Some(row) = v.checks.get_mut(index) {
                row.state = CheckState::Done(report);
            }
        }
    }
}

fn check_done(m: &mut Model, id: u64, report: LessonReport) -> Vec<Effect> {
    let Some(lesson) = m.current().cloned() else {
        return Vec::new();
    };
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    let Some(active) = v.active.filter(|a| a.id == id) else {
        return Vec::new();
    };
    v.active = None;
    for (row, r) in v.checks.iter_mut().zip(&report.checks) {
        row.state = if r.outcome == Outcome::Cancelled {
            CheckState::Pending
        } else {
            CheckState::Done(r.clone())
        };
    }
    let recheck = std::mem::take(&mut v.recheck);
    let mut effects = Vec::new();
    match report.outcome {
        Outcome::Cancelled => m.flash = Some("Check cancelled.".into()),
        Outcome::Error => {
            m.flash = Some("The check could not run: see the check panel.".into());
        }
        Outcome::Passed | Outcome::Failed => {
            let was_passed = m.progress.lesson(&lesson).status == Status::Passed;
            let change = if active.automatic {
                ProgressChange::checked_automatically(&lesson, &report)
            } else {
                ProgressChange::checked(&lesson, &report)
            };
            change.apply(&mut m.progress);
            effects.push(Effect::SaveProgress(change));
            if report.passed() && !was_passed {
                m.overlay = Some(Overlay::Passed);
            } else if report.passed() {
                m.flash = Some("All checks passed.".into());
            }
        }
    }
    if let Some(v) = m.lesson.as_mut() {
        v.report = Some(report);
    }
    if recheck && m.overlay.is_none() {
        effects.extend(start_check(m, true));
    }
    effects
}

fn toggle_run(m: &mut Model) -> Vec<Effect> {
    if let Some(e) = &m.python_error {
        m.flash = Some(format!("Cannot run: {e}"));
        return Vec::new();
    }
    let id = m.fresh_id();
    let now = m.now;
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    match v.run.state {
        RunState::Starting | RunState::Running => {
            v.run.state = RunState::Stopping;
            vec![Effect::StopService]
        }
        RunState::Stopping => Vec::new(),
        RunState::Idle | RunState::Ended(_) => {
            v.run = RunPanel {
                id: Some(id),
                state: RunState::Starting,
                since: Some(now),
                ..RunPanel::default()
            };
            v.run_follow = true;
            v.focus = Pane::Run;
            vec![Effect::StartService {
                id,
                lesson: v.index,
                dir: v.dir.clone(),
            }]
        }
    }
}

fn service_event(m: &mut Model, id: u64, event: ServiceEvent) {
    let now = m.now;
    let Some(v) = m.lesson.as_mut() else { return };
    if v.run.id != Some(id) {
        return;
    }
    let run = &mut v.run;
    match event {
        // Started is not yet running: the panel says so until the port accepts.
        ServiceEvent::Started { url, command } => {
            if run.state != RunState::Stopping {
                run.state = RunState::Starting;
            }
            run.url = Some(url);
            run.command = Some(command);
            run.since.get_or_insert(now);
        }
        ServiceEvent::Listening => {
            if run.state == RunState::Starting {
                run.state = RunState::Running;
            }
        }
        ServiceEvent::Line(stream, text) => {
            run.lines.push_back((stream, text));
            if run.lines.len() > RUN_LINES {
                run.lines.pop_front();
                run.dropped += 1;
            }
        }
        ServiceEvent::Exited(how) => {
            run.state = RunState::Ended(format!("The service ended by itself ({how})."));
            run.since = None;
        }
        ServiceEvent::Failed(e) => {
            run.state = RunState::Ended(format!("The service could not start: {e}"));
        }
        ServiceEvent::Stopped(how) => run.state = RunState::Ended(format!("Stopped ({how}).")),
    }
}

/// The author saved lesson.md: show the new text where the reader was.
fn lesson_text_changed(m: &mut Model, lesson: usize, text: String) -> Vec<Effect> {
    if let Some(l) = std::sync::Arc::make_mut(&mut m.pack)
        .lessons
        .get_mut(lesson)
    {
        l.text = text;
    }
    let Some(v) = m.lesson.as_mut().filter(|v| v.index == lesson) else {
        return Vec::new();
    };
    // Render afresh at the current width (and in colour, if the reader has it on).
    v.text_width = 0;
    v.text_coloured = false;
    rewrap(m)
}

fn files_changed(m: &mut Model, paths: &[PathBuf]) -> Vec<Effect> {
    use super::watch::{is_commit, relevant};
    let watch = m.watch;
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    // A commit (of the lesson's repository or one around it) changes no file.
    let committed = paths.iter().any(|p| is_commit(p));
    let names: Vec<String> = paths
        .iter()
        .filter(|p| p.starts_with(&v.dir) && relevant(p) && !is_commit(p))
        .filter_map(|p| p.strip_prefix(&v.dir).ok())
        .map(|p| p.display().to_string())
        .collect();
    if names.is_empty() && !committed {
        return Vec::new();
    }
    let mut effects = vec![Effect::LoadFiles(v.dir.clone())];
    // A running service runs the old code: restart it, as development servers do (also one
    // still waiting for its port: the save may be the fix).
    let alive = !names.is_empty()
        && (v.run.state == RunState::Running
            || (v.run.state == RunState::Starting && v.run.url.is_some()));
    if alive {
        let id = m.fresh_id();
        let now = m.now;
        let Some(v) = m.lesson.as_mut() else {
            return effects;
        };
        v.run.id = Some(id);
        v.run.state = RunState::Starting;
        v.run.since = Some(now);
        v.run.lines.push_back((
            crate::sandbox::output::StreamKind::Stdout,
            format!("── restarted: you saved {} ──", names.join(", ")),
        ));
        // Starting replaces the running service (and keeps its port).
        effects.push(Effect::StartService {
            id,
            lesson: v.index,
            dir: v.dir.clone(),
        });
    }
    let Some(v) = m.lesson.as_mut() else {
        return effects;
    };
    if watch && m.overlay.is_none() {
        if v.active.is_some() {
            v.recheck = true;
        } else {
            effects.extend(start_check(m, true));
            m.flash = Some(if names.is_empty() {
                "New commit: checking again.".to_string()
            } else {
                format!("Saved {}: checking again.", names.join(", "))
            });
        }
    }
    effects
}

fn files_loaded(
    m: &mut Model,
    dir: &Path,
    files: std::collections::BTreeMap<String, String>,
    order: Vec<String>,
) -> Vec<Effect> {
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    if v.dir != dir {
        return Vec::new();
    }
    let keep = v.file().map(str::to_string);
    v.selected_file = keep
        .and_then(|k| order.iter().position(|f| *f == k))
        .or_else(|| order.iter().position(|f| f == "app.py"))
        .unwrap_or(0);
    v.files = order;
    v.contents = files;
    refresh_file(m)
}

/// Show the selected file plain at once, and ask for it highlighted.
fn refresh_file(m: &mut Model) -> Vec<Effect> {
    let colour = m.colour_code;
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    let Some(name) = v.file().map(str::to_string) else {
        v.file_lines.clear();
        return Vec::new();
    };
    let text = v.contents.get(&name).cloned().unwrap_or_default();
    v.file_lines = super::highlight::plain(&text);
    let max = v.file_lines.len();
    let s = &mut v.scroll[Pane::Files.index()];
    *s = (*s).min(max.saturating_sub(1));
    if colour {
        vec![Effect::HighlightFile { name, text }]
    } else {
        Vec::new()
    }
}

fn select_file(m: &mut Model, step: isize) -> Vec<Effect> {
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    if v.files.is_empty() {
        return Vec::new();
    }
    let n = v.files.len() as isize;
    v.selected_file = (v.selected_file as isize + step).rem_euclid(n) as usize;
    v.scroll[Pane::Files.index()] = 0;
    v.file_col = 0;
    refresh_file(m)
}

/// Re-wrap the lesson text after a resize (plain at once) and ask for it highlighted.
fn rewrap(m: &mut Model) -> Vec<Effect> {
    let zoom = m.lesson.as_ref().is_some_and(|v| v.zoom);
    let width = layout::text_width(m.size.0, m.size.1, zoom);
    let colour = m.colour_code;
    let Some(lesson) = m.current().cloned() else {
        return Vec::new();
    };
    let Some(v) = m.lesson.as_mut() else {
        return Vec::new();
    };
    if v.text_width == width && v.text_coloured == colour {
        return Vec::new();
    }
    if v.text_width != width {
        let old = v.text.len().max(1);
        v.text = markdown::render(
            &crate::lesson::challenge::lesson_view_text(&lesson, &lesson.text, m.mode),
            width,
            false,
        );
        v.text_width = width;
        v.text_coloured = false;
        // Keep roughly the same place in the text.
        let s = &mut v.scroll[Pane::Text.index()];
        *s = *s * v.text.len() / old;
    }
    if colour {
        vec![Effect::RenderText {
            lesson: v.index,
            width,
            text: lesson.text.clone(),
            mode: m.mode,
        }]
    } else {
        Vec::new()
    }
}

/// Scroll `pane` (default: the focused one) by `delta` lines, within its content.
fn scroll(m: &mut Model, pane: Option<Pane>, delta: isize) {
    let wrap = m.wrap;
    let Some(v) = m.lesson.as_mut() else { return };
    let pane = pane.unwrap_or(v.focus);
    let (width, height) = layout::inner_size(m.size, v.focus, v.zoom, pane);
    let (len, height) = match pane {
        Pane::Text => (v.text.len(), height),
        Pane::Files => (
            super::view::file_rows(v, width, wrap).len(),
            height.saturating_sub(1),
        ),
        Pane::Checks => (super::view::check_lines(v, width, m.now, 0).len(), height),
        Pane::Run => (v.run.lines.len(), height.saturating_sub(2)),
    };
    let max = len.saturating_sub(height);
    let i = pane.index();
    if pane == Pane::Run && v.run_follow {
        v.scroll[i] = max;
    }
    let next = v.scroll[i].saturating_add_signed(delta).min(max);
    v.scroll[i] = next;
    if pane == Pane::Run {
        v.run_follow = next >= max;
    }
}

/// Scroll the file viewer sideways by `delta` columns, up to where its longest line ends.
fn sideways(m: &mut Model, delta: isize) {
    if m.wrap {
        m.flash = Some("Long lines wrap now; W scrolls them sideways instead.".into());
        return;
    }
    let Some(v) = m.lesson.as_mut() else { return };
    let (width, _) = layout::inner_size(m.size, v.focus, v.zoom, Pane::Files);
    let code = usize::from(width).saturating_sub(super::view::number_width(v) + 1);
    let longest = v.file_lines.iter().map(Line::width).max().unwrap_or(0);
    // The last column of a cut line holds its `→`: scroll until the end shows whole.
    let max = (longest + 1).saturating_sub(code);
    v.file_col = v.file_col.saturating_add_signed(delta).min(max);
}

fn mouse(m: &mut Model, e: MouseEvent) -> Vec<Effect> {
    let delta = match e.kind {
        MouseEventKind::ScrollDown => WHEEL,
        MouseEventKind::ScrollUp => -WHEEL,
        MouseEventKind::ScrollLeft | MouseEventKind::ScrollRight => {
            let over_files = m.overlay.is_none()
                && m.lesson.as_ref().is_some_and(|v| {
                    layout::lesson(
                        ratatui::layout::Rect::new(0, 0, m.size.0, m.size.1),
                        v.focus,
                        v.zoom,
                    )
                    .pane_at(e.column, e.row)
                        == Some(Pane::Files)
                });
            if over_files && !m.wrap {
                let step = if e.kind == MouseEventKind::ScrollLeft {
                    -1
                } else {
                    1
                };
                sideways(m, step * SIDEWAYS / 2);
            }
            return Vec::new();
        }
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
            if m.overlay.is_none() && m.screen == Screen::Lesson {
                let size = m.size;
                if let Some(v) = m.lesson.as_mut() {
                    let l = layout::lesson(
                        ratatui::layout::Rect::new(0, 0, size.0, size.1),
                        v.focus,
                        v.zoom,
                    );
                    if let Some(p) = l.pane_at(e.column, e.row) {
                        v.focus = p;
                    }
                }
            }
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    if let Some(Overlay::Solution { .. }) = m.overlay {
        let code = if delta > 0 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        for _ in 0..WHEEL {
            overlay_key(m, KeyEvent::new(code, KeyModifiers::NONE));
        }
        return Vec::new();
    }
    match m.screen {
        Screen::Map if m.overlay.is_none() => {
            m.map_selected = m
                .map_selected
                .saturating_add_signed(delta.signum())
                .min(m.pack.lessons.len().saturating_sub(1));
        }
        Screen::Lesson if m.overlay.is_none() => {
            let Some(v) = &m.lesson else {
                return Vec::new();
            };
            let l = layout::lesson(
                ratatui::layout::Rect::new(0, 0, m.size.0, m.size.1),
                v.focus,
                v.zoom,
            );
            if let Some(p) = l.pane_at(e.column, e.row) {
                scroll(m, Some(p), delta);
            }
        }
        _ => {}
    }
    Vec::new()
}

#[cfg(test)]
mod tests;
