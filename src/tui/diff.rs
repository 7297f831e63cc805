//! The reference solution as a coloured unified diff against the learner's files.

use std::path::Path;

use ratatui::style::{Modifier, Style};
use ratatui::text::Line;

use crate::lesson::{Files, Lesson, Pack};

use super::theme::palette;

/// Read the learner's files in `dir` and diff them against the lesson's solution.
pub fn solution(pack: &Pack, lesson: &Lesson, dir: &Path) -> Vec<Line<'static>> {
    let mut mine = Files::new();
    for (name, text) in super::runtime::read_lesson_files(dir).0 {
        mine.insert(name, text.into_bytes());
    }
    diff_lines(pack, lesson, &mine)
}

/// Diff `mine` against the solution: files the solution has, plus starter files it dropped.
pub fn diff_lines(pack: &Pack, lesson: &Lesson, mine: &Files) -> Vec<Line<'static>> {
    let mut names: Vec<&String> = lesson.solution.keys().collect();
    names.extend(mine.keys().filter(|k| {
        !lesson.solution.contains_key(*k)
            && !pack.shared.contains_key(*k)
            && lesson.starter.contains_key(*k)
    }));
    names.sort();
    names.dedup();
    let text = |b: Option<&Vec<u8>>| {
        b.map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for name in names {
        let theirs = text(lesson.solution.get(name));
        let ours = text(mine.get(name));
        if theirs == ours {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&ours, &theirs);
        let unified = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("yours/{name}"), &format!("solution/{name}"))
            .to_string();
        for line in unified.lines() {
            let style = if line.starts_with("+++") || line.starts_with("---") {
                palette::bold()
            } else if line.starts_with('+') {
                Style::new().fg(palette::PASS)
            } else if line.starts_with('-') {
                Style::new().fg(palette::FAIL)
            } else if line.starts_with("@@") {
                Style::new().fg(palette::ACCENT).add_modifier(Modifier::DIM)
            } else {
                Style::new()
            };
            out.push(Line::styled(line.replace('\t', "    "), style));
        }
        out.push(Line::raw(""));
    }
    out
}
