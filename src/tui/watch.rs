//! Watch mode: a debounced watcher on the lesson folder that reports saved files.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::message::Message;

/// Editors save in bursts (swap file, backup, rename); this collects one burst into one event.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watcher; dropping it stops watching.
#[must_use = "dropping the watcher stops it"]
pub struct Watcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    pub dir: PathBuf,
}

impl Watcher {
    /// Watch `dir` recursively and send [`Message::FilesChanged`] with the relevant paths.
    pub fn start(dir: &Path, tx: Sender<Message>) -> notify::Result<Watcher> {
        Watcher::start_with(dir, |paths| Some(Message::FilesChanged(paths)), tx)
    }

    /// Watch `dir` recursively and send what `message` makes of each burst of relevant paths.
    pub fn start_with(
        dir: &Path,
        message: impl Fn(Vec<PathBuf>) -> Option<Message> + Send + 'static,
        tx: Sender<Message>,
    ) -> notify::Result<Watcher> {
        let mut debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let mut paths: Vec<PathBuf> = events
                .into_iter()
                .filter(|e| !e.kind.is_access() && !e.kind.is_other())
                .flat_map(|e| e.event.paths)
                .filter(|p| relevant(p))
                .collect();
            paths.sort();
            paths.dedup();
            if !paths.is_empty() {
                if let Some(m) = message(paths) {
                    let _ = tx.send(m);
                }
            }
        })?;
        debouncer.watch(dir, RecursiveMode::Recursive)?;
        // A commit in a repository around the folder (a workspace's) is news too: a lesson
        // that deploys commits is judged on it. Best effort.
        if let Some(logs) = outer_git_logs(dir) {
            let _ = debouncer.watch(&logs, RecursiveMode::NonRecursive);
        }
        Ok(Watcher {
            _debouncer: debouncer,
            dir: dir.to_path_buf(),
        })
    }
}

/// The `logs` folder of the git repository holding `dir`, when that repository's `.git` is
/// outside `dir` (the watch of `dir` itself sees its own).
fn outer_git_logs(dir: &Path) -> Option<PathBuf> {
    let git_dir = crate::sandbox::commit::git_dir(dir)?;
    let inside = dir.canonicalize().is_ok_and(|d| git_dir.starts_with(d));
    let logs = git_dir.join("logs");
    (!inside && logs.is_dir()).then_some(logs)
}

/// Whether `path` is where a git repository records that HEAD moved: a commit, a checkout,
/// a reset.
pub fn is_commit(path: &Path) -> bool {
    path.ends_with(".git/logs/HEAD")
}

/// Whether a change to `path` is the learner saving a file (not an editor's swap or backup
/// file, Python's bytecode cache, or a database the running service writes) or committing.
pub fn relevant(path: &Path) -> bool {
    if is_commit(path) {
        return true;
    }
    if path
        .components()
        .any(|c| matches!(c.as_os_str().to_str(), Some("__pycache__" | ".git")))
    {
        return false;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let ignored_suffix = [
        ".swp", ".swx", ".swo", "~", ".pyc", ".tmp", ".db", ".sqlite", ".sqlite3", "-journal",
        ".log", ".bak",
    ];
    !(name == "4913"
        || name.starts_with(".#")
        || name.starts_with('#')
        || ignored_suffix.iter().any(|s| name.ends_with(s))
        || name.starts_with(".goutputstream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_droppings_are_ignored() {
        for p in [
            "/w/07/.app.py.swp",
            "/w/07/app.py~",
            "/w/07/4913",
            "/w/07/.#app.py",
            "/w/07/__pycache__/app.cpython-312.pyc",
            "/w/07/links.db",
            "/w/07/.app.py.swx",
        ] {
            assert!(!relevant(Path::new(p)), "{p}");
        }
        assert!(!relevant(Path::new("/w/01/.git/index")));
        for p in [
            "/w/07/app.py",
            "/w/07/Procfile",
            "/w/07/requirements.txt",
            "/w/01/.git/logs/HEAD",
        ] {
            assert!(relevant(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn a_saved_file_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().canonicalize().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _w = Watcher::start(&dir, tx).unwrap();
        std::fs::write(dir.join(".app.py.swp"), "x").unwrap();
        std::fs::write(dir.join("app.py"), "print(1)\n").unwrap();
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Message::FilesChanged(paths)) => assert_eq!(paths, vec![dir.join("app.py")]),
            other => panic!("{other:?}"),
        }
    }
}
