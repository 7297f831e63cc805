"""Is the lesson folder one codebase under version control, deployed by commit?

Usage: repo.py LESSON_FOLDER

Reads the learner's repository and changes nothing in it (no index refresh, no lock).
Exits 1 with one paragraph saying what is missing; 0 when the folder is committed, clean,
and no branch named for an environment has drifted away from the others.
"""

import os
import subprocess
import sys

folder = os.path.abspath(sys.argv[1])
name = os.path.basename(folder)
ENV = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
COMMIT = "git add -A && git commit -m 'One codebase'"
# Branch names that stand for a deploy rather than a line of work.
ENVIRONMENTS = {
    "staging", "stage", "production", "prod", "live", "demo", "dev",
    "development", "qa", "test", "testing", "uat", "preprod", "preproduction",
}


def git(*args, cwd=folder):
    r = subprocess.run(
        # A checkout owned by another user (a CI container's) is read too.
        ["git", "-c", "safe.directory=*", "-C", cwd, *args],
        capture_output=True, text=True, env=ENV,
    )
    return r.returncode, r.stdout, r.stderr.strip()


def fail(text):
    print(" ".join(text.split()))
    sys.exit(1)


try:
    git("--version")
except FileNotFoundError:
    fail("""git is not installed, so whether this folder is one codebase under version
         control cannot be told: install git (`twelve doctor` says how)""")

code, out, err = git("rev-parse", "--show-toplevel")
if code != 0:
    if "dubious ownership" in err or "safe.directory" in err:
        fail(f"""git refuses to read the repository of {name}: {err.splitlines()[0]}""")
    also = ""
    if os.path.exists(os.path.join(folder, ".git")):
        also = f" ({name}/.git is there, but git does not read it as a repository)"
    fail(f"""{name} is in no git repository{also}: a codebase is one repository under
         version control, and every deploy runs one of its commits. In the lesson folder:
         git init && {COMMIT}""")
top = out.strip()
prefix = git("rev-parse", "--show-prefix")[1].strip()

code, out, _ = git("rev-parse", "--short", "--verify", "-q", "HEAD^{commit}")
if code != 0:
    fail(f"""the repository at {top} has no commit yet: a deploy runs a commit, so there
         is nothing to deploy. Commit the lesson: {COMMIT}""")
head = out.strip()

if git("cat-file", "-t", f"HEAD:{prefix}")[1].strip() != "tree":
    fail(f"""the last commit ({head}) of the repository at {top} holds nothing of
         {prefix.rstrip('/')}: a deploy runs a commit, so there is nothing to deploy.
         Commit the lesson folder: {COMMIT}""")

# A repository of its own inside the one that holds the rest of the workspace: the outer
# one records the folder as a pointer to a commit (a submodule), not its files.
if prefix == "":
    parent = os.path.dirname(folder)
    code, out, _ = git("rev-parse", "--show-toplevel", cwd=parent)
    if code == 0:
        outer = out.strip()
        tracked = git("ls-files", "--", ".", cwd=parent)[1].split()
        if [p for p in tracked if p != name]:
            fail(f"""{name} has a repository of its own inside the repository at {outer},
                 which holds the rest of your workspace: that repository stores {name} as a
                 pointer to a commit, not as its files, so a push of the workspace carries
                 none of this lesson's code. One codebase, one repository: remove
                 {name}/.git and commit the lesson in {outer}""")

code, out, err = git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
if code != 0:
    fail(f"""git status failed in {name}: {err}""")
WHAT = {"?": "new", "M": "changed", "D": "deleted", "A": "added but not committed",
        "R": "renamed", "C": "copied", "T": "changed", "U": "unmerged"}
changes = []
entries = out.split("\0")
i = 0
while i < len(entries):
    e = entries[i]
    i += 1
    if len(e) < 4:
        continue
    xy, path = e[:2], e[3:]
    if "R" in xy or "C" in xy:
        i += 1  # the entry's source path follows
    rel = path[len(prefix):] if path.startswith(prefix) else path
    parts = rel.split("/")
    if "__pycache__" in parts or rel.endswith(".pyc"):
        continue
    code_letter = (xy[1] if xy[1] != " " else xy[0])
    changes.append(f"{rel} ({WHAT.get(code_letter, 'changed')})")
if changes:
    shown = ", ".join(changes[:8]) + (f" and {len(changes) - 8} more" if len(changes) > 8 else "")
    fail(f"""changes in {name} are not committed, so no deploy has them: a deploy runs a
         commit, and these checks ran the last one ({head}). Not committed: {shown}.
         Commit them: {COMMIT}""")

# Branches named for environments must lie on the current branch's one line of history:
# staging may be ahead of production, but neither may hold commits the other never gets.
current = git("symbolic-ref", "-q", "--short", "HEAD")[1].strip() or "HEAD"
branches = git("for-each-ref", "--format=%(refname:short)", "refs/heads")[1].split()
for b in branches:
    if b == current or b.rsplit("/", 1)[-1].lower() not in ENVIRONMENTS:
        continue
    behind = git("merge-base", "--is-ancestor", b, "HEAD")[0] == 0
    ahead = git("merge-base", "--is-ancestor", "HEAD", b)[0] == 0
    if not (behind or ahead):
        only = int(git("rev-list", "--count", f"HEAD..{b}")[1].strip() or 0)
        commits = "a commit" if only == 1 else f"{only} commits"
        fail(f"""branch {b} has {commits} that {current} lacks, and {current} has
             commits {b} lacks: the two have diverged into two codebases in one repository
             (git log --oneline --left-right {current}...{b}). Deploys may be at different
             commits of one history, staging ahead of production, never on copies that
             drift: merge {b} into {current} (git merge {b})""")

print(f"{name} is committed at {head} in the repository at {top}")
