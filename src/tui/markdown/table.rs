//! Tables at a width: aligned columns when they fit, else one short list per row
//! (`• first cell`, then `header: cell` for the others), so nothing is cut or misaligned.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::wrap;
use crate::tui::theme::palette;

type Cell = Vec<Span<'static>>;

fn width(cell: &Cell) -> usize {
    cell.iter().map(|s| s.content.chars().count()).sum()
}

fn bold(cell: &Cell) -> Cell {
    cell.iter()
        .map(|s| Span::styled(s.content.clone(), s.style.patch(palette::bold())))
        .collect()
}

/// Render `rows` (the first `head` of them are the header) in at most `avail` columns.
pub fn render(rows: &[Vec<Cell>], head: usize, avail: usize) -> Vec<Line<'static>> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if cols == 0 {
        return Vec::new();
    }
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(width)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = widths.iter().sum::<usize>() + 3 * (cols - 1);
    if total <= avail {
        aligned(rows, head, &widths)
    } else {
        listed(rows, head, avail)
    }
}

fn aligned(rows: &[Vec<Cell>], head: usize, widths: &[usize]) -> Vec<Line<'static>> {
    let sep = || Span::styled(" │ ", palette::dim());
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let mut spans = Vec::new();
        for (c, w) in widths.iter().enumerate() {
            if c > 0 {
                spans.push(sep());
            }
            let cell = row.get(c).cloned().unwrap_or_default();
            let pad = w - width(&cell);
            spans.extend(if i < head { bold(&cell) } else { cell });
            // The last column needs no padding: it would only be trailing blanks.
            if pad > 0 && c + 1 < widths.len() {
                spans.push(Span::raw(" ".repeat(pad)));
            }
        }
        out.push(Line::from(spans));
        if i + 1 == head {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            out.push(Line::styled(rule.join("─┼─"), palette::dim()));
        }
    }
    out
}

fn listed(rows: &[Vec<Cell>], head: usize, avail: usize) -> Vec<Line<'static>> {
    let header: Vec<Cell> = rows
        .get(..head)
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    let inner = avail.saturating_sub(2).max(8);
    for row in rows.iter().skip(head) {
        for (c, cell) in row.iter().enumerate() {
            let mut spans = Vec::new();
            if c == 0 {
                spans.extend(bold(cell));
            } else {
                if let Some(h) = header.get(c).filter(|h| width(h) > 0) {
                    spans.extend(
                        h.iter()
                            .map(|s| Span::styled(s.content.clone(), palette::dim())),
                    );
                    spans.push(Span::styled(": ", palette::dim()));
                }
                spans.extend(cell.iter().cloned());
            }
            for (i, l) in wrap(&spans, inner).into_iter().enumerate() {
                let lead = if c == 0 && i == 0 {
                    Span::styled("• ", Style::new().fg(palette::ACCENT))
                } else {
                    Span::raw("  ")
                };
                let mut line = vec![lead];
                line.extend(l);
                out.push(Line::from(line));
            }
        }
    }
    out
}
