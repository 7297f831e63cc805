//! Whole screens drawn with `TestBackend` from a fixed, fake state, kept as insta snapshots.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::fixtures::{self, failed, passed, report};
use super::message::Message;
use super::model::{CheckState, Confirm, Model, Overlay, Pane, RunState};
use super::update::{open_lesson, update};
use super::view::view;

const SIZES: [(u16, u16); 3] = [(60, 20), (80, 24), (120, 40)];

/// The screen as text, one line per row (trailing spaces kept off).
fn draw(m: &Model, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(m, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn at_size(mut m: Model, w: u16, h: u16) -> Model {
    update(&mut m, Message::Resize(w, h));
    m
}

fn lesson(w: u16, h: u16) -> Model {
    let mut m = at_size(fixtures::model(), w, h);
    open_lesson(&mut m, 6);
    let (files, order) = fixtures::files();
    let dir = m.lesson.as_ref().unwrap().dir.clone();
    update(&mut m, Message::FilesLoaded { dir, files, order });
    m
}

fn snap(name: &str, f: impl Fn(u16, u16) -> Model) {
    for (w, h) in SIZES {
        let m = f(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&m, w, h));
    }
}

#[test]
fn map() {
    snap("map", |w, h| {
        let mut m = at_size(fixtures::model(), w, h);
        let pack = m.pack.clone();
        m.progress
            .record(&pack.lessons[0], &report(vec![passed("a", 1)]));
        m.progress
            .record(&pack.lessons[1], &report(vec![failed("b")]));
        m.welcome = true;
        m.map_selected = 2;
        m
    });
}

#[test]
fn lesson_view() {
    snap("lesson", lesson);
}

#[test]
fn failing_check_expanded() {
    snap("check_failed", |w, h| {
        let mut m = lesson(w, h);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Checks;
        v.checks[0].state = CheckState::Done(passed("The shortlink service works", 412));
        v.checks[1].state =
            CheckState::Done(failed("Each instance listens on the port it is given"));
        v.report = Some(report(vec![
            passed("The shortlink service works", 412),
            failed("Each instance listens on the port it is given"),
        ]));
        m
    });
}

#[test]
fn running_and_passing_check() {
    snap("check_running", |w, h| {
        let mut m = lesson(w, h);
        let since = fixtures::ago(&m, 1.25);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Checks;
        v.active = Some(super::model::ActiveCheck {
            id: 9,
            started: since,
            automatic: false,
        });
        v.checks[0].state = CheckState::Done(passed("The shortlink service works", 412));
        v.checks[1].state = CheckState::Running { since };
        m
    });
    snap("check_passed", |w, h| {
        let mut m = lesson(w, h);
        let v = m.lesson.as_mut().unwrap();
        v.checks[0].state = CheckState::Done(passed("The shortlink service works", 412));
        v.checks[1].state =
            CheckState::Done(passed("Each instance listens on the port it is given", 388));
        v.report = Some(report(vec![passed("a", 412), passed("b", 388)]));
        m.overlay = Some(Overlay::Passed);
        m
    });
}

#[test]
fn run_panel() {
    snap("run", |w, h| {
        let mut m = lesson(w, h);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Run;
        v.run.state = RunState::Running;
        v.run.url = Some("http://127.0.0.1:8000".into());
        v.run.command = Some("PORT=8000 python3 app.py".into());
        for i in 0..30 {
            v.run.lines.push_back((
                crate::sandbox::output::StreamKind::Stderr,
                format!("127.0.0.1 - - \"GET /health HTTP/1.1\" 200 - request {i}"),
            ));
        }
        m
    });
}

#[test]
fn run_panel_waits_for_the_port() {
    snap("run_starting", |w, h| {
        let mut m = lesson(w, h);
        let since = fixtures::ago(&m, 6.0);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Run;
        v.run.state = RunState::Starting;
        v.run.since = Some(since);
        v.run.url = Some("http://127.0.0.1:8000".into());
        v.run.command = Some("PORT=8000 python3 app.py".into());
        v.run.lines.push_back((
            crate::sandbox::output::StreamKind::Stdout,
            "shortlink: development server on http://127.0.0.1:8080".into(),
        ));
        m
    });
}

#[test]
fn long_lines_in_the_file_viewer() {
    snap("files_cut", |w, h| {
        let mut m = lesson(w, h);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Files;
        v.file_lines.push(ratatui::text::Line::raw(
            "    start_response(\"302 Found\", [(\"Location\", url), (\"Cache-Control\", \"no-store\")])",
        ));
        m
    });
    snap("files_sideways", |w, h| {
        let mut m = lesson(w, h);
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Files;
        v.file_col = 24;
        v.file_lines.push(ratatui::text::Line::raw(
            "    start_response(\"302 Found\", [(\"Location\", url), (\"Cache-Control\", \"no-store\")])",
        ));
        m
    });
    snap("files_wrapped", |w, h| {
        let mut m = lesson(w, h);
        m.wrap = true;
        let v = m.lesson.as_mut().unwrap();
        v.focus = Pane::Files;
        v.file_lines.push(ratatui::text::Line::raw(
            "    start_response(\"302 Found\", [(\"Location\", url), (\"Cache-Control\", \"no-store\")])",
        ));
        m
    });
}

#[test]
fn a_zoomed_failure_report() {
    // Only wide terminals zoom; narrow ones show the same as check_failed.
    let mut m = lesson(120, 40);
    let v = m.lesson.as_mut().unwrap();
    v.focus = Pane::Checks;
    v.zoom = true;
    v.checks[0].state = CheckState::Done(passed("The shortlink service works", 412));
    v.checks[1].state = CheckState::Done(failed("Each instance listens on the port it is given"));
    v.report = Some(report(vec![
        passed("The shortlink service works", 412),
        failed("Each instance listens on the port it is given"),
    ]));
    insta::assert_snapshot!("check_failed_zoomed_120x40", draw(&m, 120, 40));
}

#[test]
fn the_editor_is_explained() {
    snap("editor", |w, h| {
        let mut m = lesson(w, h);
        m.editor = super::model::Editor {
            command: "nano".into(),
            chosen: false,
        };
        m.overlay = Some(Overlay::Editor {
            path: "/ws/07-port-binding/app.py".into(),
        });
        m
    });
}

#[test]
fn hint() {
    snap("hint", |w, h| {
        let mut m = lesson(w, h);
        update(
            &mut m,
            Message::Key(KeyEvent::new(KeyCode::Char('h'), KeyModifiers::NONE)),
        );
        update(
            &mut m,
            Message::Key(KeyEvent::new(KeyCode::Char('h'), KeyModifiers::NONE)),
        );
        m
    });
}

#[test]
fn solution_diff() {
    snap("solution", |w, h| {
        let mut m = lesson(w, h);
        let pack = m.pack.clone();
        let l = &pack.lessons[6];
        let mut mine = crate::lesson::Files::new();
        mine.insert(
            "app.py".into(),
            b"import os\nPORT = 8080\nprint(PORT)\n".to_vec(),
        );
        let mut lesson = l.clone();
        lesson.solution = crate::lesson::Files::new();
        lesson.solution.insert(
            "app.py".into(),
            b"import os\nPORT = int(os.environ[\"PORT\"])\nprint(PORT)\n".to_vec(),
        );
        let lines = super::diff::diff_lines(&pack, &lesson, &mine);
        m.overlay = Some(Overlay::Solution { lines, scroll: 0 });
        m
    });
}

#[test]
fn help_and_confirm() {
    snap("help", |w, h| {
        let mut m = lesson(w, h);
        m.overlay = Some(Overlay::Help);
        m
    });
    snap("confirm_quit", |w, h| {
        let mut m = lesson(w, h);
        m.overlay = Some(Overlay::Confirm(Confirm::Quit));
        m
    });
}

#[test]
fn no_workspace_and_completion() {
    snap("no_workspace", |w, h| {
        at_size(
            Model::new(
                fixtures::pack(),
                None,
                crate::workspace::Progress::default(),
                (w, h),
            ),
            w,
            h,
        )
    });
    snap("complete", |w, h| {
        let mut m = at_size(fixtures::model(), w, h);
        let pack = m.pack.clone();
        for (i, l) in pack.lessons.iter().enumerate() {
            m.progress.record(l, &report(vec![passed("a", 1)]));
            let lp = m.progress.lesson_mut(l);
            lp.first_pass = Some(format!("2025-01-06T{:02}:30:00Z", 10 + i));
            lp.attempts = 1 + (i as u32 % 3);
            lp.hints_revealed = i as u32 % 4;
        }
        m.screen = super::model::Screen::Complete;
        m
    });
}

#[test]
fn too_small() {
    let m = lesson(50, 15);
    insta::assert_snapshot!("too_small_50x15", draw(&m, 50, 15));
}

#[test]
fn no_color_leaves_no_colour() {
    let mut m = lesson(80, 24);
    m.color = super::theme::ColorMode::None;
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view(&m, f)).unwrap();
    let buf = t.backend().buffer();
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset)
    );
}
