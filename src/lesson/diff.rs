//! The reference solution as a unified diff against the learner's files: one text for the
//! plain command and the TUI, which only colour its lines differently.

use super::{Files, Lesson};

/// What a line of the diff is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLine {
    /// `--- yours/app.py` / `+++ solution/app.py`
    Header,
    /// `@@ -1,3 +1,4 @@`
    Hunk,
    Added,
    Removed,
    Context,
}

impl DiffLine {
    pub fn of(line: &str) -> DiffLine {
        if line.starts_with("+++") || line.starts_with("---") {
            DiffLine::Header
        } else if line.starts_with("@@") {
            DiffLine::Hunk
        } else if line.starts_with('+') {
            DiffLine::Added
        } else if line.starts_with('-') {
            DiffLine::Removed
        } else {
            DiffLine::Context
        }
    }
}

impl Lesson {
    /// The unified diff from `mine` (the learner's files) to the solution, over the files the
    /// solution has plus starter files it drops; the shared client is left out. Empty when
    /// the files are the same. Files are separated by a blank line.
    pub fn solution_diff(&self, shared: &Files, mine: &Files) -> String {
        let mut names: Vec<&String> = self.solution.keys().collect();
        names.extend(mine.keys().filter(|k| {
            !self.solution.contains_key(*k)
                && !shared.contains_key(*k)
                && self.starter.contains_key(*k)
        }));
        names.sort();
        names.dedup();
        let text = |b: Option<&Vec<u8>>| {
            b.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let mut out = String::new();
        for name in names {
            let theirs = text(self.solution.get(name));
            let ours = text(mine.get(name));
            if theirs == ours {
                continue;
            }
            let diff = similar::TextDiff::from_lines(&ours, &theirs);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("yours/{name}"), &format!("solution/{name}"))
                    .to_string(),
            );
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classified() {
        assert_eq!(DiffLine::of("--- yours/app.py"), DiffLine::Header);
        assert_eq!(DiffLine::of("+++ solution/app.py"), DiffLine::Header);
        assert_eq!(DiffLine::of("@@ -1 +1 @@"), DiffLine::Hunk);
        assert_eq!(DiffLine::of("+x"), DiffLine::Added);
        assert_eq!(DiffLine::of("-x"), DiffLine::Removed);
        assert_eq!(DiffLine::of(" x"), DiffLine::Context);
    }
}
