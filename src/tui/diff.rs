//! The reference solution as a coloured unified diff against the learner's files.

use std::path::Path;

use ratatui::style::{Modifier, Style};
use ratatui::text::Line;

use crate::lesson::diff::DiffLine;
use crate::lesson::{Files, Lesson, Pack};

use super::theme::palette;

/// Read the learner's files in `dir` and diff them against the lesson's solution.
pub fn solution(pack: &Pack, lesson: &Lesson, dir: &Path) -> Vec<Line<'static>> {
    let mine = crate::lesson::read_folder(dir).unwrap_or_default();
    diff_lines(pack, lesson, &mine)
}

/// The solution diff as styled lines.
pub fn diff_lines(pack: &Pack, lesson: &Lesson, mine: &Files) -> Vec<Line<'static>> {
    lesson
        .solution_diff(&pack.shared, mine)
        .lines()
        .map(|line| {
            let style = match DiffLine::of(line) {
                DiffLine::Header => palette::bold(),
                DiffLine::Added => Style::new().fg(palette::PASS),
                DiffLine::Removed => Style::new().fg(palette::FAIL),
                DiffLine::Hunk => Style::new().fg(palette::ACCENT).add_modifier(Modifier::DIM),
                DiffLine::Context => Style::new(),
            };
            Line::styled(line.replace('\t', "    "), style)
        })
        .collect()
}
