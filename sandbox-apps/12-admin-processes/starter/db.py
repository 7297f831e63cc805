"""shortlink's database: how to open it, and the migrations of its schema.

The schema grows by migrations, applied in order and never edited once
shipped. SQLite's user_version records how many of them a database has
had, so applying them again does nothing.

Python 3.8+, standard library only.
"""
import sqlite3

MIGRATIONS = [
    # 1: links
    "CREATE TABLE links (code TEXT PRIMARY KEY, url TEXT NOT NULL)",
    # 2: click counts
    "ALTER TABLE links ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0",
]


def path_of(url):
    """The file behind sqlite:///..., or ValueError."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"DATABASE_URL must start with sqlite:///: {url}")
    return url[len("sqlite:///"):]


def connect(url):
    """An open connection to the database at url (sqlite:///path)."""
    return sqlite3.connect(path_of(url), check_same_thread=False)


def version(conn):
    """How many migrations this database has had."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def pending(conn):
    """How many migrations this database still needs."""
    return len(MIGRATIONS) - version(conn)


def migrate(conn, log=print):
    """Apply the migrations conn lacks, each in its own transaction.

    Returns how many it applied; 0 when the schema was already current.
    """
    applied = 0
    for number in range(version(conn) + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN")
        try:
            conn.execute(MIGRATIONS[number - 1])
            conn.execute(f"PRAGMA user_version = {number}")
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        log(f"migrate: applied migration {number}")
        applied += 1
    return applied
