use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::*;
use crate::check::Event;
use crate::sandbox::output::StreamKind;
use crate::tui::fixtures::{self, failed, passed, report};
use crate::workspace::Progress;

fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(m: &mut Model, c: char) -> Vec<Effect> {
    press(m, KeyCode::Char(c))
}

/// A model with lesson 7 open and its files loaded.
fn at_lesson_7() -> Model {
    let mut m = fixtures::model();
    open_lesson(&mut m, 6);
    let (files, order) = fixtures::files();
    let dir = m.lesson.as_ref().unwrap().dir.clone();
    update(&mut m, Message::FilesLoaded { dir, files, order });
    m
}

fn start_id(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::StartCheck { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no StartCheck in {effects:?}"))
}

#[test]
fn first_start_shows_the_map_with_a_welcome() {
    let mut m = fixtures::model();
    assert!(start(&mut m).is_empty());
    assert_eq!(m.screen, Screen::Map);
    assert!(m.welcome);
    assert_eq!(m.map_selected, 0);
}

#[test]
fn later_starts_open_the_next_unfinished_lesson() {
    let mut m = fixtures::model();
    let pack = m.pack.clone();
    m.progress
        .record(&pack.lessons[0], &fixtures::report(vec![passed("a", 1)]));
    m.progress
        .record(&pack.lessons[1], &fixtures::report(vec![failed("b")]));
    let effects = start(&mut m);
    assert_eq!(m.screen, Screen::Lesson);
    assert_eq!(m.lesson.as_ref().unwrap().index, 1);
    assert!(effects.contains(&Effect::Watch(Some(
        PathBuf::from("/ws").join(&pack.lessons[1].dir_name)
    ))));
}

#[test]
fn every_lesson_passed_shows_the_completion_screen() {
    let mut m = fixtures::model();
    let pack = m.pack.clone();
    for l in &pack.lessons {
        m.progress
            .record(l, &fixtures::report(vec![passed("a", 1)]));
    }
    start(&mut m);
    assert_eq!(m.screen, Screen::Complete);
}

#[test]
fn the_map_moves_and_opens_lessons() {
    let mut m = fixtures::model();
    start(&mut m);
    for _ in 0..6 {
        ch(&mut m, 'j');
    }
    press(&mut m, KeyCode::Up);
    press(&mut m, KeyCode::Down);
    assert_eq!(m.map_selected, 6);
    let effects = press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen, Screen::Lesson);
    let v = m.lesson.as_ref().unwrap();
    assert_eq!(m.pack.lessons[v.index].number, 7);
    assert_eq!(
        effects[0],
        Effect::LoadFiles(PathBuf::from("/ws/07-port-binding"))
    );
    assert!(!v.text.is_empty());
    assert_eq!(v.checks.len(), 2);
}

#[test]
fn key_releases_are_ignored() {
    let mut m = fixtures::model();
    let mut k = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    k.kind = KeyEventKind::Release;
    update(&mut m, Message::Key(k));
    assert_eq!(m.map_selected, 0);
}

#[test]
fn a_check_runs_live_and_its_failure_is_recorded() {
    let mut m = at_lesson_7();
    let effects = ch(&mut m, 'c');
    let id = start_id(&effects);
    assert_eq!(m.lesson.as_ref().unwrap().focus, Pane::Checks);
    update(
        &mut m,
        Message::Check {
            id,
            event: Event::CheckStarted {
                lesson: 7,
                index: 0,
            },
        },
    );
    assert!(matches!(
        m.lesson.as_ref().unwrap().checks[0].state,
        CheckState::Running { .. }
    ));
    // Events of an older run are ignored.
    update(
        &mut m,
        Message::Check {
            id: id + 100,
            event: Event::CheckStarted {
                lesson: 7,
                index: 1,
            },
        },
    );
    assert_eq!(
        m.lesson.as_ref().unwrap().checks[1].state,
        CheckState::Pending
    );
    update(
        &mut m,
        Message::Check {
            id,
            event: Event::CheckFinished {
                lesson: 7,
                index: 0,
                report: passed("smoke", 300),
            },
        },
    );
    let r = report(vec![passed("smoke", 300), failed("port")]);
    let effects = update(&mut m, Message::CheckDone { id, report: r });
    let v = m.lesson.as_ref().unwrap();
    assert!(v.active.is_none());
    assert!(v.first_failure().is_some());
    let lp = m.progress.lesson(&m.pack.lessons[6]);
    assert_eq!((lp.status, lp.attempts), (Status::Attempted, 1));
    assert!(matches!(effects.as_slice(), [Effect::SaveProgress(_)]));
    assert_eq!(m.overlay, None);
}

#[test]
fn the_first_pass_is_celebrated_and_leads_on() {
    let mut m = at_lesson_7();
    let id = start_id(&ch(&mut m, 'c'));
    update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![passed("a", 1), passed("b", 2)]),
        },
    );
    assert_eq!(m.overlay, Some(Overlay::Passed));
    assert_eq!(m.progress.lesson(&m.pack.lessons[6]).status, Status::Passed);
    let effects = ch(&mut m, 'n');
    assert_eq!(m.lesson.as_ref().unwrap().index, 7);
    assert!(effects.contains(&Effect::Watch(None)));
    // A second pass is only a message.
    let mut m = at_lesson_7();
    let pack = m.pack.clone();
    m.progress
        .record(&pack.lessons[6], &report(vec![passed("a", 1)]));
    let id = start_id(&ch(&mut m, 'c'));
    update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![passed("a", 1)]),
        },
    );
    assert_eq!(m.overlay, None);
    assert!(m.flash.is_some());
}

#[test]
fn esc_cancels_a_running_check_and_otherwise_goes_back() {
    let mut m = at_lesson_7();
    let id = start_id(&ch(&mut m, 'c'));
    assert_eq!(press(&mut m, KeyCode::Esc), vec![Effect::CancelCheck]);
    assert_eq!(m.screen, Screen::Lesson);
    let mut cancelled = failed("x");
    cancelled.outcome = Outcome::Cancelled;
    let effects = update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![cancelled]),
        },
    );
    assert!(effects.is_empty(), "a cancelled check is not recorded");
    assert_eq!(m.progress.lesson(&m.pack.lessons[6]).attempts, 0);
    let effects = press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen, Screen::Map);
    assert_eq!(effects, vec![Effect::Watch(None), Effect::WatchText(None)]);
}

#[test]
fn a_saved_lesson_md_replaces_the_text_on_screen() {
    let mut m = at_lesson_7();
    let index = m.lesson.as_ref().unwrap().index;
    update(
        &mut m,
        Message::LessonTextChanged {
            lesson: index,
            text: "# VII. Port binding\n\nA sentence the author just wrote.\n".into(),
        },
    );
    assert!(m.pack.lessons[index].text.contains("just wrote"));
    let shown: String = m
        .lesson
        .as_ref()
        .unwrap()
        .text
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        shown.contains("A sentence the author just wrote."),
        "{shown}"
    );
    // The text of another lesson is not shown in this one.
    update(
        &mut m,
        Message::LessonTextChanged {
            lesson: index + 1,
            text: "# Other\n\nNot this lesson.\n".into(),
        },
    );
    let shown: String = m
        .lesson
        .as_ref()
        .unwrap()
        .text
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(!shown.contains("Not this lesson"), "{shown}");
}

#[test]
fn the_service_runs_streams_and_stops() {
    let mut m = at_lesson_7();
    let effects = ch(&mut m, 'r');
    let Some(Effect::StartService { id, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    update(
        &mut m,
        Message::Service {
            id,
            event: ServiceEvent::Started {
                url: "http://127.0.0.1:8000".into(),
                command: "python3 app.py".into(),
            },
        },
    );
    for i in 0..1500 {
        update(
            &mut m,
            Message::Service {
                id,
                event: ServiceEvent::Line(StreamKind::Stderr, format!("line {i}")),
            },
        );
    }
    // Started is not running yet: nothing may listen on the port.
    assert_eq!(m.lesson.as_ref().unwrap().run.state, RunState::Starting);
    update(
        &mut m,
        Message::Service {
            id,
            event: ServiceEvent::Listening,
        },
    );
    let run = &m.lesson.as_ref().unwrap().run;
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.lines.len(), RUN_LINES);
    assert_eq!(run.dropped, 500);
    assert_eq!(run.lines.back().unwrap().1, "line 1499");
    assert!(m.busy());
    // q asks first while something runs.
    assert!(ch(&mut m, 'q').is_empty());
    assert_eq!(m.overlay, Some(Overlay::Confirm(Confirm::Quit)));
    ch(&mut m, 'n');
    assert_eq!(ch(&mut m, 'r'), vec![Effect::StopService]);
    update(
        &mut m,
        Message::Service {
            id,
            event: ServiceEvent::Stopped("exit code 0".into()),
        },
    );
    assert!(!m.busy());
    // Leaving a lesson stops its service.
    let id = match ch(&mut m, 'r').first() {
        Some(Effect::StartService { id, .. }) => *id,
        e => panic!("{e:?}"),
    };
    update(
        &mut m,
        Message::Service {
            id,
            event: ServiceEvent::Started {
                url: "u".into(),
                command: "c".into(),
            },
        },
    );
    assert!(ch(&mut m, 'm').contains(&Effect::StopService));
}

#[test]
fn ctrl_c_quits_at_once_and_stops_everything() {
    let mut m = at_lesson_7();
    ch(&mut m, 'c');
    let effects = update(
        &mut m,
        Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(m.quit);
    assert!(effects.contains(&Effect::CancelCheck) && effects.contains(&Effect::StopService));
}

#[test]
fn hints_are_revealed_one_at_a_time_and_saved() {
    let mut m = at_lesson_7();
    let effects = ch(&mut m, 'h');
    assert_eq!(m.overlay, Some(Overlay::Hints));
    assert!(matches!(
        effects.as_slice(),
        [Effect::SaveProgress(ProgressChange::Hints {
            revealed: 1,
            ..
        })]
    ));
    ch(&mut m, 'h');
    ch(&mut m, 'h');
    ch(&mut m, 'h');
    assert_eq!(m.progress.lesson(&m.pack.lessons[6]).hints_revealed, 3);
    press(&mut m, KeyCode::Esc);
    // Opening the overlay again shows the hints without spending one.
    assert!(ch(&mut m, 'h').is_empty());
}

#[test]
fn the_solution_asks_first_before_a_pass() {
    let mut m = at_lesson_7();
    assert!(ch(&mut m, 's').is_empty());
    assert_eq!(m.overlay, Some(Overlay::Confirm(Confirm::Solution)));
    let effects = ch(&mut m, 'y');
    assert!(matches!(
        effects.as_slice(),
        [Effect::ShowSolution { lesson: 6, .. }]
    ));
    update(
        &mut m,
        Message::SolutionReady {
            lines: vec![ratatui::text::Line::raw("+x")],
        },
    );
    assert!(matches!(m.overlay, Some(Overlay::Solution { .. })));
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.overlay, None);
}

#[test]
fn reset_asks_first() {
    let mut m = at_lesson_7();
    ch(&mut m, 'x');
    assert!(ch(&mut m, 'n').is_empty());
    ch(&mut m, 'x');
    assert_eq!(ch(&mut m, 'y'), vec![Effect::ResetLesson { lesson: 6 }]);
}

#[test]
fn saving_a_file_checks_again_in_watch_mode() {
    let mut m = at_lesson_7();
    let dir = m.lesson.as_ref().unwrap().dir.clone();
    assert!(
        update(
            &mut m,
            Message::FilesChanged(vec![
                dir.join(".app.py.swp"),
                dir.join("__pycache__/app.pyc")
            ])
        )
        .is_empty()
    );
    let effects = update(&mut m, Message::FilesChanged(vec![dir.join("app.py")]));
    let id = start_id(&effects);
    // Saved again while checking: one more run when this one ends.
    update(&mut m, Message::FilesChanged(vec![dir.join("app.py")]));
    let effects = update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![failed("x")]),
        },
    );
    start_id(&effects);
    // Watch off: files reload, nothing runs.
    let id = m.lesson.as_ref().unwrap().active.unwrap().id;
    update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![failed("x")]),
        },
    );
    ch(&mut m, 'w');
    assert!(!m.watch);
    assert_eq!(
        update(&mut m, Message::FilesChanged(vec![dir.join("app.py")])),
        vec![Effect::LoadFiles(dir)]
    );
}

#[test]
fn a_commit_checks_again_in_watch_mode_and_restarts_nothing() {
    let mut m = at_lesson_7();
    let dir = m.lesson.as_ref().unwrap().dir.clone();
    assert!(
        update(&mut m, Message::FilesChanged(vec![dir.join(".git/index")])).is_empty(),
        "git's own bookkeeping is no news"
    );
    // The workspace's repository, outside the lesson folder.
    let outer = dir.parent().unwrap().join(".git/logs/HEAD");
    let effects = update(&mut m, Message::FilesChanged(vec![outer]));
    start_id(&effects);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::StartService { .. })),
        "{effects:?}"
    );
    assert_eq!(m.flash.as_deref(), Some("New commit: checking again."));
}

#[test]
fn files_load_with_app_py_selected_and_switch() {
    let mut m = at_lesson_7();
    assert_eq!(m.lesson.as_ref().unwrap().file(), Some("app.py"));
    ch(&mut m, ']');
    assert_eq!(m.lesson.as_ref().unwrap().file(), Some("Procfile"));
    let effects = ch(&mut m, 'e');
    assert_eq!(
        effects,
        vec![Effect::OpenEditor(PathBuf::from(
            "/ws/07-port-binding/Procfile"
        ))]
    );
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer() {
    let mut m = at_lesson_7();
    update(&mut m, Message::Resize(120, 30));
    let wheel = |m: &mut Model, column, row| {
        update(
            m,
            Message::Mouse(MouseEvent {
                kind: MouseEventKind::ScrollDown,
                column,
                row,
                modifiers: KeyModifiers::NONE,
            }),
        );
    };
    wheel(&mut m, 10, 10);
    let v = m.lesson.as_ref().unwrap();
    // The fixed text is short: only scroll within the content.
    assert!(v.scroll[Pane::Text.index()] <= v.text.len());
    wheel(&mut m, 100, 4);
    // app.py has 10 lines and 8 show: it scrolls by the wheel's 3 lines, within its end.
    assert_eq!(m.lesson.as_ref().unwrap().scroll[Pane::Files.index()], 2);
}

#[test]
fn a_missing_python_is_explained_instead_of_checking() {
    let mut m = at_lesson_7();
    update(
        &mut m,
        Message::PythonMissing("python3 was not found on PATH".into()),
    );
    // A clear screen says so first; once closed, the lessons can still be read.
    assert!(matches!(m.overlay, Some(Overlay::PythonMissing(_))));
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.overlay, None);
    assert!(ch(&mut m, 'c').is_empty());
    assert!(
        m.flash
            .as_deref()
            .unwrap()
            .contains("python3 was not found")
    );
}

#[test]
fn creating_a_workspace_from_the_welcome_screen() {
    let mut m = Model::new(fixtures::pack(), None, Progress::default(), (80, 24));
    assert!(matches!(m.screen, Screen::NoWorkspace { .. }));
    assert_eq!(
        press(&mut m, KeyCode::Enter),
        vec![Effect::CreateWorkspace(PathBuf::from("twelve-factor"))]
    );
    let ws = crate::workspace::Workspace {
        root: PathBuf::from("/tmp/x"),
        lessons: None,
    };
    update(
        &mut m,
        Message::WorkspaceCreated(Ok((ws, Progress::default()))),
    );
    assert_eq!(m.screen, Screen::Map);
    assert!(m.welcome);
}

#[test]
fn the_completion_screen_scrolls() {
    let mut m = at_lesson_7();
    m.screen = Screen::Complete;
    ch(&mut m, 'j');
    ch(&mut m, 'j');
    assert_eq!(m.complete_scroll, 2);
    press(&mut m, KeyCode::Up);
    assert_eq!(m.complete_scroll, 1);
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen, Screen::Map);
}

#[test]
fn esc_on_the_map_never_quits_and_q_does() {
    let mut m = fixtures::model();
    start(&mut m);
    assert!(m.welcome);
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert!(!m.quit && !m.welcome);
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert!(!m.quit);
    assert!(m.flash.as_deref().unwrap().contains("q quits"));
    // From a lesson: Esc goes back to the map, and Esc again stays there.
    let mut m = at_lesson_7();
    press(&mut m, KeyCode::Esc);
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen, Screen::Map);
    assert!(!m.quit);
    ch(&mut m, 'q');
    assert!(m.quit, "nothing runs on the map: q quits at once");
}

#[test]
fn watch_and_wrap_are_saved_in_the_workspace() {
    let mut m = at_lesson_7();
    let effects = ch(&mut m, 'w');
    let Some(Effect::SaveSettings(s)) = effects.first() else {
        panic!("{effects:?}")
    };
    assert!(!s.watch && !s.wrap);
    let effects = ch(&mut m, 'W');
    assert!(matches!(effects.as_slice(), [Effect::SaveSettings(s)] if !s.watch && s.wrap));
    let mut fresh = fixtures::model();
    fresh.use_settings(&m.settings());
    assert!(!fresh.watch && fresh.wrap);
}

#[test]
fn only_checks_asked_for_count_as_attempts() {
    let mut m = at_lesson_7();
    let dir = m.lesson.as_ref().unwrap().dir.clone();
    // A save in watch mode checks by itself: recorded, not counted.
    let id = start_id(&update(
        &mut m,
        Message::FilesChanged(vec![dir.join("app.py")]),
    ));
    let effects = update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![failed("x")]),
        },
    );
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::SaveProgress(ProgressChange::CheckedAutomatically {
                passed: false,
                ..
            })]
        ),
        "{effects:?}"
    );
    let lp = m.progress.lesson(&m.pack.lessons[6]);
    assert_eq!((lp.status, lp.attempts), (Status::Attempted, 0));
    // `c` counts.
    let id = start_id(&ch(&mut m, 'c'));
    let effects = update(
        &mut m,
        Message::CheckDone {
            id,
            report: report(vec![failed("x")]),
        },
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::SaveProgress(ProgressChange::Checked { .. })]
    ));
    assert_eq!(m.progress.lesson(&m.pack.lessons[6]).attempts, 1);
}

#[test]
fn the_editor_twelve_picked_is_explained_once() {
    let mut m = at_lesson_7();
    m.editor = crate::tui::model::Editor {
        command: "nano".into(),
        chosen: false,
    };
    assert!(ch(&mut m, 'e').is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Editor { .. })));
    let effects = press(&mut m, KeyCode::Enter);
    let app = PathBuf::from("/ws/07-port-binding/app.py");
    assert!(
        matches!(effects.as_slice(), [Effect::SaveSettings(s), Effect::OpenEditor(p)] if s.editor_explained.as_deref() == Some("nano") && *p == app),
        "{effects:?}"
    );
    assert_eq!(ch(&mut m, 'e'), vec![Effect::OpenEditor(app.clone())]);
    // One the learner set is simply used.
    let mut m = at_lesson_7();
    m.editor = crate::tui::model::Editor {
        command: "vim".into(),
        chosen: true,
    };
    assert_eq!(ch(&mut m, 'e'), vec![Effect::OpenEditor(app)]);
}

#[test]
fn without_a_clipboard_tool_the_terminal_copies() {
    let mut m = at_lesson_7();
    assert_eq!(
        update(&mut m, Message::Copied(Err("curl x".into()))),
        vec![Effect::CopyToTerminal("curl x".into())]
    );
    update(&mut m, Message::CopiedToTerminal(Ok(())));
    assert!(m.flash.as_deref().unwrap().contains("OSC 52"));
    update(&mut m, Message::CopiedToTerminal(Err("curl x".into())));
    assert_eq!(
        m.overlay,
        Some(Overlay::Transcript {
            text: "curl x".into()
        })
    );
}

#[test]
fn the_file_viewer_scrolls_sideways_and_wraps() {
    let mut m = at_lesson_7();
    update(&mut m, Message::Resize(120, 40));
    let v = m.lesson.as_mut().unwrap();
    v.focus = Pane::Files;
    let long = format!("x = '{}'", "a".repeat(200));
    v.file_lines = vec![ratatui::text::Line::raw(long)];
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Right);
    assert_eq!(m.lesson.as_ref().unwrap().file_col, 16);
    for _ in 0..100 {
        press(&mut m, KeyCode::Right);
    }
    let v = m.lesson.as_ref().unwrap();
    // Far enough to see the end, no further.
    let (width, _) = layout::inner_size(m.size, v.focus, v.zoom, Pane::Files);
    let rows = super::super::view::file_rows(v, width, false);
    assert!(
        crate::tui::markdown::to_plain(&rows).ends_with("aaa'"),
        "{rows:?}"
    );
    assert!(v.file_col < 208);
    ch(&mut m, 'W');
    let v = m.lesson.as_ref().unwrap();
    assert_eq!(v.file_col, 0);
    assert!(super::super::view::file_rows(v, width, true).len() >= 4);
    ch(&mut m, '0');
}

#[test]
fn z_gives_the_focused_pane_the_whole_screen() {
    let mut m = at_lesson_7();
    update(&mut m, Message::Resize(120, 40));
    ch(&mut m, '3');
    let before = layout::inner_size(m.size, Pane::Checks, false, Pane::Checks);
    ch(&mut m, 'z');
    let v = m.lesson.as_ref().unwrap();
    assert!(v.zoom);
    let after = layout::inner_size(m.size, v.focus, v.zoom, Pane::Checks);
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} {after:?}"
    );
    // The text pane, zoomed, wraps to the whole width.
    ch(&mut m, '1');
    assert_eq!(m.lesson.as_ref().unwrap().text_width, 116);
    ch(&mut m, 'z');
    assert!(!m.lesson.as_ref().unwrap().zoom);
    // Narrow terminals show one pane anyway.
    update(&mut m, Message::Resize(80, 24));
    ch(&mut m, 'z');
    assert!(!m.lesson.as_ref().unwrap().zoom);
}

#[test]
fn c_on_the_map_switches_to_challenge_mode_which_hides_what_to_change() {
    let mut m = fixtures::model();
    let text = |m: &Model| -> String {
        m.lesson
            .as_ref()
            .unwrap()
            .text
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    open_lesson(&mut m, 2);
    assert!(text(&m).contains("What to change") && text(&m).contains("Serve the app from"));
    ch(&mut m, 'm');
    let effects = ch(&mut m, 'C');
    assert_eq!(
        effects,
        vec![Effect::SetMode(crate::lesson::challenge::Mode::Challenge)]
    );
    assert!(m.flash.as_deref().unwrap_or("").contains("challenge"));
    open_lesson(&mut m, 2);
    assert!(text(&m).contains("Challenge mode"), "{}", text(&m));
    assert!(!text(&m).contains("Serve the app from"), "{}", text(&m));
    ch(&mut m, 'm');
    assert_eq!(
        ch(&mut m, 'C'),
        vec![Effect::SetMode(crate::lesson::challenge::Mode::Guided)]
    );
}
