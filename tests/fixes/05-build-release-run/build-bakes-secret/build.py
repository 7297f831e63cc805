#!/usr/bin/env python3
"""Build shortlink: turn this source folder into a runnable build in build/.

    python3 build.py          (the Procfile's `build` process)

The build copies the code, compiles the templates into one JSON file and
stamps the result with a build id, a hash of everything it wrote. The web
process then runs from the build: python3 build/app.py

Python 3.8+, standard library only.
"""
import glob
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "build")
CODE = ["app.py"]  # what the web process runs


def require(name):
    """The value of a required variable; without it, stop now, naming it."""
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"build: the environment variable {name} is required")
    return value


def compile_templates():
    """templates/*.html -> {name: text}, with the indentation squeezed out."""
    out = {}
    for path in sorted(glob.glob(os.path.join(HERE, "templates", "*.html"))):
        with open(path, encoding="utf-8") as f:
            lines = (line.strip() for line in f)
            out[os.path.basename(path)] = "\n".join(l for l in lines if l)
    return out


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(text)


def build_id():
    """A hash of every file in the build: same inputs, same id."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(OUT)):
        with open(os.path.join(OUT, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()[:12]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for name in CODE:
        shutil.copyfile(os.path.join(HERE, name), os.path.join(OUT, name))
    write("templates.json", json.dumps(compile_templates(), sort_keys=True))
    # Factor V (Build, release, run): the build reads the deploy's config
    # and bakes it into build/config.json. Now the build only works where
    # BASE_URL and SECRET_KEY are set, the secret sits in every copy of the
    # build, and one build cannot be released to two places: staging and
    # production would each need a build of their own.
    config = {"SECRET_KEY": require("SECRET_KEY")}
    write("config.json", json.dumps(config, indent=2))
    bid = build_id()
    write("BUILD_ID", bid + "\n")
    print(f"build: {bid} written to build/", flush=True)


if __name__ == "__main__":
    main()
