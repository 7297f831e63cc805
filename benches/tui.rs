//! TUI figures: time to the first frame of the real binary in a pseudo-terminal, the cost of
//! drawing the lesson view per frame (in-process, `TestBackend`), and peak memory.
//!
//! Targets: first frame < 50 ms, a frame < 2 ms, peak RSS < 30 MB. Run: `cargo bench --bench tui`.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use twelve::lesson::Pack;
use twelve::tui::message::Message;
use twelve::tui::model::Model;
use twelve::tui::{highlight, markdown, update, view};
use twelve::workspace::{Progress, Workspace};

const BIN: &str = env!("CARGO_BIN_EXE_twelve");

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path().join("ws");
    let out = std::process::Command::new(BIN)
        .arg("init")
        .arg(&ws)
        .output()
        .expect("twelve init");
    assert!(out.status.success());

    let map = first_frames(&ws, "The twelve factors", 10);
    report("first frame, lesson map (pty, spawn → drawn)", &map, 50.0);
    // Once a lesson was tried, `twelve` opens at it: the lesson view is the first frame.
    std::fs::write(
        ws.join(".twelve/progress.toml"),
        "[lessons.07-port-binding]\nstatus = \"attempted\"\nattempts = 1\n",
    )
    .expect("progress");
    let lesson = first_frames(&ws, "Press c to run", 10);
    report(
        "first frame, lesson view (pty, spawn → drawn)",
        &lesson,
        50.0,
    );

    let rss = peak_rss(&ws);
    println!(
        "peak RSS (VmHWM) after opening lesson 7, a check and a run: {:.1} MB  (target < 30 MB){}",
        rss,
        if rss < 30.0 { "" } else { "  ← over target" }
    );

    render_per_frame();
}

fn report(what: &str, ms: &[f64], target: f64) {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    println!(
        "{what}: median {median:.1} ms, min {:.1} ms, max {:.1} ms over {} runs  (target < {target} ms){}",
        v[0],
        v[v.len() - 1],
        v.len(),
        if median < target {
            ""
        } else {
            "  ← over target"
        }
    );
}

/// A pseudo-terminal with `twelve` in `ws`, its screen parsed as it arrives.
struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn spawn(ws: &Path) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.cwd(ws);
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(30, 100, 0)));
        let p = Arc::clone(&parser);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().expect("parser").process(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().expect("writer");
        Pty {
            child,
            writer,
            parser,
            _master: pty.master,
        }
    }

    fn wait_for(&self, text: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self
                .parser
                .lock()
                .expect("parser")
                .screen()
                .contents()
                .contains(text)
            {
                return true;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        false
    }

    fn quit(mut self) {
        let _ = self.writer.write_all(b"\x03");
        let _ = self.writer.flush();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
    }
}

fn first_frames(ws: &Path, marker: &str, runs: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let pty = Pty::spawn(ws);
        // The footer is drawn last: when it shows, the whole frame is on the screen.
        assert!(
            pty.wait_for(marker, Duration::from_secs(10)),
            "no first frame"
        );
        assert!(pty.wait_for("quit", Duration::from_secs(10)), "no footer");
        out.push(start.elapsed().as_secs_f64() * 1000.0);
        pty.quit();
    }
    out
}

fn peak_rss(ws: &Path) -> f64 {
    use std::io::Write;
    let mut pty = Pty::spawn(ws);
    assert!(pty.wait_for("Press c to run", Duration::from_secs(10)));
    let _ = pty.writer.write_all(b"c");
    let _ = pty.writer.flush();
    assert!(
        pty.wait_for("checks passed.", Duration::from_secs(60)),
        "the check ends"
    );
    let _ = pty.writer.write_all(b"r");
    let _ = pty.writer.flush();
    pty.wait_for("running on", Duration::from_secs(20));
    let pid = pty.child.process_id().expect("pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    pty.quit();
    kb / 1024.0
}

/// Draw the lesson view (highlighted text and file) many times; report the mean per frame.
fn render_per_frame() {
    let pack = Arc::new(Pack::embedded().expect("pack"));
    let (cols, rows) = (120u16, 40u16);
    let ws = Workspace {
        root: "/nonexistent".into(),
        lessons: None,
    };
    let mut m = Model::new(
        Arc::clone(&pack),
        Some(ws),
        Progress::default(),
        (cols, rows),
    );
    let index = pack
        .lessons
        .iter()
        .position(|l| l.number == 7)
        .expect("lesson 7");
    m.colour_code = true;
    let _ = update::open_lesson(&mut m, index);

    let t = Instant::now();
    highlight::warm();
    let warm_ms = t.elapsed().as_secs_f64() * 1000.0;
    let lesson = &pack.lessons[index];
    let width = twelve::tui::layout::text_width(cols, rows, false);
    let t = Instant::now();
    let text = markdown::render(&lesson.text, width, true);
    let md_ms = t.elapsed().as_secs_f64() * 1000.0;

    let mut files = std::collections::BTreeMap::new();
    for (k, v) in pack.shared.iter().chain(&lesson.starter) {
        files.insert(k.clone(), String::from_utf8_lossy(v).into_owned());
    }
    let order: Vec<String> = files.keys().cloned().collect();
    let dir = m.lesson.as_ref().expect("open").dir.clone();
    let _ = update::update(
        &mut m,
        Message::FilesLoaded {
            dir,
            files: files.clone(),
            order,
        },
    );
    let name = m
        .lesson
        .as_ref()
        .and_then(|v| v.file().map(str::to_string))
        .expect("a file");
    let t = Instant::now();
    let file_lines = highlight::highlight(&files[&name], &name);
    let file_ms = t.elapsed().as_secs_f64() * 1000.0;
    let _ = update::update(
        &mut m,
        Message::TextRendered {
            lesson: index,
            width,
            lines: text,
        },
    );
    let text = files[&name].clone();
    let _ = update::update(
        &mut m,
        Message::FileHighlighted {
            name,
            text,
            lines: file_lines,
        },
    );

    let mut term = Terminal::new(TestBackend::new(cols, rows)).expect("terminal");
    term.draw(|f| view::view(&m, f)).expect("draw");
    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        // Scroll a little, so frames differ as they do while reading.
        if let Some(v) = m.lesson.as_mut() {
            v.scroll[0] = i % 20;
        }
        m.tick = i as u64;
        term.draw(|f| view::view(&m, f)).expect("draw");
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n as u32);
    println!("highlighter warm-up (Python, shell, TOML; off the UI thread): {warm_ms:.1} ms");
    println!(
        "lesson 7 text to lines with highlighted code at {width} columns (on open/resize, off the UI thread): {md_ms:.2} ms"
    );
    println!("highlighting the lesson's app.py (on open/save, off the UI thread): {file_ms:.2} ms");
    println!(
        "lesson view per frame at {cols}×{rows} (view + buffer diff, TestBackend): {per:.3} ms over {n} frames  (target < 2 ms){}",
        if per < 2.0 { "" } else { "  ← over target" }
    );
}
