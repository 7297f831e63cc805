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
use super::model::{CheckState, Confirm, LessonView, Model, Overlay, Pane, RunState, Screen};
use super::theme::{self, palette};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// After this long without a listener, the run panel asks whether the port is the right one.
const SLOW_START: Duration = Duration::from_secs(5);

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
    } else if m.screen == Screen::Map {
        // Which mode the lessons open in.
        let style = match m.mode {
            crate::lesson::challenge::Mode::Guided => palette::dim(),
            crate::lesson::challenge::Mode::Challenge => Style::new().fg(palette::ACCENT),
        };
        vec![Span::styled(format!(" {} ", m.mode.label()), style)]
    } else {
        Vec::new()
    };
    let watch_width = watch.iter().map(Span::width).sum::<usize>() as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(watch_width)]).areas(area);
    let line = if let Some(flash) = &m.flash {
        Line::from(Span::styled(
            format!(
                " {}",
                fit_words(flash, usize::from(left.width).saturating_sub(1))
            ),
            Style::new().fg(palette::WARN),
        ))
    } else {
        let mut spans = vec![Span::raw(" ")];
        for (i, (k, what)) in fit_keys(keys, usize::from(left.width).saturating_sub(1))
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                spans.push(Span::styled("  ", palette::dim()));
            }
            spans.push(Span::styled(k, palette::key()));
            spans.push(Span::raw(format!(" {what}")));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), left);
    f.render_widget(Paragraph::new(Line::from(watch)), right);
}

/// The keys that fit in `width`, in their order: `?` and `q` always (the way to the others
/// and the way out), then the others as listed, most useful first, while they fit.
fn fit_keys<'a>(keys: &[(&'a str, &'a str)], width: usize) -> Vec<(&'a str, &'a str)> {
    let cost = |(k, what): &(&str, &str)| k.chars().count() + what.chars().count() + 3;
    let essential = |(k, _): &(&str, &str)| matches!(*k, "?" | "q");
    // Separators are counted for every entry: the first one has none, hence the + 2.
    let mut used: usize = keys.iter().filter(|e| essential(e)).map(cost).sum();
    let mut keep: Vec<bool> = keys.iter().map(essential).collect();
    for (i, e) in keys.iter().enumerate() {
        if keep[i] {
            continue;
        }
        if used + cost(e) > width + 2 {
            break;
        }
        used += cost(e);
        keep[i] = true;
    }
    keys.iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(*e))
        .collect()
}

/// `text` in at most `width` columns: whole words, with `…` when some had to go.
pub fn fit_words(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let extra = usize::from(!out.is_empty()) + word.chars().count();
        if out.chars().count() + extra + 1 > width {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = out.trim_end_matches([',', ';', ':', ' ', '—', '-']);
    if out.is_empty() {
        String::new()
    } else {
        format!("{out}…")
    }
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

fn map(m: &Model, f: &mut Frame<'_>, area: Rect) {
    let total = m.pack.lessons.len();
    let passed = m.progress.passed_count(&m.pack);
    let next = m.progress.next_lesson(&m.pack);
    // Short terminals: one line of title, and the welcome without what the footer says.
    let short = area.height < 30;
    let welcome_text = welcome_lines(short && area.height < 24);
    let welcome_h = if m.welcome {
        let lines: usize = welcome_text
            .iter()
            .map(|l| wrap(&l.spans, usize::from(area.width.saturating_sub(2))).len())
            .sum();
        lines as u16 + 1
    } else {
        0
    };
    let [head, welcome, list, gauge, foot] = Layout::vertical([
        Constraint::Length(if short { 1 } else { 2 }),
        Constraint::Length(welcome_h),
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    // A pack's own description, where it has one, in place of the tagline.
    let tagline = match m.pack.info.description.trim() {
        "" => "the Twelve-Factor App, one broken service at a time",
        d => d,
    };
    let tagline = fit_words(tagline, usize::from(head.width).saturating_sub(9));
    f.render_widget(
        Paragraph::new(vec![Line::from(vec![
            Span::styled(" twelve", palette::title()),
            Span::styled(format!("  {tagline}"), palette::dim()),
        ])]),
        head,
    );
    if m.welcome {
        let width = usize::from(welcome.width.saturating_sub(2));
        let text: Vec<Line<'static>> = welcome_text
            .into_iter()
            .flat_map(|l| wrap(&l.spans, width).into_iter().map(Line::from))
            .collect();
        f.render_widget(
            Paragraph::new(text).block(Block::new().padding(Padding::horizontal(1))),
            welcome,
        );
    }
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(palette::border(true))
        .title(format!(" {} ", m.pack.info.title));
    let inner = block.inner(list);
    // Keep the selection visible on short terminals, and say what the list hides.
    let height = usize::from(inner.height);
    let offset = (m.map_selected + 1).saturating_sub(height);
    let below = total.saturating_sub(offset + height);
    let hidden: Vec<String> = [(offset, "↑", "above"), (below, "↓", "below")]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, arrow, word)| format!("{arrow} {n} {word}"))
        .collect();
    if !hidden.is_empty() {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" {} ", hidden.join(" · ")),
                palette::dim(),
            ))
            .right_aligned(),
        );
    }
    f.render_widget(block, list);
    let mut lines = Vec::new();
    // Every lesson of the pack, in order; labels line up however long the longest is.
    let label_w = m
        .pack
        .lessons
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    for (i, l) in m.pack.lessons.iter().enumerate() {
        let selected = i == m.map_selected;
        let mut spans = vec![Span::raw(if selected { " ▶ " } else { "   " })];
        {
            {
                let lp = m.progress.lesson(l);
                spans.push(status_mark(lp.status));
                spans.push(Span::raw(format!(" {:>label_w$}  ", l.label)));
                spans.push(Span::styled(
                    format!("{:<20}", l.factor_name),
                    palette::bold(),
                ));
                let tail = match lp.status {
                    Status::Passed if lp.passed_but_failing_now() => Span::styled(
                        "  passed · last check failed",
                        Style::new().fg(palette::WARN),
                    ),
                    Status::Passed => Span::styled("  passed", Style::new().fg(palette::PASS)),
                    Status::Attempted if lp.attempts > 0 => Span::styled(
                        format!("  attempted ({}×)", lp.attempts),
                        Style::new().fg(palette::WARN),
                    ),
                    Status::Attempted => {
                        Span::styled("  attempted", Style::new().fg(palette::WARN))
                    }
                    Status::NotStarted => Span::raw(""),
                };
                let is_next = next.is_some_and(|n| n.number == l.number);
                // The status and the mark of the next lesson matter most; the title gives
                // way first (whole words), then the word "next".
                let fixed = spans.iter().map(Span::width).sum::<usize>() + tail.width();
                let room = usize::from(inner.width);
                let mut next_mark = if is_next { "  ← next" } else { "" };
                if room < fixed + next_mark.chars().count() + 12 && is_next {
                    next_mark = "  ←";
                }
                let title_room = room.saturating_sub(fixed + next_mark.chars().count() + 1);
                let title = fit_words(&l.title, title_room);
                if !title.is_empty() {
                    spans.push(Span::raw(format!(" {title}")));
                }
                spans.push(tail);
                if is_next {
                    spans.push(Span::styled(next_mark, Style::new().fg(palette::ACCENT)));
                }
            }
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), inner);

    let ratio = if total == 0 {
        0.0
    } else {
        passed as f64 / total as f64
    };
    let label = format!("{passed} of {total} lessons passed");
    let next_text = match next {
        Some(l) => {
            let head = format!(" Next: {} {}", l.label, l.factor_name);
            let room = usize::from(gauge.width.saturating_sub(2)).saturating_sub(head.len() + 3);
            match fit_words(&l.title, room) {
                t if t.is_empty() => head,
                t => format!("{head} — {t}"),
            }
        }
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
            (
                "C",
                match m.mode {
                    crate::lesson::challenge::Mode::Guided => "challenge mode",
                    crate::lesson::challenge::Mode::Challenge => "guided mode",
                },
            ),
            ("?", "help"),
            ("q", "quit"),
        ],
    );
}

fn welcome_lines(short: bool) -> Vec<Line<'static>> {
    let mut text = vec![Line::from(vec![
        Span::styled("Welcome!", palette::bold()),
        Span::raw(
            " Each lesson is a small URL-shortener service that breaks one factor. Read the lesson, run the service, fix it in your editor, and press c to check.",
        ),
    ])];
    if !short {
        text.push(Line::raw(""));
        text.push(Line::from(vec![
            Span::raw("Choose a lesson with "),
            Span::styled("↑↓", palette::key()),
            Span::raw(", open it with "),
            Span::styled("Enter", palette::key()),
            Span::raw(". Progress is saved as you go."),
        ]));
    }
    text
}

fn lesson(m: &Model, f: &mut Frame<'_>, area: Rect) {
    let (Some(v), Some(l)) = (&m.lesson, m.current()) else {
        return;
    };
    let lay = layout::lesson(area, v.focus, v.zoom);
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
        let hint = if v.zoom {
            "Tab switches · z back"
        } else {
            "Tab switches"
        };
        let used: usize = spans.iter().map(Span::width).sum();
        if used + hint.chars().count() <= usize::from(tabs.width) {
            spans.push(Span::styled(hint, palette::dim()));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), tabs);
    }
    for (pane, rect) in &lay.panes {
        let focused = *pane == v.focus;
        match pane {
            Pane::Text => text_panel(f, *rect, v, l, focused),
            Pane::Files => files_panel(m, f, *rect, v, focused),
            Pane::Checks => checks_panel(m, f, *rect, v, focused),
            Pane::Run => run_panel(m, f, *rect, v, l, focused),
        }
    }
    let zoom = if v.zoom { "back" } else { "zoom" };
    let zoomable = !layout::narrow(area.width) || v.zoom;
    let keys: Vec<(&str, &str)> = if v.active.is_some() {
        let mut keys = vec![("Esc", "cancel check"), ("Tab", "pane"), ("↑↓", "scroll")];
        if zoomable {
            keys.push(("z", zoom));
        }
        keys.extend([("?", "help"), ("q", "quit")]);
        keys
    } else {
        let mut keys = vec![("c", "check"), ("r", "run"), ("e", "edit")];
        if v.focus == Pane::Checks && v.first_failure().is_some() {
            keys.push(("y", "copy"));
        }
        if v.focus == Pane::Files && !m.wrap {
            keys.push(("←→", "sideways"));
        }
        if zoomable {
            keys.push(("z", zoom));
        }
        keys.extend([
            ("h", "hint"),
            ("?", "help"),
            ("q", "quit"),
            ("Tab", "pane"),
            ("s", "solution"),
            ("w", "watch"),
            ("Esc", "map"),
        ]);
        keys
    };
    footer(m, f, lay.footer, &keys);
}

fn header(m: &Model, f: &mut Frame<'_>, lay: &LessonLayout, _v: &LessonView, l: &Lesson) {
    let lp = m.progress.lesson(l);
    let mut left = Line::from(vec![
        Span::styled(" twelve ", palette::title()),
        Span::styled(format!("{} {} ", l.label, l.factor_name), palette::bold()),
        Span::raw(format!("— {}", l.title)),
    ]);
    let right = Line::from(vec![
        status_mark(lp.status),
        Span::raw(format!(" {}  ", lp.status_label())),
        Span::styled(
            format!("hints {}/{} ", lp.hints_revealed, l.hints.len()),
            palette::dim(),
        ),
    ]);
    let rw = right.width() as u16;
    let [a, b] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(rw)]).areas(lay.header);
    if left.width() > usize::from(a.width) {
        // Drop words of the title (then the whole title) rather than run into the status.
        let keep =
            usize::from(a.width).saturating_sub(left.spans[0].width() + left.spans[1].width() + 3);
        let title = fit_words(&l.title, keep.saturating_sub(2));
        left.spans[2] = if title.is_empty() {
            Span::raw("")
        } else {
            Span::raw(format!("— {title} "))
        };
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

fn files_panel(m: &Model, f: &mut Frame<'_>, area: Rect, v: &LessonView, focused: bool) {
    let mut title = match v.file() {
        Some(name) => format!(" Files — {name} "),
        None => " Files ".to_string(),
    };
    if v.file_col > 0 && !m.wrap {
        title.push_str(&format!("from column {} ", v.file_col + 1));
    }
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
        // Hints only while they fit whole.
        let used: usize = spans.iter().map(Span::width).sum();
        let mut room = usize::from(bar.width).saturating_sub(used);
        let cut = !m.wrap
            && v.file_lines
                .iter()
                .any(|l| l.width() > code_width(v, body.width));
        let sideways = if cut { "← → sideways" } else { "" };
        let wrap = if m.wrap { "W unwrap" } else { "W wrap" };
        for hint in ["[ ] file", "e edit", sideways, wrap] {
            if hint.is_empty() || hint.chars().count() + 2 > room {
                continue;
            }
            room -= hint.chars().count() + 2;
            spans.push(Span::styled(format!("{hint}  "), palette::dim()));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), bar);
    let rows = file_rows(v, body.width, m.wrap);
    let height = usize::from(body.height);
    let max = rows.len().saturating_sub(height);
    let top = v.scroll[Pane::Files.index()].min(max);
    let len = rows.len();
    let shown: Vec<Line<'static>> = rows.into_iter().skip(top).take(height).collect();
    f.render_widget(Paragraph::new(shown), body);
    scrollbar(
        f,
        Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        },
        len,
        top,
        height,
    );
}

/// The width of the line numbers in the file viewer.
pub fn number_width(v: &LessonView) -> usize {
    v.file_lines.len().to_string().len().max(2)
}

fn code_width(v: &LessonView, width: u16) -> usize {
    usize::from(width)
        .saturating_sub(number_width(v) + 1)
        .max(1)
}

/// The file viewer's rows at `width`: numbered lines, either wrapped (continuations marked
/// `↪`) or seen from column `v.file_col` with `→` where a line goes on past the edge. Also
/// used by update to know how far the viewer scrolls.
pub fn file_rows(v: &LessonView, width: u16, wrap: bool) -> Vec<Line<'static>> {
    let numw = number_width(v);
    let code = code_width(v, width);
    let mut out = Vec::new();
    for (i, l) in v.file_lines.iter().enumerate() {
        let number = Span::styled(format!("{:>numw$} ", i + 1), palette::dim());
        let len = l.width();
        if wrap {
            for (n, (from, to)) in super::markdown::code::wrap_points(l, code)
                .into_iter()
                .enumerate()
            {
                let mut spans = vec![if n == 0 {
                    number.clone()
                } else {
                    Span::styled(format!("{:>numw$} ", "↪"), palette::dim())
                }];
                spans.extend(super::markdown::code::slice(l, from, to));
                out.push(Line::from(spans));
            }
            continue;
        }
        let mut spans = vec![number];
        let from = v.file_col.min(len);
        if len - from > code {
            spans.extend(super::markdown::code::slice(l, from, from + code - 1));
            spans.push(Span::styled(super::markdown::code::CUT, palette::dim()));
        } else {
            spans.extend(super::markdown::code::slice(l, from, len));
        }
        out.push(Line::from(spans));
    }
    out
}

/// A blank that wrapping does not break at (durations stay `3.2 s`, never `3.2` / `s`);
/// drawn as a plain space.
const KEEP: char = '\u{a0}';

fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}{KEEP}ms")
    } else {
        format!("{:.1}{KEEP}s", ms as f64 / 1000.0)
    }
}

fn elapsed(now: Instant, since: Instant) -> String {
    let d = now.saturating_duration_since(since);
    format!("{:.1}{KEEP}s", d.as_secs_f64())
}

/// Wrap spans at `width` and draw [`KEEP`] blanks as spaces.
fn wrap_kept(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    wrap(spans, width)
        .into_iter()
        .map(|l| {
            l.into_iter()
                .map(|mut s| {
                    if s.content.contains(KEEP) {
                        s.content = s.content.replace(KEEP, " ").into();
                    }
                    s
                })
                .collect()
        })
        .collect()
}

/// Wrap `text` in `style` at `width`, every line starting with `indent` spaces.
fn para(out: &mut Vec<Line<'static>>, text: &str, style: Style, indent: usize, width: u16) {
    let avail = usize::from(width).saturating_sub(indent).max(10);
    for src in text.lines() {
        for l in wrap_kept(&[Span::styled(src.to_string(), style)], avail) {
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
                format!("Checking… {}", elapsed(now, a.started)).replace(KEEP, " "),
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
                    format!("  passed{KEEP}{}", millis(r.duration_ms)),
                ),
                Outcome::Failed => (
                    Span::styled("✗", Style::new().fg(palette::FAIL)),
                    palette::bold(),
                    format!("  failed{KEEP}{}", millis(r.duration_ms)),
                ),
                Outcome::Error => (
                    Span::styled("!", Style::new().fg(palette::FAIL)),
                    palette::bold(),
                    format!("  could{KEEP}not{KEEP}run"),
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
        for (i, l) in wrap_kept(&std::mem::take(&mut spans), avail)
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
            // Zoomed, the pane has room for more of the output.
            failure_lines(&mut out, r, width, if v.zoom { 40 } else { 12 });
        }
    }
    out
}

/// A failed check's report; `tail` output lines of each stream at most.
fn failure_lines(out: &mut Vec<Line<'static>>, r: &CheckReport, width: u16, tail: usize) {
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
            let skip = lines.len().saturating_sub(tail);
            for l in lines.iter().skip(skip) {
                let style = if stream == "err" {
                    Style::new().fg(palette::WARN)
                } else {
                    Style::new()
                };
                // A traceback reads by its indentation: keep it.
                let body = l.trim_start_matches(' ');
                let indent = (l.len() - body.len()).min(usize::from(width) / 4);
                para(out, body, style, 5 + indent, width);
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
        // Commands, broken as the lesson text breaks them: what is read here also runs.
        let avail = usize::from(width).saturating_sub(5).max(10);
        let mut quote = super::markdown::code::Quote::default();
        for t in &r.transcript {
            let line = Line::from(Span::styled(t.clone(), palette::dim()));
            for part in super::markdown::code::shell(&line, avail, &mut quote) {
                let mut spans = vec![Span::raw("     ")];
                spans.extend(part.spans);
                out.push(Line::from(spans));
            }
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
        RunState::Starting => {
            let waited = run.since.map(|t| m.now.saturating_duration_since(t));
            let mut text = match &run.url {
                Some(url) => format!("starting… nothing answers on {url} yet"),
                None => "starting…".to_string(),
            };
            if let Some(w) = waited {
                text.push_str(&format!(" ({:.0}{KEEP}s)", w.as_secs_f64().floor()));
            }
            para(
                &mut head,
                &text,
                Style::new().fg(palette::WARN),
                0,
                inner.width,
            );
            if waited.is_some_and(|w| w >= SLOW_START) && run.url.is_some() {
                para(
                    &mut head,
                    "Is it listening on the port it is given in PORT? Its output is below; r stops it.",
                    palette::dim(),
                    0,
                    inner.width,
                );
            }
        }
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
    // The pack's own closing page, when it has one.
    if let Some(closing) = &m.pack.info.closing {
        lines.extend(super::markdown::render(
            closing,
            body.width.saturating_sub(4).min(100),
            false,
        ));
        lines.push(Line::raw(""));
    }
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
            format!("{:>4} {}", l.label, l.factor_name),
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
        Overlay::Help => popup(
            f,
            area,
            "Keys · the manifesto: https://12factor.net",
            help_lines(),
            64,
            palette::border(true),
        ),
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
                    "Put the starter files of {} back? Your changes in that folder are lost (a git \
                     repository in it is kept).",
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
        Overlay::Editor { path } => {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string());
            let editor = &m.editor.command;
            let lines = vec![
                Line::from(vec![
                    Span::raw("Opening "),
                    Span::styled(name, palette::bold()),
                    Span::raw(" in "),
                    Span::styled(editor.clone(), palette::bold()),
                    Span::raw(": neither $VISUAL nor $EDITOR is set."),
                ]),
                Line::raw(""),
                Line::raw(if editor == "nano" {
                    "In nano, Ctrl-O saves and Ctrl-X goes back to twelve."
                } else {
                    "In vi, i starts typing, Esc stops, :wq saves and goes back to twelve."
                }),
                Line::raw(""),
                Line::raw(
                    "To use another editor, quit and start twelve with it set, e.g. `EDITOR=vim twelve` or `export VISUAL=\"code --wait\"` in your shell's profile.",
                ),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("Enter", palette::key()),
                    Span::raw(format!(" open in {editor}    ")),
                    Span::styled("Esc", palette::key()),
                    Span::raw(" not now"),
                ]),
            ];
            popup(f, area, "Your editor", lines, 64, palette::border(true));
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
                Line::raw(match l.factor {
                    Some(_) => format!(
                        "Your service now follows factor {} ({}).",
                        l.label, l.factor_name
                    ),
                    None => format!("Your service now passes {} {}.", l.label, l.factor_name),
                }),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("s", palette::key()),
                    Span::raw(" compare with the reference solution"),
                ]),
            ];
            match next {
                Some(n) => lines.push(Line::from(vec![
                    Span::styled("n", palette::key()),
                    Span::raw(format!(" next lesson: {} {}", n.label, n.factor_name)),
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
    // Short enough for 60×20: the popup holds 15 rows there.
    let rows: &[(&str, &str)] = &[
        ("↑↓ PgUp PgDn", "scroll the pane (g G: top, end)"),
        ("Tab 1-4  z", "switch pane; z: the whole screen"),
        ("[ ]  ← →  W", "file; scroll sideways; wrap lines"),
        ("c  w", "check (Esc cancels); w: on every save"),
        ("r", "start / stop the service"),
        ("e", "edit the file in your editor"),
        ("h", "reveal the next hint"),
        ("s", "the reference solution as a diff"),
        ("x", "reset the lesson's files"),
        ("y  Y", "copy / show the failed commands"),
        ("n p", "next / previous lesson"),
        ("Esc m", "back to the lesson map"),
        ("C (map)", "guided / challenge mode"),
        ("mouse wheel", "scroll the pane under the pointer"),
        ("q  Ctrl-C", "quit"),
    ];
    rows.iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<14}"), palette::key()),
                Span::raw(*what),
            ])
        })
        .collect()
}
