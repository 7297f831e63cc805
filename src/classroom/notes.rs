//! `twelve lessons notes N`: an instructor's notes on a lesson (`lessons/NN-slug/notes.md`),
//! followed by the wrong and right fixes its variants prove the checks judge (generated from
//! the pack, so it never drifts from what the checks do).

use std::fmt::Write as _;

use crate::lesson::{Lesson, Pack, PackSource, Verdict};

/// The notes of the built-in lessons (the embedded pack exposes lessons, not arbitrary files).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "01-codebase",
        include_str!("../../lessons/01-codebase/notes.md"),
    ),
    (
        "02-dependencies",
        include_str!("../../lessons/02-dependencies/notes.md"),
    ),
    (
        "03-config",
        include_str!("../../lessons/03-config/notes.md"),
    ),
    (
        "04-backing-services",
        include_str!("../../lessons/04-backing-services/notes.md"),
    ),
    (
        "05-build-release-run",
        include_str!("../../lessons/05-build-release-run/notes.md"),
    ),
    (
        "06-processes",
        include_str!("../../lessons/06-processes/notes.md"),
    ),
    (
        "07-port-binding",
        include_str!("../../lessons/07-port-binding/notes.md"),
    ),
    (
        "08-concurrency",
        include_str!("../../lessons/08-concurrency/notes.md"),
    ),
    (
        "09-disposability",
        include_str!("../../lessons/09-disposability/notes.md"),
    ),
    (
        "10-dev-prod-parity",
        include_str!("../../lessons/10-dev-prod-parity/notes.md"),
    ),
    ("11-logs", include_str!("../../lessons/11-logs/notes.md")),
    (
        "12-admin-processes",
        include_str!("../../lessons/12-admin-processes/notes.md"),
    ),
];

/// The lesson's `notes.md`: from the pack's folder, or built in.
pub fn notes_md(pack: &Pack, lesson: &Lesson) -> Option<String> {
    match &pack.source {
        PackSource::Dir(d) => {
            std::fs::read_to_string(d.join("lessons").join(&lesson.dir_name).join("notes.md")).ok()
        }
        PackSource::Embedded => BUILT_IN
            .iter()
            .find(|(dir, _)| *dir == lesson.dir_name)
            .map(|(_, text)| (*text).to_string()),
    }
}

/// Notes plus the fixes the variants prove, as markdown.
pub fn render(pack: &Pack, lesson: &Lesson) -> String {
    let mut s = match notes_md(pack, lesson) {
        Some(text) => text.trim_end().to_string() + "\n",
        None => format!(
            "# Lesson {} · {}: notes\n\n(No `lessons/{}/notes.md` in this pack.)\n",
            lesson.number, lesson.title, lesson.dir_name
        ),
    };
    let title = |id: &str| {
        lesson
            .checks
            .iter()
            .find(|c| c.id == id)
            .map_or(id.to_string(), |c| c.title.clone())
    };
    let wrong: Vec<_> = lesson
        .variants
        .iter()
        .filter(|v| v.verdict == Verdict::Fail)
        .collect();
    let right: Vec<_> = lesson
        .variants
        .iter()
        .filter(|v| v.verdict == Verdict::Pass)
        .collect();
    if !wrong.is_empty() {
        let _ = write!(
            s,
            "\n## Wrong fixes the checks reject ({}, from `variants/*.toml`)\n\n",
            wrong.len()
        );
        for v in wrong {
            let check = v.check.as_deref().unwrap_or("");
            let _ = write!(
                s,
                "- **{}**: {}\n  fails “{}” (`{check}`)",
                v.name,
                one_line(&v.why),
                title(check)
            );
            if !v.message.is_empty() {
                let words: Vec<String> = v.message.iter().map(|m| format!("“{m}”")).collect();
                let _ = write!(s, ", saying {}", words.join(" and "));
            }
            s.push('\n');
        }
    }
    if !right.is_empty() {
        let _ = write!(
            s,
            "\n## Right fixes the checks accept ({})\n\n",
            right.len()
        );
        for v in right {
            let _ = writeln!(s, "- **{}**: {}", v.name, one_line(&v.why));
        }
    }
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_lesson_has_notes_and_its_variants() {
        let lessons = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
        let dirs: Vec<String> = std::fs::read_dir(&lessons)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            .collect();
        assert_eq!(
            BUILT_IN.len(),
            dirs.len(),
            "a lesson without notes: {dirs:?}"
        );
        for (dir, text) in BUILT_IN {
            assert!(dirs.iter().any(|d| d == dir), "notes for no lesson: {dir}");
            assert!(text.contains("## Questions to discuss"), "{dir}");
        }
        // Lessons being edited elsewhere may not load; the others must render.
        let pack = Pack::embedded().unwrap_or_else(|e| *e.partial.expect("a partial pack"));
        for l in &pack.lessons {
            let text = render(&pack, l);
            if l.variants.iter().any(|v| v.verdict == Verdict::Fail) {
                assert!(
                    text.contains("## Wrong fixes the checks reject"),
                    "{}",
                    l.dir_name
                );
            }
        }
    }
}
