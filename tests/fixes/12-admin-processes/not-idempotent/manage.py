import os
import sys

import db

if sys.argv[1:] == ["migrate"]:
    conn = db.connect(os.environ["DATABASE_URL"])
    for number, sql in enumerate(db.MIGRATIONS, 1):
        conn.execute(sql)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.commit()
