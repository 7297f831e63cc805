"""Print every row of the SQLite file a deploy was given (the check reads
the database itself, so the service cannot just say it stored the link)."""
import os
import sqlite3
import sys

path = sys.argv[1]
if not os.path.isfile(path):
    sys.exit(f"no database file at {path}")
for line in sqlite3.connect(path).iterdump():
    print(line)
