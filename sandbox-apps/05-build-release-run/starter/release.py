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
and the release's config.json; releases/ledger lists the releases.

Python 3.8+, standard library only.
"""
import json
import os
import shutil
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


def create():
    if not os.path.isdir(BUILD):
        sys.exit("release: no build/ here: run `python3 build.py` first")
    with open(os.path.join(BUILD, "BUILD_ID"), encoding="utf-8") as f:
        build_id = f.read().strip()
    # Factor V (Build, release, run): the build is the release. The id is
    # the build's, so a new config for the same build rewrites the release
    # already running under that id: nothing tells the two apart, and the
    # old config is gone.
    rid = build_id
    path = os.path.join(RELEASES, rid)
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(BUILD, os.path.join(path, "build"))
    config = {k: os.environ[k] for k in CONFIG if k in os.environ}
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    if rid not in [r for r, _ in ledger()]:
        with open(LEDGER, "a", encoding="utf-8") as f:
            f.write(f"{rid} build {build_id}\n")
    print(rid)


def rollback():
    # Factor V (Build, release, run): a rollback that rewrites history. The
    # newest release is deleted, from the disk and from the ledger, as if it
    # had never run.
    entries = ledger()
    if len(entries) < 2:
        sys.exit("release: nothing to roll back to")
    shutil.rmtree(os.path.join(RELEASES, entries[-1][0]))
    with open(LEDGER, "w", encoding="utf-8") as f:
        f.writelines(f"{r} {note}\n" for r, note in entries[:-1])
    print(entries[-2][0])


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
