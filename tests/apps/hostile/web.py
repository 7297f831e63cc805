"""A web process that misbehaves every way it can: it ignores SIGTERM, floods its output,
spins a CPU, and forks a child that leaves its process group and ignores SIGTERM too.
It does answer HTTP on PORT, so every probe gets to the point of stopping it."""
import os
import signal
import socket
import sys
import threading

signal.signal(signal.SIGTERM, signal.SIG_IGN)

if os.fork() == 0:
    os.setsid()  # out of the process group the audit kills
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass


def flood():
    line = "x" * 400
    while True:
        print(line, flush=True)
        print(line, file=sys.stderr, flush=True)


threading.Thread(target=flood, daemon=True).start()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.settimeout(2)
        c.recv(65536)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    c.close()
