//! `view`: draws the model, one function per screen and panel. No side effects: everything
//! it shows comes from the model (including the clock, `model.now`).

// `m`, `f`, `v` and `l` are the model, frame, lesson view and lesson in every panel function.
#![allow(clippy::many_single_char_names)]

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, BorderType, Clear, Gauge, Padding, Paragraph, Scrollbar, ScrollbarOrientation,
    ScrollbarState, Wrap,
};

use crate::check::{CheckReport, Outcome};
use crate::lesson::Lesson;
use crate::sandbox::output::StreamKind;
use crate::workspace::Status;

use super::layout::{self, LessonLayout};
use super::markdown::wrap;
use super::model::{
    CheckState, Confirm, FACTORS, LessonView, Model, Overlay, Pane, RunState, Screen,
};
use super::theme::{self, palette};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draw the whole screen.
pub fn view(m: &Model, f: &mut Frame<'_>) {
    let area = f.area();
    if layout::too_small(area.width, area.height) {
        too_small(f, area);
    } else {
        match &m.screen {
            Screen::NoWorkspace { dir, error } => no_workspace(m, f, area, dir, error.as_deref()),
            Screen::Map => map(m, f, area),
            Screen::Lesson => lesson(m, f, area),
            Screen::Complete => complete(m, f, area),
        }
        if let Some(o) = &m.overlay {
            overlay(m, f, area, o);
        }
    }
    theme::adapt(f.buffer_mut(), m.color);
}

fn too_small(f: &mut Frame<'_>, area: Rect) {
    let text = Text::from(vec![
        Line::styled("The terminal is too small.", palette::bold()),
        Line::raw(""),
        Line::raw(format!(
            "It is {}×{}; twelve needs at least {}×{} (80×24 is comfortable).",
            area.width,
            area.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        )),
        Line::raw("Make the window bigger, or press q to quit."),
    ]);
    let h = 5.min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    f.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        Rect::new(area.x, y, area.width, h),
    );
}

fn footer(m: &Model, f: &mut Frame<'_>, area: Rect, keys: &[(&str, &str)]) {
    let watch = if m.screen == Screen::Lesson {
        let (label, style) = if m.watch {
            ("watch on", Style::new().fg(palette::PASS))
        } else {
            ("watch off", palette::dim())
        };
        vec![Span::styled(format!(" {label} "), style)]
    } else {
        Vec::new()
    };
    let watch_width = watch.iter().map(Span::width).sum::<usize>() as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(watch_width)]).areas(area);
    let line = if let Some(flash) = &m.flash {
        Line::from(Span::styled(
            format!(" {flash}"),
            Style::new().fg(palette::WARN),
        ))
    } else {
        // As many keys as fit; `?` lists them all.
        let mut spans = vec![Span::raw(" ")];
        let mut used = 1;
        for (i, (k, what)) in keys.iter().enumerate() {
            let w = k.chars().count() + what.chars().count() + 1 + if i > 0 { 2 } else { 0 };
            if used + w > usize::from(left.width) {
                break;
            }
            used += w;
            if i > 0 {
                spans.push(Span::styled("  ", palette::dim()));
            }
            spans.push(Span::styled(*k, palette::key()));
            spans.push(Span::raw(format!(" {what}")));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), left);
    f.render_widget(Paragraph::new(Line::from(watch)), right);
}

fn no_workspace(
    m: &Model,
    f: &mut Frame<'_>,
    area: Rect,
    dir: &std::path::Path,
    error: Option<&str>,
) {
    let [body, foot] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let mut lines = vec![
        Line::styled("Welcome to twelve", palette::title()),
        Line::raw(""),
        Line::raw(
            "twelve teaches the Twelve-Factor App methodology with twelve small, broken web services. You fix each one in your own editor, and twelve checks your fix by running it.",
        ),
        Line::raw(""),
        Line::raw(
            "There is no workspace here yet (a folder with one sub-folder per lesson, and your progress).",
        ),
        Line::raw(""),
        Line::from(vec![
            Span::raw("Press "),
            Span::styled("Enter", palette::key()),
            Span::raw(" to create one in "),
            Span::styled(format!("./{}", dir.display()), palette::bold()),
            Span::raw(" and start, or "),
            Span::styled("q", palette::key()),
            Span::raw(" to quit."),
        ]),
        Line::raw(""),
        Line::styled(
            "From a shell: `twelve init DIR`, then `cd DIR` and `twelve`.",
            palette::dim(),
        ),
    ];
    if let Some(e) = error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Could not create it: {e}"),
            Style::new().fg(palette::FAIL),
        ));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .padding(Padding::new(2, 2, 1, 1))
        .title(" twelve ");
    let width = body.width.min(84);
    let inner = Rect::new(
        body.x + (body.width - width) / 2,
        body.y,
        width,
        body.height,
    );
    f.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        inner,
    );
    footer(m, f, foot, &[("Enter", "create workspace"), ("q", "quit")]);
}

fn status_mark(status: Status) -> Span<'static> {
    match status {
        Status::Passed => Span::styled("✓", Style::new().fg(palette::PASS)),
        Status::Attempted => Span::styled("•", Style::new().fg(palette::WARN)),
        Status::NotStarted => Span::styled("·", palette::dim()),
    }
}

fn roman(n: usize) -> &'static str {
    [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
    ]
    .get(n.wrapping_sub(1))
    .copied()
    .unwrap_or("?")
}

fn map(m: &Model, f: &mut Frame<'_>, area: Rect) {
    let total = m.pack.lessons.len();
    let passed = m.progress.passed_count(&m.pack);
    let next = m.progress.next_lesson(&m.pack);
    let welcome_h = if m.welcome { 5 } else { 0 };
    let [head, welcome, list, gauge, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(welcome_h),
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(vec![Line::from(vec![
            Span::styled(" twelve", palette::title()),
            Span::styled(
                "  the Twelve-Factor App, one broken service at a time",
                palette::dim(),
            ),
        ])]),
        head,
    );
    if m.welcome {
        let text = vec![
            Line::from(vec![
                Span::styled("Welcome!", palette::bold()),
                Span::raw(
                    " Each lesson is a small URL-shortener service that breaks one factor. Read the lesson, run the service, fix it in your editor, and press c to check.",
                ),
            ]),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Choose a lesson with "),
                Span::styled("↑↓", palette::key()),
                Span::raw(" and open it with "),
                Span::styled("Enter", palette::key()),
                Span::raw(". Your progress is saved as you go."),
            ]),
        ];
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::new().padding(Padding::horizontal(1))),
            welcome,
        );
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(palette::border(true))
        .title(" The twelve factors ");
    let inner = block.inner(list);
    f.render_widget(block, list);
    let mut lines = Vec::new();
    for (i, name) in FACTORS.iter().enumerate() {
        let lesson = m.lesson_for_factor(i).map(|(_, l)| l);
        let selected = i == m.map_selected;
        let mut spans = vec![Span::raw(if selected { " ▶ " } else { "   " })];
        match lesson {
            Some(l) => {
                let lp = m.progress.lesson(l);
                spans.push(status_mark(lp.status));
                spans.push(Span::raw(format!(" {:>4}  ", roman(i + 1))));
                spans.push(Span::styled(format!("{name:<20}"), palette::bold()));
                spans.push(Span::raw(format!(" {}", l.title)));
                let tail = match lp.status {
                    Status::Passed => Span::styled("  passed", Style::new().fg(palette::PASS)),
                    Status::Attempted => Span::styled(
                        format!("  attempted ({}×)", lp.attempts),
                        Style::new().fg(palette::WARN),
                    ),
                    Status::NotStarted => Span::raw(""),
                };
                spans.push(tail);
                if next.is_some_and(|n| n.number == l.number) {
                    spans.push(Span::styled("  ← next", Style::new().fg(palette::ACCENT)));
                }
            }
            None => {
                spans.push(Span::styled(" ", palette::dim()));
                spans.push(Span::styled(
                    format!(" {:>4}  {name:<20} (no lesson in this pack)", roman(i + 1)),
                    palette::dim(),
                ));
            }
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    // Keep the selection visible on short terminals.
    let height = usize::from(inner.height);
    let offset = (m.map_selected + 1).saturating_sub(height);
    f.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), inner);

    let ratio = if total == 0 {
        0.0
    } else {
        passed as f64 / total as f64
    };
    let label = format!("{passed} of {total} lessons passed");
    let next_text = match next {
        Some(l) => format!(
            " Next: {} {} — {}",
            roman(usize::from(l.factor)),
            l.factor_name,
            l.title
        ),
        None if total > 0 => " Every lesson passed. Well done!".into(),
        None => String::new(),
    };
    let [g, n] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)])
        .margin(0)
        .areas(Rect::new(
            gauge.x + 1,
            gauge.y + 1,
            gauge.width.saturating_sub(2),
            2,
        ));
    f.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(label)
            .gauge_style(Style::new().fg(palette::PASS)),
        g,
    );
    f.render_widget(
        Paragraph::new(Line::styled(next_text, Style::new().fg(palette::ACCENT))),
        n,
    );
    footer(
        m,
        f,
        foot,
        &[
            ("↑↓", "choose"),
            ("Enter", "open"),
            ("?", "help"),
            ("q", "quit"),
        ],
    );
}

fn lesson(m: &Model, f: &mut Frame<'_>, area: Rect) {
    let (Some(v), Some(l)) = (&m.lesson, m.current()) else {
        return;
    };
    let lay = layout::lesson(area, v.focus);
    header(m, f, &lay, v, l);
    if let Some(tabs) = lay.tabs {
        let mut spans = Vec::new();
        for p in Pane::ALL {
            let label = format!(" {} {} ", p.index() + 1, p.title());
            let mut style = if p == v.focus {
                palette::selected()
            } else {
                palette::dim()
            };
            if p == Pane::Checks && v.active.is_some() {
                style = style.fg(palette::WARN);
            }
            spans.push(Span::styled(label, style));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled("Tab switches", palette::dim()));
        f.render_widget(Paragraph::new(Line::from(spans)), tabs);
    }
    for (pane, rect) in &lay.panes {
        let focused = *pane == v.focus;
        match pane {
            Pane::Text => text_panel(f, *rect, v, l, focused),
            Pane::Files => files_panel(f, *rect, v, focused),
            Pane::Checks => checks_panel(m, f, *rect, v, focused),
            Pane::Run => run_panel(m, f, *rect, v, l, focused),
        }
    }
    let keys: &[(&str, &str)] = if v.active.is_some() {
        &[
            ("Esc", "cancel check"),
            ("Tab", "pane"),
            ("↑↓", "scroll"),
            ("y", "copy"),
            ("?", "help"),
            ("q", "quit"),
        ]
    } else {
        &[
            ("c", "check"),
            ("r", "run"),
            ("e", "edit"),
            ("h", "hint"),
            ("?", "help"),
            ("q", "quit"),
            ("Tab", "pane"),
            ("s", "solution"),
            ("w", "watch"),
            ("Esc", "map"),
        ]
    };
    footer(m, f, lay.footer, keys);
}

fn header(m: &Model, f: &mut Frame<'_>, lay: &LessonLayout, _v: &LessonView, l: &Lesson) {
    let lp = m.progress.lesson(l);
    let mut left = Line::from(vec![
        Span::styled(" twelve ", palette::title()),
        Span::styled(
            format!("{} {} ", roman(usize::from(l.factor)), l.factor_name),
            palette::bold(),
        ),
        Span::raw(format!("— {}", l.title)),
    ]);
    let right = Line::from(vec![
        status_mark(lp.status),
        Span::raw(format!(" {}  ", lp.status.label())),
        Span::styled(
            format!("hints {}/{} ", lp.hints_revealed, l.hints.len()),
            palette::dim(),
        ),
    ]);
    let rw = right.width() as u16;
    let [a, b] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(rw)]).areas(lay.header);
    if left.width() > usize::from(a.width) {
        // Cut the title with an ellipsis rather than run into the status.
        let keep =
            usize::from(a.width).saturating_sub(left.spans[0].width() + left.spans[1].width() + 2);
        let title: String = format!("— {}", l.title).chars().take(keep).collect();
        left.spans[2] = Span::raw(format!("{title}… "));
    }
    f.render_widget(Paragraph::new(left), a);
    f.render_widget(Paragraph::new(right), b);
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(palette::border(focused))
        .title(Span::styled(
            title,
            if focused {
                palette::title()
            } else {
                palette::bold()
            },
        ))
}

fn scrollbar(f: &mut Frame<'_>, area: Rect, len: usize, pos: usize, height: usize) {
    if len <= height {
        return;
    }
    let mut state = ScrollbarState::new(len.saturating_sub(height)).position(pos);
    f.render_stateful_widget(
        Scrollbar::new(ScrollbarOrientation::VerticalRight)
            .begin_symbol(None)
            .end_symbol(None)
            .track_symbol(Some("│")),
        area.inner(ratatui::layout::Margin {
            horizontal: 0,
            vertical: 1,
        }),
        &mut state,
    );
}

fn text_panel(f: &mut Frame<'_>, area: Rect, v: &LessonView, l: &Lesson, focused: bool) {
    let block =
        pane_block(format!(" Lesson {} ", l.number), focused).padding(Padding::horizontal(1));
    let inner = block.inner(area);
    let height = usize::from(inner.height);
    let max = v.text.len().saturating_sub(height);
    let top = v.scroll[Pane::Text.index()].min(max);
    let shown: Vec<Line<'static>> = v.text.iter().skip(top).take(height).cloned().collect();
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(shown), inner);
    scrollbar(f, area, v.text.len(), top, height);
}

fn files_panel(f: &mut Frame<'_>, area: Rect, v: &LessonView, focused: bool) {
    let title = match v.file() {
        Some(name) => format!(" Files — {name} "),
        None => " Files ".to_string(),
    };
    let block = pane_block(title, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let [bar, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let mut spans = Vec::new();
    for (i, name) in v.files.iter().enumerate() {
        let style = if i == v.selected_file {
            palette::selected()
        } else {
            palette::dim()
        };
        spans.push(Span::styled(format!(" {name} "), style));
        spans.push(Span::raw(" "));
    }
    if v.files.is_empty() {
        spans.push(Span::styled(
            format!(" {} is empty or missing (x resets it)", v.dir.display()),
            palette::dim(),
        ));
    } else {
        spans.push(Span::styled("[ ] file  e edit", palette::dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), bar);
    let height = usize::from(body.height);
    let max = v.file_lines.len().saturating_sub(height);
    let top = v.scroll[Pane::Files.index()].min(max);
    let numw = v.file_lines.len().to_string().len().max(2);
    let lines: Vec<Line<'static>> = v
        .file_lines
        .iter()
        .enumerate()
        .skip(top)
        .take(height)
        .map(|(i, l)| {
            let mut spans = vec![Span::styled(format!("{:>numw$} ", i + 1), palette::dim())];
            spans.extend(l.spans.iter().cloned());
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
    scrollbar(
        f,
        Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        },
        v.file_lines.len(),
        top,
        height,
    );
}

fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn elapsed(now: Instant, since: Instant) -> String {
    let d = now.saturating_duration_since(since);
    format!("{:.1} s", d.as_secs_f64())
}

/// Wrap `text` in `style` at `width`, every line starting with `indent` spaces.
fn para(out: &mut Vec<Line<'static>>, text: &str, style: Style, indent: usize, width: u16) {
    let avail = usize::from(width).saturating_sub(indent).max(10);
    for src in text.lines() {
        for l in wrap(&[Span::styled(src.to_string(), style)], avail) {
            let mut spans = vec![Span::raw(" ".repeat(indent))];
            spans.extend(l);
            out.push(Line::from(spans));
        }
    }
}

/// The check panel's lines (also used by update to know how far it scrolls).
pub fn check_lines(v: &LessonView, width: u16, now: Instant, tick: u64) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match (&v.active, &v.report) {
        (Some(a), _) => out.push(Line::from(vec![
            Span::styled(
                format!("Checking… {}", elapsed(now, a.started)),
                Style::new().fg(palette::WARN),
            ),
            Span::styled("  (Esc cancels)", palette::dim()),
        ])),
        (None, Some(r)) => {
            let passed = r
                .checks
                .iter()
                .filter(|c| c.outcome == Outcome::Passed)
                .count();
            let (text, style) = match r.outcome {
                Outcome::Passed => (
                    format!(
                        "All {} checks passed in {}.",
                        r.checks.len(),
                        millis(r.duration_ms)
                    ),
                    Style::new().fg(palette::PASS).add_modifier(Modifier::BOLD),
                ),
                Outcome::Failed => (
                    format!(
                        "{passed} of {} checks passed. Fix, save, and check again.",
                        r.checks.len()
                    ),
                    Style::new().fg(palette::FAIL).add_modifier(Modifier::BOLD),
                ),
                Outcome::Error => (
                    "The checks could not run.".to_string(),
                    Style::new().fg(palette::FAIL),
                ),
                Outcome::Cancelled => ("Cancelled.".to_string(), palette::dim()),
            };
            para(&mut out, &text, style, 0, width);
        }
        (None, None) => out.push(Line::from(vec![
            Span::raw("Press "),
            Span::styled("c", palette::key()),
            Span::raw(" to run the checks against your files."),
        ])),
    }
    out.push(Line::raw(""));
    for row in &v.checks {
        let (mark, style, tail) = match &row.state {
            CheckState::Pending => (
                Span::styled("·", palette::dim()),
                palette::dim(),
                String::new(),
            ),
            CheckState::Running { since } => (
                Span::styled(
                    SPINNER[(tick % 10) as usize],
                    Style::new().fg(palette::WARN),
                ),
                Style::new(),
                format!("  {}", elapsed(now, *since)),
            ),
            CheckState::Done(r) => match r.outcome {
                Outcome::Passed => (
                    Span::styled("✓", Style::new().fg(palette::PASS)),
                    Style::new(),
                    format!("  passed {}", millis(r.duration_ms)),
                ),
                Outcome::Failed => (
                    Span::styled("✗", Style::new().fg(palette::FAIL)),
                    palette::bold(),
                    format!("  failed {}", millis(r.duration_ms)),
                ),
                Outcome::Error => (
                    Span::styled("!", Style::new().fg(palette::FAIL)),
                    palette::bold(),
                    "  could not run".into(),
                ),
                Outcome::Cancelled => (
                    Span::styled("–", palette::dim()),
                    palette::dim(),
                    "  cancelled".into(),
                ),
            },
        };
        let mut spans = vec![
            Span::styled(row.title.clone(), style),
            Span::styled(tail, palette::dim()),
        ];
        let avail = usize::from(width).saturating_sub(3).max(10);
        for (i, l) in wrap(&std::mem::take(&mut spans), avail)
            .into_iter()
            .enumerate()
        {
            let mut line = if i == 0 {
                vec![Span::raw(" "), mark.clone(), Span::raw(" ")]
            } else {
                vec![Span::raw("   ")]
            };
            line.extend(l);
            out.push(Line::from(line));
        }
        if let CheckState::Done(r) = &row.state {
            failure_lines(&mut out, r, width);
        }
    }
    out
}

fn failure_lines(out: &mut Vec<Line<'static>>, r: &CheckReport, width: u16) {
    let Some(fail) = &r.failure else { return };
    let red = Style::new().fg(palette::FAIL);
    para(out, &fail.message, red, 3, width);
    if let Some(d) = &fail.detail {
        para(out, d, palette::dim(), 3, width);
    }
    if !fail.expected.is_empty() {
        para(
            out,
            &format!("expected: {}", fail.expected),
            Style::new().fg(palette::PASS),
            3,
            width,
        );
    }
    if !fail.observed.is_empty() {
        para(out, &format!("observed: {}", fail.observed), red, 3, width);
    }
    for o in &fail.outputs {
        if o.stdout.is_empty() && o.stderr.is_empty() && o.exit.is_none() {
            continue;
        }
        let exit = o
            .exit
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        out.push(Line::styled(
            format!("   ── output of {}{exit}", o.process),
            palette::bold(),
        ));
        for (stream, lines) in [("out", &o.stdout), ("err", &o.stderr)] {
            let skip = lines.len().saturating_sub(12);
            for l in lines.iter().skip(skip) {
                let style = if stream == "err" {
                    Style::new().fg(palette::WARN)
                } else {
                    Style::new()
                };
                para(out, l, style, 5, width);
            }
        }
    }
    if !r.why.is_empty() {
        out.push(Line::styled("   Why it matters:", palette::bold()));
        para(
            out,
            &r.why,
            Style::new().add_modifier(Modifier::ITALIC),
            5,
            width,
        );
    }
    if !r.transcript.is_empty() {
        out.push(Line::from(vec![
            Span::styled("   Try it by hand ", palette::bold()),
            Span::styled("(y copies)", palette::dim()),
        ]));
        for t in &r.transcript {
            para(out, t, palette::dim(), 5, width);
        }
    }
    out.push(Line::raw(""));
}

fn checks_panel(m: &Model, f: &mut Frame<'_>, area: Rect, v: &LessonView, focused: bool) {
    let block = pane_block(" Checks ".into(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = check_lines(v, inner.width, m.now, m.tick);
    let height = usize::from(inner.height);
    let max = lines.len().saturating_sub(height);
    let top = v.scroll[Pane::Checks.index()].min(max);
    let len = lines.len();
    let shown: Vec<Line<'static>> = lines.into_iter().skip(top).take(height).collect();
    f.render_widget(Paragraph::new(shown), inner);
    scrollbar(f, area, len, top, height);
}

fn run_panel(m: &Model, f: &mut Frame<'_>, area: Rect, v: &LessonView, l: &Lesson, focused: bool) {
    let block = pane_block(" Run ".into(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let run = &v.run;
    let mut head = Vec::new();
    match &run.state {
        RunState::Idle => head.push(Line::from(vec![
            Span::raw("Press "),
            Span::styled("r", palette::key()),
            Span::raw(format!(
                " to start the service as `twelve run {}` does.",
                l.number
            )),
        ])),
        RunState::Starting => head.push(Line::styled("Starting…", Style::new().fg(palette::WARN))),
        RunState::Running => head.push(Line::from(vec![
            Span::styled(
                SPINNER[(m.tick % 10) as usize],
                Style::new().fg(palette::PASS),
            ),
            Span::raw(" running on "),
            Span::styled(
                run.url.clone().unwrap_or_default(),
                Style::new()
                    .fg(palette::LINK)
                    .add_modifier(Modifier::UNDERLINED),
            ),
            Span::styled("  (r stops)", palette::dim()),
        ])),
        RunState::Stopping => head.push(Line::styled("Stopping…", Style::new().fg(palette::WARN))),
        RunState::Ended(why) => head.push(Line::from(vec![
            Span::styled(why.clone(), Style::new().fg(palette::WARN)),
            Span::styled("  (r starts it again)", palette::dim()),
        ])),
    }
    if let Some(c) = &run.command {
        para(&mut head, &format!("$ {c}"), palette::dim(), 0, inner.width);
    }
    let hh = head.len() as u16;
    let [h, body] = Layout::vertical([
        Constraint::Length(hh.min(inner.height)),
        Constraint::Fill(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(head), h);
    let height = usize::from(body.height);
    let width = usize::from(body.width).max(10);
    let style = |s: &StreamKind| match s {
        StreamKind::Stdout => Style::new(),
        StreamKind::Stderr => palette::dim(),
    };
    // Program output keeps its indentation (a traceback reads by it): wrap the text after
    // the leading spaces and indent every piece by them.
    let wrapped = |(s, t): &(StreamKind, String)| -> Vec<Line<'static>> {
        let body = t.trim_start_matches(' ');
        let indent = (t.len() - body.len()).min(width / 2);
        wrap(&[Span::styled(body.to_string(), style(s))], width - indent)
            .into_iter()
            .map(|mut spans| {
                if indent > 0 {
                    spans.insert(0, Span::raw(" ".repeat(indent)));
                }
                Line::from(spans)
            })
            .collect()
    };
    let max = run.lines.len().saturating_sub(1);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let top;
    if v.run_follow {
        // Fill from the end: the newest lines at the bottom.
        let mut i = run.lines.len();
        while i > 0 && lines.len() < height {
            i -= 1;
            let mut w = wrapped(&run.lines[i]);
            w.extend(lines);
            lines = w;
        }
        let cut = lines.len().saturating_sub(height);
        lines.drain(..cut);
        top = i;
    } else {
        top = v.scroll[Pane::Run.index()].min(max);
        for l in run.lines.iter().skip(top) {
            if lines.len() >= height {
                break;
            }
            lines.extend(wrapped(l));
        }
        lines.truncate(height);
    }
    f.render_widget(Paragraph::new(lines), body);
    scrollbar(f, area, run.lines.len(), top, height);
}

/// What to read and try after the course (an asset, so it can be edited as text).
const BEYOND: &str = include_str!("../../assets/beyond.md");

fn complete(m: &Model, f: &mut Frame<'_>, area: Rect) {
    let [body, foot] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let mut lines = vec![
        Line::styled(
            "You passed every lesson.",
            Style::new().fg(palette::PASS).add_modifier(Modifier::BOLD),
        ),
        Line::raw(""),
    ];
    if let Some(d) = course_time(m) {
        lines.push(Line::raw(format!(
            "From creating the workspace to your last first pass: {}.",
            humantime::format_duration(Duration::from_secs(d.as_secs() / 60 * 60))
        )));
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        format!("  {:<26} {:>8} {:>6}", "lesson", "attempts", "hints"),
        palette::bold(),
    ));
    for l in &m.pack.lessons {
        let lp = m.progress.lesson(l);
        lines.push(Line::raw(format!(
            "  {:<26} {:>8} {:>6}",
            format!("{:>4} {}", roman(usize::from(l.factor)), l.factor_name),
            lp.attempts,
            format!("{}/{}", lp.hints_revealed, l.hints.len())
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw("The services you fixed are yours to keep; `twelve solution N` compares any of them with the reference."));
    // Beside the table when there is room, below it otherwise.
    let (body, next) = if body.width >= 110 {
        let [l, r] = Layout::horizontal([Constraint::Length(64), Constraint::Fill(1)]).areas(body);
        (l, Some(r))
    } else {
        (body, None)
    };
    let width = next.unwrap_or(body).width.saturating_sub(6).max(20);
    let beyond = crate::tui::markdown::render(BEYOND, width, false);
    if let Some(r) = next {
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(palette::border(false))
            .padding(Padding::new(2, 2, 1, 1));
        f.render_widget(Paragraph::new(beyond).block(block), r);
    } else {
        lines.push(Line::raw(""));
        lines.extend(beyond);
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(palette::PASS))
        .padding(Padding::new(2, 2, 1, 1))
        .title(" Course complete ");
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((m.complete_scroll, 0)),
        body,
    );
    footer(
        m,
        f,
        foot,
        &[("↑↓", "scroll"), ("Enter", "lesson map"), ("q", "quit")],
    );
}

/// From `progress.started` to the latest first pass.
fn course_time(m: &Model) -> Option<Duration> {
    let start = humantime::parse_rfc3339_weak(m.progress.started.as_deref()?).ok()?;
    let end = m
        .progress
        .lessons
        .values()
        .filter_map(|l| humantime::parse_rfc3339_weak(l.first_pass.as_deref()?).ok())
        .max()?;
    end.duration_since(start).ok()
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup(
    f: &mut Frame<'_>,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    width: u16,
    style: Style,
) {
    let inner_w = width.saturating_sub(4).min(area.width.saturating_sub(6));
    let mut wrapped = Vec::new();
    for l in lines {
        let spans = l.spans.clone();
        if l.width() <= usize::from(inner_w) {
            wrapped.push(l);
        } else {
            wrapped.extend(
                wrap(&spans, usize::from(inner_w))
                    .into_iter()
                    .map(Line::from),
            );
        }
    }
    let rect = centered(area, width, wrapped.len() as u16 + 4);
    f.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(style)
        .padding(Padding::new(1, 1, 1, 0))
        .title(Span::styled(format!(" {title} "), palette::title()));
    f.render_widget(Paragraph::new(wrapped).block(block), rect);
}

fn overlay(m: &Model, f: &mut Frame<'_>, area: Rect, o: &Overlay) {
    let lesson = m.current();
    match o {
        Overlay::Help => popup(f, area, "Keys", help_lines(), 64, palette::border(true)),
        Overlay::Confirm(c) => {
            let q = match c {
                Confirm::Quit => {
                    "A check or the service is still running. Stop it and quit?".to_string()
                }
                Confirm::Solution => format!(
                    "You have not passed lesson {} yet. Show the solution anyway?",
                    lesson.map_or(0, |l| l.number)
                ),
                Confirm::Reset => format!(
                    "Put the starter files of {} back? Your changes in that folder are lost.",
                    lesson.map_or("this lesson", |l| l.dir_name.as_str())
                ),
            };
            let lines = vec![
                Line::raw(q),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", palette::key()),
                    Span::raw(" yes    "),
                    Span::styled("n", palette::key()),
                    Span::raw(" no"),
                ]),
            ];
            popup(
                f,
                area,
                "Are you sure?",
                lines,
                56,
                Style::new().fg(palette::WARN),
            );
        }
        Overlay::Hints => {
            let Some(l) = lesson else { return };
            let shown = m.progress.lesson(l).hints_revealed as usize;
            let mut lines = Vec::new();
            for (i, h) in l.hints.iter().take(shown).enumerate() {
                let style = if i + 1 == shown {
                    Style::new()
                } else {
                    palette::dim()
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("Hint {}/{}: ", i + 1, l.hints.len()),
                        palette::bold(),
                    ),
                    Span::styled(h.clone(), style),
                ]));
                lines.push(Line::raw(""));
            }
            if shown < l.hints.len() {
                lines.push(Line::from(vec![
                    Span::styled("h", palette::key()),
                    Span::raw(" next hint    "),
                    Span::styled("Esc", palette::key()),
                    Span::raw(" close"),
                ]));
            } else {
                lines.push(Line::from(vec![
                    Span::raw("That was the last hint. "),
                    Span::styled("s", palette::key()),
                    Span::raw(" shows the reference solution."),
                ]));
            }
            popup(f, area, "Hints", lines, 76, palette::border(true));
        }
        Overlay::Solution { lines, scroll } => {
            // As tall as the diff needs, at most the screen.
            let rect = centered(
                area,
                area.width.saturating_sub(4),
                (lines.len().max(1) as u16)
                    .saturating_add(2)
                    .min(area.height.saturating_sub(2)),
            );
            f.render_widget(Clear, rect);
            let block = Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(palette::border(true))
                .title(Span::styled(
                    " Solution: your files → the reference ",
                    palette::title(),
                ))
                .title_bottom(Line::styled(" ↑↓ scroll · Esc close ", palette::dim()));
            let inner = block.inner(rect);
            f.render_widget(block, rect);
            let body: Vec<Line<'static>> = if lines.is_empty() {
                vec![Line::styled(
                    "Your files are the same as the reference solution.",
                    Style::new().fg(palette::PASS),
                )]
            } else {
                lines
                    .iter()
                    .skip(*scroll)
                    .take(usize::from(inner.height))
                    .cloned()
                    .collect()
            };
            f.render_widget(Paragraph::new(body), inner);
            scrollbar(f, rect, lines.len(), *scroll, usize::from(inner.height));
        }
        Overlay::PythonMissing(e) => {
            let lines = vec![
                Line::styled(
                    e.clone(),
                    Style::new().fg(palette::FAIL).add_modifier(Modifier::BOLD),
                ),
                Line::raw(""),
                Line::raw("Every lesson runs a small Python service, so checks and runs"),
                Line::raw("need Python 3.8 or newer. You can still read the lessons."),
                Line::raw(""),
                Line::raw("Install it (e.g. `apt-get install python3`, `brew install python`)"),
                Line::raw("or point TWELVE_PYTHON at one, then start twelve again."),
                Line::raw("`twelve doctor` checks the whole setup."),
                Line::raw(""),
                Line::styled("Esc closes this.", palette::dim()),
            ];
            popup(
                f,
                area,
                "Python 3 is needed",
                lines,
                72,
                palette::border(true),
            );
        }
        Overlay::Transcript { text } => {
            let mut lines = vec![
                Line::styled(
                    "No clipboard tool was found (wl-copy, xclip, xsel, pbcopy).",
                    palette::dim(),
                ),
                Line::styled(
                    "Select these lines with the mouse (hold Shift in most terminals):",
                    palette::dim(),
                ),
                Line::raw(""),
            ];
            lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
            popup(
                f,
                area,
                "Try it by hand",
                lines,
                area.width.saturating_sub(4),
                palette::border(true),
            );
        }
        Overlay::Passed => {
            let Some(l) = lesson else { return };
            let next = m.pack.lessons.iter().find(|n| n.number > l.number);
            let mut lines = vec![
                Line::styled(
                    format!("✓ Lesson {} passed!", l.number),
                    Style::new().fg(palette::PASS).add_modifier(Modifier::BOLD),
                ),
                Line::raw(""),
                Line::raw(format!(
                    "Your service now follows factor {} ({}).",
                    roman(usize::from(l.factor)),
                    l.factor_name
                )),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("s", palette::key()),
                    Span::raw(" compare with the reference solution"),
                ]),
            ];
            match next {
                Some(n) => lines.push(Line::from(vec![
                    Span::styled("n", palette::key()),
                    Span::raw(format!(
                        " next lesson: {} {}",
                        roman(usize::from(n.factor)),
                        n.factor_name
                    )),
                ])),
                None => lines.push(Line::from(vec![
                    Span::styled("n", palette::key()),
                    Span::raw(" finish the course"),
                ])),
            }
            lines.push(Line::from(vec![
                Span::styled("Esc", palette::key()),
                Span::raw(" stay here"),
            ]));
            popup(f, area, "Passed", lines, 56, Style::new().fg(palette::PASS));
        }
    }
}

fn help_lines() -> Vec<Line<'static>> {
    let rows: &[(&str, &str)] = &[
        ("↑↓ j k", "move / scroll the focused pane"),
        ("PgUp PgDn g G", "scroll by pages, to the top or the end"),
        ("Enter", "open the lesson (map)"),
        ("Tab 1-4", "switch pane: lesson, files, checks, run"),
        ("[ ]  ← →", "previous / next file"),
        ("c", "check your fix (Esc cancels)"),
        ("r", "start / stop the service"),
        ("e", "edit the file in $VISUAL / $EDITOR"),
        ("w", "watch mode: check again on every save"),
        ("h", "reveal the next hint"),
        ("s", "the reference solution as a diff"),
        ("x", "reset the lesson's files"),
        ("y", "copy the failed check's commands"),
        ("n p", "next / previous lesson"),
        ("Esc m", "back to the lesson map"),
        ("mouse wheel", "scroll the pane under the pointer"),
        ("q  Ctrl-C", "quit"),
    ];
    rows.iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<15}"), palette::key()),
                Span::raw(*what),
            ])
        })
        .collect()
}
