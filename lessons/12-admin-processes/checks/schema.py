"""Look inside (or prepare) a SQLite file and judge its schema.

    python3 schema.py PATH create       make an empty database file
    python3 schema.py PATH latest       migrate it with db.py's own migrate()
                                        (needs db.py on PYTHONPATH)
    python3 schema.py PATH v1 CODE URL  a database one migration behind,
                                        holding one link (needs db.py on
                                        PYTHONPATH: its first migration)
    python3 schema.py PATH migrated     the links table exists, with clicks,
                                        at the schema version db.py reaches
    python3 schema.py PATH untouched    no table at all (nobody migrated it)
    python3 schema.py PATH at-v1        still one migration behind
    python3 schema.py PATH kept CODE    the link CODE is still there

Expectations can follow one another: `schema.py PATH migrated kept CODE`.

Prints what it found; exits 1 when the expectation does not hold.
"""
import os
import sqlite3
import sys

path, want, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def look():
    """(tables {name: [columns]}, user_version), or None without a file."""
    if not os.path.isfile(path):
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = {}
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    ).fetchall():
        cols = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        tables[name] = [c[1] for c in cols]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    return tables, version


if want == "create":
    open(path, "wb").close()
    print(f"{path}: an empty database")
    sys.exit(0)

if want == "latest":
    import db  # the app's own migrations

    conn = sqlite3.connect(path)
    db.migrate(conn)
    conn.close()
    sys.exit(0)

if want == "v1":
    import db  # the app's own migrations

    code, url = args
    conn = sqlite3.connect(path)
    conn.execute(db.MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO links (code, url) VALUES (?, ?)", (code, url))
    conn.commit()
    conn.close()
    print(f"{path}: migration 1 of {len(db.MIGRATIONS)} applied, link {code} in it")
    sys.exit(0)

found = look()
if found is None:
    print(f"{path}: no such file")
    tables, version = {}, 0
else:
    tables, version = found
    print(f"{path}: schema version {version}, tables {tables or 'none'}")


def judge(want, args):
    """One expectation; returns the arguments it did not use."""
    if want == "migrated":
        if "clicks" not in tables.get("links", []):
            sys.exit(f"no links table with a clicks column in {path}")
        try:
            import db

            latest = len(db.MIGRATIONS)
        except Exception:  # judge the table alone
            latest = version
        if version != latest:
            sys.exit(f"{path} is at schema version {version}, not {latest}")
    elif want == "untouched":
        if tables:
            sys.exit(f"{path} was migrated: it has tables {sorted(tables)}")
    elif want == "at-v1":
        if version != 1 or "clicks" in tables.get("links", []):
            sys.exit(f"{path} was migrated: schema version {version}, "
                     f"links columns {tables.get('links')}")
    elif want == "kept":
        code, args = args[0], args[1:]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT url FROM links WHERE code = ?", (code,)
            ).fetchone()
        except sqlite3.Error as exc:
            row = None
            print(f"cannot read links: {exc}")
        if row is None:
            sys.exit(f"the link {code} that was in {path} before migrating is gone")
        print(f"link {code} is still there: {row[0]}")
    else:
        sys.exit(f"unknown expectation {want}")
    return args


rest = [want] + args
while rest:
    rest = judge(rest[0], rest[1:])
