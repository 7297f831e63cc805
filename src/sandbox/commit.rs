//! A lesson folder as its git repository's last commit holds it: what a deploy runs when
//! deploys are commits of one codebase, not copies of a folder.

use std::path::Path;
use std::process::{Command, Stdio};

/// Settings every git command here runs with: never a prompt, never a lock taken in the
/// learner's repository (`git status` would otherwise refresh its index), and a checkout
/// owned by another user is read too (a CI container's): the check runs the learner's code
/// anyway, so git's guard against a stranger's repository protects nothing here.
const QUIET: [(&str, &str); 5] = [
    ("GIT_TERMINAL_PROMPT", "0"),
    ("GIT_OPTIONAL_LOCKS", "0"),
    ("GIT_CONFIG_COUNT", "1"),
    ("GIT_CONFIG_KEY_0", "safe.directory"),
    ("GIT_CONFIG_VALUE_0", "*"),
];

/// Who commits in a script that `lessons verify` runs, and no system or user config: the
/// machine's git settings must not change what a variant's repository holds.
const AUTHOR: [(&str, &str); 9] = [
    ("GIT_AUTHOR_NAME", "twelve"),
    ("GIT_AUTHOR_EMAIL", "twelve@example.invalid"),
    ("GIT_COMMITTER_NAME", "twelve"),
    ("GIT_COMMITTER_EMAIL", "twelve@example.invalid"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_COUNT", "1"),
    ("GIT_CONFIG_KEY_0", "init.defaultBranch"),
    ("GIT_CONFIG_VALUE_0", "main"),
];

/// The repository's folder of git's own (`.git`) holding `dir`, when `dir` is in one.
pub fn git_dir(dir: &Path) -> Option<std::path::PathBuf> {
    git(dir, &["rev-parse", "--absolute-git-dir"]).map(std::path::PathBuf::from)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .envs(QUIET)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Write into `to` the files of `dir` as the last commit of its repository holds them, and
/// return that commit's short id. `None` (and nothing written) when git is missing, `dir` is
/// in no repository, the repository has no commit, or the commit holds nothing of `dir`.
pub fn export_head(dir: &Path, to: &Path) -> Option<String> {
    let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
    // `git archive` in a subfolder archives only that subfolder of the tree it is given.
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let head = git(
        dir,
        &["rev-parse", "--short", "--verify", "-q", "HEAD^{commit}"],
    )?;
    let tree = format!("HEAD:{prefix}");
    (git(dir, &["cat-file", "-t", &tree])? == "tree").then_some(())?;
    std::fs::create_dir_all(to).ok()?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["archive", "--format=tar", &tree])
        .envs(QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let tar = Command::new("tar")
        .arg("-xf")
        .arg("-")
        .arg("-C")
        .arg(to)
        .stdin(archive.stdout.take()?)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let archived = archive.wait().is_ok_and(|s| s.success());
    (archived && tar.is_ok_and(|s| s.success())).then_some(head)
}

/// Run a `[verify] setup` script in `dir` with `sh`, as a fixed author and with no git
/// config of the machine's. The error carries what the script printed.
pub fn run_setup(script: &str, dir: &Path) -> anyhow::Result<()> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(QUIET)
        .envs(AUTHOR)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run sh: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    anyhow::bail!(
        "the setup script failed ({}): {}",
        out.status,
        said.trim().lines().last().unwrap_or("no output")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_commit_is_exported_and_uncommitted_changes_are_not() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let lesson = repo.join("01-lesson");
        std::fs::create_dir_all(&lesson).unwrap();
        std::fs::write(lesson.join("app.py"), "print('committed')\n").unwrap();
        std::fs::write(repo.join("other.txt"), "not the lesson's\n").unwrap();
        let out = tmp.path().join("out");
        assert_eq!(export_head(&lesson, &out), None, "no repository yet");
        run_setup("git init -q && git add -A && git commit -qm one", &repo).unwrap();
        std::fs::write(lesson.join("app.py"), "print('changed')\n").unwrap();
        std::fs::write(lesson.join("new.py"), "print('new')\n").unwrap();
        let head = export_head(&lesson, &out).expect("exported");
        assert!(!head.is_empty());
        assert_eq!(
            std::fs::read_to_string(out.join("app.py")).unwrap(),
            "print('committed')\n"
        );
        assert!(
            !out.join("new.py").exists(),
            "an untracked file is no part of a commit"
        );
        assert!(!out.join("other.txt").exists(), "only the lesson's folder");
        // A folder the commit does not hold.
        let empty = repo.join("02-empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(export_head(&empty, &tmp.path().join("out2")), None);
        let e = run_setup("echo nope >&2; exit 3", &repo).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
