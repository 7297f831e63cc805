"""After SIGTERM, the web process stops accepting new connections soon.

    python3 wait_refused.py PORT

Tries to connect every 20 ms for up to 1 s; prints OK once a connection is
refused (nothing listens any more), FAILED if the port still accepts.
"""
import socket
import sys
import time

DEADLINE = 1.0

port = int(sys.argv[1])
start = time.monotonic()
accepted = 0
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        accepted += 1
    except ConnectionRefusedError:
        took = (time.monotonic() - start) * 1000
        print(f"OK: port {port} refuses new connections ({took:.0f} ms)")
        break
    except OSError:
        pass  # accepted then reset, or a timeout: still not refused
    if time.monotonic() - start >= DEADLINE:
        print(f"FAILED: port {port} still accepted new connections "
              f"{DEADLINE:g}s after SIGTERM ({accepted} accepted)")
        break
    time.sleep(0.02)
