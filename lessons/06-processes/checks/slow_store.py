"""A relay in front of the store that answers every reply a moment late.

    PORT=... UPSTREAM=redis://127.0.0.1:PORT/0 DELAY_MS=15 python3 slow_store.py

Listens on PORT and relays every connection to UPSTREAM's host and port,
holding each reply for DELAY_MS before passing it on. A count read, then
written back, is then open for that long on every click, whatever the
machine's load: two instances counting at once lose clicks every round.
An increment the store does itself (HINCRBY), or a transaction that
retries, loses none; they only take a little longer.
"""
import os
import socket
import threading
import time
from urllib.parse import urlsplit

up = urlsplit(os.environ["UPSTREAM"])
delay = int(os.environ.get("DELAY_MS", "15")) / 1000
listener = socket.create_server(("127.0.0.1", int(os.environ["PORT"])))
print(
    f"slow store: 127.0.0.1:{os.environ['PORT']} -> {up.hostname}:{up.port}, "
    f"replies {int(delay * 1000)} ms late",
    flush=True,
)


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def requests(client, server):
    """The service's commands go through at once."""
    try:
        while data := client.recv(65536):
            server.sendall(data)
    except OSError:
        pass
    finally:
        close(client, server)


def replies(server, client):
    """The store's replies wait DELAY_MS each."""
    try:
        while data := server.recv(65536):
            time.sleep(delay)
            client.sendall(data)
    except OSError:
        pass
    finally:
        close(client, server)


while True:
    client, _ = listener.accept()
    try:
        server = socket.create_connection((up.hostname, up.port))
    except OSError:
        client.close()
        continue
    threading.Thread(target=requests, args=(client, server), daemon=True).start()
    threading.Thread(target=replies, args=(server, client), daemon=True).start()
