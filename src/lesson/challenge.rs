//! Challenge mode: the same lessons without the signposts. A guided starter marks every flaw
//! with a comment naming its factor (`# Factor III (Config): ...`) and the lesson text lists
//! the steps under "What to change"; in challenge mode both are gone, and the hints are the
//! only help.
//!
//! What "markers stripped" means, concretely:
//! - a comment line starting `# Factor N` goes, with the comment lines under it at the same
//!   indentation (its continuation), up to the first line that is not such a comment;
//! - a trailing `# Factor N...` comment after code goes, the code stays;
//! - a docstring paragraph starting `Factor N (...)` or `Factor N:` goes, up to the blank line
//!   or the closing quotes after it.
//!
//! `twelve lessons verify` proves that every stripped starter is still valid Python, holds no
//! marker, and still fails the checks its lesson declares.

use std::sync::LazyLock;

use regex::Regex;

use super::Files;

/// A factor named the way the starters mark their flaws: `Factor III`, `Factor 3`.
const FACTOR: &str = r"Factor (?:[IVX]+|[0-9]+)\b";

/// `# Factor III (Config): ...` alone on its line (group 1: the indentation).
static COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^(\s*)#\s*{FACTOR}")).expect("valid regex"));
/// `code  # Factor XI: ...` (group 1: the code).
static TRAILING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^(.*\S)\s+#\s*{FACTOR}")).expect("valid regex"));
/// A docstring paragraph: `Factor I (Codebase): ...` or `Factor I: ...`.
static PROSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^\s*{FACTOR}\s*[(:]")).expect("valid regex"));
/// Any marker left, for `lessons verify`.
static ANY: LazyLock<Regex> = LazyLock::new(|| Regex::new(FACTOR).expect("valid regex"));

/// How much help the lessons give. Kept in the workspace's `.twelve/config.toml` as `mode`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Starters mark each flaw, and the lesson lists what to change.
    #[default]
    Guided,
    /// No markers and no "What to change": only the hints help.
    Challenge,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Guided => "guided",
            Mode::Challenge => "challenge",
        }
    }

    /// The other mode.
    #[must_use]
    pub fn toggled(self) -> Mode {
        match self {
            Mode::Guided => Mode::Challenge,
            Mode::Challenge => Mode::Guided,
        }
    }

    /// What the mode means, in one sentence (for the CLI and the footer).
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Guided => {
                "guided: the starters mark each flaw with a `Factor N` comment and each lesson lists what to change"
            }
            Mode::Challenge => {
                "challenge: no `Factor N` comments in the starters and no \"What to change\" in the lessons; the hints are the only help"
            }
        }
    }
}

/// A starter's files as `mode` shows them.
pub fn starter_files(starter: &Files, mode: Mode) -> Files {
    match mode {
        Mode::Guided => starter.clone(),
        Mode::Challenge => strip_files(starter),
    }
}

/// Every text file with its markers stripped (other files as they are).
pub fn strip_files(files: &Files) -> Files {
    files
        .iter()
        .map(|(rel, bytes)| {
            let bytes = match std::str::from_utf8(bytes) {
                Ok(text) => strip_markers(text).into_bytes(),
                Err(_) => bytes.clone(),
            };
            (rel.clone(), bytes)
        })
        .collect()
}

/// The lines (1-based) of `text` that still hold a marker.
pub fn markers_left(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| ANY.is_match(l))
        .map(|(i, _)| i + 1)
        .collect()
}

fn is_closing_quotes(line: &str) -> bool {
    matches!(line.trim(), "\"\"\"" | "'''")
}

/// `text` without its `Factor N` marker comments (see the module's documentation).
pub fn strip_markers(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let body = line.trim_end_matches(['\n', '\r']);
        if let Some(c) = COMMENT.captures(body) {
            let indent = c.get(1).map_or("", |g| g.as_str());
            i += 1;
            while let Some(next) = lines.get(i) {
                let rest = next.strip_prefix(indent).unwrap_or("");
                let continues = rest.starts_with('#')
                    && !rest.starts_with("# ---")
                    && !COMMENT.is_match(next)
                    // Deeper or shallower comments belong to other code.
                    && next.len() - next.trim_start().len() == indent.len();
                if !continues {
                    break;
                }
                i += 1;
            }
            continue;
        }
        if PROSE.is_match(body) {
            let start = i;
            let mut end = i + 1;
            while let Some(next) = lines.get(end) {
                if next.trim().is_empty() || is_closing_quotes(next) {
                    break;
                }
                end += 1;
            }
            // A paragraph that closes its docstring on its own last line keeps it: removing
            // the quotes would break the file.
            if lines[start..end]
                .iter()
                .any(|l| l.contains("\"\"\"") || l.contains("'''"))
            {
                out.extend(lines[start..end].iter().map(|l| (*l).to_string()));
            } else if out.last().is_some_and(|l| l.trim().is_empty())
                && lines
                    .get(end)
                    .is_none_or(|l| l.trim().is_empty() || is_closing_quotes(l))
            {
                // The blank line that led into the paragraph has nothing left to separate.
                out.pop();
            }
            i = end;
            continue;
        }
        if let Some(c) = TRAILING.captures(body) {
            let code = c.get(1).map_or("", |g| g.as_str());
            // Not inside a string: an even number of quotes before the `#`.
            if code.matches('"').count() % 2 == 0 && code.matches('\'').count() % 2 == 0 {
                out.push(format!("{code}{}", &line[body.len()..]));
                i += 1;
                continue;
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.concat()
}

/// The lesson text as `mode` shows it: in challenge mode the "What to change" section (up to
/// the next heading of the same level) is replaced by a line saying why it is not there.
pub fn lesson_text(md: &str, mode: Mode) -> String {
    if mode == Mode::Guided {
        return md.to_string();
    }
    challenge_text(md)
}

/// The lesson text as shown in the lesson view: `md` (the lesson's text, as loaded or as
/// saved since) as `mode` shows it, then where to read the factor in the manifesto.
pub fn lesson_view_text(lesson: &super::Lesson, md: &str, mode: Mode) -> String {
    let mut text = lesson_text(md, mode);
    text.push_str("\n\n## In the manifesto\n\n");
    match lesson.factor {
        Some(_) => text.push_str(&format!("Factor {}: <{}>\n\n", lesson.label, lesson.link)),
        None if lesson.link != super::MANIFESTO => {
            text.push_str(&format!("Read more: <{}>\n\n", lesson.link));
        }
        None => {}
    }
    text.push_str(&format!("All twelve: <{}>\n", super::MANIFESTO));
    text
}

fn challenge_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut skipping = false;
    let mut fence: Option<&str> = None;
    for line in md.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(f) = fence {
            if t.starts_with(f) {
                fence = None;
            }
            if !skipping {
                out.push_str(line);
            }
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = Some(&t[..3]);
        } else if let Some(title) = line.strip_prefix("## ") {
            skipping = title.trim().eq_ignore_ascii_case("what to change");
            if skipping {
                out.push_str(line);
                out.push_str(CHALLENGE_NOTE);
                continue;
            }
        } else if line.starts_with("# ") {
            skipping = false;
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

/// What stands where "What to change" was.
const CHALLENGE_NOTE: &str = "\nChallenge mode: the steps are not listed, and the starter's \
comments no longer point at the flaw. Read the code, run it, check it; the hints (`h`) are \
there when you are stuck. `C` on the map goes back to guided mode.\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lesson_view_links_the_factor_and_the_manifesto() {
        let pack = crate::lesson::Pack::embedded().unwrap();
        let text = lesson_view_text(&pack.lessons[2], &pack.lessons[2].text, Mode::Guided);
        assert!(text.contains("<https://12factor.net/config>"), "{text}");
        assert!(text.contains("<https://12factor.net>"), "{text}");
    }

    #[test]
    fn a_comment_block_goes_with_its_continuation_and_nothing_else() {
        let text = "\
# --- Config
# Factor III (Config): the settings of each deploy are written into the
# code, grouped into named environments.
CONFIGS = {}
    # Factor VII (Port binding): the app does not bind the port.
    # It expects a web server outside it.
    run()
";
        assert_eq!(
            strip_markers(text),
            "# --- Config\nCONFIGS = {}\n    run()\n"
        );
    }

    #[test]
    fn a_trailing_marker_goes_and_the_code_stays() {
        let text = "    log.exception(\"failed\")  # Factor XI: into the file too\nx = 1\n";
        assert_eq!(
            strip_markers(text),
            "    log.exception(\"failed\")\nx = 1\n"
        );
        // Inside a string it is text, not a comment.
        let text = "s = \"a  # Factor XI: b\"\n";
        assert_eq!(strip_markers(text), text);
    }

    #[test]
    fn a_docstring_paragraph_goes_with_the_blank_line_before_it() {
        let text = "\"\"\"The service.\n\nPython 3.8+.\n\nFactor I (Codebase): this is the\nPRODUCTION copy.\n\"\"\"\nimport os\n";
        assert_eq!(
            strip_markers(text),
            "\"\"\"The service.\n\nPython 3.8+.\n\"\"\"\nimport os\n"
        );
        // A paragraph that closes the docstring itself stays whole.
        let text = "\"\"\"Doc.\n\nFactor I: the copy.\"\"\"\n";
        assert_eq!(strip_markers(text), text);
    }

    #[test]
    fn challenge_text_hides_what_to_change_and_only_that() {
        let md = "# T\n\n## What you will see\n\nsee\n\n## What to change\n\n- step one\n\n```sh\n## not a heading\n```\n\n## A common misconception\n\nmore\n";
        let out = lesson_text(md, Mode::Challenge);
        assert!(
            !out.contains("step one") && !out.contains("not a heading"),
            "{out}"
        );
        assert!(out.contains("## What you will see\n\nsee"), "{out}");
        assert!(out.contains("## A common misconception\n\nmore"), "{out}");
        assert!(out.contains("Challenge mode"), "{out}");
        assert_eq!(lesson_text(md, Mode::Guided), md);
    }

    #[test]
    fn every_built_in_starter_loses_every_marker_and_keeps_its_code() {
        let pack = crate::lesson::Pack::embedded().unwrap();
        let mut stripped_somewhere = 0;
        for l in &pack.lessons {
            assert!(
                lesson_text(&l.text, Mode::Challenge) != l.text,
                "{}: no \"What to change\" section to hide",
                l.dir_name
            );
            for (rel, bytes) in &strip_files(&l.starter) {
                let text = std::str::from_utf8(bytes).unwrap();
                assert_eq!(
                    markers_left(text),
                    Vec::<usize>::new(),
                    "{}/{rel}",
                    l.dir_name
                );
                let before = std::str::from_utf8(&l.starter[rel]).unwrap();
                if before != text {
                    stripped_somewhere += 1;
                }
                assert_only_comments_went(before, text, &format!("{}/{rel}", l.dir_name));
            }
        }
        assert!(stripped_somewhere >= 12, "{stripped_somewhere}");
    }

    /// Every line of `after` is a line of `before`, in order (a trailing comment may be cut);
    /// every line that went is a comment, a blank, or prose of the module's docstring.
    fn assert_only_comments_went(before: &str, after: &str, name: &str) {
        let docstring_end = before
            .lines()
            .enumerate()
            .skip_while(|(_, l)| !l.trim_start().starts_with("\"\"\""))
            .skip(1)
            .find(|(_, l)| l.contains("\"\"\""))
            .map_or(0, |(i, _)| i);
        let mut kept = after.lines().peekable();
        for (i, line) in before.lines().enumerate() {
            match kept.peek() {
                Some(k)
                    if *k == line
                        || (line.starts_with(*k)
                            && line[k.len()..].trim_start().starts_with('#')) =>
                {
                    kept.next();
                }
                _ => assert!(
                    line.trim().is_empty()
                        || line.trim_start().starts_with('#')
                        || i < docstring_end,
                    "{name}:{}: a line that is not a comment went: `{line}`",
                    i + 1
                ),
            }
        }
        assert_eq!(kept.next(), None, "{name}: a line came from nowhere");
    }
}
