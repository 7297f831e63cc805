"""A tiny service that exercises every step kind of the check engine (a test fixture)."""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kv import KV

kv = KV.from_url(os.environ["REDIS_URL"])
DYNO = os.environ.get("DYNO", "?")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        print(f"{self.command} {self.path} {status} {DYNO}", flush=True)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"dyno": DYNO, "extra": os.environ.get("EXTRA", "")})
        if self.path == "/slow":
            print("slow request started", flush=True)
            time.sleep(0.4)
            return self.reply(200, {"slow": True})
        if self.path.startswith("/items/"):
            value = kv.get("item:" + self.path[len("/items/"):])
            if value is None:
                return self.reply(404, {"error": "no such item"})
            return self.reply(302, {"value": value}, [("Location", value)])
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        size = int(self.headers.get("Content-Length", 0))
        data = json.loads(self.rfile.read(size) or b"{}")
        kv.set("item:" + data["key"], data["value"])
        kv.rpush("jobs", data["key"])
        self.reply(201, {"key": data["key"], "count": kv.incr("count")})


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
server.daemon_threads = False  # so server_close() waits for requests in flight


def on_term(*_):
    # Stop accepting at once; in-flight requests finish in server_close().
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, on_term)
print("listening", flush=True)
server.serve_forever(poll_interval=0.02)
server.server_close()
sys.exit(0)
