#!/usr/bin/env python3
"""worker: makes the previews of new links, one job at a time.

It waits on the queue in the store (REDIS_URL) and runs each job it takes.
To make previews faster, run more worker processes (the Procfile's
`worker` type), not more threads here.

A job is never only in this process's memory: LMOVE moves it from the
queue to this worker's own processing list, and it leaves that list when
it is done. On SIGTERM the job in hand goes back to the queue and the
worker exits 0; after a crash, the next start of this worker puts back
what the last one left. A job may therefore run twice: make_preview is
written so that running it again does no harm.

    REDIS_URL=redis://127.0.0.1:6379/0 python3 worker.py

Python 3.8+, standard library only.
"""
import json
import os
import signal
import sys

from jobs import QUEUE, make_preview
from kv import KV


class Stop(Exception):
    """Raised by SIGTERM wherever the worker is: waiting, or mid-job."""


def on_term(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough
    raise Stop()


def give_back(kv, doing):
    """Move every job in our processing list back to the head of the queue."""
    while kv.lmove(doing, QUEUE, "RIGHT", "RIGHT") is not None:
        pass


def main():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        sys.exit("worker: the environment variable REDIS_URL is required")
    kv = KV.from_url(url)  # our own connection: a blocking pop holds it
    dyno = os.environ.get("DYNO", "worker")
    doing = f"{QUEUE}:processing:{dyno}"
    signal.signal(signal.SIGTERM, on_term)
    try:
        give_back(kv, doing)  # what a crashed run of this worker left
        print(f"{dyno}: waiting for jobs on {QUEUE}", flush=True)
        while True:
            raw = kv.blmove(QUEUE, doing, timeout=0)  # queue -> our list
            job = json.loads(raw)
            print(f"{dyno}: making the preview of {job['code']}", flush=True)
            make_preview(kv, job["code"], job["url"])
            kv.lrem(doing, 1, raw)  # done: now it may leave
            print(f"{dyno}: made the preview of {job['code']}", flush=True)
    except Stop:
        give_back(kv, doing)
        print(f"{dyno}: stopped; unfinished jobs are back on {QUEUE}",
              flush=True)


if __name__ == "__main__":
    main()
