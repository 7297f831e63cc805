#!/usr/bin/env python3
"""shortlink: a small URL shortener.

    POST /links {"url": "https://..."} -> 201 {"code": .., "short_url": ..}
    GET  /<code>                       -> 302 to the URL, counts a click
    GET  /links/<code>                 -> 200 {"code", "url", "clicks",
                                               "title"}
    GET  /links/<code>/preview?wait_ms=N
                                       -> 200 {"code", "title", "ready"},
                                          waiting up to N ms for the title
    GET  /health                       -> 200 {"status": "ok"}

Every new link gets a preview (a title for the page), made in the
background by worker.py: see jobs.py. "title" is null until it is ready.

All configuration comes from the environment:

    PORT          the port to listen on (required)
    REDIS_URL     the key-value store, redis://host:port/db (required)
    SECRET_KEY    signs every new code, sent back as X-Signature (required)
    BASE_URL      where short links point (default http://localhost:$PORT)
    HOST          the address to listen on (default 127.0.0.1; in a
                  container, 0.0.0.0)

    PORT=8080 REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=dev \\
        python3 app.py

Python 3.8+, standard library only.
"""
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from jobs import enqueue_preview
from kv import KV


def require(name):
    """The value of a required variable; without it, stop now, naming it."""
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"shortlink: the environment variable {name} is required")
    return value


# --- Config: everything that changes between deploys, and nothing else.
PORT = int(require("PORT"))
REDIS_URL = require("REDIS_URL")
SECRET_KEY = require("SECRET_KEY")
BASE_URL = os.environ.get("BASE_URL", f"http://localhost:{PORT}").rstrip("/")
HOST = os.environ.get("HOST", "127.0.0.1")


# --- Storage: one hash per link, link:<code> -> {"url", "clicks"}.
kv = KV.from_url(REDIS_URL)  # request threads share it; commands take turns


def create_link(url):
    """Store url under a new random code and return the code."""
    while True:
        code = secrets.token_urlsafe(5)  # 7 characters of A-Z a-z 0-9 - _
        if not kv.exists(f"link:{code}"):  # a clash is ~1 in 34 billion
            kv.hset(f"link:{code}", mapping={"url": url, "clicks": "0"})
            return code


def follow_link(code):
    """The URL behind code, counting one click; None if unknown."""
    url = kv.hget(f"link:{code}", "url")
    if url is not None:
        kv.hincrby(f"link:{code}", "clicks", 1)
    return url


def link_stats(code):
    """{"code", "url", "clicks", "title"} for code; None if unknown."""
    fields = kv.hgetall(f"link:{code}")
    if not fields:
        return None
    return {"code": code, "url": fields["url"],
            "clicks": int(fields.get("clicks", 0)),
            "title": kv.hget(f"preview:{code}", "title")}


def wait_for_preview(code, wait_ms):
    """The title of code's preview, waiting up to wait_ms for a worker to
    make it (a long poll: the client asks once instead of polling)."""
    deadline = time.monotonic() + min(wait_ms, 10_000) / 1000
    while True:
        title = kv.hget(f"preview:{code}", "title")
        if title is not None or time.monotonic() >= deadline:
            return title
        time.sleep(0.05)


def request_preview(code, url):
    """Have the preview of a new link made, without making the client wait."""
    # The web process only enqueues the job, in the store; a worker process
    # (worker.py, the Procfile's `worker` type) takes it from there.
    enqueue_preview(kv, code, url)


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


def handle(method, path, query, body):
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
        request_preview(code, url)
        payload = {"code": code, "short_url": f"{BASE_URL}/{code}"}
        return 201, {"X-Signature": sign(code)}, payload
    if method == "GET" and path.startswith("/links/") \
            and path.endswith("/preview"):
        code = path[len("/links/"):-len("/preview")]
        if not kv.exists(f"link:{code}"):
            return NOT_FOUND
        try:
            wait_ms = int(parse_qs(query).get("wait_ms", ["0"])[0])
        except ValueError:
            return 400, {}, {"error": "wait_ms must be a number"}
        title = wait_for_preview(code, wait_ms)
        return 200, {}, {"code": code, "title": title,
                         "ready": title is not None}
    if method == "GET" and path.startswith("/links/"):
        stats = link_stats(path[len("/links/"):])
        return (200, {}, stats) if stats else NOT_FOUND
    if method == "GET" and path.count("/") == 1 and len(path) > 1:
        url = follow_link(path[1:])
        return (302, {"Location": url}, None) if url else NOT_FOUND
    return 404, {}, {"error": "not found"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.respond()

    def do_POST(self):
        self.respond()

    def respond(self):
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            status, headers, payload = handle(self.command, url.path, url.query, body)
        except Exception:  # a bug or a broken store: answer 500
            traceback.print_exc()
            status, headers, payload = 500, {}, {"error": "internal error"}
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)  # this also logs the request
        for name, value in headers.items():
            self.send_header(name, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # One event per line on stdout, flushed at once; where the lines
        # end up is the platform's business, not ours.
        print(f"{self.address_string()} {fmt % args}", flush=True)


def main():
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    server.daemon_threads = False
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    serving = threading.Thread(target=server.serve_forever, args=(0.05,))
    serving.start()
    print(f"shortlink: listening on http://{HOST}:{server.server_port}",
          flush=True)
    # A timed wait: a signal delivered to another thread does not interrupt an
    # untimed wait in the main thread, so its handler would only run much later.
    while not stopping.wait(0.1):
        pass
    server.shutdown()       # serve_forever returns: no more accept()
    server.server_close()   # close the port, join the request threads
    serving.join()


if __name__ == "__main__":
    main()
