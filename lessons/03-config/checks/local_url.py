"""Does a short_url point at the service itself: http://localhost:PORT/...
(or http://127.0.0.1:PORT/...)?"""
import sys
from urllib.parse import urlsplit

short, port = sys.argv[1], sys.argv[2]
parts = urlsplit(short)
ok = (parts.scheme == "http"
      and parts.hostname in ("localhost", "127.0.0.1")
      and str(parts.port) == port
      and len(parts.path) > 1)
if not ok:
    sys.exit(f"short_url is {short!r}, not http://localhost:{port}/<code>")
print(f"short_url {short} points at this service")
