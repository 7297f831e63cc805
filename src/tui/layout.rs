//! Where the panes of the lesson view go, shared by the view (to draw) and by update (to scroll
//! the pane under the mouse and to wrap the text to its width).

use ratatui::layout::{Constraint, Layout, Rect};

use super::model::Pane;

/// Below this the TUI asks for a bigger terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;
/// From this width the lesson view shows all panes side by side; below, one at a time.
pub const WIDE: u16 = 100;

/// Whether `size` is too small to draw anything useful.
pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// The lesson view's regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonLayout {
    pub header: Rect,
    /// The tab bar (narrow terminals only).
    pub tabs: Option<Rect>,
    /// Each visible pane with its area (borders included).
    pub panes: Vec<(Pane, Rect)>,
    pub footer: Rect,
}

impl LessonLayout {
    pub fn area(&self, pane: Pane) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }

    /// The pane at a screen position.
    pub fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        self.panes
            .iter()
            .find(|(_, r)| r.contains(ratatui::layout::Position { x: column, y: row }))
            .map(|(p, _)| *p)
    }
}

/// Lay out the lesson view in `area` with `focus` (which decides the pane shown when narrow
/// and which side pane gets more room when wide). `zoom` shows the focused pane alone, as a
/// narrow terminal does.
pub fn lesson(area: Rect, focus: Pane, zoom: bool) -> LessonLayout {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width < WIDE || zoom {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(body);
        return LessonLayout {
            header,
            tabs: Some(tabs),
            panes: vec![(focus, pane)],
            footer,
        };
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(body);
    let weight = |p: Pane| if p == focus { 3 } else { 2 };
    let [files, checks, run] = Layout::vertical([
        Constraint::Fill(weight(Pane::Files)),
        Constraint::Fill(weight(Pane::Checks)),
        Constraint::Fill(weight(Pane::Run) - 1),
    ])
    .areas(right);
    LessonLayout {
        header,
        tabs: None,
        panes: vec![
            (Pane::Text, left),
            (Pane::Files, files),
            (Pane::Checks, checks),
            (Pane::Run, run),
        ],
        footer,
    }
}

/// Whether the lesson view shows one pane at a time at this width.
pub fn narrow(width: u16) -> bool {
    width < WIDE
}

/// The width the lesson text wraps to for a terminal of `width`×`height`.
pub fn text_width(width: u16, height: u16, zoom: bool) -> u16 {
    let l = lesson(Rect::new(0, 0, width, height), Pane::Text, zoom);
    // Borders and a column of padding on each side.
    l.area(Pane::Text)
        .map_or(width, |r| r.width.saturating_sub(4))
}

/// The inner size (without borders) of `pane` when shown: (columns, rows).
pub fn inner_size(size: (u16, u16), focus: Pane, zoom: bool, pane: Pane) -> (u16, usize) {
    let l = lesson(Rect::new(0, 0, size.0, size.1), focus, zoom);
    l.area(pane).map_or((0, 0), |r| {
        (
            r.width.saturating_sub(2),
            usize::from(r.height.saturating_sub(2)),
        )
    })
}
