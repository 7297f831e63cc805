import sqlite3
import sys

import db

if sys.argv[1:] == ["migrate"]:
    db.migrate(sqlite3.connect("admin.db"))
