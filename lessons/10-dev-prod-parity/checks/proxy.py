"""A TCP relay in front of the store, so a check can take the store away.

    PORT=... UPSTREAM=redis://127.0.0.1:PORT/0 python3 proxy.py

Listens on PORT and relays every connection to UPSTREAM's host and port.
The check points REDIS_URL at the relay, and kills the relay to make the
store unreachable while the service runs.
"""
import os
import socket
import threading
from urllib.parse import urlsplit

up = urlsplit(os.environ["UPSTREAM"])
listener = socket.create_server(("127.0.0.1", int(os.environ["PORT"])))
print(f"relay: 127.0.0.1:{os.environ['PORT']} -> {up.hostname}:{up.port}", flush=True)


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


while True:
    client, _ = listener.accept()
    server = socket.create_connection((up.hostname, up.port))
    threading.Thread(target=pipe, args=(client, server), daemon=True).start()
    threading.Thread(target=pipe, args=(server, client), daemon=True).start()
