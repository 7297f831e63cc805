"""Drive the app's release.py as a platform would, and judge its releases.

Usage (from the app folder):
    python3 releases.py cut STATE KA HA DBA KB HB DBB
    python3 releases.py rollback STATE

`cut` makes two releases of one build, with two configs (A, then B): they
must get two ids, each release folder (releases/<id>/) must hold its own
config and its build, release A must not change when B is cut, and B must
be current. `rollback` rolls back once: the releases cut before must still
be listed first, in the same order, and their folders must be unchanged.
What is current after it is judged by running it (a later step).
Prints what it saw; exits 1 when an expectation fails.
"""
import hashlib
import json
import os
import subprocess
import sys

APP = os.getcwd()
RELEASES = os.path.join(APP, "releases")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def release(command, config=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DATABASE_URL", "BASE_URL")}
    env.update(config or {})
    shown = " ".join(f"{k}={v}" for k, v in (config or {}).items())
    r = subprocess.run([sys.executable, "release.py", command], cwd=APP, env=env,
                       capture_output=True, text=True, timeout=20)
    print(f"$ {shown + ' ' if shown else ''}python3 release.py {command}"
          f"  (exit {r.returncode})")
    for line in (r.stdout + r.stderr).splitlines()[-8:]:
        print(f"  {line}")
    if r.returncode != 0:
        fail(f"`python3 release.py {command}` exited with code {r.returncode}")
    return r.stdout


def last_word(out, command):
    lines = [l.split()[0] for l in out.splitlines() if l.split()]
    if not lines:
        fail(f"`python3 release.py {command}` printed no release id")
    return lines[-1]


def tree(rid):
    """{relative path: sha256} of every file of releases/<id>/."""
    root = os.path.join(RELEASES, rid)
    if not os.path.isdir(root):
        fail(f"there is no folder releases/{rid}/ for release {rid}")
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            p = os.path.join(folder, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def holds(rid, text):
    root = os.path.join(RELEASES, rid)
    for folder, dirs, files in os.walk(root):
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    if text.encode() in f.read():
                        return True
            except OSError:
                pass
    return False


def changed(before, after):
    paths = sorted(set(before) | set(after))
    return [p for p in paths if before.get(p) != after.get(p)]


def listing():
    return [l.split()[0] for l in release("list").splitlines() if l.split()]


def cut(state, ka, ha, dba, kb, hb, dbb):
    with open(os.path.join(APP, "build", "BUILD_ID"), encoding="utf-8") as f:
        build_id = f.read().strip()
    a = {"SECRET_KEY": ka, "BASE_URL": f"https://{ha}.example", "DATABASE_URL": dba}
    b = {"SECRET_KEY": kb, "BASE_URL": f"https://{hb}.example", "DATABASE_URL": dbb}
    ida = last_word(release("create", a), "create")
    tree_a = tree(ida)
    if not holds(ida, ka):
        fail(f"release {ida} (releases/{ida}/) does not hold the SECRET_KEY it "
             f"was cut with: a release is the build plus its config")
    if not holds(ida, build_id):
        fail(f"release {ida} (releases/{ida}/) does not hold build {build_id}: "
             f"a release is the build plus its config")
    idb = last_word(release("create", b), "create")
    if idb == ida:
        fail(f"two releases of one build, cut with two different configs, both "
             f"got the id {ida}: a config change is a new release, with an id "
             f"of its own")
    diff = changed(tree_a, tree(ida))
    if diff:
        fail(f"release {ida} changed after it was cut, when {idb} was cut "
             f"({', '.join(diff[:5])}): a release is never written again")
    now = last_word(release("current"), "current")
    if now != idb:
        fail(f"after cutting {idb}, `release.py current` says {now}")
    ids = listing()
    if ids[-2:] != [ida, idb]:
        fail(f"`release.py list` does not end with {ida}, {idb}: {ids}")
    with open(state, "w") as f:
        json.dump({"a": ida, "b": idb, "ids": ids,
                   "trees": {ida: tree_a, idb: tree(idb)}}, f)
    print(f"OK: two releases {ida} and {idb}, B current")


def rollback(state):
    with open(state) as f:
        st = json.load(f)
    now = last_word(release("rollback"), "rollback")
    ids = listing()
    if ids[:len(st["ids"])] != st["ids"]:
        fail(f"before the rollback `release.py list` said {st['ids']}, after it "
             f"{ids}: a rollback adds to the history, it never removes or "
             f"rewrites a release")
    for rid, before in st["trees"].items():
        diff = changed(before, tree(rid))
        if diff:
            fail(f"release {rid} changed in the rollback ({', '.join(diff[:5])}): "
                 f"a release is never written again, rolled back or not")
    cur = last_word(release("current"), "current")
    if cur != now:
        fail(f"`release.py rollback` printed {now}, but `current` says {cur}")
    if cur == st["b"]:
        fail(f"after the rollback {st['b']} is still current")
    print(f"OK: rolled back, {cur} current, history kept: {ids}")


if __name__ == "__main__":
    {"cut": cut, "rollback": rollback}[sys.argv[1]](*sys.argv[2:])
