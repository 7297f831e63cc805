import os
import sys

from db import connect, migrate

if sys.argv[1:] != ["migrate"]:
    sys.exit("usage: python3 manage.py migrate")
migrate(connect(os.environ["DATABASE_URL"]))
