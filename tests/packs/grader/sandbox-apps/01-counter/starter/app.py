"""A hit counter kept in the store at STORE_URL."""
import os
import time
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kv import KV

if not os.environ.get("STORE_URL"):
    sys.exit("STORE_URL is required")
STORE = KV.from_url(os.environ["STORE_URL"])
PORT = int(os.environ["PORT"])


def hit(name):
    n = int(STORE.get("hits:" + name) or 0) + 1  # read, then write: two at once lose one
    time.sleep(0.01)  # a request's real work, which widens the window between the two
    STORE.set("hits:" + name, n)
    return n


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = hit(self.path.strip("/"))
        self.reply(200, str(n))

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, "ok")
        n = STORE.get("hits:" + self.path.strip("/")) or "0"
        self.reply(200, n)

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
