"""Does any HTTP request make the web process migrate?

    DB=PATH WEB=http://127.0.0.1:PORT SECRET_KEY=... ADMIN_TOKEN=... APP=DIR \
        python3 crawl.py

Puts the database one migration behind, as a new release would find it,
then sends GET and POST to every path the app's code names and to the
usual admin paths (with the usual ways of passing a token), and looks at
the schema after each request. Prints the request that changed it and
exits 1; exits 0 when none did.
"""
import ast
import os
import sqlite3
import sys
import urllib.error
import urllib.request

DB, WEB, APP = os.environ["DB"], os.environ["WEB"], os.environ["APP"]
TOKENS = [t for t in (os.environ.get("SECRET_KEY"), os.environ.get("ADMIN_TOKEN")) if t]


def schema():
    conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        cols = [c[1] for c in conn.execute('PRAGMA table_info("links")')]
        return version, cols
    finally:
        conn.close()


def one_behind():
    """Undo the last migration (clicks), keeping the rows."""
    conn = sqlite3.connect(DB)
    conn.executescript(
        """
        BEGIN;
        CREATE TABLE links_old (code TEXT PRIMARY KEY, url TEXT NOT NULL);
        INSERT INTO links_old (code, url) SELECT code, url FROM links;
        DROP TABLE links;
        ALTER TABLE links_old RENAME TO links;
        PRAGMA user_version = 1;
        COMMIT;
        """
    )
    conn.close()


def paths_in_code():
    """Every string literal in the app's Python files that looks like a path."""
    found = set()
    for folder, dirs, files in os.walk(APP):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith(".py"):
                continue
            try:
                tree = ast.parse(open(os.path.join(folder, name)).read())
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    s = node.value.strip()
                    if s.startswith("/") and 1 < len(s) < 80 and " " not in s:
                        found.add(s)
    return found


USUAL = """/admin/migrate /admin/migrate/ /admin/migrations /admin/migration
/migrate /migrate/ /migrations /_migrate /__migrate /admin /admin/ /_admin/migrate
/admin/db/migrate /admin/schema /admin/upgrade /admin/tasks/migrate
/admin/run/migrate /upgrade /db/migrate /db/upgrade /schema/migrate
/api/migrate /api/admin/migrate /api/v1/migrate /ops/migrate /internal/migrate
/manage/migrate /maintenance/migrate /tasks/migrate /setup /init /install
/health /links /""".split()


def candidates():
    paths = list(USUAL)
    for p in sorted(paths_in_code()):
        paths.append(p)
        if p.endswith("/"):
            paths.append(p + "migrate")
    seen, out = set(), []
    for p in paths:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def send(method, path, headers):
    body = b"{}" if method == "POST" else None
    req = urllib.request.Request(WEB + path, data=body, method=method,
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception as exc:  # refused, reset, timed out: not our business
        return type(exc).__name__


def main():
    one_behind()
    before = schema()
    print(f"database one migration behind: schema version {before[0]}, columns {before[1]}")
    # Each way to ask: (extra headers, query string, how to name it).
    ask = "migrate=1&task=migrate&action=migrate&command=migrate&run=1"
    ways = [({}, "", ""), ({}, "?" + ask, "?" + ask)]
    for t in TOKENS:
        headers = {"Authorization": f"Bearer {t}", "X-Admin-Token": t,
                   "X-Api-Key": t, "X-Token": t}
        ways += [
            (headers, "", "with a token in the headers"),
            (headers, f"?token={t}&key={t}&{ask}", f"?token=<the token>&{ask}"),
        ]
    tried = 0
    for path in candidates():
        for method in ("GET", "POST"):
            for headers, query, how in ways:
                status = send(method, path + query, headers)
                tried += 1
                now = schema()
                if now != before:
                    shown = f"{method} {path}"
                    shown += how if how.startswith("?") else f" ({how})" if how else ""
                    print(f"{shown} answered {status} and changed the "
                          f"schema of the database DATABASE_URL names: version "
                          f"{before[0]} -> {now[0]}, columns {before[1]} -> {now[1]}")
                    sys.exit(1)
    print(f"{tried} requests, none changed the schema")


main()
