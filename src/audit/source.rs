//! The app's files as the static probes see them: which files, in which language, and their
//! code with comments (and Python's triple-quoted strings) blanked out, lines kept.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Folders that hold other people's code (installed dependencies) or build output.
const DEPENDENCY_DIRS: [&str; 12] = [
    "node_modules",
    "vendor",
    ".venv",
    "venv",
    "site-packages",
    "bower_components",
    "target",
    "dist",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".next",
];

/// Files larger than this are not read (data, bundles, databases).
const MAX_FILE: u64 = 1 << 20;
/// At most this many files are read.
const MAX_FILES: usize = 5_000;

/// How a file's comments are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    Js,
    Go,
    Ruby,
    Rust,
    Java,
    Php,
    Shell,
    /// JSON, YAML, TOML, INI and the like: read for secrets and names, never as code.
    Config,
    Other,
}

impl Lang {
    pub fn of(rel: &str) -> Lang {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if name == "Procfile" || name == "Gemfile" || name == "Rakefile" {
            return if name == "Procfile" {
                Lang::Shell
            } else {
                Lang::Ruby
            };
        }
        if name.starts_with(".env") {
            return Lang::Config;
        }
        match name.rsplit_once('.').map(|(_, e)| e) {
            Some("py") => Lang::Python,
            Some("js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "mts" | "cts") => Lang::Js,
            Some("go") => Lang::Go,
            Some("rb" | "ru" | "rake") => Lang::Ruby,
            Some("rs") => Lang::Rust,
            Some(
                "java" | "kt" | "kts" | "scala" | "groovy" | "cs" | "swift" | "c" | "h" | "cc"
                | "cpp",
            ) => Lang::Java,
            Some("php") => Lang::Php,
            Some("sh" | "bash") => Lang::Shell,
            Some(
                "json" | "yaml" | "yml" | "toml" | "ini" | "cfg" | "conf" | "properties" | "xml"
                | "env",
            ) => Lang::Config,
            _ => Lang::Other,
        }
    }

    /// A programming language (not a config or unknown file).
    pub fn is_code(self) -> bool {
        !matches!(self, Lang::Config | Lang::Other)
    }

    fn hash_comments(self) -> bool {
        matches!(
            self,
            Lang::Python | Lang::Ruby | Lang::Shell | Lang::Php | Lang::Config
        )
    }

    fn slash_comments(self) -> bool {
        matches!(
            self,
            Lang::Js | Lang::Go | Lang::Rust | Lang::Java | Lang::Php
        )
    }
}

/// One file of the app.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the app's folder, with `/`.
    pub rel: String,
    pub lang: Lang,
    pub text: String,
    /// The text's lines with comments blanked out.
    pub code: Vec<String>,
}

impl SourceFile {
    pub fn new(rel: &str, text: String) -> SourceFile {
        let lang = Lang::of(rel);
        let code = strip(&text, lang).lines().map(str::to_string).collect();
        SourceFile {
            rel: rel.to_string(),
            lang,
            text,
            code,
        }
    }

    /// `rel:line`.
    pub fn at(&self, index: usize) -> String {
        format!("{}:{}", self.rel, index + 1)
    }

    /// Whether the file is test code (its findings matter less).
    pub fn is_test(&self) -> bool {
        let r = self.rel.to_ascii_lowercase();
        r.split('/').any(|p| {
            p == "test" || p == "tests" || p == "spec" || p == "__tests__" || p.starts_with("test_")
        }) || r.ends_with("_test.go")
            || r.contains(".test.")
            || r.contains(".spec.")
    }
}

/// What git knows about the folder.
#[derive(Debug, Clone, Default)]
pub struct Git {
    /// The repository's top folder, when the app is in one.
    pub top: Option<String>,
    pub head: Option<String>,
    /// Files git tracks, relative to the app's folder.
    pub tracked: BTreeSet<String>,
    /// `git status --porcelain` lines for the app's folder.
    pub dirty: usize,
    /// Whether git could be run at all.
    pub available: bool,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Git {
    pub fn read(dir: &Path) -> Git {
        let available = Command::new("git")
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let Some(top) = available
            .then(|| git(dir, &["rev-parse", "--show-toplevel"]))
            .flatten()
        else {
            return Git {
                available,
                ..Git::default()
            };
        };
        let head = git(dir, &["rev-parse", "--short", "HEAD"]).map(|s| s.trim().to_string());
        let tracked = git(dir, &["ls-files", "-z", "--cached"])
            .map(|s| {
                s.split('\0')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let dirty =
            git(dir, &["status", "--porcelain", "--", "."]).map_or(0, |s| s.lines().count());
        Git {
            top: Some(top.trim().to_string()),
            head,
            tracked,
            dirty,
            available,
        }
    }

    /// Whether git ignores `rel` (in the app's folder).
    pub fn ignores(dir: &Path, rel: &str) -> bool {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["check-ignore", "-q", "--", rel])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// The app's files: what git tracks plus what it would add (ignored files left out); outside
/// a repository, everything. Dependency folders, large and binary files are skipped.
pub fn read_files(dir: &Path, git: &Git) -> Vec<SourceFile> {
    let mut rels: Vec<String> = if git.top.is_some() {
        let listed = self::git(
            dir,
            &[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
        )
        .unwrap_or_default();
        listed
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    } else {
        let mut v = Vec::new();
        walk(dir, dir, &mut v);
        v
    };
    rels.sort();
    rels.dedup();
    let mut out = Vec::new();
    for rel in rels {
        if out.len() >= MAX_FILES {
            break;
        }
        let skipped = rel
            .split('/')
            .any(|p| DEPENDENCY_DIRS.contains(&p) || super::app::SKIPPED_DIRS.contains(&p));
        if skipped {
            continue;
        }
        let path = dir.join(&rel);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.contains(&0) {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        out.push(SourceFile::new(&rel, text));
    }
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if out.len() >= MAX_FILES {
            return;
        }
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let name = e.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            if !DEPENDENCY_DIRS.contains(&name.as_str())
                && !super::app::SKIPPED_DIRS.contains(&name.as_str())
            {
                walk(root, &path, out);
            }
        } else if meta.is_file() {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}

/// Blank out comments (and Python's triple-quoted strings, which are docstrings or text),
/// keeping every newline so line numbers stay right. String literals are kept: the probes
/// look for literal addresses and secrets in them.
pub fn strip(text: &str, lang: Lang) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let quotes: &[char] = match lang {
        Lang::Rust => &['"'],
        Lang::Js | Lang::Go => &['"', '\'', '`'],
        _ => &['"', '\''],
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Python's triple-quoted strings.
        if lang == Lang::Python
            && (c == '"' || c == '\'')
            && next == Some(c)
            && chars.get(i + 2) == Some(&c)
        {
            let mut j = i + 3;
            while j < chars.len() {
                if chars[j] == '\\' {
                    j += 2;
                    continue;
                }
                if chars[j] == c && chars.get(j + 1) == Some(&c) && chars.get(j + 2) == Some(&c) {
                    j += 3;
                    break;
                }
                j += 1;
            }
            let j = j.min(chars.len());
            out.extend(chars[i..j].iter().map(|&c| blank(c)));
            i = j;
            continue;
        }
        if (lang.hash_comments() && c == '#')
            || (lang.slash_comments() && c == '/' && next == Some('/'))
        {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        if lang.slash_comments() && c == '/' && next == Some('*') {
            let mut j = i + 2;
            while j < chars.len() && !(chars[j] == '*' && chars.get(j + 1) == Some(&'/')) {
                j += 1;
            }
            let j = (j + 2).min(chars.len());
            out.extend(chars[i..j].iter().map(|&c| blank(c)));
            i = j;
            continue;
        }
        if quotes.contains(&c) {
            // A string literal, kept as written; it ends at its quote (or, except for
            // backticks, at the end of the line).
            out.push(c);
            let mut j = i + 1;
            while j < chars.len() {
                let d = chars[j];
                if d == '\\' && j + 1 < chars.len() {
                    out.push(d);
                    out.push(chars[j + 1]);
                    j += 2;
                    continue;
                }
                if d == '\n' && c != '`' {
                    break;
                }
                out.push(d);
                j += 1;
                if d == c {
                    break;
                }
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_strings_stay() {
        let py = "x = 1  # KV_PORT = 6379\n\"\"\"doc\nSECRET = 'a'\n\"\"\"\ny = '#not'\n";
        let s = strip(py, Lang::Python);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].trim_end(), "x = 1");
        assert!(lines[2].trim().is_empty());
        assert_eq!(lines[4], "y = '#not'");
        let js = "a = 'http://x' // port 8080\n/* b\n c */ d";
        let s = strip(js, Lang::Js);
        assert!(s.starts_with("a = 'http://x' "));
        assert!(!s.contains("8080"));
        assert!(s.ends_with(" d"));
        assert_eq!(s.lines().count(), 3);
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::of("a/b.py"), Lang::Python);
        assert_eq!(Lang::of("server.mjs"), Lang::Js);
        assert_eq!(Lang::of("Procfile"), Lang::Shell);
        assert_eq!(Lang::of(".env.production"), Lang::Config);
        assert!(SourceFile::new("tests/test_app.py", String::new()).is_test());
        assert!(!SourceFile::new("app.py", String::new()).is_test());
    }
}
