//! File-level steps: snapshots, source patterns, and installing declared packages.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use regex::Regex;

use crate::lesson::Files;
use crate::lesson::step::Source;

/// (message, expected, observed)
pub(crate) type Problem = (String, String, String);

/// Every file under a folder: path -> (size, content hash).
pub(super) type Snapshot = BTreeMap<String, (u64, u64)>;

/// How a folder is compared with an earlier snapshot.
#[derive(Debug, Clone, Copy)]
pub(super) enum Compare {
    Unchanged,
    NoNewFiles,
    NoGrowth,
}

pub(super) fn snapshot(dir: &Path) -> std::io::Result<Snapshot> {
    let mut out = Snapshot::new();
    walk(dir, dir, &mut |rel, path| {
        let bytes = std::fs::read(path)?;
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        out.insert(rel.to_string(), (bytes.len() as u64, h.finish()));
        Ok(())
    })?;
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    f: &mut dyn FnMut(&str, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let path = e.path();
        if e.file_name() == "__pycache__" {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            walk(root, &path, f)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            f(&rel, &path)?;
        }
    }
    Ok(())
}

pub(super) fn compare(
    before: &Snapshot,
    after: &Snapshot,
    mode: Compare,
    label: &str,
) -> Result<(), Problem> {
    let new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
        .map(|(k, _)| k)
        .collect();
    let grew: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k).is_some_and(|b| v.0 > b.0))
        .map(|(k, _)| k)
        .collect();
    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let list = |v: &[&String]| {
        v.iter()
            .take(8)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !new.is_empty() {
        return Err((
            format!("new file(s) appeared in `{label}`: {}", list(&new)),
            "no new files".into(),
            format!("created: {}", list(&new)),
        ));
    }
    match mode {
        Compare::Unchanged if !changed.is_empty() || !removed.is_empty() => Err((
            format!(
                "`{label}` changed: {}",
                list(&changed.iter().chain(&removed).copied().collect::<Vec<_>>())
            ),
            format!("`{label}` exactly as before"),
            format!("changed: {}; removed: {}", list(&changed), list(&removed)),
        )),
        Compare::NoGrowth if !grew.is_empty() => Err((
            format!("file(s) in `{label}` grew: {}", list(&grew)),
            "no file growing".into(),
            format!("grew: {}", list(&grew)),
        )),
        _ => Ok(()),
    }
}

/// A glob (`**/*.py`, `deploy/*`) as a regex over `/`-separated relative paths.
pub(super) fn glob_regex(glob: &str) -> Regex {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).expect("escaped glob")
}

/// The machine's temporary folders, where a service might keep files it should not.
pub(super) fn temp_dirs() -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = vec![std::env::temp_dir()];
    for d in ["/tmp", "/var/tmp", "/dev/shm"] {
        let p = std::path::PathBuf::from(d);
        if p.is_dir() && !v.iter().any(|q| q == &p) {
            v.push(p);
        }
    }
    v
}

/// Files under `paths`, modified since `since`, that hold `text` (at most 20). Other checks'
/// sandboxes are skipped (they never hold this check's random values) and the search is
/// bounded: files over 4 MiB, deep trees and huge folders are not read.
pub(super) fn find_traces(
    paths: &[std::path::PathBuf],
    text: &str,
    since: std::time::SystemTime,
    ours: &Path,
) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    find_trace_into(paths, text, since, ours, &mut found);
    found
}

fn find_trace_into(
    paths: &[std::path::PathBuf],
    text: &str,
    since: std::time::SystemTime,
    ours: &Path,
    found: &mut Vec<std::path::PathBuf>,
) -> Option<()> {
    const MAX_FILE: u64 = 4 << 20;
    const MAX_ENTRIES: usize = 20_000;
    let needle = text.as_bytes();
    let mut budget = MAX_ENTRIES;
    let mut stack: Vec<(std::path::PathBuf, usize)> =
        paths.iter().map(|p| (p.clone(), 0)).collect();
    let our_root = ours.parent().unwrap_or(ours).to_path_buf();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if budget == 0 {
                return None;
            }
            budget -= 1;
            let path = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let name = e.file_name();
            let name = name.to_string_lossy();
            if meta.is_dir() {
                let other_sandbox = (name.starts_with(crate::sandbox::SANDBOX_PREFIX)
                    || name.starts_with("twelve-verify-"))
                    && !our_root.starts_with(&path);
                if depth < 8 && !other_sandbox && name != "__pycache__" {
                    stack.push((path, depth + 1));
                }
            } else if meta.is_file()
                && meta.len() <= MAX_FILE
                && meta.modified().is_ok_and(|m| m >= since)
            {
                if let Ok(bytes) = std::fs::read(&path) {
                    if bytes.windows(needle.len()).any(|w| w == needle) {
                        found.push(path);
                        if found.len() >= 20 {
                            return None;
                        }
                    }
                }
            }
        }
    }
    None
}

/// Python's own tokenizer, run on each file: comments (and, for "names", every string
/// literal; for "code", docstrings) are blanked out, keeping lines and columns, so a pattern
/// matches only code that is there to run. A file Python cannot tokenize is kept whole.
const STRIP_PY: &str = r#"
import io, json, sys, tokenize
mode = sys.argv[1]
out = {}
for path in sys.argv[2:]:
    try:
        src = open(path, encoding="utf-8").read()
        lines = src.splitlines(True)
        grid = [list(l) for l in lines]
        prev = tokenize.NEWLINE
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            blank = tok.type == tokenize.COMMENT
            if tok.type == tokenize.STRING:
                blank = mode == "names" or prev in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                prev = tok.type
            if not blank:
                continue
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                row = grid[r - 1]
                a = c0 if r == r0 else 0
                b = c1 if r == r1 else len(row)
                for c in range(a, min(b, len(row))):
                    if row[c] != "\n":
                        row[c] = " "
        out[path] = "".join("".join(r) for r in grid)
    except Exception:
        pass
print(json.dumps(out))
"#;

/// Whether a path names a Python source file.
pub(crate) fn is_python(rel: &str) -> bool {
    Path::new(rel)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("py"))
}

fn strip_python(bin: &Path, mode: &str, files: &[std::path::PathBuf]) -> BTreeMap<String, String> {
    let mut cmd = std::process::Command::new(bin.join("python3"));
    cmd.arg("-c").arg(STRIP_PY).arg(mode).args(files);
    match cmd.output() {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).unwrap_or_default(),
        _ => BTreeMap::new(),
    }
}

pub(super) fn source(app: &Path, shared: &Files, s: &Source, bin: &Path) -> Result<(), Problem> {
    for p in &s.absent {
        if app.join(p).exists() {
            return Err((
                format!("`{p}` should not exist any more"),
                format!("no `{p}`"),
                format!("`{p}` is still there"),
            ));
        }
    }
    for p in &s.present {
        if !app.join(p).exists() {
            return Err((
                format!("`{p}` is missing"),
                format!("a file `{p}`"),
                "not found".into(),
            ));
        }
    }
    let glob = glob_regex(&s.files);
    let mut texts: Vec<(String, String)> = Vec::new();
    walk(app, app, &mut |rel, path| {
        // The shared client is the project's, not the learner's.
        let is_shared = shared
            .get(rel)
            .is_some_and(|b| std::fs::read(path).is_ok_and(|c| &c == b));
        if glob.is_match(rel) && !is_shared {
            if let Ok(t) = std::fs::read_to_string(path) {
                texts.push((rel.to_string(), t));
            }
        }
        Ok(())
    })
    .map_err(|e| {
        (
            format!("cannot read the lesson folder: {e}"),
            String::new(),
            String::new(),
        )
    })?;
    let mode = match s.scope {
        crate::lesson::step::SourceScope::Text => None,
        crate::lesson::step::SourceScope::Code => Some("code"),
        crate::lesson::step::SourceScope::Names => Some("names"),
    };
    if let Some(mode) = mode {
        let py: Vec<std::path::PathBuf> = texts
            .iter()
            .filter(|(rel, _)| is_python(rel))
            .map(|(rel, _)| app.join(rel))
            .collect();
        let stripped = strip_python(bin, mode, &py);
        for (rel, text) in &mut texts {
            if let Some(t) = stripped.get(&app.join(&*rel).display().to_string()) {
                t.clone_into(text);
            }
        }
    }
    let what = if mode.is_some() {
        " (comments and docstrings aside)"
    } else {
        ""
    };
    for pat in &s.must_not_contain {
        let re = Regex::new(pat).map_err(|e| (e.to_string(), String::new(), String::new()))?;
        for (rel, text) in &texts {
            if let Some((n, line)) = text.lines().enumerate().find(|(_, l)| re.is_match(l)) {
                return Err((
                    format!(
                        "{rel}:{} still has what the lesson removes{what}: /{pat}/",
                        n + 1
                    ),
                    format!("no line matching /{pat}/ in {}", s.files),
                    format!("{rel}:{}: {}", n + 1, line.trim()),
                ));
            }
        }
    }
    for pat in &s.must_contain {
        let re = Regex::new(pat).map_err(|e| (e.to_string(), String::new(), String::new()))?;
        if !texts.iter().any(|(_, t)| re.is_match(t)) {
            let names: Vec<&str> = texts.iter().map(|(r, _)| r.as_str()).collect();
            return Err((
                format!("no file matching {} contains /{pat}/", s.files),
                format!("/{pat}/ somewhere in {}", s.files),
                format!(
                    "searched: {}",
                    if names.is_empty() {
                        "no files".into()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// One requirement line: a name and version constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Requirement {
    pub name: String,
    pub constraints: Vec<(String, Vec<u64>)>,
    pub line: usize,
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn version(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

pub(super) fn parse_requirements(text: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    let re = Regex::new(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(.*)$").expect("valid regex");
    let cons = Regex::new(r"^(==|>=|<=|!=|~=|<|>)\s*([0-9][0-9.]*)$").expect("valid regex");
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some(c) = re.captures(line) else {
            return Err(format!("line {}: cannot read `{line}`", i + 1));
        };
        let mut constraints = Vec::new();
        let rest = c[2].trim();
        if !rest.is_empty() {
            for part in rest.split(',') {
                let Some(m) = cons.captures(part.trim()) else {
                    return Err(format!(
                        "line {}: cannot read the version constraint `{}` (use ==, >=, <=, <, >, != or ~=)",
                        i + 1,
                        part.trim()
                    ));
                };
                constraints.push((m[1].to_string(), version(&m[2])));
            }
        }
        out.push(Requirement {
            name: normalize(&c[1]),
            constraints,
            line: i + 1,
        });
    }
    Ok(out)
}

/// Versions compared as PEP 440 does: missing parts are zeros (`1.2` is `1.2.0`).
fn padded(a: &[u64], b: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let n = a.len().max(b.len());
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        v.resize(n, 0);
        v
    };
    (pad(a), pad(b))
}

fn satisfies(v: &[u64], constraints: &[(String, Vec<u64>)]) -> bool {
    constraints.iter().all(|(op, want)| {
        let (pv, pw) = padded(v, want);
        match op.as_str() {
            "==" => pv == pw,
            ">=" => pv >= pw,
            "<=" => pv <= pw,
            ">" => pv > pw,
            "<" => pv < pw,
            "!=" => pv != pw,
            // ~=1.4 means >=1.4, ==1.*
            "~=" => {
                v >= want.as_slice()
                    && want.len() >= 2
                    && v.len() >= want.len() - 1
                    && v[..want.len() - 1] == want[..want.len() - 1]
            }
            _ => false,
        }
    })
}

/// Install every declared requirement from the offline index into `site`.
pub(crate) fn install(
    app: &Path,
    requirements: &str,
    vendor: &Files,
    site: &Path,
) -> Result<(), Problem> {
    let path = app.join(requirements);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Err((
            format!("there is no `{requirements}`: the service declares no dependencies"),
            format!("a file `{requirements}`"),
            "not found".into(),
        ));
    };
    let reqs = parse_requirements(&text).map_err(|m| {
        (
            format!("{requirements}: {m}"),
            "name==version, name>=version, or a bare name per line".into(),
            m,
        )
    })?;
    // Packages in the index: "name-version/..." folders.
    let mut index: BTreeMap<String, Vec<(Vec<u64>, String)>> = BTreeMap::new();
    for key in vendor.keys() {
        let Some((folder, _)) = key.split_once('/') else {
            continue;
        };
        let Some((name, ver)) = folder.rsplit_once('-') else {
            continue;
        };
        let entry = index.entry(normalize(name)).or_default();
        if !entry.iter().any(|(_, f)| f == folder) {
            entry.push((version(ver), folder.to_string()));
        }
    }
    for r in &reqs {
        let Some(versions) = index.get(&r.name) else {
            let known: Vec<&str> = index.keys().map(String::as_str).collect();
            return Err((
                format!(
                    "{requirements}:{}: no package `{}` in the offline index",
                    r.line, r.name
                ),
                format!("one of: {}", known.join(", ")),
                r.name.clone(),
            ));
        };
        let best = versions
            .iter()
            .filter(|(v, _)| satisfies(v, &r.constraints))
            .max_by(|a, b| a.0.cmp(&b.0));
        let Some((_, folder)) = best else {
            let have: Vec<String> = versions.iter().map(|(_, f)| f.clone()).collect();
            return Err((
                format!(
                    "{requirements}:{}: no version of `{}` satisfies the constraint",
                    r.line, r.name
                ),
                format!("available: {}", have.join(", ")),
                text.lines()
                    .nth(r.line - 1)
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            ));
        };
        let prefix = format!("{folder}/");
        for (key, bytes) in vendor {
            if let Some(rel) = key.strip_prefix(&prefix) {
                let dst = site.join(rel);
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| (e.to_string(), String::new(), String::new()))?;
                }
                std::fs::write(&dst, bytes)
                    .map_err(|e| (e.to_string(), String::new(), String::new()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = glob_regex("**/*.py");
        assert!(g.is_match("app.py") && g.is_match("a/b/c.py") && !g.is_match("app.pyc"));
        let g = glob_regex("deploy/*");
        assert!(g.is_match("deploy/x") && !g.is_match("deploy/x/y"));
    }

    #[test]
    fn requirements() {
        let r =
            parse_requirements("# deps\nslugify==1.2  # pinned\nColor_Text>=2\nplain\n\nx>=1,<3\n")
                .unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].name, "slugify");
        assert_eq!(r[1].name, "color-text");
        assert_eq!(r[1].line, 3);
        assert!(r[2].constraints.is_empty());
        assert!(satisfies(&[2, 5], &r[3].constraints) && !satisfies(&[3, 0], &r[3].constraints));
        assert!(satisfies(&[1, 4, 2], &[("~=".into(), vec![1, 4])]));
        assert!(!satisfies(&[2, 0], &[("~=".into(), vec![1, 4])]));
        assert!(parse_requirements("requests @ https://x").is_err());
    }

    #[test]
    fn install_picks_the_newest_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path().join("app");
        let site = tmp.path().join("site");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::create_dir_all(&site).unwrap();
        let vendor: Files = [
            ("textkit-1.0.0/textkit/__init__.py", "V = 1"),
            ("textkit-2.0.0/textkit/__init__.py", "V = 2"),
        ]
        .iter()
        .map(|(p, c)| ((*p).to_string(), c.as_bytes().to_vec()))
        .collect();
        std::fs::write(app.join("requirements.txt"), "textkit<2\n").unwrap();
        install(&app, "requirements.txt", &vendor, &site).unwrap();
        assert_eq!(
            std::fs::read_to_string(site.join("textkit/__init__.py")).unwrap(),
            "V = 1"
        );
        std::fs::write(app.join("requirements.txt"), "nope\n").unwrap();
        let e = install(&app, "requirements.txt", &vendor, &site).unwrap_err();
        assert!(
            e.0.contains("requirements.txt:1: no package `nope`"),
            "{e:?}"
        );
    }
}
