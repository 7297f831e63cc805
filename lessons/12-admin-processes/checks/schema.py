"""Look inside a SQLite file and judge its schema.

    python3 schema.py PATH migrated     the links table exists, with clicks
    python3 schema.py PATH untouched    no table at all (nobody migrated it)

Prints what it found; exits 1 when the expectation does not hold.
"""
import os
import sqlite3
import sys

path, want = sys.argv[1], sys.argv[2]
tables = {}
if os.path.isfile(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    ).fetchall()
    for (name,) in names:
        cols = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        tables[name] = [c[1] for c in cols]
    conn.close()
    print(f"{path}: tables {tables or 'none'}")
else:
    print(f"{path}: no such file")

if want == "migrated":
    if "clicks" not in tables.get("links", []):
        sys.exit(f"no links table with a clicks column in {path}")
elif want == "untouched":
    if tables:
        sys.exit(f"{path} was migrated: it has tables {sorted(tables)}")
else:
    sys.exit(f"unknown expectation {want}")
