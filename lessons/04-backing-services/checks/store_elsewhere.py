"""Start the Procfile's web process with its store on another host.

    python3 store_elsewhere.py STORE_URL DB

Opens a relay to the store at STORE_URL on another loopback address than
127.0.0.1 (127.0.0.2, else ::1), so the store looks like a resource on
another machine, then starts the Procfile's `web` command with
REDIS_URL=redis://<that host>:<relay port>/DB and relays until it ends.
A service that dials 127.0.0.1, or another port, or database 0, whatever
REDIS_URL says, finds nothing there (or the wrong database).
"""
import os
import signal
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

store, db = urlsplit(sys.argv[1]), sys.argv[2]
target = (store.hostname, store.port)


def web_command():
    with open("Procfile", encoding="utf-8") as f:
        for line in f:
            name, sep, command = line.partition(":")
            if sep and name.strip() == "web":
                return command.strip()
    sys.exit("store_elsewhere: the Procfile declares no `web` process")


def listen():
    """A listening socket on a loopback address other than 127.0.0.1."""
    for family, host, shown in ((socket.AF_INET, "127.0.0.2", "127.0.0.2"),
                                (socket.AF_INET6, "::1", "[::1]")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.bind((host, 0))
            s.listen(64)
            return s, shown
        except OSError:
            continue
    # Neither exists here: the host part cannot be put to the test.
    s = socket.create_server(("127.0.0.1", 0))
    print("store_elsewhere: no loopback address besides 127.0.0.1 here; "
          "the store stays on 127.0.0.1", flush=True)
    return s, "127.0.0.1"


def pump(src, dst):
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


def relay(server):
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(target, timeout=5)
        except OSError:
            client.close()
            continue
        upstream.settimeout(None)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


server, host = listen()
url = f"redis://{host}:{server.getsockname()[1]}/{db}"
threading.Thread(target=relay, args=(server,), daemon=True).start()
print(f"store_elsewhere: REDIS_URL={url} (relayed to the store at "
      f"{sys.argv[1]})", flush=True)

child = subprocess.Popen(web_command(), shell=True,
                         env=dict(os.environ, REDIS_URL=url))
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda signum, frame: child.send_signal(signum))
sys.exit(child.wait())
