import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

if os.environ.get("ONE_OFF"):
    sys.exit(0)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
