#!/usr/bin/env python3
"""Admin tasks for shortlink, each run as a one-off process.

    python3 manage.py migrate    apply the migrations the database lacks
    python3 manage.py shell      a Python prompt with the database open

They run from the same code as the web process, with the same config:
DATABASE_URL says which database, exactly as it does for `web`.

    DATABASE_URL=sqlite:///$PWD/links.db python3 manage.py migrate

Python 3.8+, standard library only.
"""
import code
import os
import sqlite3
import sys

import db as schema


def require(name):
    """The value of a required variable; without it, stop now, naming it."""
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"manage.py: the environment variable {name} is required")
    return value


def migrate(conn):
    applied = schema.migrate(conn)
    print(f"migrate: {applied} applied, schema at version "
          f"{schema.version(conn)}", flush=True)


def shell(conn):
    code.interact(banner="shortlink shell: `db` is the open database",
                  local={"db": conn, "schema": schema})


COMMANDS = {"migrate": migrate, "shell": shell}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 manage.py {'|'.join(COMMANDS)}")
    url = require("DATABASE_URL")
    try:
        conn = schema.connect(url)
    except (ValueError, sqlite3.Error) as exc:
        sys.exit(f"manage.py: cannot open the database {url}: {exc}")
    with conn:
        COMMANDS[sys.argv[1]](conn)
    conn.close()


if __name__ == "__main__":
    main()
