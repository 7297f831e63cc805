#!/usr/bin/env python3
"""shortlink: a small URL shortener.

    POST /links {"url": "https://..."} -> 201 {"code": .., "short_url": ..}
    GET  /<code>                       -> 302 to the URL, counts a click
    GET  /links/<code>                 -> 200 {"code", "url", "clicks"}
    GET  /health                       -> 200 {"status": "ok"}

Configuration comes from the environment:

    DATABASE_URL  sqlite:////absolute/path.db or sqlite:///:memory: (required)
    SECRET_KEY    signs every new code, sent back as X-Signature (required)
    BASE_URL      where short links point (default http://localhost:8000)

`app` is a WSGI application: a callable, not a program. A web server
outside this file loads it and listens for it; the Procfile has gunicorn
do that:
    web: gunicorn app:app

Python 3.8+, standard library only.
"""
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import sys
import threading
import traceback
from http import HTTPStatus
from urllib.parse import urlsplit


def require(name):
    """The value of a required variable; without it, stop now, naming it."""
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"shortlink: the environment variable {name} is required")
    return value


# --- Config: everything that changes between deploys, and nothing else.
DATABASE_URL = require("DATABASE_URL")
SECRET_KEY = require("SECRET_KEY")
# Factor VII (Port binding): 8000 is the port gunicorn binds by default.
BASE_URL = os.environ.get("BASE_URL", "http://localhost:8000").rstrip("/")


# --- Storage: one SQLite connection, shared by all request threads.
def open_database(url):
    if not url.startswith("sqlite:///"):
        sys.exit(f"shortlink: DATABASE_URL must start with sqlite:///: {url}")
    path = url[len("sqlite:///"):]
    try:
        conn = sqlite3.connect(path, check_same_thread=False)
        with conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS links ("
                " code TEXT PRIMARY KEY,"
                " url TEXT NOT NULL,"
                " clicks INTEGER NOT NULL DEFAULT 0)"
            )
    except sqlite3.Error as exc:
        sys.exit(f"shortlink: cannot open the database {path}: {exc}")
    return conn


db = open_database(DATABASE_URL)
db_lock = threading.Lock()  # one thread at a time uses the connection


def create_link(url):
    """Store url under a new random code and return the code."""
    with db_lock, db:  # `with db` commits, or rolls back on an error
        while True:
            code = secrets.token_urlsafe(5)  # 7 characters of A-Z a-z 0-9 - _
            try:
                db.execute(
                    "INSERT INTO links (code, url) VALUES (?, ?)", (code, url)
                )
                return code
            except sqlite3.IntegrityError:
                continue  # that code is taken: draw another one


def follow_link(code):
    """The URL behind code, counting one click; None if unknown."""
    with db_lock, db:
        row = db.execute(
            "SELECT url FROM links WHERE code = ?", (code,)
        ).fetchone()
        if row:
            db.execute(
                "UPDATE links SET clicks = clicks + 1 WHERE code = ?", (code,)
            )
    return row[0] if row else None


def link_stats(code):
    """{"code", "url", "clicks"} for code; None if unknown."""
    with db_lock:
        row = db.execute(
            "SELECT code, url, clicks FROM links WHERE code = ?", (code,)
        ).fetchone()
    return dict(zip(("code", "url", "clicks"), row)) if row else None


def sign(text):
    """HMAC-SHA256 of text under SECRET_KEY: proof that we issued it."""
    key = SECRET_KEY.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def is_web_url(url):
    """An absolute http(s) URL that fits in a Location header."""
    if not (isinstance(url, str) and url.isascii() and url.isprintable()):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- HTTP: a request becomes (status, extra headers, JSON payload or None).
NOT_FOUND = (404, {}, {"error": "unknown code"})


def handle(method, path, body):
    if method == "GET" and path == "/health":
        return 200, {}, {"status": "ok"}
    if method == "POST" and path == "/links":
        try:
            url = json.loads(body or b"{}").get("url")
        except (ValueError, AttributeError):  # not JSON, or not an object
            url = None
        if not is_web_url(url):
            return 400, {}, {"error": 'send {"url": "https://..."}'}
        code = create_link(url)
        payload = {"code": code, "short_url": f"{BASE_URL}/{code}"}
        return 201, {"X-Signature": sign(code)}, payload
    if method == "GET" and path.startswith("/links/"):
        stats = link_stats(path[len("/links/"):])
        return (200, {}, stats) if stats else NOT_FOUND
    if method == "GET" and path.count("/") == 1 and len(path) > 1:
        url = follow_link(path[1:])
        return (302, {"Location": url}, None) if url else NOT_FOUND
    return 404, {}, {"error": "not found"}


def app(environ, start_response):
    """The WSGI entry point: a web server calls this once per request."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        path = environ.get("PATH_INFO") or "/"
        method = environ["REQUEST_METHOD"]
        status, headers, payload = handle(method, path, body)
    except Exception:  # a bug or a broken database: answer 500
        traceback.print_exc()
        status, headers, payload = 500, {}, {"error": "internal error"}
    data = b"" if payload is None else json.dumps(payload).encode()
    headers = list(headers.items())
    if payload is not None:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [data]


# Factor VII (Port binding): nothing below this line. The app does not
# listen by itself: it is a plugin for a web server that must be installed
# on the machine first (the Procfile's gunicorn). Without one, nothing
# serves it, and `python3 app.py` only defines `app` and exits.
