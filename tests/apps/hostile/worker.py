"""A worker that spins forever, ignoring SIGTERM, and writes into its code folder."""
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
n = 0
while True:
    n += 1
    if n % 10_000_000 == 0:
        with open("spin.out", "a") as f:
            f.write(f"{n}\n")
