#!/usr/bin/env python3
"""One-off admin commands: python3 manage.py migrate"""
import argparse
import os
import sys

import db


def main():
    parser = argparse.ArgumentParser(prog="manage.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the schema up to date")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("manage.py: DATABASE_URL is required")
    if args.command == "migrate":
        conn = db.connect(url)
        n = db.migrate(conn)
        conn.close()
        print(f"{n} migration(s) applied")


main()
