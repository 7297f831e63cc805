#!/usr/bin/env python3
"""Release shortlink: a build plus the config of one deploy, kept forever.

    python3 release.py create     cut a release: build/ plus the config in
                                  the environment; prints the new id
    python3 release.py rollback   make the release before the current one
                                  current again; prints the current id
    python3 release.py current    print the id of the current release
    python3 release.py list       every release, oldest first, one a line
    python3 release.py run        start the current release's web process

This plays the platform's part: releases/<id>/ holds a copy of the build
and the release's config.json, and is never written again once cut.
releases/ledger is append-only: one line per release, never rewritten.
A rollback is a release too: a new id, with the build and config of the
release before the current one (as `heroku rollback` does).

Python 3.8+, standard library only.
"""
import json
import os
import shutil
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
RELEASES = os.path.join(HERE, "releases")
LEDGER = os.path.join(RELEASES, "ledger")
CONFIG = ("DATABASE_URL", "SECRET_KEY", "BASE_URL")  # what varies per deploy


def ledger():
    """[(id, note)] of every release, oldest first."""
    try:
        with open(LEDGER, encoding="utf-8") as f:
            return [tuple(line.rstrip("\n").split(" ", 1)) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def current():
    entries = ledger()
    if not entries:
        sys.exit("release: no release yet: run `python3 release.py create`")
    return entries[-1][0]


def freeze(path):
    """Read-only, all the way down: a release is never written again."""
    for folder, dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(folder, name)
            os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def cut(build_dir, config, note):
    """Write a new release and append it to the ledger; return its id."""
    os.makedirs(RELEASES, exist_ok=True)
    n = len(ledger()) + 1
    while True:  # the next free number: ids are never reused
        rid = f"v{n}"
        try:
            os.mkdir(os.path.join(RELEASES, rid))
            break
        except FileExistsError:
            n += 1
    path = os.path.join(RELEASES, rid)
    shutil.copytree(build_dir, os.path.join(path, "build"))
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    freeze(path)
    with open(LEDGER, "a", encoding="utf-8") as f:
        f.write(f"{rid} {note}\n")
    return rid


def create():
    if not os.path.isdir(BUILD):
        sys.exit("release: no build/ here: run `python3 build.py` first")
    with open(os.path.join(BUILD, "BUILD_ID"), encoding="utf-8") as f:
        build_id = f.read().strip()
    config = {k: os.environ[k] for k in CONFIG if k in os.environ}
    print(cut(BUILD, config, f"build {build_id}"))


def rollback():
    entries = ledger()
    if len(entries) < 2:
        sys.exit("release: nothing to roll back to")
    back = entries[-2][0]
    with open(os.path.join(RELEASES, back, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    print(cut(os.path.join(RELEASES, back, "build"), config, f"rollback to {back}"))


def run():
    rid = current()
    path = os.path.join(RELEASES, rid)
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    env = dict(os.environ, **config)  # PORT comes from the platform
    app = os.path.join(path, "build", "app.py")
    os.execve(sys.executable, [sys.executable, app], env)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "create":
        create()
    elif command == "rollback":
        rollback()
    elif command == "current":
        print(current())
    elif command == "list":
        for rid, note in ledger():
            print(rid, note)
    elif command == "run":
        run()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
