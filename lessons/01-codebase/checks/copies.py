"""Does the app hold two copies of the same code, under any names?

Usage: python3 copies.py APP_DIR

Compares every pair of Python files of the app (by extension, a backup
such as app.py.orig, or a python shebang) line by line, ignoring blank lines, comments and very short
lines. Two files that share a long stretch of identical lines are copies of
each other, whatever their folders are called. Prints what it found and
exits 1 when there are copies.
"""
import difflib
import os
import sys

RUN = 4        # identical lines in a row that count as copied text
MIN_COPIED = 12  # copied lines that make two files copies
MIN_SHARE = 0.4  # ... and the share of the smaller file they make up


def python_files(root):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith(".py") or ".py." in name:  # app.py, app.py.orig
                yield path
                continue
            try:
                with open(path, "rb") as f:
                    first = f.readline(200)
            except OSError:
                continue
            if first.startswith(b"#!") and b"python" in first:
                yield path


def significant(path):
    """(line number, stripped text) of the lines that say something."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, raw in enumerate(f, 1):
                s = raw.strip()
                if len(s) >= 8 and not s.startswith("#"):
                    out.append((n, s))
    except OSError:
        pass
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = {}
    for path in python_files(root):
        rel = os.path.relpath(path, root)
        files[rel] = significant(path)
    names = sorted(files)
    found = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            la = [s for _, s in files[a]]
            lb = [s for _, s in files[b]]
            if not la or not lb:
                continue
            m = difflib.SequenceMatcher(None, la, lb, autojunk=False)
            blocks = [x for x in m.get_matching_blocks() if x.size >= RUN]
            copied = sum(x.size for x in blocks)
            smaller = min(len(la), len(lb))
            if copied >= MIN_COPIED and copied >= MIN_SHARE * smaller:
                first = blocks[0]
                line_a = files[a][first.a][0]
                line_b = files[b][first.b][0]
                found.append(
                    f"{a} and {b} share {copied} lines of code "
                    f"({a}:{line_a} is {b}:{line_b}, and on)"
                )
    if found:
        for f in found:
            print(f"COPY: {f}")
        print("two files of the app hold the same code: that is a second "
              "copy, whatever its name")
        sys.exit(1)
    print(f"OK: no copied code among {len(names)} Python files: "
          + ", ".join(names))


main()
