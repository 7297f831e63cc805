"""A service with a liveness and a readiness probe."""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(os.environ["PORT"])
DATA_FILE = os.environ["DATA_FILE"]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            self.answer(200, "alive")
        elif self.path == "/readyz":
            # Telemetry: ready only while the store is there.
            if os.path.exists(DATA_FILE):
                self.answer(200, "ready")
            else:
                self.answer(503, "not ready: the store is gone")
        else:
            self.answer(404, "not found")

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
